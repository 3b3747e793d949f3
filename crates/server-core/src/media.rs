//! Describing a stream's codecs for the HTTP API (SRS's names for codecs,
//! profiles and levels), from the sequence headers media-core parses.

use media_core::aac::AudioSpecificConfig;
use media_core::avc::{AvcConfig, Sps as AvcSps};
use media_core::flv::{AudioTagHeader, SoundFormat, VideoCodec, VideoTagHeader};

use crate::hub::{AudioInfo, VideoInfo};

/// Why a codec header could not be described.
#[derive(Debug, thiserror::Error)]
#[error("bad codec header: {0}")]
pub struct DescribeError(String);

fn avc_profile_name(profile: u8) -> &'static str {
    match profile {
        66 => "Baseline",
        77 => "Main",
        88 => "Extended",
        100 => "High",
        110 => "High10",
        122 => "High422",
        244 => "High444",
        _ => "Other",
    }
}

/// H.265 `general_profile_idc` (ITU-T H.265 Annex A.3) as SRS names it.
fn hevc_profile_name(profile_idc: u8) -> &'static str {
    match profile_idc {
        1 => "Main",
        2 => "Main10",
        3 => "MainStillPicture",
        4 => "RExt",
        _ => "Other",
    }
}

fn level_name(level: u8) -> String {
    format!("{}.{}", level / 10, level % 10)
}

/// Describes a video message's codec; `Ok(None)` when it carries no codec info.
pub fn describe_video(payload: &[u8]) -> Result<Option<VideoInfo>, DescribeError> {
    let (header, len) = VideoTagHeader::parse(payload).map_err(|e| DescribeError(e.to_string()))?;
    let body = payload.get(len..).unwrap_or_default();
    let codec = header.codec();
    match codec {
        VideoCodec::Avc if header.is_sequence_header() => {
            let config = AvcConfig::parse(body).map_err(|e| DescribeError(e.to_string()))?;
            let mut info = VideoInfo {
                codec: "H264".into(),
                profile: avc_profile_name(config.profile).into(),
                level: level_name(config.level),
                ..VideoInfo::default()
            };
            if let Some(sps) = config.sps.first() {
                let sps = AvcSps::parse(sps).map_err(|e| DescribeError(e.to_string()))?;
                info.width = sps.width;
                info.height = sps.height;
            }
            Ok(Some(info))
        }
        VideoCodec::Hevc if header.is_sequence_header() => {
            let config = media_core::hevc::HevcConfig::parse(body)
                .map_err(|e| DescribeError(e.to_string()))?;
            let mut info = VideoInfo {
                codec: "H265".into(),
                profile: hevc_profile_name(config.profile_idc).into(),
                ..VideoInfo::default()
            };
            if let Some(sps) = config.sps.first() {
                let sps =
                    media_core::hevc::Sps::parse(sps).map_err(|e| DescribeError(e.to_string()))?;
                info.width = sps.width;
                info.height = sps.height;
                info.level = format!("{:.1}", f64::from(sps.level_idc) / 30.0);
            }
            Ok(Some(info))
        }
        _ if header.is_sequence_header() => Ok(Some(VideoInfo {
            codec: codec.name().into(),
            ..VideoInfo::default()
        })),
        _ => Ok(None),
    }
}

/// Describes an audio message's codec; `Ok(None)` when it carries no codec info.
pub fn describe_audio(payload: &[u8]) -> Result<Option<AudioInfo>, DescribeError> {
    let (header, len) = AudioTagHeader::parse(payload).map_err(|e| DescribeError(e.to_string()))?;
    let body = payload.get(len..).unwrap_or_default();
    match header.sound_format {
        SoundFormat::Aac if header.is_sequence_header() => {
            let asc = AudioSpecificConfig::parse(body).map_err(|e| DescribeError(e.to_string()))?;
            Ok(Some(AudioInfo {
                codec: "AAC".into(),
                sample_rate: asc.sample_rate(),
                channels: asc.channel_configuration,
                profile: asc.profile_name().into(),
            }))
        }
        SoundFormat::Aac => Ok(None),
        other => Ok(Some(AudioInfo {
            codec: other.name().into(),
            sample_rate: header.sample_rate(),
            channels: header.channels(),
            profile: String::new(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hevc_profile_comes_from_the_record() {
        for (profile_idc, name) in [(1, "Main"), (2, "Main10"), (4, "RExt"), (9, "Other")] {
            // Enhanced RTMP: key frame, SequenceStart, 'hvc1', then an
            // HEVCDecoderConfigurationRecord without parameter sets.
            let mut tag = vec![0x90];
            tag.extend_from_slice(b"hvc1");
            tag.extend_from_slice(&[1, profile_idc, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93]);
            tag.extend_from_slice(&[0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 0]);
            let info = describe_video(&tag).unwrap().unwrap();
            assert_eq!((info.codec.as_str(), info.profile.as_str()), ("H265", name));
        }
    }
}
