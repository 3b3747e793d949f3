//! ServerSession <-> ClientSession over an in-memory link, with both byte
//! streams cut at pseudo-random boundaries: FMLE and Flash publish, play,
//! media end to end (per-session and shared encodings), acknowledgements,
//! rejections, pause, E-RTMP connect properties.

mod session_support;

use bytes::Bytes;
use rtmp_proto::amf0::Amf0Value;
use rtmp_proto::command::{status, Command, DataMessage, PublishType};
use rtmp_proto::control::{ControlMessage, UserControlEvent};
use rtmp_proto::handshake::{ClientMode, HandshakeKind};
use rtmp_proto::session::{
    encode_shared_media, ClientConfig, ClientEvent, ClientSession, ServerConfig, ServerEvent,
    ServerSession, CSID_SHARED_AUDIO, CSID_SHARED_VIDEO,
};
use rtmp_proto::{MessageType, RawMessage};
use session_support::{accept_all, decode_wire, Link, Rng};

fn link(seed: u64) -> Link {
    link_with(ServerConfig::default(), ClientConfig::default(), seed)
}

fn link_with(server: ServerConfig, client: ClientConfig, seed: u64) -> Link {
    Link::new(
        ServerSession::new(server, 7, [seed as u8; 32]),
        ClientSession::new(client, 9, [!seed as u8; 32]),
        seed,
    )
}

/// Connects and returns the link with events cleared.
fn connected(seed: u64) -> Link {
    let mut l = link(seed);
    l.client.connect("live", "rtmp://localhost/live", vec![]);
    l.pump(accept_all);
    let (server, client) = l.take_events();
    assert!(matches!(&server[..], [ServerEvent::Connect { app, .. }] if app == "live"));
    assert!(matches!(
        client.first(),
        Some(ClientEvent::Connected { .. })
    ));
    l
}

fn statuses(events: &[ClientEvent]) -> Vec<(u32, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Status {
                stream_id, code, ..
            } => Some((*stream_id, code.clone())),
            _ => None,
        })
        .collect()
}

fn command_names(events: &[ClientEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Command { command, .. } => Some(command.name().to_owned()),
            _ => None,
        })
        .collect()
}

/// Pseudo-random media: sizes from tiny to several chunks, increasing
/// timestamps, audio, video and metadata.
fn media(rng: &mut Rng, n: usize) -> Vec<RawMessage> {
    let mut out = Vec::new();
    let mut ts = 0u64;
    for i in 0..n {
        let (type_id, len) = match i % 5 {
            0 | 2 => (MessageType::Audio, rng.size(400)),
            4 if i % 20 == 4 => (MessageType::DataAmf0, 0),
            _ => (MessageType::Video, rng.size(30_000)),
        };
        ts += rng.next() % 40;
        let payload = if type_id == MessageType::DataAmf0 {
            DataMessage::SetDataFrame {
                handler: "onMetaData".into(),
                args: vec![Amf0Value::EcmaArray(vec![(
                    "width".into(),
                    Amf0Value::Number(i as f64),
                )])],
            }
            .encode()
        } else {
            Bytes::from((0..len).map(|_| rng.next() as u8).collect::<Vec<u8>>())
        };
        out.push(RawMessage {
            csid: 99,
            timestamp: ts,
            type_id,
            stream_id: 77,
            payload,
        });
    }
    out
}

fn same_media(got: &RawMessage, sent: &RawMessage, stream_id: u32) {
    assert_eq!(got.type_id, sent.type_id);
    assert_eq!(got.timestamp, sent.timestamp);
    assert_eq!(got.payload, sent.payload);
    assert_eq!(got.stream_id, stream_id);
}

