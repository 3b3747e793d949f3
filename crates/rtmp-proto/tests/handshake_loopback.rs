//! Our client against our server, in every mode, with input split at every
//! byte boundary; plus hostile and short input.

use rtmp_proto::handshake::{
    validate_c1, validate_s1, ClientMode, DigestScheme, HandshakeClient, HandshakeError,
    HandshakeKind, HandshakeServer, HANDSHAKE_SIZE,
};

/// Feeds `data` in two calls split at `at`; returns the total consumed.
fn feed_server(s: &mut HandshakeServer, data: &[u8], at: usize) -> usize {
    let a = s.handle_input(&data[..at]).unwrap();
    assert!(a <= at);
    let b = s.handle_input(&data[a..]).unwrap();
    a + b
}

fn feed_client(c: &mut HandshakeClient, data: &[u8], at: usize) -> usize {
    let a = c.handle_input(&data[..at]).unwrap();
    assert!(a <= at);
    let b = c.handle_input(&data[a..]).unwrap();
    a + b
}

struct Transcript {
    c0c1: Vec<u8>,
    s0s1s2: Vec<u8>,
    c2: Vec<u8>,
}

/// A whole handshake fed in one piece per message.
fn run(mode: ClientMode) -> (HandshakeClient, HandshakeServer, Transcript) {
    let mut client = HandshakeClient::new(1000, [1; 32], mode);
    let mut server = HandshakeServer::new(2000, [2; 32]);
    let c0c1 = client.poll_transmit().unwrap().to_vec();
    assert!(client.poll_transmit().is_none());
    assert_eq!(server.handle_input(&c0c1), Ok(1537));
    let s0s1s2 = server.poll_transmit().unwrap().to_vec();
    assert!(!client.is_done());
    assert_eq!(client.handle_input(&s0s1s2), Ok(3073));
    assert!(client.is_done());
    let c2 = client.poll_transmit().unwrap().to_vec();
    assert!(!server.is_done());
    assert_eq!(server.handle_input(&c2), Ok(1536));
    assert!(server.is_done());
    (client, server, Transcript { c0c1, s0s1s2, c2 })
}

#[test]
fn simple_loopback() {
    let (client, server, t) = run(ClientMode::Simple);
    assert_eq!(server.kind(), Some(HandshakeKind::Simple));
    assert_eq!(client.kind(), Some(HandshakeKind::Simple));
    assert_eq!(server.c2_validated(), Some(true));
    assert_eq!(client.s2_validated(), Some(true));
    // Spec 5.2: S2 echoes C1, C2 echoes S1.
    assert_eq!(&t.s0s1s2[1537..], &t.c0c1[1..]);
    assert_eq!(&t.c2[..], &t.s0s1s2[1..1537]);
    assert_eq!(&t.s0s1s2[1..5], &2000u32.to_be_bytes());
    assert_eq!(&t.s0s1s2[5..9], &[0, 0, 0, 0]);
}

#[test]
fn complex_loopback() {
    let (client, server, t) = run(ClientMode::Complex);
    let complex = Some(HandshakeKind::Complex {
        scheme: DigestScheme::Scheme1,
    });
    assert_eq!(server.kind(), complex);
    assert_eq!(client.kind(), complex);
    assert_eq!(server.c2_validated(), Some(true));
    assert_eq!(client.s2_validated(), Some(true));
    assert_eq!(validate_c1(&t.c0c1[1..]), Some(DigestScheme::Scheme1));
    assert_eq!(validate_s1(&t.s0s1s2[1..1537]), Some(DigestScheme::Scheme1));
    // Signed replies, not echoes.
    assert_ne!(&t.s0s1s2[1537..], &t.c0c1[1..]);
    assert_ne!(&t.c2[..], &t.s0s1s2[1..1537]);
}

#[test]
fn outputs_are_deterministic_in_epoch_and_seed() {
    for mode in [ClientMode::Simple, ClientMode::Complex] {
        let (_, _, a) = run(mode);
        let (_, _, b) = run(mode);
        assert_eq!(a.c0c1, b.c0c1);
        assert_eq!(a.s0s1s2, b.s0s1s2);
        assert_eq!(a.c2, b.c2);
    }
    let mut x = HandshakeServer::new(0, [1; 32]);
    let mut y = HandshakeServer::new(0, [2; 32]);
    let c0c1 = HandshakeClient::new(0, [0; 32], ClientMode::Simple)
        .poll_transmit()
        .unwrap();
    x.handle_input(&c0c1).unwrap();
    y.handle_input(&c0c1).unwrap();
    assert_ne!(x.poll_transmit(), y.poll_transmit());
}

