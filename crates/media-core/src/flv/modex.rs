//! E-RTMP v2 `ModEx`: modifiers in front of a video or audio packet type.
//!
//! E-RTMP v2 ("Enhanced Video" and "Enhanced Audio", `ExVideoTagHeader` /
//! `ExAudioTagHeader`): a packet type of 7 (`ModEx`) is followed by a size
//! (`UI8` + 1, or when that reads 256, `UI16` + 1), that many bytes of
//! modifier data, then one byte `[ModExType:4 | PacketType:4]`. The packet
//! type may be `ModEx` again, so modifiers chain; the last one names the real
//! packet type (which may be `Multitrack`).
//!
//! The one modifier the spec defines is `TimestampOffsetNano` (type 0): a
//! `UI24` of nanoseconds, "MUST be at least 3 bytes, storing values up to
//! 999,999 ns", to add to the message's millisecond timestamp "without
//! altering core RTMP timestamps, applying only to the current media
//! message". A shorter field or a value of a whole millisecond or more is
//! a typed error here (the second would move the message past the next
//! millisecond's, breaking the order the RTMP timestamps give). Unknown
//! modifier types are skipped, as the spec's "fail gracefully" asks and as
//! ffmpeg does.
//!
//! The server never rewrites a ModEx prefix: a message is fanned out with its
//! payload as published, so players that read ModEx get the offset; the
//! jitter corrector only moves the millisecond timestamp, to which the
//! offset stays relative. Where the server builds a new message from a
//! multitrack one (the default track for a player without multitrack
//! support) it drops the prefix: such a player announced no ModEx support.

use rtmp_proto::reader::Reader;

use super::FlvError;

/// Most `ModEx` modifiers accepted before the real packet type. The spec
/// defines one modifier type; a chain longer than this is hostile.
pub const MAX_MODEX: usize = 8;

/// The packet type value (video and audio alike) that announces a modifier.
pub(crate) const MODEX_PACKET_TYPE: u8 = 7;

/// `VideoPacketModExType` / `AudioPacketModExType` `TimestampOffsetNano`.
const TIMESTAMP_OFFSET_NANO: u8 = 0;

/// Bytes a `TimestampOffsetNano` modifier carries at least (a `UI24`).
pub const TIMESTAMP_OFFSET_NANO_LEN: usize = 3;

/// The largest `TimestampOffsetNano` (just under a millisecond).
pub const MAX_TIMESTAMP_OFFSET_NANOS: u32 = 999_999;

/// Reads the `ModEx` chain that starts after a packet type of
/// [`MODEX_PACKET_TYPE`] (`raw_type`; any other value returns at once).
/// Returns the real packet type and the `TimestampOffsetNano`, if one was
/// given (the last one, if several were).
pub(crate) fn read_chain(
    mut raw_type: u8,
    r: &mut Reader<'_>,
) -> Result<(u8, Option<u32>), FlvError> {
    let mut nanos = None;
    let mut seen = 0;
    while raw_type == MODEX_PACKET_TYPE {
        seen += 1;
        if seen > MAX_MODEX {
            return Err(FlvError::UnsupportedExHeader("too many ModEx modifiers"));
        }
        let mut size = usize::from(r.u8()?) + 1;
        if size == 256 {
            size = usize::from(r.u16()?) + 1;
        }
        let data = r.take(size)?;
        let next = r.u8()?;
        if next >> 4 == TIMESTAMP_OFFSET_NANO {
            let [a, b, c, ..] = *data else {
                return Err(FlvError::TimestampOffsetNanoTooShort(size));
            };
            let value = u32::from_be_bytes([0, a, b, c]);
            if value > MAX_TIMESTAMP_OFFSET_NANOS {
                return Err(FlvError::TimestampOffsetNanoTooLarge(value));
            }
            nanos = Some(value);
        }
        raw_type = next & 0x0F;
    }
    Ok((raw_type, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(bytes: &[u8]) -> Result<(u8, Option<u32>, usize), FlvError> {
        let mut r = Reader::new(bytes);
        let (t, n) = read_chain(MODEX_PACKET_TYPE, &mut r)?;
        Ok((t, n, r.position()))
    }

    #[test]
    fn offsets_sizes_and_chains() {
        // 999,999 ns (0x0f423f), then CodedFrames.
        assert_eq!(
            chain(&[2, 0x0f, 0x42, 0x3f, 0x01, 0xee]),
            Ok((1, Some(999_999), 5))
        );
        // A 4-byte field: the first three bytes are the UI24.
        assert_eq!(chain(&[3, 0, 0, 7, 9, 0x00]), Ok((0, Some(7), 6)));
        // Two modifiers: an unknown type (2) with 300 bytes (the 16-bit
        // size form), then the offset, then Multitrack (6).
        let mut m = vec![0xff, 0x01, 0x2b];
        m.extend_from_slice(&[0xaa; 300]);
        m.extend_from_slice(&[0x27, 2, 0, 0x01, 0x00, 0x06]);
        assert_eq!(chain(&m), Ok((6, Some(256), m.len())));
        // Only an unknown modifier: no offset.
        assert_eq!(chain(&[0, 0x55, 0x13]), Ok((3, None, 3)));
        // Not ModEx: nothing read.
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(read_chain(1, &mut r), Ok((1, None)));
        assert_eq!(r.position(), 0);
    }

    #[test]
    fn hostile_modifiers_are_typed_errors() {
        // A TimestampOffsetNano of 1 and 2 bytes.
        assert_eq!(
            chain(&[0, 9, 0x01]),
            Err(FlvError::TimestampOffsetNanoTooShort(1))
        );
        assert_eq!(
            chain(&[1, 9, 9, 0x01]),
            Err(FlvError::TimestampOffsetNanoTooShort(2))
        );
        // A whole millisecond, and the UI24 maximum.
        assert_eq!(
            chain(&[2, 0x0f, 0x42, 0x40, 0x01]),
            Err(FlvError::TimestampOffsetNanoTooLarge(1_000_000))
        );
        assert_eq!(
            chain(&[2, 0xff, 0xff, 0xff, 0x01]),
            Err(FlvError::TimestampOffsetNanoTooLarge(0xff_ffff))
        );
        // Sizes past the end: 8-bit, 16-bit, the 16-bit size itself cut,
        // and no byte after the data.
        for bad in [
            &[5, 1, 2][..],
            &[0xff, 0xff, 0xff, 0, 0],
            &[0xff, 0x01],
            &[2, 0, 0, 1],
            &[],
        ] {
            assert!(
                matches!(chain(bad), Err(FlvError::Truncated(_))),
                "{bad:02x?}: {:?}",
                chain(bad)
            );
        }
        // An endless chain is cut at MAX_MODEX.
        let endless: Vec<u8> = (0..=MAX_MODEX).flat_map(|_| [2u8, 0, 0, 1, 0x07]).collect();
        assert_eq!(
            chain(&endless),
            Err(FlvError::UnsupportedExHeader("too many ModEx modifiers"))
        );
        let just_enough: Vec<u8> = (0..MAX_MODEX)
            .flat_map(|i| {
                [
                    2u8,
                    0,
                    0,
                    i as u8,
                    if i + 1 == MAX_MODEX { 0x01 } else { 0x07 },
                ]
            })
            .collect();
        assert_eq!(
            chain(&just_enough),
            Ok((1, Some(MAX_MODEX as u32 - 1), just_enough.len()))
        );
    }
}
