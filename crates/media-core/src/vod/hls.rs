//! HLS for a file (RFC 8216 with `EXT-X-PLAYLIST-TYPE:VOD` and
//! `EXT-X-ENDLIST`): the whole playlist is known from the index, and each
//! segment is muxed to MPEG-TS when asked for, from the frames between two
//! key frames. Nothing is written anywhere.

use std::fmt::Write as _;

use bytes::{Bytes, BytesMut};

use super::index::MediaIndex;
use crate::message::{MediaKind, MediaMessage};
use crate::remux::Remuxer;
use crate::ts::TsMuxer;

/// One segment of a file's playlist: frames `first..end` of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VodSegment {
    /// The first frame (a video key frame when the file has video).
    pub first: usize,
    /// One past the last frame.
    pub end: usize,
    /// Its start, ms.
    pub start_ms: u64,
    /// How long it plays, ms.
    pub duration_ms: u64,
}

/// Cuts the file into segments of at least `target_ms`, each starting at a
/// video key frame (RFC 8216 6.2.2 asks for a segment to start where
/// decoding can); without video, at any frame.
pub fn segments(index: &MediaIndex, target_ms: u64) -> Vec<VodSegment> {
    let video = index.has_video();
    let mut cuts: Vec<(usize, u64)> = Vec::new();
    for (i, s) in index.samples.iter().enumerate() {
        let can_start = if video {
            s.kind == MediaKind::Video && s.keyframe
        } else {
            true
        };
        if !can_start {
            continue;
        }
        match cuts.last() {
            None => cuts.push((0, index.start_ms().min(s.dts))),
            Some(&(_, start)) if s.dts.saturating_sub(start) >= target_ms => cuts.push((i, s.dts)),
            Some(_) => {}
        }
    }
    let mut out = Vec::with_capacity(cuts.len());
    for (n, &(first, start_ms)) in cuts.iter().enumerate() {
        let (end, end_ms) = cuts
            .get(n + 1)
            .copied()
            .unwrap_or((index.samples.len(), index.end_ms.max(start_ms)));
        out.push(VodSegment {
            first,
            end,
            start_ms,
            duration_ms: end_ms.saturating_sub(start_ms),
        });
    }
    out
}

/// The playlist (RFC 8216 4.3): every segment, `uri(n)` naming segment `n`.
pub fn playlist(segments: &[VodSegment], uri: impl Fn(usize) -> String) -> String {
    let longest = segments.iter().map(|s| s.duration_ms).max().unwrap_or(0);
    // 4.3.3.1: each EXTINF rounded to the nearest integer must not exceed it.
    let target = longest.div_ceil(1000).max(1);
    let mut out = String::new();
    let _ = write!(
        out,
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:0\n"
    );
    for (n, s) in segments.iter().enumerate() {
        let _ = write!(
            out,
            "#EXTINF:{}.{:03},\n{}\n",
            s.duration_ms / 1000,
            s.duration_ms % 1000,
            uri(n)
        );
    }
    out.push_str("#EXT-X-ENDLIST\n");
    out
}

/// Muxes one segment: the file's headers (decoder configurations), then its
/// frames, as MPEG-TS that decodes on its own (PAT and PMT first, RFC 8216
/// 3.2). Frames that do not remux are left out.
pub fn mux_segment(headers: &[MediaMessage], frames: &[MediaMessage]) -> Bytes {
    let mut remuxer = Remuxer::new();
    for h in headers {
        let _ = remuxer.push(h);
    }
    let mut muxer = TsMuxer::new(remuxer.streams());
    let mut out = BytesMut::new();
    muxer.write_psi(&mut out);
    for msg in frames {
        match remuxer.push(msg) {
            Ok(Some(frame)) => {
                if remuxer.streams() != muxer.streams() {
                    muxer.set_streams(remuxer.streams());
                    muxer.write_psi(&mut out);
                }
                let _ = muxer.write_frame(&frame, &mut out);
            }
            Ok(None) => {
                // A configuration inside the file (a codec change).
                if remuxer.streams() != muxer.streams() {
                    muxer.set_streams(remuxer.streams());
                    muxer.write_psi(&mut out);
                }
            }
            Err(_) => {}
        }
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vod::{IndexedSample, SampleForm};

    fn index(video: bool) -> MediaIndex {
        let mut index = MediaIndex::default();
        for i in 0..250u64 {
            if video {
                index.samples.push(IndexedSample {
                    offset: 0,
                    size: 1,
                    dts: i * 40,
                    cts: 0,
                    kind: MediaKind::Video,
                    keyframe: i % 50 == 0,
                    form: SampleForm::FlvTag,
                });
            }
            index.samples.push(IndexedSample {
                offset: 0,
                size: 1,
                dts: i * 40 + 10,
                cts: 0,
                kind: MediaKind::Audio,
                keyframe: false,
                form: SampleForm::FlvTag,
            });
        }
        index.end_ms = 10_000;
        index
    }

    #[test]
    fn segments_start_at_key_frames_and_add_up_to_the_file() {
        let index = index(true);
        let segs = segments(&index, 3000);
        // Key frames every 2 s: cuts at 4 s and 8 s.
        let starts: Vec<u64> = segs.iter().map(|s| s.start_ms).collect();
        assert_eq!(starts, [0, 4000, 8000]);
        assert_eq!(segs.iter().map(|s| s.duration_ms).sum::<u64>(), 10_000);
        for s in &segs {
            let first = index.samples[s.first];
            assert!(first.keyframe && first.dts == s.start_ms);
        }
        assert_eq!(segs.last().unwrap().end, index.samples.len());
        let text = playlist(&segs, |n| format!("{n}.ts"));
        assert!(text.contains("#EXT-X-TARGETDURATION:4\n"));
        assert!(text.contains("#EXTINF:2.000,\n2.ts\n#EXT-X-ENDLIST\n"));
        assert!(text.contains("#EXT-X-PLAYLIST-TYPE:VOD\n"));
    }

    #[test]
    fn audio_only_files_are_cut_anywhere() {
        let index = index(false);
        let segs = segments(&index, 3000);
        assert_eq!(segs.len(), 4);
        assert_eq!(segs[0].start_ms, 10);
        assert_eq!(segs[1].start_ms, 3010);
    }

    #[test]
    fn an_empty_index_has_no_segments() {
        assert!(segments(&MediaIndex::default(), 1000).is_empty());
    }
}
