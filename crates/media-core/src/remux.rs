//! FLV tag bodies to elementary-stream frames for the TS muxer.
//!
//! Video (AVC, HEVC, also as E-RTMP `hvc1`/`avc1`) becomes Annex-B access
//! units (ITU-T H.264 Annex B / H.265 Annex B): an access unit delimiter, the
//! parameter sets before a random access picture, start codes instead of
//! length prefixes. Audio becomes ADTS frames (ISO/IEC 13818-7 6.2) or stays
//! as MPEG audio frames. Sequence headers update the decoder configuration.
//!
//! Nothing is concatenated: a frame is a list of slices of the original FLV
//! body with small constant pieces between them (see [`EsPayload`]), so the
//! media bytes are copied once, by the TS muxer.

use bytes::Bytes;
use rtmp_proto::reader::{Reader, Truncated};

use crate::message::{MediaKind, MediaMessage};
use crate::ts::{AudioCodec, EsFrame, EsPayload, Track, TsStreams, VideoCodec};

/// A frame with more NAL units than this is refused (a real encoder emits a
/// few dozen at most; this bounds the piece list hostile input can build).
pub const MAX_NALUS_PER_FRAME: usize = 1024;
/// A decoder configuration with more parameter sets than this is refused.
pub const MAX_PARAMETER_SETS: usize = 32;
/// Ticks of the 90 kHz MPEG clock per millisecond.
const TICKS_PER_MS: u64 = 90;

/// 4-byte Annex-B start code.
static START_CODE: &[u8] = &[0, 0, 0, 1];
/// H.264 access unit delimiter (nal_unit_type 9, primary_pic_type 7 = any).
static AVC_AUD: &[u8] = &[0, 0, 0, 1, 0x09, 0xF0];
/// HEVC access unit delimiter (nal_unit_type 35, pic_type 2 = any).
static HEVC_AUD: &[u8] = &[0, 0, 0, 1, 0x46, 0x01, 0x50];

