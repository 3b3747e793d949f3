//! SRS's bandwidth check (`vhost { bandcheck { } }`), server side: a
//! `connect` to a vhost with `bandcheck { enabled on; }` runs the check
//! instead of a publish or play, if its tcUrl carries the vhost's
//! `?key=KEY` (SRS 2's `SrsBandwidth`, removed in SRS 5 with Flash; its
//! clients, srs-librtmp's `srs_bandwidth_check` and ours, `rtmp-bwtest`,
//! speak the same commands).
//!
//! - [`BandcheckConfig`]: the directives, SRS's names and defaults.
//! - [`BandcheckGate`]: who may run a check now: the key, `interval`
//!   seconds between two checks from one client, and a server-wide cap on
//!   checks running at once ([`MAX_RUNNING_CHECKS`]).
//! - [`BandcheckConn`]: one connection's check, the sans-IO
//!   [`BandcheckServer`](rtmp_proto::bandcheck::BandcheckServer) plus what
//!   the connection loops need (durations to wait, the log line).
//!
//! The connection admits the check at connect ([`crate::lifecycle::bandcheck`])
//! and drives it from its read and write loops ([`crate::rtmp_conn`]).

mod conn;
mod gate;

pub use conn::BandcheckConn;
pub use gate::{BandcheckGate, BandcheckRefusal, BandcheckTicket, MAX_RUNNING_CHECKS};

use std::time::Duration;

/// The most `limit_kbps` may be (10 Gbit/s).
pub const MAX_LIMIT_KBPS: u32 = 10_000_000;
/// The longest `interval` (a day).
pub const MAX_INTERVAL_SECS: f64 = 86_400.0;
/// The longest `key`.
pub const MAX_KEY_BYTES: usize = 256;

/// `bandcheck { enabled; key; interval; limit_kbps; }` of a vhost.
#[derive(Clone, PartialEq, Eq)]
pub struct BandcheckConfig {
    /// Connects to the vhost are bandwidth checks (`enabled`, default off).
    pub enabled: bool,
    /// What the tcUrl's `key=` must be (`key`; required when enabled).
    pub key: String,
    /// Time one client must wait between two checks (`interval`, seconds,
    /// default 30).
    pub interval: Duration,
    /// The most the check sends, and reads, in kbps (`limit_kbps`, default 1000).
    pub limit_kbps: u32,
}

impl Default for BandcheckConfig {
    /// SRS's defaults.
    fn default() -> Self {
        Self {
            enabled: false,
            key: String::new(),
            interval: Duration::from_secs(30),
            limit_kbps: 1000,
        }
    }
}

impl std::fmt::Debug for BandcheckConfig {
    // The key stays out of logs and `-t` output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BandcheckConfig")
            .field("enabled", &self.enabled)
            .field("key", &"<redacted>")
            .field("interval", &self.interval)
            .field("limit_kbps", &self.limit_kbps)
            .finish()
    }
}
