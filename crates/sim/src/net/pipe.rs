//! One direction of a simulated TCP connection: an ordered queue of timed segments.
//!
//! The writer appends segments stamped with their virtual arrival time; the reader
//! takes whatever has arrived. The queue is bounded by the link's `buffer`, which
//! is how a reader that stops reading stalls its writer. Closing the write side
//! queues a FIN after the last segment; a reset makes each end fail at the time
//! the RST reaches it.

use std::collections::VecDeque;
use std::io;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::{Buf, Bytes};

use super::link::LinkConfig;
use crate::clock::{Clock, TimerKey};
use crate::rng::SimRng;

/// A parked task and the timer that will wake it, if any.
#[derive(Debug, Default)]
pub(crate) struct Waiter {
    waker: Option<Waker>,
    timer: Option<TimerKey>,
}

impl Waiter {
    /// Parks `waker`, to be woken directly by [`Waiter::wake`] or by the clock at `at`.
    fn park(&mut self, waker: &Waker, at: Option<Duration>, clock: &Clock) {
        // Already parked with the same waker and a pending timer for the same
        // instant: nothing to do (the common case when a writer appends data
        // behind the segment the reader waits for).
        let same_waker = self.waker.as_ref().is_some_and(|w| w.will_wake(waker));
        let same_timer = match (self.timer, at) {
            (Some(key), Some(at)) => key.deadline() == at && at > clock.now(),
            _ => false,
        };
        if same_waker && same_timer {
            return;
        }
        if let Some(key) = self.timer.take() {
            clock.cancel(key);
        }
        self.waker = Some(waker.clone());
        if let Some(at) = at {
            self.timer = clock.register(at, waker.clone());
        }
    }

    /// Re-targets the timer of a parked task to `at` (or wakes it if `at` passed).
    fn retarget(&mut self, at: Option<Duration>, clock: &Clock) {
        if let Some(waker) = self.waker.clone() {
            self.park(&waker, at, clock);
        }
    }

    /// Wakes the parked task now.
    fn wake(&mut self, clock: &Clock) {
        if let Some(key) = self.timer.take() {
            clock.cancel(key);
        }
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// Cancels any timer without waking.
    pub(crate) fn clear(&mut self, clock: &Clock) {
        if let Some(key) = self.timer.take() {
            clock.cancel(key);
        }
        self.waker = None;
    }
}

#[derive(Debug)]
struct Segment {
    data: Bytes,
    arrival: Duration,
}

/// One direction of a connection.
#[derive(Debug, Default)]
pub(crate) struct Pipe {
    segments: VecDeque<Segment>,
    buffered: usize,
    wire_free: Duration,
    last_arrival: Duration,
    fin_at: Option<Duration>,
    reader_error: Option<(Duration, io::ErrorKind)>,
    writer_error: Option<(Duration, io::ErrorKind)>,
    reader: Waiter,
    writer: Waiter,
    delivered: u64,
}

fn reached(at: Option<(Duration, io::ErrorKind)>, now: Duration) -> Option<io::ErrorKind> {
    at.filter(|(t, _)| *t <= now).map(|(_, k)| k)
}

fn earliest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

impl Pipe {
    /// Bytes written and not yet read.
    pub(crate) fn buffered(&self) -> usize {
        self.buffered
    }

    /// Bytes the reader has taken so far.
    pub(crate) fn delivered(&self) -> u64 {
        self.delivered
    }

    /// When the reader next has something to see: data, EOF or an error.
    fn reader_next_event(&self) -> Option<Duration> {
        let data = self.segments.front().map(|s| s.arrival);
        let fin = if self.segments.is_empty() {
            self.fin_at
        } else {
            None
        };
        earliest(earliest(data, fin), self.reader_error.map(|(t, _)| t))
    }

    fn rearm_reader(&mut self, clock: &Clock) {
        let at = self.reader_next_event();
        self.reader.retarget(at, clock);
    }

