//! H.265/HEVC: the HEVCDecoderConfigurationRecord an encoder sends as its
//! video sequence header (ISO/IEC 14496-15 8.3.3.1, "hvcC"), the sequence
//! parameter set fields the server reports (ITU-T H.265 7.3.2.2, 7.3.3), and
//! conversion of length-prefixed frames to Annex-B (H.265 Annex B) for MPEG-TS.

use bytes::Bytes;
use rtmp_proto::reader::{Reader, Truncated};

use crate::avc::{nal_units, NalError};
use crate::bits::{unescape_rbsp, BitReader, BitsExhausted};

/// Largest picture width or height accepted from an SPS. The biggest level
/// (6.2, MaxLumaPs = 35 651 584) allows sqrt(8 × MaxLumaPs) = 16888 luma
/// samples in either direction (H.265 A.4.1).
pub const MAX_DIMENSION: u32 = 16_888;

/// NAL unit arrays accepted per record. Only five NAL types may appear
/// (VPS, SPS, PPS, prefix and suffix SEI); a few repeats are tolerated.
pub const MAX_ARRAYS: usize = 16;

/// Parameter sets accepted per kind (H.265 allows 16 VPS, 16 SPS, 64 PPS ids).
pub const MAX_PARAMETER_SETS: usize = 64;

/// Total bytes of the VPS, SPS and PPS accepted in one record. They are
/// written in front of every key frame that lacks its own, and the key flag
/// is the publisher's to set, so without a bound a record of 3 × 64 sets of
/// 65535 bytes (12 MiB) would turn every tiny frame into megabytes of
/// output. Encoders write a few hundred bytes; even multi-layer streams and
/// range-extension SPS with scaling lists stay within a few KiB. The same
/// bound as AVC's [`crate::avc::MAX_PARAMETER_SET_BYTES`].
pub const MAX_PARAMETER_SET_BYTES: usize = crate::avc::MAX_PARAMETER_SET_BYTES;

/// NAL unit types (H.265 table 7-1).
pub(crate) const NAL_VPS: u8 = 32;
pub(crate) const NAL_SPS: u8 = 33;
pub(crate) const NAL_PPS: u8 = 34;
pub(crate) const NAL_AUD: u8 = 35;
/// Intra random access point pictures: BLA, IDR, CRA and the reserved IRAP types.
pub(crate) const NAL_IRAP: std::ops::RangeInclusive<u8> = 16..=23;

/// An access unit delimiter with its start code: NAL type 35, layer 0,
/// TemporalId 0, `pic_type` 2 (I, P and B slices) and the RBSP stop bit.
pub(crate) const AUD: [u8; 7] = [0, 0, 0, 1, NAL_AUD << 1, 0x01, 0x50];

