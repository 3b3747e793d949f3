//! Sample entries (ISO/IEC 14496-12 12.1.3 visual, 12.2.3 audio) and their
//! codec configuration boxes, made from what the stream's FLV messages
//! carry: the sequence header of codecs that have one, the first frame of
//! those that describe themselves in band (MP3, AC-3, E-AC-3).
//!
//! | FLV / E-RTMP | entry | configuration | spec |
//! |---|---|---|---|
//! | `avc1`, codec id 7 | `avc1` | `avcC` = the record | ISO/IEC 14496-15 5.4.2.1 |
//! | `hvc1`, codec id 12 | `hvc1` | `hvcC` = the record | ISO/IEC 14496-15 8.4.1.1 |
//! | `av01` | `av01` | `av1C` = the record | AV1-ISOBMFF 2.2, 2.3 |
//! | `vp09` | `vp09` | `vpcC` (FullBox v1) | VP-ISOBMFF 2.1, 2.2 |
//! | `mp4a`, sound format 10 | `mp4a` | `esds`, type 0x40 + ASC | ISO/IEC 14496-14 5.6 |
//! | `.mp3`, sound format 2, 14 | `mp4a` | `esds`, type 0x6B / 0x69 | ISO/IEC 14496-14 5.6 |
//! | `Opus` | `Opus` | `dOps` from `OpusHead` | Opus-in-ISOBMFF 4.3 |
//! | `fLaC` | `fLaC` | `dfLa` (FullBox v0), STREAMINFO | FLAC-in-ISOBMFF 3.3 |
//! | `ac-3` | `ac-3` | `dac3` | ETSI TS 102 366 F.3, F.4 |
//! | `ec-3` | `ec-3` | `dec3` | ETSI TS 102 366 F.5, F.6 |

use bytes::{BufMut, Bytes, BytesMut};

use super::boxes::{write_box, write_descriptor, write_full_box};
use super::Mp4Error;
use crate::aac::AudioSpecificConfig;
use crate::ac3::{Ac3Header, Eac3Header, AC3_FRAME_SAMPLES};
use crate::av1::{self, Av1Config};
use crate::avc::{AvcConfig, Sps};
use crate::flac::{self, StreamInfo, STREAMINFO_LEN};
use crate::flv::{SoundFormat, VideoCodec};
use crate::hevc::{HevcConfig, Sps as HevcSps};
use crate::mpeg_audio::MpegAudioHeader;
use crate::opus::{self, OpusHead, OPUS_RATE};
use crate::vp9::{self, VpConfig};

/// Longest AudioSpecificConfig carried (real ones are 2 to 7 bytes).
const MAX_ASC_BYTES: usize = 64;
/// Longest AVC/HEVC record carried as is. Its parameter sets are bounded
/// by their parsers; this bounds what the init segment repeats of it.
const MAX_RECORD_BYTES: usize = 64 * 1024;

/// Video codecs fMP4 HLS and recordings carry.
pub fn carries_video(codec: VideoCodec) -> bool {
    matches!(
        codec,
        VideoCodec::Avc | VideoCodec::Hevc | VideoCodec::Av1 | VideoCodec::Vp9
    )
}

/// Audio codecs fMP4 HLS and recordings carry.
pub fn carries_audio(format: SoundFormat) -> bool {
    matches!(
        format,
        SoundFormat::Aac
            | SoundFormat::Mp3
            | SoundFormat::Mp3_8k
            | SoundFormat::Opus
            | SoundFormat::Flac
            | SoundFormat::Ac3
            | SoundFormat::Eac3
    )
}

/// A video track's configuration box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum VideoCodecConfig {
    /// `avcC`: the AVCDecoderConfigurationRecord as received.
    Avc(Bytes),
    /// `hvcC`: the HEVCDecoderConfigurationRecord as received (legacy
    /// codec id 12 and E-RTMP `hvc1` both carry it).
    Hevc(Bytes),
    /// `av1C`: the AV1CodecConfigurationRecord as received.
    Av1(Bytes),
    /// `vpcC`: the VPCodecConfigurationRecord, normalized.
    Vp9([u8; 8]),
}

/// A video track: its configuration and the picture size its entry and
/// `tkhd` state.
#[derive(Debug, Clone)]
pub(super) struct VideoConfig {
    pub(super) config: VideoCodecConfig,
    pub(super) width: u32,
    pub(super) height: u32,
}

