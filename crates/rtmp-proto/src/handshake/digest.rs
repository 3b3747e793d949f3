//! The complex handshake's digests: where they sit in C1/S1, how they are
//! computed, and the C2/S2 signatures keyed by them.
//!
//! This scheme is not in the RTMP specification; it is the de-facto protocol
//! of Flash Player and Flash Media Server, as implemented by librtmp, ffmpeg,
//! nginx-rtmp and SRS, and checked here against real captures (see the
//! `handshake_*` tests).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{DigestScheme, HANDSHAKE_SIZE};

type HmacSha256 = Hmac<Sha256>;

/// Length of a digest or signature (HMAC-SHA256 output).
pub const DIGEST_LEN: usize = 32;

/// Length of the Diffie-Hellman public key in the key block (RTMPE only; in
/// plain RTMP it is just bytes).
pub const DH_KEY_LEN: usize = 128;

/// The Flash Player key. Its first [`FP_KEY_PUBLIC_LEN`] bytes key a client's
/// C1 digest; all of it keys the derivation of the C2 signature key.
pub const FP_KEY: [u8; 62] = *b"Genuine Adobe Flash Player 001\
    \xF0\xEE\xC2\x4A\x80\x68\xBE\xE8\x2E\x00\xD0\xD1\x02\x9E\x7E\x57\
    \x6E\xEC\x5D\x2D\x29\x80\x6F\xAB\x93\xB8\xE6\x36\xCF\xEB\x31\xAE";

/// Length of the text part of [`FP_KEY`], "Genuine Adobe Flash Player 001".
pub const FP_KEY_PUBLIC_LEN: usize = 30;

/// The Flash Media Server key. Its first [`FMS_KEY_PUBLIC_LEN`] bytes key a
/// server's S1 digest; all of it keys the derivation of the S2 signature key.
pub const FMS_KEY: [u8; 68] = *b"Genuine Adobe Flash Media Server 001\
    \xF0\xEE\xC2\x4A\x80\x68\xBE\xE8\x2E\x00\xD0\xD1\x02\x9E\x7E\x57\
    \x6E\xEC\x5D\x2D\x29\x80\x6F\xAB\x93\xB8\xE6\x36\xCF\xEB\x31\xAE";

/// Length of the text part of [`FMS_KEY`], "Genuine Adobe Flash Media Server 001".
pub const FMS_KEY_PUBLIC_LEN: usize = 36;

/// Each of the two blocks after `time | version`.
const BLOCK_LEN: usize = 764;
/// Positions the digest can take inside its block: 764 - 4 offset bytes - 32.
const DIGEST_POSITIONS: usize = BLOCK_LEN - 4 - DIGEST_LEN;
/// Positions the DH key can take inside its block: 764 - 128 - 4 offset bytes.
const KEY_POSITIONS: usize = BLOCK_LEN - DH_KEY_LEN - 4;
/// A C2/S2 signature covers everything before it, and sits at the end.
const SIGNED_LEN: usize = HANDSHAKE_SIZE - DIGEST_LEN;

impl DigestScheme {
    fn digest_block(self) -> usize {
        match self {
            DigestScheme::Scheme0 => 8,
            DigestScheme::Scheme1 => 8 + BLOCK_LEN,
        }
    }

    fn key_block(self) -> usize {
        match self {
            DigestScheme::Scheme0 => 8 + BLOCK_LEN,
            DigestScheme::Scheme1 => 8,
        }
    }
}

/// The sum of the four bytes at `at`, the seed of both offset formulas.
fn offset_seed(packet: &[u8; HANDSHAKE_SIZE], at: usize) -> usize {
    packet
        .iter()
        .skip(at)
        .take(4)
        .map(|&b| usize::from(b))
        .sum()
}

/// Where the 32-byte digest of a complex C1/S1 starts: the sum of the digest
/// block's first four bytes modulo 728, plus the block start plus 4.
/// Always at most `HANDSHAKE_SIZE - 32`.
pub fn digest_offset(packet: &[u8; HANDSHAKE_SIZE], scheme: DigestScheme) -> usize {
    let block = scheme.digest_block();
    block + 4 + offset_seed(packet, block) % DIGEST_POSITIONS
}

