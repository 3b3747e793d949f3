//! RFC 6381 codec strings (the `CODECS` attribute of a multivariant
//! playlist, RFC 8216 4.3.4.2) and picture sizes, read from a track's FLV
//! sequence header (legacy or single-track Enhanced RTMP form).
//!
//! Only what this server's HLS carries: H.264 (`avc1`, ISO/IEC 14496-15
//! 5.4.1 / RFC 6381 3.3), HEVC (`hvc1`, 14496-15 Annex E.3), AAC
//! (`mp4a.40.<object type>`, RFC 6381 3.3) and MP3 (`mp4a.40.34`, the
//! object type of MPEG-1/2 Layer III in the MP4 registration authority's
//! list, which is what Apple's HLS tools write for it); and, in fMP4 only,
//! AV1 (`av01.P.LLT.DD`, AV1-ISOBMFF "Codecs Parameter String"), VP9
//! (`vp09.PP.LL.DD`, VP-ISOBMFF), Opus (`Opus`), FLAC (`fLaC`), AC-3
//! (`ac-3`) and E-AC-3 (`ec-3`), their sample entry types as the MP4
//! registration authority lists them.

use std::fmt::Write as _;

use crate::aac::AudioSpecificConfig;
use crate::ac3::{Ac3Header, Eac3Header};
use crate::av1::Av1Config;
use crate::avc::{self, AvcConfig};
use crate::flac::StreamInfo;
use crate::flv::{AudioTagHeader, SoundFormat, VideoCodec, VideoTagHeader};
use crate::hevc::{self, HevcConfig};
use crate::opus::OpusHead;
use crate::vp9::VpConfig;

/// A video track's codec as a multivariant playlist names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoCodecInfo {
    /// RFC 6381 codec string.
    pub codec: String,
    /// Width and height from the first SPS, if it parsed.
    pub resolution: Option<(u32, u32)>,
}

/// An audio track's codec as a multivariant playlist names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioCodecInfo {
    /// RFC 6381 codec string.
    pub codec: String,
    /// Channel count, when the configuration says it.
    pub channels: Option<u8>,
}

/// The codec of a video sequence header (an FLV `VIDEODATA` body); `None`
/// for anything else, a codec HLS here does not carry, or a record that
/// does not parse.
pub fn video_codec(payload: &[u8]) -> Option<VideoCodecInfo> {
    let (header, len) = VideoTagHeader::parse(payload).ok()?;
    if !header.is_sequence_header() || header.multitrack.is_some() {
        return None;
    }
    let body = payload.get(len..)?;
    match header.codec() {
        VideoCodec::Avc => {
            let c = AvcConfig::parse(body).ok()?;
            let resolution = c
                .sps
                .first()
                .and_then(|s| avc::Sps::parse(s).ok())
                .map(|s| (s.width, s.height));
            Some(VideoCodecInfo {
                codec: format!(
                    "avc1.{:02x}{:02x}{:02x}",
                    c.profile, c.compatibility, c.level
                ),
                resolution,
            })
        }
        VideoCodec::Hevc => {
            let c = HevcConfig::parse(body).ok()?;
            let resolution = c
                .sps
                .first()
                .and_then(|s| hevc::Sps::parse(s).ok())
                .map(|s| (s.width, s.height));
            Some(VideoCodecInfo {
                codec: hevc_codec(&c),
                resolution,
            })
        }
        VideoCodec::Av1 => {
            let c = Av1Config::parse(body).ok()?;
            Some(VideoCodecInfo {
                codec: c.codec_string(),
                resolution: c.sequence_header.map(|s| (s.width, s.height)),
            })
        }
        // The record holds no picture size (key frames do).
        VideoCodec::Vp9 => Some(VideoCodecInfo {
            codec: VpConfig::parse(body).ok()?.codec_string(),
            resolution: None,
        }),
        _ => None,
    }
}

