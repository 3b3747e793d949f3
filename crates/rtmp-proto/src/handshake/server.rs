//! The server side: reads C0C1, answers S0S1S2, reads C2.

use bytes::Bytes;

use super::digest::{find_digest, public_part, reply_signed, sign_reply, write_digest};
use super::filler::{fill, LABEL_S1, LABEL_S2};
use super::packet::PacketBuf;
use super::{
    HandshakeError, HandshakeKind, DIGEST_LEN, FMS_KEY, FMS_KEY_PUBLIC_LEN, FP_KEY,
    FP_KEY_PUBLIC_LEN, HANDSHAKE_SIZE, RTMP_VERSION,
};

/// The version our complex S1 announces (an FMS-style `major.minor.x.y`;
/// clients only check that it is non-zero).
pub const SERVER_VERSION: u32 = 0x0405_0001;

/// What the server expects C2 to be, decided when S1 was built.
#[derive(Debug, Clone)]
enum ExpectedC2 {
    /// Simple: an echo of S1's random bytes (spec 5.2.4).
    Echo(Box<[u8; HANDSHAKE_SIZE]>),
    /// Complex: signed with a key derived from our S1 digest.
    Signed([u8; DIGEST_LEN]),
}

/// Server side of the handshake (RTMP spec 5.2.5). Feed it what the client
/// sent with [`handle_input`](Self::handle_input); send what
/// [`poll_transmit`](Self::poll_transmit) returns.
///
/// It answers a complex C1 (non-zero version and a valid Flash Player digest,
/// in either scheme) with a complex S1 in the same scheme and a signed S2, and
/// anything else with a simple S1 and an S2 echoing C1. C2 is read but not
/// enforced, since real clients vary; [`c2_validated`](Self::c2_validated)
/// reports whether it was what we expected.
#[derive(Debug, Clone)]
pub struct HandshakeServer {
    epoch: u32,
    seed: [u8; 32],
    c0: Option<u8>,
    c1: PacketBuf,
    c2: PacketBuf,
    transmit: Option<Bytes>,
    kind: Option<HandshakeKind>,
    expected_c2: Option<ExpectedC2>,
    c2_validated: Option<bool>,
    error: Option<HandshakeError>,
}

impl HandshakeServer {
    /// A server that will stamp `epoch` (milliseconds, spec 5.2.3 "Time") in
    /// S1 and derive S1/S2 filler from `seed`.
    pub fn new(epoch: u32, seed: [u8; 32]) -> Self {
        Self {
            epoch,
            seed,
            c0: None,
            c1: PacketBuf::new(),
            c2: PacketBuf::new(),
            transmit: None,
            kind: None,
            expected_c2: None,
            c2_validated: None,
            error: None,
        }
    }

    /// Consumes handshake bytes from the client and returns how many of
    /// `data` were used. Bytes after C2 belong to the chunk stream and are
    /// left for the caller (the return value is then less than `data.len()`);
    /// once [`is_done`](Self::is_done), nothing more is consumed.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<usize, HandshakeError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let mut used = 0;
        if self.c0.is_none() {
            let Some(&c0) = data.first() else {
                return Ok(0);
            };
            if c0 != RTMP_VERSION {
                let e = HandshakeError::UnsupportedVersion(c0);
                self.error = Some(e.clone());
                return Err(e);
            }
            self.c0 = Some(c0);
            used = 1;
        }
        if self.expected_c2.is_none() {
            used += self.c1.fill(data.get(used..).unwrap_or_default());
            let Some(c1) = self.c1.complete() else {
                return Ok(used);
            };
            let c1 = *c1;
            self.answer(&c1);
        }
        if self.c2_validated.is_none() {
            used += self.c2.fill(data.get(used..).unwrap_or_default());
            if let (Some(c2), Some(expected)) = (self.c2.complete(), &self.expected_c2) {
                self.c2_validated = Some(match expected {
                    ExpectedC2::Echo(s1) => echoes(c2, s1),
                    ExpectedC2::Signed(s1_digest) => reply_signed(c2, &FP_KEY, s1_digest),
                });
            }
        }
        Ok(used)
    }

    /// Builds S0S1S2 for `c1` and queues it.
    fn answer(&mut self, c1: &[u8; HANDSHAKE_SIZE]) {
        let version_set = c1.iter().skip(4).take(4).any(|&b| b != 0);
        let client_digest = if version_set {
            find_digest(c1, public_part(&FP_KEY, FP_KEY_PUBLIC_LEN))
        } else {
            None
        };

        let mut s1 = [0u8; HANDSHAKE_SIZE];
        let mut s2 = [0u8; HANDSHAKE_SIZE];
        fill(&self.seed, LABEL_S1, s1.get_mut(8..).unwrap_or_default());
        if let Some(t) = s1.first_chunk_mut::<4>() {
            *t = self.epoch.to_be_bytes();
        }
        match client_digest {
            Some((scheme, c1_digest)) => {
                if let Some(v) = s1.get_mut(4..8) {
                    v.copy_from_slice(&SERVER_VERSION.to_be_bytes());
                }
                let s1_digest =
                    write_digest(&mut s1, scheme, public_part(&FMS_KEY, FMS_KEY_PUBLIC_LEN));
                fill(&self.seed, LABEL_S2, &mut s2);
                sign_reply(&mut s2, &FMS_KEY, &c1_digest);
                self.kind = Some(HandshakeKind::Complex { scheme });
                self.expected_c2 = Some(ExpectedC2::Signed(s1_digest));
            }
            None => {
                // Spec 5.2.4: S2 echoes C1 (time, time2, random).
                s2 = *c1;
                self.kind = Some(HandshakeKind::Simple);
                self.expected_c2 = Some(ExpectedC2::Echo(Box::new(s1)));
            }
        }

        let mut out = Vec::with_capacity(1 + 2 * HANDSHAKE_SIZE);
        out.push(RTMP_VERSION);
        out.extend_from_slice(&s1);
        out.extend_from_slice(&s2);
        self.transmit = Some(Bytes::from(out));
    }

    /// S0+S1+S2 (3073 bytes) once C0C1 has arrived; `None` before and after.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.take()
    }

    /// True once C2 has been received (S0S1S2 may still wait in
    /// [`poll_transmit`](Self::poll_transmit) if the caller has not polled).
    pub fn is_done(&self) -> bool {
        self.c2_validated.is_some()
    }

    /// Which handshake the client used; `None` until C1 has arrived.
    pub fn kind(&self) -> Option<HandshakeKind> {
        self.kind
    }

    /// Whether C2 was what a conforming client sends: a correctly signed C2
    /// (complex) or an echo of S1's random bytes (simple). `None` until C2 has
    /// arrived. Informational only: the handshake succeeds either way.
    pub fn c2_validated(&self) -> Option<bool> {
        self.c2_validated
    }
}

