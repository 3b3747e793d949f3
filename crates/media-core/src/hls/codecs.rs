//! RFC 6381 codec strings (the `CODECS` attribute of a multivariant
//! playlist, RFC 8216 4.3.4.2) and picture sizes, read from a track's FLV
//! sequence header (legacy or single-track Enhanced RTMP form).
//!
//! Only what this server's HLS carries: H.264 (`avc1`, ISO/IEC 14496-15
//! 5.4.1 / RFC 6381 3.3), HEVC (`hvc1`, 14496-15 Annex E.3), AAC
//! (`mp4a.40.<object type>`, RFC 6381 3.3) and MP3 (`mp4a.40.34`, the
//! object type of MPEG-1/2 Layer III in the MP4 registration authority's
//! list, which is what Apple's HLS tools write for it).

use std::fmt::Write as _;

use crate::aac::AudioSpecificConfig;
use crate::avc::{self, AvcConfig};
use crate::flv::{AudioTagHeader, SoundFormat, VideoCodec, VideoTagHeader};
use crate::hevc::{self, HevcConfig};

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

/// The codec of an audio message (an FLV `AUDIODATA` body): an AAC
/// sequence header, or any MP3 frame (MP3 has no sequence header); `None`
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
}
