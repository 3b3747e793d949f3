//! The sliding window of segments and its media playlist text (RFC 8216 4.3).

use std::collections::VecDeque;
use std::fmt::Write as _;

/// A playlist lists at most this many segments, whatever their durations.
/// The duration rule alone keeps any number of zero-length segments (a
/// publisher can make one per codec change, at a standing timestamp), and
/// every cut rewrites the whole playlist, so the window, the playlist text
/// and the files kept would grow without end. 8192 segments cover a 22-hour
/// `hls_window` at the default 10 s fragments, or 27 minutes even at the
/// 200 ms floor; at typical names that is a few hundred KiB of text.
pub const MAX_WINDOW_SEGMENTS: usize = 8192;

/// One closed segment in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub seq: u64,
    /// File path relative to the HLS root (what a delete acts on).
    pub path: String,
    /// URI relative to the playlist (what the playlist lists).
    pub uri: String,
    pub duration_ms: u64,
    /// Preceded by EXT-X-DISCONTINUITY (RFC 8216 4.3.2.3).
    pub discontinuity: bool,
    /// fMP4: the URI of its init segment (EXT-X-MAP, RFC 8216 4.3.2.5);
    /// `None` for MPEG-TS.
    pub map: Option<String>,
}

/// The segments a live playlist currently lists.
#[derive(Debug, Clone, Default)]
pub(crate) struct Window {
    entries: VecDeque<Entry>,
    /// EXT-X-DISCONTINUITY-SEQUENCE: discontinuity tags that left the window
    /// (RFC 8216 4.3.3.3, 6.2.2).
    discontinuity_sequence: u64,
    /// Sequence number the next segment will have; the media sequence of an
    /// empty window.
    next_seq: u64,
}

impl Window {
    /// A window as a suspended playlist kept it (see
    /// [`SuspendedPlaylist`](super::SuspendedPlaylist)).
    pub(crate) fn restored(
        entries: VecDeque<Entry>,
        discontinuity_sequence: u64,
        next_seq: u64,
    ) -> Self {
        Self {
            entries,
            discontinuity_sequence,
            next_seq,
        }
    }

    /// The sequence number the next segment will have, as far as the
    /// window knows (the media sequence of an empty window).
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub(crate) fn push(&mut self, entry: Entry) {
        self.next_seq = entry.seq.saturating_add(1);
        self.entries.push_back(entry);
    }

    /// Drops the oldest segments until the rest add up to at most
    /// `window_ms` and number at most [`MAX_WINDOW_SEGMENTS`], keeping at
    /// least the newest one. Returns what was dropped.
    pub(crate) fn shrink(&mut self, window_ms: u64) -> Vec<Entry> {
        let mut kept_ms = 0u64;
        let mut keep = 0usize;
        for e in self.entries.iter().rev() {
            kept_ms = kept_ms.saturating_add(e.duration_ms);
            if keep > 0 && (kept_ms > window_ms || keep >= MAX_WINDOW_SEGMENTS) {
                break;
            }
            keep += 1;
        }
        let drop = self.entries.len() - keep;
        let removed: Vec<Entry> = self.entries.drain(..drop).collect();
        self.discontinuity_sequence += removed.iter().filter(|e| e.discontinuity).count() as u64;
        removed
    }

    /// Empties the window (hls_dispose), returning every entry.
    pub(crate) fn clear(&mut self) -> Vec<Entry> {
        self.discontinuity_sequence = 0;
        self.entries.drain(..).collect()
    }

    /// The listed segments, oldest first.
    pub(crate) fn entries(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.entries.iter()
    }

