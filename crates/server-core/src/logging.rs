//! Logging: SRS's `srs_log_level`, `srs_log_tank` and `srs_log_file` mapped onto `tracing`.
//!
//! SRS's levels, from chatty to quiet, are verbose, info, trace, warn, error,
//! with `trace` the usual production level. They map onto tracing's TRACE, DEBUG,
//! INFO, WARN, ERROR in that order, so an SRS operator's level means the same
//! amount of output here. `RUST_LOG`, when set, overrides the config.
//!
//! The log file can be reopened ([`reopen`], on SIGUSR1): logrotate renames the
//! file and signals, and the lines after that go to a new file at the
//! configured path, as with SRS and nginx.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tracing_subscriber::fmt::MakeWriter;
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

/// The file the global subscriber writes to, when `srs_log_tank file`.
static LOG_FILE: OnceLock<SharedLogFile> = OnceLock::new();

/// Changes the installed subscriber's level (a reload of `srs_log_level`).
type SetLevel = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// How to change the level, once [`init`] installed a subscriber without `RUST_LOG`.
static SET_LEVEL: OnceLock<SetLevel> = OnceLock::new();

/// Installs the global subscriber. Falls back to the console if the log file
/// cannot be opened (and says so).
pub fn init(config: &Config) -> LogGuard {
    let from_env = EnvFilter::try_from_default_env().ok();
    let by_config = from_env.is_none();
    let filter = from_env.unwrap_or_else(|| EnvFilter::new(filter_for(&config.log_level)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if config.log_tank == LogTank::File {
        match LogFile::open(&config.log_file) {
            Ok(file) => {
                let file = SharedLogFile(Arc::new(file));
                let builder = builder
                    .with_ansi(false)
                    .with_writer(file.clone())
                    .with_filter_reloading();
                let handle = builder.reload_handle();
                if builder.try_init().is_ok() {
                    let _ = LOG_FILE.set(file);
                    if by_config {
                        let _ = SET_LEVEL.set(Box::new(move |level| {
                            handle
                                .reload(EnvFilter::new(filter_for(level)))
                                .map_err(|e| e.to_string())
                        }));
                    }
                }
                return LogGuard;
            }
            Err(e) => eprintln!(
                "cannot open log file {}: {e}; logging to the console",
                config.log_file.display()
            ),
        }
    }
    let builder = builder.with_writer(std::io::stderr).with_filter_reloading();
    let handle = builder.reload_handle();
    if builder.try_init().is_ok() && by_config {
        let _ = SET_LEVEL.set(Box::new(move |level| {
            handle
                .reload(EnvFilter::new(filter_for(level)))
                .map_err(|e| e.to_string())
        }));
    }
    LogGuard
}

/// Logs at SRS level `srs_level` from now on (a reload). Refused when
/// `RUST_LOG` chose the level at start (it wins over the config), or when
/// this process installed no subscriber of its own (tests, embedders).
pub fn set_level(srs_level: &str) -> Result<(), String> {
    match SET_LEVEL.get() {
        Some(set) => set(srs_level),
        None => Err("the level is set by RUST_LOG (or logging is not ours): unchanged".into()),
    }
}

/// Reopens the log file at its configured path (SIGUSR1). `None` when logs go
/// to the console; otherwise the path and whether it worked. On failure the
/// old file keeps the lines, so nothing is lost.
pub fn reopen() -> Option<(PathBuf, io::Result<()>)> {
    let file = LOG_FILE.get()?;
    Some((file.0.path.clone(), file.0.reopen()))
}

/// A log file that can be reopened at its path while lines are written.
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl LogFile {
    /// Opens (creates, appends to) `path`, making its directory if missing
    /// (as for the pid file: SRS's `./objs`).
    pub fn open(path: &Path) -> io::Result<Self> {
        Ok(Self {
            path: path.to_path_buf(),
            file: Mutex::new(open_append(path)?),
        })
    }

    /// Opens the path anew and writes there from now on. A line being
    /// written meanwhile finishes in the old file.
    pub fn reopen(&self) -> io::Result<()> {
        let fresh = open_append(&self.path)?;
        *self.lock() = fresh;
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, File> {
        self.file.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    OpenOptions::new().create(true).append(true).open(path)
}

/// [`LogFile`] as tracing's writer: each line is formatted whole, then
/// written under the lock in one call.
#[derive(Debug, Clone)]
pub struct SharedLogFile(pub Arc<LogFile>);

/// One line's hold on the log file.
#[derive(Debug)]
pub struct LogFileWriter<'a>(MutexGuard<'a, File>);

impl Write for LogFileWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<'a> MakeWriter<'a> for SharedLogFile {
    type Writer = LogFileWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LogFileWriter(self.0.lock())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopen_follows_the_path_after_a_rename() {
        let dir = std::env::temp_dir().join(format!("rtmp-log-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("logs/server.log");
        let log = SharedLogFile(Arc::new(LogFile::open(&path).unwrap()));
        log.make_writer().write_all(b"before\n").unwrap();
        // logrotate: rename, then signal.
        let rotated = dir.join("logs/server.log.1");
        std::fs::rename(&path, &rotated).unwrap();
        log.make_writer().write_all(b"still old\n").unwrap();
        log.0.reopen().unwrap();
        log.make_writer().write_all(b"after\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&rotated).unwrap(),
            "before\nstill old\n"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "after\n");
        // A path that can no longer be opened keeps the old file.
        std::fs::remove_dir_all(dir.join("logs")).unwrap();
        std::fs::write(dir.join("logs"), b"a file where the directory was").unwrap();
        assert!(log.0.reopen().is_err());
        log.make_writer().write_all(b"kept\n").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
