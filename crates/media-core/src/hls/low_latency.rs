//! Low-Latency HLS (RFC 8216bis, draft-pantos-hls-rfc8216bis 4.4.4.9,
//! 4.4.5.2, 4.4.3.8, 6.2.5): partial segments of an fMP4 stream, and the
//! media playlist that lists them with `EXT-X-PART`, `EXT-X-PART-INF`,
//! `EXT-X-PRELOAD-HINT` and `EXT-X-SERVER-CONTROL`, in full and as a delta
//! update (`EXT-X-SKIP`).
//!
//! Parts are only ever held in memory by the runtime (see
//! [`HlsAction::PublishPart`](super::HlsAction::PublishPart)); the segments
//! they make up are written as usual, each `Append` being one part's very
//! `Bytes`, so a runtime may also serve a recent segment from memory as its
//! parts' buffers, byte for byte its file.

use std::collections::VecDeque;
use std::fmt::Write as _;

use super::playlist::Window;

/// Closed segments whose parts are still listed (RFC 8216bis 4.4.4.9:
/// parts older than the last three target durations may go; with segments
/// of at least one target duration, three segments cover it).
pub const LL_SEGMENTS_WITH_PARTS: usize = 3;

/// One partial segment (`EXT-X-PART`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// URI relative to the playlist.
    pub uri: String,
    pub duration_ms: u64,
    /// It starts with a sync sample (INDEPENDENT=YES).
    pub independent: bool,
}

/// The parts the playlist lists: of the newest closed segments, and of the
/// segment being written with the URI its next part will have.
#[derive(Debug, Clone, Default)]
pub(crate) struct PartList {
    /// (media sequence number, parts), oldest first.
    pub closed: VecDeque<(u64, Vec<Part>)>,
    /// The segment being written.
    pub open: Option<OpenSegment>,
}

/// The segment being written, as far as its parts go.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpenSegment {
    pub seq: u64,
    pub parts: Vec<Part>,
    /// The URI its next part will have (EXT-X-PRELOAD-HINT).
    pub next_uri: String,
    /// Its init segment's URI, once written.
    pub map: Option<String>,
    /// It follows a discontinuity.
    pub discontinuity: bool,
}

impl PartList {
    /// A segment closed with these parts; older ones stop being listed.
    pub(crate) fn close(&mut self, msn: u64) {
        if let Some(open) = self.open.take() {
            if open.seq == msn {
                self.closed.push_back((open.seq, open.parts));
            }
        }
        while self.closed.len() > LL_SEGMENTS_WITH_PARTS {
            self.closed.pop_front();
        }
    }

    /// What a blocking request can wait for (RFC 8216bis 6.2.5.2): the
    /// media sequence number of the segment being written (or of the next
    /// one) and how many of its parts are listed.
    pub(crate) fn position(&self, next_seq: u64) -> (u64, u32) {
        match &self.open {
            Some(o) => (o.seq, u32::try_from(o.parts.len()).unwrap_or(u32::MAX)),
            None => (next_seq, 0),
        }
    }
}

fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// The LL-HLS media playlist. `delta`: the segments older than
/// CAN-SKIP-UNTIL from the end are replaced by `EXT-X-SKIP` (4.4.5.2),
/// for `_HLS_skip=YES`. Version 9 (EXT-X-SKIP).
pub(crate) fn render(
    window: &Window,
    parts: &PartList,
    part_target_ms: u64,
    min_target_secs: u64,
    delta: bool,
) -> String {
    let target = window.target_duration().max(min_target_secs).max(1);
    // 4.4.3.8: CAN-SKIP-UNTIL at least six target durations; PART-HOLD-BACK
    // at least twice the part target (three recommended).
    let skip_until_ms = target * 6 * 1000;
    let mut s = String::with_capacity(256 + window.entries().count() * 64);
    let _ = write!(
        s,
        "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:{target}\n\
         #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL={}.0,PART-HOLD-BACK={}\n\
         #EXT-X-PART-INF:PART-TARGET={}\n#EXT-X-MEDIA-SEQUENCE:{}\n",
        target * 6,
        secs(part_target_ms * 3),
        secs(part_target_ms),
        window.media_sequence()
    );
    if window.discontinuity_sequence() > 0 {
        let _ = writeln!(
            s,
            "#EXT-X-DISCONTINUITY-SEQUENCE:{}",
            window.discontinuity_sequence()
        );
    }
    // The leading segments that end more than CAN-SKIP-UNTIL before the end.
    let mut skipped = 0usize;
    if delta {
        let mut after_ms = 0u64;
        let mut newer: Vec<u64> = window.entries().rev().map(|e| e.duration_ms).collect();
        newer.reverse();
        let total: u64 = newer.iter().sum();
        for d in &newer {
            after_ms = after_ms.saturating_add(*d);
            if total.saturating_sub(after_ms) >= skip_until_ms {
                skipped += 1;
            } else {
                break;
            }
        }
        if skipped > 0 {
            let _ = writeln!(s, "#EXT-X-SKIP:SKIPPED-SEGMENTS={skipped}");
        }
    }
    let part_lines = |s: &mut String, list: &[Part]| {
        for p in list {
            let _ = writeln!(
                s,
                "#EXT-X-PART:DURATION={},URI=\"{}\"{}",
                secs(p.duration_ms),
                p.uri,
                if p.independent {
                    ",INDEPENDENT=YES"
                } else {
                    ""
                }
            );
        }
    };
    let mut map: Option<&str> = None;
    for e in window.entries().skip(skipped) {
        if e.discontinuity {
            s.push_str("#EXT-X-DISCONTINUITY\n");
        }
        if let Some(uri) = e.map.as_deref().filter(|uri| map != Some(*uri)) {
            let _ = writeln!(s, "#EXT-X-MAP:URI=\"{uri}\"");
            map = Some(uri);
        }
        if let Some((_, list)) = parts.closed.iter().find(|(seq, _)| *seq == e.seq) {
            part_lines(&mut s, list);
        }
        let _ = write!(s, "#EXTINF:{},\n{}\n", secs(e.duration_ms), e.uri);
    }
    if let Some(open) = &parts.open {
        if open.discontinuity && !open.parts.is_empty() {
            s.push_str("#EXT-X-DISCONTINUITY\n");
        }
        if let Some(uri) = open.map.as_deref().filter(|uri| map != Some(*uri)) {
            let _ = writeln!(s, "#EXT-X-MAP:URI=\"{uri}\"");
        }
        part_lines(&mut s, &open.parts);
        let _ = writeln!(s, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{}\"", open.next_uri);
    }
    s
}
