//! HLS segments in fragmented MP4 (`hls_use_fmp4`, RFC 8216 3.3): CMAF
//! media segments of whole `moof`+`mdat` fragments, and an init segment
//! (`ftyp` + `moov`) that the playlist names with `EXT-X-MAP`.
//!
//! The boxes are the DVR's [`Fmp4Muxer`] in its segmented mode; the cut
//! rule, the window and the playlist are the segmenter's, shared with
//! MPEG-TS. The FLV body goes to the muxer as is (length-prefixed NAL units,
//! raw AAC), so nothing is converted to Annex B or ADTS.

use std::collections::VecDeque;

use bytes::Bytes;

use super::{CutInput, HlsAction, HlsSegmenter};
use crate::flv::{
    single_track_audio, single_track_video, AudioPacketType, AudioTagHeader, SoundFormat, Tracks,
    VideoCodec, VideoTagHeader,
};
use crate::hls::error::HlsError;
use crate::hls::low_latency::{self, OpenSegment, Part, PartList};
use crate::hls::playlist::Entry;
use crate::hls::template::{entry_uri, render};
use crate::message::{MediaKind, MediaMessage};
use crate::mp4::{Fmp4Muxer, Mp4Error};

/// The fMP4 side of one stream's segmenter.
#[derive(Debug)]
pub(super) struct Cmaf {
    muxer: Fmp4Muxer,
    /// The sequence headers the muxer took, to tell a changed one (which
    /// needs a new init) from a repeated one.
    video_header: Option<MediaMessage>,
    audio_header: Option<MediaMessage>,
    /// The URI of the init segment written for the current muxer, as the
    /// playlist lists it; `None` until it is written.
    pub(super) map_uri: Option<String>,
    /// Init segments written and still named by the playlist (or about to
    /// be): (URI, first segment, path), so one no entry names any more is
    /// deleted with the segments (`hls_cleanup`, `hls_dispose`).
    inits: Vec<(String, u64, String)>,
    /// LL-HLS: the parts listed, and the one being written.
    parts: PartList,
    part_start_ms: u64,
    part_index: u32,
    part_independent: bool,
}

impl Cmaf {
    pub(super) fn new() -> Self {
        Self::continuing(0)
    }

    fn continuing(sequence: u32) -> Self {
        Self {
            muxer: Fmp4Muxer::for_segments(sequence),
            video_header: None,
            audio_header: None,
            map_uri: None,
            inits: Vec::new(),
            parts: PartList::default(),
            part_start_ms: 0,
            part_index: 0,
            part_independent: true,
        }
    }

    /// A publisher left: the next one brings its own sequence headers, so
    /// its init is a new one. Fragment numbers go on.
    pub(super) fn reset(&mut self) {
        let parts = std::mem::take(&mut self.parts);
        let inits = std::mem::take(&mut self.inits);
        // Closed segments' parts and inits stay listed.
        *self = Self::resumed(self.muxer.sequence(), inits, parts.closed);
    }

    /// The state between publishes, from what [`reset`](Self::reset)
    /// keeps: the last fragment number, the inits still named, the closed
    /// segments' parts. A suspended playlist keeps just these.
    pub(super) fn resumed(
        sequence: u32,
        inits: Vec<(String, u64, String)>,
        closed: VecDeque<(u64, Vec<Part>)>,
    ) -> Self {
        Self {
            inits,
            parts: PartList { closed, open: None },
            ..Self::continuing(sequence)
        }
    }

    /// The `mfhd` number of the last fragment (see [`resumed`](Self::resumed)).
    pub(super) fn sequence(&self) -> u32 {
        self.muxer.sequence()
    }

    /// The init segments kept, as (URI, first segment, path).
    pub(super) fn inits(&self) -> &[(String, u64, String)] {
        &self.inits
    }

    /// LL-HLS: the closed segments whose parts are listed.
    pub(super) fn closed_parts(&self) -> &VecDeque<(u64, Vec<Part>)> {
        &self.parts.closed
    }
}

/// What the segmenter needs to know of a message before muxing it.
struct Kind {
    is_video: bool,
    sequence_header: bool,
    keyframe: bool,
    /// A coded frame (a picture, or audio samples).
    media: bool,
}

