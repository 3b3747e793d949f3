//! `max_connections_per_ip`: a cap on the connections one client holds open at
//! once, counted across every listener (RTMP, HTTP server, HTTP API), so one
//! address cannot take all of `max_connections`. SRS has no such limit; the
//! cap is off (0) unless configured.
//!
//! A client is its address, except that an IPv6 client counts by its /64
//! network: one host is usually handed a whole /64 and may use any address in
//! it, so counting single IPv6 addresses would cap nothing. An IPv4 client
//! reaching an IPv6 listener (`::ffff:1.2.3.4`) counts as `1.2.3.4`.
//!
//! Refusals are logged through a [`RefusalLog`]: the first at once, then at
//! most one summary line per interval, so a flood does not become a flood of
//! log lines.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Shortest time between two refusal lines in the log.
pub const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(1);

/// The prefix an IPv6 client is counted by.
pub const IPV6_CLIENT_PREFIX: u32 = 64;

/// Once the table of clients has room for this many and holds under a quarter
/// of that, it is shrunk (after a flood from many addresses has gone).
const SHRINK_ABOVE_CAPACITY: usize = 1024;

type Counts = Arc<Mutex<HashMap<IpAddr, u32>>>;

/// Open connections per client, and the log of refused ones. One per server.
#[derive(Debug, Default)]
pub struct PerIpLimit {
    counts: Counts,
    refusals: Mutex<RefusalLog<PerIpRefused>>,
}

/// One counted connection; dropping it (when the connection's task ends,
/// however it ends) gives the slot back.
#[derive(Debug)]
#[must_use = "the connection is counted only while the guard lives"]
pub struct PerIpGuard {
    counts: Counts,
    client: IpAddr,
}

/// A connection refused because its client already holds `max` connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerIpRefused {
    /// The peer's address (IPv4-mapped addresses as IPv4).
    pub peer: IpAddr,
    /// What the peer is counted as: its address, or its IPv6 /64 network.
    pub client: IpAddr,
    /// The cap in force.
    pub max: u32,
}

impl fmt::Display for PerIpRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.client == self.peer {
            write!(f, "{} already has {} connections", self.peer, self.max)
        } else {
            write!(
                f,
                "{} (counted as {}/{IPV6_CLIENT_PREFIX}) already has {} connections",
                self.peer, self.client, self.max
            )
        }
    }
}

/// What a client is counted as: an IPv4 address (mapped ones included), or
/// the /64 network of an IPv6 address.
pub fn client_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let mask = u128::MAX
                .checked_shl(128u32.saturating_sub(IPV6_CLIENT_PREFIX))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl PerIpLimit {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts a new connection from `peer`, unless its client already holds
    /// `max` connections; `max` 0 means no cap (connections are counted all
    /// the same, so a cap configured later sees the ones already open).
    pub fn acquire(&self, peer: IpAddr, max: u32) -> Result<PerIpGuard, PerIpRefused> {
        let client = client_of(peer);
        let mut counts = lock(&self.counts);
        let open = counts.entry(client).or_insert(0);
        if max != 0 && *open >= max {
            return Err(PerIpRefused {
                peer: peer.to_canonical(),
                client,
                max,
            });
        }
        *open = open.saturating_add(1);
        Ok(PerIpGuard {
            counts: self.counts.clone(),
            client,
        })
    }

    /// Connections now open from `peer`'s client.
    pub fn open(&self, peer: IpAddr) -> u32 {
        lock(&self.counts)
            .get(&client_of(peer))
            .copied()
            .unwrap_or(0)
    }

    /// Clients with at least one open connection.
    pub fn clients(&self) -> usize {
        lock(&self.counts).len()
    }

    /// Notes a refusal at `now` (runtime time); see [`RefusalLog::record`].
    pub fn note_refusal(&self, refused: PerIpRefused, now: Duration) -> RefusalNote<PerIpRefused> {
        lock(&self.refusals).record(refused, now)
    }

    /// Takes the refusals held back since the last line; see [`RefusalLog::flush`].
    pub fn flush_refusals(&self, now: Duration) -> Option<RefusalSummary<PerIpRefused>> {
        lock(&self.refusals).flush(now)
    }
}

impl Drop for PerIpGuard {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        if let Some(open) = counts.get_mut(&self.client) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                counts.remove(&self.client);
                let capacity = counts.capacity();
                if capacity > SHRINK_ABOVE_CAPACITY && counts.len() < capacity / 4 {
                    let keep = counts.len().saturating_mul(2);
                    counts.shrink_to(keep);
                }
            }
        }
    }
}