impl VideoConfig {
    /// From a sequence header's body. H.264 and HEVC take their size from
    /// the first SPS (and are refused without one, as a decoder could not
    /// start); AV1 from the record's sequence header OBU if it has one;
    /// VP9's record has no size, so it comes from the first key frame
    /// ([`learn_size`](Self::learn_size)).
    pub(super) fn from_sequence_header(codec: VideoCodec, body: Bytes) -> Result<Self, Mp4Error> {
        let bad = |e: String| Mp4Error::BadConfig(e);
        if body.len() > MAX_RECORD_BYTES {
            return Err(bad(format!("{} byte configuration record", body.len())));
        }
        let (config, size) = match codec {
            VideoCodec::Avc => {
                let c = AvcConfig::parse(&body).map_err(|e| bad(e.to_string()))?;
                let size = c
                    .sps
                    .first()
                    .and_then(|nal| Sps::parse(nal).ok())
                    .map(|s| (s.width, s.height))
                    .ok_or_else(|| bad("no usable SPS".into()))?;
                (VideoCodecConfig::Avc(body), size)
            }
            VideoCodec::Hevc => {
                let c = HevcConfig::parse(&body).map_err(|e| bad(e.to_string()))?;
                let size = c
                    .sps
                    .first()
                    .and_then(|nal| HevcSps::parse(nal).ok())
                    .map(|s| (s.width, s.height))
                    .ok_or_else(|| bad("no usable SPS".into()))?;
                (VideoCodecConfig::Hevc(body), size)
            }
            VideoCodec::Av1 => {
                let c = Av1Config::parse(&body).map_err(|e| bad(e.to_string()))?;
                let size = c.sequence_header.map_or((0, 0), |s| (s.width, s.height));
                (VideoCodecConfig::Av1(body), size)
            }
            VideoCodec::Vp9 => {
                let c = VpConfig::parse(&body).map_err(|e| bad(e.to_string()))?;
                (VideoCodecConfig::Vp9(c.record()), (0, 0))
            }
            other => return Err(Mp4Error::UnsupportedCodec(other.name().to_owned())),
        };
        Ok(Self {
            config,
            width: size.0,
            height: size.1,
        })
    }

    /// Whether a frame of `codec` belongs to this track.
    pub(super) fn is(&self, codec: VideoCodec) -> bool {
        matches!(
            (&self.config, codec),
            (VideoCodecConfig::Avc(_), VideoCodec::Avc)
                | (VideoCodecConfig::Hevc(_), VideoCodec::Hevc)
                | (VideoCodecConfig::Av1(_), VideoCodec::Av1)
                | (VideoCodecConfig::Vp9(_), VideoCodec::Vp9)
        )
    }

    /// The picture size is not known yet (AV1 without a sequence header in
    /// its record, VP9).
    pub(super) fn size_unknown(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// Takes the picture size from a key frame: its AV1 sequence header
    /// OBU, or its VP9 uncompressed header.
    pub(super) fn learn_size(&mut self, key_frame: &[u8]) {
        let size = match self.config {
            VideoCodecConfig::Av1(_) => av1::sequence_header_in(key_frame)
                .ok()
                .flatten()
                .map(|s| (s.width, s.height)),
            VideoCodecConfig::Vp9(_) => vp9::key_frame_size(key_frame),
            VideoCodecConfig::Avc(_) | VideoCodecConfig::Hevc(_) => None,
        };
        if let Some((w, h)) = size {
            self.width = w;
            self.height = h;
        }
    }

    /// A frame's body as the track's sample: AV1 without its temporal
    /// delimiters (AV1-ISOBMFF 2.4), anything else as is (length-prefixed
    /// NAL units, VP9 frames and superframes).
    pub(super) fn sample(&self, body: Bytes) -> Bytes {
        match self.config {
            VideoCodecConfig::Av1(_) => av1::strip_temporal_delimiters(&body),
            _ => body,
        }
    }

    /// The brand the file's `ftyp` should list for this codec, if any
    /// (AV1-ISOBMFF 2.1: `av01`).
    pub(super) fn brand(&self) -> Option<&'static [u8; 4]> {
        matches!(self.config, VideoCodecConfig::Av1(_)).then_some(b"av01")
    }

    /// The visual sample entry (14496-12 12.1.3) with its configuration
    /// box. `hvc1` rather than `hev1` because Apple's players accept only
    /// it; encoders that also repeat parameter sets in band play either way.
    pub(super) fn write_entry(&self, o: &mut BytesMut) {
        let entry: &[u8; 4] = match self.config {
            VideoCodecConfig::Avc(_) => b"avc1",
            VideoCodecConfig::Hevc(_) => b"hvc1",
            VideoCodecConfig::Av1(_) => b"av01",
            VideoCodecConfig::Vp9(_) => b"vp09",
        };
        write_box(o, entry, |o| {
            o.put_slice(&[0; 6]);
            o.put_u16(1); // data_reference_index
            o.put_slice(&[0; 16]);
            o.put_u16(u16::try_from(self.width).unwrap_or(u16::MAX));
            o.put_u16(u16::try_from(self.height).unwrap_or(u16::MAX));
            o.put_u32(0x0048_0000); // 72 dpi
            o.put_u32(0x0048_0000);
            o.put_u32(0);
            o.put_u16(1); // frame_count
            o.put_slice(&[0; 32]); // compressorname
            o.put_u16(0x0018); // depth
            o.put_i16(-1);
            match &self.config {
                VideoCodecConfig::Avc(r) => write_box(o, b"avcC", |o| o.put_slice(r)),
                VideoCodecConfig::Hevc(r) => write_box(o, b"hvcC", |o| o.put_slice(r)),
                VideoCodecConfig::Av1(r) => write_box(o, b"av1C", |o| o.put_slice(r)),
                VideoCodecConfig::Vp9(r) => write_full_box(o, b"vpcC", 1, 0, |o| o.put_slice(r)),
            }
        });
    }
}