fn classify(msg: &MediaMessage) -> Result<Option<Kind>, HlsError> {
    let bad = || HlsError::Mp4(Mp4Error::BadHeader(msg.kind));
    Ok(match msg.kind {
        MediaKind::Video => {
            let (h, _) = VideoTagHeader::parse(&msg.payload).map_err(|_| bad())?;
            Some(Kind {
                is_video: true,
                sequence_header: h.is_sequence_header(),
                keyframe: h.is_keyframe(),
                media: h.is_picture(),
            })
        }
        MediaKind::Audio => {
            let (h, _) = AudioTagHeader::parse(&msg.payload).map_err(|_| bad())?;
            let sequence_header = h.is_sequence_header();
            Some(Kind {
                is_video: false,
                sequence_header,
                keyframe: false,
                media: !sequence_header
                    && h.packet_type
                        .is_none_or(|p| p == AudioPacketType::CodedFrames),
            })
        }
        MediaKind::Data => None,
    })
}

/// E-RTMP v2 multitrack: HLS slices the default track (0), as with
/// MPEG-TS; it is rebuilt as the single-track ex-header message the muxer
/// takes. `None` when the message holds no track 0 the muxer could take.
/// Other messages pass.
fn default_track(msg: &MediaMessage) -> Result<Option<MediaMessage>, HlsError> {
    let bad = |_| HlsError::Mp4(Mp4Error::BadHeader(msg.kind));
    let payload = match msg.kind {
        MediaKind::Video => match Tracks::of_video(&msg.payload).map_err(bad)? {
            None => return Ok(Some(msg.clone())),
            Some((h, mut tracks)) => {
                let packet_type = h.payload_type();
                tracks
                    .find_map(|t| t.ok().filter(|t| t.track_id == 0))
                    .and_then(|t| single_track_video(h.frame_type, packet_type, &t))
            }
        },
        MediaKind::Audio => match Tracks::of_audio(&msg.payload).map_err(bad)? {
            None => return Ok(Some(msg.clone())),
            Some((h, mut tracks)) => {
                let inner = h.multitrack.map(|(_, p)| p);
                tracks
                    .find_map(|t| t.ok().filter(|t| t.track_id == 0))
                    .zip(inner)
                    .and_then(|(t, p)| single_track_audio(p, &t))
            }
        },
        MediaKind::Data => return Ok(Some(msg.clone())),
    };
    Ok(payload.map(|payload| MediaMessage {
        payload,
        ..msg.clone()
    }))
}

/// The codec of `msg` (of its track 0) when MPEG-TS cannot carry it
/// here but fMP4 can: the `hls_fmp4_fallback` trigger. H.264, HEVC, AAC
/// and MP3 stay in TS; codecs neither carries (VP8, Speex...) do not switch.
pub(super) fn needs_fmp4(msg: &MediaMessage) -> Option<&'static str> {
    let msg = default_track(msg).ok()??;
    match msg.kind {
        MediaKind::Video => {
            let (h, _) = VideoTagHeader::parse(&msg.payload).ok()?;
            matches!(h.codec, VideoCodec::Av1 | VideoCodec::Vp9).then(|| h.codec.name())
        }
        MediaKind::Audio => {
            let (h, _) = AudioTagHeader::parse(&msg.payload).ok()?;
            matches!(
                h.sound_format,
                SoundFormat::Opus | SoundFormat::Flac | SoundFormat::Ac3 | SoundFormat::Eac3
            )
            .then(|| h.sound_format.name())
        }
        MediaKind::Data => None,
    }
}

/// `Some(is_video)` when `msg` is a sequence header (of its track 0).
pub(super) fn sequence_header_kind(msg: &MediaMessage) -> Option<bool> {
    let msg = default_track(msg).ok()??;
    classify(&msg)
        .ok()?
        .filter(|k| k.sequence_header)
        .map(|k| k.is_video)
}

