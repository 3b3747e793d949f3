//! Ingest (SRS `vhost { ingest ID { } }`): the server runs ffmpeg to read a
//! file or a stream (anything ffmpeg reads: http, rtmp, rtsp, srt...) and
//! publish it into this server, copied or through the ingest's engine.
//!
//! Ingests start with the server and are kept in line with the config:
//! a reload starts the ingests it adds or enables, stops those it removes
//! or disables (or whose vhost goes), and restarts those it changes, or all
//! of them when the RTMP port they publish to changes (SRS's
//! `on_reload_ingest_*` and `on_reload_listen`).
//!
//! The command line is SRS's (`SrsIngester::initialize_ffmpeg`):
//! `-loglevel <ff_log_level> -re`, then for `type file` `-stream_loop -1`
//! (not in SRS, which restarts ffmpeg at the end of the file: here that
//! would count as a death for dead-loop detection, and players would see
//! an unpublish each time round), the input, then `-vcodec copy -acodec
//! copy -f flv` unless the engine is enabled and names both codecs.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tracing::{info, warn};

use super::engine::EngineConfig;
use super::supervisor::{ProcessKind, Supervised};
use crate::context::ServerCtx;
use crate::process::ProcessSpec;

/// `input { type }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestInput {
    /// `file` (default): read in real time (`-re`) and looped.
    File,
    /// `stream`: read as it comes (SRS adds `-re` too, for HLS sources).
    Stream,
}

/// `ingest ID { }`.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestConfig {
    /// The id (unique within its vhost).
    pub id: String,
    /// `enabled` (default off).
    pub enabled: bool,
    /// `input { type }` (default file).
    pub input: IngestInput,
    /// `input { url }`.
    pub url: String,
    /// `ffmpeg`: the program.
    pub ffmpeg: String,
    /// `engine { }` blocks: one ffmpeg each.
    pub engines: Vec<EngineConfig>,
}

impl IngestConfig {
    /// Whether `engine` transcodes (enabled, with both codecs named) rather
    /// than copies, as SRS decides.
    pub fn transcodes(&self, engine: &EngineConfig) -> bool {
        engine.enabled && !engine.vcodec.is_empty() && !engine.acodec.is_empty()
    }

    /// The ffmpeg arguments for `engine`, whose output is already expanded.
    pub fn args(&self, log_level: &str, engine: &EngineConfig) -> Vec<String> {
        let mut iparams = Vec::new();
        if !log_level.is_empty() {
            iparams.extend(["-loglevel".to_owned(), log_level.to_owned()]);
        }
        iparams.push("-re".to_owned());
        if self.input == IngestInput::File {
            iparams.extend(["-stream_loop".to_owned(), "-1".to_owned()]);
        }
        let engine = if self.transcodes(engine) {
            engine.clone()
        } else {
            EngineConfig::copy(&engine.output)
        };
        super::args::build(&iparams, &self.url, &engine)
    }
}

/// An ingest's `output` with `[vhost]` and `[port]` replaced, and a
/// `vhost=__defaultVhost__` parameter removed, as SRS does.
pub fn expand_output(template: &str, vhost: &str, port: u16) -> String {
    let mut out = template
        .replace("[vhost]", vhost)
        .replace("[port]", &port.to_string());
    out = out.replace(&format!("vhost={}", crate::config::DEFAULT_VHOST), "");
    out = out.replace("?&", "?").replace("?/", "/");
    while out.ends_with('?') {
        out.pop();
    }
    out
}

/// One running ingest.
#[derive(Debug)]
struct Running {
    vhost: String,
    config: IngestConfig,
    /// What its command lines were built from besides its config.
    port: u16,
    log_dir: PathBuf,
    log_level: String,
    processes: Vec<Arc<Supervised>>,
}

/// The ingests running now.
#[derive(Debug, Default)]
pub struct IngestManager {
    running: Mutex<Vec<Running>>,
}

