//! Keeps ffmpeg processes running: one task per process, restarting it when
//! it dies and giving up on one that keeps dying.
//!
//! SRS checks its ffmpegs every 3 s and restarts any that exited, forever.
//! Here:
//! - a process that exits is restarted after a backoff ([`RESTART_FIRST`],
//!   doubled up to [`RESTART_MAX`]; back to the first after a run of
//!   [`STABLE_AFTER`]), so a flapping source is retried quickly at first
//!   and gently later;
//! - dead-loop detection: one that died [`DEAD_LOOP_DEATHS`] times within
//!   [`DEAD_LOOP_WINDOW`] (a missing input, a bad option, a refused
//!   output) is *parked*: not restarted, logged as an error and listed with
//!   state `parked` in the API until a reload or a new publish starts it
//!   afresh;
//! - a stop (unpublish, reload, shutdown) sends `SIGTERM` to the process
//!   group, then `SIGKILL` after [`STOP_GRACE`] (SRS's `srs_kill_forced`),
//!   and waits for it to be reaped.
//!
//! All waits are on the runtime's clock, so `sim` drives this with scripted
//! fake processes in virtual time.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_listener::Event;
use futures_util::future::{select, Either};
use serde::Serialize;
use tracing::{error, info, warn, Instrument};

use crate::process::{ChildProcess, ProcessLog, ProcessSpec, StopSignal};
use crate::runtime::Runtime;
use crate::upstream::Backoff;

/// First wait before a restart.
pub const RESTART_FIRST: Duration = Duration::from_millis(250);
/// Longest wait between restarts.
pub const RESTART_MAX: Duration = Duration::from_secs(30);
/// A run this long resets the backoff.
pub const STABLE_AFTER: Duration = Duration::from_secs(30);
/// Deaths within [`DEAD_LOOP_WINDOW`] that park a process.
pub const DEAD_LOOP_DEATHS: usize = 5;
/// The window deaths are counted in.
pub const DEAD_LOOP_WINDOW: Duration = Duration::from_secs(60);
/// How long a stopped process has between `SIGTERM` and `SIGKILL`.
pub const STOP_GRACE: Duration = Duration::from_secs(3);
/// How long a stop waits for a killed process to be reaped.
const REAP_WAIT: Duration = Duration::from_secs(5);

/// What starts a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessKind {
    /// `vhost { ingest ID { } }`.
    Ingest,
    /// `vhost { transcode SCOPE { engine NAME { } } }`.
    Transcode,
}

/// What a process is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessState {
    /// Being spawned.
    Starting,
    /// Running.
    Running,
    /// Exited; waiting out the backoff before the next start.
    Restarting,
    /// Died too often: not restarted (dead-loop detection).
    Parked,
    /// Stopping or stopped.
    Stopped,
}

/// One supervised process, as the API and metrics show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessStatus {
    /// Its id in this server (stable while it is supervised).
    pub id: u64,
    /// Ingest or transcode.
    pub kind: ProcessKind,
    /// `VHOST/INGEST_ID` or `VHOST/APP/STREAM/ENGINE`.
    pub name: String,
    /// Its vhost.
    pub vhost: String,
    /// Program and arguments.
    pub cmdline: String,
    /// The running process's pid.
    pub pid: Option<u32>,
    /// What it is doing.
    pub state: ProcessState,
    /// Restarts so far.
    pub restarts: u64,
    /// How long the current run has lasted, ms (0 when not running).
    pub uptime_ms: u64,
    /// How the last run ended (`exit code 1`, `cannot start: ...`).
    pub last_exit: Option<String>,
    /// Its log file (`ff_log_dir`), if its output is kept.
    pub log: Option<String>,
}

/// A process under supervision.
#[derive(Debug)]
pub struct Supervised {
    status: Mutex<ProcessStatus>,
    spec: ProcessSpec,
    /// The stream a transcode reads.
    stream: Mutex<Option<crate::hub::StreamKey>>,
    /// Runtime time the current run started.
    started: Mutex<Option<Duration>>,
    stop: AtomicBool,
    wake: Event,
    done: AtomicBool,
    finished: Event,
}

