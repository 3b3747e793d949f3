//! H.264/AVC: the AVCDecoderConfigurationRecord an encoder sends as its video
//! sequence header (ISO/IEC 14496-15 5.3.3.1, "avcC"), the sequence parameter
//! set fields the server reports (ISO/IEC 14496-10 7.3.2.1.1), and conversion
//! of length-prefixed frames to Annex-B byte streams (14496-10 Annex B) for
//! MPEG-TS.
//!
//! The splitter for length-prefixed NAL units ([`nal_units`]) is shared with
//! HEVC, whose frames use the same framing (14496-15 8.3.3).

use bytes::Bytes;
use rtmp_proto::reader::{Reader, Truncated};

use crate::bits::{unescape_rbsp, BitReader, BitsExhausted};

/// Largest picture width or height accepted from an SPS. The biggest level
/// (6.2, MaxFS = 139264 macroblocks) allows at most sqrt(8 × MaxFS) = 1055
/// macroblocks in either direction (14496-10 A.3.1 f, g): 16880 pixels.
pub const MAX_DIMENSION: u32 = 16_880;

/// Parameter sets accepted per kind in one record. The 5-bit SPS count allows
/// 31 and there are 32 SPS ids; PPS ids go to 255, but no encoder sends more
/// than a handful, so a record claiming more is refused.
pub const MAX_PARAMETER_SETS: usize = 64;

/// Total bytes of the parameter sets accepted in one record. They are
/// written in front of every key frame that lacks its own, and the key flag
/// is the publisher's to set, so without a bound a record of 31 SPS and 64
/// PPS of 65535 bytes each (6 MiB) would turn every tiny frame into
/// megabytes of output. Encoders write well under 1 KiB; the largest single
/// legitimate PPS (a Baseline slice group map of type 6 at level 6.2:
/// 139264 map units of 3 bits) is 51 KiB.
pub const MAX_PARAMETER_SET_BYTES: usize = 64 * 1024;

/// Bound on `num_ref_frames_in_pic_order_cnt_cycle` (the spec's own, 7.4.2.1.1).
const MAX_POC_CYCLE: u32 = 255;

/// NAL unit types (14496-10 table 7-1).
pub(crate) const NAL_IDR: u8 = 5;
pub(crate) const NAL_SPS: u8 = 7;
pub(crate) const NAL_PPS: u8 = 8;
pub(crate) const NAL_AUD: u8 = 9;

/// An access unit delimiter NAL with its start code; `primary_pic_type` 7
/// (any slice type) and the RBSP stop bit: `09 F0`.
pub(crate) const AUD: [u8; 6] = [0, 0, 0, 1, NAL_AUD, 0xF0];

/// The 4-byte Annex-B start code.
pub(crate) const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// A length-prefixed NAL unit stream could not be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NalError {
    /// The configuration's NAL length size is not 1..=4.
    #[error("NAL length size {0} is not 1..=4")]
    BadLengthSize(u8),
    /// A length prefix, or the NAL unit it announces, runs past the end.
    #[error("NAL unit length past the end of the frame at offset {offset}: {truncated}")]
    PastEnd {
        /// Offset of the length prefix in the frame.
        offset: usize,
        /// What was missing.
        truncated: Truncated,
    },
}

