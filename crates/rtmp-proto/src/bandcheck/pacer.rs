//! Pacing at a bit rate, and the kbps figure both sides report.

/// Paces a phase's bytes at `limit_kbps`: the next message may go once all
/// sent so far fits the rate since the phase began. A kbps is one bit per
/// millisecond, which keeps the arithmetic in whole milliseconds. SRS's
/// `SrsKbpsLimit` does the same by sleeping 100 ms at a time while its
/// sampled rate is over the limit; computing the due time instead needs no
/// sampling and no polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pacer {
    start_ms: u64,
    limit_kbps: u64,
    bytes: u64,
}

impl Pacer {
    /// A phase starting at `start_ms`, at most `limit_kbps` (1 at least).
    pub(crate) fn new(start_ms: u64, limit_kbps: u64) -> Self {
        Self {
            start_ms,
            limit_kbps: limit_kbps.max(1),
            bytes: 0,
        }
    }

    /// When the phase began.
    pub(crate) fn start_ms(&self) -> u64 {
        self.start_ms
    }

    /// Bytes counted so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Counts `n` bytes moved.
    pub(crate) fn add(&mut self, n: usize) {
        self.bytes = self.bytes.saturating_add(n as u64);
    }

    /// The time from which the bytes so far fit the rate.
    pub(crate) fn due_at(&self) -> u64 {
        let bits = self.bytes.saturating_mul(8);
        self.start_ms.saturating_add(bits.div_ceil(self.limit_kbps))
    }

    /// The kbps of the bytes so far over `now_ms - start`.
    pub(crate) fn kbps_at(&self, now_ms: u64) -> u64 {
        kbps(self.bytes, now_ms.saturating_sub(self.start_ms))
    }
}

/// `bytes` over `ms` in kbps (bits per millisecond), as SRS computes it
/// (`bytes * 8 / ms`); 0 for no time.
pub fn kbps(bytes: u64, ms: u64) -> u64 {
    bytes.saturating_mul(8).checked_div(ms).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_time_follows_the_rate() {
        let mut p = Pacer::new(1000, 800);
        assert_eq!(p.due_at(), 1000);
        // 100 kB at 800 kbps (100 kB/s) is due a second later.
        p.add(100_000);
        assert_eq!(p.due_at(), 2000);
        assert_eq!(p.kbps_at(2000), 800);
        assert_eq!(kbps(1, 0), 0);
        assert_eq!(Pacer::new(0, 0).limit_kbps, 1);
    }
}
