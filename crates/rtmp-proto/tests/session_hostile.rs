//! Hostile input to a ServerSession: errors, never panics, bounded state.

mod session_support;

use bytes::Bytes;
use rtmp_proto::amf0::{self, Amf0Value};
use rtmp_proto::chunk::{ChunkEncoder, ChunkError};
use rtmp_proto::command::{Command, CommandError, Connect};
use rtmp_proto::control::{ControlMessage, UserControlEvent};
use rtmp_proto::handshake::HandshakeServer;
use rtmp_proto::handshake::{ClientMode, HandshakeClient, HandshakeError};
use rtmp_proto::session::{
    ClientConfig, ClientSession, ServerConfig, ServerEvent, ServerSession, SessionError,
    MAX_PENDING_INPUT, MAX_QUEUED_REPLY_BYTES, MAX_STREAMS,
};
use rtmp_proto::{MessageType, RawMessage};
use session_support::{accept_all, Rng};

/// C0C1 and C2 of a simple client handshake, answered by `server`.
fn handshake(server: &mut ServerSession) {
    let mut client = HandshakeClient::new(0, [3; 32], ClientMode::Simple);
    let c0c1 = client.poll_transmit().unwrap();
    server.handle_input(0, &c0c1).unwrap();
    let mut out = Vec::new();
    server.poll_transmit(&mut out);
    let s0s1s2: Vec<u8> = session_support::concat(&out);
    assert_eq!(client.handle_input(&s0s1s2).unwrap(), s0s1s2.len());
    server
        .handle_input(0, &client.poll_transmit().unwrap())
        .unwrap();
}

fn server() -> ServerSession {
    let mut s = ServerSession::new(ServerConfig::default(), 0, [9; 32]);
    handshake(&mut s);
    s
}

fn command_msg(stream_id: u32, values: &[Amf0Value]) -> RawMessage {
    let mut body = Vec::new();
    amf0::encode(values, &mut body);
    RawMessage {
        csid: 3,
        timestamp: 0,
        type_id: MessageType::CommandAmf0,
        stream_id,
        payload: Bytes::from(body),
    }
}

fn connect_msg() -> RawMessage {
    Command::Connect(Connect::new("live", "rtmp://h/live", vec![])).to_message(3, 0)
}

/// A connected server and the encoder that speaks to it.
fn connected() -> (ServerSession, ChunkEncoder) {
    let mut s = server();
    let mut enc = ChunkEncoder::new();
    s.handle_input(0, &enc.encode_to_vec(&connect_msg()))
        .unwrap();
    let e = s.poll_event().unwrap();
    accept_all(&mut s, &e);
    (s, enc)
}

/// A 64 KiB video message on stream 1.
fn video_64k() -> RawMessage {
    RawMessage {
        csid: 6,
        timestamp: 0,
        type_id: MessageType::Video,
        stream_id: 1,
        payload: Bytes::from(vec![0u8; 64 * 1024]),
    }
}

fn text(v: &str) -> Amf0Value {
    Amf0Value::String(v.into())
}

#[test]
fn bad_version_byte_is_a_sticky_handshake_error() {
    let mut s = ServerSession::new(ServerConfig::default(), 0, [0; 32]);
    let e = s.handle_input(0, b"GET / HTTP/1.1\r\n").unwrap_err();
    assert_eq!(
        e,
        SessionError::Handshake(HandshakeError::UnsupportedVersion(b'G'))
    );
    assert_eq!(s.handle_input(0, &[3]).unwrap_err(), e);
}

#[test]
fn garbage_after_the_handshake_is_an_error() {
    // fmt 3 on a chunk stream that never had a header.
    let mut s = server();
    assert_eq!(
        s.handle_input(0, &[0xC5, 1, 2, 3, 4, 5]).unwrap_err(),
        SessionError::Chunk(ChunkError::MissingPreviousHeader { csid: 5, fmt: 3 })
    );
    // The error sticks, whatever comes next.
    assert!(s.handle_input(0, &[]).is_err());

    // A command message that is not AMF0.
    let mut s = server();
    let junk = RawMessage {
        csid: 3,
        timestamp: 0,
        type_id: MessageType::CommandAmf0,
        stream_id: 0,
        payload: Bytes::from_static(&[0x42, 0xFF, 0x00]),
    };
    let err = s
        .handle_input(0, &ChunkEncoder::new().encode_to_vec(&junk))
        .unwrap_err();
    assert!(
        matches!(err, SessionError::Command(CommandError::Amf0(_))),
        "{err}"
    );

    // Random garbage never panics, whatever it decodes to.
    let mut rng = Rng::new(77);
    for _ in 0..300 {
        let mut s = server();
        let len = rng.size(3000);
        let garbage: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = s.handle_input(0, &garbage);
        while let Some(e) = s.poll_event() {
            if let ServerEvent::Connect { .. } = e {
                let _ = s.accept_connect();
            }
        }
    }
}

