//! Encoder output to FLV packets: what srs-librtmp's `srs_h264_write_raw_frames`
//! and `srs_audio_write_raw_frame` did for their users.
//!
//! - Video: H.264 or HEVC access units, Annex-B (start codes) or AVCC
//!   (4-byte lengths). Parameter sets found in band become a sequence header
//!   (sent again whenever they change), AUDs are dropped, the rest is sent
//!   length-prefixed with the composition time `pts - dts`. H.264 goes in
//!   legacy FLV tags (codec id 7, FLV spec E.4.3.1); HEVC in Enhanced RTMP
//!   tags (`hvc1`, enhanced-rtmp-v1 "ExVideoTagHeader").
//! - Audio: AAC, ADTS (the header gives the config; several frames in one
//!   buffer are split) or raw with a config given once. The sequence header
//!   (AudioSpecificConfig) is sent before the first frame and on change.
//!
//! The container work is media-core's (`annexb`, `adts`, `config_record`).

use bytes::{BufMut, Bytes, BytesMut};
use media_core::adts::{audio_specific_config, parse_adts};
use media_core::annexb::{split_annexb, to_length_prefixed};
use media_core::avc::nal_units;
use media_core::config_record::{avc_record, hevc_record};
use media_core::flv::TagType;

use crate::error::{ClientError, Result};
use crate::packet::Packet;

/// A video codec [`FramePackager::video`] packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    /// H.264 / AVC.
    H264,
    /// H.265 / HEVC (sent as Enhanced RTMP `hvc1`).
    Hevc,
}

/// How NAL units are delimited in a frame handed to [`FramePackager::video`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NalFormat {
    /// `00 00 01` / `00 00 00 01` start codes (H.264/H.265 Annex B).
    AnnexB,
    /// 4-byte big-endian lengths (14496-15 "AVCC"/"HVCC" samples).
    Avcc,
}

/// How AAC frames handed to [`FramePackager::aac`] are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AacFormat {
    /// ADTS: each frame behind its 7 (or 9) byte header.
    Adts,
    /// Raw frames; the AudioSpecificConfig comes from
    /// [`FramePackager::set_aac_config`].
    Raw,
}

/// FLV AAC sound header: format 10, 44 kHz, 16-bit, stereo (FLV spec
/// E.4.2.1: always these flags for AAC; the config says the truth).
const AAC_SOUND_HEADER: u8 = 0xAF;
/// E-RTMP: `IsExHeader` bit of the first video byte.
const EX_HEADER: u8 = 0x80;
/// Longest AAC config taken.
const MAX_ASC_LEN: usize = 64;

/// Turns encoder frames into packets, remembering the sequence headers sent.
#[derive(Debug, Default, Clone)]
pub struct FramePackager {
    video_header: Option<Vec<u8>>,
    audio_config: Option<Vec<u8>>,
    audio_config_sent: Option<Vec<u8>>,
}

impl FramePackager {
    /// A packager that has sent nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The AudioSpecificConfig of raw AAC frames (14496-3 1.6.2.1).
    pub fn set_aac_config(&mut self, asc: &[u8]) -> Result<()> {
        if asc.len() < 2 || asc.len() > MAX_ASC_LEN {
            return Err(ClientError::Media(
                "AudioSpecificConfig of a bad size".into(),
            ));
        }
        media_core::aac::AudioSpecificConfig::parse(asc)
            .map_err(|e| ClientError::Media(e.to_string()))?;
        self.audio_config = Some(asc.to_vec());
        Ok(())
    }

