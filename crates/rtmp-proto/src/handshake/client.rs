//! The client side: sends C0C1, reads S0S1S2, sends C2.

use std::collections::VecDeque;

use bytes::Bytes;

use super::digest::{find_digest, public_part, reply_signed, sign_reply, write_digest};
use super::filler::{fill, LABEL_C1, LABEL_C2};
use super::packet::PacketBuf;
use super::server::echoes;
use super::{
    DigestScheme, HandshakeError, HandshakeKind, DIGEST_LEN, FMS_KEY, FMS_KEY_PUBLIC_LEN, FP_KEY,
    FP_KEY_PUBLIC_LEN, HANDSHAKE_SIZE, RTMP_VERSION,
};

/// The version a complex C1 announces (Flash Player 10 style). A server takes
/// a non-zero version as the sign of a digest handshake.
pub const CLIENT_VERSION: u32 = 0x8000_0702;

/// Which C1 the client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientMode {
    /// Spec 5.2.3 C1: time, four zero bytes, random.
    Simple,
    /// Flash Player style C1: [`CLIENT_VERSION`] and a digest keyed by the
    /// Flash Player key in [`DigestScheme::Scheme1`]. Needed by servers that
    /// refuse simple handshakes; falls back to an echo C2 if S1 is not signed.
    Complex,
}

/// Client side of the handshake (RTMP spec 5.2.5). C0C1 is ready in
/// [`poll_transmit`](Self::poll_transmit) from the start; C2 follows once
/// S0S1S2 has been fed to [`handle_input`](Self::handle_input).
#[derive(Debug, Clone)]
pub struct HandshakeClient {
    seed: [u8; 32],
    mode: ClientMode,
    c1: Box<[u8; HANDSHAKE_SIZE]>,
    /// Our C1 digest (complex mode), which keys the S2 signature.
    c1_digest: Option<[u8; DIGEST_LEN]>,
    s0: Option<u8>,
    s1: PacketBuf,
    s2: PacketBuf,
    /// The S1 digest if S1 validated, which keys our C2 signature.
    s1_digest: Option<[u8; DIGEST_LEN]>,
    kind: Option<HandshakeKind>,
    s2_validated: Option<bool>,
    transmit: VecDeque<Bytes>,
    error: Option<HandshakeError>,
}

impl HandshakeClient {
    /// A client stamping `epoch` (milliseconds) in C1, deriving filler from
    /// `seed`; C0C1 is queued immediately.
    pub fn new(epoch: u32, seed: [u8; 32], mode: ClientMode) -> Self {
        let mut c1 = Box::new([0u8; HANDSHAKE_SIZE]);
        fill(&seed, LABEL_C1, c1.get_mut(8..).unwrap_or_default());
        if let Some(t) = c1.first_chunk_mut::<4>() {
            *t = epoch.to_be_bytes();
        }
        let c1_digest = match mode {
            ClientMode::Simple => None,
            ClientMode::Complex => {
                if let Some(v) = c1.get_mut(4..8) {
                    v.copy_from_slice(&CLIENT_VERSION.to_be_bytes());
                }
                Some(write_digest(
                    &mut c1,
                    DigestScheme::Scheme1,
                    public_part(&FP_KEY, FP_KEY_PUBLIC_LEN),
                ))
            }
        };
        let mut c0c1 = Vec::with_capacity(1 + HANDSHAKE_SIZE);
        c0c1.push(RTMP_VERSION);
        c0c1.extend_from_slice(&c1[..]);
        Self {
            seed,
            mode,
            c1,
            c1_digest,
            s0: None,
            s1: PacketBuf::new(),
            s2: PacketBuf::new(),
            s1_digest: None,
            kind: None,
            s2_validated: None,
            transmit: VecDeque::from([Bytes::from(c0c1)]),
            error: None,
        }
    }

