//! Captures come from bug reports: any bytes must give an error or a result,
//! never a panic or a hang. Arbitrary input and mutations of real frames.

mod common;

use conformance::decode::PassiveDecoder;
use conformance::packet::{linktype, tcp_segment};
use conformance::{ts_scan, Capture};
use proptest::prelude::*;

/// An Ethernet + QinQ + IPv4 + UDP + GTP-U + IPv4 + TCP frame carrying "rtmp".
fn tunnelled_frame() -> Vec<u8> {
    let mut tcp = vec![
        0x04, 0xd2, 0x07, 0x8f, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
    ];
    tcp.extend_from_slice(b"rtmp");
    let mut inner = vec![
        0x45,
        0,
        0,
        (20 + tcp.len()) as u8,
        0,
        0,
        0x40,
        0,
        64,
        6,
        0,
        0,
        10,
        0,
        0,
        1,
        10,
        0,
        0,
        2,
    ];
    inner.extend_from_slice(&tcp);
    let mut gtp = vec![0x30, 0xff, 0, inner.len() as u8, 0, 0, 0, 1];
    gtp.extend_from_slice(&inner);
    let mut udp = vec![0x08, 0x68, 0x08, 0x68, 0, (8 + gtp.len()) as u8, 0, 0];
    udp.extend_from_slice(&gtp);
    let mut outer = vec![
        0x45,
        0,
        0,
        (20 + udp.len()) as u8,
        0,
        0,
        0,
        0,
        64,
        17,
        0,
        0,
        1,
        1,
        1,
        1,
        2,
        2,
        2,
        2,
    ];
    outer.extend_from_slice(&udp);
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x81, 0x00, 0, 1, 0x81, 0x00, 0, 2, 0x08, 0x00]);
    frame.extend_from_slice(&outer);
    frame
}

#[test]
fn the_tunnelled_frame_decodes() {
    let frame = tunnelled_frame();
    let seg = tcp_segment(linktype::ETHERNET, &frame).unwrap().unwrap();
    assert_eq!(seg.payload, b"rtmp");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn frames_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200), link in prop_oneof![Just(0), Just(1), Just(101), Just(113), Just(276)]) {
        let _ = tcp_segment(link, &data);
    }

    #[test]
    fn mutated_frames_never_panic(flips in proptest::collection::vec((0usize..120, any::<u8>()), 1..6), cut in 0usize..130) {
        let mut frame = tunnelled_frame();
        for (at, v) in flips {
            if let Some(b) = frame.get_mut(at) {
                *b = v;
            }
        }
        frame.truncate(cut);
        let _ = tcp_segment(linktype::ETHERNET, &frame);
    }

    #[test]
    fn streams_and_segments_never_panic(data in proptest::collection::vec(any::<u8>(), 0..5000)) {
        let mut d = PassiveDecoder::new();
        let mut stream = vec![3u8];
        stream.extend_from_slice(&[0u8; 3072]);
        stream.extend_from_slice(&data);
        for piece in stream.chunks(700) {
            let _ = d.push(piece);
        }
        let _ = ts_scan::scan(&data);
        let _ = Capture::from_bytes("fuzz", &data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mutated_captures_never_panic(flips in proptest::collection::vec((0usize..8808, any::<u8>()), 1..10), cut in 0usize..9000) {
        let Some(mut data) = common::corpus_file("wireshark_rtmp_sample.cap") else {
            return Ok(());
        };
        for (at, v) in flips {
            if let Some(b) = data.get_mut(at) {
                *b = v;
            }
        }
        data.truncate(cut);
        if let Ok(c) = Capture::from_bytes("mutated", &data) {
            for f in &c.flows {
                let _ = conformance::decode::decode_all(&f.client_bytes);
            }
        }
    }
}
