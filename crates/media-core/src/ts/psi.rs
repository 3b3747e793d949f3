//! Program-specific information: the PAT and PMT sections (ISO/IEC 13818-1
//! 2.4.4.3 and 2.4.4.8), each sent in a single TS packet.

use super::crc32::crc32_mpeg2;

/// `program_number` of the single program we carry.
pub(crate) const PROGRAM_NUMBER: u16 = 1;
/// `transport_stream_id` in the PAT (any value; one stream per file).
const TRANSPORT_STREAM_ID: u16 = 1;
/// Largest section we build: PMT header + two streams + CRC, far below the
/// 183 bytes a single packet can carry after the pointer field.
pub(crate) const MAX_SECTION: usize = 12 + 2 * 5 + 4;

/// One elementary stream as the PMT lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PmtStream {
    /// Table 2-34 stream_type.
    pub stream_type: u8,
    /// The PID carrying it.
    pub pid: u16,
}

/// A built section: bytes plus length, on the stack.
pub(crate) struct Section {
    buf: [u8; MAX_SECTION],
    len: usize,
}

impl Section {
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Writes the common long-form header (2.4.4.3 / 2.4.4.8): table_id,
/// section_syntax_indicator=1, section_length, the 16-bit id, version,
/// current_next_indicator=1, section_number=0, last_section_number=0.
/// `body_len` is the number of bytes after this header, excluding the CRC.
fn header(buf: &mut [u8; MAX_SECTION], table_id: u8, id: u16, version: u8, body_len: usize) {
    // section_length counts from after itself: 5 header bytes + body + CRC.
    let section_length = (5 + body_len + 4) as u16;
    buf[0] = table_id;
    buf[1] = 0xB0 | ((section_length >> 8) as u8 & 0x0F);
    buf[2] = section_length as u8;
    buf[3..5].copy_from_slice(&id.to_be_bytes());
    buf[5] = 0xC1 | ((version & 0x1F) << 1);
    buf[6] = 0;
    buf[7] = 0;
}

fn finish(mut buf: [u8; MAX_SECTION], len_before_crc: usize) -> Section {
    let crc = crc32_mpeg2(&buf[..len_before_crc]);
    buf[len_before_crc..len_before_crc + 4].copy_from_slice(&crc.to_be_bytes());
    Section {
        buf,
        len: len_before_crc + 4,
    }
}

/// The program association table: program 1 lives at `pmt_pid`.
pub(crate) fn pat(pmt_pid: u16) -> Section {
    let mut buf = [0u8; MAX_SECTION];
    header(&mut buf, 0x00, TRANSPORT_STREAM_ID, 0, 4);
    buf[8..10].copy_from_slice(&PROGRAM_NUMBER.to_be_bytes());
    buf[10..12].copy_from_slice(&(0xE000 | (pmt_pid & 0x1FFF)).to_be_bytes());
    finish(buf, 12)
}

/// The program map table for program 1. At most two streams are listed
/// (more are ignored; the muxer never has more).
pub(crate) fn pmt(version: u8, pcr_pid: u16, streams: &[PmtStream]) -> Section {
    let streams = streams.get(..streams.len().min(2)).unwrap_or_default();
    let mut buf = [0u8; MAX_SECTION];
    header(
        &mut buf,
        0x02,
        PROGRAM_NUMBER,
        version,
        4 + 5 * streams.len(),
    );
    buf[8..10].copy_from_slice(&(0xE000 | (pcr_pid & 0x1FFF)).to_be_bytes());
    // reserved(4) + program_info_length(12) = 0: no program descriptors.
    buf[10..12].copy_from_slice(&0xF000u16.to_be_bytes());
    let mut at = 12;
    for s in streams {
        buf[at] = s.stream_type;
        buf[at + 1..at + 3].copy_from_slice(&(0xE000 | (s.pid & 0x1FFF)).to_be_bytes());
        // reserved(4) + ES_info_length(12) = 0: no stream descriptors.
        buf[at + 3..at + 5].copy_from_slice(&0xF000u16.to_be_bytes());
        at += 5;
    }
    finish(buf, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pat_layout() {
        let s = pat(0x1000);
        assert_eq!(
            s.bytes(),
            &[
                0x00, 0xB0, 0x0D, 0x00, 0x01, 0xC1, 0x00, 0x00, 0x00, 0x01, 0xF0, 0x00, 0x2A, 0xB1,
                0x04, 0xB2
            ][..]
        );
        assert_eq!(crc32_mpeg2(s.bytes()), 0);
    }

    #[test]
    fn pmt_layout() {
        let s = pmt(
            3,
            0x100,
            &[
                PmtStream {
                    stream_type: 0x1B,
                    pid: 0x100,
                },
                PmtStream {
                    stream_type: 0x0F,
                    pid: 0x101,
                },
            ],
        );
        let b = s.bytes();
        assert_eq!(b.len(), 12 + 10 + 4);
        assert_eq!(b[0], 0x02);
        // section_length = total - 3
        assert_eq!(
            usize::from(u16::from_be_bytes([b[1] & 0x0F, b[2]])),
            b.len() - 3
        );
        assert_eq!((b[5] >> 1) & 0x1F, 3, "version");
        assert_eq!(u16::from_be_bytes([b[8], b[9]]) & 0x1FFF, 0x100, "PCR PID");
        assert_eq!(&b[12..17], &[0x1B, 0xE1, 0x00, 0xF0, 0x00]);
        assert_eq!(&b[17..22], &[0x0F, 0xE1, 0x01, 0xF0, 0x00]);
        assert_eq!(crc32_mpeg2(b), 0);
    }
}
