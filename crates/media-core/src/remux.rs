//! FLV tag bodies to elementary-stream frames for the TS muxer.
//!
//! Video (AVC, HEVC, also as E-RTMP `avc1`/`hvc1`) becomes Annex-B access
//! units (ITU-T H.264 / H.265 Annex B): an access unit delimiter, the
//! parameter sets before a random access picture, start codes instead of
//! length prefixes, the same access unit [`avc::to_annexb`] and
//! [`hevc::to_annexb`] write. Audio becomes ADTS frames
//! ([`aac::adts_header`], ISO/IEC 13818-7 6.2) or stays as MPEG audio frames.
//! Sequence headers update the decoder configuration.
//!
//! E-RTMP v2 `ModEx` `TimestampOffsetNano` (see `flv::modex`) is applied
//! here: the spec gives it to make the millisecond RTMP timestamps exact
//! "with formats like MP4, M2TS", and MPEG-TS's 90 kHz clock can carry part
//! of it. A frame's DTS and PTS are its millisecond times at 90 kHz plus
//! `floor(nanos * 90 / 1e6)` ticks (0 to 89): never a whole millisecond, so
//! the order and the spacing the millisecond timestamps give are kept, and
//! segment cuts and durations, which the segmenter takes from those
//! millisecond timestamps, do not move. (fMP4 video's timescale is the
//! millisecond: there the offset rounds down to nothing, as in ffmpeg's FLV
//! reader.)
//!
//! Nothing is concatenated: a frame is a list of slices of the original FLV
//! body with small constant pieces between them (see [`EsPayload`]), so the
//! media bytes are copied once, by the TS muxer.

use bytes::Bytes;
use rtmp_proto::reader::{Reader, Truncated};

use crate::aac::{self, AacError, AudioSpecificConfig};
use crate::avc::{self, AvcConfig, AvcError, NalError};
use crate::flv::{
    single_track_audio, single_track_video, AacPacketType, AudioPacketType, AudioTagHeader,
    FlvError, SoundFormat, Tracks, VideoCodec as FlvVideo, VideoPacketType, VideoTagHeader,
};
use crate::hevc::{self, HevcConfig, HevcError};
use crate::message::{MediaKind, MediaMessage};
use crate::ts::{AudioCodec, EsFrame, EsPayload, Track, TsStreams, VideoCodec};

/// A frame with more NAL units than this is refused (a real encoder emits a
/// few dozen at most; this bounds the piece list hostile input can build).
pub const MAX_NALUS_PER_FRAME: usize = 1024;
/// Ticks of the 90 kHz MPEG clock per millisecond.
const TICKS_PER_MS: u64 = 90;

/// The 90 kHz ticks of an E-RTMP `TimestampOffsetNano` (rounded down; at
/// most 89 for the spec's largest offset, 999,999 ns).
pub fn nano_offset_ticks(nanos: Option<u32>) -> u64 {
    nanos.map_or(0, |n| u64::from(n) * TICKS_PER_MS / 1_000_000)
}