#[test]
fn commands_with_wrong_types_are_errors_unknown_ones_are_events() {
    let (mut s, mut enc) = connected();
    // An unknown command with odd arguments is just reported.
    let odd = command_msg(
        0,
        &[
            text("frobnicate"),
            Amf0Value::Boolean(true),
            Amf0Value::Date {
                millis: 0.0,
                timezone: 0,
            },
        ],
    );
    s.handle_input(0, &enc.encode_to_vec(&odd)).unwrap();
    assert!(matches!(
        s.poll_event(),
        Some(ServerEvent::Command { command: Command::Unknown { ref name, transaction_id, .. }, .. })
            if name == "frobnicate" && transaction_id == 0.0
    ));
    // A publish whose name is a number is an error.
    let bad = command_msg(
        1,
        &[
            text("publish"),
            Amf0Value::Number(0.0),
            Amf0Value::Null,
            Amf0Value::Number(5.0),
        ],
    );
    let err = s.handle_input(0, &enc.encode_to_vec(&bad)).unwrap_err();
    assert_eq!(
        err,
        SessionError::Command(CommandError::InvalidArgument {
            command: "publish",
            index: 3,
            what: "publishing name"
        })
    );
}

/// Decodes what the server queued since the last call.
fn replies(s: &mut ServerSession, dec: &mut rtmp_proto::chunk::ChunkDecoder) -> Vec<Command> {
    let mut out = Vec::new();
    s.poll_transmit(&mut out);
    dec.push(&session_support::concat(&out));
    let mut commands = Vec::new();
    while let Some(m) = dec.next_message().expect("server output decodes") {
        if m.type_id == MessageType::CommandAmf0 {
            commands.push(Command::decode(&m).expect("a command"));
        }
    }
    commands
}

#[test]
fn unknown_calls_get_an_empty_result_and_notifications_nothing() {
    let (mut s, mut enc) = connected();
    let mut dec = rtmp_proto::chunk::ChunkDecoder::new(rtmp_proto::chunk::Limits::default());
    replies(&mut s, &mut dec);
    // FMLE's bandwidth check is a call (transaction id 5): answered like SRS.
    let checkbw = command_msg(
        0,
        &[text("_checkbw"), Amf0Value::Number(5.0), Amf0Value::Null],
    );
    s.handle_input(0, &enc.encode_to_vec(&checkbw)).unwrap();
    assert!(matches!(
        s.poll_event(),
        Some(ServerEvent::Command { command: Command::Unknown { ref name, .. }, .. }) if name == "_checkbw"
    ));
    let sent = replies(&mut s, &mut dec);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        matches!(&sent[0], Command::Result(r) if r.transaction_id == 5.0 && r.command_object == Amf0Value::Null),
        "{sent:?}"
    );
    // A notification (transaction id 0) gets nothing.
    let note = command_msg(
        0,
        &[
            text("receiveVideo"),
            Amf0Value::Number(0.0),
            Amf0Value::Null,
        ],
    );
    s.handle_input(0, &enc.encode_to_vec(&note)).unwrap();
    assert!(s.poll_event().is_some());
    assert!(replies(&mut s, &mut dec).is_empty());
}

#[test]
fn protocol_violations() {
    // Anything before connect.
    let mut s = server();
    let create = Command::CreateStream {
        transaction_id: 2.0,
    }
    .to_message(3, 0);
    let err = s
        .handle_input(0, &ChunkEncoder::new().encode_to_vec(&create))
        .unwrap_err();
    assert!(
        matches!(err, SessionError::UnexpectedCommand { ref command, .. } if command == "createStream")
    );

    // A second connect.
    let (mut s, mut enc) = connected();
    let err = s
        .handle_input(0, &enc.encode_to_vec(&connect_msg()))
        .unwrap_err();
    assert!(
        matches!(err, SessionError::UnexpectedCommand { ref command, .. } if command == "connect")
    );

    // publish on message stream 0.
    let (mut s, mut enc) = connected();
    let publish = command_msg(
        0,
        &[
            text("publish"),
            Amf0Value::Number(0.0),
            Amf0Value::Null,
            text("x"),
        ],
    );
    assert!(matches!(
        s.handle_input(0, &enc.encode_to_vec(&publish)),
        Err(SessionError::UnexpectedCommand { .. })
    ));
}

