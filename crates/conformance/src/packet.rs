//! One captured frame down to its TCP segment: link layer, VLAN tags, IPv4 or
//! IPv6, and GTP-U tunnels (mobile-network captures such as nDPI's), all read
//! through the bounds-checked [`Reader`].
//!
//! References: IEEE 802.3 / 802.1Q (VLAN tags, TPIDs 0x8100, 0x88a8, 0x9100),
//! RFC 791 (IPv4), RFC 8200 (IPv6), RFC 9293 3.1 (TCP header), RFC 768 (UDP),
//! 3GPP TS 29.281 5.1 (GTP-U header and extension headers), and the tcpdump
//! link-type list for the pcap framings (`LINKTYPE_*`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use rtmp_proto::reader::{Reader, Truncated};

/// The UDP port of GTP-U (3GPP TS 29.281 4.4.2.3).
pub const GTP_U_PORT: u16 = 2152;

/// At most this many encapsulation layers (VLAN tags plus tunnels) are
/// unwrapped per frame; a frame nesting deeper is rejected, so a crafted
/// capture cannot make the decoder loop.
pub const MAX_ENCAPSULATION_DEPTH: usize = 8;

/// pcap link types this decoder understands (tcpdump.org/linktypes.html).
pub mod linktype {
    /// BSD loopback: a 4-byte host-order address family, then IP.
    pub const NULL: i32 = 0;
    /// Ethernet II.
    pub const ETHERNET: i32 = 1;
    /// Raw IP (no link header).
    pub const RAW: i32 = 101;
    /// OpenBSD loopback: a 4-byte network-order address family, then IP.
    pub const LOOP: i32 = 108;
    /// Linux "cooked" capture v1 (`tcpdump -i any`).
    pub const LINUX_SLL: i32 = 113;
    /// Raw IPv4.
    pub const IPV4: i32 = 228;
    /// Raw IPv6.
    pub const IPV6: i32 = 229;
    /// Linux "cooked" capture v2.
    pub const LINUX_SLL2: i32 = 276;
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
/// GTP-U message type of a user-plane packet (G-PDU).
const GTP_G_PDU: u8 = 0xff;

/// A frame that claims to be IP/TCP but cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// A header ran past the end of the captured bytes.
    #[error("truncated header: {0}")]
    Truncated(#[from] Truncated),
    /// A length field disagrees with the header it belongs to.
    #[error("bad {0} header")]
    BadHeader(&'static str),
    /// More than [`MAX_ENCAPSULATION_DEPTH`] layers.
    #[error("more than {MAX_ENCAPSULATION_DEPTH} encapsulation layers")]
    TooDeep,
}

/// TCP flags this crate cares about (RFC 9293 3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpFlags {
    /// SYN: opens a connection and carries the initial sequence number.
    pub syn: bool,
    /// ACK.
    pub ack: bool,
    /// FIN: the sender is done sending.
    pub fin: bool,
    /// RST: the connection is aborted.
    pub rst: bool,
}

/// One TCP segment found in a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Sequence number of the first payload byte (of the SYN itself when set).
    pub seq: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Payload, trimmed to the IP length (Ethernet padding removed).
    pub payload: &'a [u8],
}

/// Finds the TCP segment in a frame of `linktype`. `Ok(None)` for frames that
/// carry no TCP (ARP, plain UDP, IP fragments, unknown link types).
pub fn tcp_segment(linktype: i32, frame: &[u8]) -> Result<Option<TcpSegment<'_>>, PacketError> {
    let mut r = Reader::new(frame);
    match linktype {
        linktype::ETHERNET => ethernet(r, 0),
        linktype::RAW | linktype::IPV4 | linktype::IPV6 => ip(r.rest(), 0),
        linktype::NULL | linktype::LOOP => {
            r.skip(4)?;
            ip(r.rest(), 0)
        }
        linktype::LINUX_SLL => {
            r.skip(14)?;
            let ethertype = r.u16()?;
            by_ethertype(ethertype, r.rest(), 0)
        }
        linktype::LINUX_SLL2 => {
            let ethertype = r.u16()?;
            r.skip(18)?;
            by_ethertype(ethertype, r.rest(), 0)
        }
        _ => Ok(None),
    }
}