/// The 4-byte Annex-B start code.
const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// Why an H.265 header or frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HevcError {
    /// The configuration record ended early.
    #[error("HEVC configuration truncated: {0}")]
    Truncated(#[from] Truncated),
    /// The SPS bit string ended inside a field.
    #[error("SPS: {0}")]
    Bits(#[from] BitsExhausted),
    /// `configurationVersion` is neither 1 nor the 0 some early muxers wrote.
    #[error("unsupported HEVC configuration version {0}")]
    BadVersion(u8),
    /// More arrays than [`MAX_ARRAYS`] or parameter sets than
    /// [`MAX_PARAMETER_SETS`].
    #[error("{0} NAL arrays or parameter sets exceed the limit")]
    TooManyParameterSets(usize),
    /// VPS, SPS and PPS larger in total than [`MAX_PARAMETER_SET_BYTES`].
    #[error("parameter sets of at least {0} bytes exceed the limit")]
    ParameterSetsTooLarge(usize),
    /// A VPS/SPS/PPS array entry whose NAL type differs from the array's.
    #[error("array of NAL type {expected} holds NAL type {found}")]
    WrongParameterSet {
        /// The array's `NAL_unit_type`.
        expected: u8,
        /// The type in the entry's own header (0 for an empty entry).
        found: u8,
    },
    /// Not an SPS NAL unit (type 33).
    #[error("NAL unit type {0} is not an SPS")]
    NotSps(u8),
    /// An SPS field holds a value the spec forbids or that is absurd.
    #[error("SPS field {field} has invalid value {value}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
    },
    /// A frame's NAL units could not be split.
    #[error("HEVC frame: {0}")]
    Nal(#[from] NalError),
}

/// The decoder configuration of an HEVC stream (14496-15 8.3.3.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcConfig {
    /// `general_profile_space`.
    pub profile_space: u8,
    /// `general_tier_flag` (false Main tier, true High tier).
    pub tier: bool,
    /// `general_profile_idc` (1 Main, 2 Main 10, 3 Main Still Picture, 4 RExt).
    pub profile_idc: u8,
    /// `general_profile_compatibility_flags`.
    pub compatibility_flags: u32,
    /// `general_constraint_indicator_flags` (48 bits).
    pub constraint_flags: u64,
    /// `general_level_idc` (level × 30: 93 = level 3.1).
    pub level_idc: u8,
    /// `chromaFormat` (`chroma_format_idc`).
    pub chroma_format_idc: u8,
    /// `bitDepthLumaMinus8` + 8.
    pub bit_depth_luma: u8,
    /// `bitDepthChromaMinus8` + 8.
    pub bit_depth_chroma: u8,
    /// `lengthSizeMinusOne` + 1: bytes of each NAL length prefix in frames.
    pub nal_length_size: u8,
    /// Video parameter sets (whole NAL units, 2-byte header included).
    pub vps: Vec<Bytes>,
    /// Sequence parameter sets.
    pub sps: Vec<Bytes>,
    /// Picture parameter sets.
    pub pps: Vec<Bytes>,
}

impl HevcConfig {
    /// Parses a record: the body of an HEVC sequence header after its FLV
    /// video tag header (legacy codec id 12 or E-RTMP `hvc1` SequenceStart).
    /// SEI arrays are skipped.
    pub fn parse(data: &[u8]) -> Result<Self, HevcError> {
        let mut r = Reader::new(data);
        let version = r.u8()?;
        if version > 1 {
            return Err(HevcError::BadVersion(version));
        }
        let ptl = r.u8()?;
        let compatibility_flags = r.u32()?;
        let constraint_flags = (u64::from(r.u16()?) << 32) | u64::from(r.u32()?);
        let level_idc = r.u8()?;
        r.skip(2 + 1)?; // min_spatial_segmentation_idc, parallelismType
        let chroma_format_idc = r.u8()? & 0x03;
        let bit_depth_luma = (r.u8()? & 0x07) + 8;
        let bit_depth_chroma = (r.u8()? & 0x07) + 8;
        r.skip(2)?; // avgFrameRate
        let nal_length_size = (r.u8()? & 0x03) + 1;
        let arrays = usize::from(r.u8()?);
        if arrays > MAX_ARRAYS {
            return Err(HevcError::TooManyParameterSets(arrays));
        }
        let (mut vps, mut sps, mut pps) = (Vec::new(), Vec::new(), Vec::new());
        let mut total = 0usize;
        for _ in 0..arrays {
            let nal_type = r.u8()? & 0x3F;
            let count = usize::from(r.u16()?);
            let target = match nal_type {
                NAL_VPS => Some(&mut vps),
                NAL_SPS => Some(&mut sps),
                NAL_PPS => Some(&mut pps),
                _ => None,
            };
            match target {
                Some(list) => {
                    if list.len().saturating_add(count) > MAX_PARAMETER_SETS {
                        return Err(HevcError::TooManyParameterSets(list.len() + count));
                    }
                    for _ in 0..count {
                        let len = usize::from(r.u16()?);
                        let nal = r.take(len)?;
                        total = total.saturating_add(len);
                        if total > MAX_PARAMETER_SET_BYTES {
                            return Err(HevcError::ParameterSetsTooLarge(total));
                        }
                        let found = nal.first().map_or(0, |h| (h >> 1) & 0x3F);
                        if found != nal_type {
                            return Err(HevcError::WrongParameterSet {
                                expected: nal_type,
                                found,
                            });
                        }
                        list.push(Bytes::copy_from_slice(nal));
                    }
                }
                None => {
                    // SEI and anything else: skipped, still bounds-checked.
                    // Each entry takes at least its 2-byte length, so a
                    // hostile count runs out of input quickly.
                    for _ in 0..count {
                        let len = usize::from(r.u16()?);
                        r.skip(len)?;
                    }
                }
            }
        }
        Ok(Self {
            profile_space: ptl >> 6,
            tier: ptl & 0x20 != 0,
            profile_idc: ptl & 0x1F,
            compatibility_flags,
            constraint_flags,
            level_idc,
            chroma_format_idc,
            bit_depth_luma,
            bit_depth_chroma,
            nal_length_size,
            vps,
            sps,
            pps,
        })
    }
}

