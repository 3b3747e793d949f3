//! HLS segments in fragmented MP4 (`hls_use_fmp4`, RFC 8216 3.3): CMAF
//! media segments of whole `moof`+`mdat` fragments, and an init segment
//! (`ftyp` + `moov`) that the playlist names with `EXT-X-MAP`.
//!
//! The boxes are the DVR's [`Fmp4Muxer`] in its segmented mode; the cut
//! rule, the window and the playlist are the segmenter's, shared with
//! MPEG-TS. The FLV body goes to the muxer as is (length-prefixed NAL units,
//! raw AAC), so nothing is converted to Annex B or ADTS.

use bytes::Bytes;

use super::{CutInput, HlsAction, HlsSegmenter};
use crate::flv::{
    legacy_audio, single_track_video, AudioPacketType, AudioTagHeader, Tracks, VideoTagHeader,
};
use crate::hls::error::HlsError;
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
        }
    }

    /// A publisher left: the next one brings its own sequence headers, so
    /// its init is a new one. Fragment numbers go on.
    pub(super) fn reset(&mut self) {
        *self = Self::continuing(self.muxer.sequence());
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
/// MPEG-TS; it is rebuilt as the single-track message the muxer takes
/// (video in the ex-header form, AAC in the legacy one). `None` when the
/// message holds no track 0 the muxer could take. Other messages pass.
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
                    .and_then(|(t, p)| legacy_audio(p, t.fourcc, t.body))
            }
        },
        MediaKind::Data => return Ok(Some(msg.clone())),
    };
    Ok(payload.map(|payload| MediaMessage {
        payload,
        ..msg.clone()
    }))
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
            let Some(cmaf) = &self.cmaf else {
                return Ok(());
            };
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
        self.drain_cmaf(now_unix_ms);
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
        if let Some(cmaf) = &mut self.cmaf {
            cmaf.muxer.cut(end_ms);
            let now = self.last_now_ms;
            self.drain_cmaf(now);
        }
    }

    /// Hands out what the muxer made: the init (once per muxer), then
    /// fragments, appended to the open segment.
    fn drain_cmaf(&mut self, now_unix_ms: u64) {
        let Some(cmaf) = &mut self.cmaf else {
            return;
        };
        let init = cmaf.muxer.take_init();
        let bytes: Bytes = cmaf.muxer.take();
        if let Some(init) = init {
            let seq = self.current.as_ref().map_or(self.next_seq, |c| c.seq);
            let path = render(&self.config.init_file, &self.vars(seq, now_unix_ms, None));
            let m3u8 = self.m3u8_path.clone().unwrap_or_default();
            let uri = entry_uri(self.config.entry_prefix.as_deref(), &m3u8, &path);
            if let Some(cmaf) = &mut self.cmaf {
                cmaf.map_uri = Some(uri);
            }
            self.actions
                .push_back(HlsAction::WriteInit { path, bytes: init });
        }
        if bytes.is_empty() {
            return;
        }
        if let Some(cur) = &mut self.current {
            cur.bytes = cur.bytes.saturating_add(bytes.len() as u64);
            self.actions.push_back(HlsAction::Append {
                seq: cur.seq,
                bytes,
            });
        }
    }
}