#[test]
fn every_split_point_gives_the_same_handshake() {
    for mode in [ClientMode::Simple, ClientMode::Complex] {
        let (_, _, t) = run(mode);
        // C0C1 split anywhere: the server answers identically.
        for at in 0..=t.c0c1.len() {
            let mut server = HandshakeServer::new(2000, [2; 32]);
            assert_eq!(feed_server(&mut server, &t.c0c1, at), 1537, "{mode:?} {at}");
            assert_eq!(server.poll_transmit().unwrap(), t.s0s1s2, "{mode:?} {at}");
        }
        // S0S1S2 split anywhere: the client answers identically.
        for at in 0..=t.s0s1s2.len() {
            let mut client = HandshakeClient::new(1000, [1; 32], mode);
            client.poll_transmit().unwrap();
            assert_eq!(
                feed_client(&mut client, &t.s0s1s2, at),
                3073,
                "{mode:?} {at}"
            );
            assert!(client.is_done());
            assert_eq!(client.s2_validated(), Some(true));
            assert_eq!(client.poll_transmit().unwrap(), t.c2, "{mode:?} {at}");
        }
        // C2 split anywhere, with chunk bytes behind it that must stay.
        let mut server = HandshakeServer::new(2000, [2; 32]);
        server.handle_input(&t.c0c1).unwrap();
        let mut c2_and_more = t.c2.clone();
        c2_and_more.extend_from_slice(&[0x03; 40]);
        for at in 0..=c2_and_more.len() {
            let mut s = server.clone();
            assert_eq!(feed_server(&mut s, &c2_and_more, at), 1536, "{mode:?} {at}");
            assert!(s.is_done());
            assert_eq!(s.c2_validated(), Some(true));
        }
    }
}

#[test]
fn byte_at_a_time_conversation() {
    for mode in [ClientMode::Simple, ClientMode::Complex] {
        let mut client = HandshakeClient::new(5, [5; 32], mode);
        let mut server = HandshakeServer::new(6, [6; 32]);
        let c0c1 = client.poll_transmit().unwrap();
        for (i, b) in c0c1.iter().enumerate() {
            assert!(
                server.poll_transmit().is_none(),
                "S0S1S2 before C1 is complete"
            );
            assert_eq!(server.kind(), None);
            assert_eq!(server.handle_input(&[*b]), Ok(1), "byte {i}");
        }
        let s0s1s2 = server.poll_transmit().unwrap();
        for b in s0s1s2.iter() {
            assert!(client.poll_transmit().is_none(), "C2 before S2 is complete");
            assert_eq!(client.handle_input(&[*b]), Ok(1));
        }
        assert!(client.is_done());
        let c2 = client.poll_transmit().unwrap();
        for b in c2.iter() {
            assert!(!server.is_done());
            assert_eq!(server.handle_input(&[*b]), Ok(1));
        }
        assert!(server.is_done());
        assert_eq!(server.c2_validated(), Some(true));
        assert_eq!(client.s2_validated(), Some(true));
        // Done: nothing more is consumed.
        assert_eq!(server.handle_input(&[3, 0, 0]), Ok(0));
        assert_eq!(client.handle_input(&[3, 0, 0]), Ok(0));
    }
}

#[test]
fn whole_client_side_in_one_buffer_stops_at_the_chunk_stream() {
    let (_, _, t) = run(ClientMode::Complex);
    let mut all = t.c0c1.clone();
    all.extend_from_slice(&t.c2);
    all.extend_from_slice(b"\x03rest");
    let mut server = HandshakeServer::new(2000, [2; 32]);
    assert_eq!(server.handle_input(&all), Ok(1 + 2 * HANDSHAKE_SIZE));
    assert!(server.is_done());
    assert_eq!(server.c2_validated(), Some(true));
    assert_eq!(server.poll_transmit().unwrap(), t.s0s1s2);
}

#[test]
fn c0_other_than_3_is_rejected() {
    for v in (0..=255u8).filter(|&v| v != 3) {
        let mut server = HandshakeServer::new(0, [0; 32]);
        let mut c0c1 = vec![v];
        c0c1.resize(1537, 0);
        assert_eq!(
            server.handle_input(&c0c1),
            Err(HandshakeError::UnsupportedVersion(v))
        );
        assert!(server.poll_transmit().is_none());
        assert!(!server.is_done());
        let mut client = HandshakeClient::new(0, [0; 32], ClientMode::Complex);
        assert_eq!(
            client.handle_input(&[v]),
            Err(HandshakeError::UnsupportedVersion(v))
        );
    }
    let msg = HandshakeError::UnsupportedVersion(6).to_string();
    assert!(msg.contains('6') && msg.contains("RTMPE"), "{msg}");
}

#[test]
fn short_reads_wait_for_more() {
    let mut server = HandshakeServer::new(0, [0; 32]);
    assert_eq!(server.handle_input(&[]), Ok(0));
    assert_eq!(server.handle_input(&[3]), Ok(1));
    assert_eq!(server.handle_input(&[0; 1535]), Ok(1535));
    assert!(server.poll_transmit().is_none());
    assert_eq!(server.kind(), None);
    assert_eq!(server.handle_input(&[0]), Ok(1));
    assert_eq!(server.kind(), Some(HandshakeKind::Simple));
    assert!(server.poll_transmit().is_some());
    assert_eq!(server.handle_input(&[0; 1535]), Ok(1535));
    assert!(!server.is_done());
    assert_eq!(server.c2_validated(), None);
    assert_eq!(server.handle_input(&[0; 2]), Ok(1));
    assert!(server.is_done());
}
