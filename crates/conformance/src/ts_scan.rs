//! A minimal MPEG-TS reader: which elementary streams a segment carries and
//! their PTS/DTS ranges, so a transcript can show that timestamps run forward
//! (ISO/IEC 13818-1 2.4.3.2 transport packet, 2.4.3.5 adaptation field,
//! 2.4.3.7 PES header).
//!
//! Only PES packets that start in a transport packet (payload unit start
//! indicator set) are looked at; PSI is counted, not parsed.

use std::collections::BTreeMap;

use rtmp_proto::reader::{Reader, Truncated};

/// Transport packet size (ISO 13818-1 2.4.3.1).
pub const TS_PACKET: usize = 188;
const SYNC: u8 = 0x47;
/// PTS/DTS are 33-bit counters of a 90 kHz clock (2.4.3.7).
pub const PTS_MODULUS: u64 = 1 << 33;

/// Why a segment could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsScanError {
    /// The length is not a whole number of packets.
    #[error("{0} bytes is not a multiple of 188")]
    Length(usize),
    /// A packet lacks the 0x47 sync byte.
    #[error("packet {0} has no sync byte")]
    Sync(usize),
    /// A header ran past its packet.
    #[error("packet {index}: {source}")]
    Truncated {
        /// Packet index.
        index: usize,
        /// What was cut.
        source: Truncated,
    },
}

/// One elementary stream (one PID carrying PES).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PesStream {
    /// PES stream id (0xE0 video, 0xC0 audio...).
    pub stream_id: u8,
    /// PES packets started.
    pub packets: u64,
    /// First PTS (90 kHz).
    pub first_pts: Option<u64>,
    /// Last PTS.
    pub last_pts: Option<u64>,
    /// First DTS (the PTS when no DTS is sent).
    pub first_dts: Option<u64>,
    /// Last DTS.
    pub last_dts: Option<u64>,
    /// Times the DTS went backwards, comparing modulo 2^33 (a counter wrap is
    /// forward).
    pub dts_backwards: u64,
}

/// What a segment holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TsSummary {
    /// Transport packets.
    pub packets: usize,
    /// Packets on PID 0 (PAT) and on PIDs with no PES (PMT, SDT...).
    pub psi_packets: usize,
    /// PES streams by PID.
    pub streams: BTreeMap<u16, PesStream>,
}

/// True when `b` comes after `a` on the 33-bit clock, allowing one wrap.
pub fn pts_after(a: u64, b: u64) -> bool {
    let diff = b.wrapping_sub(a) % PTS_MODULUS;
    diff < PTS_MODULUS / 2
}

fn timestamp(r: &mut Reader<'_>) -> Result<u64, Truncated> {
    let b = r.take(5)?;
    let byte = |i: usize| u64::from(b.get(i).copied().unwrap_or(0));
    Ok(((byte(0) >> 1) & 0x07) << 30
        | byte(1) << 22
        | (byte(2) >> 1) << 15
        | byte(3) << 7
        | byte(4) >> 1)
}

/// Reads a segment.
pub fn scan(data: &[u8]) -> Result<TsSummary, TsScanError> {
    if !data.chunks_exact(TS_PACKET).remainder().is_empty() {
        return Err(TsScanError::Length(data.len()));
    }
    let mut summary = TsSummary::default();
    for (index, packet) in data.chunks_exact(TS_PACKET).enumerate() {
        summary.packets += 1;
        packet_into(packet, &mut summary).map_err(|e| match e {
            PacketIssue::Sync => TsScanError::Sync(index),
            PacketIssue::Truncated(source) => TsScanError::Truncated { index, source },
        })?;
    }
    Ok(summary)
}

enum PacketIssue {
    Sync,
    Truncated(Truncated),
}

impl From<Truncated> for PacketIssue {
    fn from(t: Truncated) -> Self {
        Self::Truncated(t)
    }
}

