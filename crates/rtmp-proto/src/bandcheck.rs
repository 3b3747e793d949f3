//! SRS's bandwidth check ("bandcheck"), both sides, sans-IO.
//!
//! A client connects to a vhost with `bandcheck { enabled on; key K; }`
//! and `?key=K` on its tcUrl; instead of publishing or playing, it runs
//! SRS's check (its `SrsBandwidth` and srs-librtmp's `SrsBandwidthClient`,
//! both removed in SRS 5 with Flash):
//!
//! 1. Play phase: the server sends `onSrsBandCheckStartPlayBytes`
//!    (`limit_kbps`, `duration_ms`, `interval_ms`); the client answers
//!    `onSrsBandCheckStartingPlayBytes`; for `duration_ms` the server sends
//!    `onSrsBandCheckPlaying` filler, at most `limit_kbps`; then
//!    `onSrsBandCheckStopPlayBytes` (`duration_delta`, `bytes_delta`),
//!    answered by `onSrsBandCheckStoppedPlayBytes`.
//! 2. Publish phase, the other way: `onSrsBandCheckStartPublishBytes`,
//!    `...StartingPublishBytes`, client filler `onSrsBandCheckPublishing`
//!    paced at the server's `limit_kbps`, the client's
//!    `onSrsBandCheckStopPublishBytes`, the server's, then
//!    `...StoppedPublishBytes`.
//! 3. Report: `onSrsBandCheckFinished` (`play_kbps`, `publish_kbps`,
//!    `play_bytes`, `publish_bytes`, `play_time`, `publish_time`,
//!    `start_time`, `end_time`), answered by `finalClientPacket`.
//!
//! Every packet is an AMF0 command with transaction id 0 ([`packet`]).
//! Time is a value in milliseconds on whatever clock the caller keeps;
//! neither side reads a clock or a socket: [`BandcheckServer`] and
//! [`BandcheckClient`] take commands and time and hand back commands to
//! send and when to call again (the quinn-proto shape of
//! [`session`](crate::session)). Bytes are counted as the packets' AMF0
//! bodies, chunk headers aside.

mod client;
mod pacer;
pub mod packet;
mod server;
#[cfg(test)]
mod tests;

pub use client::{
    BandcheckClient, BandcheckReport, CLIENT_STEP_TIMEOUT_MS, MAX_LIMIT_KBPS, MAX_PHASE_MS,
};
pub use pacer::kbps;
pub use packet::PacketKind;
pub use server::{BandcheckServer, ServerParams, ServerReport, FINAL_WAIT_MS};

/// How long each phase lasts (SRS's `_SRS_BANDWIDTH_SAMPLE_DURATION`).
pub const SAMPLE_DURATION_MS: u64 = 3000;
/// Smallest filler packet body.
pub const MIN_FILLER_BYTES: usize = 1024;
/// Largest filler packet body: one 64 KiB message, so no peer needs large
/// reassembly room for a check.
pub const MAX_FILLER_BYTES: usize = 64 * 1024;
/// Filler packets per second at the limit: small enough steps that the
/// pacing is smooth (one every 20 ms), few enough to cost nothing.
const FILLER_PER_SECOND: u64 = 50;

/// The filler body size for a phase paced at `limit_kbps`. SRS grows its
/// packets by two entries each time; a fixed size by the limit keeps the
/// rate even from the first packet.
fn filler_target(limit_kbps: u64) -> usize {
    let bytes_per_second = limit_kbps.saturating_mul(1000) / 8;
    let target = bytes_per_second / FILLER_PER_SECOND;
    usize::try_from(target)
        .unwrap_or(MAX_FILLER_BYTES)
        .clamp(MIN_FILLER_BYTES, MAX_FILLER_BYTES)
}

/// One phase's measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sample {
    /// Bytes moved (AMF0 bodies of the filler).
    pub bytes: u64,
    /// How long the phase took, in ms.
    pub duration_ms: u64,
    /// `bytes * 8 / duration_ms`.
    pub kbps: u64,
}

/// Why a check failed. Either side's error ends the check (and, for the
/// server, the connection); the other side sees the connection close.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BandcheckError {
    /// The peer did not take the next step in time.
    #[error("timed out waiting for {waiting_for}")]
    Timeout {
        /// The packet that did not come.
        waiting_for: &'static str,
    },
    /// A server packet lacked a figure the client needs (srs-librtmp's
    /// `ERROR_RTMP_BWTC_DATA`).
    #[error("{packet} without a valid {figure}")]
    BadFigures {
        /// The packet.
        packet: &'static str,
        /// The missing figure.
        figure: &'static str,
    },
}
