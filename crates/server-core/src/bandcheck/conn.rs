//! One connection's bandwidth check.

use std::time::Duration;

use rtmp_proto::bandcheck::{BandcheckError, BandcheckServer, ServerParams};
use rtmp_proto::command::Command;
use tracing::info;

use super::{BandcheckConfig, BandcheckTicket};

/// A connection's running check: the sans-IO server side, the place it
/// holds among the running checks, and whether its result was logged.
#[derive(Debug)]
pub struct BandcheckConn {
    check: BandcheckServer,
    _ticket: BandcheckTicket,
    logged: bool,
}

impl BandcheckConn {
    /// A check at `config`'s `limit_kbps` starting at `now_ms`. `flash`:
    /// the connect had a `swfUrl` (see [`ServerParams::flash`]).
    pub fn new(
        config: &BandcheckConfig,
        flash: bool,
        ticket: BandcheckTicket,
        now_ms: u64,
    ) -> Self {
        let params = ServerParams {
            flash,
            ..ServerParams::new(config.limit_kbps)
        };
        info!(limit_kbps = params.limit_kbps, flash, "bandcheck start");
        Self {
            check: BandcheckServer::new(params, now_ms),
            _ticket: ticket,
            logged: false,
        }
    }

    /// A command from the client; whether it was one of the check's.
    pub fn handle_command(&mut self, now_ms: u64, command: &Command) -> bool {
        self.check.handle_command(now_ms, command)
    }

    /// The next packet to send at `now_ms`, or the error that ends the
    /// check (a step the client did not answer in time).
    pub fn poll_transmit(&mut self, now_ms: u64) -> Result<Option<Command>, BandcheckError> {
        self.check.handle_timeout(now_ms).inspect_err(|e| {
            info!(step = self.check.step(), "bandcheck failed: {e}");
        })?;
        let next = self.check.poll_transmit(now_ms);
        if let (false, Some(r)) = (self.logged, self.check.report()) {
            self.logged = true;
            // SRS's line: "bandwidth ok. duartion=..., play=..., publish=...".
            info!(
                duration_ms = r.end_ms.saturating_sub(r.start_ms),
                play_kbps = r.play.kbps,
                publish_kbps = r.publish.kbps,
                play_bytes = r.play.bytes,
                publish_bytes = r.publish.bytes,
                "bandcheck done"
            );
        }
        Ok(next)
    }

    /// How long from `now_ms` until the check has something to do (a
    /// packet due, a phase's end, a deadline).
    pub fn wait(&self, now_ms: u64) -> Option<Duration> {
        self.check
            .poll_timeout()
            .map(|at| Duration::from_millis(at.saturating_sub(now_ms)))
    }

    /// How long from `now_ms` not to read: the client sent faster than the
    /// limit in the publish phase.
    pub fn read_pause(&self, now_ms: u64) -> Option<Duration> {
        self.check
            .read_resume_at(now_ms)
            .map(|at| Duration::from_millis(at.saturating_sub(now_ms)))
    }

    /// The check is over: flush and close.
    pub fn is_done(&self) -> bool {
        self.check.is_done()
    }
}
