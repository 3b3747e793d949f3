//! Connection budgets per listener (`rtmp_max_connections`,
//! `http_server { max_connections }`, `http_api { max_connections }`).
//!
//! SRS has one pool, `max_connections`, for every listener: 999 silent RTMP
//! sockets then lock the HTTP API out, and with it the operator who would
//! kick them. Here each listener also counts its own connections against its
//! kind's budget, and the HTTP API's connections are counted in its budget
//! only, not in `max_connections`: the API answers whatever the RTMP and
//! HTTP ports are made to hold. A refusal is logged through a
//! [`RefusalLog`], so a flood writes one line a second, not one per socket.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::per_ip::{RefusalLog, RefusalNote, RefusalSummary};

/// Which budget refused a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// The global `max_connections`.
    Global,
    /// The listener kind's own budget, named by its directive.
    Listener(&'static str),
}

/// One connection refused for want of budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetRefused {
    /// The client refused.
    pub peer: SocketAddr,
    /// The budget that was full.
    pub pool: Pool,
    /// Its size.
    pub max: usize,
}

impl BudgetRefused {
    /// The directive that sets the full budget.
    pub fn directive(&self) -> &'static str {
        match self.pool {
            Pool::Global => "max_connections",
            Pool::Listener(name) => name,
        }
    }
}

impl std::fmt::Display for BudgetRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} reached ({} open)",
            self.peer,
            self.directive(),
            self.max
        )
    }
}

/// One listener's open connections and its refusal log.
#[derive(Debug, Default)]
pub struct ListenerBudget {
    open: AtomicUsize,
    refusals: Mutex<RefusalLog<BudgetRefused>>,
}

/// A connection counted in a [`ListenerBudget`]; given back on drop. Its
/// slot in the global pool, if it took one, is given back with
/// [`release`](Self::release).
#[derive(Debug)]
pub struct BudgetGuard {
    listener: Arc<ListenerBudget>,
    in_global: bool,
}

impl BudgetGuard {
    /// Gives back both slots; `global` is the pool given to `acquire`.
    pub fn release(self, global: &AtomicUsize) {
        if self.in_global {
            global.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for BudgetGuard {
    fn drop(&mut self) {
        self.listener.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Takes one slot of `counter` if fewer than `max` are taken.
fn take(counter: &AtomicUsize, max: usize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |open| {
            (open < max).then_some(open + 1)
        })
        .is_ok()
}

impl ListenerBudget {
    /// Connections open on this listener.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Admits `peer` if the listener has fewer than `own` open (`None`: no
    /// budget of its own, named `directive`) and, when `global` is given,
    /// the global pool fewer than `global_max`.
    pub fn acquire(
        self: &Arc<Self>,
        peer: SocketAddr,
        own: Option<(&'static str, usize)>,
        global: Option<(&AtomicUsize, usize)>,
    ) -> Result<BudgetGuard, BudgetRefused> {
        let own_max = own.map_or(usize::MAX, |(_, max)| max);
        if !take(&self.open, own_max) {
            let (name, max) = own.unwrap_or(("max_connections", own_max));
            return Err(BudgetRefused {
                peer,
                pool: Pool::Listener(name),
                max,
            });
        }
        if let Some((counter, max)) = global {
            if !take(counter, max) {
                self.open.fetch_sub(1, Ordering::SeqCst);
                return Err(BudgetRefused {
                    peer,
                    pool: Pool::Global,
                    max,
                });
            }
        }
        Ok(BudgetGuard {
            listener: self.clone(),
            in_global: global.is_some(),
        })
    }

    /// Records a refusal at `now` (see [`RefusalLog::record`]).
    pub fn note_refusal(
        &self,
        refused: BudgetRefused,
        now: Duration,
    ) -> RefusalNote<BudgetRefused> {
        self.refusals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(refused, now)
    }

    /// The held-back refusals, if a line is due at `now`.
    pub fn flush_refusals(&self, now: Duration) -> Option<RefusalSummary<BudgetRefused>> {
        self.refusals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .flush(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "10.0.0.1:5000".parse().expect("test address")
    }

    #[test]
    fn own_budget_and_global_pool_both_bound_and_free_on_drop() {
        let global = AtomicUsize::new(0);
        let rtmp = Arc::new(ListenerBudget::default());
        let api = Arc::new(ListenerBudget::default());
        let own = Some(("rtmp_max_connections", 2));
        let a = rtmp.acquire(peer(), own, Some((&global, 3))).unwrap();
        let b = rtmp.acquire(peer(), own, Some((&global, 3))).unwrap();
        let refused = rtmp.acquire(peer(), own, Some((&global, 3))).unwrap_err();
        assert_eq!(refused.pool, Pool::Listener("rtmp_max_connections"));
        assert_eq!(rtmp.open(), 2);
        assert_eq!(global.load(Ordering::SeqCst), 2);
        // The API's own pool is not the global one: RTMP filling it does
        // not refuse the API.
        let http = Arc::new(ListenerBudget::default());
        let c = http.acquire(peer(), None, Some((&global, 3))).unwrap();
        let refused = http.acquire(peer(), None, Some((&global, 3))).unwrap_err();
        assert_eq!(refused.pool, Pool::Global);
        assert_eq!(refused.directive(), "max_connections");
        assert_eq!(
            http.open(),
            1,
            "a global refusal gives the listener slot back"
        );
        let api_guards: Vec<_> = (0..4)
            .map(|_| api.acquire(peer(), Some(("http_api.max_connections", 4)), None))
            .collect();
        assert!(api_guards.iter().all(Result::is_ok));
        for guard in [a, b, c] {
            guard.release(&global);
        }
        assert_eq!(rtmp.open(), 0);
        assert_eq!(global.load(Ordering::SeqCst), 0);
        drop(api_guards);
        assert_eq!(api.open(), 0);
    }

    #[test]
    fn a_flood_of_refusals_is_summarised() {
        let budget = ListenerBudget::default();
        let refused = || BudgetRefused {
            peer: peer(),
            pool: Pool::Global,
            max: 10,
        };
        let secs = Duration::from_secs_f64;
        assert!(matches!(
            budget.note_refusal(refused(), secs(0.0)),
            RefusalNote::Log(_)
        ));
        assert!(matches!(
            budget.note_refusal(refused(), secs(0.1)),
            RefusalNote::FlushAt(_)
        ));
        for i in 0..500 {
            let at = secs(0.2 + f64::from(i) * 0.001);
            assert_eq!(budget.note_refusal(refused(), at), RefusalNote::Held);
        }
        assert!(budget.flush_refusals(secs(0.5)).is_none());
        let summary = budget.flush_refusals(secs(1.0)).expect("one line");
        assert_eq!(summary.count, 501);
        assert_eq!(
            summary.last.to_string(),
            "10.0.0.1:5000: max_connections reached (10 open)"
        );
    }
}
