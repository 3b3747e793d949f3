//! The one seeded random number generator every random choice draws from.
//!
//! ChaCha8 is portable and specified (the same seed gives the same stream on
//! every platform and every `rand` release of the 0.3 line), unlike `StdRng`.

use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A shared handle on the simulation's RNG.
#[derive(Debug, Clone)]
pub(crate) struct SimRng {
    rng: Arc<Mutex<ChaCha8Rng>>,
}

impl SimRng {
    /// The generator for `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(seed))),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ChaCha8Rng> {
        self.rng.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A uniformly drawn value in `range` (a single value if the range is empty or one wide).
    pub(crate) fn usize_in(&self, range: RangeInclusive<usize>) -> usize {
        let (lo, hi) = range.into_inner();
        if hi <= lo {
            return lo;
        }
        self.lock().gen_range(lo..=hi)
    }

    /// A uniformly drawn duration in `0..=max`, nanosecond resolution.
    pub(crate) fn duration_upto(&self, max: Duration) -> Duration {
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.lock().gen_range(0..=nanos))
    }

    /// 64 random bits.
    pub(crate) fn u64(&self) -> u64 {
        self.lock().next_u64()
    }

    /// Fills `buf` with random bytes.
    pub(crate) fn fill(&self, buf: &mut [u8]) {
        self.lock().fill_bytes(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let a = SimRng::new(7);
        let b = SimRng::new(7);
        let c = SimRng::new(8);
        let xs: Vec<u64> = (0..4).map(|_| a.u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.u64()).collect();
        let zs: Vec<u64> = (0..4).map(|_| c.u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let r = SimRng::new(1);
        for _ in 0..1000 {
            let v = r.usize_in(3..=9);
            assert!((3..=9).contains(&v));
            assert!(r.duration_upto(Duration::from_millis(5)) <= Duration::from_millis(5));
        }
        assert_eq!(r.usize_in(5..=5), 5);
        let (hi, lo) = (6, 2);
        assert_eq!(r.usize_in(hi..=lo), 6);
    }
}