impl IngestManager {
    /// Starts, stops and restarts ingests so the running ones are exactly
    /// those the current config enables (at start and after each reload).
    pub fn sync(&self, ctx: &Arc<ServerCtx>) {
        let config = ctx.config();
        let port = super::local_rtmp(ctx).map_or(1935, |a| a.port());
        let mut running = lock(&self.running);
        let wanted: Vec<(String, IngestConfig)> = config
            .vhosts
            .iter()
            .filter(|v| v.enabled)
            .flat_map(|v| {
                v.ingests
                    .iter()
                    .filter(|i| i.enabled)
                    .map(|i| (v.name.clone(), i.clone()))
            })
            .collect();
        running.retain(|r| {
            let keep = wanted.iter().any(|(v, i)| {
                *v == r.vhost
                    && *i == r.config
                    && r.port == port
                    && r.log_dir == config.ff_log_dir
                    && r.log_level == config.ff_log_level
            });
            if !keep {
                info!(vhost = %r.vhost, ingest = %r.config.id, "ingest stopped");
                for p in &r.processes {
                    p.stop();
                }
            }
            keep
        });
        for (vhost, ingest) in wanted {
            if running
                .iter()
                .any(|r| r.vhost == vhost && r.config.id == ingest.id)
            {
                continue;
            }
            let processes = ingest
                .engines
                .iter()
                .map(|engine| {
                    let mut engine = engine.clone();
                    engine.output = super::build_timestamp(
                        &expand_output(&engine.output, &vhost, port),
                        ctx.rt.unix_time_ms(),
                    );
                    let (app, stream) = match crate::upstream::RtmpUrl::parse(&engine.output) {
                        Ok(u) => (u.app, u.stream),
                        Err(_) => (String::new(), ingest.id.clone()),
                    };
                    let log =
                        super::log_target(&config.ff_log_dir, &["ingest", &vhost, &app, &stream]);
                    let spec = ProcessSpec {
                        program: ingest.ffmpeg.clone().into(),
                        args: ingest.args(&config.ff_log_level, &engine),
                        log,
                    };
                    let name = if engine.name.is_empty() {
                        format!("{vhost}/{}", ingest.id)
                    } else {
                        format!("{vhost}/{}/{}", ingest.id, engine.name)
                    };
                    info!(ingest = %name, output = %engine.output, "ingest started");
                    ctx.processes
                        .start(&ctx.rt, ProcessKind::Ingest, name, vhost.clone(), spec)
                })
                .collect();
            running.push(Running {
                vhost,
                config: ingest,
                port,
                log_dir: config.ff_log_dir.clone(),
                log_level: config.ff_log_level.clone(),
                processes,
            });
        }
    }

    /// Stops every ingest (shutdown); [`super::ProcessTable::stop_all`]
    /// waits for them.
    pub fn stop_all(&self) {
        let all: Vec<Running> = lock(&self.running).drain(..).collect();
        if !all.is_empty() {
            warn!(count = all.len(), "stopping every ingest");
        }
        for r in all {
            for p in &r.processes {
                p.stop();
            }
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
    fn output_expansion_as_srs() {
        assert_eq!(
            expand_output(
                "rtmp://127.0.0.1:[port]/live/livestream?vhost=[vhost]",
                "v.com",
                19350
            ),
            "rtmp://127.0.0.1:19350/live/livestream?vhost=v.com"
        );
        assert_eq!(
            expand_output(
                "rtmp://127.0.0.1:[port]/live/s?vhost=[vhost]",
                "__defaultVhost__",
                1935
            ),
            "rtmp://127.0.0.1:1935/live/s"
        );
        assert_eq!(
            expand_output(
                "rtmp://127.0.0.1:[port]/live?vhost=[vhost]/s",
                "__defaultVhost__",
                1935
            ),
            "rtmp://127.0.0.1:1935/live/s"
        );
    }

    #[test]
    fn file_ingest_loops_and_copies_when_the_engine_is_off() {
        let mut engine = EngineConfig::srs_default("");
        engine.vcodec = "libx264".into();
        engine.output = "rtmp://127.0.0.1:1935/live/s".into();
        let ingest = IngestConfig {
            id: "i".into(),
            enabled: true,
            input: IngestInput::File,
            url: "./doc/source.flv".into(),
            ffmpeg: "ffmpeg".into(),
            engines: vec![engine.clone()],
        };
        assert_eq!(
            ingest.args("info", &engine).join(" "),
            "-loglevel info -re -stream_loop -1 -i ./doc/source.flv -vcodec copy -acodec copy -f flv -y rtmp://127.0.0.1:1935/live/s"
        );
        let stream = IngestConfig {
            input: IngestInput::Stream,
            url: "rtmp://origin/live/s".into(),
            ..ingest
        };
        assert_eq!(
            stream.args("", &engine).join(" "),
            "-re -i rtmp://origin/live/s -vcodec copy -acodec copy -f flv -y rtmp://127.0.0.1:1935/live/s"
        );
    }
}