/// Why a message could not be turned into a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemuxError {
    /// A header or length field ran past the end of the body.
    #[error("truncated: {0}")]
    Truncated(#[from] Truncated),
    /// A video codec TS/HLS cannot carry here (FLV codec id or E-RTMP FourCC).
    #[error("unsupported video codec {0:#x}")]
    UnsupportedVideo(u32),
    /// An audio format TS/HLS cannot carry here (FLV SoundFormat).
    #[error("unsupported audio format {0}")]
    UnsupportedAudio(u8),
    /// A coded frame arrived before any sequence header for its codec.
    #[error("frame before its decoder configuration")]
    NoDecoderConfig,
    /// The decoder configuration record is malformed.
    #[error("bad decoder configuration: {0}")]
    BadConfig(&'static str),
    /// More NAL units than [`MAX_NALUS_PER_FRAME`].
    #[error("too many NAL units in one frame")]
    TooManyNalus,
    /// The MP3 body does not start with an MPEG audio frame header.
    #[error("not an MPEG audio frame")]
    BadMpegAudio,
    /// The AAC frame does not fit an ADTS frame (13-bit length).
    #[error("AAC frame too long for ADTS: {0} bytes")]
    AacTooLong(usize),
}

/// The current video decoder configuration.
#[derive(Debug, Clone)]
struct VideoConfig {
    codec: VideoCodec,
    /// Bytes in each NAL length prefix (1, 2 or 4).
    length_size: usize,
    /// VPS/SPS/PPS NAL units, in order, as slices of the sequence header.
    parameter_sets: Vec<Bytes>,
    /// The raw sequence header, to tell a real change from a repeat.
    raw: Bytes,
}

/// The current audio configuration.
#[derive(Debug, Clone)]
enum AudioConfig {
    Aac {
        /// ADTS fixed header fields from the AudioSpecificConfig.
        profile: u8,
        sampling_index: u8,
        channels: u8,
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
    /// give `None`; so do data messages and the AVC end-of-sequence marker.
    pub fn push(&mut self, msg: &MediaMessage) -> Result<Option<EsFrame>, RemuxError> {
        match msg.kind {
            MediaKind::Video => self.video(msg),
            MediaKind::Audio => self.audio(msg),
            MediaKind::Data => Ok(None),
        }
    }

    fn video(&mut self, msg: &MediaMessage) -> Result<Option<EsFrame>, RemuxError> {
        let tag = flv_video_header(&msg.payload)?;
        let body = msg.payload.slice(tag.header_len.min(msg.payload.len())..);
        match tag.packet {
            VideoPacket::SequenceHeader => {
                let same = self
                    .video
                    .as_ref()
                    .is_some_and(|v| v.codec == tag.codec && v.raw == body);
                if !same {
                    let (length_size, parameter_sets) = match tag.codec {
                        VideoCodec::H264 => avc_config(&body)?,
                        VideoCodec::Hevc => hevc_config(&body)?,
                    };
                    self.video = Some(VideoConfig {
                        codec: tag.codec,
                        length_size,
                        parameter_sets,
                        raw: body,
                    });
                    self.generation += 1;
                }
                Ok(None)
            }
            VideoPacket::EndOfSequence | VideoPacket::Other => Ok(None),
            VideoPacket::Frames => {
                let config = match &self.video {
                    Some(c) if c.codec == tag.codec => c,
                    _ => return Err(RemuxError::NoDecoderConfig),
                };
                let data = annexb(config, &body)?;
                let dts = msg.timestamp.saturating_mul(TICKS_PER_MS);
                let pts_ms = i64::try_from(msg.timestamp)
                    .unwrap_or(i64::MAX)
                    .saturating_add(i64::from(tag.composition_time))
                    .max(0) as u64;
                Ok(Some(EsFrame {
                    track: Track::Video,
                    pts: pts_ms.saturating_mul(TICKS_PER_MS).max(dts),
                    dts,
                    keyframe: tag.keyframe,
                    data,
                }))
            }
        }
    }

    fn audio(&mut self, msg: &MediaMessage) -> Result<Option<EsFrame>, RemuxError> {
        let tag = flv_audio_header(&msg.payload)?;
        let body = msg.payload.slice(tag.header_len.min(msg.payload.len())..);
        let data = match tag.format {
            AudioFormat::Aac if tag.sequence_header => {
                let same =
                    matches!(&self.audio, Some(AudioConfig::Aac { raw, .. }) if *raw == body);
                if !same {
                    let (profile, sampling_index, channels) = aac_config(&body)?;
                    self.audio = Some(AudioConfig::Aac {
                        profile,
                        sampling_index,
                        channels,
                        raw: body,
                    });
                    self.generation += 1;
                }
                return Ok(None);
            }
            AudioFormat::Aac => {
                let Some(AudioConfig::Aac {
                    profile,
                    sampling_index,
                    channels,
                    ..
                }) = &self.audio
                else {
                    return Err(RemuxError::NoDecoderConfig);
                };
                let header = adts_header(*profile, *sampling_index, *channels, body.len())?;
                let mut data = EsPayload::new();
                data.push(Bytes::copy_from_slice(&header));
                data.push(body);
                data
            }
            AudioFormat::Mp3 => {
                let codec = mpeg_audio_codec(&body)?;
                if !matches!(self.audio, Some(AudioConfig::Mpeg(c)) if c == codec) {
                    self.audio = Some(AudioConfig::Mpeg(codec));
                    self.generation += 1;
                }
                EsPayload::from(body)
            }
        };
        let ts = msg.timestamp.saturating_mul(TICKS_PER_MS);
        Ok(Some(EsFrame {
            track: Track::Audio,
            pts: ts,
            dts: ts,
            keyframe: true,
            data,
        }))
    }
}

/// Length-prefixed NAL units to an Annex-B access unit, as pieces: an AUD
/// first unless the frame has one (H.264 7.4.1.2.3 / H.265 7.4.2.4.4 want it
/// first; Apple's HLS authoring spec asks for it), then the parameter sets
/// before an IDR/IRAP picture that does not carry its own.
fn annexb(config: &VideoConfig, body: &Bytes) -> Result<EsPayload, RemuxError> {
    let hevc = config.codec == VideoCodec::Hevc;
    let mut nalus: Vec<Bytes> = Vec::new();
    let mut r = Reader::new(body);
    while !r.is_empty() {
        let len = match config.length_size {
            1 => usize::from(r.u8()?),
            2 => usize::from(r.u16()?),
            3 => r.u24()? as usize,
            _ => r.u32()? as usize,
        };
        let start = r.position();
        r.skip(len)?;
        if len == 0 {
            continue;
        }
        if nalus.len() >= MAX_NALUS_PER_FRAME {
            return Err(RemuxError::TooManyNalus);
        }
        nalus.push(body.slice(start..start + len));
    }
    let class = |n: &Bytes| NalClass::of(hevc, n.first().copied().unwrap_or(0));
    let has_aud = nalus.first().is_some_and(|n| class(n) == NalClass::Aud);
    let has_ps = nalus.iter().any(|n| class(n) == NalClass::ParameterSet);
    let is_random_access = nalus.iter().any(|n| class(n) == NalClass::RandomAccess);

    let mut out = EsPayload::new();
    let mut iter = nalus.into_iter();
    if has_aud {
        if let Some(first) = iter.next() {
            out.push(Bytes::from_static(START_CODE));
            out.push(first);
        }
    } else {
        out.push(Bytes::from_static(if hevc { HEVC_AUD } else { AVC_AUD }));
    }
    if is_random_access && !has_ps {
        for ps in &config.parameter_sets {
            out.push(Bytes::from_static(START_CODE));
            out.push(ps.clone());
        }
    }
    for n in iter {
        out.push(Bytes::from_static(START_CODE));
        out.push(n);
    }
    Ok(out)
}

/// What matters about a NAL unit when building an access unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NalClass {
    /// Access unit delimiter (H.264 type 9, HEVC type 35).
    Aud,
    /// SPS/PPS (H.264 7, 8) or VPS/SPS/PPS (HEVC 32-34).
    ParameterSet,
    /// IDR (H.264 5) or IRAP (HEVC 16-23).
    RandomAccess,
    Other,
}

impl NalClass {
    /// Classifies by the first byte of the NAL header (H.264 7.3.1, H.265 7.3.1.2).
    fn of(hevc: bool, header: u8) -> Self {
        if hevc {
            match (header >> 1) & 0x3F {
                35 => NalClass::Aud,
                32..=34 => NalClass::ParameterSet,
                16..=23 => NalClass::RandomAccess,
                _ => NalClass::Other,
            }
        } else {
            match header & 0x1F {
                9 => NalClass::Aud,
                7 | 8 => NalClass::ParameterSet,
                5 => NalClass::RandomAccess,
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

// ---------------------------------------------------------------------------
// FLV and decoder-configuration parsing used until the `flv`, `avc`, `hevc`
// and `aac` modules land.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VideoPacket {
    SequenceHeader,
    Frames,
    EndOfSequence,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct VideoTag {
    codec: VideoCodec,
    packet: VideoPacket,
    keyframe: bool,
    composition_time: i32,
    header_len: usize,
}

/// FLV VIDEODATA header (FLV spec E.4.3.1) and the Enhanced RTMP extended
/// header (E-RTMP v1: IsExHeader, PacketType, FourCC).
fn flv_video_header(body: &[u8]) -> Result<VideoTag, RemuxError> {
    let mut r = Reader::new(body);
    let b0 = r.u8()?;
    if b0 & 0x80 != 0 {
        let frame_type = (b0 >> 4) & 0x07;
        let packet_type = b0 & 0x0F;
        let fourcc = r.u32()?;
        let codec = match &fourcc.to_be_bytes() {
            b"avc1" => VideoCodec::H264,
            b"hvc1" => VideoCodec::Hevc,
            _ => return Err(RemuxError::UnsupportedVideo(fourcc)),
        };
        let (packet, composition_time) = match packet_type {
            0 => (VideoPacket::SequenceHeader, 0),
            1 => (VideoPacket::Frames, r.i24()?),
            2 => (VideoPacket::EndOfSequence, 0),
            3 => (VideoPacket::Frames, 0),
            _ => (VideoPacket::Other, 0),
        };
        return Ok(VideoTag {
            codec,
            packet,
            keyframe: frame_type == 1,
            composition_time,
            header_len: r.position(),
        });
    }
    let codec = match b0 & 0x0F {
        7 => VideoCodec::H264,
        12 => VideoCodec::Hevc,
        id => return Err(RemuxError::UnsupportedVideo(u32::from(id))),
    };
    let packet = match r.u8()? {
        0 => VideoPacket::SequenceHeader,
        1 => VideoPacket::Frames,
        2 => VideoPacket::EndOfSequence,
        _ => VideoPacket::Other,
    };
    let composition_time = r.i24()?;
    Ok(VideoTag {
        codec,
        packet,
        keyframe: (b0 >> 4) == 1,
        composition_time,
        header_len: r.position(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AudioFormat {
    Aac,
    Mp3,
}

#[derive(Debug, Clone, Copy)]
struct AudioTag {
    format: AudioFormat,
    sequence_header: bool,
    header_len: usize,
}

/// FLV AUDIODATA header (FLV spec E.4.2.1).
fn flv_audio_header(body: &[u8]) -> Result<AudioTag, RemuxError> {
    let mut r = Reader::new(body);
    let b0 = r.u8()?;
    match b0 >> 4 {
        10 => {
            let packet_type = r.u8()?;
            Ok(AudioTag {
                format: AudioFormat::Aac,
                sequence_header: packet_type == 0,
                header_len: 2,
            })
        }
        2 | 14 => Ok(AudioTag {
            format: AudioFormat::Mp3,
            sequence_header: false,
            header_len: 1,
        }),
        f => Err(RemuxError::UnsupportedAudio(f)),
    }
}

/// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1): NAL length
/// size, then SPS and PPS.
fn avc_config(body: &Bytes) -> Result<(usize, Vec<Bytes>), RemuxError> {
    let mut r = Reader::new(body);
    r.skip(4)?;
    let length_size = usize::from(r.u8()? & 0x03) + 1;
    let mut sets = Vec::new();
    let n_sps = r.u8()? & 0x1F;
    for _ in 0..n_sps {
        sets.push(read_u16_prefixed(&mut r, body)?);
    }
    let n_pps = r.u8()?;
    for _ in 0..n_pps {
        if sets.len() >= MAX_PARAMETER_SETS {
            return Err(RemuxError::BadConfig("too many parameter sets"));
        }
        sets.push(read_u16_prefixed(&mut r, body)?);
    }
    if length_size == 3 {
        return Err(RemuxError::BadConfig("3-byte NAL lengths"));
    }
    Ok((length_size, sets))
}

/// HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1): NAL length
/// size, then arrays of VPS/SPS/PPS/SEI.
fn hevc_config(body: &Bytes) -> Result<(usize, Vec<Bytes>), RemuxError> {
    let mut r = Reader::new(body);
    r.skip(21)?;
    let length_size = usize::from(r.u8()? & 0x03) + 1;
    let arrays = r.u8()?;
    let mut sets = Vec::new();
    for _ in 0..arrays {
        let nal_type = r.u8()? & 0x3F;
        let count = r.u16()?;
        for _ in 0..count {
            let nal = read_u16_prefixed(&mut r, body)?;
            if (32..=34).contains(&nal_type) {
                if sets.len() >= MAX_PARAMETER_SETS {
                    return Err(RemuxError::BadConfig("too many parameter sets"));
                }
                sets.push(nal);
            }
        }
    }
    if length_size == 3 {
        return Err(RemuxError::BadConfig("3-byte NAL lengths"));
    }
    Ok((length_size, sets))
}

fn read_u16_prefixed(r: &mut Reader<'_>, body: &Bytes) -> Result<Bytes, RemuxError> {
    let len = usize::from(r.u16()?);
    let start = r.position();
    r.skip(len)?;
    Ok(body.slice(start..start + len))
}

/// AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1): object type, sampling
/// frequency index, channel configuration.
fn aac_config(body: &[u8]) -> Result<(u8, u8, u8), RemuxError> {
    let mut r = Reader::new(body);
    let v = r.u16()?;
    let object_type = (v >> 11) as u8;
    let sampling_index = ((v >> 7) & 0x0F) as u8;
    let channels = ((v >> 3) & 0x0F) as u8;
    if object_type == 0 || object_type > 4 || sampling_index > 12 {
        return Err(RemuxError::BadConfig("AudioSpecificConfig"));
    }
    Ok((object_type, sampling_index, channels))
}

/// The 7-byte ADTS header (ISO/IEC 13818-7 6.2.1, no CRC).
fn adts_header(
    object_type: u8,
    sampling_index: u8,
    channels: u8,
    payload_len: usize,
) -> Result<[u8; 7], RemuxError> {
    let len = payload_len + 7;
    if len > 0x1FFF {
        return Err(RemuxError::AacTooLong(payload_len));
    }
    let profile = object_type - 1;
    Ok([
        0xFF,
        0xF1,
        (profile << 6) | (sampling_index << 2) | ((channels >> 2) & 1),
        ((channels & 3) << 6) | ((len >> 11) as u8 & 3),
        (len >> 3) as u8,
        ((len as u8 & 7) << 5) | 0x1F,
        0xFC,
    ])
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

        // A frame with its own AUD and parameter sets gets nothing added.
        let own: [&[u8]; 4] = [&[0x09, 0x10], SPS, PPS, idr];
        let mut full = vec![0x17, 1, 0, 0, 0];
        full.extend(length_prefixed(&own));
        let f = r.push(&msg(MediaKind::Video, 1080, full)).unwrap().unwrap();
        assert_eq!(f.data.to_vec(), annexb_of(&own));
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

    #[test]
    fn hevc_legacy_and_enhanced_rtmp() {
        // HEVCDecoderConfigurationRecord: 21 bytes, lengthSizeMinusOne=3,
        // arrays VPS, SPS, PPS (and an SEI array that is not a parameter set).
        let vps: &[u8] = &[0x40, 0x01, 0x0C];
        let sps: &[u8] = &[0x42, 0x01, 0x01];
        let pps: &[u8] = &[0x44, 0x01, 0xC1];
        let sei: &[u8] = &[0x4E, 0x01, 0x05];
        let mut record = vec![1; 21];
        record.push(0xFF);
        record.push(4);
        for (t, n) in [(32u8, vps), (33, sps), (34, pps), (39, sei)] {
            record.extend_from_slice(&[0x80 | t, 0, 1, 0, n.len() as u8]);
            record.extend_from_slice(n);
        }
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
            Err(RemuxError::Truncated(_))
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