/// Whether `reply` echoes `ours`' random bytes (spec 5.2.4). The two time
/// fields are not compared: "time2" is the peer's own read time, and some
/// peers (ffmpeg) zero "time" too.
pub(super) fn echoes(reply: &[u8; HANDSHAKE_SIZE], ours: &[u8; HANDSHAKE_SIZE]) -> bool {
    reply.get(8..) == ours.get(8..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_byte_is_checked_first_and_the_error_sticks() {
        let mut s = HandshakeServer::new(0, [0; 32]);
        assert_eq!(s.handle_input(&[]), Ok(0));
        assert_eq!(
            s.handle_input(&[6, 0, 0]),
            Err(HandshakeError::UnsupportedVersion(6))
        );
        assert_eq!(
            s.handle_input(&[3]),
            Err(HandshakeError::UnsupportedVersion(6))
        );
        assert!(s.poll_transmit().is_none());
        assert_eq!(s.kind(), None);
    }

    #[test]
    fn simple_c1_gets_simple_answer() {
        let mut s = HandshakeServer::new(0x0102_0304, [5; 32]);
        let mut c0c1 = vec![3u8];
        c0c1.extend((0..HANDSHAKE_SIZE).map(|i| if (4..8).contains(&i) { 0 } else { i as u8 }));
        assert_eq!(s.handle_input(&c0c1), Ok(1 + HANDSHAKE_SIZE));
        assert_eq!(s.kind(), Some(HandshakeKind::Simple));
        let out = s.poll_transmit().unwrap();
        assert!(s.poll_transmit().is_none());
        assert_eq!(out.len(), 1 + 2 * HANDSHAKE_SIZE);
        assert_eq!(out[0], 3);
        assert_eq!(&out[1..5], &[1, 2, 3, 4]);
        assert_eq!(&out[5..9], &[0, 0, 0, 0]);
        assert_eq!(&out[1 + HANDSHAKE_SIZE..], &c0c1[1..]);
        assert!(!s.is_done());
        // A C2 that echoes S1's random bytes but not its time2.
        let mut c2 = out[1..1 + HANDSHAKE_SIZE].to_vec();
        c2[4] ^= 0xff;
        assert_eq!(s.handle_input(&c2), Ok(HANDSHAKE_SIZE));
        assert!(s.is_done());
        assert_eq!(s.c2_validated(), Some(true));
        assert_eq!(s.handle_input(&[1, 2, 3]), Ok(0));
    }

    #[test]
    fn version_without_valid_digest_is_simple() {
        let mut s = HandshakeServer::new(0, [5; 32]);
        let mut c0c1 = vec![0x11u8; 1 + HANDSHAKE_SIZE];
        c0c1[0] = 3;
        s.handle_input(&c0c1).unwrap();
        assert_eq!(s.kind(), Some(HandshakeKind::Simple));
        s.handle_input(&[0; HANDSHAKE_SIZE]).unwrap();
        assert_eq!(s.c2_validated(), Some(false));
    }
}
