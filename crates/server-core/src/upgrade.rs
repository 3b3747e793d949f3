//! Binary upgrade on SIGUSR2, as nginx does it: the running process starts
//! a new one from the same binary path, handing it its listening sockets as
//! inherited file descriptors; the new one adopts them and serves new
//! connections while the old one stops accepting, drains its own clients
//! (a graceful quit, with Enhanced RTMP reconnect requests) and exits.
//! SRS's `SRS_SIGNAL_UPGRADE` is a stub; MediaMTX has nothing like it.
//!
//! The hand-over, step by step:
//! 1. the old process duplicates each listener's socket, clears close-on-exec
//!    on the duplicates, and names them in [`ENV`]: its own pid, then for
//!    each socket its fd number, kind, configured and bound address
//!    (`ppid=1234;7,rtmp,0.0.0.0:1935,0.0.0.0:1935;...`), as nginx's `NGINX`
//!    variable and systemd's `LISTEN_FDS`/`LISTEN_PID` do;
//! 2. it renames its pid file to `PID.oldbin` (nginx's name) and starts the
//!    binary at the path it was started from, with its own arguments;
//! 3. the new process checks the variable is meant for it (its parent's pid),
//!    takes each fd once ([`adopt_inherited`]), and binds nothing a socket
//!    was handed over for: the listener of the same kind and configured
//!    address is adopted through [`Runtime::adopt_listener`](crate::runtime::Runtime::adopt_listener);
//! 4. it writes the pid file; the old process, seeing its pid there while it
//!    runs, stops accepting and drains. If the new process exits or does not
//!    write the pid file within [`START_WAIT`], the old one renames its pid
//!    file back, logs why, and serves on.
//!
//! Kernel note: while both processes hold a listening socket, either may
//! accept a connection; the old one stops accepting as soon as the new one
//! is up, so the window is the new process's start-up only, and nothing
//! accepted in it is lost (the old process serves what it accepted).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tracing::{info, warn};

use crate::runtime::{Listener, Runtime};
use crate::settings::ListenerKind;

/// The environment variable that names the inherited sockets.
pub const ENV: &str = "RTMP_SERVER_INHERIT";
/// How long the old process waits for the new one to write its pid.
pub const START_WAIT: Duration = Duration::from_secs(10);
/// Once the new pid is in the pid file, how long the new process must stay
/// up before the old one lets go (a start that fails after writing it, on
/// a listener that cannot be adopted, fails within this).
const SETTLE: Duration = Duration::from_millis(500);
/// Most sockets one hand-over names (a config has a handful).
const MAX_INHERITED: usize = 256;
/// Longest [`ENV`] value read.
const MAX_ENV_BYTES: usize = 64 * 1024;

/// A socket handed over by the previous process, not yet adopted.
#[derive(Debug)]
struct Inherited {
    kind: String,
    configured: SocketAddr,
    listener: std::net::TcpListener,
}

/// Sockets inherited at start, taken one by one as the listeners start.
fn pool() -> &'static Mutex<Vec<Inherited>> {
    static POOL: OnceLock<Mutex<Vec<Inherited>>> = OnceLock::new();
    POOL.get_or_init(Mutex::default)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The binary's path as it was at start: after an upgrade replaced the file
/// there, `/proc/self/exe` names the deleted old one, so the path is taken
/// once, early, and the file at it is the one started on SIGUSR2.
fn exe_path() -> &'static Option<PathBuf> {
    static EXE: OnceLock<Option<PathBuf>> = OnceLock::new();
    EXE.get_or_init(|| {
        let exe = std::env::current_exe().ok()?;
        let text = exe.to_string_lossy();
        Some(match text.strip_suffix(" (deleted)") {
            Some(path) => PathBuf::from(path),
            None => exe,
        })
    })
}

/// One entry of [`ENV`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handed {
    /// The fd number in the new process (inherited as is).
    pub fd: RawFd,
    /// The listener's kind (`crate::reload::kind_name`).
    pub kind: String,
    /// Its address as configured (port 0 stays 0).
    pub configured: SocketAddr,
    /// The address bound.
    pub local: SocketAddr,
}

/// Why [`ENV`] was not taken.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvError {
    /// Not of the form this module writes.
    #[error("malformed {ENV}: {0}")]
    Malformed(&'static str),
    /// Written by another process than our parent: not ours to take.
    #[error("{ENV} names parent {named}, ours is {parent}: ignored")]
    NotOurs {
        /// The pid the variable names.
        named: u32,
        /// Our parent's.
        parent: u32,
    },
}