/// 14496-15 E.3: `hvc1.` profile space (none, `A`, `B`, `C`) and
/// `general_profile_idc`; the 32 compatibility flags in reverse bit order,
/// in hex; `L` or `H` (tier) and `general_level_idc`; then the six
/// constraint bytes in hex, trailing zero bytes left out.
fn hevc_codec(c: &HevcConfig) -> String {
    let space = match c.profile_space {
        1 => "A",
        2 => "B",
        3 => "C",
        _ => "",
    };
    let mut out = format!(
        "hvc1.{space}{}.{:X}.{}{}",
        c.profile_idc,
        c.compatibility_flags.reverse_bits(),
        if c.tier { 'H' } else { 'L' },
        c.level_idc
    );
    let bytes = c.constraint_flags.to_be_bytes();
    let constraints = &bytes[2..];
    let used = constraints
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |i| i + 1);
    for b in &constraints[..used] {
        // `write!` into a String cannot fail.
        let _ = write!(out, ".{b:X}");
    }
    out
}

/// The codec of an audio message (an FLV `AUDIODATA` body): an AAC, Opus
/// or FLAC sequence header, or any MP3, AC-3 or E-AC-3 frame (they have no
/// sequence header; E-RTMP's empty AC-3 one names nothing); `None`
/// otherwise.
pub fn audio_codec(payload: &[u8]) -> Option<AudioCodecInfo> {
    let (header, len) = AudioTagHeader::parse(payload).ok()?;
    if header.multitrack.is_some() {
        return None;
    }
    match header.sound_format {
        SoundFormat::Aac if header.is_sequence_header() => {
            let asc = AudioSpecificConfig::parse(payload.get(len..)?).ok()?;
            let channels = match asc.channel_configuration {
                0 => None,
                7 => Some(8),
                n => Some(n),
            };
            Some(AudioCodecInfo {
                codec: format!("mp4a.40.{}", asc.object_type),
                channels,
            })
        }
        SoundFormat::Mp3 | SoundFormat::Mp3_8k => Some(AudioCodecInfo {
            codec: "mp4a.40.34".into(),
            channels: Some(header.channels()).filter(|&c| c > 0),
        }),
        SoundFormat::Opus if header.is_sequence_header() => Some(AudioCodecInfo {
            codec: "Opus".into(),
            channels: Some(OpusHead::parse(payload.get(len..)?).ok()?.channels),
        }),
        SoundFormat::Flac if header.is_sequence_header() => Some(AudioCodecInfo {
            codec: "fLaC".into(),
            channels: Some(
                StreamInfo::from_sequence_header(payload.get(len..)?)
                    .ok()?
                    .channels,
            ),
        }),
        SoundFormat::Ac3 if !header.is_sequence_header() => Some(AudioCodecInfo {
            codec: "ac-3".into(),
            channels: Some(Ac3Header::parse(payload.get(len..)?).ok()?.channels()),
        }),
        SoundFormat::Eac3 if !header.is_sequence_header() => Some(AudioCodecInfo {
            codec: "ec-3".into(),
            channels: Some(Eac3Header::parse(payload.get(len..)?).ok()?.channels),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An AVCDecoderConfigurationRecord of a 160x120 baseline stream.
    const AVC_RECORD: &[u8] = &[
        0x01, 0x42, 0xd0, 0x0b, 0xff, 0xe1, 0x00, 0x18, 0x67, 0x42, 0xd0, 0x0b, 0xda, 0x0a, 0x11,
        0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x1e, 0x8f, 0x12,
        0x26, 0xa0, 0x01, 0x00, 0x04, 0x68, 0xce, 0x3c, 0x80,
    ];

    #[test]
    fn avc_in_legacy_and_ex_form() {
        let mut legacy = vec![0x17, 0, 0, 0, 0];
        legacy.extend_from_slice(AVC_RECORD);
        let expected = VideoCodecInfo {
            codec: "avc1.42d00b".into(),
            resolution: Some((160, 120)),
        };
        assert_eq!(video_codec(&legacy), Some(expected.clone()));
        let mut ex = vec![0x90];
        ex.extend_from_slice(b"avc1");
        ex.extend_from_slice(AVC_RECORD);
        assert_eq!(video_codec(&ex), Some(expected));
        // A coded frame names no codec.
        assert_eq!(video_codec(&[0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65]), None);
    }

    #[test]
    fn hevc_main_profile() {
        // hvc1 SequenceStart: Main, Main tier, compatibility 0x60000000,
        // constraint 0x90 then zeros, level 93, no parameter sets.
        let mut tag = vec![0x90];
        tag.extend_from_slice(b"hvc1");
        tag.extend_from_slice(&[1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93]);
        tag.extend_from_slice(&[0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 0]);
        let info = video_codec(&tag).expect("hevc");
        assert_eq!(info.codec, "hvc1.1.6.L93.90");
        assert_eq!(info.resolution, None);
    }

    #[test]
    fn aac_and_mp3() {
        // AAC LC, 44.1 kHz, stereo.
        let aac = audio_codec(&[0xaf, 0, 0x12, 0x10]).expect("aac");
        assert_eq!((aac.codec.as_str(), aac.channels), ("mp4a.40.2", Some(2)));
        // HE-AAC (explicit SBR, object type 5), mono.
        let he = audio_codec(&[0xaf, 0, 0x2b, 0x09, 0x88]).expect("he-aac");
        assert_eq!(he.codec, "mp4a.40.5");
        assert_eq!(he.channels, Some(1));
        // A raw AAC frame names no codec; an MP3 frame does.
        assert_eq!(audio_codec(&[0xaf, 1, 0x21]), None);
        let mp3 = audio_codec(&[0x2f, 0xff, 0xfb, 0x90, 0x64]).expect("mp3");
        assert_eq!((mp3.codec.as_str(), mp3.channels), ("mp4a.40.34", Some(2)));
        assert_eq!(audio_codec(&[]), None);
    }

    #[test]
    fn av1_and_vp9() {
        // libsvtav1's av01 SequenceStart: Main, level 0, Main tier, 8 bits,
        // 320x180 in its sequence header OBU.
        let mut av1 = b"\x90av01".to_vec();
        av1.extend_from_slice(&[
            0x81, 0x00, 0x0c, 0x00, 0x0a, 0x0b, 0x02, 0x00, 0x00, 0x05, 0x21, 0xe7, 0xf6, 0x60,
            0x17, 0xc0, 0x02,
        ]);
        let info = video_codec(&av1).expect("av1");
        assert_eq!(info.codec, "av01.0.00M.08");
        assert_eq!(info.resolution, Some((320, 180)));
        // libvpx-vp9's vp09 SequenceStart (the vpcC body, version 1).
        let vp9 = b"\x90vp09\x01\x00\x00\x00\x00\x0b\x82\x02\x02\x02\x00\x00";
        let info = video_codec(vp9).expect("vp9");
        assert_eq!(
            (info.codec.as_str(), info.resolution),
            ("vp09.00.11.08", None)
        );
        // A coded frame, a bad record.
        assert_eq!(video_codec(b"\x91vp09\x82\x49\x83\x42"), None);
        assert_eq!(video_codec(b"\x90av01\x01\x00\x00\x00"), None);
    }

    #[test]
    fn opus_flac_ac3_and_eac3() {
        let opus = audio_codec(b"\x90OpusOpusHead\x01\x02\x38\x01\x80\xbb\0\0\0\0\0");
        let opus = opus.expect("opus");
        assert_eq!((opus.codec.as_str(), opus.channels), ("Opus", Some(2)));
        assert_eq!(
            audio_codec(b"\x91Opus\xfc\x00"),
            None,
            "a packet names no codec"
        );
        let mut flac = b"\x90fLaC".to_vec();
        flac.extend_from_slice(&[0x04, 0x00, 0x04, 0x00, 0, 0, 0, 0, 0x08, 0x15, 0x0b, 0xb8]);
        flac.extend_from_slice(&[0x00, 0xf0]);
        flac.resize(5 + 34, 0);
        let flac = audio_codec(&flac).expect("flac");
        assert_eq!((flac.codec.as_str(), flac.channels), ("fLaC", Some(1)));
        // AC-3 and E-AC-3 are named by their frames, not the empty
        // SequenceStart ffmpeg sends.
        assert_eq!(audio_codec(b"\x90ac-3"), None);
        let ac3 = audio_codec(b"\x91ac-3\x0b\x77\x48\x0d\x0c\x40\x2f\x84").expect("ac-3");
        assert_eq!((ac3.codec.as_str(), ac3.channels), ("ac-3", Some(1)));
        let eac3 = audio_codec(b"\x91ec-3\x0b\x77\x00\xbf\x32\x87\xc0").expect("ec-3");
        assert_eq!((eac3.codec.as_str(), eac3.channels), ("ec-3", Some(1)));
        assert_eq!(audio_codec(b"\x91ac-3\x00\x00"), None);
    }
}