    /// EXT-X-DISCONTINUITY-SEQUENCE (0: none left the window).
    pub(crate) fn discontinuity_sequence(&self) -> u64 {
        self.discontinuity_sequence
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// EXT-X-MEDIA-SEQUENCE: the sequence number of the first listed segment.
    pub(crate) fn media_sequence(&self) -> u64 {
        self.entries.front().map_or(self.next_seq, |e| e.seq)
    }

    /// EXT-X-TARGETDURATION: the longest listed segment rounded up to whole
    /// seconds, so every EXTINF rounded to the nearest integer is at most it
    /// (RFC 8216 4.3.3.1). At least 1.
    pub(crate) fn target_duration(&self) -> u64 {
        let longest = self
            .entries
            .iter()
            .map(|e| e.duration_ms)
            .max()
            .unwrap_or(0);
        longest.div_ceil(1000).max(1)
    }

    /// The media playlist text (RFC 8216 4.3), version 3 so EXTINF can carry
    /// decimals (4.3.2.1), three of them; version 7 with fMP4 segments,
    /// whose EXT-X-MAP needs 6 (RFC 8216 7) and CMAF players expect 7.
    pub(crate) fn render(&self) -> String {
        let mut s = String::with_capacity(128 + self.entries.len() * 48);
        let version = if self.entries.iter().any(|e| e.map.is_some()) {
            7
        } else {
            3
        };
        // `write!` into a String cannot fail.
        let _ = write!(
            s,
            "#EXTM3U\n#EXT-X-VERSION:{version}\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:{}\n",
            self.target_duration(),
            self.media_sequence()
        );
        if self.discontinuity_sequence > 0 {
            let _ = writeln!(
                s,
                "#EXT-X-DISCONTINUITY-SEQUENCE:{}",
                self.discontinuity_sequence
            );
        }
        // An EXT-X-MAP applies to every segment after it until the next
        // one: written before the first entry and wherever the init changes.
        let mut map: Option<&str> = None;
        for e in &self.entries {
            if e.discontinuity {
                s.push_str("#EXT-X-DISCONTINUITY\n");
            }
            if let Some(uri) = e.map.as_deref().filter(|uri| map != Some(*uri)) {
                let _ = writeln!(s, "#EXT-X-MAP:URI=\"{uri}\"");
                map = Some(uri);
            }
            let _ = write!(
                s,
                "#EXTINF:{}.{:03},\n{}\n",
                e.duration_ms / 1000,
                e.duration_ms % 1000,
                e.uri
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, duration_ms: u64, discontinuity: bool) -> Entry {
        Entry {
            seq,
            path: format!("live/s-{seq}.ts"),
            uri: format!("s-{seq}.ts"),
            duration_ms,
            discontinuity,
            map: None,
        }
    }

    #[test]
    fn window_slides_and_counts_discontinuities() {
        let mut w = Window::default();
        assert_eq!(w.media_sequence(), 0);
        w.push(entry(0, 4000, false));
        w.push(entry(1, 4000, true));
        w.push(entry(2, 4500, false));
        assert!(w.shrink(9000).iter().map(|e| e.seq).eq([0]));
        assert_eq!(w.media_sequence(), 1);
        assert_eq!(w.target_duration(), 5);
        assert!(w.shrink(1000).iter().map(|e| e.seq).eq([1]));
        assert_eq!(w.media_sequence(), 2, "the newest always stays");
        let text = w.render();
        assert_eq!(
            text,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:5\n#EXT-X-MEDIA-SEQUENCE:2\n\
             #EXT-X-DISCONTINUITY-SEQUENCE:1\n#EXTINF:4.500,\ns-2.ts\n"
        );
        assert_eq!(w.clear().len(), 1);
        assert!(w.is_empty());
        assert_eq!(w.media_sequence(), 3);
    }

    /// Zero-length segments never exceed a window by duration; the count
    /// cap still drops the oldest, and counts their discontinuities.
    #[test]
    fn window_holds_at_most_max_segments() {
        let mut w = Window::default();
        let mut removed = Vec::new();
        for seq in 0..MAX_WINDOW_SEGMENTS as u64 + 3 {
            w.push(entry(seq, 0, seq % 2 == 1));
            removed.extend(w.shrink(60_000).into_iter().map(|e| e.seq));
        }
        assert_eq!(removed, [0, 1, 2]);
        assert_eq!(w.entries.len(), MAX_WINDOW_SEGMENTS);
        assert_eq!(w.media_sequence(), 3);
        assert_eq!(w.discontinuity_sequence, 1);
    }
}