#[test]
fn stream_count_is_bounded() {
    let (mut s, mut enc) = connected();
    for i in 0..MAX_STREAMS {
        let create = Command::CreateStream {
            transaction_id: i as f64,
        }
        .to_message(3, 0);
        s.handle_input(0, &enc.encode_to_vec(&create)).unwrap();
    }
    let create = Command::CreateStream {
        transaction_id: 0.0,
    }
    .to_message(3, 0);
    assert_eq!(
        s.handle_input(0, &enc.encode_to_vec(&create)).unwrap_err(),
        SessionError::TooManyStreams { limit: MAX_STREAMS }
    );
}

#[test]
fn input_is_bounded_while_a_decision_is_pending() {
    let mut s = server();
    let mut enc = ChunkEncoder::new();
    s.handle_input(0, &enc.encode_to_vec(&connect_msg()))
        .unwrap();
    assert!(matches!(s.poll_event(), Some(ServerEvent::Connect { .. })));
    // The app has not answered; the client keeps sending.
    let filler = video_64k();
    let mut result = Ok(());
    for _ in 0..(MAX_PENDING_INPUT / (64 * 1024) + 2) {
        result = s.handle_input(0, &enc.encode_to_vec(&filler));
        if result.is_err() {
            break;
        }
    }
    assert!(
        matches!(result, Err(SessionError::InputBacklog { .. })),
        "{result:?}"
    );
}

#[test]
fn answering_a_decision_that_is_not_pending_is_not_fatal() {
    let (mut s, mut enc) = connected();
    assert_eq!(
        s.accept_publish(1),
        Err(SessionError::NotPending {
            decision: "publish"
        })
    );
    assert_eq!(
        s.accept_connect(),
        Err(SessionError::NotPending {
            decision: "connect"
        })
    );
    // Still usable, and a play decision cannot be answered as a publish.
    let play = command_msg(
        1,
        &[
            text("play"),
            Amf0Value::Number(0.0),
            Amf0Value::Null,
            text("x"),
        ],
    );
    s.handle_input(0, &enc.encode_to_vec(&play)).unwrap();
    assert!(matches!(
        s.poll_event(),
        Some(ServerEvent::Play { stream_id: 1, .. })
    ));
    assert!(s.accept_publish(1).is_err());
    assert!(s.accept_play(2).is_err());
    s.accept_play(1).unwrap();
    assert!(s.accept_play(1).is_err());
}

#[test]
fn malformed_aggregates_and_amf3_data_are_errors() {
    let (mut s, mut enc) = connected();
    let publish = command_msg(
        1,
        &[
            text("publish"),
            Amf0Value::Number(0.0),
            Amf0Value::Null,
            text("x"),
        ],
    );
    s.handle_input(0, &enc.encode_to_vec(&publish)).unwrap();
    s.poll_event();
    s.accept_publish(1).unwrap();
    let aggregate = RawMessage {
        csid: 6,
        timestamp: 0,
        type_id: MessageType::Aggregate,
        stream_id: 1,
        // A record claiming a 0xFFFFFF-byte body.
        payload: Bytes::from_static(&[9, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 1]),
    };
    assert!(matches!(
        s.handle_input(0, &enc.encode_to_vec(&aggregate)),
        Err(SessionError::Aggregate(_))
    ));

    let (mut s, mut enc) = connected();
    s.handle_input(0, &enc.encode_to_vec(&publish)).unwrap();
    s.poll_event();
    s.accept_publish(1).unwrap();
    let amf3 = RawMessage {
        csid: 4,
        timestamp: 0,
        type_id: MessageType::DataAmf3,
        stream_id: 1,
        payload: Bytes::from_static(&[0x11, 0x02]),
    };
    assert_eq!(
        s.handle_input(0, &enc.encode_to_vec(&amf3)),
        Err(SessionError::Command(CommandError::Amf3Format(Some(0x11))))
    );
}

/// Feeds `input` (each item one read) until an error; checks that the
/// session's queue never grows past the reply cap by more than one message's
/// answers, and that the flood ends in `PeerNotReading`. `queued` is the
/// session's `queued_bytes`.
fn flood_until_not_reading(
    reads: impl IntoIterator<Item = Vec<u8>>,
    mut feed: impl FnMut(&[u8]) -> Result<(), SessionError>,
    queued: impl Fn() -> usize,
) {
    // One message's answers: a few dozen bytes (a `_result` is the largest).
    let slack = 256;
    for read in reads {
        let result = feed(&read);
        assert!(
            queued() <= MAX_QUEUED_REPLY_BYTES + slack,
            "{} bytes queued",
            queued()
        );
        if let Err(e) = result {
            assert!(
                matches!(e, SessionError::PeerNotReading { limit, .. } if limit == MAX_QUEUED_REPLY_BYTES),
                "{e:?}"
            );
            // Sticky: the connection is over.
            assert!(feed(&[]).is_err());
            return;
        }
    }
    panic!("the flood never failed; {} bytes queued", queued());
}

