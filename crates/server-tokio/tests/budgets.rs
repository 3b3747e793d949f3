//! Memory budgets against hostile RTMP clients (issue 23 part 2), on both
//! server builds: before `connect` is accepted a socket may make the server
//! hold kilobytes, and a vhost's `max_message` caps one message after it.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::Bytes;
use rtmp_proto::chunk::ChunkEncoder;
use rtmp_proto::handshake::{ClientMode, HandshakeClient};
use rtmp_proto::{MessageType, RawMessage};
use support::{each_server, media, Media, Publisher, ServerProcess};

/// The server's resident set size in KiB (`VmRSS` of /proc/PID/status).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// A TCP connection to `addr` past a simple RTMP handshake.
fn handshaken(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut client = HandshakeClient::new(0, [7; 32], ClientMode::Simple);
    s.write_all(&client.poll_transmit().expect("C0C1")).unwrap();
    let mut s0s1s2 = vec![0u8; 1 + 1536 * 2];
    s.read_exact(&mut s0s1s2).expect("S0S1S2");
    assert_eq!(client.handle_input(&s0s1s2).expect("S0S1S2"), s0s1s2.len());
    s.write_all(&client.poll_transmit().expect("C2")).unwrap();
    s
}

/// Whether the server closed `s` (reads end or fail with a reset) within 5 s.
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn pre_connect_large_messages_are_refused_and_rss_stays_bounded() {
    const SOCKETS: usize = 100;
    const SENT_EACH: usize = 1 << 20;
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let pid = server.child.id();
        // The attack: each socket starts a message of the largest size the
        // wire describes (16 MiB - 1) and sends 1 MiB of it. With the
        // configured 32 MiB reassembly cap alone, the server would hold
        // 100 MiB for as long as the connect deadline.
        let mut enc = ChunkEncoder::new();
        let wire = enc.encode_to_vec(&RawMessage {
            csid: 3,
            timestamp: 0,
            type_id: MessageType::CommandAmf0,
            stream_id: 0,
            payload: Bytes::from(vec![0u8; (1 << 24) - 1]),
        });
        let before = rss_kib(pid);
        let mut sockets = Vec::new();
        for _ in 0..SOCKETS {
            let mut s = handshaken(server.rtmp);
            // The server closes the socket at the message header: writes
            // past that fail, which is the point.
            let _ = s.write_all(&wire[..SENT_EACH]);
            sockets.push(s);
        }
        std::thread::sleep(Duration::from_millis(500));
        let after = rss_kib(pid);
        let grown = after.saturating_sub(before);
        assert!(
            grown < 32 * 1024,
            "RSS grew by {grown} KiB ({before} -> {after}) under {SOCKETS} sockets sending \
             {SENT_EACH} bytes each before connect"
        );
        for s in &mut sockets {
            assert!(
                closed_by_server(s),
                "the server keeps a refused socket open"
            );
        }
        let log = server.log_text();
        assert!(
            log.contains(&format!(
                "message of {} bytes on chunk stream 3 exceeds the limit 65536",
                (1 << 24) - 1
            )),
            "the refusal is logged with its reason; log:\n{log}"
        );
    });
}

#[test]
fn a_vhost_max_message_refuses_larger_messages_after_connect() {
    let flv = media(Media::AvcAac);
    each_server(|bin| {
        // 640x360 key frames are well over 4096 bytes.
        let server = ServerProcess::start_with(bin, "max_message 4096;");
        let publisher = Publisher::start(&flv, &server.rtmp_url("big"), false);
        let (ok, stderr) = publisher.wait(Duration::from_secs(20));
        assert!(
            !ok,
            "a publisher past max_message is cut off; ffmpeg: {stderr}"
        );
        let log = server.log_text();
        assert!(
            log.contains("exceeds the limit 4096"),
            "the refusal names the limit; log:\n{log}"
        );
    });
}