impl HlsSegmenter {
    /// [`push`](Self::push) with `hls_use_fmp4`.
    pub(super) fn push_cmaf(
        &mut self,
        msg: &MediaMessage,
        now_unix_ms: u64,
    ) -> Result<(), HlsError> {
        let msg = match default_track(msg) {
            Ok(Some(m)) => m,
            Ok(None) => return Ok(()),
            Err(e) => {
                self.skipped += 1;
                return Err(e);
            }
        };
        let msg = &msg;
        let kind = match classify(msg) {
            Ok(Some(k)) => k,
            Ok(None) => return Ok(()),
            Err(e) => {
                self.skipped += 1;
                return Err(e);
            }
        };
        let dts_ms = msg.timestamp;
        if kind.sequence_header {
            self.cmaf_sequence_header(msg, kind.is_video, now_unix_ms);
        } else if kind.media {
            let Some(cmaf) = &mut self.cmaf else {
                return Ok(());
            };
            if !kind.is_video {
                // MP3, AC-3, E-AC-3: the track is known from its first frame.
                if let Err(e) = cmaf.muxer.configure_from_frame(msg) {
                    self.skipped += 1;
                    return Err(HlsError::Mp4(e));
                }
            }
            let (has_video, has_audio) =
                (cmaf.muxer.has_video_config(), cmaf.muxer.has_audio_config());
            let configured = if kind.is_video { has_video } else { has_audio };
            if let Some(cur) = &self.current {
                let input = CutInput {
                    video_known: has_video,
                    video_in_segment: has_video,
                    is_video: kind.is_video,
                    keyframe: kind.keyframe,
                    dts_ms,
                };
                if configured && self.cut_due(cur, input) {
                    self.close_segment(dts_ms);
                    self.open_segment(dts_ms, now_unix_ms);
                    self.ll_begin(dts_ms);
                } else if configured && self.config.low_latency {
                    self.ll_maybe_cut_part(dts_ms, &kind, has_video);
                }
            } else {
                // The first segment starts at a key frame (audio-only: at
                // once); what comes before cannot be decoded alone.
                let can_start = if has_video {
                    kind.is_video && kind.keyframe
                } else {
                    !kind.is_video
                };
                if !configured || !can_start {
                    return Ok(());
                }
                self.open_segment(dts_ms, now_unix_ms);
                self.ll_begin(dts_ms);
            }
            if let Some(cur) = &mut self.current {
                // The primary track's last step, for the end of the last segment.
                if kind.is_video == has_video && dts_ms >= cur.last_ms {
                    if dts_ms > cur.last_ms {
                        cur.last_step_ms = dts_ms - cur.last_ms;
                    }
                    cur.last_ms = dts_ms;
                }
            }
        } else if self.current.is_none() {
            return Ok(());
        }
        let result = match &mut self.cmaf {
            Some(cmaf) => cmaf.muxer.push(msg),
            None => Ok(()),
        };
        let bytes = self.drain_cmaf(now_unix_ms);
        if self.config.low_latency && !bytes.is_empty() {
            // The muxer cut a fragment of its own (timestamps that jump
            // back or far, a size bound): it is a part all the same, so
            // the parts still make up the segment.
            self.ll_record_part(bytes, dts_ms);
            self.ll_playlist();
        }
        result.map_err(|e| {
            self.skipped += 1;
            HlsError::Mp4(e)
        })
    }

    /// A sequence header: kept for the init; one that differs from what an
    /// init already declared ends the segment there and starts a new init
    /// (after EXT-X-DISCONTINUITY), as a codec change does in TS.
    fn cmaf_sequence_header(&mut self, msg: &MediaMessage, is_video: bool, now_unix_ms: u64) {
        let Some(cmaf) = &self.cmaf else {
            return;
        };
        let known = if is_video {
            &cmaf.video_header
        } else {
            &cmaf.audio_header
        };
        let changed = known.as_ref().is_some_and(|k| k.payload != msg.payload);
        if changed && cmaf.muxer.is_declared() {
            if let Some(cur) = &self.current {
                let end = msg.timestamp.max(cur.start_ms);
                self.close_segment(end);
            }
            if let Some(cmaf) = &mut self.cmaf {
                let other = if is_video {
                    cmaf.audio_header.clone()
                } else {
                    cmaf.video_header.clone()
                };
                cmaf.reset();
                if let Some(other) = other {
                    // It parsed before; the muxer keeps no error state.
                    let _ = cmaf.muxer.push(&other);
                    if is_video {
                        cmaf.audio_header = Some(other);
                    } else {
                        cmaf.video_header = Some(other);
                    }
                }
            }
            self.discontinuity = true;
            self.drain_cmaf(now_unix_ms);
        }
        if let Some(cmaf) = &mut self.cmaf {
            if is_video {
                cmaf.video_header = Some(msg.clone());
            } else {
                cmaf.audio_header = Some(msg.clone());
            }
        }
    }

