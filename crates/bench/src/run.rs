//! One run: resolve the server, build the runtime, start clients at the
//! ramp rate, print progress every second, collect every client's
//! measurements at the deadline.

use std::io::IsTerminal;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::client::{self, Env};
use crate::cpu;
use crate::options::{Mode, Options};
use crate::progress::{self, Counters};
use crate::publisher::{self, Clip, ClipError};
use crate::report::Report;
use crate::stats::ConnStats;
use crate::url::Scheme;

/// Grace after the deadline for clients to close their books before the
/// runtime is torn down.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The host did not resolve.
    #[error("cannot resolve {host}: {why}")]
    Resolve {
        /// `host:port`.
        host: String,
        /// Why.
        why: String,
    },
    /// The input file could not be read.
    #[error("reading {path}: {source}")]
    Input {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The input file is not usable FLV.
    #[error("{path}: {source}")]
    Flv {
        /// The file.
        path: String,
        /// The error.
        source: ClipError,
    },
    /// The runtime could not be built.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
}

/// Resolves `host:port` once, preferring IPv4 (servers under test usually
/// listen on 127.0.0.1).
fn resolve(authority: &str) -> Result<SocketAddr, RunError> {
    let fail = |why: String| RunError::Resolve {
        host: authority.to_owned(),
        why,
    };
    let addrs: Vec<SocketAddr> = authority
        .to_socket_addrs()
        .map_err(|e| fail(e.to_string()))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| fail("no address".to_owned()))
}

/// Runs `opts` to completion and returns the report.
pub fn run(opts: Options) -> Result<Report, RunError> {
    let addr = resolve(&opts.url.authority())?;
    let clip = match (&opts.input, opts.mode) {
        (Some(path), Mode::Publish) => {
            let shown = path.display().to_string();
            let data = std::fs::read(path).map_err(|source| RunError::Input {
                path: shown.clone(),
                source,
            })?;
            let tags = publisher::read_flv(Bytes::from(data)).map_err(|source| RunError::Flv {
                path: shown,
                source,
            })?;
            Some(Clip::new(tags))
        }
        _ => None,
    };
    let (app, stream) = match opts.url.scheme {
        Scheme::Rtmp => opts.url.app_and_stream().unwrap_or_default(),
        Scheme::Http => Default::default(),
    };
    let runtime = if opts.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(opts.threads)
            .enable_all()
            .build()
    }
    .map_err(RunError::Runtime)?;
    let cpu_before = cpu::self_cpu();
    let start = Instant::now();
    let env = Arc::new(Env {
        deadline: start + opts.duration,
        opts,
        addr,
        counters: Counters::default(),
        start,
        clip,
        app,
        stream,
    });
    let conns = runtime.block_on(drive(env.clone()));
    runtime.shutdown_timeout(Duration::from_secs(1));
    let wall_s = start.elapsed().as_secs_f64();
    let cpu = cpu::self_cpu().since(&cpu_before);
    let window_s = env.opts.duration.as_secs_f64().min(wall_s);
    Ok(Report::new(
        env.opts.mode,
        env.opts.url.to_string(),
        env.opts.clients,
        wall_s,
        cpu,
        cpu::self_peak_rss_kb(),
        conns,
    )
    .with_window(window_s)
    .with_streams(env.opts.streams))
}

/// Starts the clients at the ramp rate and collects them.
async fn drive(env: Arc<Env>) -> Vec<ConnStats> {
    let progress = (!env.opts.quiet).then(|| tokio::spawn(report_progress(env.clone())));
    let mut handles = Vec::with_capacity(env.opts.clients);
    for id in 0..env.opts.clients {
        if env.opts.ramp > 0.0 {
            let at = env.start + Duration::from_secs_f64(id as f64 / env.opts.ramp);
            if at >= env.deadline {
                break;
            }
            tokio::time::sleep_until(at.into()).await;
        }
        let env = env.clone();
        handles.push(tokio::spawn(async move { client::run(&env, id).await }));
    }
    let mut conns = Vec::with_capacity(env.opts.clients);
    let hard_stop = env.deadline + SHUTDOWN_GRACE;
    for (id, handle) in handles.into_iter().enumerate() {
        let abort = handle.abort_handle();
        match tokio::time::timeout_at(hard_stop.into(), handle).await {
            Ok(Ok(stats)) => conns.push(stats),
            Ok(Err(_)) | Err(_) => {
                abort.abort();
                let mut stats = ConnStats::new(id);
                stats.sessions = 1;
                stats.error("client did not stop in time".to_owned());
                conns.push(stats);
            }
        }
    }
    // Clients the ramp never reached.
    for id in conns.len()..env.opts.clients {
        conns.push(ConnStats::new(id));
    }
    if let Some(p) = progress {
        p.abort();
        if std::io::stderr().is_terminal() {
            eprintln!();
        }
    }
    conns
}

/// Prints the progress line once a second: rewritten in place on a
/// terminal, one line per second otherwise (logs).
async fn report_progress(env: Arc<Env>) {
    let terminal = std::io::stderr().is_terminal();
    let mut prev = env.counters.snapshot();
    let mut prev_cpu = cpu::self_cpu();
    let mut prev_at = Instant::now();
    let mut tick = tokio::time::interval_at(
        (Instant::now() + Duration::from_secs(1)).into(),
        Duration::from_secs(1),
    );
    loop {
        tick.tick().await;
        let now = env.counters.snapshot();
        let cpu_now = cpu::self_cpu();
        let at = Instant::now();
        let line = progress::line(
            env.start.elapsed().as_secs(),
            env.opts.clients,
            &now,
            &prev,
            at.duration_since(prev_at).as_millis() as u64,
            &cpu_now.since(&prev_cpu),
        );
        if terminal {
            eprint!("\r{line}\x1b[K");
        } else {
            eprintln!("{line}");
        }
        prev = now;
        prev_cpu = cpu_now;
        prev_at = at;
    }
}
