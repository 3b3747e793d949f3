//! Handshake: arbitrary bytes, split at a fuzzer-chosen point, fed to a
//! server and to a client. Neither may panic, and the consumed counts must
//! stay consistent with the handshake's fixed sizes.
//!
//! Random bytes almost never form a valid complex C1, so a flag byte can put a
//! genuine peer message in front of (or under) the fuzzer's bytes to reach the
//! digest and C2/S2 paths.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_proto::handshake::{ClientMode, HandshakeClient, HandshakeServer};

/// C0 + C1 + C2: what the server consumes in total.
const TOTAL_SERVER_IN: usize = 1 + 1536 + 1536;
/// S0 + S1 + S2: what the client consumes in total.
const TOTAL_CLIENT_IN: usize = 1 + 1536 + 1536;

/// A genuine C0C1 from our client.
fn c0c1(mode: ClientMode) -> Vec<u8> {
    HandshakeClient::new(1, [0x11; 32], mode)
        .poll_transmit()
        .map(|b| b.to_vec())
        .unwrap_or_default()
}

/// `base` with `data` XORed over its start and any excess appended.
fn xor_over(mut base: Vec<u8>, data: &[u8]) -> Vec<u8> {
    for (b, d) in base.iter_mut().zip(data) {
        *b ^= d;
    }
    base.extend_from_slice(data.get(base.len()..).unwrap_or_default());
    base
}

/// Feeds `bytes` to `handle` in two parts split at `at`, re-offering what was
/// not consumed as a runtime would. Returns the total consumed, or None on error.
fn feed(bytes: &[u8], at: usize, mut handle: impl FnMut(&[u8]) -> Option<usize>) -> Option<usize> {
    let (first, second) = bytes.split_at(at.min(bytes.len()));
    let mut consumed = 0;
    for part in [first, second] {
        let mut rest = part;
        for _ in 0..2 {
            let n = handle(rest)?;
            assert!(n <= rest.len());
            consumed += n;
            rest = &rest[n..];
        }
    }
    Some(consumed)
}

fuzz_target!(|input: &[u8]| {
    let [split, flags, data @ ..] = input else {
        return;
    };
    let server_bytes = match flags & 3 {
        0 => data.to_vec(),
        1 => [c0c1(ClientMode::Complex), data.to_vec()].concat(),
        2 => [c0c1(ClientMode::Simple), data.to_vec()].concat(),
        _ => xor_over(c0c1(ClientMode::Complex), data),
    };
    // Scale the one-byte split point over the whole input.
    let at = server_bytes.len() * usize::from(*split) / 255;

    let mut server = HandshakeServer::new(0, [0x42; 32]);
    let mut sent = 0;
    let consumed = feed(&server_bytes, at, |b| {
        let n = server.handle_input(b).ok()?;
        if let Some(out) = server.poll_transmit() {
            assert_eq!(out.len(), 3073);
            sent += 1;
        }
        Some(n)
    });
    if let Some(consumed) = consumed {
        assert!(consumed <= TOTAL_SERVER_IN);
        assert_eq!(server.is_done(), consumed == TOTAL_SERVER_IN);
        assert_eq!(server.kind().is_some(), consumed >= 1537);
        assert_eq!(sent, usize::from(consumed >= 1537));
        assert_eq!(server.c2_validated().is_some(), server.is_done());
    }

    let mode = if flags & 4 == 0 {
        ClientMode::Simple
    } else {
        ClientMode::Complex
    };
    let mut client = HandshakeClient::new(0, [0x24; 32], mode);
    let Some(ours) = client.poll_transmit() else {
        return;
    };
    let client_bytes = if flags & 8 == 0 {
        data.to_vec()
    } else {
        // A genuine answer to our C0C1, with the fuzzer's bytes over it.
        let mut peer = HandshakeServer::new(9, [0x99; 32]);
        if peer.handle_input(&ours).is_err() {
            return;
        }
        let answer = peer.poll_transmit().map(|b| b.to_vec()).unwrap_or_default();
        xor_over(answer, data)
    };
    let at = client_bytes.len() * usize::from(*split) / 255;
    let consumed = feed(&client_bytes, at, |b| client.handle_input(b).ok());
    if let Some(consumed) = consumed {
        assert!(consumed <= TOTAL_CLIENT_IN);
        assert_eq!(client.is_done(), consumed == TOTAL_CLIENT_IN);
        assert_eq!(client.kind().is_some(), consumed >= 1537);
        if client.is_done() {
            assert_eq!(client.poll_transmit().map(|c2| c2.len()), Some(1536));
        }
    }
});
