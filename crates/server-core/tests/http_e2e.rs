//! The HTTP server and API over real loopback TCP, on a tokio test runtime:
//! hyper plumbing, keep-alive, limits and timeouts, HTTP-FLV streaming and
//! kicking, stalled players, and the listeners `Server::start` wires up.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use media_core::MediaKind;
use server_core::config::{self, DEFAULT_VHOST};
use server_core::http::{serve_with, HttpOptions, Role};
use server_core::hub::{ClientInfo, ClientKind, ClientRegistration, PublishGuard, StreamKey};
use server_core::{ListenerKind, Server, ServerCtx};
use support::{TempDir, TestRuntime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn config_text(dir: &std::path::Path) -> String {
    format!(
        "listen 127.0.0.1:0;\n\
         http_api {{ enabled on; listen 127.0.0.1:0; }}\n\
         http_server {{ enabled on; listen 127.0.0.1:0; dir {dir}; }}\n\
         vhost __defaultVhost__ {{\n\
           hls {{ enabled on; hls_path {dir}; }}\n\
           http_remux {{ enabled on; mount [vhost]/[app]/[stream].flv; }}\n\
         }}\n",
        dir = dir.display()
    )
}

struct Harness {
    ctx: Arc<ServerCtx>,
    http: SocketAddr,
    api: SocketAddr,
    dir: TempDir,
}

/// A server context with an HTTP server and an API listener on ephemeral ports.
async fn start(options: HttpOptions) -> Harness {
    let dir = TempDir::new("http");
    let config = config::parse_str("test.conf", &config_text(dir.path())).expect("config");
    let rt = TestRuntime::new();
    let ctx = ServerCtx::new(rt, config);
    let mut addrs = Vec::new();
    for role in [Role::Server, Role::Api] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(listener.local_addr().unwrap());
        let ctx = ctx.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    return;
                };
                let conn = Box::new(support::TestConn::new(stream));
                tokio::spawn(serve_with(ctx.clone(), conn, peer, role, options));
            }
        });
    }
    Harness {
        ctx,
        http: addrs[0],
        api: addrs[1],
        dir,
    }
}

struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("json")
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 || data.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[(eol + 4 + size).min(data.len())..];
    }
    out
}

