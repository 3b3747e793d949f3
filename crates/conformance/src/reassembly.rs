//! TCP stream reassembly: captured segments back into each direction's byte
//! stream, by sequence number (RFC 9293 3.4), with the time each byte became
//! readable.
//!
//! Retransmitted and overlapping segments contribute each byte once (the
//! earliest-starting segment covering it wins); a byte is readable no earlier
//! than the bytes before it (TCP delivers in order), so a hole filled by a
//! late retransmission delays everything after it. A hole never filled ends
//! the stream there and is reported: a capture that lost packets can be
//! replayed up to the loss, never past it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::packet::TcpSegment;

/// A reassembled stream is cut at this many bytes: a capture is replayed into
/// memory, and RTMP sessions worth replaying are far smaller.
pub const MAX_STREAM_BYTES: u64 = 256 << 20;

/// Segments further than this before the stream's first byte are taken as
/// belonging to an earlier connection (or a wrapped sequence space) and dropped.
const MAX_BACKWARD: u32 = 1 << 30;

/// Bytes of one direction that became readable at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedWrite {
    /// Capture time, relative to the capture's first packet.
    pub at: Duration,
    /// The bytes.
    pub data: Bytes,
}

/// How one direction of a connection ended in the capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectionEnd {
    /// Capture time of the sender's FIN.
    pub fin: Option<Duration>,
    /// Capture time of the sender's RST.
    pub rst: Option<Duration>,
}

/// One direction's segments as captured.
#[derive(Debug, Default)]
struct Direction {
    /// Sequence number of the first payload byte (ISN + 1 once a SYN was seen).
    base: Option<u32>,
    syn_seen: bool,
    /// (offset from base, arrival order) -> (capture time, payload).
    segments: BTreeMap<(u64, usize), (Duration, Bytes)>,
    end: DirectionEnd,
    arrivals: usize,
}

impl Direction {
    fn add(&mut self, at: Duration, seg: &TcpSegment<'_>) {
        if seg.flags.syn && !self.syn_seen {
            self.syn_seen = true;
            self.base = Some(seg.seq.wrapping_add(1));
        }
        if seg.flags.fin && self.end.fin.is_none() {
            self.end.fin = Some(at);
        }
        if seg.flags.rst && self.end.rst.is_none() {
            self.end.rst = Some(at);
        }
        if seg.payload.is_empty() {
            return;
        }
        // Without a SYN, the first data segment seen marks the start.
        let mut seq = seg.seq;
        if seg.flags.syn {
            seq = seq.wrapping_add(1);
        }
        let base = *self.base.get_or_insert(seq);
        let offset = seq.wrapping_sub(base);
        if offset > u32::MAX - MAX_BACKWARD {
            // Before the stream's start: a retransmission of data from before
            // the capture began. What lies at or after the start is kept.
            let behind = base.wrapping_sub(seq) as usize;
            let Some(rest) = seg.payload.get(behind..) else {
                return;
            };
            if !rest.is_empty() {
                self.insert(0, at, rest);
            }
            return;
        }
        self.insert(u64::from(offset), at, seg.payload);
    }

    fn insert(&mut self, offset: u64, at: Duration, payload: &[u8]) {
        if offset >= MAX_STREAM_BYTES {
            return;
        }
        self.arrivals = self.arrivals.saturating_add(1);
        self.segments.insert(
            (offset, self.arrivals),
            (at, Bytes::copy_from_slice(payload)),
        );
    }

    /// The in-order stream as timed writes, and the offset of the first hole.
    fn assemble(&self) -> (Vec<TimedWrite>, Option<u64>) {
        let mut writes = Vec::new();
        let mut next = 0u64;
        let mut last_at = Duration::ZERO;
        for (&(offset, _), (at, data)) in &self.segments {
            let end = offset.saturating_add(data.len() as u64);
            if end <= next {
                continue;
            }
            if offset > next {
                return (writes, Some(next));
            }
            let skip = usize::try_from(next - offset).unwrap_or(usize::MAX);
            let Some(new) = data.get(skip..) else {
                continue;
            };
            let new_len = (MAX_STREAM_BYTES.saturating_sub(next)).min(new.len() as u64);
            let new = data.slice(skip..skip + new_len as usize);
            last_at = last_at.max(*at);
            next = next.saturating_add(new.len() as u64);
            writes.push(TimedWrite {
                at: last_at,
                data: new,
            });
        }
        (writes, None)
    }
}