    /// The packets for one video access unit decoded at `dts_ms` and shown
    /// at `pts_ms`: a sequence header first when its parameter sets are new,
    /// then the frame (none if it held only parameter sets).
    pub fn video(
        &mut self,
        codec: VideoCodec,
        format: NalFormat,
        data: &[u8],
        dts_ms: u32,
        pts_ms: u32,
    ) -> Result<Vec<Packet>> {
        let units: Vec<&[u8]> = match format {
            NalFormat::AnnexB => split_annexb(data),
            NalFormat::Avcc => nal_units(data, 4)
                .and_then(|units| units.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| ClientError::Media(e.to_string()))?,
        };
        let (mut vps, mut sps, mut pps, mut picture) = (vec![], vec![], vec![], vec![]);
        let mut keyframe = false;
        for unit in units.into_iter().filter(|u| !u.is_empty()) {
            let first = unit.first().copied().unwrap_or(0);
            match codec {
                VideoCodec::H264 => match first & 0x1F {
                    7 => sps.push(unit),
                    8 => pps.push(unit),
                    9 => {}
                    t => {
                        keyframe |= t == 5;
                        picture.push(unit);
                    }
                },
                VideoCodec::Hevc => match (first >> 1) & 0x3F {
                    32 => vps.push(unit),
                    33 => sps.push(unit),
                    34 => pps.push(unit),
                    35 => {}
                    t => {
                        keyframe |= (16..=23).contains(&t);
                        picture.push(unit);
                    }
                },
            }
        }
        let mut packets = Vec::new();
        if !sps.is_empty() && !pps.is_empty() {
            let record = match codec {
                VideoCodec::H264 => avc_record(&sps, &pps),
                VideoCodec::Hevc => hevc_record(&vps, &sps, &pps),
            }
            .map_err(|e| ClientError::Media(e.to_string()))?;
            if self.video_header.as_deref() != Some(record.as_slice()) {
                packets.push(Packet::new(
                    TagType::Video,
                    dts_ms,
                    video_body(codec, true, true, 0, &record),
                ));
                self.video_header = Some(record);
            }
        }
        if !picture.is_empty() {
            if self.video_header.is_none() {
                return Err(ClientError::Media(
                    "a frame before any SPS/PPS: send the parameter sets first".into(),
                ));
            }
            let body = to_length_prefixed(&picture)
                .ok_or_else(|| ClientError::Media("frame too large".into()))?;
            let cts = pts_ms.wrapping_sub(dts_ms) as i32;
            packets.push(Packet::new(
                TagType::Video,
                dts_ms,
                video_body(codec, false, keyframe, cts, &body),
            ));
        }
        Ok(packets)
    }

    /// The packets for AAC audio at `timestamp_ms`: the sequence header when
    /// the config is new, then one packet per frame (ADTS buffers may hold
    /// several; each later one is stamped 1024 samples on).
    pub fn aac(
        &mut self,
        format: AacFormat,
        data: &[u8],
        timestamp_ms: u32,
    ) -> Result<Vec<Packet>> {
        let mut frames: Vec<(u32, &[u8])> = Vec::new();
        match format {
            AacFormat::Raw => {
                if self.audio_config.is_none() {
                    return Err(ClientError::Media(
                        "raw AAC without an AudioSpecificConfig".into(),
                    ));
                }
                frames.push((timestamp_ms, data));
            }
            AacFormat::Adts => {
                let mut rest = data;
                let mut ts = f64::from(timestamp_ms);
                while !rest.is_empty() {
                    let frame = parse_adts(rest).map_err(|e| ClientError::Media(e.to_string()))?;
                    self.audio_config = Some(audio_specific_config(&frame.config).to_vec());
                    frames.push((ts as u32, frame.raw));
                    let rate = frame.config.sample_rate().max(1);
                    ts += 1024.0 * 1000.0 / f64::from(rate);
                    rest = rest.get(frame.frame_len..).unwrap_or_default();
                }
            }
        }
        let mut packets = Vec::new();
        if let Some(config) = &self.audio_config {
            if self.audio_config_sent.as_ref() != Some(config) {
                let mut body = vec![AAC_SOUND_HEADER, 0];
                body.extend_from_slice(config);
                packets.push(Packet::new(TagType::Audio, timestamp_ms, body));
                self.audio_config_sent = Some(config.clone());
            }
        }
        for (ts, raw) in frames {
            let mut body = Vec::with_capacity(raw.len() + 2);
            body.extend_from_slice(&[AAC_SOUND_HEADER, 1]);
            body.extend_from_slice(raw);
            packets.push(Packet::new(TagType::Audio, ts, body));
        }
        Ok(packets)
    }
}