/// Writes [`ENV`]'s value.
pub fn encode(ppid: u32, handed: &[Handed]) -> String {
    let mut out = format!("ppid={ppid}");
    for h in handed {
        out.push_str(&format!(
            ";{},{},{},{}",
            h.fd, h.kind, h.configured, h.local
        ));
    }
    out
}

/// Reads [`ENV`]'s value, checking it was written by `parent` (a variable
/// left in the environment by hand, or passed through a child, must not
/// make us take fds that are not ours). Duplicate and standard fds are
/// refused.
pub fn decode(text: &str, parent: u32) -> Result<Vec<Handed>, EnvError> {
    if text.len() > MAX_ENV_BYTES {
        return Err(EnvError::Malformed("too long"));
    }
    let mut parts = text.split(';');
    let named = parts
        .next()
        .and_then(|p| p.strip_prefix("ppid="))
        .and_then(|p| p.parse::<u32>().ok())
        .ok_or(EnvError::Malformed("no ppid"))?;
    if named != parent {
        return Err(EnvError::NotOurs { named, parent });
    }
    let mut out: Vec<Handed> = Vec::new();
    for part in parts {
        if out.len() >= MAX_INHERITED {
            return Err(EnvError::Malformed("too many sockets"));
        }
        let mut f = part.split(',');
        let (Some(fd), Some(kind), Some(configured), Some(local), None) =
            (f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            return Err(EnvError::Malformed(
                "an entry is not fd,kind,configured,local",
            ));
        };
        let fd: RawFd = fd.parse().map_err(|_| EnvError::Malformed("fd"))?;
        if fd <= 2 || out.iter().any(|h| h.fd == fd) {
            return Err(EnvError::Malformed("a standard or repeated fd"));
        }
        out.push(Handed {
            fd,
            kind: kind.to_owned(),
            configured: configured
                .parse()
                .map_err(|_| EnvError::Malformed("configured address"))?,
            local: local
                .parse()
                .map_err(|_| EnvError::Malformed("local address"))?,
        });
    }
    Ok(out)
}

/// At start, before anything else opens files: takes the sockets the
/// previous process handed over ([`ENV`]), each fd once, through `take`
/// (the binary's: making a listener of an fd number is the one unsafe step,
/// kept out of this crate, and sound because the variable names fds our
/// parent left open for us alone). A socket whose bound address is not the
/// one named is closed. Removes [`ENV`] so no child of ours sees it. Logs
/// nothing (logging is not set up yet): the outcome is returned.
pub fn adopt_inherited(take: impl Fn(RawFd) -> std::net::TcpListener) -> Result<usize, EnvError> {
    let outcome = adopt(take);
    let _ = ADOPTED.set(match &outcome {
        Ok(0) => None,
        Ok(n) => Some(format!(
            "upgrade: took over {n} listening sockets from the previous process"
        )),
        Err(e) => Some(format!("upgrade: {e}")),
    });
    outcome
}

/// What [`adopt_inherited`] did, for the log once it is set up.
static ADOPTED: OnceLock<Option<String>> = OnceLock::new();

/// Logs what [`adopt_inherited`] did, if anything.
pub(crate) fn log_adoption() {
    if let Some(Some(line)) = ADOPTED.get() {
        info!("{line}");
    }
}

fn adopt(take: impl Fn(RawFd) -> std::net::TcpListener) -> Result<usize, EnvError> {
    let _ = exe_path();
    let Some(text) = std::env::var_os(ENV) else {
        return Ok(0);
    };
    std::env::remove_var(ENV);
    let text = text.to_string_lossy().into_owned();
    let parent = rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get() as u32);
    let handed = decode(&text, parent)?;
    let mut pool = lock(pool());
    for h in handed {
        let listener = take(h.fd);
        match listener.local_addr() {
            Ok(local) if local == h.local => pool.push(Inherited {
                kind: h.kind,
                configured: h.configured,
                listener,
            }),
            // Not the socket named: closed by the drop.
            _ => {}
        }
    }
    Ok(pool.len())
}

/// Notes the binary's path before anything can replace it (binaries that
/// call [`adopt_inherited`] need not).
pub fn remember_exe() {
    let _ = exe_path();
}

/// The inherited socket for the listener of `kind` configured at `addr`,
/// adopted by `rt`; `None` when none was handed over (bind instead).
pub(crate) fn take_listener(
    rt: &dyn Runtime,
    kind: ListenerKind,
    addr: SocketAddr,
) -> Option<std::io::Result<Box<dyn Listener>>> {
    let name = crate::reload::kind_name(kind);
    let inherited = {
        let mut pool = lock(pool());
        let i = pool
            .iter()
            .position(|h| h.kind == name && h.configured == addr)?;
        pool.remove(i)
    };
    let local = inherited.listener.local_addr().ok();
    info!(
        ?local,
        "{name}: adopting the listening socket handed over by the previous process"
    );
    Some(rt.adopt_listener(inherited.listener))
}

