//! A small, bounded pool of threads for file work (HLS and DVR writes, files
//! served over HTTP), shared by every stream.
//!
//! Disk calls block, so they never run on an executor thread. Handing each one
//! to the runtime's general blocking pool (tokio's `spawn_blocking`, smol's
//! `unblock`) let the thread count follow the number of calls in flight: when
//! 200 publishers left at once, each HLS sink's closing writes got a thread of
//! their own and the process went to ~300 threads, each with its own glibc
//! malloc arena (issue 22). Here at most [`FILE_WORKER_THREADS`] threads run,
//! whatever the number of streams; further calls wait their turn in one FIFO
//! queue. Each stream's sink awaits its own calls in order, so a stream's
//! files are still written in order, and a slow disk delays only the sinks
//! (their consumers may fall behind and skip, as any slow consumer does),
//! never a publisher. nginx-rtmp and SRS write HLS on their one event-loop
//! thread; a handful of threads is already more than they use.
//!
//! Threads start when work arrives and none is idle, and end after
//! [`IDLE_EXIT`] without work, so an idle server holds none.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use event_listener::Event;

use crate::fs::{BlockingJob, BlockingPool};
use crate::runtime::BoxFuture;

/// Most threads doing file work at once, per runtime.
pub const FILE_WORKER_THREADS: usize = 4;
/// A worker with nothing to do for this long ends.
pub const IDLE_EXIT: Duration = Duration::from_secs(10);

type Task = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct State {
    tasks: VecDeque<Task>,
    threads: usize,
    idle: usize,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    work: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The pool; dropping it lets its threads finish what is queued and end.
pub struct FileWorkers {
    shared: Arc<Shared>,
    limit: usize,
}

impl std::fmt::Debug for FileWorkers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("FileWorkers")
            .field("limit", &self.limit)
            .field("threads", &state.threads)
            .field("queued", &state.tasks.len())
            .finish()
    }
}

impl FileWorkers {
    /// A pool of at most `limit` threads (at least one).
    pub fn new(limit: usize) -> Self {
        Self {
            shared: Arc::default(),
            limit: limit.max(1),
        }
    }

    /// Threads running now (busy or idle).
    pub fn threads(&self) -> usize {
        self.shared.lock().threads
    }

    fn submit(&self, task: Task) {
        let mut state = self.shared.lock();
        state.tasks.push_back(task);
        if state.idle > 0 || state.threads >= self.limit {
            drop(state);
            self.shared.work.notify_one();
            return;
        }
        state.threads += 1;
        drop(state);
        let shared = self.shared.clone();
        let started = std::thread::Builder::new()
            .name("file-worker".into())
            .spawn(move || work(&shared));
        if started.is_err() {
            // No thread could start (out of memory or a thread limit): run
            // what is queued here rather than never; the caller waits anyway.
            let mut state = self.shared.lock();
            state.threads -= 1;
            if state.threads == 0 {
                let tasks = std::mem::take(&mut state.tasks);
                drop(state);
                tasks.into_iter().for_each(|t| t());
            }
        }
    }
}

impl Drop for FileWorkers {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_all();
    }
}

/// A worker thread: runs queued tasks in order until the pool closes or it has
/// been idle for [`IDLE_EXIT`].
fn work(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if let Some(task) = state.tasks.pop_front() {
            drop(state);
            task();
            state = shared.lock();
            continue;
        }
        if state.closed {
            break;
        }
        state.idle += 1;
        let (next, timeout) = shared
            .work
            .wait_timeout(state, IDLE_EXIT)
            .unwrap_or_else(|e| e.into_inner());
        state = next;
        state.idle -= 1;
        if timeout.timed_out() && state.tasks.is_empty() {
            break;
        }
    }
    state.threads -= 1;
}

/// Where a job's result waits for its caller.
#[derive(Default)]
struct Slot {
    result: Mutex<Option<io::Result<Bytes>>>,
    done: Event,
}

impl BlockingPool for FileWorkers {
    fn run(&self, job: BlockingJob) -> BoxFuture<'static, io::Result<Bytes>> {
        let slot = Arc::new(Slot::default());
        let fill = slot.clone();
        self.submit(Box::new(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
                .unwrap_or_else(|_| Err(io::Error::other("a file job panicked")));
            *fill.result.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
            fill.done.notify(usize::MAX);
        }));
        Box::pin(async move {
            loop {
                let listener = slot.done.listen();
                if let Some(result) = slot.result.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    return result;
                }
                listener.await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Polls until done: the job finishes on a worker thread.
    fn block_on<T>(mut f: BoxFuture<'static, T>) -> T {
        loop {
            if let Some(v) = futures_util::FutureExt::now_or_never(&mut f) {
                return v;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn many_jobs_at_once_never_take_more_than_the_limit_of_threads() {
        let pool = FileWorkers::new(3);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..200)
            .map(|i| {
                let (running, most) = (running.clone(), most.clone());
                pool.run(Box::new(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_micros(200));
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(Bytes::from(format!("{i}")))
                }))
            })
            .collect();
        assert!(pool.threads() <= 3);
        for (i, job) in jobs.into_iter().enumerate() {
            assert_eq!(block_on(job).unwrap(), Bytes::from(format!("{i}")));
        }
        assert!(most.load(Ordering::SeqCst) <= 3, "{most:?} at once");
        assert!(pool.threads() <= 3);
    }

    #[test]
    fn a_panicking_job_is_an_error_and_the_pool_goes_on() {
        let pool = FileWorkers::new(1);
        let err = block_on(pool.run(Box::new(|| panic!("boom")))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Other);
        assert_eq!(
            block_on(pool.run(Box::new(|| Ok(Bytes::from_static(b"ok"))))).unwrap(),
            Bytes::from_static(b"ok")
        );
    }
}