    /// Ends the open fragment at `end_ms` and hands its bytes to the open
    /// segment (the segment is about to close).
    pub(super) fn cut_cmaf(&mut self, end_ms: u64) {
        if self.config.low_latency {
            self.ll_cut_part(end_ms, true);
            return;
        }
        if let Some(cmaf) = &mut self.cmaf {
            cmaf.muxer.cut(end_ms);
            let now = self.last_now_ms;
            self.drain_cmaf(now);
        }
    }

    /// Hands out what the muxer made: the init (once per muxer), then
    /// fragments, appended to the open segment.
    fn drain_cmaf(&mut self, now_unix_ms: u64) -> Bytes {
        let Some(cmaf) = &mut self.cmaf else {
            return Bytes::new();
        };
        let init = cmaf.muxer.take_init();
        let bytes: Bytes = cmaf.muxer.take();
        if let Some(init) = init {
            let seq = self.current.as_ref().map_or(self.next_seq, |c| c.seq);
            let path = render(&self.config.init_file, &self.vars(seq, now_unix_ms, None));
            let m3u8 = self.m3u8_path.clone().unwrap_or_default();
            let uri = entry_uri(self.config.entry_prefix.as_deref(), &m3u8, &path);
            if let Some(cmaf) = &mut self.cmaf {
                // The same name again (no `[seq]`) replaces the file.
                cmaf.inits.retain(|(u, _, _)| *u != uri);
                cmaf.inits.push((uri.clone(), seq, path.clone()));
                cmaf.map_uri = Some(uri);
            }
            self.actions
                .push_back(HlsAction::WriteInit { path, bytes: init });
        }
        if bytes.is_empty() {
            return bytes;
        }
        if let Some(cur) = &mut self.current {
            cur.bytes = cur.bytes.saturating_add(bytes.len() as u64);
            self.actions.push_back(HlsAction::Append {
                seq: cur.seq,
                bytes: bytes.clone(),
            });
        }
        bytes
    }

    /// The init segments that the entries `removed` from the window named
    /// and no listed entry (nor the init in use, unless `all`) names any
    /// more, as (first segment, path) to delete.
    pub(super) fn retired_inits(&mut self, removed: &[Entry], all: bool) -> Vec<(u64, String)> {
        let Some(cmaf) = &mut self.cmaf else {
            return Vec::new();
        };
        if removed.is_empty() && !all {
            return Vec::new();
        }
        let window = &self.window;
        let current = if all { None } else { cmaf.map_uri.clone() };
        let mut retired = Vec::new();
        cmaf.inits.retain(|(uri, seq, path)| {
            let named = current.as_deref() == Some(uri.as_str())
                || window
                    .entries()
                    .any(|e| e.map.as_deref() == Some(uri.as_str()));
            if !named {
                retired.push((*seq, path.clone()));
            }
            named
        });
        retired
    }

    /// LL-HLS: a segment opened at `start_ms`; its first part starts there.
    fn ll_begin(&mut self, start_ms: u64) {
        if !self.config.low_latency {
            return;
        }
        let Some(cur) = &self.current else {
            return;
        };
        let (seq, discontinuity) = (cur.seq, cur.discontinuity);
        let next_uri = self.part_uri(0);
        if let Some(cmaf) = &mut self.cmaf {
            cmaf.part_start_ms = start_ms;
            cmaf.part_index = 0;
            cmaf.part_independent = true;
            cmaf.parts.open = Some(OpenSegment {
                seq,
                parts: Vec::new(),
                next_uri,
                map: cmaf.map_uri.clone(),
                discontinuity,
            });
        }
    }

