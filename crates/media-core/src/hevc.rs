//! H.265: the HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1.2) and
//! the SPS fields the server reports (ITU-T H.265 7.3.2.2).
//!
//! Annex-B conversion for TS lives in [`crate::remux`].

use bytes::Bytes;
use rtmp_proto::reader::{Reader, Truncated};

use crate::bits::{unescape_rbsp, BitReader, BitsExhausted};

/// Largest picture dimension accepted from an SPS.
pub const MAX_DIMENSION: u32 = 16_384;
/// NAL unit arrays accepted per record.
pub const MAX_ARRAYS: usize = 16;
/// NAL units accepted per array.
pub const MAX_NALUS_PER_ARRAY: usize = 64;
/// NAL unit types of the parameter sets.
const NAL_VPS: u8 = 32;
const NAL_SPS: u8 = 33;
const NAL_PPS: u8 = 34;

/// Why an H.265 header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HevcError {
    /// A length ran past the end.
    #[error("truncated: {0}")]
    Truncated(#[from] Truncated),
    /// The bit string ended inside a field.
    #[error("SPS: {0}")]
    Bits(#[from] BitsExhausted),
    /// `configurationVersion` is not 1.
    #[error("unsupported HEVC configuration version {0}")]
    BadVersion(u8),
    /// More arrays or NAL units than the bounds allow.
    #[error("too many parameter sets")]
    TooManyParameterSets,
    /// Not an SPS NAL unit (type 33).
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

/// The decoder configuration of an HEVC stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcConfig {
    /// `general_profile_idc` (1 Main, 2 Main 10).
    pub profile_idc: u8,
    /// `general_tier_flag`.
    pub tier: bool,
    /// `general_level_idc` (level × 30).
    pub level_idc: u8,
    /// Bytes of each NAL unit's length prefix in frames.
    pub nal_length_size: u8,
    /// Video parameter sets.
    pub vps: Vec<Bytes>,
    /// Sequence parameter sets.
    pub sps: Vec<Bytes>,
    /// Picture parameter sets.
    pub pps: Vec<Bytes>,
}

impl HevcConfig {
    /// Parses a record (the body of an HEVC sequence header after its tag header).
    pub fn parse(data: &[u8]) -> Result<Self, HevcError> {
        let mut r = Reader::new(data);
        let version = r.u8()?;
        if version != 1 {
            return Err(HevcError::BadVersion(version));
        }
        let ptl = r.u8()?;
        r.skip(4 + 6)?; // compatibility flags, constraint indicator flags
        let level_idc = r.u8()?;
        r.skip(2 + 1 + 1 + 1 + 1 + 2)?; // segmentation, parallelism, chroma, depths, frame rate
        let nal_length_size = (r.u8()? & 0x03) + 1;
        let arrays = usize::from(r.u8()?);
        if arrays > MAX_ARRAYS {
            return Err(HevcError::TooManyParameterSets);
        }
        let (mut vps, mut sps, mut pps) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..arrays {
            let nal_type = r.u8()? & 0x3f;
            let count = usize::from(r.u16()?);
            if count > MAX_NALUS_PER_ARRAY {
                return Err(HevcError::TooManyParameterSets);
            }
            for _ in 0..count {
                let len = usize::from(r.u16()?);
                let nal = Bytes::copy_from_slice(r.take(len)?);
                match nal_type {
                    NAL_VPS => vps.push(nal),
                    NAL_SPS => sps.push(nal),
                    NAL_PPS => pps.push(nal),
                    _ => {} // SEI and others: not needed
                }
            }
        }
        Ok(Self {
            profile_idc: ptl & 0x1f,
            tier: ptl & 0x20 != 0,
            level_idc,
            nal_length_size,
            vps,
            sps,
            pps,
        })
    }
}

/// What the server needs from an HEVC SPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sps {
    /// `general_profile_idc`.
    pub profile_idc: u8,
    /// `general_level_idc` (level × 30).
    pub level_idc: u8,
    /// Width after the conformance window.
    pub width: u32,
    /// Height after the conformance window.
    pub height: u32,
}