/// Closes the inherited sockets no listener took (the config changed
/// between the two processes); returns their number.
pub(crate) fn drop_unclaimed() -> usize {
    let mut pool = lock(pool());
    for h in pool.iter() {
        warn!(
            "upgrade: the previous process's {} socket on {} matches no listener here: closed",
            h.kind,
            h.listener
                .local_addr()
                .map_or_else(|_| "?".into(), |a| a.to_string())
        );
    }
    let n = pool.len();
    pool.clear();
    n
}

/// The pid file currently ours: the configured one, or `PID.oldbin` after
/// an upgrade handed the name to the new process (removed at exit).
pub fn pid_path_now(configured: &Path) -> PathBuf {
    lock(current_pid_path())
        .clone()
        .unwrap_or_else(|| configured.to_path_buf())
}

fn current_pid_path() -> &'static Mutex<Option<PathBuf>> {
    static PATH: OnceLock<Mutex<Option<PathBuf>>> = OnceLock::new();
    PATH.get_or_init(Mutex::default)
}

/// nginx's name for the old process's pid file during an upgrade.
pub fn oldbin_path(pid_file: &Path) -> PathBuf {
    let mut name = pid_file.as_os_str().to_owned();
    name.push(".oldbin");
    PathBuf::from(name)
}

/// A new process started by [`start`], up and serving.
#[derive(Debug)]
pub struct Upgraded {
    /// Its pid.
    pub pid: u32,
}

/// Why an upgrade did not happen; the old process serves on.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    /// The binary's path is unknown.
    #[error("the binary's path is unknown")]
    NoExe,
    /// A listener's socket could not be duplicated.
    #[error("cannot hand over the {kind} socket on {addr}: {source}")]
    Socket {
        /// Its kind.
        kind: String,
        /// Its address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The pid file could not be renamed.
    #[error("cannot rename the pid file {path}: {source}")]
    PidFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The new process could not be started.
    #[error("cannot start {exe}: {source}")]
    Spawn {
        /// The binary.
        exe: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The new process ended before it served.
    #[error("the new process {pid} exited ({status}) before serving; see its log lines")]
    Exited {
        /// Its pid.
        pid: u32,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
    /// The new process did not write the pid file in time.
    #[error("the new process {pid} did not write the pid file within {} s; stopped", START_WAIT.as_secs())]
    Timeout {
        /// Its pid.
        pid: u32,
    },
}

/// The sockets to hand over: every listener running now (kind, configured
/// and bound address, listener).
pub type Handoff = Vec<(ListenerKind, SocketAddr, SocketAddr, Arc<dyn Listener>)>;

/// Starts the new process on `handoff`'s sockets and waits until it serves
/// (its pid in `pid_file`), or fails: then the pid file is renamed back and
/// the new process, if still running, stopped (SIGKILL, by its pid).
pub(crate) async fn start(
    rt: &dyn Runtime,
    handoff: Handoff,
    pid_file: &Path,
) -> Result<Upgraded, UpgradeError> {
    let exe = exe_path().clone().ok_or(UpgradeError::NoExe)?;
    // Duplicates with close-on-exec cleared: the child inherits them under
    // the same numbers. Dropped once it is started.
    let mut dups = Vec::new();
    let mut handed = Vec::new();
    for (kind, configured, local, listener) in handoff {
        let kind_name = crate::reload::kind_name(kind);
        let fail = |source| UpgradeError::Socket {
            kind: kind_name.to_owned(),
            addr: local,
            source,
        };
        let dup = listener.try_clone_std().map_err(fail)?;
        rustix::io::fcntl_setfd(&dup, rustix::io::FdFlags::empty()).map_err(|e| fail(e.into()))?;
        handed.push(Handed {
            fd: dup.as_raw_fd(),
            kind: kind_name.to_owned(),
            configured,
            local,
        });
        dups.push(dup);
    }
    let pid_file_set = !pid_file.as_os_str().is_empty();
    let oldbin = oldbin_path(pid_file);
    if pid_file_set {
        std::fs::rename(pid_file, &oldbin).map_err(|source| UpgradeError::PidFile {
            path: pid_file.to_path_buf(),
            source,
        })?;
        *lock(current_pid_path()) = Some(oldbin.clone());
    }
    let restore = || {
        if pid_file_set {
            match std::fs::rename(&oldbin, pid_file) {
                Ok(()) => *lock(current_pid_path()) = None,
                Err(e) => warn!(
                    "upgrade: cannot rename {} back to {}: {e}",
                    oldbin.display(),
                    pid_file.display()
                ),
            }
        }
    };
    let spawned = Command::new(&exe)
        .args(std::env::args_os().skip(1))
        .env(ENV, encode(std::process::id(), &handed))
        .stdin(Stdio::null())
        .spawn();
    drop(dups);
    let mut child = match spawned {
        Ok(c) => c,
        Err(source) => {
            restore();
            return Err(UpgradeError::Spawn { exe, source });
        }
    };
    let pid = child.id();
    info!(
        "upgrade: started {} as pid {pid} with {} listening sockets",
        exe.display(),
        handed.len()
    );
    match wait_until_serving(rt, &mut child, pid_file, pid_file_set).await {
        Ok(()) => Ok(Upgraded { pid }),
        Err(e) => {
            if matches!(e, UpgradeError::Timeout { .. }) {
                let _ = child.kill();
                let _ = child.wait();
            }
            restore();
            Err(e)
        }
    }
}

/// Waits for the new process to write its pid and stay up [`SETTLE`]; with
/// no pid file configured, only the settling.
async fn wait_until_serving(
    rt: &dyn Runtime,
    child: &mut Child,
    pid_file: &Path,
    pid_file_set: bool,
) -> Result<(), UpgradeError> {
    let pid = child.id();
    let start = rt.now();
    let poll = Duration::from_millis(50);
    let mut written_at = None;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(UpgradeError::Exited { pid, status });
        }
        let now = rt.now();
        let written = !pid_file_set
            || std::fs::read_to_string(pid_file)
                .is_ok_and(|t| t.trim().parse::<u32>().ok() == Some(pid));
        if written {
            let since = *written_at.get_or_insert(now);
            if now.saturating_sub(since) >= SETTLE {
                return Ok(());
            }
        } else if now.saturating_sub(start) >= START_WAIT {
            return Err(UpgradeError::Timeout { pid });
        }
        rt.sleep(poll).await;
    }
}

