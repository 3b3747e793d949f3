//! The command line and process plumbing both binaries share: arguments, config
//! loading, logging, the pid file, signals and graceful shutdown.
//!
//! A binary only supplies its runtime; everything else lives here so the tokio
//! and smol builds cannot drift apart.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use event_listener::Event;
use tracing::{error, info, warn};

use crate::config::{self, Config};
use crate::runtime::Runtime;
use crate::server::{ListenerKind, Server};

/// How long shutdown waits for HLS sinks to close their segments.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

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
}

/// Parses arguments and config, sets up logging, then hands the config to
/// `serve`, which builds a runtime and calls [`run_server`] on it.
pub fn main(serve: impl FnOnce(Config) -> std::io::Result<()>) -> ExitCode {
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
        None => Config::default(),
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
    let _log_guard = crate::logging::init(&config);
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
    let result = serve(config.clone());
    if pid_lock.is_some() {
        let _ = std::fs::remove_file(&config.pid);
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

/// Starts the server on `rt`, runs until SIGINT/SIGTERM, then shuts down gracefully.
pub async fn run_server(rt: Arc<dyn Runtime>, config: Config) -> std::io::Result<()> {
    let server = Server::start(rt, config)?;
    for (kind, addr) in server.bound() {
        let what = match kind {
            ListenerKind::Rtmp => "rtmp",
            ListenerKind::HttpServer => "http server",
            ListenerKind::HttpApi => "http api",
            ListenerKind::HttpBoth => "http server+api",
        };
        info!("{what} listening on {addr}");
    }
    let signals = ShutdownSignal::install()?;
    signals.wait().await;
    info!("shutting down: closing HLS segments");
    server.shutdown(SHUTDOWN_GRACE).await;
    info!("bye");
    Ok(())
}

/// SIGINT/SIGTERM, delivered as an async wait that works on any runtime: a
/// plain thread blocks on the signals and wakes waiters through an [`Event`].
#[derive(Debug, Clone)]
pub struct ShutdownSignal {
    fired: Arc<AtomicBool>,
    event: Arc<Event>,
}

impl ShutdownSignal {
    /// Installs the handlers.
    pub fn install() -> std::io::Result<Self> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let me = Self {
            fired: Arc::new(AtomicBool::new(false)),
            event: Arc::new(Event::new()),
        };
        let notify = me.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    info!(signal = sig, "signal received");
                    notify.fired.store(true, Ordering::SeqCst);
                    notify.event.notify(usize::MAX);
                }
            })?;
        Ok(me)
    }

    /// Completes when a shutdown signal arrives.
    pub async fn wait(&self) {
        loop {
            let listener = self.event.listen();
            if self.fired.load(Ordering::SeqCst) {
                return;
            }
            listener.await;
        }
    }
}