    /// Reads arrived bytes into `buf`: one segment, or all arrived ones if the link coalesces.
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        clock: &Clock,
        cfg: &LinkConfig,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let now = clock.now();
        if let Some(kind) = reached(self.reader_error, now) {
            self.reader.clear(clock);
            return Poll::Ready(Err(io::Error::from(kind)));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut n = 0;
        while n < buf.len() {
            let Some(seg) = self.segments.front_mut() else {
                break;
            };
            if seg.arrival > now {
                break;
            }
            let take = seg.data.len().min(buf.len() - n);
            if let (Some(dst), Some(src)) = (buf.get_mut(n..n + take), seg.data.get(..take)) {
                dst.copy_from_slice(src);
            }
            seg.data.advance(take);
            n += take;
            if seg.data.is_empty() {
                self.segments.pop_front();
            }
            if !cfg.coalesce {
                break;
            }
        }
        if n > 0 {
            self.buffered = self.buffered.saturating_sub(n);
            self.delivered = self.delivered.saturating_add(n as u64);
            self.reader.clear(clock);
            // Like a kernel socket, wake a blocked writer only once a useful
            // amount of space is free, not for every byte read.
            let low_water = (cfg.buffer / 4).max(1);
            if cfg.buffer.saturating_sub(self.buffered) >= low_water {
                self.writer.wake(clock);
            }
            return Poll::Ready(Ok(n));
        }
        if self.segments.is_empty() && self.fin_at.is_some_and(|t| t <= now) {
            self.reader.clear(clock);
            return Poll::Ready(Ok(0));
        }
        let at = self.reader_next_event();
        self.reader.park(cx.waker(), at, clock);
        Poll::Pending
    }

    /// Accepts up to the free buffer space of `buf`, cut into timed segments.
    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        clock: &Clock,
        rng: &SimRng,
        cfg: &LinkConfig,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let now = clock.now();
        if let Some(kind) = reached(self.writer_error, now) {
            self.writer.clear(clock);
            return Poll::Ready(Err(io::Error::from(kind)));
        }
        if self.fin_at.is_some() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after close",
            )));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let space = cfg.buffer.saturating_sub(self.buffered);
        if space == 0 {
            let at = self.writer_error.map(|(t, _)| t);
            self.writer.park(cx.waker(), at, clock);
            return Poll::Pending;
        }
        let mut n = space.min(buf.len());
        if cfg.short_writes {
            n = rng.usize_in(1..=n);
        }
        self.writer.clear(clock);
        // One allocation per write; segments share it.
        let data = Bytes::copy_from_slice(buf.get(..n).unwrap_or_default());
        let mut off = 0;
        while off < n {
            let len = rng.usize_in(cfg.min_segment..=cfg.max_segment).min(n - off);

            let start = now.max(self.wire_free);
            let sent = start.saturating_add(cfg.transmit_time(len));
            self.wire_free = sent;
            let arrival = sent
                .saturating_add(cfg.latency)
                .saturating_add(rng.duration_upto(cfg.jitter))
                .max(self.last_arrival);
            self.last_arrival = arrival;
            self.segments.push_back(Segment {
                data: data.slice(off..off + len),
                arrival,
            });
            off += len;
        }
        self.buffered = self.buffered.saturating_add(off);
        self.rearm_reader(clock);
        Poll::Ready(Ok(off))
    }

    /// Queues a FIN after the data already written.
    pub(crate) fn close(&mut self, clock: &Clock, cfg: &LinkConfig) {
        if self.fin_at.is_some() {
            return;
        }
        let now = clock.now();
        let fin = now
            .max(self.wire_free)
            .saturating_add(cfg.latency)
            .max(self.last_arrival);
        self.fin_at = Some(fin);
        self.rearm_reader(clock);
    }

    /// The reader of this direction sees `kind` from `at` on (sooner errors win).
    pub(crate) fn fail_reader(&mut self, at: Duration, kind: io::ErrorKind, clock: &Clock) {
        let sooner = match self.reader_error {
            Some((t, _)) => at < t,
            None => true,
        };
        if sooner {
            self.reader_error = Some((at, kind));
        }
        self.rearm_reader(clock);
    }

    /// The writer of this direction sees `kind` from `at` on (sooner errors win).
    pub(crate) fn fail_writer(&mut self, at: Duration, kind: io::ErrorKind, clock: &Clock) {
        let sooner = match self.writer_error {
            Some((t, _)) => at < t,
            None => true,
        };
        if sooner {
            self.writer_error = Some((at, kind));
        }
        let at = self.writer_error.map(|(t, _)| t);
        self.writer.retarget(at, clock);
    }

    /// Throws away queued data (nobody will ever read it).
    pub(crate) fn discard(&mut self) {
        self.segments.clear();
        self.buffered = 0;
    }

    /// Forgets a parked reader (its end is gone).
    pub(crate) fn clear_reader(&mut self, clock: &Clock) {
        self.reader.clear(clock);
    }

    /// Forgets a parked writer (its end is gone).
    pub(crate) fn clear_writer(&mut self, clock: &Clock) {
        self.writer.clear(clock);
    }
}
