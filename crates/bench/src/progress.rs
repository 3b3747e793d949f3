//! Live counters every client bumps, and the once-a-second progress line
//! they feed. Relaxed atomics: the line is a gauge, and one uncontended
//! atomic add per socket read costs nothing next to the read itself.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::cpu::CpuTimes;
use crate::stats::rate_kbps;

/// Run-wide counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// Clients started.
    pub started: AtomicU64,
    /// Sessions currently open.
    pub open: AtomicU64,
    /// Bytes moved so far.
    pub bytes: AtomicU64,
    /// Sessions that got their first frame.
    pub first_frames: AtomicU64,
    /// Stalls.
    pub stalls: AtomicU64,
    /// Server-side disconnects.
    pub disconnects: AtomicU64,
    /// Errors.
    pub errors: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// A consistent-enough copy for one progress line.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            started: self.started.load(Relaxed),
            open: self.open.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            first_frames: self.first_frames.load(Relaxed),
            stalls: self.stalls.load(Relaxed),
            disconnects: self.disconnects.load(Relaxed),
            errors: self.errors.load(Relaxed),
        }
    }
}

/// Counter values at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// See [`Counters::started`].
    pub started: u64,
    /// See [`Counters::open`].
    pub open: u64,
    /// See [`Counters::bytes`].
    pub bytes: u64,
    /// See [`Counters::first_frames`].
    pub first_frames: u64,
    /// See [`Counters::stalls`].
    pub stalls: u64,
    /// See [`Counters::disconnects`].
    pub disconnects: u64,
    /// See [`Counters::errors`].
    pub errors: u64,
}

/// One progress line: the state at `now`, the rate since `prev` (taken
/// `interval_ms` earlier), and our own CPU use over that interval.
pub fn line(
    elapsed_s: u64,
    clients: usize,
    now: &Snapshot,
    prev: &Snapshot,
    interval_ms: u64,
    cpu: &CpuTimes,
) -> String {
    let kbps = rate_kbps(now.bytes.saturating_sub(prev.bytes), interval_ms);
    let cpu_pct = if interval_ms == 0 {
        0.0
    } else {
        cpu.total_s() * 100_000.0 / interval_ms as f64
    };
    format!(
        "[{elapsed_s:>4}s] clients {}/{clients} open {} | {:.1} Mbit/s | first-frame {} | stalls {} | disconnects {} | errors {} | own cpu {cpu_pct:.0}%",
        now.started,
        now.open,
        kbps / 1000.0,
        now.first_frames,
        now.stalls,
        now.disconnects,
        now.errors,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shows_rate_and_cpu_over_the_interval() {
        let c = Counters::default();
        Counters::bump(&c.started);
        Counters::bump(&c.open);
        c.bytes.fetch_add(250_000, Relaxed);
        let now = c.snapshot();
        let prev = Snapshot {
            bytes: 125_000,
            ..Snapshot::default()
        };
        let cpu = CpuTimes {
            user_s: 0.2,
            system_s: 0.05,
        };
        let l = line(3, 10, &now, &prev, 1000, &cpu);
        // 125,000 bytes in 1 s = 1 Mbit/s; 0.25 s CPU in 1 s = 25 %.
        assert!(l.contains("clients 1/10 open 1"), "{l}");
        assert!(l.contains("1.0 Mbit/s"), "{l}");
        assert!(l.contains("own cpu 25%"), "{l}");
    }
}
