//! The simulation driver: polls tasks until none is runnable, then jumps the clock.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::executor::{Executor, MAIN_TASK};
use crate::handle::{new_shared, SimHandle};
use crate::seed::{seed_from_env, SEED_ENV};
use crate::transcript::TranscriptHash;

/// Limits that turn a hung simulation into an error instead of a hung test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Polls allowed without the clock moving; more means tasks wake each other
    /// forever (a livelock).
    pub max_polls_per_instant: u64,
    /// Polls allowed in one call to a `run`/`block_on` method.
    pub max_polls: u64,
    /// Virtual time `block_on` and `run_until_idle` may advance in one call
    /// (a server's periodic timers never let the world go idle).
    pub max_virtual_time: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            max_polls_per_instant: 50_000_000,
            max_polls: u64::MAX,
            max_virtual_time: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// Why a simulation stopped early. Every variant names the seed to replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// `block_on`'s future is pending, nothing is runnable and no timer is set.
    #[error("deadlock at {now:?}: the awaited future can never complete ({tasks} tasks parked); replay with {SEED_ENV}={seed}")]
    Deadlock {
        /// The run's seed.
        seed: u64,
        /// Virtual time.
        now: Duration,
        /// Live tasks.
        tasks: usize,
    },
    /// Too many polls without virtual time advancing.
    #[error(
        "livelock at {now:?}: {polls} polls without time advancing; replay with {SEED_ENV}={seed}"
    )]
    Livelock {
        /// The run's seed.
        seed: u64,
        /// Virtual time.
        now: Duration,
        /// Polls at this instant.
        polls: u64,
    },
    /// [`Budget::max_polls`] exhausted.
    #[error("poll budget of {polls} exhausted at {now:?}; replay with {SEED_ENV}={seed}")]
    PollBudget {
        /// The run's seed.
        seed: u64,
        /// Virtual time.
        now: Duration,
        /// Polls made.
        polls: u64,
    },
    /// [`Budget::max_virtual_time`] passed.
    #[error("still running after {limit:?} of virtual time (now {now:?}); replay with {SEED_ENV}={seed}")]
    TimeLimit {
        /// The run's seed.
        seed: u64,
        /// Virtual time.
        now: Duration,
        /// The limit that was hit.
        limit: Duration,
    },
}

/// A deterministic simulated world: executor, virtual clock, network, file system.
///
/// Derefs to [`SimHandle`] for spawning, hosts, links and hashes. Dropping it
/// drops every task; dropping it during a panic prints the seed to replay.
#[derive(Debug)]
pub struct Sim {
    handle: SimHandle,
    budget: Budget,
}

impl Deref for Sim {
    type Target = SimHandle;

    fn deref(&self) -> &SimHandle {
        &self.handle
    }
}