/// Why an H.264 header or frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AvcError {
    /// The configuration record ended early.
    #[error("AVC configuration truncated: {0}")]
    Truncated(#[from] Truncated),
    /// The SPS bit string ended inside a field.
    #[error("SPS: {0}")]
    Bits(#[from] BitsExhausted),
    /// `configurationVersion` is not 1.
    #[error("unsupported AVC configuration version {0}")]
    BadVersion(u8),
    /// More parameter sets than [`MAX_PARAMETER_SETS`].
    #[error("{0} parameter sets exceed the limit")]
    TooManyParameterSets(usize),
    /// Parameter sets larger in total than [`MAX_PARAMETER_SET_BYTES`].
    #[error("parameter sets of at least {0} bytes exceed the limit")]
    ParameterSetsTooLarge(usize),
    /// A parameter set in the record is empty or has the wrong NAL type.
    #[error("record holds NAL type {found} where type {expected} belongs")]
    WrongParameterSet {
        /// 7 (SPS) or 8 (PPS).
        expected: u8,
        /// The NAL type found (0 for an empty entry).
        found: u8,
    },
    /// Not an SPS NAL unit (type 7).
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
    #[error("AVC frame: {0}")]
    Nal(#[from] NalError),
}

/// The decoder configuration an encoder sends as its video sequence header
/// (14496-15 5.3.3.1.2). The optional High-profile tail (chroma format, bit
/// depths, SPS extensions) is not read: the SPS says the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfig {
    /// `AVCProfileIndication` (66 Baseline, 77 Main, 100 High, ...).
    pub profile: u8,
    /// `profile_compatibility` (the SPS constraint flags).
    pub compatibility: u8,
    /// `AVCLevelIndication` (31 = level 3.1).
    pub level: u8,
    /// `lengthSizeMinusOne` + 1: bytes of each NAL unit's length prefix in
    /// frames. 1, 2 and 4 are common; 3 is legal too.
    pub nal_length_size: u8,
    /// Sequence parameter sets (whole NAL units, header byte included).
    pub sps: Vec<Bytes>,
    /// Picture parameter sets (whole NAL units).
    pub pps: Vec<Bytes>,
}

/// Reads `count` parameter sets of NAL type `expected`; `total` carries the
/// bytes read so far across calls (see [`MAX_PARAMETER_SET_BYTES`]).
fn read_sets(
    r: &mut Reader<'_>,
    count: usize,
    expected: u8,
    total: &mut usize,
    out: &mut Vec<Bytes>,
) -> Result<(), AvcError> {
    if count > MAX_PARAMETER_SETS {
        return Err(AvcError::TooManyParameterSets(count));
    }
    for _ in 0..count {
        let len = usize::from(r.u16()?);
        let nal = r.take(len)?;
        *total = total.saturating_add(len);
        if *total > MAX_PARAMETER_SET_BYTES {
            return Err(AvcError::ParameterSetsTooLarge(*total));
        }
        let found = nal.first().map_or(0, |h| h & 0x1F);
        if found != expected {
            return Err(AvcError::WrongParameterSet { expected, found });
        }
        out.push(Bytes::copy_from_slice(nal));
    }
    Ok(())
}

impl AvcConfig {
    /// Parses a record: the body of an AVC sequence header after its FLV
    /// video tag header.
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
        let mut total = 0;
        let mut sps = Vec::new();
        let num_sps = usize::from(r.u8()? & 0x1F);
        read_sets(&mut r, num_sps, NAL_SPS, &mut total, &mut sps)?;
        let mut pps = Vec::new();
        let num_pps = usize::from(r.u8()?);
        read_sets(&mut r, num_pps, NAL_PPS, &mut total, &mut pps)?;
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

/// What the server needs from an SPS (14496-10 7.3.2.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sps {
    /// `profile_idc`.
    pub profile_idc: u8,
    /// `constraint_set0_flag`..`constraint_set5_flag` and the reserved bits.
    pub constraint_flags: u8,
    /// `level_idc` (31 = level 3.1).
    pub level_idc: u8,
    /// `seq_parameter_set_id`.
    pub id: u32,
    /// `chroma_format_idc` (0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4).
    pub chroma_format_idc: u32,
    /// Luma bit depth.
    pub bit_depth_luma: u32,
    /// Chroma bit depth.
    pub bit_depth_chroma: u32,
    /// `frame_mbs_only_flag`: false when the stream may code fields.
    pub frame_mbs_only: bool,
    /// Displayed width in pixels, after frame cropping.
    pub width: u32,
    /// Displayed height in pixels, after frame cropping.
    pub height: u32,
}

/// Profiles whose SPS carries chroma format, bit depths and scaling matrices
/// (the `if( profile_idc == 100 || ...)` list of 7.3.2.1.1).
fn has_chroma_info(profile_idc: u8) -> bool {
    matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    )
}

