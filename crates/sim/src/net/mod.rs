//! The in-memory TCP-like network between simulated hosts.
//!
//! Hosts are IP addresses (`10.0.0.x` is customary); nothing here touches a real
//! socket. A [`SimConn`] is a pair of [`pipe`]s, one per direction, each shaped
//! by the [`LinkConfig`] chosen when the connection was opened.

mod conn;
mod link;
mod listener;
mod network;
mod pipe;

use std::sync::{Arc, Mutex};

pub use conn::SimConn;
pub use link::{LinkConfig, MAX_LINK_BUFFER};
pub use listener::{Accept, SimListener};
pub(crate) use network::Network;
pub use network::{EPHEMERAL_PORTS, MAX_BACKLOG};

use crate::clock::Clock;
use crate::rng::SimRng;
use crate::transcript::Transcript;

/// What every connection needs from the simulation: time, randomness, the transcript.
#[derive(Debug, Clone)]
pub(crate) struct NetEnv {
    pub(crate) clock: Clock,
    pub(crate) rng: SimRng,
    pub(crate) transcript: Arc<Mutex<Transcript>>,
}