impl Sim {
    /// A world whose every random choice derives from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            handle: SimHandle {
                shared: new_shared(seed),
            },
            budget: Budget::default(),
        }
    }

    /// A world seeded from `SIM_SEED`, or `default` when unset.
    pub fn from_env(default: u64) -> Self {
        Self::new(seed_from_env(default))
    }

    /// A handle tasks can keep.
    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }

    /// Replaces the run limits.
    pub fn set_budget(&mut self, budget: Budget) {
        self.budget = budget;
    }

    /// The run limits.
    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// Runs until virtual time `deadline`, then leaves the clock there.
    pub fn run_until(&mut self, deadline: Duration) -> Result<(), SimError> {
        self.drive(Some(deadline), None).map(|_| ())
    }

    /// Runs for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) -> Result<(), SimError> {
        let deadline = self.now().saturating_add(duration);
        self.run_until(deadline)
    }

    /// Runs until no task is runnable and no timer is pending.
    pub fn run_until_idle(&mut self) -> Result<(), SimError> {
        self.drive(None, None).map(|_| ())
    }

    /// Runs the world until `future` completes, and returns its output.
    /// The future need not be `Send`: it is polled right here.
    pub fn block_on<F: Future>(&mut self, future: F) -> Result<F::Output, SimError> {
        let mut future = std::pin::pin!(future);
        let mut output = None;
        let done = {
            let main = std::future::poll_fn(|cx| {
                if output.is_none() {
                    match future.as_mut().poll(cx) {
                        Poll::Ready(v) => output = Some(v),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Poll::Ready(())
            });
            let main = std::pin::pin!(main);
            self.drive(None, Some(main))?
        };
        match (done, output) {
            (true, Some(v)) => Ok(v),
            _ => Err(SimError::Deadlock {
                seed: self.seed(),
                now: self.now(),
                tasks: self.shared.exec.live(),
            }),
        }
    }

    /// The scheduler loop. Returns `true` when `main` completed.
    fn drive(
        &mut self,
        limit: Option<Duration>,
        mut main: Option<Pin<&mut dyn Future<Output = ()>>>,
    ) -> Result<bool, SimError> {
        let exec = self.shared.exec.clone();
        let clock = self.shared.env.clock.clone();
        let seed = self.seed();
        let start_polls = exec.polls();
        let start_time = clock.now();
        let horizon = start_time.saturating_add(self.budget.max_virtual_time);
        let main_waker = exec.main_waker();
        let waker = Waker::from(main_waker.clone());
        if main.is_some() {
            waker.wake_by_ref();
        }
        let mut instant_polls: u64 = 0;
        loop {
            while let Some(id) = exec.pop() {
                instant_polls += 1;
                if instant_polls > self.budget.max_polls_per_instant {
                    return Err(SimError::Livelock {
                        seed,
                        now: clock.now(),
                        polls: instant_polls,
                    });
                }
                let polls = exec.polls().saturating_sub(start_polls);
                if polls >= self.budget.max_polls {
                    return Err(SimError::PollBudget {
                        seed,
                        now: clock.now(),
                        polls,
                    });
                }
                if id == MAIN_TASK {
                    if let Some(m) = main.as_mut() {
                        Executor::unqueue(&main_waker);
                        exec.count_poll();
                        let mut cx = Context::from_waker(&waker);
                        if m.as_mut().poll(&mut cx).is_ready() {
                            return Ok(true);
                        }
                    }
                } else {
                    exec.poll_task(id);
                }
            }
            let next = clock.next_deadline();
            let next = match (next, limit) {
                (Some(t), Some(l)) if t > l => None,
                (next, _) => next,
            };
            match next {
                Some(t) => {
                    if limit.is_none() && t > horizon {
                        return Err(SimError::TimeLimit {
                            seed,
                            now: clock.now(),
                            limit: self.budget.max_virtual_time,
                        });
                    }
                    clock.advance_to(t);
                    instant_polls = 0;
                }
                _ => {
                    if let Some(l) = limit {
                        clock.advance_to(l);
                    }
                    return Ok(false);
                }
            }
        }
    }

    /// Runs `scenario` twice on fresh worlds seeded `seed` and checks both give the
    /// same transcript hash, which it returns.
    ///
    /// # Panics
    /// If the hashes differ: the code under test is not deterministic (hash-map
    /// iteration order, wall-clock reads, threads); the message names the seed.
    pub fn assert_deterministic(seed: u64, scenario: impl Fn(&mut Sim)) -> TranscriptHash {
        let run = || {
            let mut sim = Sim::new(seed);
            scenario(&mut sim);
            sim.transcript_hash()
        };
        let (a, b) = (run(), run());
        assert_eq!(
            a, b,
            "same seed, different transcripts: nondeterminism; replay with {SEED_ENV}={seed}"
        );
        a
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let seed = self.seed();
            eprintln!(
                "sim: failed at virtual time {:?} with seed {seed}; replay with {SEED_ENV}={seed}",
                self.now()
            );
        }
        // Tasks hold handles on the world that holds them: break the cycle.
        self.shared.exec.clear();
        self.shared.net.clear();
        self.shared.exec.clear();
        self.shared.env.clock.clear();
    }
}