#[test]
fn fmle_publish_media_and_unpublish() {
    for seed in 1..4 {
        let mut l = connected(seed);
        let tid = l
            .client
            .publish_fmle("stream?key=secret", PublishType::Live);
        l.pump(accept_all);
        let (server, client) = l.take_events();
        assert_eq!(
            server,
            vec![ServerEvent::Publish {
                stream_id: 1,
                name: "stream?key=secret".into(),
                publish_type: PublishType::Live
            }]
        );
        assert!(client.contains(&ClientEvent::StreamCreated {
            transaction_id: tid,
            stream_id: 1
        }));
        // releaseStream and FCPublish answers, then onFCPublish.
        assert_eq!(
            command_names(&client),
            ["_result", "_result", "onFCPublish"]
        );
        assert_eq!(statuses(&client), [(1, status::PUBLISH_START.to_owned())]);

        let sent = media(&mut l.rng, 200);
        for m in &sent {
            l.client.send_media(1, m);
        }
        l.pump(accept_all);
        let (server, _) = l.take_events();
        assert_eq!(server.len(), sent.len());
        for (e, m) in server.iter().zip(&sent) {
            let ServerEvent::Media { stream_id, message } = e else {
                panic!("not media: {e:?}")
            };
            assert_eq!(*stream_id, 1);
            same_media(message, m, 1);
        }

        l.client.send_command(
            0,
            &Command::FcUnpublish {
                transaction_id: 9.0,
                name: "stream".into(),
            },
        );
        l.client.delete_stream(1);
        l.pump(accept_all);
        let (server, client) = l.take_events();
        assert_eq!(
            server,
            vec![
                ServerEvent::Unpublish { stream_id: 1 },
                ServerEvent::DeleteStream { stream_id: 1 }
            ]
        );
        assert_eq!(command_names(&client), ["onFCUnpublish", "_result"]);
        assert_eq!(
            statuses(&client),
            [(1, status::UNPUBLISH_SUCCESS.to_owned())]
        );
        // Media after unpublish is dropped.
        l.client.send_media(1, &sent[0]);
        l.pump(accept_all);
        assert_eq!(l.take_events().0, vec![]);
    }
}

#[test]
fn flash_publish_then_republish_on_a_reused_stream_id() {
    let mut l = connected(5);
    let tid = l.client.create_stream();
    l.pump(accept_all);
    let (_, client) = l.take_events();
    assert_eq!(
        client,
        vec![ClientEvent::StreamCreated {
            transaction_id: tid,
            stream_id: 1
        }]
    );
    l.client.publish(1, "cam", PublishType::Record);
    l.pump(accept_all);
    let (server, client) = l.take_events();
    assert_eq!(
        server,
        vec![ServerEvent::Publish {
            stream_id: 1,
            name: "cam".into(),
            publish_type: PublishType::Record
        }]
    );
    // No FMLE preamble, so no onFCPublish.
    assert_eq!(command_names(&client), Vec::<String>::new());
    assert_eq!(statuses(&client), [(1, status::PUBLISH_START.to_owned())]);

    // deleteStream of a publishing stream unpublishes it; the id is reused.
    l.client.delete_stream(1);
    l.client.create_stream();
    l.pump(accept_all);
    let (server, client) = l.take_events();
    assert_eq!(
        server,
        vec![
            ServerEvent::Unpublish { stream_id: 1 },
            ServerEvent::DeleteStream { stream_id: 1 }
        ]
    );
    assert!(matches!(
        client[..],
        [ClientEvent::StreamCreated { stream_id: 1, .. }]
    ));
    // A second stream on the same connection gets id 2.
    l.client.create_stream();
    l.pump(accept_all);
    assert!(matches!(
        l.take_events().1[..],
        [ClientEvent::StreamCreated { stream_id: 2, .. }]
    ));
}

#[test]
fn play_with_session_and_shared_encodings() {
    let mut l = connected(11);
    l.client.create_stream();
    l.pump(accept_all);
    l.take_events();
    l.client.play(1, "stream");
    l.pump(accept_all);
    let (server, client) = l.take_events();
    assert_eq!(
        server,
        vec![ServerEvent::Play {
            stream_id: 1,
            name: "stream".into(),
            start: -2.0,
            duration: -1.0,
            reset: true
        }]
    );
    assert_eq!(
        client.first(),
        Some(&ClientEvent::UserControl(UserControlEvent::StreamBegin(1)))
    );
    assert_eq!(
        statuses(&client),
        [
            (1, status::PLAY_RESET.to_owned()),
            (1, status::PLAY_START.to_owned())
        ]
    );
    let data: Vec<_> = client
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Data { data, .. } => Some(data.clone()),
            _ => None,
        })
        .collect();
    // |RtmpSampleAccess and no NetStream.Data.Start, as SRS (ffmpeg makes a
    // data track of any data message it does not know).
    assert_eq!(
        data,
        [DataMessage::SampleAccess {
            audio: true,
            video: true
        }]
    );

    // Per-session and shared encodings, interleaved.
    assert_eq!(l.server.out_chunk_size(), 60_000);
    let sent = media(&mut l.rng, 120);
    for (i, m) in sent.iter().enumerate() {
        if i % 3 == 0 {
            l.server.send_media(1, m);
        } else {
            let shared = encode_shared_media(l.server.out_chunk_size(), 1, m);
            l.server.send_encoded(&shared);
        }
    }
    l.pump(accept_all);
    let (_, client) = l.take_events();
    let got: Vec<&RawMessage> = client
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Media { message, .. } | ClientEvent::Data { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(got.len(), sent.len());
    for (g, s) in got.iter().zip(&sent) {
        same_media(g, s, 1);
    }
    // The shared messages really went out on the reserved chunk streams.
    let csids: std::collections::BTreeSet<u32> =
        decode_wire(&l.to_client).iter().map(|m| m.csid).collect();
    assert!(csids.contains(&CSID_SHARED_AUDIO) && csids.contains(&CSID_SHARED_VIDEO));
}