/// An audio track's configuration box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AudioCodecConfig {
    /// `esds` with object type 0x40 and the AudioSpecificConfig.
    Aac(Bytes),
    /// `esds` with object type 0x6B (11172-3) or 0x69 (13818-3), no
    /// decoder specific info.
    MpegAudio(u8),
    /// `dOps`.
    Opus(Vec<u8>),
    /// `dfLa`'s metadata block (STREAMINFO).
    Flac([u8; 4 + STREAMINFO_LEN]),
    /// `dac3`.
    Ac3([u8; 3]),
    /// `dec3` (5 bytes, 6 with dependent substreams).
    Eac3(Vec<u8>),
}

/// An audio track: its configuration, timescale and fields of the entry.
#[derive(Debug, Clone)]
pub(super) struct AudioConfig {
    pub(super) config: AudioCodecConfig,
    /// The `mdhd` timescale: the sample rate (Opus: always 48 kHz).
    pub(super) timescale: u32,
    pub(super) channels: u8,
    pub(super) sample_size: u16,
    /// Samples of a frame when the frame itself does not say (all AAC
    /// frames; a frame of another codec that does not parse).
    pub(super) frame_len: u64,
}

/// `SoundFormat`s that are one codec here.
fn same_codec(a: SoundFormat, b: SoundFormat) -> bool {
    let norm = |f| match f {
        SoundFormat::Mp3_8k => SoundFormat::Mp3,
        f => f,
    };
    norm(a) == norm(b)
}

impl AudioConfig {
    /// Codecs whose frames describe themselves and that E-RTMP gives no
    /// (or an empty) sequence header: the configuration comes from the
    /// first frame ([`from_frame`](Self::from_frame)).
    pub(super) fn in_band(format: SoundFormat) -> bool {
        matches!(
            format,
            SoundFormat::Mp3 | SoundFormat::Mp3_8k | SoundFormat::Ac3 | SoundFormat::Eac3
        )
    }

    /// From a sequence header's body; `None` for the in-band codecs,
    /// whose sequence header (if any) says nothing.
    pub(super) fn from_sequence_header(
        format: SoundFormat,
        body: &Bytes,
    ) -> Result<Option<Self>, Mp4Error> {
        let bad = |e: String| Mp4Error::BadConfig(e);
        Ok(Some(match format {
            SoundFormat::Aac => {
                if body.len() > MAX_ASC_BYTES {
                    return Err(bad("AudioSpecificConfig too long".into()));
                }
                let asc = AudioSpecificConfig::parse(body).map_err(|e| bad(e.to_string()))?;
                let rate = asc.sample_rate();
                if rate == 0 {
                    return Err(bad("sample rate 0".into()));
                }
                Self {
                    config: AudioCodecConfig::Aac(body.clone()),
                    timescale: rate,
                    channels: asc.channels(),
                    sample_size: 16,
                    frame_len: if asc.sbr.is_some() { 2048 } else { 1024 },
                }
            }
            SoundFormat::Opus => {
                let head = OpusHead::parse(body).map_err(|e| bad(e.to_string()))?;
                Self {
                    config: AudioCodecConfig::Opus(head.dops()),
                    timescale: OPUS_RATE,
                    channels: head.channels,
                    sample_size: 16,
                    frame_len: 960,
                }
            }
            SoundFormat::Flac => {
                let si = StreamInfo::from_sequence_header(body).map_err(|e| bad(e.to_string()))?;
                Self {
                    config: AudioCodecConfig::Flac(si.metadata_block()),
                    timescale: si.sample_rate,
                    channels: si.channels,
                    sample_size: u16::from(si.bits_per_sample),
                    frame_len: u64::from(si.max_block_size),
                }
            }
            f if Self::in_band(f) => return Ok(None),
            other => return Err(Mp4Error::UnsupportedCodec(other.name().to_owned())),
        }))
    }

