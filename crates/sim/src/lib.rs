//! A deterministic network simulator that runs the real `server-core`.
//!
//! The world ([`Sim`]) is a single-threaded executor with a virtual clock: tasks
//! are polled until none is runnable, then the clock jumps to the earliest timer.
//! Nothing sleeps for real, nothing reads the wall clock, and one seeded ChaCha8
//! generator makes every random choice (how writes are cut into segments, jitter,
//! handshake filler), so a seed names a run exactly. Hosts talk over in-memory
//! TCP-like links ([`LinkConfig`]: latency, bandwidth, segmentation, bounded
//! buffers, half-close, reset) and write files to a shared [`MemFs`].
//!
//! Determinism is checked, not assumed: every delivered byte goes into a SHA-256
//! transcript ([`SimHandle::transcript_hash`]); run a scenario twice with one seed
//! and compare. A failing run prints its seed; `SIM_SEED=<n>` replays it.
//!
//! Layout: [`clock`] (time and timers), [`executor`] (tasks), `net` (hosts,
//! links, connections), [`fs`] (files), [`transcript`] (hashes), [`seed`]
//! (replay), `sim`/`handle` (the driver and its handles), [`runtime`] (the
//! `server-core` runtime trait), [`client`] (simulated RTMP publishers and players).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod clock;
pub mod executor;
pub mod fs;
mod handle;
mod net;
pub mod process;
mod rng;
pub mod runtime;
pub mod seed;
mod sim;
pub mod transcript;

pub use clock::Sleep;
pub use executor::JoinHandle;
pub use fs::{MemFile, MemFs};
pub use handle::{Host, SimHandle, SimStats};
pub use net::{
    Accept, LinkConfig, SimConn, SimListener, EPHEMERAL_PORTS, MAX_BACKLOG, MAX_LINK_BUFFER,
};
pub use seed::{seed_from_env, SEED_ENV};
pub use sim::{Budget, Sim, SimError};
pub use transcript::{Direction, TranscriptHash};
