//! Real client byte streams from the corpus replayed into a ServerSession
//! that accepts everything; the events it emits and the replies it sends
//! (decoded by a ClientSession) are snapshotted as readable transcripts.
//! Real server byte streams are replayed into a ClientSession the same way.
//!
//! `wireshark_rtmp_sample.cap` is a pcap and is left to the conformance work.

mod common;
mod session_support;

use rtmp_proto::amf0::Amf0Value;
use rtmp_proto::command::status;
use rtmp_proto::handshake::{validate_c1, DigestScheme, HandshakeKind};
use rtmp_proto::session::{
    ClientConfig, ClientEvent, ClientSession, ServerConfig, ServerEvent, ServerSession,
};
use session_support::{
    accept_all, client_transcript, concat, describe_message, feed_split, server_transcript, Rng,
    HANDSHAKE_LEN,
};

/// What replaying one client capture produced.
struct Replay {
    server: ServerSession,
    events: Vec<ServerEvent>,
    /// The server's output, S0S1S2 included.
    reply: Vec<u8>,
}

/// Feeds `bytes` to a fresh accept-everything server in uneven reads.
fn replay_client(bytes: &[u8], seed: u64) -> Replay {
    let mut server = ServerSession::new(ServerConfig::default(), 0, [0x5A; 32]);
    let mut rng = Rng::new(seed);
    let mut events = Vec::new();
    let mut reply = Vec::new();
    let mut now = 0;
    feed_split(&mut rng, bytes, 1500, |b| {
        now += 10;
        server.handle_input(now, b).expect("replay input");
        while let Some(e) = server.poll_event() {
            accept_all(&mut server, &e);
            events.push(e);
        }
        let mut out = Vec::new();
        server.poll_transmit(&mut out);
        reply.extend_from_slice(&concat(&out));
    });
    Replay {
        server,
        events,
        reply,
    }
}

/// Decodes a server's output with a ClientSession that made the calls a
/// player makes (connect, createStream), so answers are matched.
fn client_view(server_output: &[u8]) -> (ClientSession, Vec<ClientEvent>) {
    let mut client = ClientSession::new(ClientConfig::default(), 0, [1; 32]);
    client.connect("app", "rtmp://h/app", vec![]);
    client.create_stream();
    let mut rng = Rng::new(99);
    feed_split(&mut rng, server_output, 1400, |b| {
        client
            .handle_input(0, b)
            .expect("client decodes the server's output");
    });
    let mut events = Vec::new();
    while let Some(e) = client.poll_event() {
        events.push(e);
    }
    (client, events)
}

#[test]
fn flash_player_vod_play_client_stream() {
    let Some(bytes) = common::corpus_file("fq/client_stream") else {
        return;
    };
    let r = replay_client(&bytes, 1);
    // Flash Player 10's C1 is complex, digest scheme 1 (PROVENANCE.md).
    assert_eq!(
        r.server.handshake_kind(),
        Some(HandshakeKind::Complex {
            scheme: DigestScheme::Scheme1
        })
    );
    assert_eq!(r.server.bytes_received(), bytes.len() as u64);
    let connect = r.events.iter().find_map(|e| match e {
        ServerEvent::Connect { app, request, .. } => Some((app, request)),
        _ => None,
    });
    let (app, request) = connect.expect("connect event");
    assert_eq!(app, "ondemand/content-vod-storage1/");
    assert_eq!(request.flash_ver(), Some("LNX 10,0,32,18"));
    assert_eq!(request.properties().len(), 11);
    assert_eq!(request.extra.len(), 1, "the shimHost/videoName object");
    insta::assert_snapshot!("flash_client_stream_events", server_transcript(&r.events));

    let (client, events) = client_view(&r.reply);
    assert!(client.is_handshake_done());
    assert!(matches!(
        events.first(),
        Some(ClientEvent::Connected { .. })
    ));
    assert!(events.contains(&ClientEvent::StreamCreated {
        transaction_id: 2.0,
        stream_id: 1
    }));
    insta::assert_snapshot!("flash_client_stream_replies", client_transcript(&events));
}

#[test]
fn ffmpeg_player_client_stream() {
    let Some(bytes) = common::corpus_file("fq/ffmpeg_client_stream") else {
        return;
    };
    let r = replay_client(&bytes, 2);
    // librtmp-style C1: complex, digest scheme 0.
    assert_eq!(
        r.server.handshake_kind(),
        Some(HandshakeKind::Complex {
            scheme: DigestScheme::Scheme0
        })
    );
    let play = r.events.iter().find_map(|e| match e {
        ServerEvent::Play { name, start, .. } => Some((name.clone(), *start)),
        _ => None,
    });
    // ffmpeg sends the start in milliseconds: -2000 for "live or recorded".
    assert_eq!(play, Some((String::new(), -2000.0)));
    insta::assert_snapshot!("ffmpeg_client_stream_events", server_transcript(&r.events));

    let (_, events) = client_view(&r.reply);
    insta::assert_snapshot!("ffmpeg_client_stream_replies", client_transcript(&events));
}

