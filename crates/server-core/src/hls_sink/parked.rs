//! Stopped streams' playlists, kept so that a republish continues them.
//!
//! Up to [`MAX_PARKED_SEGMENTERS`] of them live as long as the server. Each
//! is a [`SuspendedPlaylist`] (not a whole segmenter's dozens of small
//! allocations), and all of them wait on one [`PlaylistShelf`] with their
//! names: a thousand parked streams are a few large allocations. Made one
//! by one amid the memory their ended sinks had just freed, even a few
//! small blocks each kept a page of it each from going back to the system
//! (issue 23 §4).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use media_core::hls::{PlaylistShelf, ShelfId, SuspendedPlaylist};

use super::renditions::Renditions;
use super::MAX_PARKED_SEGMENTERS;
use crate::hub::StreamKey;

/// What an ended sink leaves for a republish.
#[derive(Debug)]
pub(super) struct Parking {
    pub playlist: SuspendedPlaylist,
    /// `hls_path` the playlist's paths are relative to.
    pub root: PathBuf,
    /// When `hls_dispose` removes its files (runtime clock), if it does.
    pub dispose_at: Option<Duration>,
    /// Its multitrack renditions, if it had any (boxed: most streams have none).
    pub renditions: Option<Box<Renditions>>,
}

/// A parked stream taken back (a republish, or its `hls_dispose`).
#[derive(Debug)]
pub(super) struct Unparked {
    /// `vhost/app/stream`, for logs.
    pub name: String,
    pub playlist: SuspendedPlaylist,
    pub root: Arc<Path>,
    pub renditions: Option<Box<Renditions>>,
}

/// One parked stream; its names (`vhost`, `app`, `stream` back to back)
/// are its label on the shelf.
#[derive(Debug)]
struct Parked {
    id: ShelfId,
    app_at: usize,
    stream_at: usize,
    root: Arc<Path>,
    dispose_at: Option<Duration>,
    renditions: Option<Box<Renditions>>,
}

/// The parked streams, oldest first.
#[derive(Debug, Default)]
pub(super) struct ParkedStreams {
    list: VecDeque<Parked>,
    shelf: PlaylistShelf,
    /// The `hls_path`s in use, shared (a handful, one per vhost).
    roots: Vec<Arc<Path>>,
}

impl ParkedStreams {
    /// Keeps `parking` for `key`'s republish, in place of what `key` had;
    /// the oldest go beyond [`MAX_PARKED_SEGMENTERS`].
    pub(super) fn park(&mut self, key: &StreamKey, parking: Parking) {
        self.forget(key);
        while self.list.len() >= MAX_PARKED_SEGMENTERS {
            if let Some(oldest) = self.list.pop_front() {
                self.shelf.take(oldest.id);
            }
        }
        let label = [key.vhost.as_str(), &key.app, &key.stream].concat();
        let root = self.root(parking.root);
        self.list.push_back(Parked {
            id: self.shelf.put(&label, parking.playlist),
            app_at: key.vhost.len(),
            stream_at: key.vhost.len() + key.app.len(),
            root,
            dispose_at: parking.dispose_at,
            renditions: parking.renditions,
        });
    }

    /// Takes `key`'s parked playlist back.
    pub(super) fn take(&mut self, key: &StreamKey) -> Option<Unparked> {
        let at = self.list.iter().position(|p| self.is(p, key))?;
        let parked = self.list.remove(at)?;
        self.unpark(parked)
    }

    /// Drops what `key` had parked.
    pub(super) fn forget(&mut self, key: &StreamKey) {
        drop(self.take(key));
    }

    /// Whether a parked stream's `hls_dispose` is due at `now`.
    pub(super) fn any_due(&self, now: Duration) -> bool {
        self.list
            .iter()
            .any(|p| p.dispose_at.is_some_and(|t| t <= now))
    }

