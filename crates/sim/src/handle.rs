//! Handles on a running simulation: [`SimHandle`] for the world, [`Host`] for one machine.
//!
//! Both are cheap `Clone + Send + Sync` values a task can keep; the [`crate::Sim`]
//! that drives the executor derefs to a [`SimHandle`].

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{select, Either};

use crate::clock::Sleep;
use crate::executor::{complete, Executor, JoinHandle, JoinState};
use crate::fs::MemFs;
use crate::net::{LinkConfig, NetEnv, Network, SimConn, SimListener};
use crate::transcript::TranscriptHash;

/// Everything a simulation shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) seed: u64,
    pub(crate) exec: Arc<Executor>,
    pub(crate) env: NetEnv,
    pub(crate) net: Arc<Network>,
    pub(crate) fs: Arc<MemFs>,
}

/// A handle on a simulation, usable from inside its tasks.
#[derive(Debug, Clone)]
pub struct SimHandle {
    pub(crate) shared: Arc<Shared>,
}

impl SimHandle {
    /// The seed every random choice derives from.
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// Virtual time since the simulation started.
    pub fn now(&self) -> Duration {
        self.shared.env.clock.now()
    }

    /// Completes after `duration` of virtual time.
    pub fn sleep(&self, duration: Duration) -> Sleep {
        self.sleep_until(self.now().saturating_add(duration))
    }

    /// Completes once virtual time reaches `deadline`.
    pub fn sleep_until(&self, deadline: Duration) -> Sleep {
        Sleep::until(self.shared.env.clock.clone(), deadline)
    }

    /// Runs `future`, giving up with `None` after `duration` of virtual time.
    pub async fn timeout<F: Future>(&self, duration: Duration, future: F) -> Option<F::Output> {
        let future = std::pin::pin!(future);
        match select(future, self.sleep(duration)).await {
            Either::Left((v, _)) => Some(v),
            Either::Right(((), _)) => None,
        }
    }

    /// Spawns a task; it first runs when the simulation is next driven.
    pub fn spawn<F, T>(&self, future: F) -> JoinHandle<T>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let state = JoinState::new();
        let done = state.clone();
        let id = self.shared.exec.spawn(Box::pin(async move {
            let value = future.await;
            complete(&done, value);
        }));
        JoinHandle {
            id,
            state,
            exec: self.shared.exec.clone(),
        }
    }

    /// Spawns an already boxed task (the runtime trait's currency).
    pub(crate) fn spawn_boxed(&self, future: crate::executor::Task) {
        self.shared.exec.spawn(future);
    }

    /// The machine at `ip`. Hosts need no creation: any address is one.
    pub fn host(&self, ip: impl Into<IpAddr>) -> Host {
        Host {
            sim: self.clone(),
            ip: ip.into(),
        }
    }

    /// The shared in-memory file system.
    pub fn fs(&self) -> Arc<MemFs> {
        self.shared.fs.clone()
    }

    /// 64 seeded random bits.
    pub fn random_u64(&self) -> u64 {
        self.shared.env.rng.u64()
    }

    /// Fills `buf` with seeded random bytes.
    pub fn fill_random(&self, buf: &mut [u8]) {
        self.shared.env.rng.fill(buf);
    }

    /// Sets the link used where no more specific config applies.
    pub fn set_default_link(&self, cfg: LinkConfig) {
        self.shared.net.set_default_link(cfg);
    }

    /// Sets the link between hosts `a` and `b` (both directions).
    pub fn set_link(&self, a: impl Into<IpAddr>, b: impl Into<IpAddr>, cfg: LinkConfig) {
        self.shared.net.set_pair_link(a.into(), b.into(), cfg);
    }

    /// Sets the link of every connection made to listener `addr` (overrides host pairs).
    pub fn set_listener_link(&self, addr: SocketAddr, cfg: LinkConfig) {
        self.shared.net.set_listener_link(addr, cfg);
    }

    /// Hash of everything delivered so far, with timing and segmentation.
    pub fn transcript_hash(&self) -> TranscriptHash {
        self.transcript(|t| t.hash())
    }

    /// Hash of each connection's delivered byte stream, timing and segmentation ignored.
    pub fn content_hash(&self) -> TranscriptHash {
        self.transcript(|t| t.content_hash())
    }

    /// Turns transcript hashing on (default) or off (long benchmarks).
    pub fn set_transcript(&self, on: bool) {
        self.transcript(|t| t.set_enabled(on));
    }

    fn transcript<R>(&self, f: impl FnOnce(&mut crate::transcript::Transcript) -> R) -> R {
        let mut t = self
            .shared
            .env
            .transcript
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        f(&mut t)
    }

    /// Counters describing the run so far.
    pub fn stats(&self) -> SimStats {
        let clock = &self.shared.env.clock;
        let (events, bytes) = self.transcript(|t| (t.events(), t.bytes()));
        SimStats {
            now: clock.now(),
            polls: self.shared.exec.polls(),
            timers_fired: clock.fired(),
            timers_pending: clock.pending(),
            tasks: self.shared.exec.live(),
            connections: self.shared.net.connections(),
            bytes_delivered: bytes,
            transcript_events: events,
        }
    }
}

/// Counters of a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimStats {
    /// Virtual time.
    pub now: Duration,
    /// Task polls so far.
    pub polls: u64,
    /// Timers fired so far.
    pub timers_fired: u64,
    /// Timers waiting.
    pub timers_pending: usize,
    /// Live tasks.
    pub tasks: usize,
    /// Connections opened.
    pub connections: u64,
    /// Bytes read over all connections.
    pub bytes_delivered: u64,
    /// Events hashed into the transcript.
    pub transcript_events: u64,
}

/// One simulated machine, identified by its IP address.
///
/// Binding `0.0.0.0`/`127.0.0.1` binds this host's address; connecting to a
/// loopback address connects to this host.
#[derive(Debug, Clone)]
pub struct Host {
    sim: SimHandle,
    ip: IpAddr,
}

impl Host {
    /// This host's address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The simulation this host belongs to.
    pub fn sim(&self) -> &SimHandle {
        &self.sim
    }

    /// Listens on `addr` (port 0 picks a free port).
    pub fn bind(&self, addr: SocketAddr) -> io::Result<SimListener> {
        self.sim.shared.net.bind(self.ip, addr)
    }

    /// Connects to `addr`; `ConnectionRefused` if nobody listens there.
    pub fn connect(
        &self,
        addr: SocketAddr,
    ) -> impl Future<Output = io::Result<SimConn>> + Send + 'static {
        self.sim.shared.net.clone().connect(self.ip, addr)
    }
}

/// Makes a simulation's shared parts.
pub(crate) fn new_shared(seed: u64) -> Arc<Shared> {
    let env = NetEnv {
        clock: crate::clock::Clock::default(),
        rng: crate::rng::SimRng::new(seed),
        transcript: Arc::new(Mutex::new(crate::transcript::Transcript::default())),
    };
    Arc::new(Shared {
        seed,
        exec: Arc::new(Executor::default()),
        net: Network::new(env.clone()),
        fs: Arc::new(MemFs::recorded(env.clock.clone(), env.transcript.clone())),
        env,
    })
}