fn deeper(depth: usize) -> Result<usize, PacketError> {
    let next = depth.saturating_add(1);
    if next > MAX_ENCAPSULATION_DEPTH {
        return Err(PacketError::TooDeep);
    }
    Ok(next)
}

fn ethernet(mut r: Reader<'_>, depth: usize) -> Result<Option<TcpSegment<'_>>, PacketError> {
    r.skip(12)?; // destination and source MAC
    let mut ethertype = r.u16()?;
    let mut depth = depth;
    // 802.1Q / 802.1ad tags: 2 bytes of tag control, then the next ethertype.
    while ETHERTYPE_VLAN.contains(&ethertype) {
        depth = deeper(depth)?;
        r.skip(2)?;
        ethertype = r.u16()?;
    }
    by_ethertype(ethertype, r.rest(), depth)
}

fn by_ethertype(
    ethertype: u16,
    rest: &[u8],
    depth: usize,
) -> Result<Option<TcpSegment<'_>>, PacketError> {
    match ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => ip(rest, depth),
        _ => Ok(None),
    }
}

/// An IPv4 or IPv6 packet, told apart by its version nibble.
fn ip(data: &[u8], depth: usize) -> Result<Option<TcpSegment<'_>>, PacketError> {
    let depth = deeper(depth)?;
    let r = Reader::new(data);
    let Some(first) = r.peek_u8() else {
        return Ok(None);
    };
    match first >> 4 {
        4 => ipv4(r, depth),
        6 => ipv6(r, depth),
        _ => Ok(None),
    }
}

fn ipv4(mut r: Reader<'_>, depth: usize) -> Result<Option<TcpSegment<'_>>, PacketError> {
    let packet = r.rest();
    let version_ihl = r.u8()?;
    let header_len = usize::from(version_ihl & 0x0f) * 4;
    r.skip(1)?; // DSCP/ECN
    let total_len = usize::from(r.u16()?);
    r.skip(2)?; // identification
    let fragment = r.u16()?;
    r.skip(1)?; // TTL
    let protocol = r.u8()?;
    r.skip(2)?; // checksum
    let src = Ipv4Addr::from(r.u32()?);
    let dst = Ipv4Addr::from(r.u32()?);
    if header_len < 20 || total_len < header_len {
        return Err(PacketError::BadHeader("IPv4"));
    }
    // A fragment (More Fragments set, or a non-zero offset) is not a whole segment.
    if fragment & 0x3fff != 0 {
        return Ok(None);
    }
    // Trim Ethernet padding; a snap length may have cut the packet short.
    let packet = packet.get(..total_len).unwrap_or(packet);
    let payload = packet
        .get(header_len..)
        .ok_or(PacketError::BadHeader("IPv4"))?;
    transport(protocol, IpAddr::V4(src), IpAddr::V4(dst), payload, depth)
}

fn ipv6(mut r: Reader<'_>, depth: usize) -> Result<Option<TcpSegment<'_>>, PacketError> {
    r.skip(4)?; // version, traffic class, flow label
    let payload_len = usize::from(r.u16()?);
    let next_header = r.u8()?;
    r.skip(1)?; // hop limit
    let mut src = [0u8; 16];
    src.copy_from_slice(r.take(16)?);
    let mut dst = [0u8; 16];
    dst.copy_from_slice(r.take(16)?);
    let rest = r.rest();
    let payload = rest.get(..payload_len).unwrap_or(rest);
    // Extension headers are not followed: RTMP captures do not carry them.
    transport(
        next_header,
        IpAddr::V6(Ipv6Addr::from(src)),
        IpAddr::V6(Ipv6Addr::from(dst)),
        payload,
        depth,
    )
}

fn transport(
    protocol: u8,
    src: IpAddr,
    dst: IpAddr,
    payload: &[u8],
    depth: usize,
) -> Result<Option<TcpSegment<'_>>, PacketError> {
    match protocol {
        PROTO_TCP => tcp(src, dst, payload).map(Some),
        PROTO_UDP => udp(payload, depth),
        _ => Ok(None),
    }
}

fn tcp(src: IpAddr, dst: IpAddr, segment: &[u8]) -> Result<TcpSegment<'_>, PacketError> {
    let mut r = Reader::new(segment);
    let src_port = r.u16()?;
    let dst_port = r.u16()?;
    let seq = r.u32()?;
    r.skip(4)?; // acknowledgement number
    let offset_byte = r.u8()?;
    let flag_byte = r.u8()?;
    let header_len = usize::from(offset_byte >> 4) * 4;
    if header_len < 20 {
        return Err(PacketError::BadHeader("TCP"));
    }
    let payload = segment
        .get(header_len..)
        .ok_or(PacketError::BadHeader("TCP"))?;
    Ok(TcpSegment {
        src: SocketAddr::new(src, src_port),
        dst: SocketAddr::new(dst, dst_port),
        seq,
        flags: TcpFlags {
            fin: flag_byte & 0x01 != 0,
            syn: flag_byte & 0x02 != 0,
            rst: flag_byte & 0x04 != 0,
            ack: flag_byte & 0x10 != 0,
        },
        payload,
    })
}