/// `scaling_list()` (7.3.2.1.1.1), read only to get past it.
fn skip_scaling_list(b: &mut BitReader<'_>, size: usize) -> Result<(), AvcError> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            let delta = i64::from(b.se()?);
            next = (last + delta).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Ok(())
}

fn at_most(field: &'static str, value: u32, max: u32) -> Result<u32, AvcError> {
    if value > max {
        Err(AvcError::Invalid {
            field,
            value: u64::from(value),
        })
    } else {
        Ok(value)
    }
}

impl Sps {
    /// Parses an SPS NAL unit (header byte included, emulation prevention
    /// bytes still in place). VUI is not read.
    pub fn parse(nal: &[u8]) -> Result<Self, AvcError> {
        let header = *nal.first().ok_or(Truncated {
            needed: 1,
            available: 0,
        })?;
        if header & 0x1F != NAL_SPS {
            return Err(AvcError::NotSps(header & 0x1F));
        }
        let rbsp = unescape_rbsp(nal.get(1..).unwrap_or_default());
        let mut b = BitReader::new(&rbsp);
        let profile_idc = b.bits(8)? as u8;
        let constraint_flags = b.bits(8)? as u8;
        let level_idc = b.bits(8)? as u8;
        let id = at_most("seq_parameter_set_id", b.ue()?, 31)?;
        let (mut chroma_format_idc, mut separate_colour_plane) = (1, false);
        let (mut bit_depth_luma, mut bit_depth_chroma) = (8, 8);
        if has_chroma_info(profile_idc) {
            chroma_format_idc = at_most("chroma_format_idc", b.ue()?, 3)?;
            if chroma_format_idc == 3 {
                separate_colour_plane = b.bit()?;
            }
            bit_depth_luma = at_most("bit_depth_luma_minus8", b.ue()?, 6)? + 8;
            bit_depth_chroma = at_most("bit_depth_chroma_minus8", b.ue()?, 6)? + 8;
            b.bit()?; // qpprime_y_zero_transform_bypass_flag
            if b.bit()? {
                // seq_scaling_matrix_present_flag: 6 4x4 lists, then 2 (or 6
                // for 4:4:4) 8x8 lists.
                let lists = if chroma_format_idc == 3 { 12 } else { 8 };
                for i in 0..lists {
                    if b.bit()? {
                        skip_scaling_list(&mut b, if i < 6 { 16 } else { 64 })?;
                    }
                }
            }
        }
        at_most("log2_max_frame_num_minus4", b.ue()?, 12)?;
        match b.ue()? {
            0 => {
                at_most("log2_max_pic_order_cnt_lsb_minus4", b.ue()?, 12)?;
            }
            1 => {
                b.bit()?; // delta_pic_order_always_zero_flag
                b.se()?; // offset_for_non_ref_pic
                b.se()?; // offset_for_top_to_bottom_field
                let cycle = at_most(
                    "num_ref_frames_in_pic_order_cnt_cycle",
                    b.ue()?,
                    MAX_POC_CYCLE,
                )?;
                for _ in 0..cycle {
                    b.se()?;
                }
            }
            2 => {}
            other => {
                return Err(AvcError::Invalid {
                    field: "pic_order_cnt_type",
                    value: u64::from(other),
                })
            }
        }
        b.ue()?; // max_num_ref_frames
        b.bit()?; // gaps_in_frame_num_value_allowed_flag
        let width_mbs = u64::from(b.ue()?) + 1;
        let height_map_units = u64::from(b.ue()?) + 1;
        let frame_mbs_only = b.bit()?;
        if !frame_mbs_only {
            b.bit()?; // mb_adaptive_frame_field_flag
        }
        b.bit()?; // direct_8x8_inference_flag
        let field_factor: u64 = if frame_mbs_only { 1 } else { 2 };
        // 7.4.2.1.1: FrameWidthInMbs, FrameHeightInMbs.
        let coded_w = width_mbs * 16;
        let coded_h = height_map_units * field_factor * 16;
        if coded_w > u64::from(MAX_DIMENSION) || coded_h > u64::from(MAX_DIMENSION) {
            return Err(AvcError::Invalid {
                field: "picture size",
                value: coded_w.max(coded_h),
            });
        }
        let (mut width, mut height) = (coded_w, coded_h);
        if b.bit()? {
            // frame_cropping_flag: offsets in units of CropUnitX/CropUnitY (7-19..7-22).
            let (l, r, t, btm) = (b.ue()?, b.ue()?, b.ue()?, b.ue()?);
            let chroma_array_type = if separate_colour_plane {
                0
            } else {
                chroma_format_idc
            };
            let (unit_x, unit_y) = match chroma_array_type {
                0 => (1, field_factor),
                1 => (2, 2 * field_factor),
                2 => (2, field_factor),
                _ => (1, field_factor),
            };
            let crop_x = unit_x * (u64::from(l) + u64::from(r));
            let crop_y = unit_y * (u64::from(t) + u64::from(btm));
            if crop_x >= width || crop_y >= height {
                return Err(AvcError::Invalid {
                    field: "frame cropping",
                    value: crop_x.max(crop_y),
                });
            }
            width -= crop_x;
            height -= crop_y;
        }
        Ok(Self {
            profile_idc,
            constraint_flags,
            level_idc,
            id,
            chroma_format_idc,
            bit_depth_luma,
            bit_depth_chroma,
            frame_mbs_only,
            // Both are at most MAX_DIMENSION, checked above.
            width: width as u32,
            height: height as u32,
        })
    }
}