/// What the server needs from an HEVC SPS (H.265 7.3.2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sps {
    /// `sps_seq_parameter_set_id`.
    pub id: u32,
    /// `sps_max_sub_layers_minus1` + 1.
    pub max_sub_layers: u8,
    /// `general_profile_space`.
    pub profile_space: u8,
    /// `general_tier_flag`.
    pub tier: bool,
    /// `general_profile_idc`.
    pub profile_idc: u8,
    /// `general_level_idc` (level × 30).
    pub level_idc: u8,
    /// `chroma_format_idc` (0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4).
    pub chroma_format_idc: u32,
    /// Luma bit depth.
    pub bit_depth_luma: u32,
    /// Chroma bit depth.
    pub bit_depth_chroma: u32,
    /// Width in luma samples after the conformance window.
    pub width: u32,
    /// Height in luma samples after the conformance window.
    pub height: u32,
}

fn at_most(field: &'static str, value: u32, max: u32) -> Result<u32, HevcError> {
    if value > max {
        Err(HevcError::Invalid {
            field,
            value: u64::from(value),
        })
    } else {
        Ok(value)
    }
}

impl Sps {
    /// Parses an SPS NAL unit (2-byte NAL header included, emulation
    /// prevention bytes still in place). Reading stops after the bit depths.
    pub fn parse(nal: &[u8]) -> Result<Self, HevcError> {
        let mut header = Reader::new(nal);
        let nal_type = (header.u8()? >> 1) & 0x3F;
        if nal_type != NAL_SPS {
            return Err(HevcError::NotSps(nal_type));
        }
        header.u8()?;
        let rbsp = unescape_rbsp(header.rest());
        let mut b = BitReader::new(&rbsp);
        b.skip(4)?; // sps_video_parameter_set_id
        let max_sub_layers_minus1 = at_most("sps_max_sub_layers_minus1", b.bits(3)?, 6)?;
        b.skip(1)?; // sps_temporal_id_nesting_flag
                    // profile_tier_level(1, sps_max_sub_layers_minus1), 7.3.3.
        let profile_space = b.bits(2)? as u8;
        let tier = b.bit()?;
        let profile_idc = b.bits(5)? as u8;
        // 32 compatibility flags, 4 source flags, 43 constraint bits, 1 bit.
        b.skip(32 + 4 + 43 + 1)?;
        let level_idc = b.bits(8)? as u8;
        let mut sub_layer_present = [(false, false); 6];
        for p in sub_layer_present
            .iter_mut()
            .take(max_sub_layers_minus1 as usize)
        {
            *p = (b.bit()?, b.bit()?);
        }
        if max_sub_layers_minus1 > 0 {
            // reserved_zero_2bits for i in max_sub_layers_minus1..8.
            b.skip(2 * (8 - max_sub_layers_minus1 as usize))?;
        }
        for (profile_present, level_present) in sub_layer_present
            .iter()
            .take(max_sub_layers_minus1 as usize)
        {
            if *profile_present {
                b.skip(88)?;
            }
            if *level_present {
                b.skip(8)?;
            }
        }
        let id = at_most("sps_seq_parameter_set_id", b.ue()?, 15)?;
        let chroma_format_idc = at_most("chroma_format_idc", b.ue()?, 3)?;
        let separate_colour_plane = chroma_format_idc == 3 && b.bit()?;
        let coded_w = b.ue()?;
        let coded_h = b.ue()?;
        for (field, v) in [
            ("pic_width_in_luma_samples", coded_w),
            ("pic_height_in_luma_samples", coded_h),
        ] {
            if v == 0 || v > MAX_DIMENSION {
                return Err(HevcError::Invalid {
                    field,
                    value: u64::from(v),
                });
            }
        }
        let (mut width, mut height) = (u64::from(coded_w), u64::from(coded_h));
        if b.bit()? {
            // conf_win_*_offset in chroma units: SubWidthC, SubHeightC (table 6-1).
            let (l, r, t, btm) = (b.ue()?, b.ue()?, b.ue()?, b.ue()?);
            let (sub_w, sub_h): (u64, u64) = match (separate_colour_plane, chroma_format_idc) {
                (false, 1) => (2, 2),
                (false, 2) => (2, 1),
                _ => (1, 1),
            };
            let crop_x = sub_w * (u64::from(l) + u64::from(r));
            let crop_y = sub_h * (u64::from(t) + u64::from(btm));
            if crop_x >= width || crop_y >= height {
                return Err(HevcError::Invalid {
                    field: "conformance window",
                    value: crop_x.max(crop_y),
                });
            }
            width -= crop_x;
            height -= crop_y;
        }
        let bit_depth_luma = at_most("bit_depth_luma_minus8", b.ue()?, 8)? + 8;
        let bit_depth_chroma = at_most("bit_depth_chroma_minus8", b.ue()?, 8)? + 8;
        Ok(Self {
            id,
            max_sub_layers: max_sub_layers_minus1 as u8 + 1,
            profile_space,
            tier,
            profile_idc,
            level_idc,
            chroma_format_idc,
            bit_depth_luma,
            bit_depth_chroma,
            // Both are at most MAX_DIMENSION, checked above.
            width: width as u32,
            height: height as u32,
        })
    }
}

