//! The handshake against real captures (see the corpus PROVENANCE.md):
//! gortmp's Flash Player / VLC / gortmp handshakes, SRS's Flash Player
//! vectors, and the fq reassembled TCP streams (Flash Player vs an Akamai FMS
//! edge, ffmpeg client vs `ffmpeg -listen`).
//!
//! The digest checks here are written independently of the crate (offsets
//! recomputed from their definition, HMAC straight from the `hmac` crate), so
//! they prove both our code and the key derivation against what real peers do.

mod common;

use hmac::{Hmac, Mac};
use rtmp_proto::handshake::{
    dh_key_offset, digest_offset, validate_c1, validate_s1, ClientMode, DigestScheme,
    HandshakeClient, HandshakeKind, HandshakeServer, DH_KEY_LEN, FMS_KEY, FP_KEY, HANDSHAKE_SIZE,
};
use sha2::Sha256;

const FP_TEXT: &[u8] = b"Genuine Adobe Flash Player 001";
const FMS_TEXT: &[u8] = b"Genuine Adobe Flash Media Server 001";
const SRS: &str = "srs_utest/srs_utest_protocol__ProtocolHandshakeTest.";

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// Independent re-derivation: the digest offset for a digest block at `block`.
fn offset_from(packet: &[u8], block: usize) -> usize {
    let sum: usize = packet[block..block + 4].iter().map(|&b| b as usize).sum();
    block + 4 + sum % 728
}

/// Finds a digest the way a peer does: try both block positions. Returns the
/// block start (8 or 772) and the digest.
fn peer_find_digest(packet: &[u8], key: &[u8]) -> Option<(usize, [u8; 32])> {
    [8usize, 772].into_iter().find_map(|block| {
        let off = offset_from(packet, block);
        let want = hmac(key, &[&packet[..off], &packet[off + 32..]]);
        (want[..] == packet[off..off + 32]).then_some((block, want))
    })
}

fn scheme_of_block(block: usize) -> DigestScheme {
    match block {
        8 => DigestScheme::Scheme0,
        772 => DigestScheme::Scheme1,
        _ => unreachable!(),
    }
}

/// Whether `reply` (C2 or S2) ends with HMAC(HMAC(full_key, peer_digest), reply[..1504]).
fn reply_signed(reply: &[u8], full_key: &[u8], peer_digest: &[u8; 32]) -> bool {
    let key = hmac(full_key, &[peer_digest]);
    hmac(&key, &[&reply[..1504]])[..] == reply[1504..]
}

/// The C2 a real client computes over `s1`: random filler then the signature.
fn peer_c2(s1: &[u8], filler: u8) -> Vec<u8> {
    let (_, s1_digest) = peer_find_digest(s1, FMS_TEXT).expect("S1 has an FMS digest");
    let key = hmac(&FP_KEY, &[&s1_digest]);
    let mut c2 = vec![filler; 1504];
    let sig = hmac(&key, &[&c2]);
    c2.extend_from_slice(&sig);
    c2
}

fn gortmp(name: &str) -> Option<Vec<u8>> {
    common::corpus_file(&format!("gortmp_handshake/{name}.bin"))
}

/// Every real C1 with the scheme PROVENANCE.md gives for it.
fn real_c1s() -> Option<Vec<(&'static str, Vec<u8>, DigestScheme)>> {
    let srs_complex = common::corpus_file(&format!("{SRS}ComplexHandshake__c0c1.bin"))?;
    let srs_verify = common::corpus_file(&format!("{SRS}VerifyFPC0C1__c0c1.bin"))?;
    let fq_fp = common::corpus_file("fq/client_stream")?;
    let fq_ffmpeg = common::corpus_file("fq/ffmpeg_client_stream")?;
    Some(vec![
        ("gortmp fp", gortmp("fp_c1")?, DigestScheme::Scheme1),
        ("gortmp vlc", gortmp("vlc_c1")?, DigestScheme::Scheme0),
        ("gortmp my", gortmp("my_c1")?, DigestScheme::Scheme0),
        (
            "srs complex",
            srs_complex[1..].to_vec(),
            DigestScheme::Scheme1,
        ),
        (
            "srs verify",
            srs_verify[1..].to_vec(),
            DigestScheme::Scheme1,
        ),
        ("fq flash", fq_fp[1..1537].to_vec(), DigestScheme::Scheme1),
        (
            "fq ffmpeg",
            fq_ffmpeg[1..1537].to_vec(),
            DigestScheme::Scheme0,
        ),
    ])
}