impl Supervised {
    /// Asks the process to stop (SIGTERM, then SIGKILL); see [`Self::stopped`].
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify(usize::MAX);
    }

    /// Completes once the process is stopped and reaped.
    pub async fn stopped(&self) {
        loop {
            let listener = self.finished.listen();
            if self.done.load(Ordering::SeqCst) {
                return;
            }
            listener.await;
        }
    }

    /// Its status now.
    pub fn status(&self, now: Duration) -> ProcessStatus {
        let mut s = lock(&self.status).clone();
        s.uptime_ms = match (*lock(&self.started), s.state) {
            (Some(at), ProcessState::Running) => {
                u64::try_from(now.saturating_sub(at).as_millis()).unwrap_or(u64::MAX)
            }
            _ => 0,
        };
        s
    }

    /// Marks it as working on `key` (a transcode), for [`ProcessTable::for_stream`].
    pub fn set_stream(&self, key: crate::hub::StreamKey) {
        *lock(&self.stream) = Some(key);
    }

    /// What it runs.
    pub fn spec(&self) -> &ProcessSpec {
        &self.spec
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    async fn until_stopped(&self) {
        loop {
            let listener = self.wake.listen();
            if self.stopping() {
                return;
            }
            listener.await;
        }
    }

    fn update(&self, f: impl FnOnce(&mut ProcessStatus)) {
        f(&mut lock(&self.status));
    }
}

/// Every supervised process of the server.
#[derive(Debug, Default)]
pub struct ProcessTable {
    next_id: AtomicU64,
    entries: Arc<Mutex<Vec<Arc<Supervised>>>>,
    restarts: Arc<AtomicU64>,
    parked: Arc<AtomicU64>,
}

impl ProcessTable {
    /// Starts supervising `spec`.
    pub fn start(
        &self,
        rt: &Arc<dyn Runtime>,
        kind: ProcessKind,
        name: String,
        vhost: String,
        spec: ProcessSpec,
    ) -> Arc<Supervised> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let log = match &spec.log {
            ProcessLog::File(p) => Some(p.display().to_string()),
            _ => None,
        };
        let entry = Arc::new(Supervised {
            status: Mutex::new(ProcessStatus {
                id,
                kind,
                name: name.clone(),
                vhost,
                cmdline: spec.command_line(),
                pid: None,
                state: ProcessState::Starting,
                restarts: 0,
                uptime_ms: 0,
                last_exit: None,
                log,
            }),
            spec,
            stream: Mutex::new(None),
            started: Mutex::new(None),
            stop: AtomicBool::new(false),
            wake: Event::new(),
            done: AtomicBool::new(false),
            finished: Event::new(),
        });
        lock(&self.entries).push(entry.clone());
        let task = Task {
            rt: rt.clone(),
            entry: entry.clone(),
            entries: self.entries.clone(),
            restarts: self.restarts.clone(),
            parked: self.parked.clone(),
        };
        let span = tracing::info_span!("ffmpeg", id, name = %name);
        rt.spawn(Box::pin(task.run().instrument(span)));
        entry
    }

    /// Every supervised process, oldest first.
    pub fn list(&self, now: Duration) -> Vec<ProcessStatus> {
        lock(&self.entries).iter().map(|e| e.status(now)).collect()
    }

    /// The processes working on stream `key` (its transcodes).
    pub fn for_stream(&self, key: &crate::hub::StreamKey, now: Duration) -> Vec<ProcessStatus> {
        lock(&self.entries)
            .iter()
            .filter(|e| lock(&e.stream).as_ref() == Some(key))
            .map(|e| e.status(now))
            .collect()
    }

    /// Restarts of every process so far (a counter).
    pub fn restarts_total(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Processes parked by dead-loop detection so far (a counter).
    pub fn parked_total(&self) -> u64 {
        self.parked.load(Ordering::Relaxed)
    }

    /// Stops every process and waits for them, at most `grace` in all
    /// (shutdown).
    pub async fn stop_all(&self, rt: &dyn Runtime, grace: Duration) {
        let all: Vec<_> = lock(&self.entries).clone();
        for e in &all {
            e.stop();
        }
        let wait = futures_util::future::join_all(all.iter().map(|e| e.stopped()));
        if crate::runtime::timeout(rt, grace, wait).await.is_none() {
            warn!("ffmpeg processes still stopping after {grace:?}");
        }
    }
}

/// One process's supervising task.
struct Task {
    rt: Arc<dyn Runtime>,
    entry: Arc<Supervised>,
    entries: Arc<Mutex<Vec<Arc<Supervised>>>>,
    restarts: Arc<AtomicU64>,
    parked: Arc<AtomicU64>,
}

