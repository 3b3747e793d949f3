//! Recent traffic of a client, for the API's `recv_30s` / `send_30s`.
//!
//! An average since connect says little about a player that has been on for
//! hours, and a timer per client would cost the fan-out path. Instead the
//! server samples every client's byte counters on one housekeeping timer
//! (every [`RATE_SAMPLE_MS`]) and a rate is measured from the newest sample at
//! least [`RATE_WINDOW_MS`] old: a window of 30 to 40 s, as SRS's own sampled
//! `kbps`. A client younger than the window is measured since it connected.
//! Time is passed in, so the arithmetic is tested without clocks.

/// How often the server samples every client's counters, ms.
pub const RATE_SAMPLE_MS: u64 = 10_000;
/// The span a rate covers at least, ms.
pub const RATE_WINDOW_MS: u64 = 30_000;
/// Samples kept: enough that one is always at least a window old.
const KEPT: usize = (RATE_WINDOW_MS / RATE_SAMPLE_MS) as usize + 1;

/// Byte counters at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Runtime ms.
    pub at_ms: u64,
    /// Bytes read from the peer so far.
    pub bytes_in: u64,
    /// Bytes written to the peer so far.
    pub bytes_out: u64,
}

impl Traffic {
    /// Bytes moved since `base` and the ms between the two.
    pub fn since(&self, base: &Traffic) -> Traffic {
        Traffic {
            at_ms: self.at_ms.saturating_sub(base.at_ms),
            bytes_in: self.bytes_in.saturating_sub(base.bytes_in),
            bytes_out: self.bytes_out.saturating_sub(base.bytes_out),
        }
    }
}

/// The last few samples of one client's counters, in a fixed ring (no
/// allocation per client).
#[derive(Debug, Clone)]
pub struct RateWindow {
    /// The connect instant: zero bytes at connect time.
    origin: Traffic,
    ring: [Traffic; KEPT],
    len: usize,
    next: usize,
}

impl RateWindow {
    /// A window for a client that connected at `connected_ms`.
    pub fn new(connected_ms: u64) -> Self {
        let origin = Traffic {
            at_ms: connected_ms,
            ..Traffic::default()
        };
        Self {
            origin,
            ring: [origin; KEPT],
            len: 0,
            next: 0,
        }
    }

    /// Records the counters at one instant; the oldest sample goes.
    pub fn record(&mut self, now: Traffic) {
        if let Some(slot) = self.ring.get_mut(self.next) {
            *slot = now;
        }
        self.next = (self.next + 1) % KEPT;
        self.len = (self.len + 1).min(KEPT);
    }

    /// What moved between the newest sample at least a window before `now`
    /// (or the connect instant, for a younger client) and `now`.
    pub fn recent(&self, now: Traffic) -> Traffic {
        let old_enough = now.at_ms.saturating_sub(RATE_WINDOW_MS);
        let base = self.ring[..self.len]
            .iter()
            .filter(|s| s.at_ms <= old_enough)
            .max_by_key(|s| s.at_ms)
            .unwrap_or(&self.origin);
        now.since(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(at_ms: u64, bytes_in: u64, bytes_out: u64) -> Traffic {
        Traffic {
            at_ms,
            bytes_in,
            bytes_out,
        }
    }

    #[test]
    fn a_young_client_is_measured_since_it_connected() {
        let mut w = RateWindow::new(1_000);
        w.record(at(11_000, 50, 500));
        assert_eq!(w.recent(at(21_000, 100, 1_000)), at(20_000, 100, 1_000));
    }

    #[test]
    fn an_old_client_is_measured_over_the_last_window_only() {
        let mut w = RateWindow::new(0);
        // Fast for the first minute, then slow: 10 kB/s, then 1 kB/s.
        let mut out = 0;
        for t in 1..=12 {
            out += if t <= 6 { 100_000 } else { 10_000 };
            w.record(at(t * RATE_SAMPLE_MS, 0, out));
        }
        let now = at(12 * RATE_SAMPLE_MS + 5_000, 0, out + 5_000);
        let recent = w.recent(now);
        // The base is the sample 35 s before: three slow samples plus 5 s.
        assert_eq!(recent.at_ms, 35_000);
        assert_eq!(recent.bytes_out, 35_000);
        // An average since connect would have said about 5.2 kB/s.
        assert!(now.bytes_out / (now.at_ms / 1_000) > 5_000);
    }

    #[test]
    fn a_counter_that_went_backwards_or_a_clock_that_stood_still_gives_zero() {
        let mut w = RateWindow::new(0);
        w.record(at(10_000, 10, 10));
        assert_eq!(w.recent(at(40_000, 5, 5)), at(30_000, 0, 0));
        assert_eq!(RateWindow::new(7).recent(at(7, 0, 0)), at(0, 0, 0));
    }
}
