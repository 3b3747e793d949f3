//! The server-wide budget for RTMP reassembly memory
//! (`rtmp_reassembly_budget`): what all connections' partial messages hold
//! together.
//!
//! Each connection bounds its own partial messages (128 KiB before
//! `connect`, twice its vhost's `max_message` after, at most 32 MiB), but a
//! thousand connections each holding most of a large message add up. Every
//! connection reports what its chunk decoder holds after each read (one
//! atomic add of the difference). While the total is over the budget, a
//! connection that starts or grows a message and holds at least a
//! [`MIN_SHARE_DIVISOR`]th of the budget is closed: the largest holders are
//! those that grow, so they go first, and connections sending commands and
//! small frames are untouched. Closing frees its bytes at once.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Default budget when the machine's memory is unknown: 256 MiB.
pub const DEFAULT_BUDGET_BYTES: usize = 256 << 20;

/// Smallest automatic budget: 64 MiB.
pub const MIN_AUTO_BUDGET_BYTES: usize = 64 << 20;

/// The automatic budget is this fraction of the machine's memory (1/8).
pub const AUTO_BUDGET_DIVISOR: u64 = 8;

/// Over budget, a growing connection is closed only if it holds at least
/// this fraction of the budget (1/64).
pub const MIN_SHARE_DIVISOR: usize = 64;

/// The automatic budget for a machine with `mem_total_kib` of memory (as
/// `/proc/meminfo` `MemTotal` says; `None` when unknown).
pub fn auto_budget(mem_total_kib: Option<u64>) -> usize {
    match mem_total_kib {
        Some(kib) if kib > 0 => {
            let bytes = kib.saturating_mul(1024) / AUTO_BUDGET_DIVISOR;
            usize::try_from(bytes)
                .unwrap_or(usize::MAX)
                .max(MIN_AUTO_BUDGET_BYTES)
        }
        _ => DEFAULT_BUDGET_BYTES,
    }
}

/// `MemTotal` of `/proc/meminfo`, in KiB.
pub fn mem_total_kib() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Server-wide reassembly accounting.
#[derive(Debug)]
pub struct ReassemblyBudget {
    held: AtomicUsize,
    closed: AtomicU64,
    /// The budget when configured as automatic.
    auto: usize,
}

impl ReassemblyBudget {
    /// Accounting with `auto` as the automatic budget.
    pub fn new(auto: usize) -> Self {
        Self {
            held: AtomicUsize::new(0),
            closed: AtomicU64::new(0),
            auto,
        }
    }

    /// Bytes all connections' partial messages hold now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Connections closed for the budget so far.
    pub fn closed(&self) -> u64 {
        self.closed.load(Ordering::Relaxed)
    }

    /// The budget in force for the configured value (0: automatic).
    pub fn max(&self, configured: u64) -> usize {
        if configured == 0 {
            self.auto
        } else {
            usize::try_from(configured).unwrap_or(usize::MAX)
        }
    }
}

/// One connection's part of the budget; given back on drop.
#[derive(Debug)]
pub struct Share {
    budget: Arc<ReassemblyBudget>,
    reported: usize,
}

/// A connection closed for the server-wide budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("server-wide reassembly budget exceeded: {held} bytes held, budget {max}; this connection holds {own}")]
pub struct OverBudget {
    /// What all connections held, this one included.
    pub held: usize,
    /// The budget.
    pub max: usize,
    /// What this connection held.
    pub own: usize,
}

impl Share {
    /// A connection holding nothing yet.
    pub fn new(budget: Arc<ReassemblyBudget>) -> Self {
        Self {
            budget,
            reported: 0,
        }
    }

    /// Records that the connection now holds `now` bytes; an error when it
    /// must be closed (see the module doc). On error its bytes are already
    /// given back.
    pub fn report(&mut self, now: usize, max: usize) -> Result<(), OverBudget> {
        let before = self.reported;
        if now == before {
            return Ok(());
        }
        let total = if now > before {
            let grown = now - before;
            self.budget
                .held
                .fetch_add(grown, Ordering::Relaxed)
                .saturating_add(grown)
        } else {
            let freed = before - now;
            self.budget
                .held
                .fetch_sub(freed, Ordering::Relaxed)
                .saturating_sub(freed)
        };
        self.reported = now;
        if now > before && total > max && now >= max / MIN_SHARE_DIVISOR {
            self.release();
            self.budget.closed.fetch_add(1, Ordering::Relaxed);
            return Err(OverBudget {
                held: total,
                max,
                own: now,
            });
        }
        Ok(())
    }

    fn release(&mut self) {
        let held = std::mem::take(&mut self.reported);
        if held > 0 {
            self.budget.held.fetch_sub(held, Ordering::Relaxed);
        }
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_budget_is_an_eighth_of_memory_with_a_floor() {
        assert_eq!(auto_budget(Some(8 << 20)), 1 << 30, "8 GiB machine: 1 GiB");
        assert_eq!(auto_budget(Some(1 << 10)), MIN_AUTO_BUDGET_BYTES);
        assert_eq!(auto_budget(None), DEFAULT_BUDGET_BYTES);
        let b = ReassemblyBudget::new(1234);
        assert_eq!(b.max(0), 1234);
        assert_eq!(b.max(99), 99);
    }

    #[test]
    fn over_budget_the_growing_large_holder_is_closed_small_ones_are_not() {
        let budget = Arc::new(ReassemblyBudget::new(0));
        let max = 64 * 1024;
        let mut big = Share::new(budget.clone());
        let mut other = Share::new(budget.clone());
        let mut small = Share::new(budget.clone());
        big.report(50 * 1024, max).unwrap();
        other.report(14 * 1024, max).unwrap();
        assert_eq!(budget.held(), max);
        // Over budget, but a command-sized holder is left alone.
        small.report(500, max).unwrap();
        small.report(1000, max).unwrap();
        assert_eq!(budget.held(), max + 1000);
        // The largest holder grows: closed, its bytes given back.
        let err = big.report(51 * 1024, max).unwrap_err();
        assert_eq!(err.own, 51 * 1024);
        assert_eq!(budget.held(), 14 * 1024 + 1000);
        assert_eq!(budget.closed(), 1);
        // Shrinking is never refused; dropping gives back the rest.
        other.report(10, max).unwrap();
        drop(other);
        drop(small);
        drop(big);
        assert_eq!(budget.held(), 0);
    }
}