impl Task {
    async fn run(self) {
        self.supervise().await;
        let e = &self.entry;
        e.update(|s| {
            s.state = ProcessState::Stopped;
            s.pid = None;
        });
        lock(&self.entries).retain(|x| !Arc::ptr_eq(x, e));
        e.done.store(true, Ordering::SeqCst);
        e.finished.notify(usize::MAX);
    }

    async fn supervise(&self) {
        let e = &self.entry;
        let mut backoff = Backoff::new(RESTART_FIRST, RESTART_MAX);
        let mut deaths: VecDeque<Duration> = VecDeque::new();
        while !e.stopping() {
            e.update(|s| s.state = ProcessState::Starting);
            let started = self.rt.now();
            let ended = match self.rt.spawn_process(&e.spec) {
                Err(err) => format!("cannot start: {err}"),
                Ok(mut child) => {
                    let pid = child.id();
                    info!(pid, cmdline = %e.spec.command_line(), "ffmpeg started");
                    *lock(&e.started) = Some(started);
                    e.update(|s| {
                        s.state = ProcessState::Running;
                        s.pid = Some(pid);
                    });
                    let exited = match select(child.wait(), Box::pin(e.until_stopped())).await {
                        Either::Left((result, _)) => Some(result),
                        Either::Right(_) => None,
                    };
                    match exited {
                        Some(Ok(exit)) => exit.to_string(),
                        Some(Err(err)) => format!("lost: {err}"),
                        None => {
                            terminate(&*self.rt, child.as_mut(), pid).await;
                            return;
                        }
                    }
                }
            };
            let now = self.rt.now();
            e.update(|s| {
                s.pid = None;
                s.last_exit = Some(ended.clone());
            });
            if e.stopping() {
                return;
            }
            deaths.push_back(now);
            while deaths
                .front()
                .is_some_and(|t| now.saturating_sub(*t) > DEAD_LOOP_WINDOW)
            {
                deaths.pop_front();
            }
            if deaths.len() >= DEAD_LOOP_DEATHS {
                error!(
                    deaths = deaths.len(),
                    window_s = DEAD_LOOP_WINDOW.as_secs(),
                    "ffmpeg parked: it died too often ({ended}); not restarted until a reload or republish"
                );
                e.update(|s| s.state = ProcessState::Parked);
                self.parked.fetch_add(1, Ordering::Relaxed);
                e.until_stopped().await;
                return;
            }
            if now.saturating_sub(started) >= STABLE_AFTER {
                backoff.reset();
            }
            let wait = backoff.failed();
            warn!(
                retry_in_ms = wait.as_millis() as u64,
                "ffmpeg ended ({ended}), restarting"
            );
            e.update(|s| {
                s.state = ProcessState::Restarting;
                s.restarts = s.restarts.saturating_add(1);
            });
            self.restarts.fetch_add(1, Ordering::Relaxed);
            let _ = select(self.rt.sleep(wait), Box::pin(e.until_stopped())).await;
        }
    }
}

/// SIGTERM to the group, SIGKILL after [`STOP_GRACE`], and reap.
async fn terminate(rt: &dyn Runtime, child: &mut dyn ChildProcess, pid: u32) {
    if let Err(err) = child.signal(StopSignal::Terminate) {
        warn!(pid, "ffmpeg: SIGTERM failed: {err}");
    }
    if let Some(result) = crate::runtime::timeout(rt, STOP_GRACE, child.wait()).await {
        info!(pid, "ffmpeg stopped ({})", describe(result));
        return;
    }
    warn!(pid, "ffmpeg ignored SIGTERM for {STOP_GRACE:?}: SIGKILL");
    if let Err(err) = child.signal(StopSignal::Kill) {
        warn!(pid, "ffmpeg: SIGKILL failed: {err}");
    }
    match crate::runtime::timeout(rt, REAP_WAIT, child.wait()).await {
        Some(result) => info!(pid, "ffmpeg killed ({})", describe(result)),
        None => error!(pid, "ffmpeg not reaped {REAP_WAIT:?} after SIGKILL"),
    }
}

fn describe(result: std::io::Result<crate::process::ExitInfo>) -> String {
    match result {
        Ok(exit) => exit.to_string(),
        Err(e) => e.to_string(),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
