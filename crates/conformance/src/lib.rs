//! Conformance: captured sessions of real clients, replayed into the real
//! server on the deterministic simulator, with the server's answers rendered
//! as a readable transcript for snapshot tests.
//!
//! The pipeline: a capture ([`Capture`]: pcap, pcapng or a raw client byte
//! stream) is cut into client flows ([`packet`] decodes frames down to TCP,
//! through VLAN tags and GTP-U tunnels; [`reassembly`] rebuilds each
//! direction by sequence number). [`replay()`] sends each flow's bytes, with
//! their capture timing, into `server-core` running on `sim` with its default
//! config, and reads what the server answers. [`decode`] splits both
//! directions into messages without any session state; [`describe`] and
//! [`transcript`] turn them into lines such as
//! `connect #1 app="live" ... -> _result NetConnection.Connect.Success`;
//! [`hls`] reports the playlists and segment digests the server wrote.
//!
//! A bug report with a capture becomes a test case with
//! `cargo run -p conformance -- replay FILE` (see the README).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
pub mod decode;
pub mod describe;
pub mod hls;
pub mod packet;
pub mod reassembly;
pub mod replay;
mod report;
pub mod transcript;
pub mod ts_scan;

pub use capture::{Capture, CaptureError, ClientClose, Flow, Timing};
pub use replay::{replay, FlowReport, ReplayError, ReplayOptions, Report};
