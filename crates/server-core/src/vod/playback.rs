//! One RTMP player of a file: a task reads the frames as the pacer makes
//! them due and queues them (a bounded queue: it waits while the player is
//! behind); the connection's write loop drains the queue as it drains a
//! live consumer. `seek` and `pause` reach the task through the same lock.
//!
//! What the player is told follows Flash Media Server and nginx-rtmp's
//! `play`: `NetStream.Seek.Notify` then `NetStream.Play.Start` after a seek
//! (with the decoder configurations again, at the new time), and at the end
//! Stream EOF then `NetStream.Play.Stop`, which ends ffmpeg's and rtmpdump's
//! reads.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::task::AtomicWaker;
use media_core::vod::{PacerStep, VodPacer};
use media_core::MediaMessage;
use tracing::{debug, warn};

use super::files::{VodFile, READ_TIMEOUT};
use crate::runtime::{timeout, Runtime};

/// How far ahead of real time frames are sent, ms: enough for a player's
/// buffer to fill at start and after a seek without bursting the file.
const LEAD_MS: u64 = 1000;
/// Frames queued for the player at most...
const MAX_QUEUED_ITEMS: usize = 512;
/// ... and bytes.
const MAX_QUEUED_BYTES: usize = 8 * 1024 * 1024;
/// The task looks for orders at least this often while it waits.
const IDLE_CHECK: Duration = Duration::from_millis(500);

/// What the write loop sends next.
#[derive(Debug, Clone)]
pub enum VodItem {
    /// A frame (or the file's metadata and decoder configurations).
    Media(MediaMessage),
    /// An `onStatus` with level `status`.
    Status(&'static str, String),
    /// User control Stream Begin.
    StreamBegin,
    /// User control Stream EOF.
    StreamEof,
}

#[derive(Debug, Clone, Copy)]
enum Order {
    Seek(u64),
    Pause(bool),
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<VodItem>,
    queued_bytes: usize,
    orders: VecDeque<Order>,
    stopped: bool,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// The write loop, parked until something is queued.
    player: AtomicWaker,
    /// The task, parked until an order comes or the queue has room.
    task: AtomicWaker,
    task_flag: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake_task(&self) {
        self.task_flag.store(true, Ordering::Release);
        self.task.wake();
    }

    fn push(&self, item: VodItem) {
        let mut state = self.lock();
        if let VodItem::Media(m) = &item {
            state.queued_bytes += m.payload.len();
        }
        state.queue.push_back(item);
        drop(state);
        self.player.wake();
    }
}

/// A file being played to one RTMP player. Dropping it stops the task.
#[derive(Debug)]
pub struct VodPlayback {
    shared: Arc<Shared>,
}

impl VodPlayback {
    /// Starts playing `file` from `start_ms` (the `play` command's start
    /// when it names a position) on `rt`.
    pub fn start(rt: Arc<dyn Runtime>, file: VodFile, start_ms: Option<u64>) -> Self {
        let shared = Arc::new(Shared::default());
        let task = shared.clone();
        rt.clone().spawn(Box::pin(async move {
            feed(rt, task, file, start_ms).await;
        }));
        Self { shared }
    }

    /// The player's `seek` (ms into the file).
    pub fn seek(&self, position_ms: u64) {
        self.shared
            .lock()
            .orders
            .push_back(Order::Seek(position_ms));
        self.shared.wake_task();
    }

    /// The player's `pause` (true) or unpause (false).
    pub fn pause(&self, paused: bool) {
        self.shared.lock().orders.push_back(Order::Pause(paused));
        self.shared.wake_task();
    }

    /// True when something waits to be sent.
    pub fn is_ready(&self) -> bool {
        !self.shared.lock().queue.is_empty()
    }

    /// Ready when something waits to be sent.
    pub fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_ready() {
            return Poll::Ready(());
        }
        self.shared.player.register(cx.waker());
        if self.is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Hands up to `max` queued items to `f`, in order.
    pub fn drain(&self, max: usize, mut f: impl FnMut(VodItem)) {
        let taken: Vec<VodItem> = {
            let mut state = self.shared.lock();
            let n = max.min(state.queue.len());
            let taken: Vec<VodItem> = state.queue.drain(..n).collect();
            for item in &taken {
                if let VodItem::Media(m) = item {
                    state.queued_bytes = state.queued_bytes.saturating_sub(m.payload.len());
                }
            }
            taken
        };
        if !taken.is_empty() {
            self.shared.wake_task();
        }
        for item in taken {
            f(item);
        }
    }
}

impl Drop for VodPlayback {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.wake_task();
    }
}

