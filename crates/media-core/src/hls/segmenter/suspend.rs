//! A stopped stream's playlist in a compact form, kept so a republish
//! continues it (issue 23 §4).
//!
//! A runtime keeps the segmenters of many stopped streams (a crowd of short
//! publishes under ever new names). A whole [`HlsSegmenter`] is twenty to
//! thirty small heap allocations (its options, names, muxer state, every
//! window entry's strings), and thousands of them scattered over the heap
//! pin allocator pages long after most of the heap was freed. What a
//! republish needs fits in two: every string back to back in one
//! `Box<str>`, and one boxed slice of fixed-size segment records pointing
//! into it (two more for fMP4 inits and LL-HLS parts, empty, so not
//! allocated, in plain MPEG-TS). A [`PlaylistShelf`] keeps many of them in
//! buffers shared by all.

use std::collections::VecDeque;

use super::cmaf::Cmaf;
use super::HlsSegmenter;
use crate::hls::config::HlsConfig;
use crate::hls::low_latency::Part;
use crate::hls::playlist::{Entry, Window};
use crate::ts::TsMuxer;

/// A string of [`SuspendedPlaylist::text`], by byte offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Span {
    start: usize,
    len: usize,
}

/// A window entry (see `playlist::Entry`), its strings as spans.
#[derive(Debug, Clone, Copy)]
struct SegmentRecord {
    seq: u64,
    duration_ms: u64,
    path: Span,
    uri: Span,
    map: Option<Span>,
    discontinuity: bool,
}

/// An fMP4 init segment still named by the window: (URI, first segment,
/// path), as the CMAF side keeps it.
#[derive(Debug, Clone, Copy)]
struct InitRecord {
    uri: Span,
    seq: u64,
    path: Span,
}

/// LL-HLS: a closed segment whose parts are still listed, then its parts.
#[derive(Debug, Clone, Copy)]
enum PartRecord {
    Segment(u64),
    Part {
        uri: Span,
        duration_ms: u64,
        independent: bool,
    },
}

/// What a stopped stream's [`HlsSegmenter`] keeps for a republish, in a
/// handful of heap allocations: the playlist window (each segment's
/// number, duration, discontinuity, path, URI and init), the numbering,
/// the discontinuity state, the playlist's path, the MPEG-TS continuity
/// counters and the fMP4 fragment number, the init segments still named
/// (so `hls_cleanup` and `hls_dispose` delete them), and LL-HLS's listed
/// parts. [`HlsSegmenter::resume`] turns it back into a segmenter that
/// behaves as the suspended one would have;
/// [`disposed_paths`](Self::disposed_paths) is `hls_dispose` without
/// resuming.
#[derive(Debug)]
pub struct SuspendedPlaylist {
    /// Every string below, back to back.
    text: Box<str>,
    segments: Box<[SegmentRecord]>,
    inits: Box<[InitRecord]>,
    parts: Box<[PartRecord]>,
    m3u8_path: Option<Span>,
    /// `hls_m3u8_file` and `hls_entry_prefix` in force: they named the
    /// playlist and the URIs it lists, so only options that keep them
    /// resume it (as [`HlsSegmenter::reconfigure`] asks).
    m3u8_file: Span,
    entry_prefix: Option<Span>,
    /// `HlsConfig::fmp4()` and `low_latency` in force (same reason).
    config_fmp4: bool,
    low_latency: bool,
    next_seq: u64,
    window_next_seq: u64,
    discontinuity_sequence: u64,
    discontinuity: bool,
    skipped: u64,
    last_now_ms: u64,
    /// Continuity counters and PMT version: MPEG-TS goes on where it was.
    ts: TsMuxer,
    /// Segments are fMP4, with the `mfhd` number of the last fragment.
    fmp4_sequence: Option<u32>,
    fallback: Option<&'static str>,
    single_media: bool,
}

/// Lays strings out back to back.
struct TextBuilder {
    text: String,
}

impl TextBuilder {
    fn push(&mut self, s: &str) -> Span {
        let span = Span {
            start: self.text.len(),
            len: s.len(),
        };
        self.text.push_str(s);
        span
    }

    /// `s`, which is the end of the string at `within` when the two agree
    /// there (a segment's URI relative to its playlist is the end of its
    /// path under the usual templates): no copy then.
    fn push_tail_of(&mut self, s: &str, within: Span) -> Span {
        let end = within.start.saturating_add(within.len);
        let start = end.saturating_sub(s.len());
        if within.len >= s.len() && self.text.get(start..end) == Some(s) {
            // A valid UTF-8 `s` matched there, so `start` is a char boundary.
            return Span {
                start,
                len: s.len(),
            };
        }
        self.push(s)
    }