fn parse(buf: &[u8]) -> Reply {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of head");
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let mut body = buf[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Reply { status, head, body }
}

/// Sends `raw` (a whole request) and reads until the server closes.
async fn raw(addr: SocketAddr, raw: &str) -> Reply {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("server answers and closes")
        .unwrap();
    parse(&buf)
}

async fn request(method: &str, addr: SocketAddr, path: &str) -> Reply {
    raw(
        addr,
        &format!("{method} {path} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"),
    )
    .await
}

fn key(stream: &str) -> StreamKey {
    StreamKey {
        vhost: DEFAULT_VHOST.into(),
        app: "live".into(),
        stream: stream.into(),
    }
}

fn publish(ctx: &Arc<ServerCtx>, stream: &str) -> (ClientRegistration, PublishGuard) {
    let id = ctx.hub.next_id();
    let reg = ctx
        .hub
        .register_client(ClientInfo::new(id, "127.0.0.1:1".into(), ctx.now_ms()));
    let vhost = ctx.vhost(DEFAULT_VHOST);
    let source = ctx.hub.source(&key(stream), || vhost.source_options());
    let guard = ctx.hub.publish(&source, id, ctx.now_ms()).unwrap();
    reg.info().set_kind(ClientKind::RtmpPublish);
    reg.info().update(|d| {
        d.stream = Some(key(stream));
        d.source_id = Some(source.id);
    });
    (reg, guard)
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_index_traversal_and_api() {
    let h = start(HttpOptions::default()).await;
    std::fs::create_dir_all(h.dir.path().join("live")).unwrap();
    std::fs::write(h.dir.path().join("live/cam.m3u8"), "#EXTM3U\n").unwrap();
    std::fs::write(h.dir.path().join("secret.txt"), "inside").unwrap();

    let r = request("GET", h.http, "/live/cam.m3u8").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/vnd.apple.mpegurl")
    );
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(r.text(), "#EXTM3U\n");

    assert_eq!(request("GET", h.http, "/live/none.ts").await.status, 404);
    for path in [
        "/../../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/live/..%2F..%2Fetc/hostname",
    ] {
        let r = request("GET", h.http, path).await;
        assert_eq!(r.status, 403, "{path}");
    }

    let r = request("GET", h.http, "/").await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("No live streams"));
    let (publisher, _guard) = publish(&h.ctx, "cam");
    let page = request("GET", h.http, "/").await.text();
    assert!(
        page.contains("/live/cam.m3u8") && page.contains("/live/cam.flv"),
        "{page}"
    );

    let v = request("GET", h.api, "/api/v1/versions").await;
    assert_eq!(
        v.header("content-type").as_deref(),
        Some("application/json")
    );
    let v = v.json();
    assert_eq!(v["code"], 0);
    assert!(v["server"].is_string());
    assert_eq!(v["data"]["version"], server_core::VERSION);

    let streams = request("GET", h.api, "/api/v1/streams").await.json();
    let s = &streams["streams"][0];
    assert_eq!(s["name"], "cam");
    assert_eq!(s["publish"]["active"], true);

    let id = publisher.info().id;
    let r = request("DELETE", h.api, &format!("/api/v1/clients/{id}")).await;
    assert_eq!(r.status, 200);
    assert!(publisher.info().is_kicked());
    let r = request("GET", h.api, "/api/v1/clients/999999").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["code"], 2049);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_stream_whole_and_by_range() {
    let h = start(HttpOptions::default()).await;
    std::fs::create_dir_all(h.dir.path().join("vod")).unwrap();
    // Several read pieces long, and not a multiple of one.
    let data: Vec<u8> = (0..1_300_007u32).map(|i| (i * 7 % 253) as u8).collect();
    std::fs::write(h.dir.path().join("vod/big.flv"), &data).unwrap();

    let r = request("GET", h.http, "/vod/big.flv").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(data.len().to_string()));
    assert_eq!(r.header("accept-ranges").as_deref(), Some("bytes"));
    assert!(r.body == data, "whole file differs");

    let r = raw(
        h.http,
        "GET /vod/big.flv HTTP/1.1\r\nHost: x\r\nRange: bytes=300000-1000000\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("content-range").as_deref(),
        Some("bytes 300000-1000000/1300007")
    );
    assert!(r.body == data[300_000..=1_000_000], "range differs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_limits_and_silent_clients() {
    let options = HttpOptions {
        header_read_timeout: Duration::from_millis(400),
        ..HttpOptions::default()
    };
    let h = start(options).await;

    // Two requests on one connection.
    let mut s = TcpStream::connect(h.api).await.unwrap();
    for _ in 0..2 {
        s.write_all(b"GET /api/v1/versions HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let reply = read_response(&mut s).await;
        assert_eq!(reply.status, 200, "{}", reply.head);
        assert_eq!(reply.json()["code"], 0);
    }

    // An oversized head is refused.
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(server_core::http::MAX_REQUEST_HEAD * 2)
    );
    let r = raw(h.http, &big).await;
    assert_eq!(r.status, 431);

    // Too large a body: refused with 413, without reading it.
    let r = raw(
        h.api,
        "POST /api/v1/versions HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 413);

    // A client that says nothing is dropped after the header timeout.
    let started = Instant::now();
    let mut silent = TcpStream::connect(h.http).await.unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
        .await
        .expect("silent client dropped")
        .unwrap_or(0);
    let elapsed = started.elapsed();
    assert!(
        n == 0 || String::from_utf8_lossy(&buf[..n]).contains("408"),
        "{n}"
    );
    assert!(
        elapsed >= Duration::from_millis(300),
        "dropped too early: {elapsed:?}"
    );
}

/// Reads one whole `Content-Length` response from a kept-alive connection
/// (the head and body may arrive in separate reads).
async fn read_response(s: &mut TcpStream) -> Reply {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let want = buf.len() + 1;
        read_at_least(s, &mut buf, want).await;
    };
    let reply = parse(&buf[..head_end]);
    let length: usize = reply
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .expect("content-length");
    read_at_least(s, &mut buf, head_end + length).await;
    assert_eq!(buf.len(), head_end + length, "nothing beyond the response");
    parse(&buf)
}