/// The same capture split differently gives the same events.
#[test]
fn replays_do_not_depend_on_read_boundaries() {
    for name in ["fq/client_stream", "fq/ffmpeg_client_stream"] {
        let Some(bytes) = common::corpus_file(name) else {
            return;
        };
        let a = replay_client(&bytes, 3);
        for seed in 4..8 {
            let b = replay_client(&bytes, seed);
            assert_eq!(a.events, b.events, "{name}");
        }
        // Byte at a time.
        let mut server = ServerSession::new(ServerConfig::default(), 0, [0x5A; 32]);
        let mut events = Vec::new();
        for b in bytes.chunks(1) {
            server.handle_input(0, b).unwrap();
            while let Some(e) = server.poll_event() {
                accept_all(&mut server, &e);
                events.push(e);
            }
        }
        assert_eq!(a.events, events, "{name}");
    }
}

fn srs_vector(name: &str) -> Option<Vec<u8>> {
    common::corpus_file(&format!("srs_utest/srs_utest_protocol__{name}.bin"))
}

/// SRS's handshake vectors (Flash Player C0C1/C2, simple and complex) then
/// SRS's Flash Player 12 connect chunk stream.
#[test]
fn srs_utest_connect_vectors() {
    for kind in ["ComplexHandshake", "SimpleHandshake"] {
        let (Some(c0c1), Some(c2), Some(connect)) = (
            srs_vector(&format!("ProtocolHandshakeTest.{kind}__c0c1")),
            srs_vector(&format!("ProtocolHandshakeTest.{kind}__c2")),
            srs_vector("ProtocolStackTest.ProtocolRecvMessage__data"),
        ) else {
            return;
        };
        // SRS's "simple" test feeds a Flash Player C1 too; the server
        // answers in kind whenever the C1 digest validates.
        let complex = validate_c1(&c0c1[1..]).is_some();
        let input = [c0c1, c2, connect].concat();
        let r = replay_client(&input, 5);
        assert_eq!(
            matches!(
                r.server.handshake_kind(),
                Some(HandshakeKind::Complex { .. })
            ),
            complex,
            "{kind}"
        );
        let [ServerEvent::Connect {
            app,
            tc_url,
            request,
        }] = &r.events[..]
        else {
            panic!("{kind}: {:?}", r.events)
        };
        assert_eq!(
            (app.as_str(), tc_url.as_str()),
            ("live", "rtmp://dev:1935/live")
        );
        assert_eq!(request.flash_ver(), Some("WIN 12,0,0,41"));
        assert_eq!(request.object_encoding(), Some(3.0));
        assert_eq!(
            request.page_url(),
            Some("http://www.ossrs.net:8085/players/srs_player.html?vhost=dev&stream=livestream&server=dev&port=1935")
        );

        // The reply: S0S1S2, then the SRS connect sequence, readable by a client.
        let messages = session_support::decode_wire(&r.reply);
        let lines: Vec<String> = messages.iter().map(describe_message).collect();
        insta::assert_snapshot!(format!("srs_connect_reply_{kind}"), lines.join("\n"));
        let (_, events) = client_view(&r.reply);
        let Some(ClientEvent::Connected { response }) = events.first() else {
            panic!("{events:?}")
        };
        let info = response.info.as_ref().unwrap();
        assert_eq!(
            info.get("code").and_then(Amf0Value::as_str),
            Some(status::CONNECT_SUCCESS)
        );
        // objectEncoding is echoed, as SRS does.
        assert_eq!(info.get("objectEncoding"), Some(&Amf0Value::Number(3.0)));
        assert!(r.reply.len() > HANDSHAKE_LEN);
    }
}

/// Real servers' output (Akamai FMS edge; `ffmpeg -listen`) replayed into a
/// ClientSession that made the same calls as the recorded player.
#[test]
fn real_server_streams_into_a_client_session() {
    for (name, snapshot) in [
        ("fq/server_stream", "fms_server_stream_client_events"),
        (
            "fq/ffmpeg_server_stream",
            "ffmpeg_server_stream_client_events",
        ),
    ] {
        let Some(bytes) = common::corpus_file(name) else {
            return;
        };
        let (_, events) = client_view(&bytes);
        // FMS sends Stream Begin 0 before its connect `_result`.
        assert!(
            events
                .iter()
                .take(3)
                .any(|e| matches!(e, ClientEvent::Connected { .. })),
            "{name}: {:?}",
            events.get(..3)
        );
        let media = events
            .iter()
            .filter(|e| matches!(e, ClientEvent::Media { .. }))
            .count();
        assert!(media > 100, "{name}: {media} media messages");
        insta::assert_snapshot!(snapshot, client_transcript(&events));
    }
}
