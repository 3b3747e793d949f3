//! The command line and process plumbing both binaries share: arguments, config
//! loading, logging, the pid file, signals and the quit sequences.
//!
//! A binary only supplies its runtime; everything else lives here so the tokio
//! and smol builds cannot drift apart.
//!
//! Signals are the operator's interface to a running server, with the
//! meanings SRS and nginx give them (README "Operations"):
//!
//! | signal | `-s` | what it does |
//! |---|---|---|
//! | SIGHUP | `reload` | reload the config file: see [`crate::reload`] |
//! | SIGUSR1 | `reopen` | reopen the log file (logrotate) |
//! | SIGUSR2 | | binary upgrade: see [`crate::upgrade`] |
//! | SIGQUIT | `quit` | graceful quit: see [`graceful_quit`] |
//! | SIGTERM | `stop` | fast quit (graceful under `force_grace_quit on`) |
//! | SIGINT | | fast quit |
//!
//! Every other signal whose default action ends the process is caught and
//! logged instead ([`IGNORED`]); SIGPIPE stays ignored (Rust's runtime sets
//! it so: a closed peer is an `EPIPE` error on that connection). Faults
//! (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS) keep their
//! default: the process is broken and must stop with a core dump.

use std::collections::VecDeque;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use event_listener::Event;
use tracing::{error, info, warn};

use crate::config::{self, Config, LogTank};
use crate::runtime::Runtime;
use crate::server::Server;

/// How long shutdown waits for HLS sinks to close their segments.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How often a graceful quit says how many clients it still waits for.
const DRAIN_REPORT_INTERVAL: Duration = Duration::from_secs(5);
/// How often a graceful quit looks whether its clients are gone.
const DRAIN_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// `rtmp-server`: a live streaming server (RTMP in, RTMP/HLS/HTTP-FLV out).
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    /// Config file (SRS syntax). Without it the embedded default is used:
    /// RTMP on 1935, HTTP server on 8080, HTTP API on 1985.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Test the config file and exit (like `srs -t`).
    #[arg(short = 't', long = "test")]
    pub test: bool,

    /// Print the effective embedded default config and exit.
    #[arg(long = "print-default-config")]
    pub print_default_config: bool,

    /// Signal the server running with this config (the pid in its pid file),
    /// as `nginx -s`: reload (SIGHUP), reopen the log file (SIGUSR1), quit
    /// gracefully (SIGQUIT) or stop at once (SIGTERM).
    #[arg(short = 's', long = "signal", value_name = "SIGNAL", value_enum)]
    pub signal: Option<SignalCommand>,
}

/// What `rtmp-server -s` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignalCommand {
    /// SIGHUP: reload the config.
    Reload,
    /// SIGUSR1: reopen the log file.
    Reopen,
    /// SIGQUIT: graceful quit.
    Quit,
    /// SIGTERM: fast quit.
    Stop,
}

impl SignalCommand {
    fn signal(self) -> rustix::process::Signal {
        use rustix::process::Signal;
        match self {
            Self::Reload => Signal::HUP,
            Self::Reopen => Signal::USR1,
            Self::Quit => Signal::QUIT,
            Self::Stop => Signal::TERM,
        }
    }
}