/// Reads from `s` until `buf` holds at least `want` bytes.
async fn read_at_least(s: &mut TcpStream, buf: &mut Vec<u8>, want: usize) {
    let mut chunk = vec![0u8; 64 * 1024];
    while buf.len() < want {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk))
            .await
            .expect("data in time")
            .unwrap();
        assert!(n > 0, "closed early");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flv_player_streams_then_is_kicked() {
    let h = start(HttpOptions::default()).await;
    let mut s = TcpStream::connect(h.http).await.unwrap();
    s.write_all(b"GET /live/cam.flv HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    read_at_least(&mut s, &mut buf, 10).await;
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let want = buf.len() + 1;
        read_at_least(&mut s, &mut buf, want).await;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: video/x-flv"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");

    eventually("player registered", || {
        h.ctx
            .hub
            .clients()
            .iter()
            .any(|c| c.kind() == ClientKind::FlvPlay)
    })
    .await;
    let player = h
        .ctx
        .hub
        .clients()
        .into_iter()
        .find(|c| c.kind() == ClientKind::FlvPlay)
        .unwrap();

    let (_publisher, guard) = publish(&h.ctx, "cam");
    // Let the player take the publish news alone and park on the merge rule,
    // as it does when media follows the publish by more than a moment.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let payload: Vec<u8> = [0xAF, 0x01]
        .into_iter()
        .chain((0..200u8).cycle().take(3000))
        .collect();
    guard
        .source()
        .push(MediaKind::Audio, 0, Bytes::from(payload.clone()));
    // Players are written to once a merge window (`mw_latency`) of media has
    // gathered: more frames at AAC's cadence (23 ms, so jitter correction keeps
    // their spacing) release the first.
    for i in 1..=30u64 {
        guard
            .source()
            .push(MediaKind::Audio, i * 23, Bytes::from(payload.clone()));
    }
    // FLV header (9) + prev/tag header (15) + payload, in chunks.
    let mut body = Vec::new();
    while body.len() < 9 + 15 + payload.len() {
        let want = buf.len() + 1;
        read_at_least(&mut s, &mut buf, want).await;
        body = dechunk(&buf[head_end..]);
    }
    assert_eq!(&body[..3], b"FLV");
    assert_eq!(&body[9..13], &[0, 0, 0, 0]);
    assert_eq!(body[13], 8, "audio tag");
    assert_eq!(&body[24..24 + payload.len()], &payload[..]);

    let api = request("GET", h.api, &format!("/api/v1/clients/{}", player.id))
        .await
        .json();
    assert_eq!(api["client"]["type"], "flv-play");
    assert!(api["client"]["send_bytes"].as_u64().unwrap() >= payload.len() as u64);

    let r = request("DELETE", h.api, &format!("/api/v1/clients/{}", player.id)).await;
    assert_eq!(r.status, 200);
    let mut rest = vec![0u8; 64 * 1024];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match s.read(&mut rest).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "kicked player's connection still open");
    eventually("kicked player unlisted", || {
        h.ctx.hub.client(player.id).is_none()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_flv_player_is_dropped() {
    let options = HttpOptions {
        send_timeout: Duration::from_millis(300),
        ..HttpOptions::default()
    };
    let h = start(options).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(h.http).await.unwrap();
    s.write_all(b"GET /live/big.flv HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    eventually("player registered", || {
        h.ctx
            .hub
            .clients()
            .iter()
            .any(|c| c.kind() == ClientKind::FlvPlay)
    })
    .await;

    let (_publisher, guard) = publish(&h.ctx, "big");
    let frame = Bytes::from(vec![0x17; 256 * 1024]);
    // 64 MiB over 8 s of media: well within the queue bound, far beyond socket buffers.
    for i in 0..256u64 {
        guard.source().push(MediaKind::Video, i * 32, frame.clone());
    }
    eventually("stalled player dropped", || {
        !h.ctx
            .hub
            .clients()
            .iter()
            .any(|c| c.kind() == ClientKind::FlvPlay)
    })
    .await;
    drop(s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_start_wires_http_and_api_listeners() {
    let dir = TempDir::new("wiring");
    let config = config::parse_str("test.conf", &config_text(dir.path())).unwrap();
    let server = Server::start(TestRuntime::new(), config).unwrap();
    let api = server.addrs(ListenerKind::HttpApi)[0];
    let http = server.addrs(ListenerKind::HttpServer)[0];
    let v = request("GET", api, "/api/v1/versions").await.json();
    assert_eq!(v["code"], 0);
    let r = request("GET", http, "/").await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<html>"));
    assert_eq!(request("GET", http, "/api/v1/versions").await.status, 404);
}
