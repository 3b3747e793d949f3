//! DVR output (SRS's `dvr { }`): records published streams to FLV or MP4
//! files.
//!
//! Each publish of a stream the vhost's `dvr_apply` names gets a
//! [`recorder`] task: a consumer of the stream's source (like the HLS sink),
//! so a slow or failing disk never slows the publisher or its players. The
//! `session` plan writes one file per publish; `segment` starts a new file
//! every `dvr_duration`, at the next key frame with `dvr_wait_keyframe`. A
//! file is written as `NAME.tmp` and renamed when complete, then `on_dvr` is
//! sent. An MP4 file declares its tracks once, so a new decoder
//! configuration from the publisher (a resolution change) starts a new MP4
//! file; FLV carries it in band. A write that fails (disk full, unwritable path) stops that
//! stream's recording with a logged error; nothing else is affected.

mod path;
mod recorder;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use event_listener::Event;

pub use path::{Container, DvrPath, DvrPathError, DEFAULT_DVR_PATH};
pub use recorder::{FLUSH_BYTES, FLUSH_MS, FS_TIMEOUT, QUEUE_SPAN_MS};

use crate::config::DvrConfig;
use crate::context::ServerCtx;
use crate::lifecycle::{Output, PublishedStream};
use crate::runtime::BoxFuture;
use crate::vhost::VhostSettings;

/// The DVR output in the [`crate::lifecycle::OutputRegistry`].
#[derive(Debug, Default)]
pub struct Dvr {
    recordings: Arc<Recordings>,
}

/// The running recorders, by source id and publisher client id (one
/// publish).
#[derive(Debug, Default)]
pub(crate) struct Recordings {
    running: Mutex<HashMap<(u64, String), Arc<Control>>>,
    /// Notified whenever a recorder ends.
    ended: Event,
}

/// Tells one recorder to close its file and stop.
#[derive(Debug, Default)]
pub(crate) struct Control {
    stop: AtomicBool,
    wake: Event,
}

impl Control {
    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub(crate) fn listen(&self) -> event_listener::EventListener {
        self.wake.listen()
    }
}

fn publish_id(stream: &PublishedStream) -> (u64, String) {
    (stream.source.id, stream.publisher.client_id.clone())
}

impl Recordings {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(u64, String), Arc<Control>>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A recorder of `id` ended (`control` is its own: a newer one for the
    /// same publish stays registered).
    pub(crate) fn ended(&self, id: &(u64, String), control: &Arc<Control>) {
        let mut running = self.lock();
        if running.get(id).is_some_and(|c| Arc::ptr_eq(c, control)) {
            running.remove(id);
        }
        drop(running);
        self.ended.notify(usize::MAX);
    }

    fn stop(&self, id: &(u64, String)) {
        if let Some(control) = self.lock().remove(id) {
            control.stop.store(true, Ordering::SeqCst);
            control.wake.notify(usize::MAX);
        }
    }
}

impl Dvr {
    fn start(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream, config: &DvrConfig) {
        if !config.applies_to(&stream.source.key) {
            return;
        }
        let control = Arc::new(Control::default());
        let id = publish_id(stream);
        self.recordings.lock().insert(id.clone(), control.clone());
        recorder::start(
            ctx,
            stream,
            config.clone(),
            self.recordings.clone(),
            id,
            control,
        );
    }
}

impl Output for Dvr {
    fn name(&self) -> &'static str {
        "dvr"
    }

    fn on_publish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        if let Some(config) = &stream.vhost.dvr {
            self.start(ctx, stream, config);
        }
    }

    /// A changed `dvr { }` applies to running streams at once: the file
    /// being written is closed (and reported with `on_dvr`), and recording
    /// starts anew in a new file if the vhost still records the stream.
    fn on_reload(
        &self,
        ctx: &Arc<ServerCtx>,
        stream: &PublishedStream,
        old: &VhostSettings,
        new: &Arc<VhostSettings>,
    ) {
        if old.dvr == new.dvr {
            return;
        }
        self.recordings.stop(&publish_id(stream));
        if let Some(config) = &new.dvr {
            self.start(ctx, stream, config);
        }
    }

    /// Waits for every recorder to close its file (their publishers are
    /// gone by now).
    fn finish<'a>(&'a self, _ctx: &'a Arc<ServerCtx>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            loop {
                let listener = self.recordings.ended.listen();
                if self.recordings.lock().is_empty() {
                    return;
                }
                listener.await;
            }
        })
    }
}
