//! Replays of the real captures in the shared corpus (see its PROVENANCE.md).
//!
//! The snapshots record what *our* server answers to each captured client:
//! a VOD play request gets a live server's answer (Play.Reset/Play.Start for
//! a stream nobody publishes, then nothing), and each snapshot also shows what
//! the captured server said, for comparison.

mod common;

use bytes::Bytes;
use conformance::{Capture, ReplayOptions, Timing};

#[test]
fn wireshark_sample_flash_player_play() {
    let Some(capture) = common::corpus_capture("wireshark_rtmp_sample.cap") else {
        return;
    };
    assert_eq!(capture.flows.len(), 1);
    let report = common::replay(&capture);
    let calls = report.calls();
    assert!(calls.contains("connect #1"), "{calls}");
    assert!(
        calls.contains("-> _result NetConnection.Connect.Success"),
        "{calls}"
    );
    assert!(calls.contains("NetStream.Play.Start"), "{calls}");
    insta::assert_snapshot!("wireshark_rtmp_sample", report.render());
}

#[test]
fn ndpi_three_flows_two_inside_vlan_and_gtp_u() {
    let Some(capture) = common::corpus_capture("ndpi_rtmp.pcap") else {
        return;
    };
    assert_eq!(capture.flows.len(), 3, "{:?}", capture.notes);
    // The two tunnelled flows are the librtmp-style clients of PROVENANCE.md.
    for flow in &capture.flows[1..] {
        assert!(flow.client_bytes.len() > 3073, "{}", flow.label);
        assert_eq!(flow.gap, None);
        assert!(matches!(flow.timing, Timing::Captured { .. }));
    }
    let report = common::replay(&capture);
    for f in &report.flows {
        assert!(f.client_handshake.complete, "{}", f.label);
    }
    assert_eq!(
        report.flows[1].client_handshake.peer_version,
        Some(0x0900_7c02)
    );
    insta::assert_snapshot!("ndpi_rtmp", report.render());
}

#[test]
fn fq_flash_player_vod_play() {
    let Some(capture) = common::corpus_capture("fq/client_stream") else {
        return;
    };
    // The server side of the capture was found beside it.
    assert!(capture.flows[0].captured_server_bytes.is_some());
    let report = common::replay(&capture);
    // A live server answers a VOD play of a stream nobody publishes with
    // Reset/Start and then sends no media.
    let calls = report.calls();
    assert!(calls.contains("play #0 [stream 1]"), "{calls}");
    assert!(calls.contains("NetStream.Play.Start"), "{calls}");
    assert!(!report.render().contains("media received by the client"));
    insta::assert_snapshot!("fq_client_stream", report.render());
}

#[test]
fn fq_ffmpeg_player() {
    let Some(capture) = common::corpus_capture("fq/ffmpeg_client_stream") else {
        return;
    };
    let report = common::replay(&capture);
    assert!(
        report.calls().contains("getStreamLength #4"),
        "{}",
        report.calls()
    );
    insta::assert_snapshot!("fq_ffmpeg_client_stream", report.render());
}

fn srs_connect(handshake: &str) -> Option<Capture> {
    let file =
        |name: &str| common::corpus_file(&format!("srs_utest/srs_utest_protocol__{name}.bin"));
    let mut bytes = file(&format!("ProtocolHandshakeTest.{handshake}__c0c1"))?;
    bytes.extend(file(&format!("ProtocolHandshakeTest.{handshake}__c2"))?);
    bytes.extend(file("ProtocolStackTest.ProtocolRecvMessage__data")?);
    Some(Capture::from_client_stream(
        &format!("corpus/srs_utest {handshake} C0C1 + C2 + ProtocolRecvMessage (Flash Player WIN 12 connect)"),
        Bytes::from(bytes),
        None,
    ))
}

#[test]
fn srs_utest_connect_vectors() {
    let (Some(complex), Some(simple)) = (
        srs_connect("ComplexHandshake"),
        srs_connect("SimpleHandshake"),
    ) else {
        return;
    };
    let complex = common::replay(&complex);
    let simple = common::replay(&simple);
    for r in [&complex, &simple] {
        assert!(
            r.calls().contains("connect #1 app=\"live\" tcUrl=\"rtmp://dev:1935/live\" flashVer=\"WIN 12,0,0,41\" -> _result NetConnection.Connect.Success"),
            "{}",
            r.calls()
        );
    }
    assert!(!complex.flows[0].s2_echoes_c1);
    insta::assert_snapshot!("srs_utest_complex_connect", complex.render());
    insta::assert_snapshot!("srs_utest_simple_connect", simple.render());
}

#[test]
fn same_seed_same_report_other_seed_same_answers() {
    let Some(capture) = common::corpus_capture("ndpi_rtmp.pcap") else {
        return;
    };
    let run = |seed| {
        let options = ReplayOptions {
            seed,
            ..ReplayOptions::default()
        };
        conformance::replay(&capture, &options).unwrap()
    };
    let (a, b, c) = (run(7), run(7), run(8));
    assert_eq!(a.render(), b.render());
    assert_eq!(a.transcript_hash, b.transcript_hash);
    assert_ne!(
        a.transcript_hash, c.transcript_hash,
        "the seed changes the schedule"
    );
    assert_eq!(a.calls(), c.calls(), "but not the answers");
}
