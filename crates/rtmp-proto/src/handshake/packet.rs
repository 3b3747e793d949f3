//! Collects one fixed-size handshake packet from input split anywhere.

use super::HANDSHAKE_SIZE;

/// A C1/S1/C2/S2 being received: bytes so far, up to [`HANDSHAKE_SIZE`].
#[derive(Debug, Clone)]
pub(super) struct PacketBuf {
    buf: [u8; HANDSHAKE_SIZE],
    len: usize,
}

impl PacketBuf {
    pub(super) fn new() -> Self {
        Self {
            buf: [0; HANDSHAKE_SIZE],
            len: 0,
        }
    }

    /// Takes as many bytes of `data` as the packet still needs; returns how many.
    pub(super) fn fill(&mut self, data: &[u8]) -> usize {
        let dst = self.buf.get_mut(self.len..).unwrap_or_default();
        let n = dst.len().min(data.len());
        if let (Some(dst), Some(src)) = (dst.get_mut(..n), data.get(..n)) {
            dst.copy_from_slice(src);
            self.len = self.len.saturating_add(n);
        }
        n
    }

    /// The packet once all of it has arrived.
    pub(super) fn complete(&self) -> Option<&[u8; HANDSHAKE_SIZE]> {
        (self.len == HANDSHAKE_SIZE).then_some(&self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_across_calls_and_stops_at_the_packet_end() {
        let mut p = PacketBuf::new();
        assert_eq!(p.fill(&[1; 1000]), 1000);
        assert!(p.complete().is_none());
        assert_eq!(p.fill(&[]), 0);
        assert_eq!(p.fill(&[2; 1000]), 536);
        let full = p.complete().unwrap();
        assert_eq!(full[999], 1);
        assert_eq!(full[1000], 2);
        assert_eq!(p.fill(&[3; 10]), 0);
    }
}
