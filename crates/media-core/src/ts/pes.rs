//! PES packet headers (ISO/IEC 13818-1 2.4.3.6 and 2.4.3.7).

/// Timestamps in a PES header are 33-bit counts of a 90 kHz clock (2.4.3.7);
/// they wrap, so everything written is reduced modulo 2^33.
pub const TIMESTAMP_MASK: u64 = (1 << 33) - 1;

/// `stream_id` of the first MPEG video stream (Table 2-22, 1110 xxxx).
pub(crate) const STREAM_ID_VIDEO: u8 = 0xE0;
/// `stream_id` of the first MPEG audio stream (Table 2-22, 110x xxxx).
pub(crate) const STREAM_ID_AUDIO: u8 = 0xC0;

/// Longest header we write: 6 fixed + 3 flags + PTS (5) + DTS (5).
pub(crate) const MAX_PES_HEADER: usize = 19;

/// A PES header on the stack.
pub(crate) struct PesHeader {
    buf: [u8; MAX_PES_HEADER],
    len: usize,
}

impl PesHeader {
    /// Builds the header for a payload of `payload_len` bytes. `dts` is written
    /// only when it differs from `pts` (2.4.3.7: PTS_DTS_flags '11' vs '10').
    ///
    /// PES_packet_length is 16 bits; for a longer packet it is 0, which
    /// 2.4.3.7 allows for video in a transport stream. Audio packets are kept
    /// short by the caller; a longer one also gets 0, which demuxers accept.
    pub(crate) fn new(stream_id: u8, pts: u64, dts: u64, payload_len: usize) -> Self {
        let pts = pts & TIMESTAMP_MASK;
        let dts = dts & TIMESTAMP_MASK;
        let with_dts = pts != dts;
        let header_data_len: usize = if with_dts { 10 } else { 5 };
        let mut buf = [0u8; MAX_PES_HEADER];
        buf[2] = 0x01;
        buf[3] = stream_id;
        let packet_len = 3usize
            .saturating_add(header_data_len)
            .saturating_add(payload_len);
        let packet_len = u16::try_from(packet_len).unwrap_or(0);
        buf[4..6].copy_from_slice(&packet_len.to_be_bytes());
        // '10', scrambling 00, priority 0, data_alignment_indicator 1 (the
        // payload starts with an access unit), copyright 0, original 0.
        buf[6] = 0x84;
        buf[7] = if with_dts { 0xC0 } else { 0x80 };
        buf[8] = header_data_len as u8;
        if with_dts {
            buf[9..14].copy_from_slice(&timestamp(0b0011, pts));
            buf[14..19].copy_from_slice(&timestamp(0b0001, dts));
        } else {
            buf[9..14].copy_from_slice(&timestamp(0b0010, pts));
        }
        Self {
            buf,
            len: 9 + header_data_len,
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The 5-byte PTS/DTS field: 4-bit prefix, then 3+15+15 bits each followed
/// by a marker bit.
fn timestamp(prefix: u8, ts: u64) -> [u8; 5] {
    [
        (prefix << 4) | (((ts >> 30) as u8 & 0x07) << 1) | 1,
        (ts >> 22) as u8,
        (((ts >> 15) as u8 & 0x7F) << 1) | 1,
        (ts >> 7) as u8,
        ((ts as u8 & 0x7F) << 1) | 1,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_ts(b: &[u8]) -> u64 {
        (u64::from(b[0] >> 1) & 7) << 30
            | u64::from(b[1]) << 22
            | u64::from(b[2] >> 1) << 15
            | u64::from(b[3]) << 7
            | u64::from(b[4] >> 1)
    }

    #[test]
    fn pts_only() {
        let h = PesHeader::new(STREAM_ID_AUDIO, 900_000, 900_000, 100);
        let b = h.bytes();
        assert_eq!(b.len(), 14);
        assert_eq!(&b[..4], &[0, 0, 1, 0xC0]);
        assert_eq!(u16::from_be_bytes([b[4], b[5]]), 3 + 5 + 100);
        assert_eq!(b[7], 0x80);
        assert_eq!(b[9] >> 4, 0b0010);
        assert_eq!(read_ts(&b[9..14]), 900_000);
    }

    #[test]
    fn pts_and_dts_wrap_at_33_bits() {
        let big = (1u64 << 33) + 1234;
        let h = PesHeader::new(STREAM_ID_VIDEO, big + 3600, big, 70_000);
        let b = h.bytes();
        assert_eq!(b.len(), 19);
        assert_eq!(u16::from_be_bytes([b[4], b[5]]), 0, "too long: unbounded");
        assert_eq!(b[7], 0xC0);
        assert_eq!(read_ts(&b[9..14]), 1234 + 3600);
        assert_eq!(read_ts(&b[14..19]), 1234);
        assert_eq!(b[14] >> 4, 0b0001);
    }

    #[test]
    fn max_timestamp_round_trips() {
        let h = PesHeader::new(STREAM_ID_VIDEO, TIMESTAMP_MASK, TIMESTAMP_MASK, 0);
        assert_eq!(read_ts(&h.bytes()[9..14]), TIMESTAMP_MASK);
    }
}