/// A log of refusals that writes the first at once and then at most one
/// summary per interval. It owns no clock and no timer: the caller passes the
/// time, writes the lines it is handed, and, when told to, calls
/// [`flush`](RefusalLog::flush) at the time given so the last refusals of a
/// burst are reported too.
#[derive(Debug)]
pub struct RefusalLog<T> {
    interval: Duration,
    last_line: Option<Duration>,
    pending: u64,
    last: Option<T>,
}

/// What the caller should do after [`RefusalLog::record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalNote<T> {
    /// Write this line now.
    Log(RefusalSummary<T>),
    /// Held back; call [`RefusalLog::flush`] at this time (given once per
    /// held-back burst, so the caller sets one timer).
    FlushAt(Duration),
    /// Held back; a flush is already due.
    Held,
}

/// Refusals to report in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalSummary<T> {
    /// How many since the previous line (1 for a lone refusal).
    pub count: u64,
    /// The latest of them.
    pub last: T,
    /// Time since the previous line; `None` for the first line.
    pub since_last_line: Option<Duration>,
}

impl<T> Default for RefusalLog<T> {
    fn default() -> Self {
        Self::new(REFUSAL_LOG_INTERVAL)
    }
}

impl<T> RefusalLog<T> {
    /// A log writing at most one line per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_line: None,
            pending: 0,
            last: None,
        }
    }

    /// Records one refusal at `now`.
    pub fn record(&mut self, refusal: T, now: Duration) -> RefusalNote<T> {
        self.pending = self.pending.saturating_add(1);
        self.last = Some(refusal);
        let next_line = self.next_line();
        match next_line {
            Some(at) if now < at => {
                if self.pending == 1 {
                    RefusalNote::FlushAt(at)
                } else {
                    RefusalNote::Held
                }
            }
            _ => match self.take(now) {
                Some(summary) => RefusalNote::Log(summary),
                None => RefusalNote::Held,
            },
        }
    }

    /// The held-back refusals, if any and if a line is allowed at `now`.
    pub fn flush(&mut self, now: Duration) -> Option<RefusalSummary<T>> {
        if self.next_line().is_some_and(|at| now < at) {
            return None;
        }
        self.take(now)
    }

    fn next_line(&self) -> Option<Duration> {
        self.last_line.map(|t| t.saturating_add(self.interval))
    }

    fn take(&mut self, now: Duration) -> Option<RefusalSummary<T>> {
        if self.pending == 0 {
            return None;
        }
        let last = self.last.take()?;
        let summary = RefusalSummary {
            count: self.pending,
            last,
            since_last_line: self.last_line.map(|t| now.saturating_sub(t)),
        };
        self.pending = 0;
        self.last_line = Some(now);
        Some(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn caps_each_client_and_frees_on_drop() {
        let limit = PerIpLimit::new();
        let a = ip("10.0.0.1");
        let g1 = limit.acquire(a, 2).unwrap();
        let g2 = limit.acquire(a, 2).unwrap();
        assert_eq!(limit.open(a), 2);
        let refused = limit.acquire(a, 2).unwrap_err();
        assert_eq!(
            refused,
            PerIpRefused {
                peer: a,
                client: a,
                max: 2
            }
        );
        assert_eq!(refused.to_string(), "10.0.0.1 already has 2 connections");
        // Another client is not affected.
        let other = limit.acquire(ip("10.0.0.2"), 2).unwrap();
        assert_eq!(limit.clients(), 2);
        drop(g1);
        assert_eq!(limit.open(a), 1);
        let g3 = limit.acquire(a, 2).unwrap();
        drop((g2, g3, other));
        assert_eq!(limit.open(a), 0);
        assert_eq!(limit.clients(), 0, "entries go when their count reaches 0");
    }

    #[test]
    fn zero_is_no_cap_but_still_counts() {
        let limit = PerIpLimit::new();
        let a = ip("192.0.2.1");
        let guards: Vec<_> = (0..100).map(|_| limit.acquire(a, 0).unwrap()).collect();
        assert_eq!(limit.open(a), 100);
        // A cap configured later sees the connections already open.
        assert!(limit.acquire(a, 100).is_err());
        assert!(limit.acquire(a, 101).is_ok());
        drop(guards);
        assert_eq!(limit.open(a), 0);
    }

    #[test]
    fn a_cap_of_one() {
        let limit = PerIpLimit::new();
        let g = limit.acquire(ip("1.1.1.1"), 1).unwrap();
        assert!(limit.acquire(ip("1.1.1.1"), 1).is_err());
        drop(g);
        assert!(limit.acquire(ip("1.1.1.1"), 1).is_ok());
    }

    #[test]
    fn mapped_addresses_count_as_ipv4() {
        let limit = PerIpLimit::new();
        let _g = limit.acquire(ip("1.2.3.4"), 1).unwrap();
        let refused = limit.acquire(ip("::ffff:1.2.3.4"), 1).unwrap_err();
        assert_eq!(refused.peer, ip("1.2.3.4"));
        assert_eq!(limit.open(ip("::ffff:1.2.3.4")), 1);
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        assert_eq!(client_of(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_of(ip("::1")), ip("::"));
        assert_eq!(client_of(ip("10.1.2.3")), ip("10.1.2.3"));
        let limit = PerIpLimit::new();
        let _g = limit.acquire(ip("2001:db8:1:2::1"), 1).unwrap();
        let refused = limit.acquire(ip("2001:db8:1:2::ffff"), 1).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "2001:db8:1:2::ffff (counted as 2001:db8:1:2::/64) already has 1 connections"
        );
        assert!(limit.acquire(ip("2001:db8:1:3::1"), 1).is_ok());
    }

    #[test]
    fn the_table_shrinks_after_a_wide_flood() {
        let limit = PerIpLimit::new();
        let guards: Vec<_> = (0..5000u32)
            .map(|n| limit.acquire(IpAddr::from(n.to_be_bytes()), 1).unwrap())
            .collect();
        assert_eq!(limit.clients(), 5000);
        drop(guards);
        assert_eq!(limit.clients(), 0);
        assert!(lock(&limit.counts).capacity() <= SHRINK_ABOVE_CAPACITY * 2);
    }

    #[test]
    fn refusal_log_writes_the_first_then_one_summary_per_interval() {
        let mut log = RefusalLog::new(secs(1.0));
        // A lone refusal is written at once.
        assert_eq!(
            log.record("a", secs(10.0)),
            RefusalNote::Log(RefusalSummary {
                count: 1,
                last: "a",
                since_last_line: None
            })
        );
        // A burst right after: one flush is asked for, the rest are held.
        assert_eq!(
            log.record("b", secs(10.1)),
            RefusalNote::FlushAt(secs(11.0))
        );
        for n in 0..998 {
            assert_eq!(log.record("c", secs(10.2)), RefusalNote::Held, "{n}");
        }
        assert_eq!(log.flush(secs(10.9)), None, "not before the interval");
        let s = log.flush(secs(11.0)).unwrap();
        assert_eq!((s.count, s.last), (999, "c"));
        assert_eq!(s.since_last_line, Some(secs(1.0)));
        assert_eq!(log.flush(secs(12.0)), None, "nothing left");
        // Quiet for a while: the next refusal is written at once again.
        assert!(matches!(
            log.record("d", secs(20.0)),
            RefusalNote::Log(RefusalSummary { count: 1, .. })
        ));
    }

    #[test]
    fn a_refusal_after_the_interval_carries_the_held_ones() {
        let mut log = RefusalLog::new(secs(1.0));
        assert!(matches!(log.record(1, secs(0.0)), RefusalNote::Log(_)));
        assert_eq!(log.record(2, secs(0.5)), RefusalNote::FlushAt(secs(1.0)));
        // The flush timer is late; a refusal past the interval reports all.
        let RefusalNote::Log(s) = log.record(3, secs(1.2)) else {
            panic!("expected a line");
        };
        assert_eq!((s.count, s.last), (2, 3));
        // The late flush then finds nothing, and cannot write a second line
        // within the interval even if more came since.
        assert_eq!(log.record(4, secs(1.3)), RefusalNote::FlushAt(secs(2.2)));
        assert_eq!(log.flush(secs(1.4)), None);
        assert_eq!(log.flush(secs(2.2)).map(|s| s.count), Some(1));
    }

    #[test]
    fn limit_reports_refusals_through_its_log() {
        let limit = PerIpLimit::new();
        let _g = limit.acquire(ip("1.2.3.4"), 1).unwrap();
        let refused = limit.acquire(ip("1.2.3.4"), 1).unwrap_err();
        assert!(matches!(
            limit.note_refusal(refused, secs(5.0)),
            RefusalNote::Log(RefusalSummary { count: 1, .. })
        ));
        assert_eq!(
            limit.note_refusal(refused, secs(5.5)),
            RefusalNote::FlushAt(secs(6.0))
        );
        assert_eq!(limit.flush_refusals(secs(6.0)).map(|s| s.count), Some(1));
    }
}
