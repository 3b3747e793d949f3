//! `on_hls` and `on_hls_notify` as segments are closed, on virtual time with
//! the real server code: one `POST` with SRS's fields per segment, one `GET`
//! of the rendered template, the last segment (closed after the publisher
//! left) still named after its publisher, and a hook server that never
//! answers does not hold up slicing.

mod scenario_support;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use futures_util::{AsyncReadExt, AsyncWriteExt};
use scenario_support::{secs, start, Synthetic};
use sim::client::{PublishEnd, PublisherOptions, SimPublisher};
use sim::Sim;

const HOOKS: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 9);
const PUBLISHER: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 1);

/// One request: its request line and body.
#[derive(Debug, Clone)]
struct Request {
    line: String,
    body: String,
}

/// Reads one HTTP request (head and Content-Length body).
async fn read_request(conn: &mut sim::SimConn) -> Option<Request> {
    let mut data = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            let length = head
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Some(Request {
                    line: head.lines().next().unwrap_or_default().to_owned(),
                    body: String::from_utf8_lossy(&data[end + 4..end + 4 + length]).into_owned(),
                });
            }
        }
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}

/// The raw JSON text of `key`'s value in a flat object whose string values
/// hold no `,"` (what the server sends here).
fn json_field(object: &str, key: &str) -> String {
    let start = object
        .find(&format!("\"{key}\":"))
        .map(|i| i + key.len() + 3)
        .unwrap_or_else(|| panic!("no {key} in {object}"));
    let rest = &object[start..];
    let end = rest.find(",\"").unwrap_or(rest.len() - 1);
    rest[..end].to_owned()
}

/// A hook server on `HOOKS:8085` that records requests and answers `0`,
/// or never answers when `silent`.
fn hook_server(sim: &mut Sim, silent: bool) -> Arc<Mutex<Vec<Request>>> {
    let listener = sim
        .host(HOOKS)
        .bind(SocketAddr::from((HOOKS, 8085)))
        .expect("bind the hook server");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let h = sim.handle();
    let (h2, seen2) = (h.clone(), seen.clone());
    h.spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let (h3, seen3) = (h2.clone(), seen2.clone());
            h2.spawn(async move {
                let Some(request) = read_request(&mut conn).await else {
                    return;
                };
                seen3.lock().unwrap().push(request);
                if silent {
                    h3.sleep(secs(3600)).await;
                    return;
                }
                let _ = conn
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n0")
                    .await;
                let _ = conn.close().await;
            });
        }
    });
    seen
}

const CONFIG: &str = "
    hls { enabled on; hls_path /hls; hls_fragment 2; hls_window 60; hls_dispose 0; }
    http_hooks {
        enabled on;
        timeout 5000;
        on_hls http://10.0.0.9:8085/on_hls;
        on_hls_notify http://10.0.0.9:8085/notify/[app]/[stream]/[ts_url][param];
    }";

#[test]
fn each_closed_segment_is_announced_with_srs_fields() {
    let mut sim = Sim::from_env(52);
    let seen = hook_server(&mut sim, false);
    let (_server, rtmp) = start(&sim, Some(CONFIG));
    // Key frames every 2 s: a segment every 2 s; 9 s of media, then a clean
    // unpublish closes the last one.
    let media = Synthetic::default().messages(secs(9));
    SimPublisher::spawn(
        &sim.host(PUBLISHER),
        rtmp,
        PublisherOptions::new("live", "cam").ending(PublishEnd::Unpublish),
        media,
    );
    sim.run_for(secs(20)).unwrap();

    let requests = seen.lock().unwrap().clone();
    let posts: Vec<&str> = requests
        .iter()
        .filter(|r| r.line.starts_with("POST /on_hls "))
        .map(|r| r.body.as_str())
        .collect();
    let gets: Vec<&str> = requests
        .iter()
        .filter(|r| r.line.starts_with("GET "))
        .map(|r| r.line.as_str())
        .collect();
    let segments = sim
        .fs()
        .files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ts"))
        .count();
    assert!(segments >= 4, "{segments} segments");
    assert_eq!(posts.len(), segments, "one on_hls per segment: {posts:#?}");
    assert_eq!(gets.len(), segments, "{gets:?}");

    for (n, post) in posts.iter().enumerate() {
        let field = |key: &str| json_field(post, key);
        assert_eq!(field("action"), "\"on_hls\"");
        assert_eq!(field("seq_no"), n.to_string(), "{post}");
        assert_eq!(field("ip"), format!("\"{PUBLISHER}\""), "{post}");
        assert_eq!(field("vhost"), "\"__defaultVhost__\"");
        assert_eq!(field("app"), "\"live\"");
        assert_eq!(field("stream"), "\"cam\"");
        assert_eq!(field("url"), format!("\"live/cam-{n}.ts\""));
        assert_eq!(field("file"), format!("\"/hls/live/cam-{n}.ts\""));
        assert_eq!(field("m3u8"), "\"/hls/live/cam.m3u8\"");
        assert_eq!(field("m3u8_url"), "\"live/cam.m3u8\"");
        assert_eq!(field("stream_url"), "\"/live/cam\"");
        assert!(field("client_id").len() > 2, "{post}");
        assert!(field("tcUrl").starts_with("\"rtmp://"), "{post}");
        let duration: f64 = field("duration").parse().unwrap();
        assert!(duration > 0.0 && duration <= 2.5, "{post}");
    }
    for (n, get) in gets.iter().enumerate() {
        assert_eq!(*get, format!("GET /notify/live/cam/cam-{n}.ts HTTP/1.1"));
    }
}

#[test]
fn a_hook_server_that_never_answers_does_not_hold_up_slicing() {
    let mut sim = Sim::from_env(53);
    let seen = hook_server(&mut sim, true);
    let (_server, rtmp) = start(&sim, Some(CONFIG));
    let publisher = SimPublisher::spawn(
        &sim.host(PUBLISHER),
        rtmp,
        PublisherOptions::new("live", "cam").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(30)),
    );
    sim.run_for(secs(31)).unwrap();
    let segments = sim
        .fs()
        .files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ts"))
        .count();
    assert!(segments >= 12, "{segments} segments");
    // The stream's segment hooks run one after the other, as SRS's async
    // worker runs them: each waits out the hook timeout (10 s), so only the
    // first few were sent, and slicing went on regardless.
    let requests = seen.lock().unwrap().len();
    assert!(
        (2..2 * segments).contains(&requests),
        "{requests} requests for {segments} segments"
    );
    assert!(publisher
        .log()
        .statuses
        .iter()
        .any(|(_, c)| c == "NetStream.Publish.Start"));
}