/// Parses arguments and config, sets up logging and signals, then hands the
/// config to `serve`, which builds a runtime and calls [`run_server`] on it.
pub fn main(serve: impl FnOnce(Config, OperatorSignals) -> std::io::Result<()>) -> ExitCode {
    let cli = Cli::parse();
    if cli.print_default_config {
        print!("{}", config::DEFAULT_CONFIG);
        return ExitCode::SUCCESS;
    }
    let config = match &cli.config {
        Some(path) => match config::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                if cli.test {
                    eprintln!("the configuration file {} test failed", path.display());
                }
                return ExitCode::FAILURE;
            }
        },
        None => match config::load_default() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        },
    };
    if cli.test {
        let name = cli
            .config
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(embedded default)".into());
        println!("the configuration file {name} syntax is ok");
        println!("the configuration file {name} test is successful");
        return ExitCode::SUCCESS;
    }
    let _ = CONFIG_FILE.set(cli.config.clone());
    crate::upgrade::remember_exe();
    if let Some(command) = cli.signal {
        return match send_signal(&config.pid, command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(msg) => {
                eprintln!("rtmp-server: {msg}");
                ExitCode::FAILURE
            }
        };
    }
    let _log_guard = crate::logging::init(&config);
    // Before the pid file exists: once it does, `-s` may signal us.
    let signals = match OperatorSignals::install() {
        Ok(s) => s,
        Err(e) => {
            error!("cannot install signal handlers: {e}");
            eprintln!("rtmp-server: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let pid_lock = match write_pid(&config.pid) {
        Ok(lock) => lock,
        Err(PidError::Locked) => {
            let msg = format!(
                "another server holds the pid file {} (already running?)",
                config.pid.display()
            );
            error!("{msg}");
            eprintln!("rtmp-server: {msg}");
            return ExitCode::FAILURE;
        }
        Err(PidError::Io(e)) => {
            warn!("pid file {}: {e}", config.pid.display());
            None
        }
    };
    let result = serve(config.clone(), signals);
    if pid_lock.is_some() {
        // After an upgrade the configured name is the new process's: ours
        // is `PID.oldbin` (nginx's), removed as nginx's old master does.
        let _ = std::fs::remove_file(crate::upgrade::pid_path_now(&config.pid));
    }
    drop(pid_lock);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            eprintln!("rtmp-server: {e}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug)]
enum PidError {
    /// Another process holds the file's lock.
    Locked,
    Io(std::io::Error),
}

/// Writes our pid to `path` and locks it for as long as the returned file is
/// open, as SRS does: a second server started with the same config refuses
/// to start instead of running beside the first (and fighting over its
/// ports and files).
fn write_pid(path: &Path) -> Result<Option<std::fs::File>, PidError> {
    use std::io::Write;
    if path.as_os_str().is_empty() {
        return Ok(None);
    }
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(PidError::Io)?;
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(PidError::Io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(PidError::Locked),
        Err(std::fs::TryLockError::Error(e)) => return Err(PidError::Io(e)),
    }
    file.set_len(0).map_err(PidError::Io)?;
    file.write_all(format!("{}\n", std::process::id()).as_bytes())
        .map_err(PidError::Io)?;
    Ok(Some(file))
}

/// `rtmp-server -s COMMAND`: signals the pid in the config's pid file.
///
/// Unlike nginx, a pid file no server holds locked is refused rather than
/// trusted: after a crash its pid may belong to another process by now, and
/// `stop` would kill that one.
fn send_signal(pid_file: &Path, command: SignalCommand) -> Result<(), String> {
    if pid_file.as_os_str().is_empty() {
        return Err("no pid file configured (pid): cannot find the server".into());
    }
    let shown = pid_file.display();
    let file = std::fs::File::open(pid_file)
        .map_err(|e| format!("open {shown}: {e} (is the server running?)"))?;
    let text = std::fs::read_to_string(pid_file).map_err(|e| format!("read {shown}: {e}"))?;
    let pid = text
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|&p| p > 1)
        .and_then(rustix::process::Pid::from_raw)
        .ok_or_else(|| format!("invalid pid {:?} in {shown}", text.trim()))?;
    // The server holds the file locked for as long as it runs.
    match file.try_lock_shared() {
        Ok(()) => {
            return Err(format!(
                "no server holds {shown} (stale pid file?); nothing signalled"
            ))
        }
        Err(std::fs::TryLockError::WouldBlock) => {}
        // Locks unsupported here (some network file systems): trust the pid.
        Err(std::fs::TryLockError::Error(_)) => {}
    }
    drop(file);
    rustix::process::kill_process(pid, command.signal())
        .map_err(|e| format!("signal pid {} from {shown}: {e}", pid.as_raw_nonzero()))
}

/// The config file given with `-c`, which a reload reads again.
static CONFIG_FILE: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();

/// Starts the server on `rt` and serves until a quit signal, handling the
/// operator's signals meanwhile (see the module docs).
pub async fn run_server(
    rt: Arc<dyn Runtime>,
    config: Config,
    signals: OperatorSignals,
) -> std::io::Result<()> {
    crate::upgrade::log_adoption();
    let server = Server::start(rt.clone(), config)?;
    server
        .ctx()
        .reload
        .set_path(CONFIG_FILE.get().cloned().flatten());
    for (kind, addr) in server.bound() {
        let what = crate::reload::kind_name(*kind);
        info!("{what} listening on {addr}");
    }
    let quit = loop {
        let received = signals.next().await;
        // A reload may have changed `force_grace_quit` and the grace timings.
        let config = server.ctx().config();
        match received.asks(&config) {
            OperatorSignal::GracefulQuit => break QuitKind::Graceful(received),
            OperatorSignal::FastQuit => break QuitKind::Fast(received),
            OperatorSignal::Reload => reload(&server, received).await,
            OperatorSignal::Upgrade => {
                if let Some(pid) = upgrade(&server, &*rt, &config, received).await {
                    break QuitKind::Upgraded(received, pid);
                }
            }
            other => on_signal(other, received, &config),
        }
    };
    let config = server.ctx().config();
    let graceful = match quit {
        QuitKind::Fast(received) => {
            info!("{} received: fast quit", received.name);
            false
        }
        QuitKind::Graceful(received) => {
            info!("{} received: graceful quit", received.name);
            graceful_quit(&server, &*rt, &config, &signals, true).await
        }
        QuitKind::Upgraded(received, pid) => {
            info!(
                "{}: the new process {pid} serves new clients; this one stops accepting and drains its own",
                received.name
            );
            graceful_quit(&server, &*rt, &config, &signals, false).await
        }
    };
    info!("shutting down: closing HLS segments");
    server.shutdown(SHUTDOWN_GRACE).await;
    let wait = config.grace_final_wait;
    if graceful && !wait.is_zero() && while_handling(&signals, &config, rt.sleep(wait)).await {
        info!("final wait of {} ms done", wait.as_millis());
    }
    info!("bye");
    Ok(())
}

#[derive(Debug)]
enum QuitKind {
    Fast(Received),
    Graceful(Received),
    /// A binary upgrade started the new process (its pid): drain as a
    /// graceful quit, without the start wait (the new process accepts).
    Upgraded(Received, u32),
}

/// SIGUSR2: hands the listening sockets to a new process from the same
/// binary path ([`crate::upgrade`]); its pid once it serves. On failure the
/// pid file is back, the reason is logged, and this process serves on.
async fn upgrade(
    server: &Server,
    rt: &dyn Runtime,
    config: &Config,
    received: Received,
) -> Option<u32> {
    let name = received.name;
    let handoff = server.handoff();
    info!(
        "{name} received: binary upgrade, handing over {} listening sockets ({})",
        handoff.len(),
        crate::upgrade::describe(&handoff)
    );
    match crate::upgrade::start(rt, handoff, &config.pid).await {
        Ok(up) => Some(up.pid),
        Err(e) => {
            error!("{name}: binary upgrade failed, serving on: {e}");
            None
        }
    }
}

/// SRS's graceful quit (its `gracefully_dispose`), with a bound on the drain:
/// 1. keep serving for `grace_start_wait` (load balancers catch up);
/// 2. close the listeners: new clients are refused;
/// 3. wait up to `grace_drain_timeout` for publishers and players to leave.
///
/// The caller then closes what is left and the HLS segments, and waits
/// `grace_final_wait`. A fast quit signal meanwhile cuts every step short,
/// the final wait included (`false`).
async fn graceful_quit(
    server: &Server,
    rt: &dyn Runtime,
    config: &Config,
    signals: &OperatorSignals,
    wait_first: bool,
) -> bool {
    let start_wait = config.grace_start_wait;
    if wait_first && !start_wait.is_zero() {
        info!(
            "still accepting for grace_start_wait {} ms",
            start_wait.as_millis()
        );
        if !while_handling(signals, config, rt.sleep(start_wait)).await {
            return false;
        }
    }
    server.stop_accepting();
    info!("listeners closed: new clients are refused");
    // Enhanced RTMP: each client that announced support at connect is asked
    // to reconnect, so it moves to another server (or, after a SIGUSR2
    // upgrade, to the new process) before the drain below runs out.
    let clients = server.ctx().hub.clients();
    let asked = crate::reconnect::ask(server.ctx(), &clients, crate::reconnect::Why::Quit);
    if asked.asked > 0 {
        info!(
            "reconnect requested of {} of the {} clients",
            asked.asked,
            clients.len()
        );
    }
    let limit = config.grace_drain_timeout;
    let drained = drain(server, rt, limit);
    if !while_handling(signals, config, drained).await {
        return false;
    }
    let left = server.ctx().hub.clients().len();
    if left > 0 {
        info!(
            "grace_drain_timeout {} ms passed: closing the {left} clients left",
            limit.as_millis()
        );
    }
    true
}

/// Completes when no publisher or player (RTMP or HTTP-FLV) is left, or when
/// `limit` has passed, saying now and then how many it waits for.
async fn drain(server: &Server, rt: &dyn Runtime, limit: Duration) {
    let start = rt.now();
    let mut next_report = start;
    loop {
        let left = server.ctx().hub.clients().len();
        if left == 0 {
            info!("every client has left");
            return;
        }
        let now = rt.now();
        let waited = now.saturating_sub(start);
        if waited >= limit {
            return;
        }
        if now >= next_report {
            info!(
                "waiting for {left} clients to leave (at most {} ms more)",
                (limit - waited).as_millis()
            );
            next_report = now + DRAIN_REPORT_INTERVAL;
        }
        rt.sleep(DRAIN_POLL_INTERVAL.min(limit - waited)).await;
    }
}

/// Runs `step` of a quit while still answering signals: reopen works as
/// usual, a reload is refused (the listeners are closing), a second graceful quit is redundant, and a fast quit ends
/// the step early (`false`).
async fn while_handling(
    signals: &OperatorSignals,
    config: &Config,
    step: impl Future<Output = ()>,
) -> bool {
    use futures_util::future::{select, Either};
    let mut step = std::pin::pin!(step);
    loop {
        let next = std::pin::pin!(signals.next());
        match select(step.as_mut(), next).await {
            Either::Left(((), _)) => return true,
            Either::Right((received, _)) => match received.asks(config) {
                // During a quit: refused, the quit runs with the config it started with.
                OperatorSignal::Reload => {
                    warn!("{} received: quitting, reload refused", received.name)
                }
                OperatorSignal::FastQuit => {
                    info!(
                        "{} received: fast quit, cutting the graceful quit short",
                        received.name
                    );
                    return false;
                }
                OperatorSignal::GracefulQuit => {
                    info!("{} received: already quitting gracefully", received.name)
                }
                other => on_signal(other, received, config),
            },
        }
    }
}

/// SIGHUP: reads the config file again and applies it ([`crate::reload`]);
/// a file with an error is refused and the running config stays.
async fn reload(server: &Server, received: Received) {
    let name = received.name;
    info!("{name} received: reloading the config");
    match crate::reload::reload_file(server.ctx()).await {
        Ok(report) if report.failures.is_empty() => info!("{name}: config reloaded"),
        Ok(report) => warn!(
            "{name}: config reloaded; {} change(s) could not be applied: {}",
            report.failures.len(),
            report.failures.join("; ")
        ),
        Err(e) => error!("{name}: reload refused, the running config stays: {e}"),
    }
}

/// The signals that neither quit nor wait: one log line each.
fn on_signal(asks: OperatorSignal, received: Received, config: &Config) {
    let name = received.name;
    match asks {
        // Handled by the shell loop (refused while quitting).
        OperatorSignal::Reload => {}
        OperatorSignal::ReopenLog => match crate::logging::reopen() {
            Some((path, Ok(()))) => info!("{name} received: log file {} reopened", path.display()),
            Some((path, Err(e))) => warn!(
                "{name} received: cannot reopen log file {}: {e}; still writing to the old one",
                path.display()
            ),
            None if config.log_tank == LogTank::File => warn!(
                "{name} received: logs go to the console (the log file could not be opened at start); nothing to reopen"
            ),
            None => info!("{name} received: logs go to the console; nothing to reopen"),
        },
        // Handled by the shell loop; refused while quitting.
        OperatorSignal::Upgrade => {
            warn!("{name} received: quitting, binary upgrade refused")
        }
        OperatorSignal::Ignored(why) => warn!("{name} received: ignored ({why})"),
        // Handled by the callers.
        OperatorSignal::GracefulQuit | OperatorSignal::FastQuit => {}
    }
}

/// What an operator (or the system) asks of the server by a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorSignal {
    /// SIGHUP: reload the config.
    Reload,
    /// SIGUSR1: reopen the log file.
    ReopenLog,
    /// SIGUSR2: hand the listening sockets to a new binary.
    Upgrade,
    /// SIGQUIT (and SIGTERM under `force_grace_quit on`): graceful quit.
    GracefulQuit,
    /// SIGTERM, SIGINT: fast quit.
    FastQuit,
    /// A signal that would end the process by default, caught so it does
    /// not; the reason it means nothing here.
    Ignored(&'static str),
}

/// One signal as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// The signal number.
    pub signal: i32,
    /// Its name (`SIGHUP`).
    pub name: &'static str,
    /// What it asks for, before the config's say ([`Received::asks`]).
    pub meaning: OperatorSignal,
}

impl Received {
    /// What the signal asks for under `config`: SIGTERM is a graceful quit
    /// under `force_grace_quit on` (SRS's rule, for Kubernetes).
    pub fn asks(&self, config: &Config) -> OperatorSignal {
        if self.signal == signal_hook::consts::SIGTERM && config.force_grace_quit {
            OperatorSignal::GracefulQuit
        } else {
            self.meaning
        }
    }
}

/// The signals this server catches, and what each means.
fn handled() -> Vec<(i32, &'static str, OperatorSignal)> {
    use signal_hook::consts::*;
    let mut table = vec![
        (SIGHUP, "SIGHUP", OperatorSignal::Reload),
        (SIGUSR1, "SIGUSR1", OperatorSignal::ReopenLog),
        (SIGUSR2, "SIGUSR2", OperatorSignal::Upgrade),
        (SIGQUIT, "SIGQUIT", OperatorSignal::GracefulQuit),
        (SIGTERM, "SIGTERM", OperatorSignal::FastQuit),
        (SIGINT, "SIGINT", OperatorSignal::FastQuit),
    ];
    for &(signal, name, why) in IGNORED {
        table.push((signal, name, OperatorSignal::Ignored(why)));
    }
    table
}

/// Signals whose default action ends the process but that mean nothing to
/// this server: caught, logged and otherwise ignored, so a stray one (a
/// mistyped `kill`, a tool's timer) never takes live streams down.
pub const IGNORED: &[(i32, &str, &str)] = &[
    (libc::SIGALRM, "SIGALRM", "no timer here uses it"),
    (libc::SIGVTALRM, "SIGVTALRM", "no timer here uses it"),
    (libc::SIGPROF, "SIGPROF", "no profiler timer here"),
    (libc::SIGIO, "SIGIO", "no signal-driven I/O here"),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    (
        libc::SIGPWR,
        "SIGPWR",
        "power events are the supervisor's to act on",
    ),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    (libc::SIGSTKFLT, "SIGSTKFLT", "unused on Linux"),
    (
        libc::SIGXCPU,
        "SIGXCPU",
        "the CPU time soft limit (ulimit -t) is reached; the hard limit's SIGKILL follows",
    ),
    (
        libc::SIGXFSZ,
        "SIGXFSZ",
        "the file size limit (ulimit -f) is reached; writes past it fail and are logged",
    ),
];

/// Names the real-time signals `SIGRTMIN+n`; none has another meaning here.
const RT_NAMES: [&str; 33] = [
    "SIGRTMIN",
    "SIGRTMIN+1",
    "SIGRTMIN+2",
    "SIGRTMIN+3",
    "SIGRTMIN+4",
    "SIGRTMIN+5",
    "SIGRTMIN+6",
    "SIGRTMIN+7",
    "SIGRTMIN+8",
    "SIGRTMIN+9",
    "SIGRTMIN+10",
    "SIGRTMIN+11",
    "SIGRTMIN+12",
    "SIGRTMIN+13",
    "SIGRTMIN+14",
    "SIGRTMIN+15",
    "SIGRTMIN+16",
    "SIGRTMIN+17",
    "SIGRTMIN+18",
    "SIGRTMIN+19",
    "SIGRTMIN+20",
    "SIGRTMIN+21",
    "SIGRTMIN+22",
    "SIGRTMIN+23",
    "SIGRTMIN+24",
    "SIGRTMIN+25",
    "SIGRTMIN+26",
    "SIGRTMIN+27",
    "SIGRTMIN+28",
    "SIGRTMIN+29",
    "SIGRTMIN+30",
    "SIGRTMIN+31",
    "SIGRTMIN+32",
];

/// The real-time signals (`SIGRTMIN`..=`SIGRTMAX`, as the C library leaves
/// them to applications), which end the process by default.
fn realtime() -> Vec<(i32, &'static str, OperatorSignal)> {
    (libc::SIGRTMIN()..=libc::SIGRTMAX())
        .zip(RT_NAMES)
        .map(|(signal, name)| {
            (
                signal,
                name,
                OperatorSignal::Ignored("no real-time signal means anything here"),
            )
        })
        .collect()
}

/// Signals as an async stream that works on any runtime: a plain thread
/// blocks on them and queues what arrives for the shell loop in
/// [`run_server`].
#[derive(Debug, Clone)]
pub struct OperatorSignals {
    shared: Arc<Queue>,
}

#[derive(Debug, Default)]
struct Queue {
    received: Mutex<VecDeque<Received>>,
    event: Event,
}

impl OperatorSignals {
    /// Installs the handlers for every signal in the module docs' table, the
    /// ignored ones and the real-time ones.
    pub fn install() -> std::io::Result<Self> {
        let mut table = handled();
        table.extend(realtime());
        let mut signals = signal_hook::iterator::Signals::new(table.iter().map(|t| t.0))?;
        let me = Self {
            shared: Arc::default(),
        };
        let queue = me.shared.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    let Some(&(_, name, meaning)) = table.iter().find(|t| t.0 == signal) else {
                        continue;
                    };
                    let received = Received {
                        signal,
                        name,
                        meaning,
                    };
                    lock(&queue.received).push_back(received);
                    queue.event.notify(usize::MAX);
                }
            })?;
        Ok(me)
    }

    /// The next signal, in order of arrival. Cancel-safe: a signal is taken
    /// off the queue only when this returns it.
    pub async fn next(&self) -> Received {
        loop {
            let listener = self.shared.event.listen();
            if let Some(received) = lock(&self.shared.received).pop_front() {
                return received;
            }
            listener.await;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_terminating_signal_has_a_meaning() {
        use signal_hook::consts::*;
        let mut table = handled();
        table.extend(realtime());
        // Those whose default action ends the process (signal(7)), less the
        // faults, which must still stop a broken process, and SIGKILL.
        let mut terminating = vec![
            SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGVTALRM, SIGPROF, SIGIO,
            SIGXCPU, SIGXFSZ,
        ];
        #[cfg(target_os = "linux")]
        terminating.extend([libc::SIGPWR, libc::SIGSTKFLT]);
        terminating.extend(libc::SIGRTMIN()..=libc::SIGRTMAX());
        for signal in terminating {
            assert!(
                table.iter().any(|t| t.0 == signal),
                "signal {signal} unhandled"
            );
        }
        for fault in [
            SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS, SIGPIPE,
        ] {
            assert!(
                !table.iter().any(|t| t.0 == fault),
                "{fault} must keep its default"
            );
        }
        assert!(libc::SIGRTMAX() - libc::SIGRTMIN() < RT_NAMES.len() as i32);
    }

    #[test]
    fn force_grace_quit_makes_sigterm_graceful_but_not_sigint() {
        let table = handled();
        let find = |s| {
            let &(signal, name, meaning) = table.iter().find(|t| t.0 == s).unwrap();
            Received {
                signal,
                name,
                meaning,
            }
        };
        let mut config = Config::default();
        let term = find(signal_hook::consts::SIGTERM);
        let int = find(signal_hook::consts::SIGINT);
        assert_eq!(term.asks(&config), OperatorSignal::FastQuit);
        config.force_grace_quit = true;
        assert_eq!(term.asks(&config), OperatorSignal::GracefulQuit);
        assert_eq!(int.asks(&config), OperatorSignal::FastQuit);
        assert_eq!(
            find(signal_hook::consts::SIGQUIT).asks(&config),
            OperatorSignal::GracefulQuit
        );
    }
}