fn udp(datagram: &[u8], depth: usize) -> Result<Option<TcpSegment<'_>>, PacketError> {
    let mut r = Reader::new(datagram);
    let src_port = r.u16()?;
    let dst_port = r.u16()?;
    let len = usize::from(r.u16()?);
    r.skip(2)?; // checksum
    if len < 8 {
        return Err(PacketError::BadHeader("UDP"));
    }
    if src_port != GTP_U_PORT && dst_port != GTP_U_PORT {
        return Ok(None);
    }
    let body = r.rest();
    let body = body.get(..len.saturating_sub(8)).unwrap_or(body);
    gtp_u(body, depth)
}

/// GTPv1-U (3GPP TS 29.281 5.1): flags, type, length, TEID; then, when any of
/// the E/S/PN flags is set, sequence number, N-PDU number and a chain of
/// extension headers (each `4 * n` bytes, its last byte naming the next type).
fn gtp_u(data: &[u8], depth: usize) -> Result<Option<TcpSegment<'_>>, PacketError> {
    let mut r = Reader::new(data);
    let flags = r.u8()?;
    let message_type = r.u8()?;
    let length = usize::from(r.u16()?);
    r.skip(4)?; // TEID
    if flags >> 5 != 1 || message_type != GTP_G_PDU {
        // GTP' or signalling (echo, error indication): no user packet inside.
        return Ok(None);
    }
    let body = r.rest();
    let body = body.get(..length).unwrap_or(body);
    let mut r = Reader::new(body);
    if flags & 0x07 != 0 {
        r.skip(3)?; // sequence number, N-PDU number
        let mut next = r.u8()?;
        let mut hops = 0usize;
        while next != 0 {
            hops = hops.saturating_add(1);
            if hops > MAX_ENCAPSULATION_DEPTH {
                return Err(PacketError::TooDeep);
            }
            let units = usize::from(r.u8()?);
            if units == 0 {
                return Err(PacketError::BadHeader("GTP-U extension"));
            }
            // The length byte counts 4-byte units including itself and the next-type byte.
            r.skip(units * 4 - 2)?;
            next = r.u8()?;
        }
    }
    ip(r.rest(), depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_tcp(payload: &[u8], flags: u8) -> Vec<u8> {
        let total = 20 + 20 + payload.len();
        let mut p = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            6,
            0,
            0,
        ];
        p.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        p.extend_from_slice(&[0x04, 0xd2, 0x07, 0x8f]); // 1234 -> 1935
        p.extend_from_slice(&1000u32.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        p
    }

    fn ethernet(ethertypes: &[u16], inner: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        for (i, t) in ethertypes.iter().enumerate() {
            f.extend_from_slice(&t.to_be_bytes());
            if i + 1 < ethertypes.len() {
                f.extend_from_slice(&[0x00, 0x64]); // VLAN TCI
            }
        }
        f.extend_from_slice(inner);
        f
    }

    #[test]
    fn plain_ethernet_ipv4_tcp_with_padding() {
        let mut frame = ethernet(&[0x0800], &ipv4_tcp(b"hi", 0x18));
        frame.extend_from_slice(&[0, 0, 0, 0]); // Ethernet padding
        let seg = tcp_segment(linktype::ETHERNET, &frame).unwrap().unwrap();
        assert_eq!(seg.src, "10.0.0.1:1234".parse().unwrap());
        assert_eq!(seg.dst, "10.0.0.2:1935".parse().unwrap());
        assert_eq!(seg.seq, 1000);
        assert_eq!(seg.payload, b"hi");
        assert!(seg.flags.ack && !seg.flags.syn);
    }

    #[test]
    fn double_vlan_and_gtp_u_with_extension_header() {
        let inner = ipv4_tcp(b"rtmp", 0x02);
        // GTP-U: version 1, PT, E flag; G-PDU; then seq/N-PDU/next=0x85 and one
        // 4-byte extension header (PDU session container) ending the chain.
        let mut gtp = vec![0x34, 0xff];
        let body_len = 4 + 4 + inner.len();
        gtp.extend_from_slice(&(body_len as u16).to_be_bytes());
        gtp.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0x10, 0x01, 0]);
        gtp.extend_from_slice(&inner);
        let udp_len = 8 + gtp.len();
        let mut udp = vec![0x08, 0x68, 0x08, 0x68];
        udp.extend_from_slice(&(udp_len as u16).to_be_bytes());
        udp.extend_from_slice(&[0, 0]);
        udp.extend_from_slice(&gtp);
        let total = 20 + udp.len();
        let mut outer = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0,
            0,
            64,
            17,
            0,
            0,
        ];
        outer.extend_from_slice(&[192, 168, 0, 1, 192, 168, 0, 2]);
        outer.extend_from_slice(&udp);
        let frame = ethernet(&[0x8100, 0x8100, 0x0800], &outer);
        let seg = tcp_segment(linktype::ETHERNET, &frame).unwrap().unwrap();
        assert_eq!(seg.payload, b"rtmp");
        assert!(seg.flags.syn);
        assert_eq!(seg.src.ip(), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    }

    #[test]
    fn truncation_and_nonsense_are_errors_not_panics() {
        let frame = ethernet(&[0x0800], &ipv4_tcp(b"hello", 0x18));
        for cut in 0..frame.len() {
            let _ = tcp_segment(linktype::ETHERNET, &frame[..cut]);
        }
        let mut bad = frame.clone();
        bad[14] = 0x41; // IHL 1
        assert_eq!(
            tcp_segment(linktype::ETHERNET, &bad),
            Err(PacketError::BadHeader("IPv4"))
        );
        let vlans = ethernet(&[0x8100; 12], &[]);
        assert_eq!(
            tcp_segment(linktype::ETHERNET, &vlans),
            Err(PacketError::TooDeep)
        );
        assert_eq!(tcp_segment(9999, &frame), Ok(None));
    }

    #[test]
    fn ipv6_and_cooked_framings() {
        let tcp_part = &ipv4_tcp(b"x", 0x18)[20..];
        let mut v6 = vec![0x60, 0, 0, 0, 0, tcp_part.len() as u8, 6, 64];
        v6.extend_from_slice(&[0; 15]);
        v6.push(1);
        v6.extend_from_slice(&[0; 15]);
        v6.push(1);
        v6.extend_from_slice(tcp_part);
        let seg = tcp_segment(linktype::RAW, &v6).unwrap().unwrap();
        assert_eq!(seg.src, "[::1]:1234".parse().unwrap());
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&0x0800u16.to_be_bytes());
        sll.extend_from_slice(&ipv4_tcp(b"y", 0x18));
        let seg = tcp_segment(linktype::LINUX_SLL, &sll).unwrap().unwrap();
        assert_eq!(seg.payload, b"y");
    }
}
