//! The virtual clock and its timer queue.
//!
//! Time only moves when the simulator says so: after every runnable task has been
//! polled, [`crate::Sim`] jumps the clock to the earliest pending deadline and wakes
//! whoever waits for it. Nothing here reads the wall clock, so a ten-minute sleep
//! costs one queue operation.
//!
//! Timers are kept in a `BTreeMap` keyed by `(deadline, sequence)`: ties fire in
//! registration order, which is what makes a run reproducible.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Identifies one registered timer so it can be cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerKey {
    deadline: Duration,
    seq: u64,
}

impl TimerKey {
    /// When the timer fires.
    pub(crate) fn deadline(&self) -> Duration {
        self.deadline
    }
}

#[derive(Debug, Default)]
struct ClockState {
    now: Duration,
    timers: BTreeMap<TimerKey, Waker>,
    next_seq: u64,
    fired: u64,
}

/// A shared handle on the virtual clock.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    state: Arc<Mutex<ClockState>>,
}

impl Clock {
    fn lock(&self) -> MutexGuard<'_, ClockState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Current virtual time since the start of the simulation.
    pub(crate) fn now(&self) -> Duration {
        self.lock().now
    }

    /// Arranges for `waker` to be woken once the clock reaches `deadline`.
    /// A deadline that already passed wakes at once and returns `None`.
    pub(crate) fn register(&self, deadline: Duration, waker: Waker) -> Option<TimerKey> {
        let mut state = self.lock();
        if deadline <= state.now {
            drop(state);
            waker.wake();
            return None;
        }
        let key = TimerKey {
            deadline,
            seq: state.next_seq,
        };
        state.next_seq = state.next_seq.wrapping_add(1);
        state.timers.insert(key, waker);
        Some(key)
    }

    /// Forgets a timer; unknown (already fired) keys are ignored.
    pub(crate) fn cancel(&self, key: TimerKey) {
        let removed = self.lock().timers.remove(&key);
        // Dropped outside the lock: a waker's drop may run arbitrary code.
        drop(removed);
    }

    /// The earliest pending deadline.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        self.lock().timers.keys().next().map(|k| k.deadline)
    }

    /// Number of pending timers.
    pub(crate) fn pending(&self) -> usize {
        self.lock().timers.len()
    }

    /// Number of timers fired so far.
    pub(crate) fn fired(&self) -> u64 {
        self.lock().fired
    }

    /// Drops every pending timer (end of simulation).
    pub(crate) fn clear(&self) {
        let timers = std::mem::take(&mut self.lock().timers);
        drop(timers);
    }

    /// Moves the clock forward to `to` (never backwards) and wakes every timer
    /// due by then, in deadline order. Returns how many fired.
    pub(crate) fn advance_to(&self, to: Duration) -> usize {
        let due: Vec<Waker> = {
            let mut state = self.lock();
            if to > state.now {
                state.now = to;
            }
            let now = state.now;
            let mut due = Vec::new();
            while let Some(entry) = state.timers.first_entry() {
                if entry.key().deadline > now {
                    break;
                }
                due.push(entry.remove());
            }
            state.fired = state.fired.saturating_add(due.len() as u64);
            due
        };
        let count = due.len();
        for waker in due {
            waker.wake();
        }
        count
    }
}

/// A future that completes once the virtual clock reaches its deadline.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Sleep {
    clock: Clock,
    deadline: Duration,
    key: Option<TimerKey>,
}

impl Sleep {
    pub(crate) fn until(clock: Clock, deadline: Duration) -> Self {
        Self {
            clock,
            deadline,
            key: None,
        }
    }

    /// The virtual instant this sleep ends at.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(key) = self.key.take() {
            self.clock.cancel(key);
        }
        if self.clock.now() >= self.deadline {
            return Poll::Ready(());
        }
        let key = self.clock.register(self.deadline, cx.waker().clone());
        self.key = key;
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.clock.cancel(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn advance_fires_due_timers_only() {
        let clock = Clock::default();
        let hits = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(hits.clone());
        clock.register(Duration::from_secs(2), waker.clone());
        clock.register(Duration::from_secs(5), waker.clone());
        assert_eq!(clock.next_deadline(), Some(Duration::from_secs(2)));
        assert_eq!(clock.advance_to(Duration::from_secs(3)), 1);
        assert_eq!(hits.0.load(Ordering::SeqCst), 1);
        assert_eq!(clock.now(), Duration::from_secs(3));
        assert_eq!(clock.pending(), 1);
        // Never backwards.
        clock.advance_to(Duration::from_secs(1));
        assert_eq!(clock.now(), Duration::from_secs(3));
    }

    #[test]
    fn cancelled_timer_never_fires() {
        let clock = Clock::default();
        let hits = Arc::new(Count(AtomicUsize::new(0)));
        let key = clock
            .register(Duration::from_secs(1), Waker::from(hits.clone()))
            .unwrap();
        clock.cancel(key);
        assert_eq!(clock.advance_to(Duration::from_secs(10)), 0);
        assert_eq!(hits.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn past_deadline_wakes_immediately() {
        let clock = Clock::default();
        let hits = Arc::new(Count(AtomicUsize::new(0)));
        assert!(clock
            .register(Duration::ZERO, Waker::from(hits.clone()))
            .is_none());
        assert_eq!(hits.0.load(Ordering::SeqCst), 1);
    }
}
