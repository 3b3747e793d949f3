//! Logging: SRS's `srs_log_level`, `srs_log_tank` and `srs_log_file` mapped onto `tracing`.
//!
//! SRS's levels, from chatty to quiet, are verbose, info, trace, warn, error,
//! with `trace` the usual production level. They map onto tracing's TRACE, DEBUG,
//! INFO, WARN, ERROR in that order, so an SRS operator's level means the same
//! amount of output here. `RUST_LOG`, when set, overrides the config.

use std::fs::OpenOptions;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogTank};

/// The tracing directive for an SRS log level name.
pub fn filter_for(srs_level: &str) -> &'static str {
    match srs_level {
        "verbose" => "trace",
        "info" => "debug",
        "warn" => "warn",
        "error" => "error",
        _ => "info",
    }
}

/// A guard to keep alive for the life of the process (nothing to flush today,
/// but callers keep it so buffered writers can be added without an API change).
#[derive(Debug)]
pub struct LogGuard;

/// Installs the global subscriber. Falls back to the console if the log file
/// cannot be opened (and says so).
pub fn init(config: &Config) -> LogGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(filter_for(&config.log_level)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if config.log_tank == LogTank::File {
        // As for the pid file, the directory (SRS's `./objs`) is made if missing.
        if let Some(dir) = config.log_file.parent() {
            if !dir.as_os_str().is_empty() {
                let _ = std::fs::create_dir_all(dir);
            }
        }
        match OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.log_file)
        {
            Ok(file) => {
                let _ = builder
                    .with_ansi(false)
                    .with_writer(Mutex::new(file))
                    .try_init();
                return LogGuard;
            }
            Err(e) => eprintln!(
                "cannot open log file {}: {e}; logging to the console",
                config.log_file.display()
            ),
        }
    }
    let _ = builder.with_writer(std::io::stderr).try_init();
    LogGuard
}