#[test]
fn one_shared_encoding_serves_many_players() {
    let mut players: Vec<Link> = (20..24).map(connected).collect();
    for l in &mut players {
        l.client.create_stream();
        l.pump(accept_all);
        l.client.play(1, "s");
        l.pump(accept_all);
        l.take_events();
    }
    let mut rng = Rng::new(3);
    let sent = media(&mut rng, 60);
    let chunk_size = players[0].server.out_chunk_size();
    for m in &sent {
        let shared = encode_shared_media(chunk_size, 1, m);
        for l in &mut players {
            l.server.send_encoded(&shared);
        }
    }
    for l in &mut players {
        l.pump(accept_all);
        let (_, client) = l.take_events();
        assert_eq!(client.len(), sent.len());
        for (e, s) in client.iter().zip(&sent) {
            match e {
                ClientEvent::Media { message, .. } | ClientEvent::Data { message, .. } => {
                    same_media(message, s, 1)
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

#[test]
fn acknowledgements_follow_the_window() {
    const WINDOW: u32 = 100_000;
    let server_config = ServerConfig {
        window_ack_size: WINDOW,
        peer_bandwidth: WINDOW,
        ..ServerConfig::default()
    };
    let mut l = link_with(server_config, ClientConfig::default(), 31);
    l.client.connect("live", "rtmp://h/live", vec![]);
    l.pump(accept_all);
    l.client.publish_fmle("s", PublishType::Live);
    l.pump(accept_all);
    // The publisher sends about 1 MB; the server must ack every 100 kB.
    let sent = media(&mut l.rng, 400);
    for m in &sent {
        l.client.send_media(1, m);
        l.pump(accept_all);
    }
    let received = l.to_server.len() as u64;
    assert_eq!(l.server.bytes_received(), received);
    let acks: Vec<u32> = decode_wire(&l.to_client)
        .iter()
        .filter_map(|m| match ControlMessage::decode(m.type_id, &m.payload) {
            Ok(ControlMessage::Acknowledgement { sequence }) => Some(sequence),
            _ => None,
        })
        .collect();
    assert!(received > 10 * u64::from(WINDOW), "{received}");
    assert_eq!(acks.len() as u64, received / u64::from(WINDOW), "{acks:?}");
    let mut last = 0;
    for &a in &acks {
        assert!(a - last >= WINDOW, "{acks:?}");
        assert!(u64::from(a) <= received);
        last = a;
    }
    assert!(received - u64::from(last) < u64::from(WINDOW));

    // The client acks the server's window too (WindowAckSize from accept_connect).
    let mut l = link_with(
        ServerConfig {
            window_ack_size: WINDOW,
            ..ServerConfig::default()
        },
        ClientConfig::default(),
        32,
    );
    l.client.connect("live", "rtmp://h/live", vec![]);
    l.pump(accept_all);
    l.client.create_stream();
    l.pump(accept_all);
    l.client.play(1, "s");
    l.pump(accept_all);
    for m in media(&mut l.rng, 300) {
        l.server.send_media(1, &m);
    }
    l.pump(accept_all);
    let client_acks = decode_wire(&l.to_server)
        .iter()
        .filter(|m| m.type_id == MessageType::Acknowledgement)
        .count() as u64;
    assert!(l.to_client.len() as u64 > 5 * u64::from(WINDOW));
    assert_eq!(client_acks, l.to_client.len() as u64 / u64::from(WINDOW));
}

#[test]
fn rejections_reach_the_client() {
    let mut l = link(41);
    l.client.connect("private", "rtmp://h/private", vec![]);
    l.pump(|s, e| {
        if matches!(e, ServerEvent::Connect { .. }) {
            s.reject_connect("no such app").unwrap();
        }
    });
    let (server, client) = l.take_events();
    assert!(matches!(
        server[..],
        [ServerEvent::Connect { .. }, ServerEvent::Closed]
    ));
    assert!(l.server.is_closed());
    match &client[..] {
        [ClientEvent::ConnectFailed { status }] => {
            assert_eq!(status.code, status::CONNECT_REJECTED);
            assert_eq!(status.level, status::LEVEL_ERROR);
            assert_eq!(status.description, "no such app");
        }
        other => panic!("{other:?}"),
    }
    // Input after a rejection is ignored.
    l.client.create_stream();
    l.pump(accept_all);
    assert_eq!(l.take_events(), (vec![], vec![]));

    let mut l = connected(42);
    l.client.publish_fmle("taken", PublishType::Live);
    l.client.create_stream();
    l.pump(|s, e| match e {
        ServerEvent::Publish { stream_id, .. } => s
            .reject_publish(*stream_id, status::PUBLISH_BAD_NAME, "in use")
            .unwrap(),
        ServerEvent::Play { stream_id, .. } => s
            .reject_play(*stream_id, status::PLAY_STREAM_NOT_FOUND, "none")
            .unwrap(),
        _ => {}
    });
    let (_, client) = l.take_events();
    assert_eq!(
        statuses(&client),
        [(1, status::PUBLISH_BAD_NAME.to_owned())]
    );
    // The rejected stream is idle again and can play; the play is rejected too.
    l.client.play(1, "nothing");
    l.pump(|s, e| {
        if let ServerEvent::Play { stream_id, .. } = e {
            s.reject_play(*stream_id, status::PLAY_STREAM_NOT_FOUND, "none")
                .unwrap();
        }
    });
    let (server, client) = l.take_events();
    assert!(matches!(
        server[..],
        [ServerEvent::Play { stream_id: 1, .. }]
    ));
    assert_eq!(
        statuses(&client),
        [(1, status::PLAY_STREAM_NOT_FOUND.to_owned())]
    );
}

#[test]
fn pause_is_answered_and_reported() {
    let mut l = connected(51);
    l.client.create_stream();
    l.client.play(1, "s");
    l.pump(accept_all);
    l.take_events();
    for paused in [true, false] {
        l.client.send_command(
            1,
            &Command::Pause {
                transaction_id: 0.0,
                paused,
                position_ms: 1500.0,
            },
        );
        l.pump(accept_all);
        let (server, client) = l.take_events();
        assert_eq!(
            server,
            vec![ServerEvent::Pause {
                stream_id: 1,
                paused,
                position_ms: 1500.0
            }]
        );
        let (code, event) = if paused {
            (status::PAUSE_NOTIFY, UserControlEvent::StreamEof(1))
        } else {
            (status::UNPAUSE_NOTIFY, UserControlEvent::StreamBegin(1))
        };
        assert_eq!(statuses(&client), [(1, code.to_owned())]);
        assert_eq!(client.last(), Some(&ClientEvent::UserControl(event)));
    }
    // closeStream stops playing; the stream remains.
    l.client.send_command(
        1,
        &Command::CloseStream {
            transaction_id: 0.0,
        },
    );
    l.pump(accept_all);
    assert_eq!(
        l.take_events().0,
        vec![ServerEvent::CloseStream { stream_id: 1 }]
    );
}

#[test]
fn enhanced_rtmp_connect_properties_are_preserved() {
    let mut l = link(61);
    let four_cc = Amf0Value::StrictArray(
        ["av01", "vp09", "hvc1", "avc1"]
            .iter()
            .map(|s| Amf0Value::String((*s).into()))
            .collect(),
    );
    let info_map = Amf0Value::Object(vec![(
        "hvc1".into(),
        Amf0Value::Number(3.0), // CanDecode | CanEncode
    )]);
    l.client.connect(
        "live",
        "rtmp://h/live",
        vec![
            ("fourCcList".into(), four_cc.clone()),
            ("videoFourCcInfoMap".into(), info_map.clone()),
            ("capsEx".into(), Amf0Value::Number(15.0)),
        ],
    );
    l.pump(accept_all);
    let (server, client) = l.take_events();
    let [ServerEvent::Connect {
        request, tc_url, ..
    }] = &server[..]
    else {
        panic!("{server:?}")
    };
    assert_eq!(tc_url, "rtmp://h/live");
    assert_eq!(
        request.four_cc_list(),
        Some(vec!["av01", "vp09", "hvc1", "avc1"])
    );
    assert_eq!(request.get("fourCcList"), Some(&four_cc));
    assert_eq!(request.get("videoFourCcInfoMap"), Some(&info_map));
    assert_eq!(request.caps_ex(), Some(15.0));
    let keys: Vec<&str> = request
        .properties()
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "app",
            "tcUrl",
            "flashVer",
            "fpad",
            "capabilities",
            "audioCodecs",
            "videoCodecs",
            "videoFunction",
            "fourCcList",
            "videoFourCcInfoMap",
            "capsEx"
        ]
    );
    let [ClientEvent::Connected { response }, ..] = &client[..] else {
        panic!("{client:?}")
    };
    assert_eq!(
        response
            .command_object
            .get("fmsVer")
            .and_then(Amf0Value::as_str),
        Some("FMS/3,5,3,888")
    );
    // The server states what it does with E-RTMP (forwards every codec,
    // reconnect, multitrack, ModEx), since this client stated E-RTMP.
    for map in ["videoFourCcInfoMap", "audioFourCcInfoMap"] {
        let any = response
            .command_object
            .get(map)
            .and_then(|m| m.get("*"))
            .and_then(Amf0Value::as_f64);
        assert_eq!(any, Some(4.0), "{map}: CanForward");
    }
    assert_eq!(
        response
            .command_object
            .get("capsEx")
            .and_then(Amf0Value::as_f64),
        Some(7.0)
    );
    let info = response.info.as_ref().unwrap();
    assert_eq!(
        info.get("code").and_then(Amf0Value::as_str),
        Some(status::CONNECT_SUCCESS)
    );
    assert_eq!(command_names(&client), ["onBWDone"]);
}

#[test]
fn simple_and_complex_handshakes_both_work() {
    for mode in [ClientMode::Simple, ClientMode::Complex] {
        let config = ClientConfig {
            handshake: mode,
            ..ClientConfig::default()
        };
        let mut l = link_with(ServerConfig::default(), config, 71);
        l.max_read = 1;
        l.client.connect("live", "rtmp://h/live", vec![]);
        l.pump(accept_all);
        let expected_complex = mode == ClientMode::Complex;
        assert_eq!(
            matches!(
                l.server.handshake_kind(),
                Some(HandshakeKind::Complex { .. })
            ),
            expected_complex
        );
        assert_eq!(
            matches!(
                l.client.handshake_kind(),
                Some(HandshakeKind::Complex { .. })
            ),
            expected_complex
        );
        assert!(matches!(
            l.take_events().1.first(),
            Some(ClientEvent::Connected { .. })
        ));
    }
}

#[test]
fn server_answers_pings() {
    let mut l = connected(81);
    // A client-side ping request, hand-encoded on a fresh chunk stream
    // state: the server has only seen fmt 0 headers from us on csid 7.
    let mut ping = ControlMessage::UserControl(UserControlEvent::PingRequest(1234)).to_message();
    ping.csid = 7;
    let bytes = rtmp_proto::chunk::ChunkEncoder::new().encode_to_vec(&ping);
    l.server.handle_input(0, &bytes).unwrap();
    l.pump(accept_all);
    let responses: Vec<_> = decode_wire(&l.to_client)
        .iter()
        .filter_map(|m| ControlMessage::decode(m.type_id, &m.payload).ok())
        .filter(|c| {
            matches!(
                c,
                ControlMessage::UserControl(UserControlEvent::PingResponse(_))
            )
        })
        .collect();
    assert_eq!(
        responses,
        [ControlMessage::UserControl(UserControlEvent::PingResponse(
            1234
        ))]
    );
    assert_eq!(l.take_events(), (vec![], vec![]));
}

#[test]
fn connect_arguments_after_the_command_object_reach_the_server() {
    // SRS's edge identity (`debug_srs_upnode`).
    let mut l = link(67);
    let identity = Amf0Value::Object(vec![
        ("srs_sig".into(), Amf0Value::String("rtmp-server".into())),
        ("srs_pid".into(), Amf0Value::Number(42.0)),
    ]);
    l.client.connect_with_args(
        "live",
        "rtmp://h/live?token=t",
        vec![],
        vec![identity.clone()],
    );
    l.pump(accept_all);
    let (server, client) = l.take_events();
    let [ServerEvent::Connect {
        request, tc_url, ..
    }] = &server[..]
    else {
        panic!("{server:?}")
    };
    assert_eq!(tc_url, "rtmp://h/live?token=t");
    assert_eq!(request.extra, vec![identity]);
    assert!(matches!(
        client.first(),
        Some(ClientEvent::Connected { .. })
    ));
}
