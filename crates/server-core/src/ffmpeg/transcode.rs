//! Transcode (SRS `vhost { transcode [APP|APP/STREAM] { engine NAME { } } }`):
//! an output of the stream lifecycle. A publish on the vhost that the
//! block's scope matches (no scope: every stream; `APP`; `APP/STREAM`)
//! starts one ffmpeg per enabled engine, reading the stream back from this
//! server over RTMP and writing the engine's `output` (usually a new
//! stream here, `[stream]_[engine]`); the unpublish stops them, and a
//! reload that changes the stream's transcode blocks restarts them.
//!
//! A transcode's own output is not transcoded again (SRS's loop check,
//! `_transcoded_url`): SRS compares the input URL of a publish with the
//! output URLs of running transcodes as text; here both are compared as
//! streams (vhost, app, name), so `localhost` against `127.0.0.1`, query
//! order or a default vhost named or not make no difference.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tracing::{info, warn};

use super::engine::EngineConfig;
use super::supervisor::{ProcessKind, Supervised};
use crate::context::ServerCtx;
use crate::hub::StreamKey;
use crate::lifecycle::{Output, PublishedStream};
use crate::process::ProcessSpec;
use crate::vhost::VhostSettings;

/// `transcode [SCOPE] { }`.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeConfig {
    /// The scope: empty (the vhost), `APP` or `APP/STREAM`.
    pub scope: String,
    /// `enabled` (default off).
    pub enabled: bool,
    /// `ffmpeg`: the program.
    pub ffmpeg: String,
    /// `engine NAME { }` blocks: one ffmpeg per enabled one.
    pub engines: Vec<EngineConfig>,
}

impl TranscodeConfig {
    /// Whether this block transcodes `key` (SRS: vhost, app, then
    /// app/stream scope; each matching block runs its engines).
    pub fn applies_to(&self, key: &StreamKey) -> bool {
        self.scope.is_empty()
            || self.scope == key.app
            || self.scope == format!("{}/{}", key.app, key.stream)
    }
}

/// `output` with SRS's variables replaced: `[vhost]`, `[port]`, `[app]`,
/// `[stream]`, `[param]` (the publish's query, `?` included) and `[engine]`.
pub fn expand_output(
    template: &str,
    key: &StreamKey,
    port: u16,
    param: &str,
    engine: &str,
) -> String {
    template
        .replace("[vhost]", &key.vhost)
        .replace("[port]", &port.to_string())
        .replace("[app]", &key.app)
        .replace("[stream]", &key.stream)
        .replace("[param]", param)
        .replace("[engine]", engine)
}

/// The ffmpeg processes of one publish.
#[derive(Debug)]
struct Running {
    publisher: String,
    processes: Vec<Arc<Supervised>>,
    /// The streams they publish here (the loop check).
    outputs: Vec<StreamKey>,
}

/// The transcode output (registered in [`crate::lifecycle::OutputRegistry`]).
#[derive(Debug, Default)]
pub struct Transcode {
    running: Mutex<HashMap<StreamKey, Running>>,
}

impl Transcode {
    fn start(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream, vhost: &VhostSettings) {
        let key = &stream.source.key;
        let blocks: Vec<TranscodeConfig> = vhost
            .transcodes
            .iter()
            .filter(|t| t.enabled && !t.ffmpeg.is_empty() && t.applies_to(key))
            .cloned()
            .collect();
        if blocks.is_empty() {
            return;
        }
        let mut running = lock(&self.running);
        if running.values().any(|r| r.outputs.contains(key)) {
            info!(stream = %key, "transcode: not transcoded: the stream is a transcode's output (loop)");
            return;
        }
        let Some(local) = super::local_rtmp(ctx) else {
            warn!(stream = %key, "transcode: no RTMP listener to read the stream from");
            return;
        };
        let config = ctx.config();
        let input = format!(
            "rtmp://{local}/{}/{}?vhost={}",
            key.app, key.stream, key.vhost
        );
        let mut processes = Vec::new();
        let mut outputs = Vec::new();
        for block in &blocks {
            for engine in block.engines.iter().filter(|e| e.enabled) {
                let mut engine = engine.clone();
                engine.output = super::build_timestamp(
                    &expand_output(
                        &engine.output,
                        key,
                        local.port(),
                        &stream.publisher.param,
                        &engine.name,
                    ),
                    ctx.rt.unix_time_ms(),
                );
                if let Some(out) = self_stream(ctx, &engine.output) {
                    if out == *key {
                        warn!(stream = %key, engine = %engine.name, "transcode: engine output is its own input: skipped");
                        continue;
                    }
                    outputs.push(out);
                }
                let mut parts = vec!["encoder", &key.vhost, &key.app, &key.stream];
                if !engine.name.is_empty() {
                    parts.push(&engine.name);
                }
                let spec = ProcessSpec {
                    program: block.ffmpeg.clone().into(),
                    args: super::args::build(&[], &input, &engine),
                    log: super::log_target(&config.ff_log_dir, &parts),
                };
                let name = format!("{}/{}/{}/{}", key.vhost, key.app, key.stream, engine.name);
                info!(stream = %key, engine = %engine.name, output = %engine.output, "transcode started");
                let process = ctx.processes.start(
                    &ctx.rt,
                    ProcessKind::Transcode,
                    name,
                    key.vhost.clone(),
                    spec,
                );
                process.set_stream(key.clone());
                processes.push(process);
            }
        }
        if let Some(old) = running.insert(
            key.clone(),
            Running {
                publisher: stream.publisher.client_id.clone(),
                processes,
                outputs,
            },
        ) {
            stop(&old);
        }
    }

