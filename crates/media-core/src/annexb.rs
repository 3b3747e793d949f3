//! Annex-B byte streams (H.264 Annex B, H.265 Annex B): what encoders and
//! capture devices hand out, NAL units behind `00 00 01` / `00 00 00 01`
//! start codes. FLV and MP4 carry the same NAL units length-prefixed
//! (14496-15 5.3.4.2 "AVCC"), so a publisher splits and re-prefixes them.

/// Largest frame [`to_length_prefixed`] builds (a 4-byte prefix per NAL; a
/// bound so a hostile input cannot make us allocate past it).
pub const MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;

/// The NAL units of an Annex-B buffer, in order, without start codes or the
/// zero bytes trailing a unit (`trailing_zero_8bits`, H.264 B.1.1). Bytes
/// before the first start code are not a NAL unit and are skipped; a buffer
/// without any start code yields nothing.
pub fn split_annexb(data: &[u8]) -> Vec<&[u8]> {
    let mut units = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i + 2 < data.len() {
        if data.get(i..i + 3) == Some(&[0, 0, 1]) {
            if let Some(s) = start {
                push_trimmed(&mut units, data.get(s..i).unwrap_or_default());
            }
            i += 3;
            start = Some(i);
        } else {
            i += 1;
        }
    }
    if let Some(s) = start {
        push_trimmed(&mut units, data.get(s..).unwrap_or_default());
    }
    units
}

fn push_trimmed<'a>(units: &mut Vec<&'a [u8]>, unit: &'a [u8]) {
    let end = unit.iter().rposition(|b| *b != 0).map_or(0, |p| p + 1);
    if let Some(unit) = unit.get(..end).filter(|u| !u.is_empty()) {
        units.push(unit);
    }
}

/// `units` each behind a 4-byte big-endian length: an FLV/MP4 sample with
/// `lengthSizeMinusOne` = 3. `None` past [`MAX_FRAME_BYTES`].
pub fn to_length_prefixed(units: &[&[u8]]) -> Option<Vec<u8>> {
    let total = units
        .iter()
        .try_fold(0usize, |acc, u| acc.checked_add(u.len())?.checked_add(4))?;
    if total > MAX_FRAME_BYTES {
        return None;
    }
    let mut out = Vec::with_capacity(total);
    for unit in units {
        let len = u32::try_from(unit.len()).ok()?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(unit);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_both_start_codes_and_trims_trailing_zeros() {
        let data = [
            0xAA, 0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 4, 0, 0,
        ];
        let units = split_annexb(&data);
        assert_eq!(units, [&[0x67, 1, 2][..], &[0x68, 3], &[0x65, 4]]);
        assert!(split_annexb(&[1, 2, 3]).is_empty());
        assert!(split_annexb(&[0, 0, 1]).is_empty());
        assert_eq!(
            to_length_prefixed(&units).unwrap(),
            [0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 2, 0x68, 3, 0, 0, 0, 2, 0x65, 4]
        );
    }
}
