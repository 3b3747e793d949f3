//! ServerSession: arbitrary bytes from a client, with an application that
//! accepts every decision and echoes published media back as a player would
//! receive it. Nothing may panic; every error must be a SessionError.
//!
//! Random bytes almost never make a valid handshake, so the first byte picks
//! a prefix: 3 feeds the input as is (C0 is 3), 2 puts a genuine simple
//! handshake and a `connect` in front, anything else a genuine handshake only.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_proto::chunk::ChunkEncoder;
use rtmp_proto::command::{Command, Connect};
use rtmp_proto::handshake::{ClientMode, HandshakeClient};
use rtmp_proto::session::{encode_shared_media, ServerConfig, ServerEvent, ServerSession};

#[path = "../common/reads.rs"]
mod reads;

/// C0C1 + C2 of a simple handshake with `server` (which has consumed C0C1).
fn handshake(server: &mut ServerSession) -> Option<Vec<u8>> {
    let mut client = HandshakeClient::new(0, [1; 32], ClientMode::Simple);
    let c0c1 = client.poll_transmit()?;
    server.handle_input(0, &c0c1).ok()?;
    let mut out = Vec::new();
    server.poll_transmit(&mut out);
    let s0s1s2: Vec<u8> = out.iter().flat_map(|b| b.iter().copied()).collect();
    client.handle_input(&s0s1s2).ok()?;
    Some(client.poll_transmit()?.to_vec())
}

fuzz_target!(|data: &[u8]| {
    let mut server = ServerSession::new(ServerConfig::default(), 0, [7; 32]);
    let input = match data.first() {
        Some(3) => data.to_vec(),
        Some(2) => {
            let Some(mut c2) = handshake(&mut server) else {
                return;
            };
            let connect = Command::Connect(Connect::new("live", "rtmp://h/live", vec![]));
            c2.extend(ChunkEncoder::new().encode_to_vec(&connect.to_message(3, 0)));
            c2.extend_from_slice(data.get(1..).unwrap_or_default());
            c2
        }
        _ => {
            let Some(mut c2) = handshake(&mut server) else {
                return;
            };
            c2.extend_from_slice(data);
            c2
        }
    };

    let mut out = Vec::new();
    reads::in_reads(&input, |piece| {
        if server.handle_input(0, piece).is_err() {
            return false;
        }
        while let Some(event) = server.poll_event() {
            let answered = match event {
                ServerEvent::Connect { .. } => server.accept_connect(),
                ServerEvent::Publish { stream_id, .. } => server.accept_publish(stream_id),
                ServerEvent::Play { stream_id, .. } => server.accept_play(stream_id),
                ServerEvent::Media { stream_id, message } => {
                    server.send_media(stream_id, &message);
                    let shared = encode_shared_media(server.out_chunk_size(), stream_id, &message);
                    server.send_encoded(&shared);
                    Ok(())
                }
                _ => Ok(()),
            };
            if answered.is_err() {
                return false;
            }
        }
        server.poll_transmit(&mut out);
        out.clear();
        assert_eq!(server.queued_bytes(), 0);
        true
    });
});