/// Where the 128-byte Diffie-Hellman key of a complex C1/S1 starts: the sum of
/// the key block's last four bytes modulo 632, plus the block start. Only
/// RTMPE uses the key; it is exposed for tools and tests.
pub fn dh_key_offset(packet: &[u8; HANDSHAKE_SIZE], scheme: DigestScheme) -> usize {
    let block = scheme.key_block();
    block + offset_seed(packet, block + BLOCK_LEN - 4) % KEY_POSITIONS
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC is defined for keys of any length (RFC 2104 2); the keys here are
    // our constants or 32-byte digests, never network lengths.
    HmacSha256::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length")
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; DIGEST_LEN] {
    let mut m = mac(key);
    m.update(data);
    m.finalize().into_bytes().into()
}

/// The packet around the digest at `offset`: (before, digest, after).
fn split_at_digest(
    packet: &[u8; HANDSHAKE_SIZE],
    offset: usize,
) -> Option<(&[u8], &[u8; DIGEST_LEN], &[u8])> {
    let (before, rest) = packet.split_at_checked(offset)?;
    let (digest, after) = rest.split_first_chunk::<DIGEST_LEN>()?;
    Some((before, digest, after))
}

/// The HMAC over every byte of `packet` except the 32 at `offset`.
fn digest_without(packet: &[u8; HANDSHAKE_SIZE], offset: usize, key: &[u8]) -> HmacSha256 {
    let mut m = mac(key);
    if let Some((before, _, after)) = split_at_digest(packet, offset) {
        m.update(before);
        m.update(after);
    }
    m
}

/// Finds a valid digest keyed by `key`, trying Scheme1 (Flash Player) first.
/// Returns the scheme and the digest, which keys the reply's signature.
pub(super) fn find_digest(
    packet: &[u8; HANDSHAKE_SIZE],
    key: &[u8],
) -> Option<(DigestScheme, [u8; DIGEST_LEN])> {
    [DigestScheme::Scheme1, DigestScheme::Scheme0]
        .into_iter()
        .find_map(|scheme| {
            let offset = digest_offset(packet, scheme);
            let (_, digest, _) = split_at_digest(packet, offset)?;
            digest_without(packet, offset, key)
                .verify_slice(digest)
                .ok()
                .map(|()| (scheme, *digest))
        })
}

/// Computes the digest of `packet` in `scheme`, writes it in place and returns it.
pub(super) fn write_digest(
    packet: &mut [u8; HANDSHAKE_SIZE],
    scheme: DigestScheme,
    key: &[u8],
) -> [u8; DIGEST_LEN] {
    let offset = digest_offset(packet, scheme);
    let digest: [u8; DIGEST_LEN] = digest_without(packet, offset, key)
        .finalize()
        .into_bytes()
        .into();
    if let Some(slot) = packet.get_mut(offset..offset + DIGEST_LEN) {
        slot.copy_from_slice(&digest);
    }
    digest
}

/// The key of a C2/S2 signature: HMAC-SHA256(full key, peer's C1/S1 digest).
fn signature_key(full_key: &[u8], peer_digest: &[u8; DIGEST_LEN]) -> [u8; DIGEST_LEN] {
    hmac(full_key, peer_digest)
}

/// Signs a C2/S2 in place: its last 32 bytes become the HMAC of the first
/// 1504 under [`signature_key`].
pub(super) fn sign_reply(
    packet: &mut [u8; HANDSHAKE_SIZE],
    full_key: &[u8],
    peer_digest: &[u8; DIGEST_LEN],
) {
    let key = signature_key(full_key, peer_digest);
    if let Some((body, sig)) = packet.split_last_chunk_mut::<DIGEST_LEN>() {
        *sig = hmac(&key, body);
    }
}

/// Whether a C2/S2 carries the signature [`sign_reply`] would write.
pub(super) fn reply_signed(
    packet: &[u8; HANDSHAKE_SIZE],
    full_key: &[u8],
    peer_digest: &[u8; DIGEST_LEN],
) -> bool {
    let key = signature_key(full_key, peer_digest);
    let Some((body, sig)) = packet.split_at_checked(SIGNED_LEN) else {
        return false;
    };
    let mut m = mac(&key);
    m.update(body);
    m.verify_slice(sig).is_ok()
}

/// The public part of a key (the digest key of C1/S1).
pub(super) fn public_part(key: &[u8], len: usize) -> &[u8] {
    key.get(..len).unwrap_or(key)
}

/// Whether `c1` (exactly 1536 bytes, without C0) carries a valid client digest
/// keyed by the Flash Player key, and in which layout.
pub fn validate_c1(c1: &[u8]) -> Option<DigestScheme> {
    let c1: &[u8; HANDSHAKE_SIZE] = c1.try_into().ok()?;
    find_digest(c1, public_part(&FP_KEY, FP_KEY_PUBLIC_LEN)).map(|(scheme, _)| scheme)
}

