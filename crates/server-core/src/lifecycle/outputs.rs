//! What a published stream feeds besides its players: the output registry.
//!
//! SRS's `SrsOriginHub` calls each of its outputs (HLS, DVR, forwarders,
//! encoder) on publish and unpublish. Here an [`Output`] is registered once
//! for the server and is told about every publish, whatever protocol it came
//! in by; it decides from the stream's vhost whether it has work to do. Each
//! output runs as a consumer of the stream's source, so a slow disk or a slow
//! destination never slows the publisher or the players.

use std::fmt::Debug;
use std::sync::Arc;

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
}

/// Every output of the server, in the order they are started.
#[derive(Debug)]
pub struct OutputRegistry {
    outputs: Vec<Box<dyn Output>>,
}

impl Default for OutputRegistry {
    /// The outputs this server has: HLS.
    fn default() -> Self {
        Self {
            outputs: vec![Box::new(Hls)],
        }
    }
}

impl OutputRegistry {
    /// A registry with exactly `outputs` (tests, embedders).
    pub fn new(outputs: Vec<Box<dyn Output>>) -> Self {
        Self { outputs }
    }

    /// Tells every output that `stream` started being published.
    pub fn on_publish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        for output in &self.outputs {
            tracing::trace!(output = output.name(), "on_publish");
            output.on_publish(ctx, stream);
        }
    }

    /// Tells every output that `stream`'s publish ended, last started first.
    pub fn on_unpublish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        for output in self.outputs.iter().rev() {
            output.on_unpublish(ctx, stream);
        }
    }
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
        }
    }
}