    fn get(&self, span: Span) -> &str {
        text_at(&self.text, span)
    }
}

/// The string at `span`; spans are made by [`TextBuilder`] for this very
/// text, so the empty string is never seen.
fn text_at(text: &str, span: Span) -> &str {
    text.get(span.start..span.start.saturating_add(span.len))
        .unwrap_or_default()
}

impl HlsSegmenter {
    /// The compact form of this segmenter for a stopped stream: what a
    /// republish needs to continue the playlist (see
    /// [`SuspendedPlaylist`]), in a few allocations instead of a whole
    /// segmenter's twenty or more.
    ///
    /// Meant for after [`on_unpublish`](Self::on_unpublish), its actions
    /// carried out: codec state is forgotten as it forgets it, and a
    /// segment still open is closed as it closes one, the actions that
    /// makes (like any not yet polled) being dropped.
    pub fn suspend(mut self) -> SuspendedPlaylist {
        if self.current.is_some() || !self.probe.is_empty() {
            self.on_unpublish();
        }
        let (fmp4_sequence, inits, closed_parts) = match &self.cmaf {
            Some(cmaf) => (
                Some(cmaf.sequence()),
                cmaf.inits(),
                Some(cmaf.closed_parts()),
            ),
            None => (None, &[][..], None),
        };
        let entries = || self.window.entries();
        let parts = || closed_parts.into_iter().flatten();
        // An upper bound: the tails and shared init URIs take nothing.
        let capacity = self.config.m3u8_file.len()
            + self.config.entry_prefix.as_ref().map_or(0, String::len)
            + self.m3u8_path.as_ref().map_or(0, String::len)
            + inits
                .iter()
                .map(|(u, _, p)| u.len() + p.len())
                .sum::<usize>()
            + entries()
                .map(|e| e.path.len() + e.uri.len() + e.map.as_ref().map_or(0, String::len))
                .sum::<usize>()
            + parts()
                .flat_map(|(_, parts)| parts)
                .map(|p| p.uri.len())
                .sum::<usize>();
        let mut text = TextBuilder {
            text: String::with_capacity(capacity),
        };
        let m3u8_file = text.push(&self.config.m3u8_file);
        let entry_prefix = self.config.entry_prefix.as_deref().map(|p| text.push(p));
        let m3u8_path = self.m3u8_path.as_deref().map(|p| text.push(p));
        let inits: Box<[InitRecord]> = inits
            .iter()
            .map(|(uri, seq, path)| {
                let path = text.push(path);
                InitRecord {
                    uri: text.push_tail_of(uri, path),
                    seq: *seq,
                    path,
                }
            })
            .collect();
        let segments: Box<[SegmentRecord]> = entries()
            .map(|e| {
                let path = text.push(&e.path);
                let uri = text.push_tail_of(&e.uri, path);
                // An entry's init is among the inits kept (they go only
                // once no entry names them): its URI is stored once.
                let map = e.map.as_deref().map(|m| {
                    let known = inits.iter().map(|i| i.uri).find(|s| text.get(*s) == m);
                    known.unwrap_or_else(|| text.push(m))
                });
                SegmentRecord {
                    seq: e.seq,
                    duration_ms: e.duration_ms,
                    path,
                    uri,
                    map,
                    discontinuity: e.discontinuity,
                }
            })
            .collect();
        let mut records = Vec::with_capacity(parts().map(|(_, p)| 1 + p.len()).sum());
        for (seq, parts) in parts() {
            records.push(PartRecord::Segment(*seq));
            for p in parts {
                records.push(PartRecord::Part {
                    uri: text.push(&p.uri),
                    duration_ms: p.duration_ms,
                    independent: p.independent,
                });
            }
        }
        let parts = records.into_boxed_slice();
        SuspendedPlaylist {
            text: text.text.into_boxed_str(),
            segments,
            inits,
            parts,
            m3u8_path,
            m3u8_file,
            entry_prefix,
            config_fmp4: self.config.fmp4(),
            low_latency: self.config.low_latency,
            next_seq: self.next_seq,
            window_next_seq: self.window.next_seq(),
            discontinuity_sequence: self.window.discontinuity_sequence(),
            discontinuity: self.discontinuity,
            skipped: self.skipped,
            last_now_ms: self.last_now_ms,
            ts: self.muxer,
            fmp4_sequence,
            fallback: self.fallback,
            single_media: self.single_media,
        }
    }

