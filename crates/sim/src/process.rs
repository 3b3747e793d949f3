//! Scripted child processes: what `spawn_process` runs in the simulator.
//!
//! A test tells [`FakeProcesses`] how each spawn of a program behaves, one
//! [`FakeLife`] per spawn (the last one repeats), and reads back what was
//! spawned, when, with which arguments, and which signals it got. Nothing
//! runs for real and every wait is on the virtual clock, so supervision
//! (restarts, backoff, dead-loop parking, stops) is checked exactly.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use server_core::process::{ChildProcess, ExitInfo, ProcessSpec, StopSignal};
use server_core::runtime::BoxFuture;

use crate::handle::SimHandle;

/// `SIGTERM`'s number, as a fake killed by it reports.
pub const SIGTERM: i32 = 15;
/// `SIGKILL`'s number.
pub const SIGKILL: i32 = 9;

/// What one spawn of a fake program does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeLife {
    /// Runs until signalled. `SIGTERM` ends it unless `ignores_term` (then
    /// only `SIGKILL` does).
    UntilKilled {
        /// Whether it survives `SIGTERM`.
        ignores_term: bool,
    },
    /// Exits by itself with `code` after running `after` (unless signalled first).
    ExitsAfter {
        /// How long it runs.
        after: Duration,
        /// Its exit code.
        code: i32,
    },
    /// The spawn itself fails (as for a missing program).
    FailsToStart,
}

/// One spawn, as [`FakeProcesses::spawns`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnRecord {
    /// The fake pid (0 when the spawn failed).
    pub pid: u32,
    /// Virtual time of the spawn.
    pub at: Duration,
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

/// The fake process table of one simulation.
#[derive(Debug)]
pub struct FakeProcesses {
    sim: SimHandle,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    scripts: HashMap<PathBuf, VecDeque<FakeLife>>,
    next_pid: u32,
    spawns: Vec<SpawnRecord>,
    children: Vec<Arc<FakeState>>,
}

#[derive(Debug)]
struct FakeState {
    pid: u32,
    inner: Mutex<StateInner>,
}

#[derive(Debug, Default)]
struct StateInner {
    exit: Option<ExitInfo>,
    signals: Vec<StopSignal>,
    waker: Option<Waker>,
}

impl FakeState {
    fn end(&self, exit: ExitInfo) {
        let mut s = lock(&self.inner);
        if s.exit.is_none() {
            s.exit = Some(exit);
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        }
    }
}

impl FakeProcesses {
    /// An empty table on `sim`'s clock. Programs without a script run
    /// until killed.
    pub fn new(sim: &SimHandle) -> Arc<Self> {
        Arc::new(Self {
            sim: sim.clone(),
            inner: Mutex::new(Inner {
                next_pid: 1000,
                ..Inner::default()
            }),
        })
    }

    /// The lives of `program`'s next spawns, in order; the last repeats.
    pub fn script(&self, program: impl Into<PathBuf>, lives: Vec<FakeLife>) {
        lock(&self.inner)
            .scripts
            .insert(program.into(), lives.into_iter().collect());
    }

    /// Every spawn so far, in order.
    pub fn spawns(&self) -> Vec<SpawnRecord> {
        lock(&self.inner).spawns.clone()
    }

    /// Pids of the fakes still running.
    pub fn running(&self) -> Vec<u32> {
        lock(&self.inner)
            .children
            .iter()
            .filter(|c| lock(&c.inner).exit.is_none())
            .map(|c| c.pid)
            .collect()
    }

    /// The signals fake `pid` got, in order.
    pub fn signals(&self, pid: u32) -> Vec<StopSignal> {
        lock(&self.inner)
            .children
            .iter()
            .find(|c| c.pid == pid)
            .map(|c| lock(&c.inner).signals.clone())
            .unwrap_or_default()
    }

    /// Starts a fake for `spec` (what `SimRuntime::spawn_process` does).
    pub fn spawn(&self, spec: &ProcessSpec) -> io::Result<Box<dyn ChildProcess>> {
        let mut inner = lock(&self.inner);
        let life = match inner.scripts.get_mut(&spec.program) {
            Some(lives) if lives.len() > 1 => lives.pop_front(),
            Some(lives) => lives.front().cloned(),
            None => None,
        }
        .unwrap_or(FakeLife::UntilKilled {
            ignores_term: false,
        });
        let at = self.sim.now();
        if life == FakeLife::FailsToStart {
            inner.spawns.push(SpawnRecord {
                pid: 0,
                at,
                program: spec.program.clone(),
                args: spec.args.clone(),
            });
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no such program (scripted)", spec.program.display()),
            ));
        }
        inner.next_pid += 1;
        let pid = inner.next_pid;
        inner.spawns.push(SpawnRecord {
            pid,
            at,
            program: spec.program.clone(),
            args: spec.args.clone(),
        });
        let state = Arc::new(FakeState {
            pid,
            inner: Mutex::new(StateInner::default()),
        });
        inner.children.push(state.clone());
        Ok(Box::new(FakeChild {
            sim: self.sim.clone(),
            state,
            life,
            started: at,
        }))
    }
}

struct FakeChild {
    sim: SimHandle,
    state: Arc<FakeState>,
    life: FakeLife,
    started: Duration,
}

/// Completes when the fake has ended.
struct Ended<'a>(&'a FakeState);

impl Future for Ended<'_> {
    type Output = ExitInfo;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ExitInfo> {
        let mut s = lock(&self.0.inner);
        match s.exit {
            Some(exit) => Poll::Ready(exit),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl ChildProcess for FakeChild {
    fn id(&self) -> u32 {
        self.state.pid
    }

    fn stderr_line(&mut self) -> BoxFuture<'_, io::Result<Option<String>>> {
        Box::pin(std::future::ready(Ok(None)))
    }

    fn wait(&mut self) -> BoxFuture<'_, io::Result<ExitInfo>> {
        Box::pin(async move {
            if let FakeLife::ExitsAfter { after, code } = self.life {
                let deadline = self.started.saturating_add(after);
                let sleep = Box::pin(self.sim.sleep_until(deadline));
                let ended = Box::pin(Ended(&self.state));
                match futures_util::future::select(sleep, ended).await {
                    futures_util::future::Either::Left(_) => self.state.end(ExitInfo {
                        code: Some(code),
                        signal: None,
                    }),
                    futures_util::future::Either::Right(_) => {}
                }
            }
            Ok(Ended(&self.state).await)
        })
    }

    fn signal(&mut self, signal: StopSignal) -> io::Result<()> {
        lock(&self.state.inner).signals.push(signal);
        let ends = match (signal, &self.life) {
            (StopSignal::Kill, _) => Some(SIGKILL),
            (StopSignal::Terminate, FakeLife::UntilKilled { ignores_term: true }) => None,
            (StopSignal::Terminate, _) => Some(SIGTERM),
        };
        if let Some(sig) = ends {
            self.state.end(ExitInfo {
                code: None,
                signal: Some(sig),
            });
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