    /// From the first frame of an in-band codec.
    pub(super) fn from_frame(format: SoundFormat, frame: &[u8]) -> Result<Self, Mp4Error> {
        let bad = |e: String| Mp4Error::BadConfig(e);
        Ok(match format {
            SoundFormat::Mp3 | SoundFormat::Mp3_8k => {
                let h = MpegAudioHeader::parse(frame).map_err(|e| bad(e.to_string()))?;
                Self {
                    config: AudioCodecConfig::MpegAudio(h.object_type_indication()),
                    timescale: h.sample_rate,
                    channels: h.channels,
                    sample_size: 16,
                    frame_len: u64::from(h.samples_per_frame()),
                }
            }
            SoundFormat::Ac3 => {
                let h = Ac3Header::parse(frame).map_err(|e| bad(e.to_string()))?;
                Self {
                    config: AudioCodecConfig::Ac3(h.dac3()),
                    timescale: h.sample_rate(),
                    channels: h.channels(),
                    sample_size: 16,
                    frame_len: u64::from(AC3_FRAME_SAMPLES),
                }
            }
            SoundFormat::Eac3 => {
                let h = Eac3Header::parse(frame).map_err(|e| bad(e.to_string()))?;
                Self {
                    config: AudioCodecConfig::Eac3(h.dec3()),
                    timescale: h.sample_rate,
                    channels: h.channels,
                    sample_size: 16,
                    frame_len: u64::from(h.samples),
                }
            }
            other => return Err(Mp4Error::UnsupportedCodec(other.name().to_owned())),
        })
    }

    /// Whether a frame of `format` belongs to this track.
    pub(super) fn is(&self, format: SoundFormat) -> bool {
        let mine = match self.config {
            AudioCodecConfig::Aac(_) => SoundFormat::Aac,
            AudioCodecConfig::MpegAudio(_) => SoundFormat::Mp3,
            AudioCodecConfig::Opus(_) => SoundFormat::Opus,
            AudioCodecConfig::Flac(_) => SoundFormat::Flac,
            AudioCodecConfig::Ac3(_) => SoundFormat::Ac3,
            AudioCodecConfig::Eac3(_) => SoundFormat::Eac3,
        };
        same_codec(mine, format)
    }

    /// How many samples (in the timescale) a frame lasts: what the frame
    /// says (Opus TOC, FLAC block size, MPEG audio layer and version,
    /// E-AC-3 blocks), else the codec's usual length.
    pub(super) fn frame_samples(&self, frame: &[u8]) -> u64 {
        let said = match self.config {
            AudioCodecConfig::Opus(_) => opus::packet_samples(frame),
            AudioCodecConfig::Flac(_) => flac::frame_block_size(frame),
            AudioCodecConfig::MpegAudio(_) => MpegAudioHeader::parse(frame)
                .ok()
                .map(|h| h.samples_per_frame()),
            AudioCodecConfig::Eac3(_) => Eac3Header::parse(frame).ok().map(|h| h.samples),
            AudioCodecConfig::Aac(_) | AudioCodecConfig::Ac3(_) => None,
        };
        said.map_or(self.frame_len, u64::from).max(1)
    }

    /// The audio sample entry (14496-12 12.2.3, version 0) with its
    /// configuration box. `samplerate` is 16.16 fixed point: a rate over
    /// 65535 Hz is halved until it fits, as the FLAC binding asks (the
    /// `mdhd` timescale and the configuration box hold the real one).
    pub(super) fn write_entry(&self, o: &mut BytesMut, track_id: u32) {
        let entry: &[u8; 4] = match self.config {
            AudioCodecConfig::Aac(_) | AudioCodecConfig::MpegAudio(_) => b"mp4a",
            AudioCodecConfig::Opus(_) => b"Opus",
            AudioCodecConfig::Flac(_) => b"fLaC",
            AudioCodecConfig::Ac3(_) => b"ac-3",
            AudioCodecConfig::Eac3(_) => b"ec-3",
        };
        let mut rate = self.timescale;
        while rate > 0xFFFF && rate.is_multiple_of(2) {
            rate /= 2;
        }
        write_box(o, entry, |o| {
            o.put_slice(&[0; 6]);
            o.put_u16(1); // data_reference_index
            o.put_slice(&[0; 8]);
            o.put_u16(u16::from(self.channels.max(1)));
            o.put_u16(self.sample_size);
            o.put_u32(0);
            o.put_u32(rate.min(0xFFFF) << 16);
            match &self.config {
                AudioCodecConfig::Aac(asc) => write_esds(o, track_id, 0x40, Some(asc)),
                AudioCodecConfig::MpegAudio(oti) => write_esds(o, track_id, *oti, None),
                AudioCodecConfig::Opus(dops) => write_box(o, b"dOps", |o| o.put_slice(dops)),
                AudioCodecConfig::Flac(block) => {
                    write_full_box(o, b"dfLa", 0, 0, |o| o.put_slice(block));
                }
                AudioCodecConfig::Ac3(dac3) => write_box(o, b"dac3", |o| o.put_slice(dac3)),
                AudioCodecConfig::Eac3(dec3) => write_box(o, b"dec3", |o| o.put_slice(dec3)),
            }
        });
    }
}