/// A video tag body: legacy AVC (FLV spec E.4.3.1: frame type, codec 7,
/// AVCPacketType, composition time) or E-RTMP HEVC (`IsExHeader`, frame
/// type, PacketType SequenceStart 0 / CodedFrames 1, `hvc1`, composition
/// time for coded frames).
fn video_body(codec: VideoCodec, header: bool, keyframe: bool, cts: i32, payload: &[u8]) -> Bytes {
    let frame_type: u8 = if keyframe { 1 } else { 2 };
    let mut out = BytesMut::with_capacity(payload.len() + 8);
    let cts = cts.to_be_bytes();
    match codec {
        VideoCodec::H264 => {
            out.put_u8((frame_type << 4) | 7);
            out.put_u8(u8::from(!header));
            out.put_slice(cts.get(1..).unwrap_or_default());
        }
        VideoCodec::Hevc => {
            out.put_u8(EX_HEADER | (frame_type << 4) | u8::from(!header));
            out.put_slice(b"hvc1");
            if !header {
                out.put_slice(cts.get(1..).unwrap_or_default());
            }
        }
    }
    out.put_slice(payload);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use media_core::flv::VideoTagHeader;

    const SPS: &[u8] = &[0x67, 0x64, 0x00, 0x1F, 0xAC, 0xD9];
    const PPS: &[u8] = &[0x68, 0xEB, 0xE3, 0xCB];

    fn annexb(units: &[&[u8]]) -> Vec<u8> {
        units
            .iter()
            .flat_map(|u| [&[0, 0, 0, 1][..], u].concat())
            .collect()
    }

    #[test]
    fn h264_annexb_becomes_a_sequence_header_then_avcc_frames() {
        let mut p = FramePackager::new();
        let key = annexb(&[&[0x09, 0xF0], SPS, PPS, &[0x65, 1, 2, 3]]);
        let packets = p
            .video(VideoCodec::H264, NalFormat::AnnexB, &key, 40, 80)
            .unwrap();
        assert_eq!(packets.len(), 2);
        let (h, _) = VideoTagHeader::parse(&packets[0].payload).unwrap();
        assert!(h.is_sequence_header());
        assert_eq!(packets[0].payload[0], 0x17);
        let (h, used) = VideoTagHeader::parse(&packets[1].payload).unwrap();
        assert!(h.is_keyframe() && !h.is_sequence_header());
        assert_eq!(&packets[1].payload[2..5], &[0, 0, 40]);
        assert_eq!(&packets[1].payload[used..], &[0, 0, 0, 4, 0x65, 1, 2, 3]);
        // Same parameter sets again: no new sequence header.
        let inter = [&[0, 0, 0, 4, 0x41, 9, 9, 9][..]].concat();
        let more = p
            .video(VideoCodec::H264, NalFormat::Avcc, &inter, 80, 80)
            .unwrap();
        assert_eq!(more.len(), 1);
        assert!(!VideoTagHeader::parse(&more[0].payload)
            .unwrap()
            .0
            .is_keyframe());
        let again = p
            .video(VideoCodec::H264, NalFormat::AnnexB, &key, 120, 120)
            .unwrap();
        assert_eq!(again.len(), 1);
    }

    #[test]
    fn frames_before_parameter_sets_and_raw_aac_without_config_are_refused() {
        let mut p = FramePackager::new();
        let frame = annexb(&[&[0x65, 1]]);
        assert!(p
            .video(VideoCodec::H264, NalFormat::AnnexB, &frame, 0, 0)
            .is_err());
        assert!(p.aac(AacFormat::Raw, &[1, 2], 0).is_err());
        assert!(p.set_aac_config(&[0x12, 0x10]).is_ok());
        let packets = p.aac(AacFormat::Raw, &[1, 2], 5).unwrap();
        assert_eq!(packets[0].payload.as_ref(), &[0xAF, 0, 0x12, 0x10]);
        assert_eq!(packets[1].payload.as_ref(), &[0xAF, 1, 1, 2]);
    }

    #[test]
    fn adts_buffers_split_into_stamped_raw_frames() {
        let asc = media_core::aac::AudioSpecificConfig::parse(&[0x12, 0x10]).unwrap();
        let mut data = Vec::new();
        for payload in [[1u8, 2], [3, 4]] {
            data.extend_from_slice(&media_core::aac::adts_header(&asc, 2).unwrap());
            data.extend_from_slice(&payload);
        }
        let mut p = FramePackager::new();
        let packets = p.aac(AacFormat::Adts, &data, 1000).unwrap();
        let stamps: Vec<u32> = packets.iter().map(|p| p.timestamp).collect();
        // 1024 samples at 44.1 kHz = 23.2 ms.
        assert_eq!(stamps, [1000, 1000, 1023]);
        assert_eq!(packets[0].payload.as_ref(), &[0xAF, 0, 0x12, 0x10]);
        assert_eq!(packets[2].payload.as_ref(), &[0xAF, 1, 3, 4]);
    }
}