/// Whether `s1` (exactly 1536 bytes, without S0) carries a valid server digest
/// keyed by the Flash Media Server key, and in which layout.
pub fn validate_s1(s1: &[u8]) -> Option<DigestScheme> {
    let s1: &[u8; HANDSHAKE_SIZE] = s1.try_into().ok()?;
    find_digest(s1, public_part(&FMS_KEY, FMS_KEY_PUBLIC_LEN)).map(|(scheme, _)| scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_their_documented_text() {
        assert_eq!(
            &FP_KEY[..FP_KEY_PUBLIC_LEN],
            b"Genuine Adobe Flash Player 001"
        );
        assert_eq!(
            &FMS_KEY[..FMS_KEY_PUBLIC_LEN],
            b"Genuine Adobe Flash Media Server 001"
        );
        assert_eq!(FP_KEY[FP_KEY_PUBLIC_LEN..], FMS_KEY[FMS_KEY_PUBLIC_LEN..]);
    }

    #[test]
    fn offsets_stay_inside_their_blocks() {
        for fill in [0u8, 1, 0x7f, 0xff] {
            let p = [fill; HANDSHAKE_SIZE];
            let d0 = digest_offset(&p, DigestScheme::Scheme0);
            let d1 = digest_offset(&p, DigestScheme::Scheme1);
            assert!((12..=8 + BLOCK_LEN - DIGEST_LEN).contains(&d0), "{d0}");
            assert!((776..=HANDSHAKE_SIZE - DIGEST_LEN).contains(&d1), "{d1}");
            let k0 = dh_key_offset(&p, DigestScheme::Scheme0);
            let k1 = dh_key_offset(&p, DigestScheme::Scheme1);
            assert!(
                (772..=HANDSHAKE_SIZE - 4 - DH_KEY_LEN).contains(&k0),
                "{k0}"
            );
            assert!((8..=8 + BLOCK_LEN - 4 - DH_KEY_LEN).contains(&k1), "{k1}");
        }
        // 4 * 0xff = 1020; 1020 % 728 = 292.
        let p = [0xff; HANDSHAKE_SIZE];
        assert_eq!(digest_offset(&p, DigestScheme::Scheme0), 12 + 292);
        assert_eq!(digest_offset(&p, DigestScheme::Scheme1), 776 + 292);
        // 1020 % 632 = 388.
        assert_eq!(dh_key_offset(&p, DigestScheme::Scheme0), 772 + 388);
        assert_eq!(dh_key_offset(&p, DigestScheme::Scheme1), 8 + 388);
    }

    #[test]
    fn written_digests_validate_only_in_their_scheme_and_key() {
        for scheme in [DigestScheme::Scheme0, DigestScheme::Scheme1] {
            let mut p = [0u8; HANDSHAKE_SIZE];
            for (i, b) in p.iter_mut().enumerate() {
                *b = (i * 7 % 251) as u8;
            }
            let d = write_digest(&mut p, scheme, &FP_KEY[..FP_KEY_PUBLIC_LEN]);
            assert_eq!(validate_c1(&p), Some(scheme));
            assert_eq!(validate_s1(&p), None);
            assert_eq!(
                find_digest(&p, &FP_KEY[..FP_KEY_PUBLIC_LEN]),
                Some((scheme, d))
            );
            // One flipped bit anywhere outside the digest breaks it.
            p[1000 - 500 * (scheme == DigestScheme::Scheme1) as usize] ^= 1;
            assert_eq!(validate_c1(&p), None);
        }
        assert_eq!(validate_c1(&[0; 1535]), None);
        assert_eq!(validate_c1(&[0; 1537]), None);
    }

    #[test]
    fn reply_signature_checks_key_and_body() {
        let mut p = [9u8; HANDSHAKE_SIZE];
        let peer = [3u8; DIGEST_LEN];
        sign_reply(&mut p, &FMS_KEY, &peer);
        assert!(reply_signed(&p, &FMS_KEY, &peer));
        assert!(!reply_signed(&p, &FP_KEY, &peer));
        assert!(!reply_signed(&p, &FMS_KEY, &[4u8; DIGEST_LEN]));
        p[0] ^= 1;
        assert!(!reply_signed(&p, &FMS_KEY, &peer));
    }
}