    /// Takes back every parked stream whose `hls_dispose` is due at `now`.
    pub(super) fn take_due(&mut self, now: Duration) -> Vec<Unparked> {
        let (due, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.list)
            .into_iter()
            .partition(|p| p.dispose_at.is_some_and(|t| t <= now));
        self.list = keep.into();
        due.into_iter().filter_map(|p| self.unpark(p)).collect()
    }

    fn unpark(&mut self, parked: Parked) -> Option<Unparked> {
        let (vhost, app, stream) = self.names(&parked);
        let name = format!("{vhost}/{app}/{stream}");
        let playlist = self.shelf.take(parked.id)?;
        Some(Unparked {
            name,
            playlist,
            root: parked.root,
            renditions: parked.renditions,
        })
    }

    /// (vhost, app, stream) of `parked`.
    fn names(&self, parked: &Parked) -> (&str, &str, &str) {
        let label = self.shelf.label(&parked.id);
        let name = |from: usize, to: usize| label.get(from..to).unwrap_or_default();
        (
            name(0, parked.app_at),
            name(parked.app_at, parked.stream_at),
            name(parked.stream_at, label.len()),
        )
    }

    fn is(&self, parked: &Parked, key: &StreamKey) -> bool {
        self.names(parked) == (key.vhost.as_str(), key.app.as_str(), key.stream.as_str())
    }

    /// `root` shared with the parked streams under it.
    fn root(&mut self, root: PathBuf) -> Arc<Path> {
        self.roots.retain(|r| Arc::strong_count(r) > 1);
        if let Some(known) = self.roots.iter().find(|r| ***r == *root) {
            return known.clone();
        }
        let root: Arc<Path> = root.into();
        self.roots.push(root.clone());
        root
    }

    /// How many streams are parked.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        debug_assert_eq!(self.list.len(), self.shelf.len());
        self.list.len()
    }

    /// `vhost/app/stream` of each, oldest first.
    #[cfg(test)]
    pub(super) fn names_in_order(&self) -> Vec<String> {
        self.list
            .iter()
            .map(|p| {
                let (vhost, app, stream) = self.names(p);
                format!("{vhost}/{app}/{stream}")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use media_core::hls::HlsSegmenter;

    fn key(vhost: &str, app: &str, stream: &str) -> StreamKey {
        StreamKey {
            vhost: vhost.into(),
            app: app.into(),
            stream: stream.into(),
        }
    }

    fn parking(root: &str) -> Parking {
        Parking {
            playlist: HlsSegmenter::new(Default::default(), "live", "s").suspend(),
            root: root.into(),
            dispose_at: None,
            renditions: None,
        }
    }

    /// Names that concatenate alike are still told apart.
    #[test]
    fn a_parked_stream_is_found_by_its_own_key_only() {
        let mut parked = ParkedStreams::default();
        parked.park(&key("v", "live", "cam/x"), parking("/hls"));
        for other in [
            key("v", "live/cam", "x"),
            key("vl", "ive", "cam/x"),
            key("v", "live", "cam/"),
            key("v", "live", "cam/xy"),
        ] {
            assert!(parked.take(&other).is_none(), "{other}");
        }
        let back = parked.take(&key("v", "live", "cam/x")).expect("parked");
        assert_eq!(back.name, "v/live/cam/x");
        assert_eq!(parked.len(), 0);
    }

    /// Streams under one `hls_path` share it.
    #[test]
    fn roots_are_shared() {
        let mut parked = ParkedStreams::default();
        parked.park(&key("v", "live", "a"), parking("/hls"));
        parked.park(&key("v", "live", "b"), parking("/hls"));
        parked.park(&key("w", "live", "c"), parking("/other"));
        let a = parked.take(&key("v", "live", "a")).expect("parked");
        let b = parked.take(&key("v", "live", "b")).expect("parked");
        let c = parked.take(&key("w", "live", "c")).expect("parked");
        assert!(Arc::ptr_eq(&a.root, &b.root));
        assert_eq!(&*c.root, Path::new("/other"));
    }
}