    /// Consumes handshake bytes from the server and returns how many of
    /// `data` were used. Bytes after S2 belong to the chunk stream and are
    /// left for the caller; once [`is_done`](Self::is_done), nothing more is
    /// consumed.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<usize, HandshakeError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let mut used = 0;
        if self.s0.is_none() {
            let Some(&s0) = data.first() else {
                return Ok(0);
            };
            if s0 != RTMP_VERSION {
                let e = HandshakeError::UnsupportedVersion(s0);
                self.error = Some(e.clone());
                return Err(e);
            }
            self.s0 = Some(s0);
            used = 1;
        }
        if self.kind.is_none() {
            used += self.s1.fill(data.get(used..).unwrap_or_default());
            let Some(s1) = self.s1.complete() else {
                return Ok(used);
            };
            let found = match self.mode {
                ClientMode::Simple => None,
                // A server may answer in either scheme, whatever ours was.
                ClientMode::Complex => find_digest(s1, public_part(&FMS_KEY, FMS_KEY_PUBLIC_LEN)),
            };
            self.kind = Some(match found {
                Some((scheme, digest)) => {
                    self.s1_digest = Some(digest);
                    HandshakeKind::Complex { scheme }
                }
                None => HandshakeKind::Simple,
            });
        }
        if self.s2_validated.is_none() {
            used += self.s2.fill(data.get(used..).unwrap_or_default());
            if let Some(s2) = self.s2.complete() {
                let s2_ok = match (self.kind, &self.c1_digest) {
                    (Some(HandshakeKind::Complex { .. }), Some(c1_digest)) => {
                        reply_signed(s2, &FMS_KEY, c1_digest)
                    }
                    _ => echoes(s2, &self.c1),
                };
                self.s2_validated = Some(s2_ok);
                self.queue_c2();
            }
        }
        Ok(used)
    }

    /// Queues C2: signed with the S1 digest's key if S1 validated, else an
    /// echo of S1 (spec 5.2.4).
    fn queue_c2(&mut self) {
        let Some(s1) = self.s1.complete() else {
            return;
        };
        let c2 = match &self.s1_digest {
            Some(s1_digest) => {
                let mut c2 = [0u8; HANDSHAKE_SIZE];
                fill(&self.seed, LABEL_C2, &mut c2);
                sign_reply(&mut c2, &FP_KEY, s1_digest);
                c2
            }
            None => *s1,
        };
        self.transmit.push_back(Bytes::copy_from_slice(&c2));
    }

    /// C0+C1 (1537 bytes) first, then C2 (1536 bytes) once S0S1S2 is in.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.pop_front()
    }

    /// True once S0S1S2 has been consumed and C2 queued.
    pub fn is_done(&self) -> bool {
        self.s2_validated.is_some()
    }

    /// Which handshake the server answered with; `None` until S1 has arrived.
    /// Always [`HandshakeKind::Simple`] in [`ClientMode::Simple`].
    pub fn kind(&self) -> Option<HandshakeKind> {
        self.kind
    }

    /// Whether S2 was what a conforming server sends: signed with the key
    /// derived from our C1 digest (complex), or an echo of C1's random bytes.
    /// `None` until S2 has arrived. Informational only.
    pub fn s2_validated(&self) -> Option<bool> {
        self.s2_validated
    }
}

#[cfg(test)]
mod tests {
    use super::super::validate_c1;
    use super::*;

    #[test]
    fn c0c1_is_ready_immediately_and_matches_the_mode() {
        let mut simple = HandshakeClient::new(42, [1; 32], ClientMode::Simple);
        let c0c1 = simple.poll_transmit().unwrap();
        assert_eq!(c0c1.len(), 1 + HANDSHAKE_SIZE);
        assert_eq!(&c0c1[..9], &[3, 0, 0, 0, 42, 0, 0, 0, 0]);
        assert_eq!(validate_c1(&c0c1[1..]), None);
        assert!(simple.poll_transmit().is_none());

        let mut complex = HandshakeClient::new(42, [1; 32], ClientMode::Complex);
        let c0c1 = complex.poll_transmit().unwrap();
        assert_eq!(&c0c1[5..9], &CLIENT_VERSION.to_be_bytes());
        assert_eq!(validate_c1(&c0c1[1..]), Some(DigestScheme::Scheme1));
        // Same seed and epoch, same bytes: no hidden randomness.
        let again = HandshakeClient::new(42, [1; 32], ClientMode::Complex).poll_transmit();
        assert_eq!(again, Some(c0c1));
    }

    #[test]
    fn bad_s0_is_rejected() {
        let mut c = HandshakeClient::new(0, [1; 32], ClientMode::Simple);
        assert_eq!(
            c.handle_input(&[8]),
            Err(HandshakeError::UnsupportedVersion(8))
        );
        assert_eq!(
            c.handle_input(&[3]),
            Err(HandshakeError::UnsupportedVersion(8))
        );
    }
}