/// Waits until the task is woken (an order, room in the queue) or `limit`.
async fn wait(rt: &dyn Runtime, shared: &Shared, limit: Duration) {
    let woken = std::future::poll_fn(|cx| {
        if shared.task_flag.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        shared.task.register(cx.waker());
        if shared.task_flag.swap(false, Ordering::AcqRel) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    });
    let _ = timeout(rt, limit, woken).await;
}

/// The file's metadata and decoder configurations, stamped `at`.
fn headers(shared: &Shared, file: &VodFile, at: u64) {
    for h in &file.index.headers {
        let mut h = h.clone();
        h.timestamp = at;
        shared.push(VodItem::Media(h));
    }
}

async fn feed(rt: Arc<dyn Runtime>, shared: Arc<Shared>, file: VodFile, start_ms: Option<u64>) {
    let now = |rt: &dyn Runtime| u64::try_from(rt.now().as_millis()).unwrap_or(u64::MAX);
    let index = file.index.clone();
    let mut pacer = VodPacer::new(LEAD_MS);
    let first = match start_ms {
        Some(ms) => pacer.seek(&index, ms, now(&*rt)),
        None => index.samples.first().map_or(0, |s| s.dts),
    };
    headers(&shared, &file, first);
    let mut ended = false;
    loop {
        let orders: Vec<Order> = {
            let mut state = shared.lock();
            if state.stopped {
                return;
            }
            state.orders.drain(..).collect()
        };
        for order in orders {
            match order {
                Order::Seek(ms) => {
                    let landed = pacer.seek(&index, ms, now(&*rt));
                    debug!(target_ms = ms, landed_ms = landed, "vod: seek");
                    {
                        // What was queued belongs to the old position.
                        let mut state = shared.lock();
                        state.queue.retain(|i| !matches!(i, VodItem::Media(_)));
                        state.queued_bytes = 0;
                    }
                    shared.push(VodItem::Status(
                        rtmp_proto::command::status::SEEK_NOTIFY,
                        format!("Seeking {landed} (stream ID: 1)."),
                    ));
                    shared.push(VodItem::StreamBegin);
                    shared.push(VodItem::Status(
                        rtmp_proto::command::status::PLAY_START,
                        "Started playing stream.".into(),
                    ));
                    headers(&shared, &file, landed);
                    ended = false;
                }
                Order::Pause(true) => pacer.pause(now(&*rt)),
                Order::Pause(false) => pacer.resume(now(&*rt)),
            }
        }
        let full = {
            let state = shared.lock();
            state.queue.len() >= MAX_QUEUED_ITEMS || state.queued_bytes >= MAX_QUEUED_BYTES
        };
        if full {
            wait(&*rt, &shared, IDLE_CHECK).await;
            continue;
        }
        match pacer.step(&index, now(&*rt)) {
            PacerStep::Send(i) => {
                let Some(sample) = index.samples.get(i).copied() else {
                    continue;
                };
                let read = file.reader.read_at(sample.offset, sample.size as usize);
                let data = match timeout(&*rt, READ_TIMEOUT, read).await {
                    Some(Ok(data)) if data.len() == sample.size as usize => data,
                    Some(Ok(_)) => {
                        warn!(file = %file.path.display(), "vod: the file ended early");
                        stop(&shared);
                        return;
                    }
                    Some(Err(e)) => {
                        warn!(file = %file.path.display(), "vod: read: {e}");
                        stop(&shared);
                        return;
                    }
                    None => {
                        warn!(file = %file.path.display(), "vod: read timed out");
                        stop(&shared);
                        return;
                    }
                };
                // A seek that came while reading makes this frame stale.
                if !shared.lock().orders.is_empty() {
                    continue;
                }
                if let Some(msg) = index.message(i, data) {
                    shared.push(VodItem::Media(msg));
                }
            }
            PacerStep::WaitUntil(at) => {
                let left = at.saturating_sub(now(&*rt));
                wait(&*rt, &shared, Duration::from_millis(left)).await;
            }
            PacerStep::Paused => wait(&*rt, &shared, IDLE_CHECK).await,
            PacerStep::End => {
                if !ended {
                    ended = true;
                    debug!(file = %file.path.display(), "vod: end of file");
                    stop(&shared);
                }
                wait(&*rt, &shared, IDLE_CHECK).await;
            }
        }
    }
}

/// The end of the file (or of what could be read): Stream EOF and
/// `NetStream.Play.Stop`.
fn stop(shared: &Shared) {
    shared.push(VodItem::StreamEof);
    shared.push(VodItem::Status(
        rtmp_proto::command::status::PLAY_STOP,
        "Stopped playing stream.".into(),
    ));
}
