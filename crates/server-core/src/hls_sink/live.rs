//! LL-HLS in memory (RFC 8216bis 6.2.5): each low-latency stream's latest
//! playlist (full and delta) and its recent partial segments, which no file
//! ever holds, kept for the HTTP server; and the event a blocking playlist
//! reload (`_HLS_msn`/`_HLS_part`) or a preload-hinted part waits on.
//!
//! The sink writes (it owns the segmenter); HTTP requests read. Keys are
//! absolute paths under `hls_path`, as the HTTP server resolves URLs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use event_listener::Event;

/// Most parts kept per stream, whatever the segment sizes: the playlist lists
/// those of [`LL_SEGMENTS_WITH_PARTS`](media_core::hls::LL_SEGMENTS_WITH_PARTS)
/// + 1 segments; a publisher sending no key frames (one endless segment)
///   would otherwise grow this without end.
pub const MAX_LIVE_PARTS: usize = 512;

/// One stream's LL-HLS state, as of the last part.
#[derive(Debug, Default)]
pub struct LiveState {
    /// The whole playlist.
    pub full: Bytes,
    /// Its delta update (`_HLS_skip=YES`).
    pub delta: Bytes,
    /// The segment being written (or the next one) ...
    pub msn: u64,
    /// ... and how many of its parts the playlist lists.
    pub parts: u32,
    /// The part `EXT-X-PRELOAD-HINT` names.
    pub hint: Option<PathBuf>,
    /// Parts by path: (segment's msn, bytes).
    part_bytes: HashMap<PathBuf, (u64, Bytes)>,
    /// How long a blocking request may wait (3 target durations, 6.2.5.2).
    pub hold: Duration,
}

impl LiveState {
    /// Whether the playlist answers a blocking request for segment `msn`
    /// (and its part `part`): it lists that part, or a later segment.
    pub fn has(&self, msn: u64, part: Option<u32>) -> bool {
        match part {
            None => msn < self.msn,
            Some(p) => msn < self.msn || (msn == self.msn && p < self.parts),
        }
    }

    /// A part's bytes, while kept.
    pub fn part(&self, path: &Path) -> Option<Bytes> {
        self.part_bytes.get(path).map(|(_, b)| b.clone())
    }
}

/// One low-latency stream: its state and the event its changes fire.
#[derive(Debug, Default)]
pub struct LiveStream {
    /// What is served now.
    pub state: Mutex<LiveState>,
    /// Fired at every playlist change (and when the stream goes).
    pub changed: Event,
}

impl LiveStream {
    /// Locks the state (a panic elsewhere leaves it usable).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, LiveState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Every low-latency stream, by playlist path.
#[derive(Debug, Default)]
pub struct LiveHls {
    streams: Mutex<HashMap<PathBuf, Arc<LiveStream>>>,
}

impl LiveHls {
    fn stream(&self, playlist: &Path) -> Arc<LiveStream> {
        self.streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(playlist.to_path_buf())
            .or_default()
            .clone()
    }

    /// The stream whose playlist is `playlist`.
    pub fn find(&self, playlist: &Path) -> Option<Arc<LiveStream>> {
        self.streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(playlist)
            .cloned()
    }

    /// The stream that has (or, by its preload hint, will have) the part `path`.
    pub fn find_part(&self, path: &Path) -> Option<Arc<LiveStream>> {
        let streams: Vec<_> = self
            .streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        streams.into_iter().find(|s| {
            let state = s.lock();
            state.part_bytes.contains_key(path) || state.hint.as_deref() == Some(path)
        })
    }

    /// A part of segment `msn` is complete.
    pub fn publish_part(&self, playlist: &Path, part: PathBuf, msn: u64, bytes: Bytes) {
        let stream = self.stream(playlist);
        let mut state = stream.lock();
        if state.part_bytes.len() >= MAX_LIVE_PARTS {
            if let Some(oldest) = state.part_bytes.values().map(|(m, _)| *m).min() {
                state.part_bytes.retain(|_, (m, _)| *m > oldest);
            }
        }
        state.part_bytes.insert(part, (msn, bytes));
    }

    /// The playlist changed; parts of segments it no longer lists go, and
    /// whoever waits is woken.
    pub fn update(&self, playlist: &Path, next: LiveUpdate) {
        let stream = self.stream(playlist);
        {
            let mut state = stream.lock();
            let keep_from = next
                .msn
                .saturating_sub(media_core::hls::LL_SEGMENTS_WITH_PARTS as u64);
            state.part_bytes.retain(|_, (m, _)| *m >= keep_from);
            state.full = Bytes::from(next.full);
            state.delta = Bytes::from(next.delta);
            state.msn = next.msn;
            state.parts = next.parts;
            state.hint = next.hint;
            state.hold = next.hold;
        }
        stream.changed.notify(usize::MAX);
    }

    /// The stream's sink stopped: nothing of it is served from memory.
    pub fn remove(&self, playlist: &Path) {
        let removed = self
            .streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(playlist);
        if let Some(stream) = removed {
            stream.changed.notify(usize::MAX);
        }
    }
}

/// A new playlist for [`LiveHls::update`].
#[derive(Debug)]
pub struct LiveUpdate {
    /// See [`LiveState::full`].
    pub full: String,
    /// See [`LiveState::delta`].
    pub delta: String,
    /// See [`LiveState::msn`].
    pub msn: u64,
    /// See [`LiveState::parts`].
    pub parts: u32,
    /// See [`LiveState::hint`].
    pub hint: Option<PathBuf>,
    /// See [`LiveState::hold`].
    pub hold: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_segments_no_longer_listed_go() {
        let live = LiveHls::default();
        let m3u8 = Path::new("/h/live/s.m3u8");
        for msn in 0..6u64 {
            live.publish_part(
                m3u8,
                format!("/h/live/s-{msn}.0.m4s").into(),
                msn,
                Bytes::new(),
            );
            live.update(
                m3u8,
                LiveUpdate {
                    full: String::new(),
                    delta: String::new(),
                    msn,
                    parts: 1,
                    hint: Some(format!("/h/live/s-{msn}.1.m4s").into()),
                    hold: Duration::from_secs(6),
                },
            );
        }
        let stream = live.find(m3u8).unwrap();
        let state = stream.lock();
        assert!(state.part(Path::new("/h/live/s-1.0.m4s")).is_none());
        assert!(state.part(Path::new("/h/live/s-2.0.m4s")).is_some());
        assert!(state.has(5, Some(0)) && !state.has(5, Some(1)) && state.has(4, None));
        assert!(!state.has(5, None));
        drop(state);
        assert!(live.find_part(Path::new("/h/live/s-5.1.m4s")).is_some());
        live.remove(m3u8);
        assert!(live.find(m3u8).is_none());
    }
}