/// Counts entries by kind, for the log.
pub(crate) fn describe(handoff: &Handoff) -> String {
    let mut by_kind: HashMap<&str, usize> = HashMap::new();
    for (kind, ..) in handoff {
        *by_kind.entry(crate::reload::kind_name(*kind)).or_default() += 1;
    }
    let mut parts: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    parts.sort();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(fd: RawFd, port: u16) -> Handed {
        Handed {
            fd,
            kind: "http server".into(),
            configured: "127.0.0.1:0".parse().unwrap(),
            local: format!("127.0.0.1:{port}").parse().unwrap(),
        }
    }

    #[test]
    fn the_variable_round_trips_for_our_parent_only() {
        let handed = vec![h(7, 1935), h(9, 8080)];
        let text = encode(42, &handed);
        assert_eq!(decode(&text, 42), Ok(handed));
        assert_eq!(
            decode(&text, 43),
            Err(EnvError::NotOurs {
                named: 42,
                parent: 43
            })
        );
        assert_eq!(decode("ppid=42", 42), Ok(vec![]));
    }

    #[test]
    fn hostile_values_are_refused() {
        for bad in [
            "",
            "7,rtmp,1.2.3.4:1,1.2.3.4:1",
            "ppid=x",
            "ppid=42;7,rtmp,1.2.3.4:1",
            "ppid=42;7,rtmp,1.2.3.4:1,1.2.3.4:1,extra",
            "ppid=42;x,rtmp,1.2.3.4:1,1.2.3.4:1",
            "ppid=42;1,rtmp,1.2.3.4:1,1.2.3.4:1",
            "ppid=42;7,rtmp,1.2.3.4:1,1.2.3.4:1;7,rtmp,1.2.3.4:2,1.2.3.4:2",
            "ppid=42;7,rtmp,nowhere,1.2.3.4:1",
        ] {
            assert!(
                matches!(decode(bad, 42), Err(EnvError::Malformed(_))),
                "{bad:?} accepted"
            );
        }
        let many: String = (0..=MAX_INHERITED)
            .map(|i| format!(";{},rtmp,1.2.3.4:1,1.2.3.4:1", i + 3))
            .collect();
        assert!(decode(&format!("ppid=42{many}"), 42).is_err());
        assert!(decode(&"x".repeat(MAX_ENV_BYTES + 1), 42).is_err());
    }

    #[test]
    fn oldbin_is_nginx_s_name() {
        assert_eq!(
            oldbin_path(Path::new("/run/srs.pid")),
            PathBuf::from("/run/srs.pid.oldbin")
        );
    }
}