/// Splits a frame of length-prefixed NAL units (14496-15 5.3.2, 8.3.2).
/// Every item consumes at least the prefix, so iteration always ends; after
/// an error it yields nothing more.
#[derive(Debug, Clone)]
pub struct NalUnits<'a> {
    r: Reader<'a>,
    length_size: u8,
    failed: bool,
}

/// NAL units of `frame`, each prefixed by a `length_size`-byte big-endian length.
pub fn nal_units(frame: &[u8], length_size: u8) -> Result<NalUnits<'_>, NalError> {
    if !(1..=4).contains(&length_size) {
        return Err(NalError::BadLengthSize(length_size));
    }
    Ok(NalUnits {
        r: Reader::new(frame),
        length_size,
        failed: false,
    })
}

impl<'a> NalUnits<'a> {
    fn read(&mut self) -> Result<&'a [u8], Truncated> {
        let len = match self.length_size {
            1 => u32::from(self.r.u8()?),
            2 => u32::from(self.r.u16()?),
            3 => self.r.u24()?,
            _ => self.r.u32()?,
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        self.r.take(len)
    }
}

impl<'a> Iterator for NalUnits<'a> {
    type Item = Result<&'a [u8], NalError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.r.is_empty() {
            return None;
        }
        let offset = self.r.position();
        match self.read() {
            Ok(nal) => Some(Ok(nal)),
            Err(truncated) => {
                self.failed = true;
                Some(Err(NalError::PastEnd { offset, truncated }))
            }
        }
    }
}

