//! A single-threaded, deterministic task executor.
//!
//! Tasks live in a `BTreeMap` keyed by a spawn counter; the run queue is a FIFO of
//! task ids in wake order. There is no thread, no work stealing and no hash
//! iteration, so the same program polls its tasks in the same order every run.
//!
//! The runtime trait of `server-core` needs `Send` futures and a `Sync` runtime,
//! so state sits behind `Mutex`es even though only one thread ever touches it.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

/// A boxed, sendable task future.
pub(crate) type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The id the driver uses for the future passed to `block_on`; spawned tasks start at 1.
pub(crate) const MAIN_TASK: u64 = 0;

#[derive(Debug, Default)]
struct RunQueue {
    ready: Mutex<VecDeque<u64>>,
}

impl RunQueue {
    fn push(&self, id: u64) {
        self.ready
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(id);
    }

    fn pop(&self) -> Option<u64> {
        self.ready
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
    }
}

/// Wakes one task by queueing its id, at most once until it is polled again.
#[derive(Debug)]
pub(crate) struct TaskWaker {
    id: u64,
    queued: AtomicBool,
    queue: Arc<RunQueue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::SeqCst) {
            self.queue.push(self.id);
        }
    }
}

struct Slot {
    future: Option<Task>,
    waker: Arc<TaskWaker>,
}

/// Spawned tasks and the queue of those ready to run.
#[derive(Default)]
pub(crate) struct Executor {
    tasks: Mutex<BTreeMap<u64, Slot>>,
    next_id: AtomicU64,
    queue: Arc<RunQueue>,
    polls: AtomicU64,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("tasks", &self.live())
            .field("polls", &self.polls())
            .finish()
    }
}

impl Executor {
    fn tasks(&self) -> MutexGuard<'_, BTreeMap<u64, Slot>> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A waker for the `block_on` future.
    pub(crate) fn main_waker(&self) -> Arc<TaskWaker> {
        Arc::new(TaskWaker {
            id: MAIN_TASK,
            queued: AtomicBool::new(false),
            queue: self.queue.clone(),
        })
    }

    /// Adds a task and queues it for its first poll. Returns its id.
    pub(crate) fn spawn(&self, future: Task) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let waker = Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(false),
            queue: self.queue.clone(),
        });
        self.tasks().insert(
            id,
            Slot {
                future: Some(future),
                waker: waker.clone(),
            },
        );
        waker.wake_by_ref();
        id
    }

    /// Drops a task without completing it.
    pub(crate) fn abort(&self, id: u64) {
        let slot = self.tasks().remove(&id);
        // Dropped outside the lock: the future's destructors may spawn or wake.
        drop(slot);
    }

    /// Whether task `id` is still alive.
    pub(crate) fn contains(&self, id: u64) -> bool {
        self.tasks().contains_key(&id)
    }

    /// Next queued task id, in wake order.
    pub(crate) fn pop(&self) -> Option<u64> {
        self.queue.pop()
    }

    /// Marks `waker` as no longer queued, before polling what it wakes.
    pub(crate) fn unqueue(waker: &TaskWaker) {
        waker.queued.store(false, Ordering::SeqCst);
    }

    /// Polls task `id` once (if it still exists). Returns true if it completed.
    pub(crate) fn poll_task(&self, id: u64) -> bool {
        let (mut future, waker) = {
            let mut tasks = self.tasks();
            let Some(slot) = tasks.get_mut(&id) else {
                return false;
            };
            let Some(future) = slot.future.take() else {
                return false;
            };
            (future, slot.waker.clone())
        };
        Self::unqueue(&waker);
        self.count_poll();
        let std_waker = Waker::from(waker);
        let mut cx = Context::from_waker(&std_waker);
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(()) => {
                let slot = self.tasks().remove(&id);
                drop(slot);
                drop(future);
                true
            }
            Poll::Pending => {
                let mut tasks = self.tasks();
                if let Some(slot) = tasks.get_mut(&id) {
                    slot.future = Some(future);
                    false
                } else {
                    // Aborted while it was being polled.
                    drop(tasks);
                    drop(future);
                    true
                }
            }
        }
    }

    /// Counts one poll (tasks and the `block_on` future alike).
    pub(crate) fn count_poll(&self) {
        self.polls.fetch_add(1, Ordering::Relaxed);
    }

    /// Total polls so far.
    pub(crate) fn polls(&self) -> u64 {
        self.polls.load(Ordering::Relaxed)
    }

    /// Number of live tasks.
    pub(crate) fn live(&self) -> usize {
        self.tasks().len()
    }

    /// Drops every task (used when the simulation ends, to break `Arc` cycles
    /// between tasks and the state they hold).
    pub(crate) fn clear(&self) {
        loop {
            let batch = std::mem::take(&mut *self.tasks());
            if batch.is_empty() {
                break;
            }
            drop(batch);
        }
        while self.queue.pop().is_some() {}
    }
}

/// The shared slot a [`JoinHandle`] reads its task's output from.
#[derive(Debug)]
pub(crate) struct JoinState<T> {
    output: Option<T>,
    done: bool,
    waker: Option<Waker>,
}

impl<T> JoinState<T> {
    pub(crate) fn new() -> Arc<Mutex<Self>> {
        Arc::new(Mutex::new(Self {
            output: None,
            done: false,
            waker: None,
        }))
    }
}

/// Stores a finished task's output and wakes whoever awaits its handle.
pub(crate) fn complete<T>(state: &Mutex<JoinState<T>>, value: T) {
    let waker = {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        s.output = Some(value);
        s.done = true;
        s.waker.take()
    };
    if let Some(w) = waker {
        w.wake();
    }
}

/// Awaits the output of a spawned task. Dropping it does not cancel the task.
#[derive(Debug)]
pub struct JoinHandle<T> {
    pub(crate) id: u64,
    pub(crate) state: Arc<Mutex<JoinState<T>>>,
    pub(crate) exec: Arc<Executor>,
}

impl<T> JoinHandle<T> {
    fn lock(&self) -> MutexGuard<'_, JoinState<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True once the task ran to completion.
    pub fn is_finished(&self) -> bool {
        self.lock().done
    }

    /// Takes the output if the task finished and it was not taken yet.
    pub fn try_take(&self) -> Option<T> {
        self.lock().output.take()
    }

    /// Drops the task now; its output will never arrive.
    pub fn abort(&self) {
        self.exec.abort(self.id);
    }

    /// Whether the task is still alive (neither finished nor aborted).
    pub fn is_alive(&self) -> bool {
        self.exec.contains(self.id)
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    /// Ready with the output once; a handle polled again after that stays pending.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.lock();
        match state.output.take() {
            Some(v) => Poll::Ready(v),
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