/// Writes one HEVC access unit as Annex-B (what MPEG-TS carries, ISO 13818-1
/// 2.17): an access unit delimiter (type 35) first, then — before an IRAP
/// picture (or an FLV key frame) that does not carry its own VPS, SPS and
/// PPS — the configuration's parameter sets, then every NAL unit with a
/// 4-byte start code. AUDs in the input are dropped, empty NAL units skipped.
///
/// `hvcc_frame` is the body after the FLV video tag header. On error nothing
/// is written.
pub fn to_annexb(
    config: &HevcConfig,
    hvcc_frame: &[u8],
    keyframe: bool,
    out: &mut Vec<u8>,
) -> Result<(), HevcError> {
    let (mut has_vps, mut has_sps, mut has_pps, mut has_irap) = (false, false, false, false);
    let mut payload = 0usize;
    // First pass: validate every length and see what the frame carries.
    for nal in nal_units(hvcc_frame, config.nal_length_size)? {
        let nal = nal?;
        match nal.first().map(|h| (h >> 1) & 0x3F) {
            Some(NAL_VPS) => has_vps = true,
            Some(NAL_SPS) => has_sps = true,
            Some(NAL_PPS) => has_pps = true,
            Some(t) if NAL_IRAP.contains(&t) => has_irap = true,
            _ => {}
        }
        payload = payload.saturating_add(nal.len() + START_CODE.len());
    }
    let insert_sets = (keyframe || has_irap) && !(has_vps && has_sps && has_pps);
    out.reserve(payload.saturating_add(AUD.len()));
    out.extend_from_slice(&AUD);
    if insert_sets {
        for set in config.vps.iter().chain(&config.sps).chain(&config.pps) {
            out.extend_from_slice(&START_CODE);
            out.extend_from_slice(set);
        }
    }
    for nal in nal_units(hvcc_frame, config.nal_length_size)? {
        let nal = nal?;
        match nal.first().map(|h| (h >> 1) & 0x3F) {
            None | Some(NAL_AUD) => continue,
            Some(_) => {
                out.extend_from_slice(&START_CODE);
                out.extend_from_slice(nal);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What ffmpeg's libx265 writes for `testsrc2=size=1280x720` (Main, level 3.1).
    const X265_VPS: &[u8] = &[
        0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00,
        0x03, 0x00, 0x00, 0x03, 0x00, 0x5d, 0x95, 0x98, 0x09,
    ];
    const X265_SPS_720P: &[u8] = &[
        0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
        0x03, 0x00, 0x5d, 0xa0, 0x02, 0x80, 0x80, 0x2d, 0x16, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0,
        0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x32, 0x10,
    ];
    const X265_PPS: &[u8] = &[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40];

    fn record(arrays: &[(u8, &[&[u8]])], length_size: u8) -> Vec<u8> {
        let mut rec = vec![
            1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93, 0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0,
        ];
        rec.push(0x0c | (length_size - 1));
        rec.push(arrays.len() as u8);
        for (t, nals) in arrays {
            rec.push(0x80 | t);
            rec.extend_from_slice(&(nals.len() as u16).to_be_bytes());
            for n in *nals {
                rec.extend_from_slice(&(n.len() as u16).to_be_bytes());
                rec.extend_from_slice(n);
            }
        }
        rec
    }

    fn x265_record(length_size: u8) -> Vec<u8> {
        record(
            &[
                (NAL_VPS, &[X265_VPS]),
                (NAL_SPS, &[X265_SPS_720P]),
                (NAL_PPS, &[X265_PPS]),
                (39, &[&[0x4e, 0x01, 0x05, 0x00]]),
            ],
            length_size,
        )
    }

    #[test]
    fn x265_sps() {
        let s = Sps::parse(X265_SPS_720P).unwrap();
        assert_eq!((s.width, s.height), (1280, 720));
        assert_eq!((s.profile_idc, s.level_idc, s.tier), (1, 93, false));
        assert_eq!(
            (s.chroma_format_idc, s.bit_depth_luma, s.max_sub_layers),
            (1, 8, 1)
        );
    }

    #[test]
    fn config_record() {
        let c = HevcConfig::parse(&x265_record(4)).unwrap();
        assert_eq!((c.nal_length_size, c.profile_idc, c.level_idc), (4, 1, 93));
        assert_eq!((c.vps.len(), c.sps.len(), c.pps.len()), (1, 1, 1));
        assert_eq!(c.compatibility_flags, 0x6000_0000);
        assert_eq!(c.constraint_flags, 0x9000_0000_0000);
        assert_eq!(
            (c.chroma_format_idc, c.bit_depth_luma, c.bit_depth_chroma),
            (1, 8, 8)
        );
        assert_eq!(&c.sps[0][..], X265_SPS_720P);
        let s = Sps::parse(&c.sps[0]).unwrap();
        assert_eq!((s.width, s.height), (1280, 720));
    }

    #[test]
    fn config_record_hostile() {
        let rec = x265_record(4);
        for n in 0..rec.len() {
            assert!(
                matches!(HevcConfig::parse(&rec[..n]), Err(HevcError::Truncated(_))),
                "{n}"
            );
        }
        assert_eq!(HevcConfig::parse(&[2]), Err(HevcError::BadVersion(2)));
        let mut version0 = rec.clone();
        version0[0] = 0;
        assert_eq!(HevcConfig::parse(&version0), HevcConfig::parse(&rec));
        assert_eq!(
            HevcConfig::parse(&record(&[(NAL_SPS, &[X265_PPS])], 4)),
            Err(HevcError::WrongParameterSet {
                expected: 33,
                found: 34
            })
        );
        let mut many = record(&[], 4);
        many[22] = 200;
        assert_eq!(
            HevcConfig::parse(&many),
            Err(HevcError::TooManyParameterSets(200))
        );
        let mut sets = record(&[], 4);
        sets[22] = 1;
        sets.extend_from_slice(&[0x80 | NAL_PPS, 0xff, 0xff]);
        assert_eq!(
            HevcConfig::parse(&sets),
            Err(HevcError::TooManyParameterSets(65535))
        );
    }

    /// VPS, SPS and PPS are counted together: up to MAX_PARAMETER_SET_BYTES
    /// in total is accepted, one byte more is not. SEI arrays do not count
    /// (they are skipped, not kept).
    #[test]
    fn config_record_parameter_set_bytes_are_bounded() {
        let nal = |t: u8, len: usize| [&[t << 1, 1][..], &vec![0xAB; len - 2]].concat();
        let (vps, sps) = (nal(NAL_VPS, 30_000), nal(NAL_SPS, 30_000));
        let sei = nal(39, 60_000);
        let rest = MAX_PARAMETER_SET_BYTES - 60_000;
        let fits = nal(NAL_PPS, rest);
        let c = HevcConfig::parse(&record(
            &[
                (NAL_VPS, &[&vps]),
                (39, &[&sei]),
                (NAL_SPS, &[&sps]),
                (NAL_PPS, &[&fits]),
            ],
            4,
        ))
        .unwrap();
        assert_eq!(c.pps[0].len(), rest);
        let over = nal(NAL_PPS, rest + 1);
        assert_eq!(
            HevcConfig::parse(&record(
                &[(NAL_VPS, &[&vps]), (NAL_SPS, &[&sps]), (NAL_PPS, &[&over])],
                4,
            )),
            Err(HevcError::ParameterSetsTooLarge(
                MAX_PARAMETER_SET_BYTES + 1
            ))
        );
    }

    #[test]
    fn sps_hostile() {
        assert!(matches!(Sps::parse(X265_PPS), Err(HevcError::NotSps(34))));
        assert!(matches!(Sps::parse(&[]), Err(HevcError::Truncated(_))));
        // Cut anywhere before the last field read: a clean error, never a panic.
        let full = Sps::parse(X265_SPS_720P).unwrap();
        let shortest = (0..X265_SPS_720P.len())
            .find(|n| Sps::parse(&X265_SPS_720P[..*n]).is_ok())
            .unwrap();
        assert!(shortest > 20, "profile_tier_level alone is 12 bytes");
        assert_eq!(Sps::parse(&X265_SPS_720P[..shortest]).unwrap(), full);
        // sps_max_sub_layers_minus1 = 7 is forbidden.
        let mut bad = X265_SPS_720P.to_vec();
        bad[2] = 0x0f;
        assert!(matches!(
            Sps::parse(&bad),
            Err(HevcError::Invalid {
                field: "sps_max_sub_layers_minus1",
                value: 7
            })
        ));
    }

    fn prefixed(nals: &[&[u8]]) -> Vec<u8> {
        let mut b = Vec::new();
        for n in nals {
            b.extend_from_slice(&(n.len() as u32).to_be_bytes());
            b.extend_from_slice(n);
        }
        b
    }

    fn annexb(nals: &[&[u8]]) -> Vec<u8> {
        let mut b = Vec::new();
        for n in nals {
            b.extend_from_slice(&START_CODE);
            b.extend_from_slice(n);
        }
        b
    }

    #[test]
    fn annexb_access_units() {
        let c = HevcConfig::parse(&x265_record(4)).unwrap();
        let aud: &[u8] = &AUD[4..];
        let idr: &[u8] = &[0x26, 0x01, 0xaf];
        let cra: &[u8] = &[0x2a, 0x01, 0xaf];
        let trail: &[u8] = &[0x02, 0x01, 0xd0];
        let old_aud: &[u8] = &[0x46, 0x01, 0x10];
        let mut out = Vec::new();
        to_annexb(&c, &prefixed(&[old_aud, idr]), true, &mut out).unwrap();
        assert_eq!(out, annexb(&[aud, X265_VPS, X265_SPS_720P, X265_PPS, idr]));
        out.clear();
        to_annexb(&c, &prefixed(&[cra]), false, &mut out).unwrap();
        assert_eq!(out, annexb(&[aud, X265_VPS, X265_SPS_720P, X265_PPS, cra]));
        out.clear();
        to_annexb(&c, &prefixed(&[trail]), false, &mut out).unwrap();
        assert_eq!(out, annexb(&[aud, trail]));
        out.clear();
        let own = [X265_VPS, X265_SPS_720P, X265_PPS, idr];
        to_annexb(&c, &prefixed(&own), true, &mut out).unwrap();
        assert_eq!(out, annexb(&[&[aud], &own[..]].concat()));

        let mut out = vec![1, 2];
        let past_end = [0, 0, 0, 3, 0x26, 0x01, 0xaf, 0, 0, 1, 0, 0x02];
        assert!(matches!(
            to_annexb(&c, &past_end, true, &mut out),
            Err(HevcError::Nal(NalError::PastEnd { offset: 7, .. }))
        ));
        assert_eq!(out, vec![1, 2]);
    }
}
