//! Building decoder configuration records from parameter sets: what a
//! publisher sends as its video sequence header, made from the SPS/PPS (and
//! for HEVC the VPS) an Annex-B encoder emits in band.
//! AVC: AVCDecoderConfigurationRecord (14496-15 5.3.3.1.2);
//! HEVC: HEVCDecoderConfigurationRecord (14496-15 8.3.3.1.2).
//! Both read back with [`AvcConfig::parse`](crate::avc::AvcConfig::parse) and
//! [`HevcConfig::parse`](crate::hevc::HevcConfig::parse).

use crate::bits::unescape_rbsp;
use crate::hevc::{NAL_PPS, NAL_SPS, NAL_VPS};

/// Why a record could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigRecordError {
    /// No SPS or no PPS (or, for HEVC, no VPS).
    #[error("missing {0}")]
    Missing(&'static str),
    /// A parameter set too short for the fields copied from it.
    #[error("{0} too short")]
    Short(&'static str),
    /// A parameter set longer than a 16-bit length, or too many of them.
    #[error("parameter sets too large for a record")]
    TooLarge,
    /// The SPS did not parse.
    #[error("bad SPS: {0}")]
    Sps(String),
}

/// Most parameter sets of one kind a record takes (AVC's SPS count is 5 bits).
const MAX_SETS: usize = 31;

fn push_sets(out: &mut Vec<u8>, sets: &[&[u8]]) -> Result<(), ConfigRecordError> {
    for set in sets {
        let len = u16::try_from(set.len()).map_err(|_| ConfigRecordError::TooLarge)?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(set);
    }
    Ok(())
}

/// An AVCDecoderConfigurationRecord with 4-byte NAL lengths for `sps` and
/// `pps` (whole NAL units, header byte included). Profile, compatibility
/// and level are the first SPS's bytes 1..4 (14496-15 5.3.3.1.2: they
/// "shall" match it).
pub fn avc_record(sps: &[&[u8]], pps: &[&[u8]]) -> Result<Vec<u8>, ConfigRecordError> {
    let first = sps.first().ok_or(ConfigRecordError::Missing("SPS"))?;
    if pps.is_empty() {
        return Err(ConfigRecordError::Missing("PPS"));
    }
    if sps.len() > MAX_SETS || pps.len() > 255 {
        return Err(ConfigRecordError::TooLarge);
    }
    let ptl = first.get(1..4).ok_or(ConfigRecordError::Short("SPS"))?;
    let mut out = vec![1];
    out.extend_from_slice(ptl);
    out.push(0xFC | 3); // reserved, lengthSizeMinusOne = 3
    out.push(0xE0 | sps.len() as u8); // reserved, numOfSequenceParameterSets
    push_sets(&mut out, sps)?;
    out.push(pps.len() as u8);
    push_sets(&mut out, pps)?;
    Ok(out)
}

/// An HEVCDecoderConfigurationRecord with 4-byte NAL lengths. The general
/// profile/tier/level (12 bytes), sub-layer count and temporal nesting are
/// copied from the first SPS's RBSP; chroma format and bit depths from
/// parsing it. Segmentation, parallelism and frame rate are "unknown" (0).
pub fn hevc_record(
    vps: &[&[u8]],
    sps: &[&[u8]],
    pps: &[&[u8]],
) -> Result<Vec<u8>, ConfigRecordError> {
    let first = sps.first().ok_or(ConfigRecordError::Missing("SPS"))?;
    if vps.is_empty() {
        return Err(ConfigRecordError::Missing("VPS"));
    }
    if pps.is_empty() {
        return Err(ConfigRecordError::Missing("PPS"));
    }
    if vps.len() > MAX_SETS || sps.len() > MAX_SETS || pps.len() > MAX_SETS {
        return Err(ConfigRecordError::TooLarge);
    }
    let parsed =
        crate::hevc::Sps::parse(first).map_err(|e| ConfigRecordError::Sps(e.to_string()))?;
    // After the 2-byte NAL header: vps id (4), max_sub_layers_minus1 (3),
    // temporal_id_nesting (1), then general profile_tier_level (12 bytes).
    let rbsp = unescape_rbsp(first.get(2..).unwrap_or_default());
    let lead = *rbsp.first().ok_or(ConfigRecordError::Short("SPS"))?;
    let ptl = rbsp.get(1..13).ok_or(ConfigRecordError::Short("SPS"))?;
    let sub_layers = ((lead >> 1) & 0x07) + 1;
    let nested = lead & 0x01;
    let mut out = vec![1];
    out.extend_from_slice(ptl);
    out.extend_from_slice(&[0xF0, 0x00]); // min_spatial_segmentation_idc 0
    out.push(0xFC); // parallelismType 0
    out.push(0xFC | (parsed.chroma_format_idc as u8 & 0x03));
    out.push(0xF8 | (parsed.bit_depth_luma.saturating_sub(8) as u8 & 0x07));
    out.push(0xF8 | (parsed.bit_depth_chroma.saturating_sub(8) as u8 & 0x07));
    out.extend_from_slice(&[0, 0]); // avgFrameRate
                                    // constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3.
    out.push(((sub_layers & 0x07) << 3) | (nested << 2) | 3);
    out.push(3); // numOfArrays
    for (kind, sets) in [(NAL_VPS, vps), (NAL_SPS, sps), (NAL_PPS, pps)] {
        out.push(0x80 | kind); // array_completeness 1
        out.extend_from_slice(&(sets.len() as u16).to_be_bytes());
        push_sets(&mut out, sets)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::avc::AvcConfig;

    #[test]
    fn avc_record_reads_back() {
        let sps: &[u8] = &[0x67, 0x64, 0x00, 0x1F, 0xAC, 0xD9];
        let pps: &[u8] = &[0x68, 0xEB, 0xE3, 0xCB];
        let record = avc_record(&[sps], &[pps]).unwrap();
        let config = AvcConfig::parse(&record).unwrap();
        assert_eq!((config.profile, config.level), (100, 31));
        assert_eq!(config.nal_length_size, 4);
        assert_eq!(config.sps, [sps]);
        assert_eq!(config.pps, [pps]);
        assert_eq!(
            avc_record(&[], &[pps]),
            Err(ConfigRecordError::Missing("SPS"))
        );
        assert_eq!(
            avc_record(&[&[0x67]], &[pps]),
            Err(ConfigRecordError::Short("SPS"))
        );
    }

    #[test]
    fn hevc_record_reads_back_with_the_sps_profile() {
        // libx265's parameter sets for 1280x720 Main, level 3.1 (as in hevc.rs).
        let vps: &[u8] = &[
            0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00,
            0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5d, 0x95, 0x98, 0x09,
        ];
        let sps: &[u8] = &[
            0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00,
            0x00, 0x03, 0x00, 0x5d, 0xa0, 0x02, 0x80, 0x80, 0x2d, 0x16, 0x59, 0x59, 0xa4, 0x93,
            0x2b, 0xc0, 0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x32,
            0x10,
        ];
        let pps: &[u8] = &[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40];
        let record = hevc_record(&[vps], &[sps], &[pps]).unwrap();
        let config = crate::hevc::HevcConfig::parse(&record).unwrap();
        assert_eq!((config.profile_idc, config.level_idc), (1, 93));
        assert_eq!(config.compatibility_flags, 0x6000_0000);
        assert_eq!((config.chroma_format_idc, config.bit_depth_luma), (1, 8));
        assert_eq!(config.nal_length_size, 4);
        assert_eq!(
            (config.vps.len(), config.sps.len(), config.pps.len()),
            (1, 1, 1)
        );
        assert_eq!(config.sps[0], sps);
        assert_eq!(
            hevc_record(&[], &[sps], &[pps]),
            Err(ConfigRecordError::Missing("VPS"))
        );
    }
}
