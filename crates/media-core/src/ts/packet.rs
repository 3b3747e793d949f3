//! Cutting PES packets and PSI sections into 188-byte transport packets
//! (ISO/IEC 13818-1 2.4.3.2 transport packet, 2.4.3.4 adaptation field).

use bytes::{BufMut, Bytes, BytesMut};

use super::frame::EsPayload;

/// Every transport packet is exactly this long (2.4.3.2).
pub const TS_PACKET_SIZE: usize = 188;
/// The first byte of every transport packet.
pub const SYNC_BYTE: u8 = 0x47;
/// Bytes after the 4-byte packet header.
const BODY: usize = TS_PACKET_SIZE - 4;

/// adaptation_field flags (2.4.3.4).
const AF_RANDOM_ACCESS: u8 = 0x40;
const AF_PCR: u8 = 0x10;

/// What the first packet of a PES carries in its adaptation field.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PesStart {
    /// program_clock_reference_base (27 MHz extension is 0), already
    /// wrapped to 33 bits.
    pub pcr: Option<u64>,
    /// random_access_indicator: a decoder can start here.
    pub random_access: bool,
}

/// Walks the header and then each payload piece, copying bytes out.
struct Gather<'a> {
    cur: &'a [u8],
    rest: std::slice::Iter<'a, Bytes>,
    remaining: usize,
}

impl<'a> Gather<'a> {
    fn copy_to(&mut self, out: &mut BytesMut, mut n: usize) {
        while n > 0 {
            if self.cur.is_empty() {
                match self.rest.next() {
                    Some(next) => self.cur = next,
                    None => return,
                }
                continue;
            }
            let k = n.min(self.cur.len());
            let (now, later) = self.cur.split_at(k);
            out.put_slice(now);
            self.cur = later;
            n -= k;
            self.remaining -= k;
        }
    }
}

/// Appends `header` + `payload` as transport packets on `pid`, advancing the
/// continuity counter once per packet (2.4.3.3: it counts packets with
/// payload, and every packet written here has payload). The last packet is
/// padded with adaptation-field stuffing, never with payload bytes.
pub(crate) fn write_pes(
    out: &mut BytesMut,
    pid: u16,
    cc: &mut u8,
    start: PesStart,
    header: &[u8],
    payload: &EsPayload,
) {
    let total = header.len().saturating_add(payload.len());
    out.reserve((total / BODY + 2) * TS_PACKET_SIZE);
    let mut src = Gather {
        cur: header,
        rest: payload.chunks().iter(),
        remaining: total,
    };
    let mut first = true;
    while src.remaining > 0 {
        let mut flags = 0u8;
        let mut pcr = None;
        if first {
            if start.random_access {
                flags |= AF_RANDOM_ACCESS;
            }
            if let Some(p) = start.pcr {
                flags |= AF_PCR;
                pcr = Some(p);
            }
        }
        // Bytes after adaptation_field_length: the flags byte and the PCR.
        let fields = if flags != 0 {
            1 + if pcr.is_some() { 6 } else { 0 }
        } else {
            0
        };
        let af_total = if fields > 0 { 1 + fields } else { 0 };
        let space = BODY - af_total;
        let take = src.remaining.min(space);
        let stuffing = space - take;

        let mut pre = [0u8; 12];
        pre[0] = SYNC_BYTE;
        pre[1] = (if first { 0x40 } else { 0 }) | ((pid >> 8) as u8 & 0x1F);
        pre[2] = pid as u8;
        let mut len = 4;
        let mut fill = 0;
        if af_total > 0 || stuffing > 0 {
            pre[3] = 0x30 | (*cc & 0x0F);
            if fields > 0 {
                pre[4] = (fields + stuffing) as u8;
                pre[5] = flags;
                len = 6;
                if let Some(p) = pcr {
                    pre[6..12].copy_from_slice(&pcr_bytes(p));
                    len = 12;
                }
                fill = stuffing;
            } else if stuffing == 1 {
                // A lone adaptation_field_length of 0 is one byte of padding.
                pre[4] = 0;
                len = 5;
            } else {
                pre[4] = (stuffing - 1) as u8;
                pre[5] = 0;
                len = 6;
                fill = stuffing - 2;
            }
        } else {
            pre[3] = 0x10 | (*cc & 0x0F);
        }
        out.put_slice(&pre[..len]);
        out.put_bytes(0xFF, fill);
        src.copy_to(out, take);
        *cc = (*cc + 1) & 0x0F;
        first = false;
    }
}