/// A named real S1, the real C2 that answered it, and S1's scheme.
type S1C2 = (&'static str, Vec<u8>, Vec<u8>, DigestScheme);

/// Every real complex (S1, C2) pair: the C2 signs that S1.
fn real_s1_c2_pairs() -> Option<Vec<S1C2>> {
    let srs_s = common::corpus_file(&format!("{SRS}ComplexHandshake__s0s1s2.bin"))?;
    let srs_c2 = common::corpus_file(&format!("{SRS}ComplexHandshake__c2.bin"))?;
    let fq_c = common::corpus_file("fq/client_stream")?;
    let fq_s = common::corpus_file("fq/server_stream")?;
    Some(vec![
        (
            "gortmp fp",
            gortmp("fp_s1")?,
            gortmp("fp_c2")?,
            DigestScheme::Scheme0,
        ),
        (
            "gortmp vlc",
            gortmp("vlc_s1")?,
            gortmp("vlc_c2")?,
            DigestScheme::Scheme0,
        ),
        (
            "gortmp my",
            gortmp("my_s1")?,
            gortmp("my_c2")?,
            DigestScheme::Scheme0,
        ),
        (
            "srs",
            srs_s[1..1537].to_vec(),
            srs_c2,
            DigestScheme::Scheme1,
        ),
        (
            "fq akamai",
            fq_s[1..1537].to_vec(),
            fq_c[1537..3073].to_vec(),
            DigestScheme::Scheme0,
        ),
    ])
}

#[test]
fn every_real_c1_validates_in_its_scheme() {
    let Some(c1s) = real_c1s() else { return };
    for (name, c1, scheme) in c1s {
        assert_eq!(c1.len(), HANDSHAKE_SIZE, "{name}");
        assert_eq!(validate_c1(&c1), Some(scheme), "{name}");
        assert_eq!(validate_s1(&c1), None, "{name}: a C1 is not an S1");
        // Our offset function points where the independent search found it.
        let (block, _) = peer_find_digest(&c1, FP_TEXT).unwrap();
        assert_eq!(scheme_of_block(block), scheme, "{name}");
        let c1: &[u8; HANDSHAKE_SIZE] = c1.as_slice().try_into().unwrap();
        assert_eq!(digest_offset(c1, scheme), offset_from(c1, block), "{name}");
        // One corrupted digest byte and it no longer validates.
        let mut broken = *c1;
        broken[digest_offset(c1, scheme)] ^= 0x80;
        assert_eq!(validate_c1(&broken), None, "{name}");
    }
}

#[test]
fn srs_vectors_pin_the_digest_and_dh_key_positions() {
    let (Some(c0c1), Some(digest), Some(key)) = (
        common::corpus_file(&format!("{SRS}VerifyFPC0C1__c0c1.bin")),
        common::corpus_file(&format!("{SRS}VerifyFPC0C1__digest.bin")),
        common::corpus_file(&format!("{SRS}VerifyFPC0C1__key.bin")),
    ) else {
        return;
    };
    let c1: &[u8; HANDSHAKE_SIZE] = c0c1[1..].try_into().unwrap();
    assert_eq!(validate_c1(c1), Some(DigestScheme::Scheme1));
    let d = digest_offset(c1, DigestScheme::Scheme1);
    assert_eq!(&c1[d..d + 32], &digest[..]);
    let k = dh_key_offset(c1, DigestScheme::Scheme1);
    assert_eq!(key.len(), DH_KEY_LEN);
    assert_eq!(&c1[k..k + DH_KEY_LEN], &key[..]);
}

#[test]
fn every_real_s1_validates_and_real_c2_signs_it() {
    let Some(pairs) = real_s1_c2_pairs() else {
        return;
    };
    for (name, s1, c2, scheme) in pairs {
        assert_eq!(validate_s1(&s1), Some(scheme), "{name}");
        assert_eq!(validate_c1(&s1), None, "{name}: an S1 is not a C1");
        // The key derivation: C2 is signed by HMAC(full FP key, S1 digest).
        let (_, s1_digest) = peer_find_digest(&s1, FMS_TEXT).unwrap();
        assert!(reply_signed(&c2, &FP_KEY, &s1_digest), "{name}");
        assert!(!reply_signed(&c2, &FMS_KEY, &s1_digest), "{name}");
    }
    // The simple S1 of `ffmpeg -listen` carries no digest.
    if let Some(s) = common::corpus_file("fq/ffmpeg_server_stream") {
        assert_eq!(validate_s1(&s[1..1537]), None);
    }
}

#[test]
fn real_s2_signs_real_c1() {
    let pairs = [
        (
            format!("{SRS}ComplexHandshake__c0c1.bin"),
            format!("{SRS}ComplexHandshake__s0s1s2.bin"),
        ),
        (
            "fq/client_stream".to_string(),
            "fq/server_stream".to_string(),
        ),
    ];
    for (c, s) in pairs {
        let (Some(c), Some(s)) = (common::corpus_file(&c), common::corpus_file(&s)) else {
            return;
        };
        let (_, c1_digest) = peer_find_digest(&c[1..1537], FP_TEXT).unwrap();
        assert!(reply_signed(&s[1537..3073], &FMS_KEY, &c1_digest));
    }
}

#[test]
fn our_server_answers_real_c0c1_as_real_clients_expect() {
    let Some(c1s) = real_c1s() else { return };
    for (name, c1, scheme) in c1s {
        let mut c0c1 = vec![3u8];
        c0c1.extend_from_slice(&c1);
        let mut server = HandshakeServer::new(0x1234_5678, [0x5a; 32]);
        assert_eq!(server.handle_input(&c0c1), Ok(1537), "{name}");
        assert_eq!(
            server.kind(),
            Some(HandshakeKind::Complex { scheme }),
            "{name}"
        );
        let out = server.poll_transmit().unwrap();
        assert_eq!(out.len(), 3073, "{name}");
        assert_eq!(out[0], 3);
        let (s1, s2) = (&out[1..1537], &out[1537..]);
        assert_eq!(&s1[..4], &0x1234_5678u32.to_be_bytes());
        assert_ne!(&s1[4..8], &[0, 0, 0, 0], "{name}: complex S1 has a version");
        // S1 is signed in the client's own scheme (librtmp only looks there).
        assert_eq!(validate_s1(s1), Some(scheme), "{name}");
        // S2 is what the client checks: HMAC(HMAC(full FMS key, its C1 digest)).
        let (_, c1_digest) = peer_find_digest(&c1, FP_TEXT).unwrap();
        assert!(reply_signed(s2, &FMS_KEY, &c1_digest), "{name}");

        // A C2 computed as the real clients computed theirs, over OUR S1,
        // validates: our digest is where a real client looks for it.
        let mut fork = server.clone();
        assert_eq!(server.handle_input(&peer_c2(s1, 0xa5)), Ok(1536), "{name}");
        assert!(server.is_done());
        assert_eq!(server.c2_validated(), Some(true), "{name}");
        // A C2 that signs someone else's S1 completes the handshake but is
        // reported as not validated.
        assert_eq!(fork.handle_input(&[0xa5; 1536]), Ok(1536));
        assert!(fork.is_done());
        assert_eq!(fork.c2_validated(), Some(false), "{name}");
    }
}

#[test]
fn our_server_consumes_exactly_the_handshake_of_real_streams() {
    for (file, scheme) in [
        ("fq/client_stream", DigestScheme::Scheme1),
        ("fq/ffmpeg_client_stream", DigestScheme::Scheme0),
    ] {
        let Some(stream) = common::corpus_file(file) else {
            return;
        };
        let mut server = HandshakeServer::new(0, [1; 32]);
        // Everything the client sent, in one go: handshake plus chunk stream.
        assert_eq!(
            server.handle_input(&stream),
            Ok(1 + 2 * HANDSHAKE_SIZE),
            "{file}"
        );
        assert!(server.is_done());
        assert_eq!(server.kind(), Some(HandshakeKind::Complex { scheme }));
        // Their C2 signed (or echoed) the real server's S1, not ours.
        assert_eq!(server.c2_validated(), Some(false), "{file}");
        // The first byte left over is a chunk basic header for csid 3 (connect).
        assert_eq!(stream[3073], 0x03, "{file}");
        assert_eq!(server.handle_input(&stream[3073..]), Ok(0));
    }
}

#[test]
fn our_complex_client_against_a_real_complex_server() {
    let Some(s0s1s2) = common::corpus_file(&format!("{SRS}ComplexHandshake__s0s1s2.bin")) else {
        return;
    };
    let mut client = HandshakeClient::new(7, [9; 32], ClientMode::Complex);
    let c0c1 = client.poll_transmit().unwrap();
    assert_eq!(validate_c1(&c0c1[1..]), Some(DigestScheme::Scheme1));
    let mut input = s0s1s2.clone();
    input.extend_from_slice(b"\x02chunk stream");
    assert_eq!(client.handle_input(&input), Ok(3073));
    assert!(client.is_done());
    assert_eq!(
        client.kind(),
        Some(HandshakeKind::Complex {
            scheme: DigestScheme::Scheme1
        })
    );
    // SRS's S2 signs SRS's recorded C1, not ours.
    assert_eq!(client.s2_validated(), Some(false));
    let c2 = client.poll_transmit().unwrap();
    assert_eq!(c2.len(), HANDSHAKE_SIZE);
    // The server checks C2 against HMAC(HMAC(full FP key, its S1 digest)).
    let (_, s1_digest) = peer_find_digest(&s0s1s2[1..1537], FMS_TEXT).unwrap();
    assert!(reply_signed(&c2, &FP_KEY, &s1_digest));
    assert!(client.poll_transmit().is_none());
}

#[test]
fn our_complex_client_falls_back_to_echo_against_ffmpeg_listen() {
    let (Some(server_stream), Some(client_stream)) = (
        common::corpus_file("fq/ffmpeg_server_stream"),
        common::corpus_file("fq/ffmpeg_client_stream"),
    ) else {
        return;
    };
    let mut client = HandshakeClient::new(0, [3; 32], ClientMode::Complex);
    client.poll_transmit().unwrap();
    // The server stream continues with chunks right after S2.
    assert_eq!(client.handle_input(&server_stream), Ok(3073));
    assert_eq!(client.kind(), Some(HandshakeKind::Simple));
    // ffmpeg's S2 echoes ffmpeg's recorded C1, not ours.
    assert_eq!(client.s2_validated(), Some(false));
    // Our C2 is byte for byte what the real ffmpeg client sent: an S1 echo.
    let c2 = client.poll_transmit().unwrap();
    assert_eq!(&c2[..], &client_stream[1537..3073]);
}
