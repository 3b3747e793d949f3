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

#[test]
fn a_silent_rtmp_flood_leaves_the_api_and_http_answering_and_room_for_a_publisher() {
    const RTMP_BUDGET: usize = 20;
    const FLOOD: usize = 40;
    let flv = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start_from(bin, |dir| {
            support::test_config(dir, "rtmp_max_connections 20;", "")
                .replace("max_connections 1000;", "max_connections 30;")
        });
        // Silent sockets: no handshake, held until the connect deadline.
        let mut flood: Vec<TcpStream> = (0..FLOOD)
            .map(|_| TcpStream::connect(server.rtmp).expect("connect"))
            .collect();
        let mut refused = 0;
        let mut held = Vec::new();
        for mut s in flood.drain(..) {
            s.set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
            if closed_by_server(&mut s) {
                refused += 1;
            } else {
                held.push(s);
            }
        }
        assert_eq!(held.len(), RTMP_BUDGET, "the RTMP port holds its budget");
        assert_eq!(refused, FLOOD - RTMP_BUDGET);
        // The API has its own pool, the HTTP server room in the global one.
        let (status, _, _) = support::http("GET", server.api, "/api/v1/versions");
        assert_eq!(status, 200, "the API answers during the flood");
        let (status, _, _) = support::http("GET", server.http, "/");
        assert!(status > 0, "the HTTP server answers during the flood");
        // The refusals are summarised: one line at once, one summary later.
        let summary = support::wait_for(Duration::from_secs(5), || {
            server.log_text().contains("connections in").then_some(())
        });
        let log = server.log_text();
        assert!(summary.is_some(), "a summary line; log:\n{log}");
        let lines = log
            .lines()
            .filter(|l| l.contains("rtmp_max_connections reached"))
            .count();
        assert!(
            (1..=3).contains(&lines),
            "{refused} refusals took {lines} lines; log:\n{log}"
        );
        // Budget freed: a publisher gets in.
        held.truncate(RTMP_BUDGET - 2);
        std::thread::sleep(Duration::from_millis(300));
        let publisher = Publisher::start(&flv, &server.rtmp_url("in"), false);
        let (ok, stderr) = publisher.wait(Duration::from_secs(30));
        assert!(
            ok,
            "the publisher gets in once the budget has room; ffmpeg: {stderr}"
        );
        drop(held);
    });
}

#[test]
fn the_api_answers_when_rtmp_fills_max_connections() {
    each_server(|bin| {
        let server = ServerProcess::start_from(bin, |dir| {
            support::test_config(dir, "", "")
                .replace("max_connections 1000;", "max_connections 10;")
        });
        let mut held = Vec::new();
        for _ in 0..15 {
            let mut s = TcpStream::connect(server.rtmp).expect("connect");
            s.set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
            if !closed_by_server(&mut s) {
                held.push(s);
            }
        }
        assert_eq!(held.len(), 10, "RTMP fills max_connections");
        // SRS counts API connections in max_connections: here the API has
        // its own pool (http_api { max_connections 64; } by default).
        for _ in 0..3 {
            let (status, _, _) = support::http("GET", server.api, "/api/v1/versions");
            assert_eq!(status, 200, "the API answers with max_connections full");
        }
        let log = server.log_text();
        assert!(
            log.contains("refused: max_connections reached"),
            "the refusal names the global pool; log:\n{log}"
        );
    });
}

#[test]
fn the_server_wide_reassembly_budget_closes_growing_holders_and_is_reported() {
    const SOCKETS: usize = 20;
    const BUDGET: u64 = 1 << 20;
    each_server(|bin| {
        let server = ServerProcess::start_configured(bin, "rtmp_reassembly_budget 1048576;", "");
        // Each socket starts two messages just under the pre-connect cap and
        // sends their first chunk: about 120 KiB held per socket, allowed by
        // its own caps; nine of them fill the server's budget.
        let mut enc = ChunkEncoder::new();
        let mut wire = Vec::new();
        for csid in [4, 5] {
            let msg = enc.encode_to_vec(&RawMessage {
                csid,
                timestamp: 0,
                type_id: MessageType::Video,
                stream_id: 1,
                payload: Bytes::from(vec![0u8; 60_000]),
            });
            // The 12-byte header and the first 128-byte chunk.
            wire.extend_from_slice(&msg[..140]);
        }
        let mut sockets = Vec::new();
        for _ in 0..SOCKETS {
            let mut s = handshaken(server.rtmp);
            s.write_all(&wire).expect("send");
            std::thread::sleep(Duration::from_millis(20));
            sockets.push(s);
        }
        let mut closed = 0;
        for s in &mut sockets {
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            if closed_by_server(s) {
                closed += 1;
            }
        }
        assert!(
            (1..SOCKETS).contains(&closed),
            "past the budget some sockets are closed, not all: {closed}"
        );
        let (status, _, body) = support::http("GET", server.api, "/api/v1/summaries");
        assert_eq!(status, 200);
        let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let r = &json["data"]["rtmp_reassembly"];
        assert_eq!(r["budget_bytes"], BUDGET);
        assert_eq!(r["closed"], closed as u64, "{json}");
        let held = r["held_bytes"].as_u64().expect("held_bytes");
        assert!(
            held > 0 && held <= BUDGET + (128 << 10),
            "held {held} within the budget"
        );
        let log = server.log_text();
        assert!(
            log.contains("server-wide reassembly budget exceeded"),
            "the reason is logged; log:\n{log}"
        );
        drop(sockets);
    });
}
