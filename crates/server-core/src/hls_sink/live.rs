//! LL-HLS in memory (RFC 8216bis 6.2.5): each low-latency stream's latest
//! playlist (full and delta), its recent partial segments, which no file
//! ever holds, and the complete segments those parts make up, kept for the
//! HTTP server; and the event a blocking playlist reload
//! (`_HLS_msn`/`_HLS_part`) or a preload-hinted part waits on.
//!
//! A complete segment is held as the very `Bytes` its file was written
//! from, in order, so it is the file byte for byte by construction (no
//! comparison with the parts is needed). In LL-HLS each of those buffers is
//! also one of its parts (the segmenter hands the same `Bytes` to the
//! segment and to the part), so holding a segment copies nothing.
//!
//! The bound: segments are kept exactly as long as their parts, those of
//! the [`LL_SEGMENTS_WITH_PARTS`] newest closed segments, which the
//! playlist lists parts for (RFC 8216bis 6.2.2: EXT-X-PART tags go once
//! they are more than three target durations from the end). So a stream
//! holds at most that many segments, each of at most [`MAX_LIVE_PARTS`]
//! buffers, all of them buffers its parts hold anyway: the cost is a
//! handle (32 bytes) a part. Older segments are answered from their files,
//! which are written as before (players, CDNs and operators read them).
//!
//! The sink writes (it owns the segmenter); HTTP requests read. Keys are
//! absolute paths under `hls_path`, as the HTTP server resolves URLs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use event_listener::Event;
use media_core::hls::LL_SEGMENTS_WITH_PARTS;

