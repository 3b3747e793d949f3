//! What a published stream feeds besides its players: the output registry.
//!
//! SRS's `SrsOriginHub` calls each of its outputs (HLS, DVR, forwarders,
//! encoder) on publish and unpublish. Here an [`Output`] is registered once
//! for the server and is told about every publish, whatever protocol it came
//! in by; it decides from the stream's vhost whether it has work to do. Each
//! output runs as a consumer of the stream's source, so a slow disk or a slow
//! destination never slows the publisher or the players.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use crate::context::ServerCtx;
use crate::hooks::HookRequest;
use crate::hub::Source;
use crate::vhost::VhostSettings;

/// A stream that has just started being published.
#[derive(Debug, Clone)]
pub struct PublishedStream {
    /// The stream's source in the hub.
    pub source: Arc<Source>,
    /// Its vhost's settings at publish time.
    pub vhost: Arc<VhostSettings>,
    /// The publisher, as hooks describe it (`on_hls`, `on_dvr`...).
    pub publisher: HookRequest,
}

/// One kind of output (HLS; later DVR, forward, transcode).
pub trait Output: Send + Sync + Debug {
    /// For logs.
    fn name(&self) -> &'static str;

    /// `stream` started being published: start feeding this output if its
    /// vhost asks for it.
    fn on_publish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream);

    /// `stream`'s publish ended. An output that follows its source's queue
    /// (as HLS does, to continue across a quick republish) sees the end
    /// there too and may do nothing here.
    fn on_unpublish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        let _ = (ctx, stream);
    }

    /// A config reload changed the settings of `stream`'s vhost from `old`
    /// (those this output last acted on: at publish or the previous reload)
    /// to `new`, while `stream` is being published. An output that follows
    /// its vhost's settings starts or stops for the stream here, so a
    /// reload needs no republish. By default nothing changes for running
    /// streams: the next publish reads `new`.
    fn on_reload(
        &self,
        ctx: &Arc<ServerCtx>,
        stream: &PublishedStream,
        old: &VhostSettings,
        new: &Arc<VhostSettings>,
    ) {
        let _ = (ctx, stream, old, new);
    }

    /// The server is ending and every client was closed: complete what is
    /// being written (a DVR file). The registry bounds the wait.
    fn finish<'a>(&'a self, ctx: &'a Arc<ServerCtx>) -> crate::runtime::BoxFuture<'a, ()> {
        let _ = ctx;
        Box::pin(async {})
    }
}

/// Every output of the server, in the order they are started.
#[derive(Debug)]
pub struct OutputRegistry {
    outputs: Vec<Box<dyn Output>>,
    /// The streams being published now, with the vhost settings their
    /// outputs last acted on (for [`OutputRegistry::reload`]).
    live: Mutex<Vec<PublishedStream>>,
}

impl Default for OutputRegistry {
    /// The outputs this server has: HLS, DVR, forward, transcode, edge publish.
    fn default() -> Self {
        Self::new(vec![
            Box::new(Hls),
            Box::new(crate::dvr::Dvr::default()),
            Box::new(crate::forward::Forward),
            Box::new(crate::ffmpeg::Transcode::default()),
            Box::new(crate::edge::EdgePublish),
        ])
    }
}

impl OutputRegistry {
    /// A registry with exactly `outputs` (tests, embedders).
    pub fn new(outputs: Vec<Box<dyn Output>>) -> Self {
        Self {
            outputs,
            live: Mutex::new(Vec::new()),
        }
    }

    /// Tells every output that `stream` started being published.
    pub fn on_publish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        lock(&self.live).push(stream.clone());
        for output in &self.outputs {
            tracing::trace!(output = output.name(), "on_publish");
            output.on_publish(ctx, stream);
        }
    }

    /// Tells every output that `stream`'s publish ended, last started first.
    pub fn on_unpublish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        lock(&self.live).retain(|s| !s.same_publish(stream));
        for output in self.outputs.iter().rev() {
            output.on_unpublish(ctx, stream);
        }
    }

    /// Lets every output complete its files ([`Output::finish`]), waiting
    /// at most `grace` for all of them together.
    pub async fn finish_all(&self, ctx: &Arc<ServerCtx>, grace: std::time::Duration) {
        let all = futures_util::future::join_all(self.outputs.iter().map(|o| o.finish(ctx)));
        if crate::runtime::timeout(&*ctx.rt, grace, all)
            .await
            .is_none()
        {
            tracing::warn!("outputs still writing after {grace:?}: left unfinished");
        }
    }

    /// The streams being published now.
    pub fn live(&self) -> Vec<PublishedStream> {
        lock(&self.live).clone()
    }

    /// A reload put `vhosts` in force: tells every output about each stream
    /// being published whose vhost is still there ([`Output::on_reload`]).
    /// Streams of a vhost that is gone are ended by the reload itself.
    pub fn reload(&self, ctx: &Arc<ServerCtx>, vhosts: &HashMap<String, Arc<VhostSettings>>) {
        for stream in self.live() {
            let Some(new) = vhosts.get(&stream.source.key.vhost) else {
                continue;
            };
            for output in &self.outputs {
                tracing::trace!(output = output.name(), "on_reload");
                output.on_reload(ctx, &stream, &stream.vhost, new);
            }
            // The next reload compares with what was just applied (unless
            // the stream ended meanwhile).
            if let Some(s) = lock(&self.live)
                .iter_mut()
                .find(|s| s.same_publish(&stream))
            {
                s.vhost = new.clone();
            }
        }
    }
}

impl PublishedStream {
    /// The same publish of the same source.
    fn same_publish(&self, other: &PublishedStream) -> bool {
        Arc::ptr_eq(&self.source, &other.source)
            && self.publisher.client_id == other.publisher.client_id
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// HLS (`vhost { hls { enabled on; } }`): a sink per stream, see `hls_sink`.
#[derive(Debug)]
struct Hls;

impl Output for Hls {
    fn name(&self) -> &'static str {
        "hls"
    }

    fn on_publish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        if let Some(settings) = &stream.vhost.hls {
            ctx.hls.ensure(ctx, &stream.source, settings);
            ctx.hls.set_publisher(&stream.source.key, &stream.publisher);
        }
    }

    /// `hls` switched on: a sink starts on the running stream (at its next
    /// keyframe: a new consumer gets the sequence headers and the cached
    /// GOP's keyframe first). Switched off: the sink closes its segment and
    /// writes the playlist. Changed: the sink is restarted with the new
    /// settings, the next segment marked as a discontinuity.
    fn on_reload(
        &self,
        ctx: &Arc<ServerCtx>,
        stream: &PublishedStream,
        old: &VhostSettings,
        new: &Arc<VhostSettings>,
    ) {
        match (&old.hls, &new.hls) {
            (None, None) => {}
            (None, Some(settings)) => {
                tracing::info!(stream = %stream.source.key, "reload: hls on");
                ctx.hls.ensure(ctx, &stream.source, settings);
            }
            (Some(_), None) => {
                tracing::info!(stream = %stream.source.key, "reload: hls off");
                ctx.hls.stop(&stream.source.key);
            }
            (Some(a), Some(b)) if a.path != b.path || a.config != b.config => {
                tracing::info!(stream = %stream.source.key, "reload: hls changed, restarting its sink");
                ctx.hls.restart(ctx, &stream.source, b, a.path != b.path);
            }
            (Some(_), Some(_)) => {}
        }
    }
}
