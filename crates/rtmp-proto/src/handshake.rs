//! The RTMP handshake (RTMP spec 5.2) in both its forms, sans-IO.
//!
//! - Simple (spec 5.2.2-5.2.4): C0/S0 carry the version byte 3; C1/S1 are
//!   `time(4) | zero(4) | random(1528)`; C2/S2 echo the peer's C1/S1.
//! - Complex (the de-facto "digest" handshake of Flash Player and FMS,
//!   undocumented by the spec but required by Flash Player for H.264/AAC
//!   playback): C1/S1 carry a non-zero version and an HMAC-SHA256 digest
//!   hidden at an offset derived from the packet itself ([`digest_offset`]);
//!   C2/S2 end with an HMAC-SHA256 signature keyed by the peer's digest.
//!
//! Neither side reads a clock or a random number generator: the caller passes
//! the epoch to put in C1/S1 and a 32-byte seed from which all "random" filler
//! is derived deterministically (SHA-256 in counter mode). A fresh seed per
//! connection is the caller's job; the filler has no security role (the keys
//! are public), it only has to look like the spec's random bytes.
//!
//! Both state machines accept input split anywhere and never consume bytes
//! past the end of the handshake: what follows C2 (or S2) is the chunk stream.
//!
//! Only plain RTMP is supported: a C0/S0 version other than 3 (6 and 8 are
//! the encrypted RTMPE variants) fails with [`HandshakeError::UnsupportedVersion`].

mod client;
mod digest;
mod error;
mod filler;
mod packet;
mod server;

pub use client::{ClientMode, HandshakeClient, CLIENT_VERSION};
pub use digest::{
    dh_key_offset, digest_offset, validate_c1, validate_s1, DH_KEY_LEN, DIGEST_LEN, FMS_KEY,
    FMS_KEY_PUBLIC_LEN, FP_KEY, FP_KEY_PUBLIC_LEN,
};
pub use error::HandshakeError;
pub use server::{HandshakeServer, SERVER_VERSION};

/// The only C0/S0 version byte accepted: plain RTMP (spec 5.2.2).
pub const RTMP_VERSION: u8 = 3;

/// Length of each of C1, S1, C2 and S2 (spec 5.2.3, 5.2.4).
pub const HANDSHAKE_SIZE: usize = 1536;

/// Which handshake a peer used, as decided once its C1 (or S1) arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandshakeKind {
    /// Plain spec 5.2 handshake: echoes, no digests.
    Simple,
    /// Digest handshake, with the layout in which the peer's digest was found.
    Complex {
        /// Where the digest sits in the peer's C1 (or S1).
        scheme: DigestScheme,
    },
}

/// The two layouts of a complex C1/S1. After `time(4) | version(4)`, the
/// remaining 1528 bytes are two 764-byte blocks: a digest block (4 offset
/// bytes, then the 32-byte digest somewhere in 728 bytes) and a key block
/// (a 128-byte Diffie-Hellman public key somewhere in 764 bytes, offset bytes
/// last). The schemes differ in which block comes first.
///
/// Naming follows librtmp and our corpus notes (PROVENANCE.md); SRS numbers
/// them the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestScheme {
    /// Digest block first (bytes 8..772), key block second. Used by
    /// librtmp-based clients (ffmpeg, VLC) and by many FMS S1s.
    Scheme0,
    /// Key block first, digest block second (bytes 772..1536). Used by Flash
    /// Player's C1.
    Scheme1,
}