    /// LL-HLS: a frame about to be muxed ends the part when the part is
    /// `hls_part_duration` long (video streams: at a video frame), and
    /// always at a video key frame, so parts starting with one are
    /// INDEPENDENT and the muxer never cuts a fragment of its own.
    fn ll_maybe_cut_part(&mut self, dts_ms: u64, kind: &Kind, has_video: bool) {
        let Some(cmaf) = &self.cmaf else {
            return;
        };
        let long = dts_ms >= cmaf.part_start_ms.saturating_add(self.config.part_ms());
        let cut = (kind.is_video && kind.keyframe) || (long && (kind.is_video || !has_video));
        if cut && dts_ms > cmaf.part_start_ms {
            self.ll_cut_part(dts_ms, false);
            if let Some(cmaf) = &mut self.cmaf {
                cmaf.part_independent = kind.keyframe || !has_video;
            }
        }
    }

    /// The path of part `index` of the open segment: its name with the
    /// index before the extension (`cam-5.m4s` → `cam-5.3.m4s`).
    fn part_path(&self, index: u32) -> String {
        let open = self.current.as_ref().map_or("", |c| c.open_path.as_str());
        match open.rsplit_once('.') {
            Some((stem, ext)) if !ext.contains('/') => format!("{stem}.{index}.{ext}"),
            _ => format!("{open}.{index}"),
        }
    }

    fn part_uri(&self, index: u32) -> String {
        let m3u8 = self.m3u8_path.as_deref().unwrap_or_default();
        entry_uri(
            self.config.entry_prefix.as_deref(),
            m3u8,
            &self.part_path(index),
        )
    }

    /// LL-HLS: ends the part at `end_ms`: its fragment goes to the segment
    /// and, as a part, to memory, and the playlist lists it.
    fn ll_cut_part(&mut self, end_ms: u64, segment_ends: bool) {
        if self.current.is_none() {
            return;
        }
        if let Some(cmaf) = &mut self.cmaf {
            cmaf.muxer.cut(end_ms);
        }
        let now = self.last_now_ms;
        let bytes = self.drain_cmaf(now);
        self.ll_record_part(bytes, end_ms);
        if !segment_ends {
            self.ll_playlist();
        }
    }

    /// LL-HLS: `bytes` (whole fragments of segment being written, if any)
    /// are the part ending at `end_ms`; the next one starts there.
    fn ll_record_part(&mut self, bytes: Bytes, end_ms: u64) {
        let Some(seq) = self.current.as_ref().map(|c| c.seq) else {
            return;
        };
        let Some(cmaf) = &self.cmaf else {
            return;
        };
        let index = cmaf.part_index;
        if !bytes.is_empty() {
            let part = Part {
                uri: self.part_uri(index),
                duration_ms: end_ms.saturating_sub(cmaf.part_start_ms),
                independent: cmaf.part_independent,
            };
            let path = self.part_path(index);
            let next_uri = self.part_uri(index + 1);
            self.actions.push_back(HlsAction::PublishPart {
                msn: seq,
                path,
                bytes,
            });
            if let Some(cmaf) = &mut self.cmaf {
                cmaf.part_index = index + 1;
                if let Some(open) = &mut cmaf.parts.open {
                    open.parts.push(part);
                    open.next_uri = next_uri;
                    open.map.clone_from(&cmaf.map_uri);
                }
            }
        }
        if let Some(cmaf) = &mut self.cmaf {
            cmaf.part_start_ms = end_ms;
        }
    }

    /// LL-HLS: segment `seq` closed (and is in the window).
    pub(super) fn ll_segment_closed(&mut self, seq: u64) {
        if !self.config.low_latency {
            return;
        }
        if let Some(cmaf) = &mut self.cmaf {
            cmaf.parts.close(seq);
        }
        self.ll_playlist();
    }

    /// LL-HLS: the playlist, full and delta, for the runtime to serve.
    fn ll_playlist(&mut self) {
        let Some(cmaf) = &self.cmaf else {
            return;
        };
        let part_ms = self.config.part_ms();
        let min_target = self.config.fragment_ms().div_ceil(1000);
        let full = low_latency::render(&self.window, &cmaf.parts, part_ms, min_target, false);
        let delta = low_latency::render(&self.window, &cmaf.parts, part_ms, min_target, true);
        let (msn, parts) = cmaf.parts.position(self.next_seq);
        let hint = cmaf
            .parts
            .open
            .is_some()
            .then(|| self.part_path(cmaf.part_index));
        self.actions.push_back(HlsAction::LivePlaylist {
            path: self.m3u8_path.clone().unwrap_or_default(),
            full,
            delta,
            msn,
            parts,
            hint,
        });
    }
}