/// Why a message could not be turned into a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemuxError {
    /// The FLV audio/video tag header is malformed.
    #[error("FLV tag header: {0}")]
    Flv(#[from] FlvError),
    /// The AVC decoder configuration is malformed.
    #[error("AVC: {0}")]
    Avc(#[from] AvcError),
    /// The HEVC decoder configuration is malformed.
    #[error("HEVC: {0}")]
    Hevc(#[from] HevcError),
    /// The AAC AudioSpecificConfig is malformed or has no ADTS form.
    #[error("AAC: {0}")]
    Aac(#[from] AacError),
    /// A NAL length prefix runs past the end of the frame.
    #[error("NAL units: {0}")]
    Nal(#[from] NalError),
    /// The MP3 body is shorter than a frame header.
    #[error("truncated: {0}")]
    Truncated(#[from] Truncated),
    /// A video codec TS/HLS cannot carry here.
    #[error("unsupported video codec {0:?}")]
    UnsupportedVideo(FlvVideo),
    /// An audio format TS/HLS cannot carry here.
    #[error("unsupported audio format {0:?}")]
    UnsupportedAudio(SoundFormat),
    /// An E-RTMP multitrack message whose track loop could not be read
    /// (of a readable one, the default track 0 is remuxed, the rest skipped).
    #[error("unreadable multitrack message")]
    Multitrack,
    /// A coded frame arrived before any sequence header for its codec.
    #[error("frame before its decoder configuration")]
    NoDecoderConfig,
    /// More NAL units than [`MAX_NALUS_PER_FRAME`].
    #[error("too many NAL units in one frame")]
    TooManyNalus,
    /// The MP3 body does not start with an MPEG audio frame header.
    #[error("not an MPEG audio frame")]
    BadMpegAudio,
}

/// The current video decoder configuration.
#[derive(Debug, Clone)]
struct VideoConfig {
    codec: VideoCodec,
    /// Bytes in each NAL length prefix (1 to 4).
    length_size: u8,
    /// VPS (HEVC), SPS and PPS NAL units, in the order they are inserted.
    parameter_sets: Vec<Bytes>,
    /// The raw sequence header, to tell a real change from a repeat.
    raw: Bytes,
}

/// The current audio configuration.
#[derive(Debug, Clone)]
enum AudioConfig {
    Aac {
        asc: AudioSpecificConfig,
        raw: Bytes,
    },
    Mpeg(AudioCodec),
}

/// Turns a stream's audio/video messages into [`EsFrame`]s.
#[derive(Debug, Clone, Default)]
pub struct Remuxer {
    video: Option<VideoConfig>,
    audio: Option<AudioConfig>,
    generation: u64,
}

impl Remuxer {
    /// A remuxer that has seen no sequence header yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every decoder configuration (a new publisher).
    pub fn reset(&mut self) {
        self.video = None;
        self.audio = None;
        self.generation += 1;
    }

    /// The streams configured so far.
    pub fn streams(&self) -> TsStreams {
        TsStreams {
            video: self.video.as_ref().map(|v| v.codec),
            audio: self.audio.as_ref().map(|a| match a {
                AudioConfig::Aac { .. } => AudioCodec::Aac,
                AudioConfig::Mpeg(c) => *c,
            }),
        }
    }

    /// Advances whenever a decoder configuration changes (a new codec, new
    /// parameter sets, a new AudioSpecificConfig); a repeated identical
    /// sequence header leaves it alone. HLS marks such a change with
    /// EXT-X-DISCONTINUITY.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Converts one message. Sequence headers update the configuration and
    /// give `None`; so do data messages, end-of-sequence markers and other
    /// packets that carry no frame.
    pub fn push(&mut self, msg: &MediaMessage) -> Result<Option<EsFrame>, RemuxError> {
        match msg.kind {
            MediaKind::Video => self.video(msg, None),
            MediaKind::Audio => self.audio(msg, None),
            MediaKind::Data => Ok(None),
        }
    }

    /// `outer_nanos`: the `TimestampOffsetNano` of the multitrack message
    /// `msg`'s track was taken from (the rebuilt single track has none).
    fn video(
        &mut self,
        msg: &MediaMessage,
        outer_nanos: Option<u32>,
    ) -> Result<Option<EsFrame>, RemuxError> {
        let (tag, header_len) = VideoTagHeader::parse(&msg.payload)?;
        let offset = nano_offset_ticks(tag.timestamp_offset_nanos.or(outer_nanos));
        if tag.multitrack.is_some() {
            // E-RTMP v2 multitrack: the default track (0) is the one remuxed;
            // the other renditions are not part of this output.
            let Some((_, tracks)) = Tracks::of_video(&msg.payload)? else {
                return Err(RemuxError::Multitrack);
            };
            for track in tracks {
                let track = track?;
                if track.track_id != 0 {
                    continue;
                }
                let Some(payload) = single_track_video(tag.frame_type, tag.payload_type(), &track)
                else {
                    return Ok(None);
                };
                let track = MediaMessage::new(MediaKind::Video, msg.timestamp, payload);
                return self.video(&track, tag.timestamp_offset_nanos);
            }
            return Ok(None);
        }
        let codec = match tag.codec() {
            FlvVideo::Avc => VideoCodec::H264,
            FlvVideo::Hevc => VideoCodec::Hevc,
            other => return Err(RemuxError::UnsupportedVideo(other)),
        };
        let body = msg.payload.slice(header_len.min(msg.payload.len())..);
        match tag.payload_type() {
            VideoPacketType::SequenceStart => {
                let same = self
                    .video
                    .as_ref()
                    .is_some_and(|v| v.codec == codec && v.raw == body);
                if !same {
                    let (length_size, parameter_sets) = match codec {
                        VideoCodec::H264 => {
                            let c = AvcConfig::parse(&body)?;
                            (c.nal_length_size, [c.sps, c.pps].concat())
                        }
                        VideoCodec::Hevc => {
                            let c = HevcConfig::parse(&body)?;
                            (c.nal_length_size, [c.vps, c.sps, c.pps].concat())
                        }
                    };
                    self.video = Some(VideoConfig {
                        codec,
                        length_size,
                        parameter_sets,
                        raw: body,
                    });
                    self.generation += 1;
                }
                Ok(None)
            }
            VideoPacketType::CodedFrames | VideoPacketType::CodedFramesX => {
                let config = match &self.video {
                    Some(c) if c.codec == codec => c,
                    _ => return Err(RemuxError::NoDecoderConfig),
                };
                let keyframe = tag.is_keyframe();
                let data = annexb(config, &body, keyframe)?;
                let dts = msg
                    .timestamp
                    .saturating_mul(TICKS_PER_MS)
                    .saturating_add(offset);
                let pts_ms = i64::try_from(msg.timestamp)
                    .unwrap_or(i64::MAX)
                    .saturating_add(i64::from(tag.composition_time))
                    .max(0) as u64;
                Ok(Some(EsFrame {
                    track: Track::Video,
                    pts: pts_ms
                        .saturating_mul(TICKS_PER_MS)
                        .saturating_add(offset)
                        .max(dts),
                    dts,
                    keyframe,
                    data,
                }))
            }
            _ => Ok(None),
        }
    }

    /// `outer_nanos` as for [`Self::video`].
    fn audio(
        &mut self,
        msg: &MediaMessage,
        outer_nanos: Option<u32>,
    ) -> Result<Option<EsFrame>, RemuxError> {
        let (tag, header_len) = AudioTagHeader::parse(&msg.payload)?;
        let offset = nano_offset_ticks(tag.timestamp_offset_nanos.or(outer_nanos));
        if let Some((_, inner)) = tag.multitrack {
            // As for video: track 0 only.
            let Some((_, tracks)) = Tracks::of_audio(&msg.payload)? else {
                return Err(RemuxError::Multitrack);
            };
            for track in tracks {
                let track = track?;
                if track.track_id != 0 {
                    continue;
                }
                let Some(payload) = single_track_audio(inner, &track) else {
                    return Ok(None);
                };
                let track = MediaMessage::new(MediaKind::Audio, msg.timestamp, payload);
                return self.audio(&track, tag.timestamp_offset_nanos);
            }
            return Ok(None);
        }
        let body = msg.payload.slice(header_len.min(msg.payload.len())..);
        let coded = tag.aac_packet_type == Some(AacPacketType::Raw)
            || tag.packet_type == Some(AudioPacketType::CodedFrames)
            || (!tag.is_ex_header && tag.sound_format != SoundFormat::Aac);
        let data = match tag.sound_format {
            SoundFormat::Aac if tag.is_sequence_header() => {
                let same =
                    matches!(&self.audio, Some(AudioConfig::Aac { raw, .. }) if *raw == body);
                if !same {
                    let asc = AudioSpecificConfig::parse(&body)?;
                    self.audio = Some(AudioConfig::Aac { asc, raw: body });
                    self.generation += 1;
                }
                return Ok(None);
            }
            _ if !coded => return Ok(None),
            SoundFormat::Aac => {
                let Some(AudioConfig::Aac { asc, .. }) = &self.audio else {
                    return Err(RemuxError::NoDecoderConfig);
                };
                let header = aac::adts_header(asc, body.len())?;
                let mut data = EsPayload::new();
                data.push(Bytes::copy_from_slice(&header));
                data.push(body);
                data
            }
            SoundFormat::Mp3 | SoundFormat::Mp3_8k => {
                let codec = mpeg_audio_codec(&body)?;
                if !matches!(self.audio, Some(AudioConfig::Mpeg(c)) if c == codec) {
                    self.audio = Some(AudioConfig::Mpeg(codec));
                    self.generation += 1;
                }
                EsPayload::from(body)
            }
            other => return Err(RemuxError::UnsupportedAudio(other)),
        };
        let ts = msg
            .timestamp
            .saturating_mul(TICKS_PER_MS)
            .saturating_add(offset);
        Ok(Some(EsFrame {
            track: Track::Audio,
            pts: ts,
            dts: ts,
            keyframe: true,
            data,
        }))
    }
}

/// Length-prefixed NAL units to an Annex-B access unit, as pieces. The same
/// bytes as [`avc::to_annexb`] / [`hevc::to_annexb`]: one AUD first (input
/// AUDs dropped; H.222.0 2.14 / 2.17 want one per access unit), then the
/// configuration's parameter sets before a key frame or IDR/IRAP that does
/// not carry its own, then every non-empty NAL unit after a start code.
fn annexb(config: &VideoConfig, body: &Bytes, keyframe: bool) -> Result<EsPayload, RemuxError> {
    let is_hevc = config.codec == VideoCodec::Hevc;
    let mut nalus: Vec<Bytes> = Vec::new();
    let mut sets = 0u8;
    let mut random_access = false;
    for nal in avc::nal_units(body, config.length_size)? {
        let nal = nal?;
        let Some(&header) = nal.first() else {
            continue;
        };
        match NalClass::of(is_hevc, header) {
            NalClass::Aud => continue,
            NalClass::ParameterSet(bit) => sets |= bit,
            NalClass::RandomAccess => random_access = true,
            NalClass::Other => {}
        }
        if nalus.len() >= MAX_NALUS_PER_FRAME {
            return Err(RemuxError::TooManyNalus);
        }
        nalus.push(body.slice_ref(nal));
    }
    let all_sets = if is_hevc { 0b111 } else { 0b110 };
    // The codec modules' own AUD and start code, as 'static pieces.
    let aud: &'static [u8] = if is_hevc { &hevc::AUD } else { &avc::AUD };
    let mut out = EsPayload::new();
    out.push(Bytes::from_static(aud));
    if (keyframe || random_access) && sets != all_sets {
        for ps in &config.parameter_sets {
            out.push(Bytes::from_static(&avc::START_CODE));
            out.push(ps.clone());
        }
    }
    for n in nalus {
        out.push(Bytes::from_static(&avc::START_CODE));
        out.push(n);
    }
    Ok(out)
}

/// What matters about a NAL unit when building an access unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NalClass {
    /// Access unit delimiter (H.264 type 9, HEVC type 35).
    Aud,
    /// VPS (bit 0), SPS (bit 1) or PPS (bit 2).
    ParameterSet(u8),
    /// IDR (H.264 5) or IRAP (HEVC 16-23).
    RandomAccess,
    Other,
}

impl NalClass {
    /// Classifies by the first byte of the NAL header (H.264 7.3.1, H.265
    /// 7.3.1.2), with the NAL unit types the codec modules define.
    fn of(is_hevc: bool, header: u8) -> Self {
        if is_hevc {
            match (header >> 1) & 0x3F {
                hevc::NAL_AUD => NalClass::Aud,
                hevc::NAL_VPS => NalClass::ParameterSet(0b001),
                hevc::NAL_SPS => NalClass::ParameterSet(0b010),
                hevc::NAL_PPS => NalClass::ParameterSet(0b100),
                t if hevc::NAL_IRAP.contains(&t) => NalClass::RandomAccess,
                _ => NalClass::Other,
            }
        } else {
            match header & 0x1F {
                avc::NAL_AUD => NalClass::Aud,
                avc::NAL_SPS => NalClass::ParameterSet(0b010),
                avc::NAL_PPS => NalClass::ParameterSet(0b100),
                avc::NAL_IDR => NalClass::RandomAccess,
                _ => NalClass::Other,
            }
        }
    }
}

/// The stream type of an MPEG audio frame from its header (ISO/IEC 11172-3
/// 2.4.1.3 / 13818-3): version bits `11` are MPEG-1, anything else (MPEG-2
/// LSF, MPEG-2.5) is carried as MPEG-2 audio.
fn mpeg_audio_codec(body: &[u8]) -> Result<AudioCodec, RemuxError> {
    let mut r = Reader::new(body);
    let (a, b) = (r.u8()?, r.u8()?);
    if a != 0xFF || b & 0xE0 != 0xE0 || b & 0x18 == 0x08 {
        return Err(RemuxError::BadMpegAudio);
    }
    Ok(if b & 0x18 == 0x18 {
        AudioCodec::Mp3
    } else {
        AudioCodec::Mp3Lsf
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::MediaFlags;

    const SPS: &[u8] = &[0x67, 0x64, 0x00, 0x1F, 0xAC, 0xB2];
    const PPS: &[u8] = &[0x68, 0xEB, 0xC3];

    fn msg(kind: MediaKind, timestamp: u64, payload: Vec<u8>) -> MediaMessage {
        MediaMessage {
            timestamp,
            kind,
            flags: MediaFlags::default(),
            payload: Bytes::from(payload),
        }
    }

    fn avc_header() -> Vec<u8> {
        let mut b = vec![
            0x17,
            0,
            0,
            0,
            0,
            1,
            0x64,
            0,
            0x1F,
            0xFF,
            0xE1,
            0,
            SPS.len() as u8,
        ];
        b.extend_from_slice(SPS);
        b.extend_from_slice(&[1, 0, PPS.len() as u8]);
        b.extend_from_slice(PPS);
        b
    }

    fn length_prefixed(nals: &[&[u8]]) -> Vec<u8> {
        let mut b = Vec::new();
        for n in nals {
            b.extend_from_slice(&(n.len() as u32).to_be_bytes());
            b.extend_from_slice(n);
        }
        b
    }

    fn annexb_of(nals: &[&[u8]]) -> Vec<u8> {
        let mut b = Vec::new();
        for n in nals {
            b.extend_from_slice(&[0, 0, 0, 1]);
            b.extend_from_slice(n);
        }
        b
    }

    #[test]
    fn avc_frames_become_annexb_access_units() {
        let mut r = Remuxer::new();
        assert_eq!(r.push(&msg(MediaKind::Video, 0, avc_header())), Ok(None));
        assert_eq!(r.streams().video, Some(VideoCodec::H264));

        let idr: &[u8] = &[0x65, 1, 2, 3];
        let mut key = vec![0x17, 1, 0, 0, 80];
        key.extend(length_prefixed(&[idr]));
        let f = r.push(&msg(MediaKind::Video, 1000, key)).unwrap().unwrap();
        assert_eq!(f.track, Track::Video);
        assert!(f.keyframe);
        assert_eq!(f.dts, 90_000);
        assert_eq!(f.pts, 97_200, "composition time 80 ms");
        assert_eq!(f.data.to_vec(), annexb_of(&[&[0x09, 0xF0], SPS, PPS, idr]));

        // A non-IDR frame: AUD + slice; a negative composition time clamps.
        let slice: &[u8] = &[0x41, 9, 9];
        let mut inter = vec![0x27, 1, 0xFF, 0xFF, 0xF0];
        inter.extend(length_prefixed(&[slice]));
        let m = msg(MediaKind::Video, 1040, inter);
        let f = r.push(&m).unwrap().unwrap();
        assert!(!f.keyframe);
        assert_eq!(f.pts, f.dts);
        assert_eq!(f.data.to_vec(), annexb_of(&[&[0x09, 0xF0], slice]));
        // Zero copy: the slice piece points into the message body.
        let body = m.payload.as_ptr_range();
        assert!(f
            .data
            .chunks()
            .iter()
            .any(|c| body.contains(&c.as_ptr()) && c[..] == *slice));

        // A frame with its own parameter sets gets none added, and its AUD
        // is replaced by ours.
        let own: [&[u8]; 4] = [&[0x09, 0x10], SPS, PPS, idr];
        let mut full = vec![0x17, 1, 0, 0, 0];
        full.extend(length_prefixed(&own));
        let f = r.push(&msg(MediaKind::Video, 1080, full)).unwrap().unwrap();
        assert_eq!(f.data.to_vec(), annexb_of(&[&[0x09, 0xF0], SPS, PPS, idr]));
    }

    /// An E-RTMP v2 OneTrack multitrack avc1 message for `track`: `packet`
    /// 0 (sequence start) or 1 (coded frames, `body` with its SI24 first).
    fn track_message(track: u8, key: bool, packet: u8, body: &[u8]) -> Vec<u8> {
        let frame_type = if key { 1 } else { 2 };
        let mut m = vec![0x80 | (frame_type << 4) | 6, packet];
        m.extend_from_slice(b"avc1");
        m.push(track);
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn multitrack_remuxes_the_default_track_only() {
        let mut r = Remuxer::new();
        let record = &avc_header()[5..];
        // Track 1's header first: it configures nothing.
        let other = track_message(1, true, 0, &[1, 0x42, 0, 0x1e, 0xff, 0xe0, 0]);
        assert_eq!(r.push(&msg(MediaKind::Video, 0, other)), Ok(None));
        assert_eq!(r.streams().video, None);
        let header = track_message(0, true, 0, record);
        assert_eq!(r.push(&msg(MediaKind::Video, 0, header)), Ok(None));
        assert_eq!(r.streams().video, Some(VideoCodec::H264));

        let idr: &[u8] = &[0x65, 7, 7];
        let mut coded = vec![0, 0, 40];
        coded.extend(length_prefixed(&[idr]));
        let f = r
            .push(&msg(
                MediaKind::Video,
                1000,
                track_message(0, true, 1, &coded),
            ))
            .unwrap()
            .expect("track 0 is remuxed");
        assert!(f.keyframe);
        assert_eq!(f.pts - f.dts, 40 * 90, "composition time inside the track");
        assert_eq!(f.data.to_vec(), annexb_of(&[&[0x09, 0xF0], SPS, PPS, idr]));
        let skipped = r.push(&msg(
            MediaKind::Video,
            1000,
            track_message(1, true, 1, &coded),
        ));
        assert_eq!(skipped, Ok(None), "track 1 is not");
    }

    /// E-RTMP v2 `TimestampOffsetNano`: added to DTS and PTS at 90 kHz,
    /// rounded down; a multitrack message's offset reaches its track 0.
    #[test]
    fn nano_offsets_refine_the_90khz_times() {
        assert_eq!(nano_offset_ticks(None), 0);
        assert_eq!(nano_offset_ticks(Some(11_111)), 0);
        assert_eq!(nano_offset_ticks(Some(11_112)), 1);
        assert_eq!(nano_offset_ticks(Some(999_999)), 89);

        let mut r = Remuxer::new();
        let header = track_message(0, true, 0, &avc_header()[5..]);
        r.push(&msg(MediaKind::Video, 0, header)).unwrap();
        let mut coded = vec![0, 0, 40];
        coded.extend(length_prefixed(&[&[0x65, 7, 7]]));
        let plain = track_message(0, true, 1, &coded);
        // ModEx (500,000 ns) in front of the multitrack packet type.
        let mut modex = vec![0x80 | (1 << 4) | 7, 2, 0x07, 0xa1, 0x20, 0x06];
        modex.extend_from_slice(&plain[1..]);
        let f = r
            .push(&msg(MediaKind::Video, 1000, modex))
            .unwrap()
            .unwrap();
        assert_eq!((f.dts, f.pts), (90_045, 90_045 + 40 * 90));
        let f = r
            .push(&msg(MediaKind::Video, 1000, plain))
            .unwrap()
            .unwrap();
        assert_eq!((f.dts, f.pts), (90_000, 90_000 + 40 * 90));

        // Single-track ex-header AAC behind a 999,999 ns offset.
        r.push(&msg(MediaKind::Audio, 0, b"\x90mp4a\x12\x10".to_vec()))
            .unwrap();
        let mut aac = vec![0x97, 2, 0x0f, 0x42, 0x3f, 0x01];
        aac.extend_from_slice(b"mp4a\x21\x21");
        let f = r.push(&msg(MediaKind::Audio, 23, aac)).unwrap().unwrap();
        assert_eq!((f.pts, f.dts), (2070 + 89, 2070 + 89));
        // A hostile offset is a typed error.
        let bad = vec![0x97, 2, 0x0f, 0x42, 0x40, 0x01, b'm', b'p', b'4', b'a', 1];
        assert_eq!(
            r.push(&msg(MediaKind::Audio, 46, bad)),
            Err(RemuxError::Flv(FlvError::TimestampOffsetNanoTooLarge(
                1_000_000
            )))
        );
    }

    /// The pieces concatenate to exactly what the codecs module's copying
    /// conversion writes, for every mix of NAL units and key flags.
    #[test]
    fn pieces_match_to_annexb() {
        let avc_config = AvcConfig::parse(&avc_header()[5..]).unwrap();
        let hevc_config = HevcConfig::parse(&hevc_record()).unwrap();
        let avc_nals: [&[u8]; 6] = [&[0x09, 0x10], SPS, PPS, &[0x65, 1], &[0x41, 2], &[0x06, 5]];
        let hevc_nals: [&[u8]; 6] = [
            &[0x46, 0x01, 0x50],
            &[0x40, 0x01, 7],
            &[0x42, 0x01, 8],
            &[0x44, 0x01, 9],
            &[0x26, 0x01, 1],
            &[0x02, 0x01, 2],
        ];
        for mask in 0u32..64 {
            for key in [false, true] {
                let pick = |nals: &[&'static [u8]; 6]| -> Vec<&'static [u8]> {
                    (0..6)
                        .filter(|i| mask & (1 << i) != 0)
                        .map(|i| nals[i])
                        .collect()
                };
                let frame = Bytes::from(length_prefixed(&pick(&avc_nals)));
                let mut want = Vec::new();
                avc::to_annexb(&avc_config, &frame, key, &mut want).unwrap();
                let config = VideoConfig {
                    codec: VideoCodec::H264,
                    length_size: avc_config.nal_length_size,
                    parameter_sets: [avc_config.sps.clone(), avc_config.pps.clone()].concat(),
                    raw: Bytes::new(),
                };
                assert_eq!(annexb(&config, &frame, key).unwrap().to_vec(), want);

                let frame = Bytes::from(length_prefixed(&pick(&hevc_nals)));
                let mut want = Vec::new();
                hevc::to_annexb(&hevc_config, &frame, key, &mut want).unwrap();
                let config = VideoConfig {
                    codec: VideoCodec::Hevc,
                    length_size: hevc_config.nal_length_size,
                    parameter_sets: [
                        hevc_config.vps.clone(),
                        hevc_config.sps.clone(),
                        hevc_config.pps.clone(),
                    ]
                    .concat(),
                    raw: Bytes::new(),
                };
                assert_eq!(annexb(&config, &frame, key).unwrap().to_vec(), want);
            }
        }
    }

    #[test]
    fn generation_moves_only_on_real_changes() {
        let mut r = Remuxer::new();
        r.push(&msg(MediaKind::Video, 0, avc_header())).unwrap();
        let g = r.generation();
        r.push(&msg(MediaKind::Video, 40, avc_header())).unwrap();
        assert_eq!(r.generation(), g, "a repeated header is no change");
        let mut changed = avc_header();
        *changed.last_mut().unwrap() ^= 1;
        r.push(&msg(MediaKind::Video, 80, changed)).unwrap();
        assert_eq!(r.generation(), g + 1);
        r.reset();
        assert_eq!(r.streams(), TsStreams::default());
    }

    /// HEVCDecoderConfigurationRecord: 21 bytes, lengthSizeMinusOne=3,
    /// arrays VPS, SPS, PPS and an SEI array that is not a parameter set.
    fn hevc_record() -> Vec<u8> {
        let mut record = vec![1; 21];
        record.push(0xFF);
        record.push(4);
        for (t, n) in [(32u8, VPS), (33, HSPS), (34, HPPS), (39, SEI)] {
            record.extend_from_slice(&[0x80 | t, 0, 1, 0, n.len() as u8]);
            record.extend_from_slice(n);
        }
        record
    }

    const VPS: &[u8] = &[0x40, 0x01, 0x0C];
    const HSPS: &[u8] = &[0x42, 0x01, 0x01];
    const HPPS: &[u8] = &[0x44, 0x01, 0xC1];
    const SEI: &[u8] = &[0x4E, 0x01, 0x05];

    #[test]
    fn hevc_legacy_and_enhanced_rtmp() {
        let (vps, sps, pps) = (VPS, HSPS, HPPS);
        let record = hevc_record();
        let idr: &[u8] = &[0x26, 0x01, 0xAF];
        let trail: &[u8] = &[0x02, 0x01, 0xD0];
        let want_key = annexb_of(&[&[0x46, 0x01, 0x50], vps, sps, pps, idr]);

        // Legacy FLV codec id 12.
        let mut r = Remuxer::new();
        let mut h = vec![0x1C, 0, 0, 0, 0];
        h.extend_from_slice(&record);
        r.push(&msg(MediaKind::Video, 0, h)).unwrap();
        assert_eq!(r.streams().video, Some(VideoCodec::Hevc));
        let mut f = vec![0x1C, 1, 0, 0, 0];
        f.extend(length_prefixed(&[idr]));
        let out = r.push(&msg(MediaKind::Video, 0, f)).unwrap().unwrap();
        assert_eq!(out.data.to_vec(), want_key);

        // E-RTMP: SequenceStart, CodedFrames (with cts), CodedFramesX.
        let mut r = Remuxer::new();
        let mut h = vec![0x90];
        h.extend_from_slice(b"hvc1");
        h.extend_from_slice(&record);
        r.push(&msg(MediaKind::Video, 0, h)).unwrap();
        let mut f = vec![0x91];
        f.extend_from_slice(b"hvc1");
        f.extend_from_slice(&[0, 0, 40]);
        f.extend(length_prefixed(&[idr]));
        let out = r.push(&msg(MediaKind::Video, 0, f)).unwrap().unwrap();
        assert!(out.keyframe);
        assert_eq!(out.pts, 3600);
        assert_eq!(out.data.to_vec(), want_key);
        let mut f = vec![0xA3];
        f.extend_from_slice(b"hvc1");
        f.extend(length_prefixed(&[trail]));
        let out = r.push(&msg(MediaKind::Video, 40, f)).unwrap().unwrap();
        assert!(!out.keyframe);
        assert_eq!(out.pts, out.dts);
        assert_eq!(out.data.to_vec(), annexb_of(&[&[0x46, 0x01, 0x50], trail]));
    }

    #[test]
    fn aac_frames_get_adts_headers() {
        let mut r = Remuxer::new();
        // AAC LC, 44.1 kHz, stereo.
        r.push(&msg(MediaKind::Audio, 0, vec![0xAF, 0, 0x12, 0x10]))
            .unwrap();
        assert_eq!(r.streams().audio, Some(AudioCodec::Aac));
        let mut body = vec![0xAF, 1];
        body.extend_from_slice(&[0x21; 20]);
        let f = r.push(&msg(MediaKind::Audio, 23, body)).unwrap().unwrap();
        assert_eq!(f.track, Track::Audio);
        assert_eq!((f.pts, f.dts), (2070, 2070));
        let data = f.data.to_vec();
        // 13818-7 6.2: sync, MPEG-4, no CRC, LC, index 4, 2 channels, 27 bytes.
        assert_eq!(&data[..7], &[0xFF, 0xF1, 0x50, 0x80, 0x03, 0x7F, 0xFC]);
        assert_eq!(&data[7..], &[0x21; 20]);
    }

    #[test]
    fn mp3_version_picks_the_stream_type() {
        let mut r = Remuxer::new();
        let f = r
            .push(&msg(
                MediaKind::Audio,
                0,
                vec![0x2F, 0xFF, 0xFB, 0x90, 0x00],
            ))
            .unwrap()
            .unwrap();
        assert_eq!(f.data.to_vec(), [0xFF, 0xFB, 0x90, 0x00]);
        assert_eq!(r.streams().audio, Some(AudioCodec::Mp3));
        r.push(&msg(
            MediaKind::Audio,
            0,
            vec![0x2F, 0xFF, 0xF3, 0x90, 0x00],
        ))
        .unwrap();
        assert_eq!(r.streams().audio, Some(AudioCodec::Mp3Lsf));
        assert_eq!(
            r.push(&msg(MediaKind::Audio, 0, vec![0x2F, 0x12, 0x34])),
            Err(RemuxError::BadMpegAudio)
        );
    }

    #[test]
    fn hostile_input_is_an_error() {
        let mut r = Remuxer::new();
        let cases: Vec<(MediaKind, Vec<u8>)> = vec![
            (MediaKind::Video, vec![]),
            (MediaKind::Video, vec![0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65]),
            (MediaKind::Video, vec![0x12, 0]),
            (MediaKind::Video, vec![0x17, 0, 0, 0, 0, 1, 0x64]),
            (MediaKind::Audio, vec![0xAF]),
            (MediaKind::Audio, vec![0xAF, 1, 0]),
            (MediaKind::Audio, vec![0x6F, 1]),
        ];
        for (kind, body) in cases {
            assert!(r.push(&msg(kind, 0, body.clone())).is_err(), "{body:02x?}");
        }
        r.push(&msg(MediaKind::Video, 0, avc_header())).unwrap();
        // A NAL length past the end.
        assert!(matches!(
            r.push(&msg(
                MediaKind::Video,
                0,
                vec![0x17, 1, 0, 0, 0, 0, 0, 0, 9, 0x65]
            )),
            Err(RemuxError::Nal(_))
        ));
        // Too many NAL units.
        let mut many = vec![0x27, 1, 0, 0, 0];
        for _ in 0..=MAX_NALUS_PER_FRAME {
            many.extend_from_slice(&[0, 0, 0, 1, 0x41]);
        }
        assert_eq!(
            r.push(&msg(MediaKind::Video, 0, many)),
            Err(RemuxError::TooManyNalus)
        );
        assert_eq!(r.push(&msg(MediaKind::Data, 0, vec![2, 0])), Ok(None));
    }
}