/// One TCP connection as captured, before it is known which side is the client.
#[derive(Debug)]
struct Connection {
    /// The endpoint that sent the first SYN (without ACK), when seen.
    initiator: Option<SocketAddr>,
    /// The endpoint whose payload came first.
    first_talker: Option<SocketAddr>,
    a: SocketAddr,
    b: SocketAddr,
    from_a: Direction,
    from_b: Direction,
    first_at: Duration,
    last_at: Duration,
}

/// A reassembled connection.
#[derive(Debug, Clone)]
pub struct TcpStream {
    /// The connecting side (SYN sender; else whoever spoke first).
    pub client: SocketAddr,
    /// The listening side.
    pub server: SocketAddr,
    /// What the client sent, as it became readable.
    pub client_writes: Vec<TimedWrite>,
    /// What the server sent.
    pub server_writes: Vec<TimedWrite>,
    /// Offset of the first hole in the client's stream (bytes after it are lost).
    pub client_gap: Option<u64>,
    /// How the client's direction ended.
    pub client_end: DirectionEnd,
    /// How the server's direction ended.
    pub server_end: DirectionEnd,
    /// Capture time of the connection's first packet.
    pub first_at: Duration,
    /// Capture time of its last packet.
    pub last_at: Duration,
}

/// Collects segments of any number of connections, in capture order.
#[derive(Debug, Default)]
pub struct Reassembler {
    connections: Vec<Connection>,
    /// Unordered endpoint pair -> index of the newest connection using it.
    by_pair: BTreeMap<(SocketAddr, SocketAddr), usize>,
}

fn pair(x: SocketAddr, y: SocketAddr) -> (SocketAddr, SocketAddr) {
    if x <= y {
        (x, y)
    } else {
        (y, x)
    }
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one segment captured at `at`.
    pub fn add(&mut self, at: Duration, seg: &TcpSegment<'_>) {
        let key = pair(seg.src, seg.dst);
        let opening = seg.flags.syn && !seg.flags.ack;
        let index = match self.by_pair.get(&key) {
            // A fresh SYN on a pair that already carried data is a new connection.
            Some(&i) if !(opening && self.connections.get(i).is_some_and(has_data)) => i,
            _ => {
                self.connections.push(Connection {
                    initiator: None,
                    first_talker: None,
                    a: seg.src,
                    b: seg.dst,
                    from_a: Direction::default(),
                    from_b: Direction::default(),
                    first_at: at,
                    last_at: at,
                });
                let i = self.connections.len() - 1;
                self.by_pair.insert(key, i);
                i
            }
        };
        let Some(c) = self.connections.get_mut(index) else {
            return;
        };
        if opening && c.initiator.is_none() {
            c.initiator = Some(seg.src);
        }
        if !seg.payload.is_empty() && c.first_talker.is_none() {
            c.first_talker = Some(seg.src);
        }
        c.last_at = c.last_at.max(at);
        if seg.src == c.a {
            c.from_a.add(at, seg);
        } else {
            c.from_b.add(at, seg);
        }
    }

    /// The connections, in the order they started.
    pub fn finish(self) -> Vec<TcpStream> {
        self.connections
            .into_iter()
            .map(|c| {
                let client = c.initiator.or(c.first_talker).unwrap_or(c.a);
                let (from_client, from_server, server) = if client == c.a {
                    (&c.from_a, &c.from_b, c.b)
                } else {
                    (&c.from_b, &c.from_a, c.a)
                };
                let (client_writes, client_gap) = from_client.assemble();
                let (server_writes, _) = from_server.assemble();
                TcpStream {
                    client,
                    server,
                    client_writes,
                    server_writes,
                    client_gap,
                    client_end: from_client.end,
                    server_end: from_server.end,
                    first_at: c.first_at,
                    last_at: c.last_at,
                }
            })
            .collect()
    }
}

fn has_data(c: &Connection) -> bool {
    !c.from_a.segments.is_empty() || !c.from_b.segments.is_empty()
}