    /// The segmenter `playlist` was suspended from, with the options
    /// `config` for the segments to come (a reload may have changed
    /// them): it goes on exactly as that one would have after
    /// [`reconfigure`](Self::reconfigure). `None` when the options name
    /// the playlist or its URIs differently, or change the segment format
    /// (what `reconfigure` refuses): a new segmenter should start (see
    /// [`accepts`](SuspendedPlaylist::accepts)).
    pub fn resume(
        config: HlsConfig,
        app: &str,
        stream: &str,
        playlist: SuspendedPlaylist,
    ) -> Option<Self> {
        if !playlist.accepts(&config) {
            return None;
        }
        let p = &playlist;
        let mut seg = Self::new(config, app, stream);
        let entries: VecDeque<Entry> = p
            .segments
            .iter()
            .map(|r| Entry {
                seq: r.seq,
                path: p.get(r.path).to_owned(),
                uri: p.get(r.uri).to_owned(),
                duration_ms: r.duration_ms,
                discontinuity: r.discontinuity,
                map: r.map.map(|m| p.get(m).to_owned()),
            })
            .collect();
        seg.window = Window::restored(entries, p.discontinuity_sequence, p.window_next_seq);
        seg.next_seq = p.next_seq;
        seg.m3u8_path = p.m3u8_path.map(|s| p.get(s).to_owned());
        seg.discontinuity = p.discontinuity;
        seg.skipped = p.skipped;
        seg.last_now_ms = p.last_now_ms;
        seg.muxer = p.ts.clone();
        seg.fallback = p.fallback;
        seg.single_media = p.single_media;
        seg.cmaf = p.fmp4_sequence.map(|sequence| {
            let inits = p
                .inits
                .iter()
                .map(|i| (p.get(i.uri).to_owned(), i.seq, p.get(i.path).to_owned()))
                .collect();
            Cmaf::resumed(sequence, inits, p.closed_parts())
        });
        Some(seg)
    }
}

impl SuspendedPlaylist {
    /// `hls_dispose` of the stopped stream: the files to remove, relative
    /// to the HLS root, as [`HlsSegmenter::dispose`] deletes them (every
    /// listed segment, then every init segment), then the playlist.
    pub fn disposed_paths(&self) -> impl Iterator<Item = &str> + '_ {
        let segments = self.segments.iter().map(|s| self.get(s.path));
        let inits = self.inits.iter().map(|i| self.get(i.path));
        let playlist = self.m3u8_path.map(|s| self.get(s));
        segments.chain(inits).chain(playlist)
    }

    /// Whether [`HlsSegmenter::resume`] takes `config`: it keeps what
    /// named the playlist and its entries, and the segment format (as
    /// [`HlsSegmenter::reconfigure`] asks).
    pub fn accepts(&self, config: &HlsConfig) -> bool {
        config.m3u8_file == self.get(self.m3u8_file)
            && config.entry_prefix.as_deref() == self.entry_prefix.map(|s| self.get(s))
            && config.fmp4() == self.config_fmp4
            && config.low_latency == self.low_latency
    }

    fn get(&self, span: Span) -> &str {
        text_at(&self.text, span)
    }

    /// LL-HLS: the closed segments' parts, as the CMAF side lists them.
    fn closed_parts(&self) -> VecDeque<(u64, Vec<Part>)> {
        let mut closed: VecDeque<(u64, Vec<Part>)> = VecDeque::new();
        for record in self.parts.iter() {
            match *record {
                PartRecord::Segment(seq) => closed.push_back((seq, Vec::new())),
                PartRecord::Part {
                    uri,
                    duration_ms,
                    independent,
                } => {
                    if let Some((_, parts)) = closed.back_mut() {
                        parts.push(Part {
                            uri: self.get(uri).to_owned(),
                            duration_ms,
                            independent,
                        });
                    }
                }
            }
        }
        closed
    }
}

/// Where many stopped streams' playlists wait (see [`SuspendedPlaylist`]),
/// each with a label (the runtime's name for its stream): every string in
/// one buffer and the records in one vector each. A thousand suspended
/// playlists are then a few large allocations. As a few small blocks each,
/// made amid the memory their ended streams had just freed, they kept a
/// page of it each from going back to the system (issue 23 §4: a thousand
/// parked streams kept RSS 4 MB higher than the same on a shelf).
///
/// What is taken off leaves garbage in the buffers; once it outweighs
/// what is kept, the buffers are rebuilt with only that.
#[derive(Debug, Default)]
pub struct PlaylistShelf {
    text: String,
    segments: Vec<SegmentRecord>,
    inits: Vec<InitRecord>,
    parts: Vec<PartRecord>,
    slots: Vec<Option<Shelved>>,
    /// Empty slots, for the next playlists put.
    free: Vec<usize>,
    /// Text bytes and records of playlists taken off since the last
    /// rebuild.
    garbage: usize,
}

/// Names a playlist on a [`PlaylistShelf`]; taking it off consumes it.
#[derive(Debug, PartialEq, Eq)]
pub struct ShelfId(usize);

