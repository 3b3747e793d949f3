//! ClientSession: arbitrary bytes from a server (what a forwarder, an edge
//! pull or rtmp-load meets), with an application that connects, creates a
//! stream and plays or publishes as the answers come. Nothing may panic; every
//! error must be a SessionError, and output must always drain.
//!
//! The first byte picks the opening: 3 feeds the input as is (S0 is 3), any
//! other value puts a genuine server handshake in front (made by a real
//! ServerSession answering this client's C0C1); its low bit picks publishing
//! (FMLE style) or playing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_proto::command::PublishType;
use rtmp_proto::session::{ClientConfig, ClientEvent, ClientSession, ServerConfig, ServerSession};

#[path = "../common/reads.rs"]
mod reads;

/// S0S1S2 from a real server for `client`'s queued C0C1.
fn server_handshake(client: &mut ClientSession) -> Option<Vec<u8>> {
    let mut c0c1 = Vec::new();
    client.poll_transmit(&mut c0c1);
    let mut server = ServerSession::new(ServerConfig::default(), 0, [9; 32]);
    for bytes in &c0c1 {
        server.handle_input(0, bytes).ok()?;
    }
    let mut out = Vec::new();
    server.poll_transmit(&mut out);
    Some(out.iter().flat_map(|b| b.iter().copied()).collect())
}

fuzz_target!(|data: &[u8]| {
    let mut client = ClientSession::new(ClientConfig::default(), 0, [5; 32]);
    client.connect("live", "rtmp://h/live", vec![]);
    let publish = data.first().is_some_and(|b| b & 1 == 1);
    let input = match data.first() {
        Some(3) => data.to_vec(),
        _ => {
            let Some(mut s) = server_handshake(&mut client) else {
                return;
            };
            s.extend_from_slice(data.get(1..).unwrap_or_default());
            s
        }
    };

    let mut out = Vec::new();
    reads::in_reads(&input, |piece| {
        if client.handle_input(0, piece).is_err() {
            return false;
        }
        while let Some(event) = client.poll_event() {
            match event {
                ClientEvent::Connected { .. } if publish => {
                    client.publish_fmle("s", PublishType::Live);
                }
                ClientEvent::Connected { .. } => {
                    client.create_stream();
                }
                ClientEvent::StreamCreated { stream_id, .. } if !publish => {
                    client.play(stream_id, "s");
                }
                _ => {}
            }
        }
        client.poll_transmit(&mut out);
        out.clear();
        assert_eq!(client.queued_bytes(), 0);
        true
    });
});