/// Appends one PSI section in a single packet: pointer_field 0, the
/// section, then 0xFF filler (2.4.4.1: stuffing after a section).
pub(crate) fn write_section(out: &mut BytesMut, pid: u16, cc: &mut u8, section: &[u8]) {
    let section = section
        .get(..section.len().min(BODY - 1))
        .unwrap_or_default();
    out.reserve(TS_PACKET_SIZE);
    out.put_slice(&[
        SYNC_BYTE,
        0x40 | ((pid >> 8) as u8 & 0x1F),
        pid as u8,
        0x10 | (*cc & 0x0F),
        0,
    ]);
    out.put_slice(section);
    out.put_bytes(0xFF, BODY - 1 - section.len());
    *cc = (*cc + 1) & 0x0F;
}

/// program_clock_reference: 33-bit base, 6 reserved bits, 9-bit extension 0.
fn pcr_bytes(base: u64) -> [u8; 6] {
    [
        (base >> 25) as u8,
        (base >> 17) as u8,
        (base >> 9) as u8,
        (base >> 1) as u8,
        ((base as u8 & 1) << 7) | 0x7E,
        0,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets(out: &[u8]) -> Vec<&[u8]> {
        assert_eq!(out.len() % TS_PACKET_SIZE, 0);
        out.chunks(TS_PACKET_SIZE).collect()
    }

    /// Strips the header and adaptation field of a packet, returning the payload.
    fn payload(p: &[u8]) -> &[u8] {
        let afc = (p[3] >> 4) & 3;
        let start = if afc == 3 { 5 + usize::from(p[4]) } else { 4 };
        &p[start..]
    }

    #[test]
    fn every_size_round_trips_with_stuffing() {
        let header = [9u8; 14];
        for n in 0..600usize {
            let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let mut out = BytesMut::new();
            let mut cc = 15;
            let start = PesStart {
                pcr: Some(12345),
                random_access: n % 2 == 0,
            };
            write_pes(
                &mut out,
                0x100,
                &mut cc,
                start,
                &header,
                &EsPayload::from(data.clone()),
            );
            let pk = packets(&out);
            let mut got = Vec::new();
            for (i, p) in pk.iter().enumerate() {
                assert_eq!(p[0], SYNC_BYTE);
                assert_eq!(p[1] & 0x40 != 0, i == 0, "PUSI only on the first");
                assert_eq!(u16::from_be_bytes([p[1] & 0x1F, p[2]]), 0x100);
                assert_eq!(p[3] & 0x0F, ((15 + i) % 16) as u8);
                got.extend_from_slice(payload(p));
            }
            assert_eq!(&got[..14], &header);
            assert_eq!(&got[14..], &data[..]);
            assert_eq!(cc, ((15 + pk.len()) % 16) as u8);
            // The first packet carries the PCR flag.
            assert_eq!(pk[0][3] & 0x20, 0x20);
            assert_eq!(pk[0][5] & AF_PCR, AF_PCR);
        }
    }

    #[test]
    fn pcr_encoding() {
        let b = pcr_bytes((1 << 33) - 1);
        assert_eq!(b, [0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0x00]);
        let b = pcr_bytes(2);
        assert_eq!(b, [0, 0, 0, 1, 0x7E, 0]);
    }

    #[test]
    fn section_packet() {
        let mut out = BytesMut::new();
        let mut cc = 0;
        write_section(&mut out, 0, &mut cc, &[1, 2, 3]);
        assert_eq!(out.len(), TS_PACKET_SIZE);
        assert_eq!(&out[..8], &[0x47, 0x40, 0, 0x10, 0, 1, 2, 3]);
        assert!(out[8..].iter().all(|&b| b == 0xFF));
        assert_eq!(cc, 1);
    }
}