/// `esds` (ISO/IEC 14496-14 5.6, 14496-1 7.2.6.5): an ES descriptor with
/// the decoder configuration of an audio stream of `object_type`, and its
/// decoder specific info when the codec has one.
fn write_esds(o: &mut BytesMut, track_id: u32, object_type: u8, dsi: Option<&[u8]>) {
    write_full_box(o, b"esds", 0, 0, |o| {
        write_descriptor(o, 0x03, |o| {
            o.put_u16(u16::try_from(track_id).unwrap_or(0)); // ES_ID
            o.put_u8(0);
            write_descriptor(o, 0x04, |o| {
                o.put_u8(object_type);
                o.put_u8(0x15); // AudioStream, upstream 0, reserved 1
                o.put_slice(&[0; 3]); // bufferSizeDB
                o.put_u32(0); // maxBitrate
                o.put_u32(0); // avgBitrate
                if let Some(dsi) = dsi {
                    write_descriptor(o, 0x05, |o| o.put_slice(dsi));
                }
            });
            write_descriptor(o, 0x06, |o| o.put_u8(0x02));
        });
    });
}

#[cfg(test)]
mod tests {
    //! Each codec through the muxer; the file read back with the
    //! demuxer's box walker: the sample entry, its configuration box, the
    //! track's timescale and the samples' durations.
    use super::super::demux::children;
    use super::super::Fmp4Muxer;
    use crate::message::{MediaKind, MediaMessage};
    use bytes::Bytes;

    /// Boxes as (type, body).
    type Boxes = Vec<([u8; 4], Vec<u8>)>;

    fn msg(kind: MediaKind, ts: u64, bytes: &[u8]) -> MediaMessage {
        MediaMessage::new(kind, ts, Bytes::copy_from_slice(bytes))
    }

    fn cat(a: &[u8], b: &[u8]) -> Vec<u8> {
        [a, b].concat()
    }

    fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> &'a [u8] {
        children(data)
            .expect("boxes tile their parent")
            .into_iter()
            .find(|(k, _)| k == kind)
            .map(|(_, b)| b)
            .unwrap_or_else(|| panic!("no {}", String::from_utf8_lossy(kind)))
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
    }

    /// What a recording says of its track with handler `handler`.
    #[derive(Debug)]
    struct Track {
        /// Sample entry type and body.
        entry: ([u8; 4], Vec<u8>),
        timescale: u32,
        /// Every sample's (duration, size), in order.
        samples: Vec<(u32, u32)>,
        /// The samples' bytes, in order.
        data: Vec<Vec<u8>>,
        brands: Vec<[u8; 4]>,
    }

    fn track(file: &[u8], handler: &[u8; 4]) -> Track {
        let top = children(file).expect("top-level boxes");
        let ftyp = &top.iter().find(|(k, _)| k == b"ftyp").unwrap().1;
        let brands = ftyp[8..].chunks(4).map(|c| c.try_into().unwrap()).collect();
        let moov = top.iter().find(|(k, _)| k == b"moov").unwrap().1;
        let (id, mdia) = children(moov)
            .unwrap()
            .into_iter()
            .filter(|(k, _)| k == b"trak")
            .find_map(|(_, trak)| {
                let mdia = child(trak, b"mdia");
                (&child(mdia, b"hdlr")[8..12] == handler)
                    .then(|| (u32_at(child(trak, b"tkhd"), 12), mdia))
            })
            .expect("the track");
        let timescale = u32_at(child(mdia, b"mdhd"), 12);
        let stsd = child(child(child(mdia, b"minf"), b"stbl"), b"stsd");
        assert_eq!(u32_at(stsd, 4), 1, "one sample entry");
        let (kind, body) = children(&stsd[8..]).unwrap()[0];
        let mut samples = Vec::new();
        let mut data = Vec::new();
        for (i, (k, moof)) in top.iter().enumerate() {
            if k != b"moof" {
                continue;
            }
            let moof_at = moof.as_ptr() as usize - file.as_ptr() as usize - 8;
            for (k, traf) in children(moof).unwrap() {
                if &k != b"traf" || u32_at(child(traf, b"tfhd"), 4) != id {
                    continue;
                }
                let trun = child(traf, b"trun");
                let count = u32_at(trun, 4) as usize;
                let mut at = moof_at + u32_at(trun, 8) as usize;
                for s in 0..count {
                    let (d, size) = (u32_at(trun, 12 + s * 16), u32_at(trun, 16 + s * 16));
                    samples.push((d, size));
                    data.push(file[at..at + size as usize].to_vec());
                    at += size as usize;
                }
                assert_eq!(&top[i + 1].0, b"mdat");
            }
        }
        Track {
            entry: (kind, body.to_vec()),
            timescale,
            samples,
            data,
            brands,
        }
    }

    /// An audio-only recording of `frames` (each with its timestamp).
    fn record(msgs: &[MediaMessage]) -> Vec<u8> {
        let mut m = Fmp4Muxer::new();
        let mut file = Vec::new();
        for msg in msgs {
            m.push(msg).unwrap_or_else(|e| panic!("{e}: {msg:?}"));
            file.extend_from_slice(&m.take());
        }
        file.extend_from_slice(&m.finish());
        file
    }

    /// The audio sample entry's fixed fields: channels, sample size,
    /// 16.16 rate; and its boxes.
    fn audio_entry(body: &[u8]) -> (u16, u16, u32, Boxes) {
        let channels = u16::from_be_bytes([body[16], body[17]]);
        let size = u16::from_be_bytes([body[18], body[19]]);
        let rate = u32_at(body, 24) >> 16;
        let boxes = children(&body[28..])
            .unwrap()
            .into_iter()
            .map(|(k, b)| (k, b.to_vec()))
            .collect();
        (channels, size, rate, boxes)
    }

    /// `count` audio messages `head + frame`, `step_ms` apart.
    fn audio_frames(head: &[u8], frame: &[u8], count: u64, step_ms: f64) -> Vec<MediaMessage> {
        (0..count)
            .map(|i| {
                msg(
                    MediaKind::Audio,
                    (i as f64 * step_ms) as u64,
                    &cat(head, frame),
                )
            })
            .collect()
    }

    #[test]
    fn opus_gets_dops_at_48_khz_and_toc_durations() {
        let head = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00";
        let mut msgs = vec![msg(MediaKind::Audio, 0, &cat(b"\x90Opus", head))];
        // 20 ms CELT packets; the last one a 10 ms one.
        msgs.extend(audio_frames(b"\x91Opus", &[0xf8, 0xff, 0xfe], 60, 20.0));
        msgs.push(msg(MediaKind::Audio, 1200, b"\x91Opus\xf0\x01"));
        let t = track(&record(&msgs), b"soun");
        assert_eq!(&t.entry.0, b"Opus");
        assert_eq!(t.timescale, 48_000);
        let (channels, size, rate, boxes) = audio_entry(&t.entry.1);
        assert_eq!((channels, size, rate), (1, 16, 48_000));
        assert_eq!(&boxes[0].0, b"dOps");
        assert_eq!(boxes[0].1, [0, 1, 0x01, 0x38, 0, 0, 0xbb, 0x80, 0, 0, 0]);
        assert_eq!(t.samples.len(), 61);
        assert!(t.samples[..60].iter().all(|&(d, s)| d == 960 && s == 3));
        assert_eq!(t.data[0], [0xf8, 0xff, 0xfe]);
    }

    #[test]
    fn flac_gets_dfla_with_streaminfo_and_block_durations() {
        let streaminfo: [u8; 34] = [
            0x04, 0x00, 0x04, 0x00, 0, 0, 0, 0, 0x08, 0x15, 0x0b, 0xb8, 0x00, 0xf0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let mut msgs = vec![msg(MediaKind::Audio, 0, &cat(b"\x90fLaC", &streaminfo))];
        msgs.extend(audio_frames(
            b"\x91fLaC",
            &[0xff, 0xf8, 0xaa, 0x08, 0x00, 0xed, 0x4c],
            50,
            1024.0 / 48.0,
        ));
        let t = track(&record(&msgs), b"soun");
        assert_eq!((&t.entry.0, t.timescale), (b"fLaC", 48_000));
        let (channels, size, rate, boxes) = audio_entry(&t.entry.1);
        assert_eq!((channels, size, rate), (1, 16, 48_000));
        assert_eq!(&boxes[0].0, b"dfLa");
        // FullBox version 0, flags 0; STREAMINFO as the last block.
        assert_eq!(&boxes[0].1[..8], &[0, 0, 0, 0, 0x80, 0, 0, 34]);
        assert_eq!(&boxes[0].1[8..], &streaminfo);
        assert!(t.samples.iter().all(|&(d, _)| d == 1024), "{:?}", t.samples);
    }

    #[test]
    fn ac3_takes_dac3_from_its_first_syncframe() {
        let frame = [0x0b, 0x77, 0x48, 0x0d, 0x0c, 0x40, 0x2f, 0x84, 0x11, 0x22];
        // ffmpeg sends an empty SequenceStart first.
        let mut msgs = vec![msg(MediaKind::Audio, 0, b"\x90ac-3")];
        msgs.extend(audio_frames(b"\x91ac-3", &frame, 40, 32.0));
        let t = track(&record(&msgs), b"soun");
        assert_eq!((&t.entry.0, t.timescale), (b"ac-3", 48_000));
        let (channels, _, rate, boxes) = audio_entry(&t.entry.1);
        assert_eq!((channels, rate), (1, 48_000));
        assert_eq!(boxes, [(*b"dac3", vec![0x10, 0x08, 0xc0])]);
        assert!(t.samples.iter().all(|&(d, s)| d == 1536 && s == 10));
    }

    #[test]
    fn eac3_takes_dec3_from_its_first_syncframe() {
        let mut frame = vec![0x0b, 0x77, 0x00, 0xbf, 0x32, 0x87, 0xc0];
        frame.resize(384, 0);
        let t = track(
            &record(&audio_frames(b"\x91ec-3", &frame, 40, 32.0)),
            b"soun",
        );
        assert_eq!((&t.entry.0, t.timescale), (b"ec-3", 48_000));
        let (_, _, _, boxes) = audio_entry(&t.entry.1);
        assert_eq!(boxes, [(*b"dec3", vec![0x03, 0x00, 0x20, 0x02, 0x00])]);
        assert!(t.samples.iter().all(|&(d, _)| d == 1536));
    }

    /// `esds`'s DecoderConfigDescriptor: (objectTypeIndication, whether a
    /// DecoderSpecificInfo follows).
    fn esds_object_type(esds: &[u8]) -> (u8, bool) {
        // FullBox header, ES_Descriptor tag + 4-byte size + ES_ID + flags,
        // DecoderConfigDescriptor tag + 4-byte size.
        let dcd = &esds[4 + 5 + 3..];
        assert_eq!(dcd[0], 0x04);
        let body = &dcd[5..];
        (body[0], body.get(13) == Some(&0x05))
    }

    #[test]
    fn mp3_is_mp4a_with_the_mpeg_audio_object_type() {
        let lame = [0xff, 0xfb, 0x54, 0xc4, 0x00, 0x00];
        // Legacy sound format 2 and E-RTMP `.mp3` alike.
        for head in [&b"\x2e"[..], b"\x91.mp3"] {
            let t = track(&record(&audio_frames(head, &lame, 50, 24.0)), b"soun");
            assert_eq!((&t.entry.0, t.timescale), (b"mp4a", 48_000));
            let (channels, _, rate, boxes) = audio_entry(&t.entry.1);
            assert_eq!((channels, rate), (1, 48_000));
            assert_eq!(&boxes[0].0, b"esds");
            assert_eq!(esds_object_type(&boxes[0].1), (0x6B, false));
            assert!(t.samples.iter().all(|&(d, _)| d == 1152));
        }
        // MPEG-2 Layer III (22.05 kHz): 13818-3's object type, 576 samples.
        let lsf = [0xff, 0xf3, 0x80, 0x00];
        let t = track(&record(&audio_frames(b"\x2a", &lsf, 50, 26.0)), b"soun");
        assert_eq!(t.timescale, 22_050);
        assert_eq!(
            esds_object_type(&audio_entry(&t.entry.1).3[0].1),
            (0x69, false)
        );
        assert!(t.samples.iter().all(|&(d, _)| d == 576));
    }

    #[test]
    fn aac_keeps_its_audio_specific_config() {
        let mut msgs = vec![msg(MediaKind::Audio, 0, &[0xaf, 0, 0x12, 0x10])];
        msgs.extend(audio_frames(
            &[0xaf, 1],
            &[0x21, 0x10, 0x04],
            50,
            1024.0 / 44.1,
        ));
        let t = track(&record(&msgs), b"soun");
        assert_eq!((&t.entry.0, t.timescale), (b"mp4a", 44_100));
        let esds = &audio_entry(&t.entry.1).3[0].1;
        assert_eq!(esds_object_type(esds), (0x40, true));
        assert!(esds.windows(2).any(|w| w == [0x12, 0x10]));
    }

    /// The visual entry's width and height, and its boxes.
    fn visual_entry(body: &[u8]) -> (u16, u16, Boxes) {
        let w = u16::from_be_bytes([body[24], body[25]]);
        let h = u16::from_be_bytes([body[26], body[27]]);
        let boxes = children(&body[78..])
            .unwrap()
            .into_iter()
            .map(|(k, b)| (k, b.to_vec()))
            .collect();
        (w, h, boxes)
    }

    /// libsvtav1's record for 320x180 (as in `av1` tests).
    const AV1_RECORD: &[u8] = &[
        0x81, 0x00, 0x0c, 0x00, 0x0a, 0x0b, 0x02, 0x00, 0x00, 0x05, 0x21, 0xe7, 0xf6, 0x60, 0x17,
        0xc0, 0x02,
    ];

    #[test]
    fn av1_gets_av1c_and_samples_without_temporal_delimiters() {
        let mut msgs = vec![msg(MediaKind::Video, 0, &cat(b"\x90av01", AV1_RECORD))];
        for i in 0..50u64 {
            let key = i % 25 == 0;
            let mut tu = vec![0x12, 0x00];
            if key {
                tu.extend_from_slice(&AV1_RECORD[4..]);
            }
            tu.extend_from_slice(&[0x32, 0x02, i as u8, 0xbb]);
            let head: &[u8] = if key { b"\x91av01" } else { b"\xa1av01" };
            msgs.push(msg(MediaKind::Video, i * 40, &cat(head, &tu)));
        }
        let t = track(&record(&msgs), b"vide");
        assert_eq!(&t.entry.0, b"av01");
        assert!(t.brands.contains(b"av01"));
        let (w, h, boxes) = visual_entry(&t.entry.1);
        assert_eq!((w, h), (320, 180));
        assert_eq!(boxes, [(*b"av1C", AV1_RECORD.to_vec())]);
        assert_eq!(t.samples.len(), 50);
        assert_eq!(
            t.data[0][..2],
            AV1_RECORD[4..6],
            "the key frame starts with its sequence header"
        );
        assert_eq!(t.data[1], [0x32, 0x02, 1, 0xbb]);
        assert!(t.samples[..49].iter().all(|&(d, _)| d == 40));
    }

    #[test]
    fn av1_without_config_obus_takes_its_size_from_the_key_frame() {
        let mut msgs = vec![msg(MediaKind::Video, 0, b"\x90av01\x81\x00\x0c\x00")];
        let key = cat(
            &cat(b"\x91av01\x12\x00", &AV1_RECORD[4..]),
            &[0x32, 0x01, 0],
        );
        msgs.push(msg(MediaKind::Video, 0, &key));
        msgs.push(msg(MediaKind::Video, 40, b"\xa1av01\x12\x00\x32\x01\x01"));
        let t = track(&record(&msgs), b"vide");
        let (w, h, boxes) = visual_entry(&t.entry.1);
        assert_eq!((w, h), (320, 180));
        assert_eq!(boxes[0].1, [0x81, 0x00, 0x0c, 0x00]);
    }

    #[test]
    fn vp9_gets_a_version_1_vpcc_and_the_key_frame_size() {
        let key = [
            0x82, 0x49, 0x83, 0x42, 0x00, 0x13, 0xf0, 0x0b, 0x36, 0x06, 0x38,
        ];
        let mut msgs = vec![msg(
            MediaKind::Video,
            0,
            b"\x90vp09\x01\x00\x00\x00\x00\x0b\x82\x02\x02\x02\x00\x00",
        )];
        for i in 0..30u64 {
            let frame: &[u8] = if i % 25 == 0 {
                &key
            } else {
                &[0x86, 0x00, 0x40, 0x12]
            };
            let head: &[u8] = if i % 25 == 0 {
                b"\x91vp09"
            } else {
                b"\xa1vp09"
            };
            msgs.push(msg(MediaKind::Video, i * 40, &cat(head, frame)));
        }
        let t = track(&record(&msgs), b"vide");
        assert_eq!(&t.entry.0, b"vp09");
        let (w, h, boxes) = visual_entry(&t.entry.1);
        assert_eq!((w, h), (320, 180));
        assert_eq!(&boxes[0].0, b"vpcC");
        assert_eq!(boxes[0].1, [1, 0, 0, 0, 0, 11, 0x82, 2, 2, 2, 0, 0]);
        assert_eq!(t.data[0], key);
        assert_eq!(t.samples.len(), 30);
    }

    #[test]
    fn hostile_configurations_are_typed_errors() {
        use super::super::Mp4Error;
        let cases: &[&[u8]] = &[
            b"\x90av01\x01\x02\x03\x04",
            b"\x90av01",
            b"\x90vp09\x00\x0b\x42",
            b"\x90Opus\x4f\x70\x75\x73",
            b"\x90OpusOpusHead\x01\x00",
            b"\x90fLaC\xff\xff\xff\xff",
        ];
        for (i, payload) in cases.iter().enumerate() {
            let kind = if i < 3 {
                MediaKind::Video
            } else {
                MediaKind::Audio
            };
            let mut m = Fmp4Muxer::new();
            assert!(
                matches!(m.push(&msg(kind, 0, payload)), Err(Mp4Error::BadConfig(_))),
                "{payload:?}"
            );
        }
        // In-band codecs: a first frame that is not one.
        for payload in [
            &b"\x91ac-3\x0b\x77"[..],
            b"\x91ec-3\x00\x00\x00\x00\x00\x00",
            b"\x2f\x00\x00\x00\x00",
        ] {
            let mut m = Fmp4Muxer::new();
            assert!(
                matches!(
                    m.push(&msg(MediaKind::Audio, 0, payload)),
                    Err(Mp4Error::BadConfig(_))
                ),
                "{payload:?}"
            );
        }
        // A frame of another codec than the track's is not muxed into it.
        let mut m = Fmp4Muxer::new();
        m.push(&msg(
            MediaKind::Audio,
            0,
            b"\x91ac-3\x0b\x77\x48\x0d\x0c\x40\x2f\x84",
        ))
        .unwrap();
        assert_eq!(
            m.push(&msg(
                MediaKind::Audio,
                0,
                b"\x91ec-3\x0b\x77\x00\xbf\x32\x87\xc0"
            )),
            Err(Mp4Error::NoConfig(MediaKind::Audio))
        );
    }
}
