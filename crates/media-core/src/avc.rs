//! H.264: the AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.2.4.1) and the
//! sequence parameter set fields the server reports (ISO/IEC 14496-10 7.3.2.1.1).
//!
//! Annex-B conversion for TS lives in [`crate::remux`], which works on slices of
//! the FLV body without copying.

use bytes::Bytes;
use rtmp_proto::reader::{Reader, Truncated};

use crate::bits::{unescape_rbsp, BitReader, BitsExhausted};

/// Largest picture dimension accepted from an SPS (H.264 level 6.2 tops out at 8192).
pub const MAX_DIMENSION: u32 = 16_384;
/// Parameter sets accepted per record (the 5-bit field allows 31; PPS count is 8 bits).
pub const MAX_PARAMETER_SETS: usize = 64;
/// Bound on `num_ref_frames_in_pic_order_cnt_cycle` (the spec's own limit is 255).
const MAX_POC_CYCLE: u32 = 255;

/// Why an H.264 header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AvcError {
    /// A length ran past the end.
    #[error("truncated: {0}")]
    Truncated(#[from] Truncated),
    /// The bit string ended inside a field.
    #[error("SPS: {0}")]
    Bits(#[from] BitsExhausted),
    /// `configurationVersion` is not 1.
    #[error("unsupported AVC configuration version {0}")]
    BadVersion(u8),
    /// More parameter sets than [`MAX_PARAMETER_SETS`].
    #[error("too many parameter sets")]
    TooManyParameterSets,
    /// Not an SPS NAL unit (type 7).
    #[error("NAL unit type {0} is not an SPS")]
    NotSps(u8),
    /// A field holds a value the spec forbids or that is absurd.
    #[error("SPS field {field} has invalid value {value}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u32,
    },
}

/// The decoder configuration an encoder sends as its video sequence header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfig {
    /// `AVCProfileIndication` (66 Baseline, 77 Main, 100 High...).
    pub profile: u8,
    /// `profile_compatibility`.
    pub compatibility: u8,
    /// `AVCLevelIndication` (31 = level 3.1).
    pub level: u8,
    /// Bytes of each NAL unit's length prefix in frames (1, 2 or 4; 3 tolerated).
    pub nal_length_size: u8,
    /// Sequence parameter sets (NAL units, header byte included).
    pub sps: Vec<Bytes>,
    /// Picture parameter sets.
    pub pps: Vec<Bytes>,
}

fn read_sets(r: &mut Reader<'_>, count: usize, out: &mut Vec<Bytes>) -> Result<(), AvcError> {
    if count > MAX_PARAMETER_SETS {
        return Err(AvcError::TooManyParameterSets);
    }
    for _ in 0..count {
        let len = usize::from(r.u16()?);
        out.push(Bytes::copy_from_slice(r.take(len)?));
    }
    Ok(())
}

impl AvcConfig {
    /// Parses a record (the body of an AVC sequence header after the 5-byte tag header).
    pub fn parse(data: &[u8]) -> Result<Self, AvcError> {
        let mut r = Reader::new(data);
        let version = r.u8()?;
        if version != 1 {
            return Err(AvcError::BadVersion(version));
        }
        let profile = r.u8()?;
        let compatibility = r.u8()?;
        let level = r.u8()?;
        let nal_length_size = (r.u8()? & 0x03) + 1;
        let num_sps = usize::from(r.u8()? & 0x1f);
        let mut sps = Vec::new();
        read_sets(&mut r, num_sps, &mut sps)?;
        let num_pps = usize::from(r.u8()?);
        let mut pps = Vec::new();
        read_sets(&mut r, num_pps, &mut pps)?;
        Ok(Self {
            profile,
            compatibility,
            level,
            nal_length_size,
            sps,
            pps,
        })
    }
}

/// What the server needs from an SPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sps {
    /// `profile_idc`.
    pub profile_idc: u8,
    /// `level_idc`.
    pub level_idc: u8,
    /// Displayed width after cropping.
    pub width: u32,
    /// Displayed height after cropping.
    pub height: u32,
}

fn skip_scaling_list(b: &mut BitReader<'_>, size: usize) -> Result<(), AvcError> {
    let (mut last, mut next) = (8i32, 8i32);
    for _ in 0..size {
        if next != 0 {
            let delta = b.se()?;
            next = (last + delta).rem_euclid(256);
        }
        last = if next == 0 { last } else { next };
    }
    Ok(())
}

fn bounded(field: &'static str, value: u32, max: u32) -> Result<u32, AvcError> {
    if value > max {
        Err(AvcError::Invalid { field, value })
    } else {
        Ok(value)
    }
}