impl Sps {
    /// Parses an SPS NAL unit (2-byte NAL header included).
    pub fn parse(nal: &[u8]) -> Result<Self, HevcError> {
        let header = *nal.first().ok_or(Truncated { needed: 2, available: 0 })?;
        let nal_type = (header >> 1) & 0x3f;
        if nal_type != NAL_SPS {
            return Err(HevcError::NotSps(nal_type));
        }
        let rbsp = unescape_rbsp(nal.get(2..).unwrap_or_default());
        let mut b = BitReader::new(&rbsp);
        b.skip(4)?; // sps_video_parameter_set_id
        let max_sub_layers_minus1 = b.bits(3)? as usize;
        b.skip(1)?; // temporal_id_nesting
        // profile_tier_level(1, max_sub_layers_minus1), H.265 7.3.3.
        b.skip(2 + 1)?;
        let profile_idc = b.bits(5)? as u8;
        b.skip(32 + 4 + 43 + 1)?;
        let level_idc = b.bits(8)? as u8;
        let mut present = [(false, false); 8];
        for p in present.iter_mut().take(max_sub_layers_minus1) {
            *p = (b.bit()?, b.bit()?);
        }
        if max_sub_layers_minus1 > 0 {
            b.skip(2 * (8 - max_sub_layers_minus1))?;
        }
        for (profile, level) in present.iter().take(max_sub_layers_minus1) {
            if *profile {
                b.skip(88)?;
            }
            if *level {
                b.skip(8)?;
            }
        }
        b.ue()?; // sps_seq_parameter_set_id
        let chroma_format_idc = b.ue()?;
        if chroma_format_idc > 3 {
            return Err(HevcError::Invalid { field: "chroma_format_idc", value: chroma_format_idc });
        }
        if chroma_format_idc == 3 {
            b.bit()?; // separate_colour_plane_flag
        }
        let width = b.ue()?;
        let height = b.ue()?;
        if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION {
            return Err(HevcError::Invalid { field: "pic_size", value: width.max(height) });
        }
        let (mut w, mut h) = (width, height);
        if b.bit()? {
            let (l, r, t, btm) = (b.ue()?, b.ue()?, b.ue()?, b.ue()?);
            let sub_w: u64 = if chroma_format_idc == 1 || chroma_format_idc == 2 { 2 } else { 1 };
            let sub_h: u64 = if chroma_format_idc == 1 { 2 } else { 1 };
            let crop_x = sub_w * (u64::from(l) + u64::from(r));
            let crop_y = sub_h * (u64::from(t) + u64::from(btm));
            if crop_x >= u64::from(w) || crop_y >= u64::from(h) {
                return Err(HevcError::Invalid { field: "conformance_window", value: l.max(r).max(t).max(btm) });
            }
            w -= crop_x as u32;
            h -= crop_y as u32;
        }
        Ok(Self { profile_idc, level_idc, width: w, height: h })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x265's SPS for 1280x720 Main (ffmpeg -c:v libx265).
    const SPS_720P: &[u8] = &[
        0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03,
        0x00, 0x5d, 0xa0, 0x02, 0x80, 0x80, 0x2d, 0x16, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0, 0x5a, 0x02,
        0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x32, 0x10,
    ];

    #[test]
    fn sps_of_x265_720p() {
        let sps = Sps::parse(SPS_720P).unwrap();
        assert_eq!((sps.width, sps.height), (1280, 720));
        assert_eq!((sps.profile_idc, sps.level_idc), (1, 93));
    }

    #[test]
    fn config_record_and_hostile_input() {
        let mut rec = vec![1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93, 0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 1];
        rec.extend_from_slice(&[0x80 | 33, 0, 1]);
        rec.extend_from_slice(&(SPS_720P.len() as u16).to_be_bytes());
        rec.extend_from_slice(SPS_720P);
        let c = HevcConfig::parse(&rec).unwrap();
        assert_eq!((c.nal_length_size, c.sps.len(), c.level_idc, c.profile_idc), (4, 1, 93, 1));
        let mut bad = rec.clone();
        let last = bad.len() - 1;
        bad.truncate(last);
        assert!(matches!(HevcConfig::parse(&bad), Err(HevcError::Truncated(_))));
        assert!(matches!(Sps::parse(&[0x40, 0x01]), Err(HevcError::NotSps(32))));
        assert!(Sps::parse(&SPS_720P[..12]).is_err());
    }
}