fn packet_into(packet: &[u8], summary: &mut TsSummary) -> Result<(), PacketIssue> {
    let mut r = Reader::new(packet);
    if r.u8()? != SYNC {
        return Err(PacketIssue::Sync);
    }
    let pid_hi = r.u8()?;
    let pid_lo = r.u8()?;
    let control = r.u8()?;
    let pusi = pid_hi & 0x40 != 0;
    let pid = u16::from(pid_hi & 0x1f) << 8 | u16::from(pid_lo);
    let adaptation = control & 0x20 != 0;
    let payload = control & 0x10 != 0;
    if adaptation {
        let len = usize::from(r.u8()?);
        r.skip(len)?;
    }
    if !payload || !pusi {
        if !summary.streams.contains_key(&pid) && pusi {
            summary.psi_packets += 1;
        }
        return Ok(());
    }
    if r.rest().get(..3) != Some(&[0, 0, 1][..]) {
        summary.psi_packets += 1;
        return Ok(());
    }
    r.skip(3)?;
    let stream_id = r.u8()?;
    r.skip(2)?; // PES packet length
    r.skip(1)?; // '10', scrambling, priority, alignment, copyright, original
    let flags = r.u8()?;
    let header_len = usize::from(r.u8()?);
    let mut header = Reader::new(r.take(header_len)?);
    let stream = summary.streams.entry(pid).or_default();
    stream.stream_id = stream_id;
    stream.packets += 1;
    let (pts, dts) = match flags >> 6 {
        0b10 => {
            let pts = timestamp(&mut header)?;
            (Some(pts), Some(pts))
        }
        0b11 => {
            let pts = timestamp(&mut header)?;
            (Some(pts), Some(timestamp(&mut header)?))
        }
        _ => (None, None),
    };
    if let Some(pts) = pts {
        stream.first_pts.get_or_insert(pts);
        stream.last_pts = Some(pts);
    }
    if let Some(dts) = dts {
        if stream
            .last_dts
            .is_some_and(|last| last != dts && !pts_after(last, dts))
        {
            stream.dts_backwards += 1;
        }
        stream.first_dts.get_or_insert(dts);
        stream.last_dts = Some(dts);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts_bytes(v: u64, marker: u8) -> [u8; 5] {
        [
            marker << 4 | ((v >> 29) & 0x0e) as u8 | 1,
            (v >> 22) as u8,
            ((v >> 14) & 0xfe) as u8 | 1,
            (v >> 7) as u8,
            ((v << 1) & 0xfe) as u8 | 1,
        ]
    }

    fn pes_packet(pid: u16, pts: u64, dts: Option<u64>) -> Vec<u8> {
        let mut p = vec![SYNC, 0x40 | (pid >> 8) as u8, pid as u8, 0x10];
        p.extend_from_slice(&[0, 0, 1, 0xe0, 0, 0, 0x80]);
        match dts {
            Some(d) => {
                p.extend_from_slice(&[0xc0, 10]);
                p.extend_from_slice(&ts_bytes(pts, 3));
                p.extend_from_slice(&ts_bytes(d, 1));
            }
            None => {
                p.extend_from_slice(&[0x80, 5]);
                p.extend_from_slice(&ts_bytes(pts, 2));
            }
        }
        p.resize(TS_PACKET, 0xff);
        p
    }

    #[test]
    fn reads_pts_dts_and_sees_wraps_as_forward() {
        let near_wrap = PTS_MODULUS - 900;
        let mut data = pes_packet(256, near_wrap, None);
        data.extend(pes_packet(256, 2700, Some(1800))); // wrapped: forward
        data.extend(pes_packet(256, 900, None)); // backwards
        let s = scan(&data).unwrap();
        let v = &s.streams[&256];
        assert_eq!(v.packets, 3);
        assert_eq!(v.first_pts, Some(near_wrap));
        assert_eq!(v.last_dts, Some(900));
        assert_eq!(v.dts_backwards, 1);
        assert!(pts_after(near_wrap, 1800));
        assert!(!pts_after(1800, near_wrap));
    }

    #[test]
    fn rejects_bad_framing() {
        assert_eq!(scan(&[0x47; 100]), Err(TsScanError::Length(100)));
        assert_eq!(scan(&[0u8; 188]), Err(TsScanError::Sync(0)));
        let mut p = vec![SYNC, 0x41, 0, 0x30, 250];
        p.resize(TS_PACKET, 0);
        assert!(matches!(
            scan(&p),
            Err(TsScanError::Truncated { index: 0, .. })
        ));
    }
}
