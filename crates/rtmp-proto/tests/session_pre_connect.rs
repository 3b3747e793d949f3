//! Before its `connect` is accepted, a ServerSession decodes with tight
//! limits (kilobytes): a socket that never connects cannot make the server
//! hold megabytes of partial messages. Once accepted, the configured limits
//! (or those set with `set_limits`, a vhost's own) apply.

mod session_support;

use bytes::Bytes;
use rtmp_proto::chunk::{
    ChunkEncoder, ChunkError, Limits, PRE_CONNECT_MAX_MESSAGE_SIZE,
    PRE_CONNECT_MAX_REASSEMBLY_BYTES,
};
use rtmp_proto::command::{Command, Connect};
use rtmp_proto::control::ControlMessage;
use rtmp_proto::handshake::{ClientMode, HandshakeClient};
use rtmp_proto::session::{ServerConfig, ServerEvent, ServerSession, SessionError};
use rtmp_proto::{MessageType, RawMessage};
use session_support::accept_all;

/// A server session past a simple handshake.
fn server(config: ServerConfig) -> ServerSession {
    let mut server = ServerSession::new(config, 0, [9; 32]);
    let mut client = HandshakeClient::new(0, [3; 32], ClientMode::Simple);
    let c0c1 = client.poll_transmit().unwrap();
    server.handle_input(0, &c0c1).unwrap();
    let mut out = Vec::new();
    server.poll_transmit(&mut out);
    let s0s1s2 = session_support::concat(&out);
    assert_eq!(client.handle_input(&s0s1s2).unwrap(), s0s1s2.len());
    server
        .handle_input(0, &client.poll_transmit().unwrap())
        .unwrap();
    server
}

fn connect_msg() -> RawMessage {
    Command::Connect(Connect::new("live", "rtmp://h/live", vec![])).to_message(3, 0)
}

fn video(csid: u32, len: usize) -> RawMessage {
    RawMessage {
        csid,
        timestamp: 0,
        type_id: MessageType::Video,
        stream_id: 1,
        payload: Bytes::from(vec![0u8; len]),
    }
}

/// Connects and accepts; returns the encoder that speaks to `s`.
fn connect(s: &mut ServerSession) -> ChunkEncoder {
    let mut enc = ChunkEncoder::new();
    s.handle_input(0, &enc.encode_to_vec(&connect_msg()))
        .unwrap();
    let e = s.poll_event().unwrap();
    assert!(matches!(e, ServerEvent::Connect { .. }), "{e:?}");
    accept_all(s, &e);
    enc
}

#[test]
fn a_10mib_message_before_connect_is_refused_at_its_header() {
    let mut s = server(ServerConfig::default());
    let mut enc = ChunkEncoder::new();
    let wire = enc.encode_to_vec(&video(6, 10 << 20));
    // The first chunk (header and 128 bytes) is enough to be refused: the
    // server never buffers the rest.
    let err = s.handle_input(0, &wire[..140]).unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::Chunk(ChunkError::MessageTooLarge { length, max, .. })
                if length == 10 << 20 && max == PRE_CONNECT_MAX_MESSAGE_SIZE
        ),
        "{err:?}"
    );
    // Fatal: later input gets the same error.
    assert!(s.handle_input(0, &wire[140..300]).is_err());
}

#[test]
fn partial_messages_before_connect_are_capped_together() {
    let mut s = server(ServerConfig::default());
    let mut enc = ChunkEncoder::new();
    // Messages just under the pre-connect message cap, each sent in part on
    // its own chunk stream: each one alone is allowed, together they pass
    // the pre-connect reassembly cap.
    let len = PRE_CONNECT_MAX_MESSAGE_SIZE as usize - 1024;
    let mut refused = None;
    for csid in 4..8 {
        let wire = enc.encode_to_vec(&video(csid, len));
        // The first chunk only (12-byte header, 128 bytes): the buffer for
        // the whole message is reserved when it starts.
        if let Err(e) = s.handle_input(0, &wire[..140]) {
            refused = Some((csid, e));
            break;
        }
    }
    let (csid, err) = refused.expect("partial messages past the pre-connect cap are refused");
    let held = (csid - 4) as usize * len;
    assert!(
        held <= PRE_CONNECT_MAX_REASSEMBLY_BYTES,
        "refused only past the cap"
    );
    assert!(
        matches!(
            err,
            SessionError::Chunk(ChunkError::ReassemblyTooLarge { max, .. })
                if max == PRE_CONNECT_MAX_REASSEMBLY_BYTES
        ),
        "{err:?}"
    );
}

#[test]
fn after_connect_the_configured_limits_apply() {
    let mut s = server(ServerConfig::default());
    let mut enc = connect(&mut s);
    let mut out = Vec::new();
    s.poll_transmit(&mut out);
    // A 4 MiB message (a large key frame) is decoded once connected (media
    // on a stream that does not publish is dropped, not an error).
    let msg = video(6, 4 << 20);
    s.handle_input(0, &enc.encode_to_vec(&msg)).unwrap();
    assert!(!s.is_closed());
}

#[test]
fn set_limits_before_accept_is_what_accept_switches_to() {
    let mut s = server(ServerConfig::default());
    let mut enc = ChunkEncoder::new();
    s.handle_input(0, &enc.encode_to_vec(&connect_msg()))
        .unwrap();
    let e = s.poll_event().unwrap();
    // A vhost's own message cap: 1 MB, nginx-rtmp's `max_message` default.
    s.set_limits(Limits {
        max_message_size: 1_000_000,
        ..Limits::default()
    });
    // Still pre-connect: a 100 KiB message would be refused here, so send
    // nothing more until accepted.
    accept_all(&mut s, &e);
    // 900 KB passes, 2 MiB does not.
    s.handle_input(0, &enc.encode_to_vec(&video(6, 900_000)))
        .unwrap();
    let err = s
        .handle_input(0, &enc.encode_to_vec(&video(6, 2 << 20))[..200])
        .unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::Chunk(ChunkError::MessageTooLarge { max: 1_000_000, .. })
        ),
        "{err:?}"
    );
}

#[test]
fn set_chunk_size_and_window_before_connect_still_work() {
    // What clients really send before connect: Set Chunk Size, then connect
    // in large chunks.
    let mut s = server(ServerConfig::default());
    let mut enc = ChunkEncoder::new();
    let mut wire = enc.encode_to_vec(&ControlMessage::SetChunkSize(4096).to_message());
    enc.set_chunk_size(4096);
    wire.extend(enc.encode_to_vec(&connect_msg()));
    s.handle_input(0, &wire).unwrap();
    assert!(matches!(s.poll_event(), Some(ServerEvent::Connect { .. })));
}
