//! Chunk header syntax (spec 5.3.1): the basic header (fmt + chunk stream id)
//! and the fmt 0/1/2 message headers. Pure syntax; what the fields mean for a
//! chunk stream is the decoder's and encoder's business.

use bytes::BufMut;

use super::{EXTENDED_TIMESTAMP_MARKER, MAX_CSID, MIN_CSID};
use crate::reader::{Reader, Truncated};

/// Chunk type 0: full 11-byte message header, absolute timestamp.
pub(crate) const FMT_FULL: u8 = 0;
/// Chunk type 1: 7-byte header, same message stream id.
pub(crate) const FMT_NO_STREAM: u8 = 1;
/// Chunk type 2: 3-byte header, only the timestamp delta changes.
pub(crate) const FMT_DELTA: u8 = 2;
/// Chunk type 3: no message header.
pub(crate) const FMT_NONE: u8 = 3;

/// Longest basic header: the 3-byte form.
pub(crate) const MAX_BASIC_HEADER_LEN: usize = 3;
/// Longest chunk header: 3-byte basic + 11-byte message header + 4-byte extended timestamp.
pub(crate) const MAX_HEADER_LEN: usize = MAX_BASIC_HEADER_LEN + 11 + 4;

/// The fields of a fmt 0, 1 or 2 message header. Absent fields are `None`
/// (inherited from the chunk stream's previous header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MessageHeader {
    /// The 24-bit timestamp (fmt 0) or timestamp delta (fmt 1, 2) field;
    /// [`EXTENDED_TIMESTAMP_MARKER`] means a 32-bit field follows.
    pub timestamp: Option<u32>,
    /// Message length (fmt 0, 1).
    pub length: Option<u32>,
    /// Message type id (fmt 0, 1).
    pub type_id: Option<u8>,
    /// Message stream id, little-endian on the wire (fmt 0).
    pub stream_id: Option<u32>,
}

/// Reads the basic header: `(fmt, csid)` (spec 5.3.1.1). The 2-byte form
/// carries `csid - 64`; the 3-byte form carries `csid - 64` little-endian.
pub(crate) fn read_basic_header(r: &mut Reader<'_>) -> Result<(u8, u32), Truncated> {
    let first = r.u8()?;
    let fmt = first >> 6;
    let csid = match first & 0x3F {
        0 => 64 + u32::from(r.u8()?),
        1 => {
            let low = u32::from(r.u8()?);
            let high = u32::from(r.u8()?);
            64 + low + (high << 8)
        }
        id => u32::from(id),
    };
    Ok((fmt, csid))
}

/// Reads the message header of chunk type `fmt` (spec 5.3.1.2.1 - 5.3.1.2.4).
pub(crate) fn read_message_header(fmt: u8, r: &mut Reader<'_>) -> Result<MessageHeader, Truncated> {
    let mut header = MessageHeader {
        timestamp: None,
        length: None,
        type_id: None,
        stream_id: None,
    };
    if fmt <= FMT_DELTA {
        header.timestamp = Some(r.u24()?);
    }
    if fmt <= FMT_NO_STREAM {
        header.length = Some(r.u24()?);
        header.type_id = Some(r.u8()?);
    }
    if fmt == FMT_FULL {
        header.stream_id = Some(r.u32_le()?);
    }
    Ok(header)
}

/// Length of the basic header for `csid` (which must be in `MIN_CSID..=MAX_CSID`).
pub(crate) fn basic_header_len(csid: u32) -> usize {
    match csid {
        0..=63 => 1,
        64..=319 => 2,
        _ => 3,
    }
}

/// Clamps a chunk stream id into the encodable range.
///
/// Ids 0 and 1 cannot be expressed (they select the longer basic header
/// forms) and ids above 65599 do not fit the 3-byte form. Sending such a
/// message is a bug in the caller; clamping keeps the byte stream well-formed
/// instead of corrupting it.
pub(crate) fn clamp_csid(csid: u32) -> u32 {
    debug_assert!(
        (MIN_CSID..=MAX_CSID).contains(&csid),
        "chunk stream id {csid} out of range"
    );
    csid.clamp(MIN_CSID, MAX_CSID)
}

/// Writes a basic header (spec 5.3.1.1). `csid` must be in `MIN_CSID..=MAX_CSID`.
pub(crate) fn write_basic_header(out: &mut impl BufMut, fmt: u8, csid: u32) {
    let fmt_bits = fmt << 6;
    match csid {
        0..=63 => out.put_u8(fmt_bits | csid as u8),
        64..=319 => {
            out.put_u8(fmt_bits);
            out.put_u8((csid - 64) as u8);
        }
        _ => {
            let rest = csid - 64;
            out.put_u8(fmt_bits | 1);
            out.put_u8((rest & 0xFF) as u8);
            out.put_u8(((rest >> 8) & 0xFF) as u8);
        }
    }
}

/// Writes a 24-bit timestamp field, or the marker when `value` needs the
/// extended field (spec 5.3.1.3).
pub(crate) fn write_timestamp_field(out: &mut impl BufMut, value: u32) {
    out.put_uint(u64::from(value.min(EXTENDED_TIMESTAMP_MARKER)), 3);
}

/// True when a timestamp field value needs the 4-byte extended field.
pub(crate) fn needs_extended(value: u32) -> bool {
    value >= EXTENDED_TIMESTAMP_MARKER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_forms_roundtrip() {
        for (csid, len) in [(2, 1), (63, 1), (64, 2), (319, 2), (320, 3), (65599, 3)] {
            for fmt in 0..4u8 {
                let mut out = Vec::new();
                write_basic_header(&mut out, fmt, csid);
                assert_eq!(out.len(), len, "csid {csid}");
                assert_eq!(basic_header_len(csid), len);
                let mut r = Reader::new(&out);
                assert_eq!(read_basic_header(&mut r).unwrap(), (fmt, csid));
                assert!(r.is_empty());
            }
        }
    }

    #[test]
    fn three_byte_form_is_little_endian() {
        // Spec 5.3.1.1: csid = (third byte) * 256 + (second byte) + 64.
        let mut r = Reader::new(&[0x01, 0x02, 0x10]);
        assert_eq!(read_basic_header(&mut r).unwrap(), (0, 64 + 2 + 0x10 * 256));
    }

    #[test]
    fn message_header_sizes_per_fmt() {
        let bytes = [0xFFu8; 11];
        for (fmt, consumed) in [(0u8, 11usize), (1, 7), (2, 3), (3, 0)] {
            let mut r = Reader::new(&bytes);
            let h = read_message_header(fmt, &mut r).unwrap();
            assert_eq!(r.position(), consumed);
            assert_eq!(h.timestamp.is_some(), fmt <= 2);
            assert_eq!(h.length.is_some(), fmt <= 1);
            assert_eq!(h.stream_id.is_some(), fmt == 0);
        }
        let mut r = Reader::new(&bytes[..10]);
        assert!(read_message_header(0, &mut r).is_err());
    }

    #[test]
    fn stream_id_is_little_endian() {
        let bytes = [0, 0, 1, 0, 0, 4, 9, 1, 0, 0, 0];
        let h = read_message_header(0, &mut Reader::new(&bytes)).unwrap();
        assert_eq!(h.timestamp, Some(1));
        assert_eq!(h.length, Some(4));
        assert_eq!(h.type_id, Some(9));
        assert_eq!(h.stream_id, Some(1));
    }
}