/// [`flood_until_not_reading`] against a server session, its events drained
/// after each read as a server would.
fn flood_server(s: ServerSession, reads: impl IntoIterator<Item = Vec<u8>>) {
    let s = std::cell::RefCell::new(s);
    flood_until_not_reading(
        reads,
        |read| {
            let mut s = s.borrow_mut();
            let result = s.handle_input(0, read);
            while s.poll_event().is_some() {}
            result
        },
        || s.borrow().queued_bytes(),
    );
}

fn ping(t: u32) -> RawMessage {
    ControlMessage::UserControl(UserControlEvent::PingRequest(t)).to_message()
}

/// Reads of 64 Ping Requests each, from a peer that never reads the answers.
fn ping_floods() -> impl Iterator<Item = Vec<u8>> {
    let mut enc = ChunkEncoder::new();
    (0..20_000u32).map(move |i| {
        let mut read = Vec::new();
        for t in 0..64 {
            read.extend(enc.encode_to_vec(&ping(i * 64 + t)));
        }
        read
    })
}

#[test]
fn pings_from_a_peer_that_never_reads_end_the_session() {
    // Before connect: only the handshake is needed. 64 pings per read.
    flood_server(server(), ping_floods());
}

#[test]
fn calls_from_a_peer_that_never_reads_end_the_session() {
    let (mut s, mut enc) = connected();
    let mut out = Vec::new();
    s.poll_transmit(&mut out);
    let call = command_msg(
        0,
        &[text("_checkbw"), Amf0Value::Number(5.0), Amf0Value::Null],
    );
    flood_server(s, (0..100_000).map(|_| enc.encode_to_vec(&call)));
}

#[test]
fn an_ack_window_of_one_byte_read_by_read_ends_the_session() {
    let mut s = server();
    let mut enc = ChunkEncoder::new();
    s.handle_input(
        0,
        &enc.encode_to_vec(&ControlMessage::WindowAckSize(1).to_message()),
    )
    .unwrap();
    // Then messages that need no answer, one byte per read: each read is
    // acknowledged.
    let buffer = ControlMessage::UserControl(UserControlEvent::SetBufferLength {
        stream_id: 1,
        buffer_ms: 100,
    })
    .to_message();
    let bytes: Vec<u8> = (0..40_000)
        .flat_map(|_| enc.encode_to_vec(&buffer))
        .collect();
    flood_server(s, bytes.into_iter().map(|b| vec![b]));
}

#[test]
fn a_reading_peer_and_application_output_never_trip_the_reply_cap() {
    let (mut s, mut enc) = connected();
    let mut out = Vec::new();
    s.poll_transmit(&mut out);
    // A peer that pings hard but reads gets every answer.
    for i in 0..200 {
        let read: Vec<u8> = (0..1000)
            .flat_map(|t| enc.encode_to_vec(&ping(i * 1000 + t)))
            .collect();
        s.handle_input(0, &read).unwrap();
        out.clear();
        s.poll_transmit(&mut out);
    }
    // The application queues far more media than the reply cap, which
    // does not count against it...
    let video = video_64k();
    for _ in 0..(2 * MAX_QUEUED_REPLY_BYTES / (64 * 1024)) {
        s.send_media(1, &video);
    }
    let media = s.queued_bytes();
    assert!(media > 2 * MAX_QUEUED_REPLY_BYTES);
    // ...but once this peer stops reading, its replies do.
    let reads = (0..20_000u32).map(|i| {
        let mut read = Vec::new();
        for t in 0..64 {
            read.extend(enc.encode_to_vec(&ping(i * 64 + t)));
        }
        read
    });
    let s = std::cell::RefCell::new(s);
    flood_until_not_reading(
        reads,
        |read| s.borrow_mut().handle_input(0, read),
        || s.borrow().queued_bytes() - media,
    );
}

#[test]
fn a_client_that_never_reads_its_replies_fails_too() {
    let mut c = ClientSession::new(ClientConfig::default(), 0, [1; 32]);
    let mut hs = HandshakeServer::new(0, [2; 32]);
    let mut out = Vec::new();
    c.poll_transmit(&mut out);
    let c0c1 = session_support::concat(&out);
    assert_eq!(hs.handle_input(&c0c1).unwrap(), c0c1.len());
    let mut s0s1s2 = Vec::new();
    while let Some(b) = hs.poll_transmit() {
        s0s1s2.extend_from_slice(&b);
    }
    c.handle_input(0, &s0s1s2).unwrap();
    assert!(c.is_handshake_done());
    let reads = ping_floods();
    let c = std::cell::RefCell::new(c);
    flood_until_not_reading(
        reads,
        |read| c.borrow_mut().handle_input(0, read),
        || c.borrow().queued_bytes(),
    );
}