/// A playlist on the shelf: its own heap parts moved to the shared
/// buffers (left empty, so unallocated, here).
#[derive(Debug)]
struct Shelved {
    playlist: SuspendedPlaylist,
    label: std::ops::Range<usize>,
    text: std::ops::Range<usize>,
    segments: std::ops::Range<usize>,
    inits: std::ops::Range<usize>,
    parts: std::ops::Range<usize>,
}

impl Shelved {
    /// What it holds of the buffers (bytes and records alike count one).
    fn weight(&self) -> usize {
        self.label.len()
            + self.text.len()
            + self.segments.len()
            + self.inits.len()
            + self.parts.len()
    }
}

/// Appends `items` to `to`, returning where they went.
fn append<T: Copy>(to: &mut Vec<T>, items: &[T]) -> std::ops::Range<usize> {
    let start = to.len();
    to.extend_from_slice(items);
    start..to.len()
}

fn append_str(to: &mut String, s: &str) -> std::ops::Range<usize> {
    let start = to.len();
    to.push_str(s);
    start..to.len()
}

impl PlaylistShelf {
    /// An empty shelf.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `playlist` under `label` until [`take`](Self::take).
    pub fn put(&mut self, label: &str, mut playlist: SuspendedPlaylist) -> ShelfId {
        let shelved = Shelved {
            label: append_str(&mut self.text, label),
            text: append_str(&mut self.text, &std::mem::take(&mut playlist.text)),
            segments: append(&mut self.segments, &std::mem::take(&mut playlist.segments)),
            inits: append(&mut self.inits, &std::mem::take(&mut playlist.inits)),
            parts: append(&mut self.parts, &std::mem::take(&mut playlist.parts)),
            playlist,
        };
        if let Some(i) = self.free.pop() {
            if let Some(slot @ None) = self.slots.get_mut(i) {
                *slot = Some(shelved);
                return ShelfId(i);
            }
        }
        self.slots.push(Some(shelved));
        ShelfId(self.slots.len() - 1)
    }

    /// The label `id` was put with.
    pub fn label(&self, id: &ShelfId) -> &str {
        self.slots
            .get(id.0)
            .and_then(Option::as_ref)
            .and_then(|s| self.text.get(s.label.clone()))
            .unwrap_or_default()
    }

    /// How many playlists are kept.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the playlist `id` off the shelf.
    pub fn take(&mut self, id: ShelfId) -> Option<SuspendedPlaylist> {
        let shelved = self.slots.get_mut(id.0)?.take()?;
        self.free.push(id.0);
        self.garbage += shelved.weight();
        let mut playlist = shelved.playlist;
        let text = self.text.get(shelved.text.clone()).unwrap_or_default();
        playlist.text = text.into();
        playlist.segments = self
            .segments
            .get(shelved.segments.clone())
            .unwrap_or_default()
            .into();
        playlist.inits = self
            .inits
            .get(shelved.inits.clone())
            .unwrap_or_default()
            .into();
        playlist.parts = self
            .parts
            .get(shelved.parts.clone())
            .unwrap_or_default()
            .into();
        let total = self.text.len() + self.segments.len() + self.inits.len() + self.parts.len();
        if self.garbage * 2 > total {
            self.rebuild();
        }
        Some(playlist)
    }

    /// The buffers again, with only what is kept.
    fn rebuild(&mut self) {
        let kept: Vec<&Shelved> = self.slots.iter().flatten().collect();
        let mut text =
            String::with_capacity(kept.iter().map(|s| s.label.len() + s.text.len()).sum());
        let mut segments = Vec::with_capacity(kept.iter().map(|s| s.segments.len()).sum());
        let mut inits = Vec::with_capacity(kept.iter().map(|s| s.inits.len()).sum());
        let mut parts = Vec::with_capacity(kept.iter().map(|s| s.parts.len()).sum());
        drop(kept);
        for s in self.slots.iter_mut().flatten() {
            s.label = append_str(
                &mut text,
                self.text.get(s.label.clone()).unwrap_or_default(),
            );
            s.text = append_str(&mut text, self.text.get(s.text.clone()).unwrap_or_default());
            s.segments = append(
                &mut segments,
                self.segments.get(s.segments.clone()).unwrap_or_default(),
            );
            s.inits = append(
                &mut inits,
                self.inits.get(s.inits.clone()).unwrap_or_default(),
            );
            s.parts = append(
                &mut parts,
                self.parts.get(s.parts.clone()).unwrap_or_default(),
            );
        }
        if self.free.len() == self.slots.len() {
            self.slots = Vec::new();
            self.free = Vec::new();
        }
        self.text = text;
        self.segments = segments;
        self.inits = inits;
        self.parts = parts;
        self.garbage = 0;
    }
}