/// Writes one AVC access unit as Annex-B (what MPEG-TS carries, 14496-10
/// Annex B and ISO 13818-1 2.14): an access unit delimiter first (H.222
/// requires one per access unit), then — before a key frame that does not
/// carry its own SPS and PPS — the configuration's parameter sets, then every
/// NAL unit with a 4-byte start code. AUDs in the input are dropped so there
/// is exactly one, empty NAL units are skipped.
///
/// `avcc_frame` is the body after the FLV video tag header. `keyframe` is the
/// FLV frame type; an IDR slice in the frame counts as a key frame too. On
/// error nothing is written.
pub fn to_annexb(
    config: &AvcConfig,
    avcc_frame: &[u8],
    keyframe: bool,
    out: &mut Vec<u8>,
) -> Result<(), AvcError> {
    let (mut has_sps, mut has_pps, mut has_idr) = (false, false, false);
    let mut payload = 0usize;
    // First pass: validate every length and see what the frame carries.
    for nal in nal_units(avcc_frame, config.nal_length_size)? {
        let nal = nal?;
        match nal.first().map(|h| h & 0x1F) {
            Some(NAL_SPS) => has_sps = true,
            Some(NAL_PPS) => has_pps = true,
            Some(NAL_IDR) => has_idr = true,
            _ => {}
        }
        payload = payload.saturating_add(nal.len() + START_CODE.len());
    }
    let insert_sets = (keyframe || has_idr) && !(has_sps && has_pps);
    out.reserve(payload.saturating_add(AUD.len()));
    out.extend_from_slice(&AUD);
    if insert_sets {
        for set in config.sps.iter().chain(&config.pps) {
            out.extend_from_slice(&START_CODE);
            out.extend_from_slice(set);
        }
    }
    for nal in nal_units(avcc_frame, config.nal_length_size)? {
        let nal = nal?;
        match nal.first().map(|h| h & 0x1F) {
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

    /// Builds an SPS NAL from fields, for cases no encoder at hand produces.
    struct BitWriter {
        out: Vec<u8>,
        bits: u32,
    }

    impl BitWriter {
        fn new() -> Self {
            Self {
                out: Vec::new(),
                bits: 0,
            }
        }
        fn put(&mut self, n: u32, v: u64) {
            for i in (0..n).rev() {
                if self.bits & 7 == 0 {
                    self.out.push(0);
                }
                let bit = ((v >> i) & 1) as u8;
                *self.out.last_mut().unwrap() |= bit << (7 - self.bits % 8);
                self.bits += 1;
            }
        }
        fn ue(&mut self, v: u64) {
            let x = v + 1;
            let len = 64 - x.leading_zeros();
            self.put(len - 1, 0);
            self.put(len, x);
        }
        fn se(&mut self, v: i64) {
            self.ue(if v > 0 {
                (2 * v - 1) as u64
            } else {
                (-2 * v) as u64
            });
        }
        fn finish(mut self) -> Vec<u8> {
            self.put(1, 1); // rbsp_stop_one_bit
            self.out
        }
    }

    /// An SPS with the given geometry; `high` adds the High-profile fields
    /// and a scaling matrix.
    fn sps(
        high: Option<u32>,
        w_mbs: u64,
        h_units: u64,
        frame_mbs_only: bool,
        crop: Option<[u64; 4]>,
    ) -> Vec<u8> {
        let mut b = BitWriter::new();
        b.put(8, 0x67);
        b.put(8, if high.is_some() { 100 } else { 66 });
        b.put(8, 0);
        b.put(8, 40);
        b.ue(0);
        if let Some(chroma) = high {
            b.ue(u64::from(chroma));
            if chroma == 3 {
                b.put(1, 0);
            }
            b.ue(2); // 10-bit luma
            b.ue(2);
            b.put(1, 0);
            b.put(1, 1); // scaling matrix present
            let lists = if chroma == 3 { 12 } else { 8 };
            for i in 0..lists {
                let present = i % 3 == 0 || i == 1;
                b.put(1, u64::from(present));
                if i == 1 {
                    for _ in 0..16 {
                        b.se(0); // a full list of flat deltas
                    }
                } else if present {
                    b.se(-8); // nextScale becomes 0: the list ends early
                }
            }
        }
        b.ue(0); // log2_max_frame_num_minus4
        b.ue(1); // pic_order_cnt_type 1
        b.put(1, 0);
        b.se(-3);
        b.se(2);
        b.ue(2);
        b.se(1);
        b.se(-1);
        b.ue(4); // max_num_ref_frames
        b.put(1, 0);
        b.ue(w_mbs - 1);
        b.ue(h_units - 1);
        b.put(1, u64::from(frame_mbs_only));
        if !frame_mbs_only {
            b.put(1, 1);
        }
        b.put(1, 1);
        match crop {
            Some(c) => {
                b.put(1, 1);
                for v in c {
                    b.ue(v);
                }
            }
            None => b.put(1, 0),
        }
        b.put(1, 0); // vui_parameters_present_flag
        b.finish()
    }

    fn record(sps: &[&[u8]], pps: &[&[u8]], length_size: u8) -> Vec<u8> {
        let mut rec = vec![
            1,
            0x64,
            0,
            0x1f,
            0xfc | (length_size - 1),
            0xe0 | sps.len() as u8,
        ];
        for s in sps {
            rec.extend_from_slice(&(s.len() as u16).to_be_bytes());
            rec.extend_from_slice(s);
        }
        rec.push(pps.len() as u8);
        for p in pps {
            rec.extend_from_slice(&(p.len() as u16).to_be_bytes());
            rec.extend_from_slice(p);
        }
        rec
    }

    #[test]
    fn sps_geometry_cropping_and_interlace() {
        // 1920x1080 4:2:0 progressive: 120x68 MBs cropped by 8 lines.
        let s = Sps::parse(&sps(None, 120, 68, true, Some([0, 0, 0, 4]))).unwrap();
        assert_eq!(
            (s.width, s.height, s.profile_idc, s.level_idc),
            (1920, 1080, 66, 40)
        );
        assert_eq!(
            (s.chroma_format_idc, s.bit_depth_luma, s.frame_mbs_only),
            (1, 8, true)
        );
        // Interlaced 1920x1080: 34 map units of field pairs, crop unit 4 lines.
        let s = Sps::parse(&sps(None, 120, 34, false, Some([0, 0, 0, 2]))).unwrap();
        assert_eq!((s.width, s.height, s.frame_mbs_only), (1920, 1080, false));
        // High 4:2:2 10-bit with scaling lists: crop unit (2, 1).
        let s = Sps::parse(&sps(Some(2), 40, 23, true, Some([1, 1, 0, 8]))).unwrap();
        assert_eq!((s.width, s.height), (636, 360));
        assert_eq!(
            (s.chroma_format_idc, s.bit_depth_luma, s.bit_depth_chroma),
            (2, 10, 10)
        );
        // 4:4:4 has twelve scaling lists and crop unit (1, 1).
        let s = Sps::parse(&sps(Some(3), 40, 23, true, Some([1, 1, 0, 8]))).unwrap();
        assert_eq!((s.width, s.height), (638, 360));
        // Monochrome: crop unit (1, 1).
        let s = Sps::parse(&sps(Some(0), 40, 23, true, Some([1, 1, 0, 8]))).unwrap();
        assert_eq!((s.width, s.height), (638, 360));
    }

    /// The SPS ffmpeg's libx264 writes for `testsrc2=size=640x360` (High,
    /// level 3.0); it holds two emulation prevention bytes.
    const X264_SPS_640X360: &[u8] = &[
        0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03,
        0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96,
    ];

    #[test]
    fn x264_sps_with_emulation_prevention() {
        let s = Sps::parse(X264_SPS_640X360).unwrap();
        assert_eq!((s.profile_idc, s.level_idc), (100, 30));
        assert_eq!((s.width, s.height), (640, 360));
        assert_eq!((s.chroma_format_idc, s.bit_depth_luma), (1, 8));
    }

    #[test]
    fn sps_absurd_values_are_errors() {
        let too_wide = sps(None, 2000, 10, true, None);
        assert!(matches!(
            Sps::parse(&too_wide),
            Err(AvcError::Invalid {
                field: "picture size",
                value: 32000
            })
        ));
        let huge = sps(None, 1 << 31, 10, true, None);
        assert!(Sps::parse(&huge).is_err());
        let over_cropped = sps(None, 10, 10, true, Some([40, 40, 0, 0]));
        assert!(matches!(
            Sps::parse(&over_cropped),
            Err(AvcError::Invalid {
                field: "frame cropping",
                ..
            })
        ));
        assert!(matches!(Sps::parse(&[0x68, 0]), Err(AvcError::NotSps(8))));
        assert!(matches!(Sps::parse(&[]), Err(AvcError::Truncated(_))));
        assert!(matches!(Sps::parse(&[0x67, 0x64]), Err(AvcError::Bits(_))));
        // Every truncation of a valid SPS fails cleanly.
        let good = sps(Some(1), 40, 23, true, Some([0, 0, 0, 4]));
        for n in 0..good.len() - 1 {
            assert!(Sps::parse(&good[..n]).is_err(), "{n}");
        }
    }

    #[test]
    fn config_record() {
        let s = sps(None, 40, 23, true, Some([0, 0, 0, 4]));
        let rec = record(&[&s], &[&[0x68, 0xeb, 0xe3, 0xcb]], 4);
        let c = AvcConfig::parse(&rec).unwrap();
        assert_eq!((c.profile, c.level, c.nal_length_size), (100, 31, 4));
        assert_eq!((c.sps.len(), c.pps.len()), (1, 1));
        assert_eq!(&c.sps[0][..], &s[..]);
        let s = Sps::parse(&c.sps[0]).unwrap();
        assert_eq!((s.width, s.height), (640, 360));
        // Three-byte lengths are legal.
        assert_eq!(
            AvcConfig::parse(&record(&[], &[], 3))
                .unwrap()
                .nal_length_size,
            3
        );
    }

    #[test]
    fn config_record_hostile() {
        let rec = record(&[&[0x67, 1, 2]], &[&[0x68, 1]], 4);
        for n in 0..rec.len() {
            assert!(
                matches!(AvcConfig::parse(&rec[..n]), Err(AvcError::Truncated(_))),
                "{n}"
            );
        }
        let mut past_end = rec.clone();
        past_end[7] = 0xff;
        assert!(matches!(
            AvcConfig::parse(&past_end),
            Err(AvcError::Truncated(_))
        ));
        assert_eq!(AvcConfig::parse(&[2]), Err(AvcError::BadVersion(2)));
        assert_eq!(
            AvcConfig::parse(&record(&[&[0x68, 1]], &[], 4)),
            Err(AvcError::WrongParameterSet {
                expected: 7,
                found: 8
            })
        );
        assert_eq!(
            AvcConfig::parse(&record(&[], &[&[]], 4)),
            Err(AvcError::WrongParameterSet {
                expected: 8,
                found: 0
            })
        );
        let mut many = vec![1, 0x64, 0, 0x1f, 0xff, 0xe0, 0xff];
        many.extend([[0u8, 1, 0x68]; 255].concat());
        assert_eq!(
            AvcConfig::parse(&many),
            Err(AvcError::TooManyParameterSets(255))
        );
    }

    /// The parameter sets are counted together, SPS and PPS: up to
    /// MAX_PARAMETER_SET_BYTES in total is accepted, one byte more is not.
    #[test]
    fn config_record_parameter_set_bytes_are_bounded() {
        let nal = |t: u8, len: usize| [&[t][..], &vec![0xAB; len - 1]].concat();
        let sps = nal(NAL_SPS, 40_000);
        let fits = nal(NAL_PPS, MAX_PARAMETER_SET_BYTES - 40_000);
        let c = AvcConfig::parse(&record(&[&sps], &[&fits], 4)).unwrap();
        assert_eq!(c.pps[0].len(), MAX_PARAMETER_SET_BYTES - 40_000);
        let over = nal(NAL_PPS, MAX_PARAMETER_SET_BYTES - 40_000 + 1);
        assert_eq!(
            AvcConfig::parse(&record(&[&sps], &[&over], 4)),
            Err(AvcError::ParameterSetsTooLarge(MAX_PARAMETER_SET_BYTES + 1))
        );
        assert_eq!(
            AvcConfig::parse(&record(&[&sps, &sps], &[], 4)),
            Err(AvcError::ParameterSetsTooLarge(80_000))
        );
    }

    fn prefixed(nals: &[&[u8]], size: u8) -> Vec<u8> {
        let mut b = Vec::new();
        for n in nals {
            b.extend_from_slice(&(n.len() as u32).to_be_bytes()[4 - size as usize..]);
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

    const SPS: &[u8] = &[0x67, 0x42, 0, 0x1e, 0xab];
    const PPS: &[u8] = &[0x68, 0xce, 0x3c, 0x80];
    const AUD_NAL: &[u8] = &[9, 0xf0];

    fn config(size: u8) -> AvcConfig {
        AvcConfig::parse(&record(&[SPS], &[PPS], size)).unwrap()
    }

    #[test]
    fn annexb_inserts_aud_and_parameter_sets() {
        let idr: &[u8] = &[0x65, 0x88, 0x84];
        let sei: &[u8] = &[0x06, 0x05, 0x01];
        for size in 1..=4 {
            let c = config(size);
            let mut out = Vec::new();
            to_annexb(&c, &prefixed(&[sei, idr], size), true, &mut out).unwrap();
            assert_eq!(out, annexb(&[AUD_NAL, SPS, PPS, sei, idr]), "size {size}");
        }
        let c = config(4);
        // An IDR without the FLV key flag still gets its parameter sets.
        let mut out = vec![0xEE];
        to_annexb(&c, &prefixed(&[idr], 4), false, &mut out).unwrap();
        assert_eq!(out[1..], annexb(&[AUD_NAL, SPS, PPS, idr])[..]);
        assert_eq!(out[0], 0xEE, "appends");
        // An inter frame gets only the AUD.
        let slice: &[u8] = &[0x41, 0x9a];
        let mut out = Vec::new();
        to_annexb(&c, &prefixed(&[slice], 4), false, &mut out).unwrap();
        assert_eq!(out, annexb(&[AUD_NAL, slice]));
    }

    #[test]
    fn annexb_keeps_in_band_sets_and_drops_auds() {
        let c = config(4);
        let idr: &[u8] = &[0x65, 0x88];
        let own_sps: &[u8] = &[0x67, 0x4d, 0, 0x28];
        let mut out = Vec::new();
        let frame = prefixed(&[&[9, 0x10], own_sps, PPS, &[], idr], 4);
        to_annexb(&c, &frame, true, &mut out).unwrap();
        assert_eq!(out, annexb(&[AUD_NAL, own_sps, PPS, idr]));
        // Only an SPS in band: the configuration's sets are added in front.
        let mut out = Vec::new();
        to_annexb(&c, &prefixed(&[own_sps, idr], 4), true, &mut out).unwrap();
        assert_eq!(out, annexb(&[AUD_NAL, SPS, PPS, own_sps, idr]));
    }

    #[test]
    fn annexb_rejects_lengths_past_the_end() {
        let c = config(4);
        let mut out = vec![7];
        let frame = [0, 0, 0, 2, 0x65, 0x88, 0, 0, 0, 9, 0x41];
        assert_eq!(
            to_annexb(&c, &frame, true, &mut out),
            Err(AvcError::Nal(NalError::PastEnd {
                offset: 6,
                truncated: Truncated {
                    needed: 9,
                    available: 1
                }
            }))
        );
        assert_eq!(out, vec![7], "nothing written on error");
        // A length prefix cut short.
        assert!(matches!(
            to_annexb(&c, &[0, 0], true, &mut out),
            Err(AvcError::Nal(NalError::PastEnd { offset: 0, .. }))
        ));
        let mut bad = c.clone();
        bad.nal_length_size = 0;
        assert_eq!(
            to_annexb(&bad, &[], true, &mut out),
            Err(AvcError::Nal(NalError::BadLengthSize(0)))
        );
        // An empty frame is just an AUD (and parameter sets if key).
        to_annexb(&c, &[], false, &mut out).unwrap();
        assert_eq!(out[1..], AUD);
    }
}