    fn stop_for(&self, stream: &PublishedStream) {
        let mut running = lock(&self.running);
        let key = &stream.source.key;
        if running
            .get(key)
            .is_some_and(|r| r.publisher == stream.publisher.client_id)
        {
            if let Some(r) = running.remove(key) {
                info!(stream = %key, "transcode stopped");
                stop(&r);
            }
        }
    }
}

fn stop(r: &Running) {
    for p in &r.processes {
        p.stop();
    }
}

/// The stream `url` publishes on this server, if it is an RTMP URL to one
/// of this server's RTMP ports on a loopback or local address.
fn self_stream(ctx: &ServerCtx, url: &str) -> Option<StreamKey> {
    let url = crate::upstream::RtmpUrl::parse(url).ok()?;
    let listen: Vec<std::net::SocketAddr> = ctx
        .reload
        .listeners()
        .into_iter()
        .filter(|(k, _)| *k == crate::settings::ListenerKind::Rtmp)
        .map(|(_, a)| a)
        .collect();
    if !crate::forward::is_self(&url, &listen) {
        return None;
    }
    let vhost = url
        .query
        .split('&')
        .find_map(|kv| {
            kv.strip_prefix("vhost=")
                .or_else(|| kv.strip_prefix("domain="))
        })
        .unwrap_or(&url.host);
    Some(StreamKey {
        vhost: ctx.vhost(vhost).name.clone(),
        app: url.app,
        stream: url.stream,
    })
}

impl Output for Transcode {
    fn name(&self) -> &'static str {
        "transcode"
    }

    fn on_publish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        self.start(ctx, stream, &stream.vhost);
    }

    fn on_unpublish(&self, _ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        self.stop_for(stream);
    }

    /// The stream's transcode blocks changed: its ffmpegs are restarted
    /// with the new ones (or stopped, or started).
    fn on_reload(
        &self,
        ctx: &Arc<ServerCtx>,
        stream: &PublishedStream,
        old: &VhostSettings,
        new: &Arc<VhostSettings>,
    ) {
        let key = &stream.source.key;
        let pick = |v: &VhostSettings| -> Vec<TranscodeConfig> {
            v.transcodes
                .iter()
                .filter(|t| t.enabled && !t.ffmpeg.is_empty() && t.applies_to(key))
                .cloned()
                .collect()
        };
        if pick(old) == pick(new) {
            return;
        }
        info!(stream = %key, "reload: transcode changed, restarting its ffmpegs");
        self.stop_for(stream);
        self.start(ctx, stream, new);
    }

    fn finish<'a>(&'a self, ctx: &'a Arc<ServerCtx>) -> crate::runtime::BoxFuture<'a, ()> {
        let all: Vec<Running> = lock(&self.running).drain().map(|(_, r)| r).collect();
        Box::pin(async move {
            for r in &all {
                stop(r);
            }
            let waits = all
                .iter()
                .flat_map(|r| r.processes.iter().map(|p| p.stopped()));
            futures_util::future::join_all(waits).await;
            let _ = ctx;
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(app: &str, stream: &str) -> StreamKey {
        StreamKey {
            vhost: "v".into(),
            app: app.into(),
            stream: stream.into(),
        }
    }

    #[test]
    fn scopes_as_srs() {
        let mut t = TranscodeConfig {
            scope: String::new(),
            enabled: true,
            ffmpeg: "ffmpeg".into(),
            engines: Vec::new(),
        };
        assert!(t.applies_to(&key("live", "s")));
        t.scope = "live".into();
        assert!(t.applies_to(&key("live", "s")));
        assert!(!t.applies_to(&key("vod", "s")));
        t.scope = "live/s".into();
        assert!(t.applies_to(&key("live", "s")));
        assert!(!t.applies_to(&key("live", "t")));
    }

    #[test]
    fn output_variables() {
        assert_eq!(
            expand_output(
                "rtmp://127.0.0.1:[port]/[app]/[stream]_[engine][param]",
                &key("live", "s"),
                1935,
                "?token=1",
                "ld"
            ),
            "rtmp://127.0.0.1:1935/live/s_ld?token=1"
        );
    }
}
