//! The address table: listeners, ephemeral ports, and which link config applies where.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

use super::conn::{ConnPair, SimConn};
use super::link::LinkConfig;
use super::listener::SimListener;
use super::NetEnv;
use crate::clock::Sleep;

/// Connections a listener queues before refusing more (Linux `somaxconn` order).
pub const MAX_BACKLOG: usize = 4096;

/// Ports handed out for port 0 and for outgoing connections (IANA dynamic range).
pub const EPHEMERAL_PORTS: RangeInclusive<u16> = 49152..=65535;

/// State of one bound listener, shared with its [`SimListener`].
#[derive(Debug, Default)]
pub(crate) struct ListenerState {
    pub(crate) backlog: VecDeque<(SimConn, SocketAddr)>,
    pub(crate) waker: Option<Waker>,
    pub(crate) open: bool,
}

#[derive(Debug)]
struct Table {
    listeners: BTreeMap<SocketAddr, Arc<Mutex<ListenerState>>>,
    next_port: BTreeMap<IpAddr, u16>,
    default_link: LinkConfig,
    pair_links: BTreeMap<(IpAddr, IpAddr), LinkConfig>,
    listener_links: BTreeMap<SocketAddr, LinkConfig>,
    next_conn: u64,
}

/// Every host's sockets.
#[derive(Debug)]
pub(crate) struct Network {
    table: Mutex<Table>,
    pub(crate) env: NetEnv,
}

fn lock_listener(l: &Mutex<ListenerState>) -> MutexGuard<'_, ListenerState> {
    l.lock().unwrap_or_else(|e| e.into_inner())
}

/// Loopback and unspecified addresses mean "this host".
fn resolve(addr: SocketAddr, host: IpAddr) -> SocketAddr {
    let ip = addr.ip();
    if ip.is_loopback() || ip.is_unspecified() {
        SocketAddr::new(host, addr.port())
    } else {
        addr
    }
}

fn pair_key(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl Table {
    fn ephemeral(&mut self, ip: IpAddr) -> u16 {
        let start = *EPHEMERAL_PORTS.start();
        let next = self.next_port.entry(ip).or_insert(start);
        let port = *next;
        *next = if port >= *EPHEMERAL_PORTS.end() {
            start
        } else {
            port + 1
        };
        port
    }

    fn link_for(&self, from: IpAddr, to: SocketAddr) -> LinkConfig {
        self.listener_links
            .get(&to)
            .or_else(|| self.pair_links.get(&pair_key(from, to.ip())))
            .unwrap_or(&self.default_link)
            .sanitized()
    }
}

impl Network {
    pub(crate) fn new(env: NetEnv) -> Arc<Self> {
        Arc::new(Self {
            table: Mutex::new(Table {
                listeners: BTreeMap::new(),
                next_port: BTreeMap::new(),
                default_link: LinkConfig::default(),
                pair_links: BTreeMap::new(),
                listener_links: BTreeMap::new(),
                next_conn: 0,
            }),
            env,
        })
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_default_link(&self, cfg: LinkConfig) {
        self.table().default_link = cfg;
    }

    pub(crate) fn set_pair_link(&self, a: IpAddr, b: IpAddr, cfg: LinkConfig) {
        self.table().pair_links.insert(pair_key(a, b), cfg);
    }

    pub(crate) fn set_listener_link(&self, addr: SocketAddr, cfg: LinkConfig) {
        self.table().listener_links.insert(addr, cfg);
    }

    /// Connections opened so far.
    pub(crate) fn connections(&self) -> u64 {
        self.table().next_conn
    }

    /// Binds `addr` on `host` (port 0 picks an ephemeral port).
    pub(crate) fn bind(
        self: &Arc<Self>,
        host: IpAddr,
        addr: SocketAddr,
    ) -> io::Result<SimListener> {
        let mut addr = resolve(addr, host);
        let mut table = self.table();
        if addr.port() == 0 {
            let tries = usize::from(EPHEMERAL_PORTS.end() - EPHEMERAL_PORTS.start()) + 1;
            let mut free = None;
            for _ in 0..tries {
                let port = table.ephemeral(addr.ip());
                if !table
                    .listeners
                    .contains_key(&SocketAddr::new(addr.ip(), port))
                {
                    free = Some(port);
                    break;
                }
            }
            let free =
                free.ok_or_else(|| io::Error::new(io::ErrorKind::AddrInUse, "no free port"))?;
            addr.set_port(free);
        }
        if table.listeners.contains_key(&addr) {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{addr} in use"),
            ));
        }
        let state = Arc::new(Mutex::new(ListenerState {
            open: true,
            ..ListenerState::default()
        }));
        table.listeners.insert(addr, state.clone());
        Ok(SimListener::new(self.clone(), addr, state))
    }

    /// Removes a listener and returns what was queued on it.
    pub(crate) fn unbind(&self, addr: SocketAddr) {
        let state = self.table().listeners.remove(&addr);
        if let Some(state) = state {
            let backlog = {
                let mut s = lock_listener(&state);
                s.open = false;
                std::mem::take(&mut s.backlog)
            };
            // Queued connections drop here, outside every lock: their peers see a close.
            drop(backlog);
        }
    }

    /// Opens a connection from `host` to `to`: one latency for the SYN, one for the SYN-ACK.
    pub(crate) async fn connect(
        self: Arc<Self>,
        host: IpAddr,
        to: SocketAddr,
    ) -> io::Result<SimConn> {
        let to = resolve(to, host);
        let cfg = self.table().link_for(host, to);
        let clock = self.env.clock.clone();
        Sleep::until(clock.clone(), clock.now().saturating_add(cfg.latency)).await;
        let accepted = {
            let mut table = self.table();
            match table.listeners.get(&to).cloned() {
                None => None,
                Some(listener) => {
                    table.next_conn += 1;
                    let id = table.next_conn;
                    let local = SocketAddr::new(host, table.ephemeral(host));
                    Some((listener, id, local))
                }
            }
        };
        let refused = || io::Error::new(io::ErrorKind::ConnectionRefused, format!("{to} refused"));
        let Some((listener, id, local)) = accepted else {
            Sleep::until(clock.clone(), clock.now().saturating_add(cfg.latency)).await;
            return Err(refused());
        };
        let pair = ConnPair::new(cfg.clone());
        let client = SimConn::new(pair.clone(), 0, self.env.clone(), id, local, to);
        let server = SimConn::new(pair, 1, self.env.clone(), id, to, local);
        let waker = {
            let mut l = lock_listener(&listener);
            if !l.open || l.backlog.len() >= MAX_BACKLOG {
                None
            } else {
                l.backlog.push_back((server, local));
                Some(l.waker.take())
            }
        };
        let Some(waker) = waker else {
            Sleep::until(clock.clone(), clock.now().saturating_add(cfg.latency)).await;
            return Err(refused());
        };
        if let Some(w) = waker {
            w.wake();
        }
        Sleep::until(clock.clone(), clock.now().saturating_add(cfg.latency)).await;
        Ok(client)
    }

    /// Drops every listener (end of simulation).
    pub(crate) fn clear(&self) {
        let addrs: Vec<SocketAddr> = self.table().listeners.keys().copied().collect();
        for addr in addrs {
            self.unbind(addr);
        }
    }
}