/// Concatenates timed writes into one buffer.
pub fn concat(writes: &[TimedWrite]) -> Bytes {
    let mut out = BytesMut::new();
    for w in writes {
        out.extend_from_slice(&w.data);
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::TcpFlags;

    const C: &str = "10.0.0.1:5000";
    const S: &str = "10.0.0.2:1935";

    fn seg<'a>(
        from: &str,
        to: &str,
        seq: u32,
        flags: TcpFlags,
        payload: &'a [u8],
    ) -> TcpSegment<'a> {
        TcpSegment {
            src: from.parse().unwrap(),
            dst: to.parse().unwrap(),
            seq,
            flags,
            payload,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    const SYN: TcpFlags = TcpFlags {
        syn: true,
        ack: false,
        fin: false,
        rst: false,
    };
    const SYNACK: TcpFlags = TcpFlags {
        syn: true,
        ack: true,
        fin: false,
        rst: false,
    };
    const ACK: TcpFlags = TcpFlags {
        syn: false,
        ack: true,
        fin: false,
        rst: false,
    };
    const FIN: TcpFlags = TcpFlags {
        syn: false,
        ack: true,
        fin: true,
        rst: false,
    };

    #[test]
    fn out_of_order_and_retransmitted_segments_reassemble_in_order() {
        let mut r = Reassembler::new();
        // The sequence space wraps inside the stream.
        let isn = u32::MAX - 3;
        r.add(ms(0), &seg(C, S, isn, SYN, b""));
        r.add(ms(1), &seg(S, C, 77, SYNACK, b""));
        r.add(ms(2), &seg(C, S, isn.wrapping_add(1), ACK, b"abc"));
        r.add(ms(3), &seg(C, S, isn.wrapping_add(7), ACK, b"ghi"));
        r.add(ms(4), &seg(C, S, isn.wrapping_add(1), ACK, b"abc")); // retransmission
        r.add(ms(5), &seg(C, S, isn.wrapping_add(3), ACK, b"cdef")); // overlap, fills the hole
        r.add(ms(6), &seg(S, C, 78, ACK, b"reply"));
        r.add(ms(7), &seg(C, S, isn.wrapping_add(10), FIN, b""));
        let streams = r.finish();
        assert_eq!(streams.len(), 1);
        let s = &streams[0];
        assert_eq!(s.client, C.parse().unwrap());
        assert_eq!(concat(&s.client_writes), Bytes::from_static(b"abcdefghi"));
        assert_eq!(s.client_gap, None);
        // "def" arrived at 5 ms; "ghi" was held until then.
        let times: Vec<_> = s.client_writes.iter().map(|w| w.at).collect();
        assert_eq!(times, vec![ms(2), ms(5), ms(5)]);
        assert_eq!(concat(&s.server_writes), Bytes::from_static(b"reply"));
        assert_eq!(s.client_end.fin, Some(ms(7)));
        assert_eq!(s.last_at, ms(7));
    }

    #[test]
    fn a_hole_ends_the_stream_and_is_reported() {
        let mut r = Reassembler::new();
        r.add(ms(0), &seg(C, S, 100, ACK, b"0123"));
        r.add(ms(1), &seg(C, S, 110, ACK, b"abcd"));
        let s = &r.finish()[0];
        // No SYN: the first talker is the client.
        assert_eq!(s.client, C.parse().unwrap());
        assert_eq!(concat(&s.client_writes), Bytes::from_static(b"0123"));
        assert_eq!(s.client_gap, Some(4));
    }

    #[test]
    fn a_new_syn_on_a_used_pair_is_a_new_connection() {
        let mut r = Reassembler::new();
        r.add(ms(0), &seg(C, S, 1, SYN, b""));
        r.add(ms(1), &seg(C, S, 2, ACK, b"one"));
        r.add(ms(2), &seg(C, S, 900, SYN, b""));
        r.add(ms(3), &seg(C, S, 901, ACK, b"two"));
        let streams = r.finish();
        assert_eq!(streams.len(), 2);
        assert_eq!(
            concat(&streams[1].client_writes),
            Bytes::from_static(b"two")
        );
        // Data from before the start of the stream is dropped.
        let mut r = Reassembler::new();
        r.add(ms(0), &seg(C, S, 50, ACK, b"xyz"));
        r.add(ms(1), &seg(C, S, 48, ACK, b"abxyz!"));
        assert_eq!(
            concat(&r.finish()[0].client_writes),
            Bytes::from_static(b"xyz!")
        );
    }
}
