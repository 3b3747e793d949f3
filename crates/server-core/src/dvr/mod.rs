//! DVR output (SRS's `dvr { }`): records published streams to FLV or MP4
//! files.
//!
//! Each publish of a stream the vhost's `dvr_apply` names gets a
//! [`recorder`] task: a consumer of the stream's source (like the HLS sink),
//! so a slow or failing disk never slows the publisher or its players. The
//! `session` plan writes one file per publish; `segment` starts a new file
//! every `dvr_duration`, at the next key frame with `dvr_wait_keyframe`. A
//! file is written as `NAME.tmp` and renamed when complete, then `on_dvr` is
//! sent. A write that fails (disk full, unwritable path) stops that
//! stream's recording with a logged error; nothing else is affected.

mod path;
mod recorder;

use std::sync::Arc;

pub use path::{Container, DvrPath, DvrPathError, DEFAULT_DVR_PATH};
pub use recorder::{FLUSH_BYTES, FLUSH_MS, FS_TIMEOUT, QUEUE_SPAN_MS};

use crate::context::ServerCtx;
use crate::lifecycle::{Output, PublishedStream};

/// The DVR output in the [`crate::lifecycle::OutputRegistry`].
#[derive(Debug, Default)]
pub struct Dvr;

impl Output for Dvr {
    fn name(&self) -> &'static str {
        "dvr"
    }

    fn on_publish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        let Some(config) = &stream.vhost.dvr else {
            return;
        };
        if !config.applies_to(&stream.source.key) {
            return;
        }
        recorder::start(ctx, stream, config.clone());
    }
}