impl Sps {
    /// Parses an SPS NAL unit (header byte included).
    pub fn parse(nal: &[u8]) -> Result<Self, AvcError> {
        let header = *nal.first().ok_or(Truncated { needed: 1, available: 0 })?;
        if header & 0x1f != 7 {
            return Err(AvcError::NotSps(header & 0x1f));
        }
        let rbsp = unescape_rbsp(nal.get(1..).unwrap_or_default());
        let mut b = BitReader::new(&rbsp);
        let profile_idc = b.bits(8)? as u8;
        b.skip(8)?; // constraint flags
        let level_idc = b.bits(8)? as u8;
        b.ue()?; // seq_parameter_set_id
        let mut chroma_format_idc = 1;
        let mut separate_colour_plane = false;
        if matches!(profile_idc, 100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135) {
            chroma_format_idc = bounded("chroma_format_idc", b.ue()?, 3)?;
            if chroma_format_idc == 3 {
                separate_colour_plane = b.bit()?;
            }
            b.ue()?; // bit_depth_luma_minus8
            b.ue()?; // bit_depth_chroma_minus8
            b.bit()?; // qpprime_y_zero_transform_bypass_flag
            if b.bit()? {
                let lists = if chroma_format_idc == 3 { 12 } else { 8 };
                for i in 0..lists {
                    if b.bit()? {
                        skip_scaling_list(&mut b, if i < 6 { 16 } else { 64 })?;
                    }
                }
            }
        }
        b.ue()?; // log2_max_frame_num_minus4
        match b.ue()? {
            0 => {
                b.ue()?;
            }
            1 => {
                b.bit()?;
                b.se()?;
                b.se()?;
                let cycle = bounded("num_ref_frames_in_pic_order_cnt_cycle", b.ue()?, MAX_POC_CYCLE)?;
                for _ in 0..cycle {
                    b.se()?;
                }
            }
            2 => {}
            other => return Err(AvcError::Invalid { field: "pic_order_cnt_type", value: other }),
        }
        b.ue()?; // max_num_ref_frames
        b.bit()?; // gaps_in_frame_num_value_allowed_flag
        let width_mbs = bounded("pic_width_in_mbs_minus1", b.ue()?, MAX_DIMENSION / 16)? + 1;
        let height_units = bounded("pic_height_in_map_units_minus1", b.ue()?, MAX_DIMENSION / 16)? + 1;
        let frame_mbs_only = b.bit()?;
        if !frame_mbs_only {
            b.bit()?; // mb_adaptive_frame_field_flag
        }
        b.bit()?; // direct_8x8_inference_flag
        let mut width = width_mbs * 16;
        let mut height = height_units * 16 * if frame_mbs_only { 1 } else { 2 };
        if b.bit()? {
            let (l, r, t, btm) = (b.ue()?, b.ue()?, b.ue()?, b.ue()?);
            let chroma_array_type = if separate_colour_plane { 0 } else { chroma_format_idc };
            let (unit_x, unit_y): (u32, u32) = if chroma_array_type == 0 {
                (1, if frame_mbs_only { 1 } else { 2 })
            } else {
                let sub_w = if chroma_format_idc == 3 { 1 } else { 2 };
                let sub_h = if chroma_format_idc == 1 { 2 } else { 1 };
                (sub_w, sub_h * if frame_mbs_only { 1 } else { 2 })
            };
            let crop_x = u64::from(unit_x) * (u64::from(l) + u64::from(r));
            let crop_y = u64::from(unit_y) * (u64::from(t) + u64::from(btm));
            if crop_x >= u64::from(width) || crop_y >= u64::from(height) {
                return Err(AvcError::Invalid { field: "frame_crop", value: l.max(r).max(t).max(btm) });
            }
            width -= crop_x as u32;
            height -= crop_y as u32;
        }
        if width > MAX_DIMENSION || height > MAX_DIMENSION {
            return Err(AvcError::Invalid { field: "size", value: width.max(height) });
        }
        Ok(Self { profile_idc, level_idc, width, height })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x264's SPS for 640x360 High 3.0 (as ffmpeg -c:v libx264 writes it).
    const SPS_640X360: &[u8] = &[
        0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00,
        0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96,
    ];

    #[test]
    fn sps_dimensions_with_cropping() {
        let sps = Sps::parse(SPS_640X360).unwrap();
        assert_eq!((sps.profile_idc, sps.level_idc), (100, 30));
        assert_eq!((sps.width, sps.height), (640, 360));
    }

    #[test]
    fn config_record_round_trip_and_hostile_input() {
        let mut rec = vec![1, 0x64, 0, 0x1e, 0xff, 0xe1];
        rec.extend_from_slice(&(SPS_640X360.len() as u16).to_be_bytes());
        rec.extend_from_slice(SPS_640X360);
        rec.extend_from_slice(&[1, 0, 4, 0x68, 0xeb, 0xe3, 0xcb]);
        let c = AvcConfig::parse(&rec).unwrap();
        assert_eq!((c.nal_length_size, c.sps.len(), c.pps.len()), (4, 1, 1));
        assert_eq!(c.pps[0].len(), 4);
        // NAL length past the end.
        let mut bad = rec.clone();
        bad[7] = 0xff;
        assert!(matches!(AvcConfig::parse(&bad), Err(AvcError::Truncated(_))));
        assert!(matches!(AvcConfig::parse(&[2]), Err(AvcError::BadVersion(2))));
        // Absurd size: pic_width_in_mbs_minus1 = 2^20.
        let absurd = [0x67, 0x42, 0x00, 0x1e, 0x80, 0x00, 0x00, 0x40, 0x00, 0x04, 0x00];
        assert!(Sps::parse(&absurd).is_err());
        assert!(matches!(Sps::parse(&[0x68]), Err(AvcError::NotSps(8))));
    }
}
