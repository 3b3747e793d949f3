//! Enhanced RTMP v2 "Reconnect Request" between a ServerSession and a
//! ClientSession over the in-memory link: the server remembers the client's
//! `capsEx`, answers it with its own, and sends
//! `NetConnection.Connect.ReconnectRequest` only to a client that announced
//! `CapsExMask.Reconnect`.

mod session_support;

use rtmp_proto::amf0::Amf0Value;
use rtmp_proto::command::{status, Command, CAPS_EX_MULTITRACK, CAPS_EX_RECONNECT};
use rtmp_proto::session::{ClientConfig, ClientEvent, ClientSession, ServerConfig, ServerSession};
use session_support::{accept_all, decode_wire, Link};

fn connected_with(caps_ex: Option<Amf0Value>, seed: u64) -> Link {
    let mut l = Link::new(
        ServerSession::new(ServerConfig::default(), 7, [seed as u8; 32]),
        ClientSession::new(ClientConfig::default(), 9, [!seed as u8; 32]),
        seed,
    );
    let properties = caps_ex
        .map(|v| vec![("capsEx".to_owned(), v)])
        .unwrap_or_default();
    l.client.connect("live", "rtmp://h/live", properties);
    l.pump(accept_all);
    let (_, client) = l.take_events();
    assert!(
        matches!(client.first(), Some(ClientEvent::Connected { .. })),
        "{client:?}"
    );
    l
}

#[test]
fn a_client_announcing_reconnect_gets_the_request_with_tc_url() {
    let caps = f64::from(CAPS_EX_RECONNECT | CAPS_EX_MULTITRACK);
    let mut l = connected_with(Some(Amf0Value::Number(caps)), 3);
    assert!(l.server.peer_supports_reconnect());
    assert_eq!(
        l.server.peer_caps_ex(),
        CAPS_EX_RECONNECT | CAPS_EX_MULTITRACK
    );
    // The server states its own capsEx in the connect `_result`.
    let wire = decode_wire(&l.to_client);
    let result = wire
        .iter()
        .filter_map(|m| Command::decode(m).ok())
        .find_map(|c| match c {
            Command::Result(r) => Some(r),
            _ => None,
        })
        .expect("connect _result");
    assert_eq!(
        result
            .command_object
            .get("capsEx")
            .and_then(Amf0Value::as_f64),
        Some(f64::from(
            CAPS_EX_RECONNECT | CAPS_EX_MULTITRACK | rtmp_proto::command::CAPS_EX_MOD_EX
        ))
    );

    let before = l.to_client.len();
    assert!(l
        .server
        .request_reconnect(Some("rtmp://other:1935/live"), "The server is updating."));
    l.pump(accept_all);
    let (_, client) = l.take_events();
    assert!(
        client.iter().any(|e| matches!(e, ClientEvent::Status { stream_id: 0, level, code, description }
            if level == "status" && code == status::CONNECT_RECONNECT_REQUEST && description == "The server is updating.")),
        "{client:?}"
    );
    let request = l.client.reconnect_request().expect("recorded");
    assert_eq!(
        request
            .extra
            .iter()
            .find(|(k, _)| k == "tcUrl")
            .and_then(|(_, v)| v.as_str()),
        Some("rtmp://other:1935/live")
    );
    // On the wire: onStatus, transaction 0, null command object, stream 0.
    let sent = decode_wire(&l.to_client);
    let last = sent.last().expect("a message");
    assert_eq!(last.stream_id, 0);
    assert!(
        l.to_client.len() > before,
        "nothing was sent for the request"
    );

    // Without a tcUrl the client keeps its own.
    assert!(l.server.request_reconnect(None, "again"));
    l.pump(accept_all);
    let request = l.client.reconnect_request().expect("recorded");
    assert_eq!(request.description, "again");
    assert!(request.extra.iter().all(|(k, _)| k != "tcUrl"));
}

#[test]
fn clients_without_the_bit_get_nothing() {
    for (seed, caps) in [
        (5, None),
        (6, Some(Amf0Value::Number(f64::from(CAPS_EX_MULTITRACK)))),
        // Hostile values announce nothing.
        (7, Some(Amf0Value::Number(-1.0))),
        (8, Some(Amf0Value::Number(f64::NAN))),
        (9, Some(Amf0Value::Number(1.5))),
        (10, Some(Amf0Value::String("1".into()))),
    ] {
        let legacy = caps.is_none();
        let mut l = connected_with(caps, seed);
        assert!(!l.server.peer_supports_reconnect(), "seed {seed}");
        let sent = l.to_client.len();
        assert!(!l.server.request_reconnect(Some("rtmp://x/live"), "bye"));
        l.pump(accept_all);
        assert_eq!(l.to_client.len(), sent, "seed {seed}: something was sent");
        assert!(l.client.reconnect_request().is_none());
        if legacy {
            // A client that sent no capsEx sees SRS's `_result` unchanged.
            let result = decode_wire(&l.to_client)
                .iter()
                .filter_map(|m| Command::decode(m).ok())
                .find_map(|c| match c {
                    Command::Result(r) => Some(r),
                    _ => None,
                })
                .expect("connect _result");
            assert!(result.command_object.get("capsEx").is_none());
        }
    }
}

#[test]
fn no_request_before_connect_is_accepted() {
    let mut server = ServerSession::new(ServerConfig::default(), 7, [1; 32]);
    assert!(!server.request_reconnect(None, "too early"));
    assert!(!server.has_transmit());
}