/// Most parts kept per stream, whatever the segment sizes: the playlist lists
/// those of [`LL_SEGMENTS_WITH_PARTS`] + 1 segments; a publisher sending no
/// key frames (one endless segment) would otherwise grow this without end.
/// A segment of more pieces than this is not held in memory either (it is
/// served from its file): its parts could not all be kept.
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
    /// Complete segments by final path: (msn, the buffers of its file, in
    /// order). At most [`LL_SEGMENTS_WITH_PARTS`], those whose parts are kept.
    segment_bytes: HashMap<PathBuf, (u64, Vec<Bytes>)>,
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

    /// A complete segment's bytes, while kept: its file's bytes as the
    /// buffers they were written from (handles, no copy).
    pub fn segment(&self, path: &Path) -> Option<Vec<Bytes>> {
        self.segment_bytes.get(path).map(|(_, b)| b.clone())
    }

    /// Whether `path` is one of the parts or complete segments held, or
    /// the part the preload hint names: what [`LiveHls::find_media`] finds.
    fn holds(&self, path: &Path) -> bool {
        self.part_bytes.contains_key(path)
            || self.segment_bytes.contains_key(path)
            || self.hint.as_deref() == Some(path)
    }

    /// Drops the parts and segments of segments before `msn`; their paths.
    fn keep_from(&mut self, msn: u64) -> Vec<PathBuf> {
        let mut dropped = Vec::new();
        self.part_bytes.retain(|path, (m, _)| {
            let keep = *m >= msn;
            if !keep {
                dropped.push(path.clone());
            }
            keep
        });
        self.segment_bytes.retain(|path, (m, _)| {
            let keep = *m >= msn;
            if !keep {
                dropped.push(path.clone());
            }
            keep
        });
        dropped
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
    /// Locks the state (a panic elsewhere leaves it usable). Call no
    /// [`LiveHls`] method while holding it: they take their registry's lock
    /// before a stream's.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, LiveState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Every low-latency stream, by playlist path, and by the path of each part,
/// complete segment and preload hint it holds: a media request finds its
/// stream in one lookup, however many streams there are.
#[derive(Debug, Default)]
pub struct LiveHls {
    streams: Mutex<Streams>,
}

/// [`LiveHls`]'s two indexes, under one lock so they always agree.
#[derive(Debug, Default)]
struct Streams {
    by_playlist: HashMap<PathBuf, Arc<LiveStream>>,
    /// Exactly the paths for which [`LiveState::holds`] is true, of the
    /// streams in `by_playlist`. A path two streams hold (templates without
    /// `[stream]`, whose files overwrite each other too) finds the stream
    /// that took it last, and nothing once that one lets it go.
    by_media: HashMap<PathBuf, Arc<LiveStream>>,
}

impl Streams {
    /// `path`, which `stream`'s state (`state`) may have gained or lost,
    /// indexed to `stream` if the state holds it, unindexed if not (and the
    /// index names this stream: another stream may hold the same path).
    fn reindex(&mut self, stream: &Arc<LiveStream>, state: &LiveState, path: PathBuf) {
        if state.holds(&path) {
            self.by_media.insert(path, Arc::clone(stream));
        } else {
            self.unindex(stream, &path);
        }
    }

    /// `path` no longer finds `stream` (if it found another, it still does).
    fn unindex(&mut self, stream: &Arc<LiveStream>, path: &Path) {
        if self
            .by_media
            .get(path)
            .is_some_and(|s| Arc::ptr_eq(s, stream))
        {
            self.by_media.remove(path);
        }
    }
}

impl LiveHls {
    fn streams(&self) -> std::sync::MutexGuard<'_, Streams> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `edit` on the state of the stream of `playlist` (registered
    /// first if `register`; nothing happens for an unknown stream if not)
    /// and reindexes every path `edit` returns: those it added or dropped.
    /// The registry's lock is held throughout, and always taken before a
    /// stream's, so the indexes and the states never disagree.
    fn edit(
        &self,
        playlist: &Path,
        register: bool,
        edit: impl FnOnce(&mut LiveState) -> Vec<PathBuf>,
    ) -> Option<Arc<LiveStream>> {
        let mut streams = self.streams();
        let stream = if register {
            let entry = streams.by_playlist.entry(playlist.to_path_buf());
            Arc::clone(entry.or_default())
        } else {
            Arc::clone(streams.by_playlist.get(playlist)?)
        };
        let mut state = stream.lock();
        for path in edit(&mut state) {
            streams.reindex(&stream, &state, path);
        }
        drop(state);
        Some(stream)
    }

    /// The stream whose playlist is `playlist`.
    pub fn find(&self, playlist: &Path) -> Option<Arc<LiveStream>> {
        self.streams().by_playlist.get(playlist).cloned()
    }

    /// The stream that has the part or complete segment `path` in memory
    /// (or, by its preload hint, will have the part).
    pub fn find_media(&self, path: &Path) -> Option<Arc<LiveStream>> {
        self.streams().by_media.get(path).cloned()
    }

    /// A part of segment `msn` is complete.
    pub fn publish_part(&self, playlist: &Path, part: PathBuf, msn: u64, bytes: Bytes) {
        self.edit(playlist, true, |state| {
            let mut touched = Vec::new();
            if state.part_bytes.len() >= MAX_LIVE_PARTS {
                if let Some(oldest) = state.part_bytes.values().map(|(m, _)| *m).min() {
                    touched = state.keep_from(oldest.saturating_add(1));
                }
            }
            state.part_bytes.insert(part.clone(), (msn, bytes));
            touched.push(part);
            touched
        });
    }

    /// Segment `msn` closed and its file is at `path`, written from
    /// `chunks` in order. Kept while its parts are (see the module doc):
    /// with it, the [`LL_SEGMENTS_WITH_PARTS`] newest segments at most.
    pub fn publish_segment(&self, playlist: &Path, path: PathBuf, msn: u64, chunks: Vec<Bytes>) {
        self.edit(playlist, true, |state| {
            let window = LL_SEGMENTS_WITH_PARTS as u64;
            let mut touched = Vec::new();
            state.segment_bytes.retain(|held, (m, _)| {
                let keep = m.saturating_add(window) > msn;
                if !keep {
                    touched.push(held.clone());
                }
                keep
            });
            state.segment_bytes.insert(path.clone(), (msn, chunks));
            touched.push(path);
            touched
        });
    }

    /// The file of a segment was deleted (`hls_cleanup`): memory does not
    /// answer for it any longer either.
    pub fn forget_segment(&self, playlist: &Path, path: &Path) {
        self.edit(playlist, false, |state| {
            state.segment_bytes.remove(path);
            vec![path.to_path_buf()]
        });
    }

    /// The playlist changed; parts of segments it no longer lists go (and
    /// those segments), and whoever waits is woken.
    pub fn update(&self, playlist: &Path, next: LiveUpdate) {
        let stream = self.edit(playlist, true, |state| {
            let mut touched =
                state.keep_from(next.msn.saturating_sub(LL_SEGMENTS_WITH_PARTS as u64));
            touched.extend(state.hint.take());
            touched.extend(next.hint.clone());
            state.full = Bytes::from(next.full);
            state.delta = Bytes::from(next.delta);
            state.msn = next.msn;
            state.parts = next.parts;
            state.hint = next.hint;
            state.hold = next.hold;
            touched
        });
        if let Some(stream) = stream {
            stream.changed.notify(usize::MAX);
        }
    }

    /// The stream's sink stopped: nothing of it is served from memory.
    pub fn remove(&self, playlist: &Path) {
        let mut streams = self.streams();
        let Some(stream) = streams.by_playlist.remove(playlist) else {
            return;
        };
        {
            let state = stream.lock();
            let parts = state.part_bytes.keys();
            let held = parts.chain(state.segment_bytes.keys()).chain(&state.hint);
            for path in held {
                streams.unindex(&stream, path);
            }
        }
        drop(streams);
        stream.changed.notify(usize::MAX);
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
            update(
                &live,
                m3u8,
                msn,
                1,
                Some(format!("/h/live/s-{msn}.1.m4s").into()),
            );
        }
        let stream = live.find(m3u8).unwrap();
        let state = stream.lock();
        assert!(state.part(Path::new("/h/live/s-1.0.m4s")).is_none());
        assert!(state.part(Path::new("/h/live/s-2.0.m4s")).is_some());
        assert!(state.has(5, Some(0)) && !state.has(5, Some(1)) && state.has(4, None));
        assert!(!state.has(5, None));
        drop(state);
        assert!(live.find_media(Path::new("/h/live/s-5.1.m4s")).is_some());
        live.remove(m3u8);
        assert!(live.find(m3u8).is_none());
    }

    /// An empty playlist text at `msn` with `parts` parts and a hint.
    fn update(live: &LiveHls, m3u8: &Path, msn: u64, parts: u32, hint: Option<PathBuf>) {
        live.update(
            m3u8,
            LiveUpdate {
                full: String::new(),
                delta: String::new(),
                msn,
                parts,
                hint,
                hold: Duration::from_secs(6),
            },
        );
    }

    #[test]
    fn complete_segments_are_kept_while_their_parts_are() {
        let live = LiveHls::default();
        let m3u8 = Path::new("/h/live/s.m3u8");
        let seg = |msn: u64| PathBuf::from(format!("/h/live/s-{msn}.m4s"));
        let part = |msn: u64| PathBuf::from(format!("/h/live/s-{msn}.0.m4s"));
        for msn in 0..6u64 {
            let bytes = Bytes::from(vec![msn as u8; 100]);
            live.publish_part(m3u8, part(msn), msn, bytes.clone());
            live.publish_segment(m3u8, seg(msn), msn, vec![bytes]);
            // Segment `msn` closed; the next one is being written.
            update(&live, m3u8, msn + 1, 0, None);
        }
        let stream = live.find(m3u8).unwrap();
        {
            let state = stream.lock();
            for msn in 0..6u64 {
                let held = state.segment(&seg(msn));
                assert_eq!(held.is_some(), msn >= 3, "segment {msn}");
                assert_eq!(state.part(&part(msn)).is_some(), msn >= 3, "part {msn}");
                if let (Some(held), Some(p)) = (held, state.part(&part(msn))) {
                    // The segment is its part's buffer, not a copy.
                    assert_eq!(held.len(), 1);
                    assert_eq!(held[0].as_ptr(), p.as_ptr());
                }
            }
        }
        assert!(live.find_media(&seg(5)).is_some());
        assert!(live.find_media(&seg(2)).is_none());
        assert_indexed(&live);
        live.forget_segment(m3u8, &seg(5));
        assert!(stream.lock().segment(&seg(5)).is_none());
        assert!(stream.lock().part(&part(5)).is_some());
        live.remove(m3u8);
        assert!(live.find_media(&seg(4)).is_none());
    }

    /// A media path finds the stream holding it, among several, and
    /// nothing once that stream let it go or was removed.
    #[test]
    fn media_finds_its_own_stream_and_none_once_gone() {
        let live = LiveHls::default();
        let (a, b) = (Path::new("/h/live/a.m3u8"), Path::new("/h/live/b.m3u8"));
        let path = |s: &str, name: &str| PathBuf::from(format!("/h/live/{s}-{name}.m4s"));
        for (m3u8, s) in [(a, "a"), (b, "b")] {
            live.publish_part(m3u8, path(s, "0.0"), 0, Bytes::new());
            live.publish_segment(m3u8, path(s, "0"), 0, vec![Bytes::new()]);
            update(&live, m3u8, 1, 0, Some(path(s, "1.0")));
        }
        let same = |found: Option<Arc<LiveStream>>, m3u8: &Path| {
            let wanted = live.find(m3u8).expect("registered");
            found.is_some_and(|f| Arc::ptr_eq(&f, &wanted))
        };
        assert_indexed(&live);
        for (m3u8, s) in [(a, "a"), (b, "b")] {
            for name in ["0.0", "0", "1.0"] {
                assert!(same(live.find_media(&path(s, name)), m3u8), "{s}-{name}");
            }
        }
        // The hint moves on (not yet published): the old one finds nothing.
        update(&live, a, 1, 1, Some(path("a", "1.1")));
        assert!(live.find_media(&path("a", "1.0")).is_none());
        assert!(same(live.find_media(&path("a", "1.1")), a));
        // A hinted part, once published, stays found when the hint moves.
        live.publish_part(a, path("a", "1.1"), 1, Bytes::new());
        update(&live, a, 1, 2, Some(path("a", "1.2")));
        assert!(same(live.find_media(&path("a", "1.1")), a));
        live.forget_segment(a, &path("a", "0"));
        assert!(live.find_media(&path("a", "0")).is_none());
        assert!(same(live.find_media(&path("a", "0.0")), a));
        assert_indexed(&live);
        live.remove(a);
        for name in ["0.0", "1.1", "1.2"] {
            assert!(live.find_media(&path("a", name)).is_none(), "a-{name}");
        }
        assert!(same(live.find_media(&path("b", "0.0")), b));
        assert!(same(live.find_media(&path("b", "0")), b));
        // Parts of segments the playlist no longer lists are not found.
        update(&live, b, 4, 0, None);
        assert!(live.find_media(&path("b", "0.0")).is_none());
        assert!(live.find_media(&path("b", "1.0")).is_none());
        assert!(live.streams().by_media.is_empty());
    }

    #[test]
    fn held_segments_are_bounded_without_playlist_updates() {
        let live = LiveHls::default();
        let m3u8 = Path::new("/h/live/s.m3u8");
        for msn in 0..20u64 {
            let path = PathBuf::from(format!("/h/live/s-{msn}.m4s"));
            live.publish_segment(m3u8, path, msn, vec![Bytes::from_static(b"x")]);
        }
        let stream = live.find(m3u8).unwrap();
        let state = stream.lock();
        assert_eq!(state.segment_bytes.len(), LL_SEGMENTS_WITH_PARTS);
        assert!(state.segment(Path::new("/h/live/s-19.m4s")).is_some());
        assert!(state.segment(Path::new("/h/live/s-16.m4s")).is_none());
        drop(state);
        // Parts beyond MAX_LIVE_PARTS push the oldest segment out with its parts.
        for i in 0..MAX_LIVE_PARTS as u64 {
            let path = PathBuf::from(format!("/h/live/s-17.{i}.m4s"));
            live.publish_part(m3u8, path, 17 + i / 300, Bytes::new());
        }
        let state = stream.lock();
        assert!(state.segment(Path::new("/h/live/s-17.m4s")).is_some());
        drop(state);
        live.publish_part(m3u8, "/h/live/s-20.0.m4s".into(), 20, Bytes::new());
        let state = stream.lock();
        assert!(state.segment(Path::new("/h/live/s-17.m4s")).is_none());
        assert!(state.segment(Path::new("/h/live/s-18.m4s")).is_some());
        drop(state);
        assert!(live.find_media(Path::new("/h/live/s-17.m4s")).is_none());
        assert!(live.find_media(Path::new("/h/live/s-17.0.m4s")).is_none());
        assert_indexed(&live);
    }

    /// The media index holds exactly what the streams hold, each path
    /// finding its own stream.
    fn assert_indexed(live: &LiveHls) {
        let streams = live.streams();
        let mut held = std::collections::HashSet::new();
        for stream in streams.by_playlist.values() {
            let state = stream.lock();
            let parts = state.part_bytes.keys();
            for path in parts.chain(state.segment_bytes.keys()).chain(&state.hint) {
                let found = streams.by_media.get(path).expect("indexed");
                assert!(Arc::ptr_eq(found, stream), "{path:?}");
                held.insert(path.clone());
            }
        }
        assert_eq!(streams.by_media.len(), held.len());
    }
}
