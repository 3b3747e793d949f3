//! The router driven synchronously on a manual clock and an in-memory file
//! system: files, traversal, the index page, HTTP-FLV and the API's JSON.

use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use futures_util::FutureExt;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Body;
use hyper::header::{self, HeaderMap};
use hyper::{Method, Request, StatusCode};
use media_core::MediaKind;
use serde_json::Value;

use super::body::ResponseBody;
use super::testing::ManualRuntime;
use super::{router, HttpOptions, Role};
use crate::config::{Config, DEFAULT_VHOST};
use crate::context::ServerCtx;
use crate::hub::{ClientInfo, ClientKind, ClientRegistration, PublishGuard, StreamKey};

const PEER: &str = "192.0.2.7:50000";

fn setup() -> (Arc<ManualRuntime>, Arc<ServerCtx>) {
    let rt = ManualRuntime::new();
    let ctx = ServerCtx::new(rt.clone(), Config::default());
    (rt, ctx)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("json body")
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

fn respond<B>(ctx: &Arc<ServerCtx>, role: Role, req: Request<B>) -> hyper::Response<ResponseBody>
where
    B: Body + Send,
    B::Data: Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    router::handle(
        ctx,
        req,
        PEER.parse::<SocketAddr>().unwrap(),
        role,
        &HttpOptions::default(),
    )
    .now_or_never()
    .expect("handler completes without waiting")
}

fn ask(ctx: &Arc<ServerCtx>, role: Role, method: Method, uri: &str) -> Answer {
    ask_with(ctx, role, method, uri, &[])
}

fn ask_with(
    ctx: &Arc<ServerCtx>,
    role: Role,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "example.com:8080");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let req = req.body(Empty::<Bytes>::new()).unwrap();
    let resp = respond(ctx, role, req);
    let (parts, body) = resp.into_parts();
    assert!(
        matches!(
            body,
            ResponseBody::Full(_) | ResponseBody::File(_) | ResponseBody::Shared(_)
        ),
        "complete body expected for {uri}"
    );
    let body = body.collect().now_or_never().unwrap().unwrap().to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

fn get(ctx: &Arc<ServerCtx>, role: Role, uri: &str) -> Answer {
    ask(ctx, role, Method::GET, uri)
}

fn put_file(rt: &ManualRuntime, ctx: &ServerCtx, rel: &str, data: &'static [u8]) {
    rt.mem_fs()
        .put(ctx.http().dir.join(rel), Bytes::from_static(data));
}

fn key(stream: &str) -> StreamKey {
    StreamKey {
        vhost: DEFAULT_VHOST.into(),
        app: "live".into(),
        stream: stream.into(),
    }
}

/// A publisher connected as an RTMP client would be.
fn publish(ctx: &Arc<ServerCtx>, stream: &str) -> (ClientRegistration, PublishGuard) {
    let id = ctx.hub.next_id();
    let reg = ctx.hub.register_client(ClientInfo::new(
        id,
        "198.51.100.1:40000".into(),
        ctx.now_ms(),
    ));
    let vhost = ctx.vhost(DEFAULT_VHOST);
    let source = ctx.hub.source(&key(stream), || vhost.source_options());
    let guard = ctx.hub.publish(&source, id, ctx.now_ms()).unwrap();
    reg.info().set_kind(ClientKind::RtmpPublish);
    reg.info().update(|d| {
        d.stream = Some(key(stream));
        d.source_id = Some(source.id);
        d.url = "rtmp://example.com/live".into();
    });
    (reg, guard)
}

#[test]
fn serves_hls_files_with_types_and_cors() {
    let (rt, ctx) = setup();
    put_file(&rt, &ctx, "live/s.m3u8", b"#EXTM3U\n");
    put_file(&rt, &ctx, "live/s-0.ts", b"\x47\x40\x00\x10");

    let a = get(&ctx, Role::Server, "/live/s.m3u8");
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.header(header::CONTENT_TYPE),
        "application/vnd.apple.mpegurl"
    );
    assert_eq!(a.header(header::CACHE_CONTROL), "no-cache");
    assert_eq!(a.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    assert_eq!(a.header(header::CONTENT_LENGTH), "");
    assert_eq!(&a.body[..], b"#EXTM3U\n");
    assert!(
        a.header(header::DATE).ends_with("GMT"),
        "{}",
        a.header(header::DATE)
    );

    let a = get(&ctx, Role::Server, "/live/s-0.ts");
    assert_eq!(a.header(header::CONTENT_TYPE), "video/mp2t");
    assert_eq!(&a.body[..], b"\x47\x40\x00\x10");

    // Percent-encoded names decode before lookup.
    put_file(&rt, &ctx, "live/a b.m3u8", b"x");
    assert_eq!(
        get(&ctx, Role::Server, "/live/a%20b.m3u8").status,
        StatusCode::OK
    );

    let head = ask(&ctx, Role::Server, Method::HEAD, "/live/s.m3u8");
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header(header::CONTENT_LENGTH), "8");
    assert!(head.body.is_empty());

    assert_eq!(
        get(&ctx, Role::Server, "/live/missing.ts").status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&ctx, Role::Server, "/live/").status,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn serves_one_byte_range_of_a_file() {
    let (rt, ctx) = setup();
    put_file(&rt, &ctx, "vod/a.flv", b"0123456789");
    let file = |method: Method, headers: &[(&str, &str)]| {
        ask_with(&ctx, Role::Server, method, "/vod/a.flv", headers)
    };
    let range = |h: &str| file(Method::GET, &[("range", h)]);
    let whole = |a: Answer| {
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(&a.body[..], b"0123456789");
        a
    };

    let a = whole(get(&ctx, Role::Server, "/vod/a.flv"));
    assert_eq!(a.header(header::ACCEPT_RANGES), "bytes");

    let a = range("bytes=2-5");
    assert_eq!(a.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(a.header(header::CONTENT_RANGE), "bytes 2-5/10");
    assert_eq!(a.header(header::CONTENT_TYPE), "video/x-flv");
    assert_eq!(&a.body[..], b"2345");
    assert_eq!(&range("bytes=-3").body[..], b"789");
    assert_eq!(&range("bytes=7-100").body[..], b"789");

    let a = range("bytes=10-");
    assert_eq!(a.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(a.header(header::CONTENT_RANGE), "bytes */10");

    // Several ranges, or a conditional one, get the whole file.
    whole(range("bytes=0-1,4-5"));
    whole(file(
        Method::GET,
        &[("range", "bytes=0-1"), ("if-range", "\"x\"")],
    ));

    // HEAD tells the range's length without sending it.
    let a = file(Method::HEAD, &[("range", "bytes=4-")]);
    assert_eq!(a.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(a.header(header::CONTENT_LENGTH), "6");
    assert!(a.body.is_empty());
}

#[test]
fn refuses_traversal_and_other_methods() {
    let (rt, ctx) = setup();
    rt.mem_fs().put("/etc/passwd", Bytes::from_static(b"root"));
    for uri in [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/live/..%2f..%2fetc/passwd",
    ] {
        let a = get(&ctx, Role::Server, uri);
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(!a.text().contains("root"));
    }
    assert_eq!(
        get(&ctx, Role::Server, "/a%zz").status,
        StatusCode::BAD_REQUEST
    );
    let a = ask(&ctx, Role::Server, Method::POST, "/live/s.m3u8");
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(a.header(header::ALLOW).contains("GET"));

    let a = ask(&ctx, Role::Server, Method::OPTIONS, "/live/s.m3u8");
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    // Only what the HTTP server answers: POST, PUT and DELETE are 405 here.
    assert_eq!(a.header(header::ALLOW), "GET, HEAD, OPTIONS");
    assert_eq!(
        a.header(header::ACCESS_CONTROL_ALLOW_METHODS),
        "GET, HEAD, OPTIONS"
    );
}

#[test]
fn paths_that_cannot_name_a_file_are_404_not_500() {
    let (rt, ctx) = setup();
    put_file(&rt, &ctx, "index.html", b"<html>home</html>");
    assert_eq!(
        get(&ctx, Role::Server, "/index.html").status,
        StatusCode::OK
    );
    // A file where a directory would be: ENOTDIR on a disk.
    for uri in ["/index.html/", "/index.html/x", "/index.html/x/y.ts"] {
        assert_eq!(
            get(&ctx, Role::Server, uri).status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    // A segment longer than any file name (NAME_MAX), and a path longer than
    // PATH_MAX made of segments that are each short enough.
    let long = "a".repeat(super::files::NAME_MAX + 1);
    let a = get(&ctx, Role::Server, &format!("/{long}.ts"));
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let deep = format!("/{}x.ts", format!("{}/", "b".repeat(250)).repeat(20));
    assert_eq!(get(&ctx, Role::Server, &deep).status, StatusCode::NOT_FOUND);
    // The longest name a file system holds is still served.
    let name = format!("{}.ts", "c".repeat(super::files::NAME_MAX - 3));
    put_file(&rt, &ctx, &name, b"ts");
    let a = get(&ctx, Role::Server, &format!("/{name}"));
    assert_eq!(a.status, StatusCode::OK);
}

#[test]
fn options_announces_what_each_route_answers() {
    let (_rt, ctx) = setup();
    let (publisher, _guard) = publish(&ctx, "cam");
    let client = format!("/api/v1/clients/{}", publisher.info().id);
    let read_only = "GET, HEAD, OPTIONS";
    for (role, uri, allow) in [
        (Role::Api, "/", read_only),
        (Role::Api, "/api/v1/streams", read_only),
        (Role::Api, "/api/v1/streams/1", read_only),
        (Role::Api, "/api/v1/clients", read_only),
        (Role::Both, "/api/v1/versions", read_only),
        (Role::Api, client.as_str(), "GET, HEAD, DELETE, OPTIONS"),
        (Role::Both, client.as_str(), "GET, HEAD, DELETE, OPTIONS"),
        (Role::Both, "/", read_only),
    ] {
        let a = ask(&ctx, role, Method::OPTIONS, uri);
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert_eq!(a.header(header::ALLOW), allow, "{uri}");
        assert_eq!(
            a.header(header::ACCESS_CONTROL_ALLOW_METHODS),
            allow,
            "{uri}"
        );
    }
    assert_eq!(
        ask(&ctx, Role::Api, Method::OPTIONS, "/api/v2/nothing").status,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn the_api_answers_exactly_the_methods_it_announces() {
    let (_rt, ctx) = setup();
    let (publisher, _guard) = publish(&ctx, "cam");
    let client = format!("/api/v1/clients/{}", publisher.info().id);
    let paths = [
        "/",
        "/api",
        "/api/v1",
        "/api/v1/versions",
        "/api/v1/summaries",
        "/api/v1/vhosts",
        "/api/v1/vhosts/__defaultVhost__",
        "/api/v1/streams",
        "/api/v1/streams/1",
        "/api/v1/clients",
        "/api/v1/clients/999999",
        "/api/v1/nothing",
        "/api/v1/streams/1/x",
    ];
    for path in paths {
        let allow = super::api::allowed_methods(path, true);
        // DELETE last: it kicks the publisher.
        for method in [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::DELETE,
        ] {
            let a = ask(&ctx, Role::Api, method.clone(), path);
            let announced = allow.is_some_and(|m| m.split(", ").any(|m| m == method.as_str()));
            if announced {
                assert_ne!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            } else if allow.is_some() {
                assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                assert_eq!(a.header(header::ALLOW), allow.unwrap(), "{method} {path}");
            } else {
                assert_eq!(a.status, StatusCode::NOT_FOUND, "{method} {path}");
            }
        }
    }
    let a = ask(&ctx, Role::Api, Method::DELETE, &client);
    assert_eq!(a.status, StatusCode::OK);
    assert!(publisher.info().is_kicked());
}

#[test]
fn api_cors_can_be_limited_to_listed_origins() {
    let rt = ManualRuntime::new();
    let mut config = Config::default();
    config.http_api.allow_origins = vec!["https://console.example.com".into()];
    let ctx = ServerCtx::new(rt.clone(), config);
    let listed = [("origin", "https://console.example.com")];
    let other = [("origin", "https://evil.example")];

    let a = ask_with(
        &ctx,
        Role::Api,
        Method::OPTIONS,
        "/api/v1/clients/1",
        &listed,
    );
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.header(header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "https://console.example.com"
    );
    assert!(a
        .header(header::ACCESS_CONTROL_ALLOW_METHODS)
        .contains("DELETE"));
    assert_eq!(a.header(header::VARY), "Origin");

    // Another origin is told nothing: the browser refuses the call.
    for headers in [&other[..], &[]] {
        let a = ask_with(
            &ctx,
            Role::Api,
            Method::OPTIONS,
            "/api/v1/clients/1",
            headers,
        );
        assert_eq!(a.status, StatusCode::NO_CONTENT);
        assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert!(a
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_METHODS)
            .is_none());
        assert_eq!(a.header(header::VARY), "Origin");
        let a = ask_with(&ctx, Role::Api, Method::GET, "/api/v1/versions", headers);
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    }
    let a = ask_with(&ctx, Role::Both, Method::GET, "/api/v1/versions", &listed);
    assert_eq!(
        a.header(header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "https://console.example.com"
    );
    // The HTTP server (HLS, HTTP-FLV) still serves pages from anywhere.
    let a = ask_with(&ctx, Role::Both, Method::GET, "/", &other);
    assert_eq!(a.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");

    // SRS's default: any origin; `crossdomain off`: none.
    let (_rt, ctx) = setup();
    let a = ask_with(&ctx, Role::Api, Method::OPTIONS, "/api/v1/streams", &other);
    assert_eq!(a.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    assert!(a.headers.get(header::VARY).is_none());
    let mut config = Config::default();
    config.http_api.crossdomain = false;
    let ctx = ServerCtx::new(rt, config);
    let a = ask_with(&ctx, Role::Api, Method::OPTIONS, "/api/v1/streams", &listed);
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(a.header(header::ALLOW), "GET, HEAD, OPTIONS");
    assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[test]
fn oversized_bodies_are_refused_and_small_ones_ignored() {
    let (_rt, ctx) = setup();
    let big = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/versions")
        .header(
            header::CONTENT_LENGTH,
            (super::MAX_REQUEST_BODY + 1).to_string(),
        )
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = respond(&ctx, Role::Api, big);
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(resp.headers()[header::CONNECTION], "close");

    // A body larger than the limit without a Content-Length is caught while reading.
    let chunked = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/versions")
        .body(Full::new(Bytes::from(vec![
            b'x';
            super::MAX_REQUEST_BODY + 1
        ])))
        .unwrap();
    assert_eq!(
        respond(&ctx, Role::Api, chunked).status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );

    let small = Request::builder()
        .method(Method::GET)
        .uri("/api/v1/versions")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    assert_eq!(respond(&ctx, Role::Api, small).status(), StatusCode::OK);
}

#[test]
fn index_lists_live_streams_escaped() {
    let (rt, ctx) = setup();
    let a = get(&ctx, Role::Server, "/");
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header(header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert!(a.text().contains("No live streams"));
    assert!(
        a.text().contains("rtmp://example.com/live/NAME"),
        "{}",
        a.text()
    );

    let _cam = publish(&ctx, "cam");
    let _evil = publish(&ctx, "<script>x</script>");
    let page = get(&ctx, Role::Server, "/").text();
    assert!(page.contains("href=\"/live/cam.m3u8\""), "{page}");
    assert!(page.contains("href=\"/live/cam.flv\""), "{page}");
    assert!(page.contains("rtmp://example.com/live/cam"));
    assert!(
        !page.contains("<script>"),
        "stream names are escaped: {page}"
    );
    assert!(
        page.contains("/live/%3Cscript%3Ex%3C"),
        "links are encoded: {page}"
    );

    // An index.html in the document root wins.
    put_file(&rt, &ctx, "index.html", b"<h1>mine</h1>");
    assert_eq!(get(&ctx, Role::Server, "/").text(), "<h1>mine</h1>");
}

#[test]
fn roles_split_api_and_server() {
    let (_rt, ctx) = setup();
    assert_eq!(
        get(&ctx, Role::Server, "/api/v1/versions").status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&ctx, Role::Both, "/api/v1/versions").status,
        StatusCode::OK
    );
    assert!(get(&ctx, Role::Both, "/").text().contains("<html>"));
    let root = get(&ctx, Role::Api, "/").json();
    assert_eq!(root["urls"]["api"], "the api root");
    assert_eq!(
        get(&ctx, Role::Api, "/live/s.m3u8").status,
        StatusCode::NOT_FOUND
    );
    let v1 = get(&ctx, Role::Api, "/api/v1/").json();
    assert!(v1["urls"]["streams"].is_string());
}

#[test]
fn api_credentials_are_required_once_configured() {
    let rt = ManualRuntime::new();
    let mut config = Config::default();
    config.http_api.auth = Some(crate::config::ApiAuth {
        username: "ops".into(),
        password: "pw".into(),
    });
    let ctx = ServerCtx::new(rt.clone(), config);
    let (publisher, _guard) = publish(&ctx, "cam");
    let id = publisher.info().id;
    let good = "Basic b3BzOnB3"; // ops:pw
    let bad = "Basic b3BzOnB4"; // ops:px

    for (role, uri) in [
        (Role::Api, "/"),
        (Role::Api, "/api/v1/versions"),
        (Role::Both, "/api/v1/streams"),
    ] {
        let a = get(&ctx, role, uri);
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert!(a
            .header(header::WWW_AUTHENTICATE)
            .starts_with("Basic realm="));
        let a = ask_with(&ctx, role, Method::GET, uri, &[("authorization", bad)]);
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}");
        let a = ask_with(&ctx, role, Method::GET, uri, &[("authorization", good)]);
        assert_eq!(a.status, StatusCode::OK, "{uri}");
    }
    // Kicking is refused without them, and works with them.
    let kick = format!("/api/v1/clients/{id}");
    let a = ask(&ctx, Role::Api, Method::DELETE, &kick);
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(!publisher.info().is_kicked());
    let a = ask_with(
        &ctx,
        Role::Api,
        Method::DELETE,
        &kick,
        &[("authorization", good)],
    );
    assert_eq!(a.status, StatusCode::OK);
    assert!(publisher.info().is_kicked());

    // Browsers send CORS preflights without credentials; the HTTP server
    // (HLS, HTTP-FLV, files) never asks for them.
    let a = ask(&ctx, Role::Api, Method::OPTIONS, "/api/v1/streams");
    assert_eq!(a.status, StatusCode::OK);
    assert!(a
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS)
        .contains("Authorization"));
    assert!(get(&ctx, Role::Both, "/").text().contains("<html>"));
}

#[test]
fn versions_and_summaries_envelopes() {
    let (rt, ctx) = setup();
    let v = get(&ctx, Role::Api, "/api/v1/versions");
    assert_eq!(v.header(header::CONTENT_TYPE), "application/json");
    let v = v.json();
    assert_eq!(v["code"], 0);
    assert!(v["server"].is_string() && v["service"].is_string());
    assert_eq!(v["pid"], std::process::id().to_string());
    assert_eq!(v["data"]["version"], crate::VERSION);
    let expected: Vec<u64> = crate::VERSION
        .split('.')
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(v["data"]["major"], expected[0]);
    assert_eq!(v["data"]["minor"], expected[1]);
    assert_eq!(v["data"]["revision"], expected[2]);

    // No /proc in the in-memory file system: best effort, not ok.
    let s = get(&ctx, Role::Api, "/api/v1/summaries").json();
    assert_eq!(s["data"]["ok"], false);
    assert_eq!(s["data"]["self"]["pid"], std::process::id());

    rt.mem_fs().put(
        "/proc/self/status",
        Bytes::from_static(b"Name: x\nVmRSS:\t  2048 kB\n"),
    );
    rt.mem_fs()
        .put("/proc/self/stat", Bytes::from_static(b"1 (x) S 77 1 1"));
    rt.mem_fs().put(
        "/proc/meminfo",
        Bytes::from_static(b"MemTotal: 8192 kB\nMemAvailable: 2048 kB\n"),
    );
    rt.mem_fs().put(
        "/proc/stat",
        Bytes::from_static(b"cpu 1\ncpu0 1\ncpu1 1\ncpu2 1\n"),
    );
    rt.mem_fs()
        .put("/proc/uptime", Bytes::from_static(b"100.5 300.25\n"));
    rt.mem_fs().put(
        "/proc/loadavg",
        Bytes::from_static(b"0.50 0.25 0.125 1/2 3\n"),
    );
    let s = get(&ctx, Role::Api, "/api/v1/summaries").json();
    let d = &s["data"];
    assert_eq!(d["ok"], true);
    assert_eq!(d["self"]["ppid"], 77);
    assert_eq!(d["self"]["mem_kbyte"], 2048);
    assert_eq!(d["self"]["mem_percent"], 0.25);
    assert_eq!(d["system"]["mem_ram_kbyte"], 8192);
    assert_eq!(d["system"]["mem_ram_percent"], 0.75);
    assert_eq!(d["system"]["cpus"], 3);
    assert_eq!(d["system"]["uptime"], 100.5);
    assert_eq!(d["system"]["load_15m"], 0.125);
}

/// An H.264 Baseline 640x360 sequence header built bit by bit (ISO 14496-10
/// 7.3.2.1 SPS, 7.3.2.2 PPS; ISO 14496-15 5.2.4.1 decoder configuration) in an
/// FLV video tag, so codec parsing is exercised without corpus files.
fn avc_sequence_header() -> Bytes {
    struct Bits(Vec<bool>);
    impl Bits {
        fn put(&mut self, v: u32, n: u32) {
            for i in (0..n).rev() {
                self.0.push(v >> i & 1 == 1);
            }
        }
        fn ue(&mut self, v: u32) {
            let x = v + 1;
            let len = 32 - x.leading_zeros();
            self.put(0, len - 1);
            self.put(x, len);
        }
        fn rbsp(mut self) -> Vec<u8> {
            self.0.push(true);
            let pad = (8 - self.0.len() % 8) % 8;
            for _ in 0..pad {
                self.0.push(false);
            }
            self.0
                .chunks(8)
                .map(|c| c.iter().fold(0u8, |acc, b| acc << 1 | u8::from(*b)))
                .collect()
        }
    }
    let mut sps = Bits(Vec::new());
    sps.put(0x67, 8);
    sps.put(66, 8); // profile_idc: Baseline
    sps.put(0, 8); // constraint flags
    sps.put(30, 8); // level_idc 3.0
    sps.ue(0); // seq_parameter_set_id
    sps.ue(0); // log2_max_frame_num_minus4
    sps.ue(2); // pic_order_cnt_type
    sps.ue(1); // max_num_ref_frames
    sps.put(0, 1); // gaps_in_frame_num_value_allowed_flag
    sps.ue(39); // pic_width_in_mbs_minus1: 640
    sps.ue(22); // pic_height_in_map_units_minus1: 368
    sps.put(1, 1); // frame_mbs_only_flag
    sps.put(1, 1); // direct_8x8_inference_flag
    sps.put(1, 1); // frame_cropping_flag
    sps.ue(0);
    sps.ue(0);
    sps.ue(0);
    sps.ue(4); // crop bottom 2*4: 360
    sps.put(0, 1); // vui_parameters_present_flag
    let sps = sps.rbsp();
    let mut pps = Bits(Vec::new());
    pps.put(0x68, 8);
    pps.ue(0);
    pps.ue(0);
    pps.put(0, 2);
    pps.ue(0);
    pps.ue(0);
    pps.ue(0);
    pps.put(0, 3);
    pps.ue(0);
    pps.ue(0);
    pps.ue(0);
    pps.put(0b100, 3);
    let pps = pps.rbsp();
    let mut tag = vec![0x17, 0, 0, 0, 0, 1, 66, 0, 30, 0xFF, 0xE1];
    tag.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    tag.extend_from_slice(&sps);
    tag.push(1);
    tag.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    tag.extend_from_slice(&pps);
    Bytes::from(tag)
}

#[test]
fn streams_and_clients_json_shapes() {
    let (rt, ctx) = setup();
    let (publisher, guard) = publish(&ctx, "cam");
    let source = guard.source().clone();
    source.push(MediaKind::Video, 0, avc_sequence_header());
    // AAC LC, 44.1 kHz, stereo AudioSpecificConfig (ISO 14496-3 1.6.2.1).
    source.push(
        MediaKind::Audio,
        0,
        Bytes::from_static(&[0xAF, 0x00, 0x12, 0x10]),
    );
    source.push(
        MediaKind::Video,
        40,
        Bytes::from_static(&[0x27, 1, 0, 0, 0, 0xAA]),
    );
    publisher.info().add_in(250_000);
    rt.advance(std::time::Duration::from_secs(2));

    // A player on the same stream.
    let player_id = ctx.hub.next_id();
    let player =
        ctx.hub
            .register_client(ClientInfo::new(player_id, "[2001:db8::1]:6000".into(), 0));
    player.info().set_kind(ClientKind::RtmpPlay);
    player.info().update(|d| {
        d.stream = Some(key("cam"));
        d.source_id = Some(source.id);
    });
    player.info().add_out(500_000);

    let all = get(&ctx, Role::Api, "/api/v1/streams").json();
    assert_eq!(all["code"], 0);
    let streams = all["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 1);
    let s = &streams[0];
    assert_eq!(s["id"], source.id);
    assert_eq!(s["name"], "cam");
    assert_eq!(s["vhost"], DEFAULT_VHOST);
    assert_eq!(s["app"], "live");
    assert_eq!(s["tcUrl"], "rtmp://example.com/live");
    assert_eq!(s["url"], "/live/cam");
    assert_eq!(s["clients"], 2);
    assert_eq!(s["frames"], 3);
    assert_eq!(
        s["recv_bytes"],
        source
            .stats
            .bytes_in
            .load(std::sync::atomic::Ordering::Relaxed)
    );
    assert_eq!(s["send_bytes"], 500_000);
    assert_eq!(s["kbps"]["recv_30s"], 1000, "250 kB in 2 s");
    assert_eq!(s["kbps"]["send_30s"], 2000);
    assert_eq!(s["publish"]["active"], true);
    assert_eq!(s["publish"]["cid"], publisher.info().id);
    assert_eq!(s["live_ms"], ctx.rt.unix_time_ms() - 2000);
    assert_eq!(s["video"]["codec"], "H264");
    assert_eq!(s["video"]["profile"], "Baseline");
    assert_eq!(s["video"]["level"], "3.0");
    assert_eq!(s["video"]["width"], 640);
    assert_eq!(s["video"]["height"], 360);
    assert_eq!(s["audio"]["codec"], "AAC");
    assert_eq!(s["audio"]["sample_rate"], 44100);
    assert_eq!(s["audio"]["channel"], 2);

    let one = get(&ctx, Role::Api, &format!("/api/v1/streams/{}", source.id)).json();
    assert_eq!(one["stream"]["name"], "cam");
    // A second stream counts only its own clients.
    let (other, _other_guard) = publish(&ctx, "desk");
    other
        .info()
        .update(|d| d.url = "rtmp://example.com/live?desk".into());
    let streams = get(&ctx, Role::Api, "/api/v1/streams").json();
    let by_name = |name: &str| {
        streams["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_name("cam")["clients"], 2);
    assert_eq!(by_name("cam")["send_bytes"], 500_000);
    assert_eq!(by_name("desk")["clients"], 1);
    assert_eq!(by_name("desk")["send_bytes"], 0);
    assert_eq!(by_name("desk")["publish"]["cid"], other.info().id);
    assert_eq!(by_name("desk")["tcUrl"], "rtmp://example.com/live?desk");
    drop((other, _other_guard));
    let missing = get(&ctx, Role::Api, "/api/v1/streams/424242");
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["code"], 2048);
    assert_eq!(
        get(&ctx, Role::Api, "/api/v1/streams/abc").json()["code"],
        2048
    );

    let clients = get(&ctx, Role::Api, "/api/v1/clients").json();
    let list = clients["clients"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let p = list.iter().find(|c| c["publish"] == true).unwrap();
    assert_eq!(p["id"], publisher.info().id);
    assert_eq!(p["type"], "fmle-publish");
    assert_eq!(p["ip"], "198.51.100.1");
    assert_eq!(p["vhost"], DEFAULT_VHOST);
    assert_eq!(p["stream"], source.id);
    assert_eq!(p["tcUrl"], "rtmp://example.com/live");
    assert_eq!(p["url"], "/live/cam");
    assert_eq!(p["name"], "cam");
    assert_eq!(p["alive"], 2.0);
    assert_eq!(p["recv_bytes"], 250_000);
    assert_eq!(p["kbps"]["recv_30s"], 1000);
    for field in ["pageUrl", "swfUrl", "send_bytes"] {
        assert!(!p[field].is_null(), "{field}");
    }
    let one = get(&ctx, Role::Api, &format!("/api/v1/clients/{player_id}")).json();
    assert_eq!(one["client"]["type"], "rtmp-play");
    assert_eq!(one["client"]["ip"], "2001:db8::1");
    assert_eq!(one["client"]["publish"], false);

    let vhosts = get(&ctx, Role::Api, "/api/v1/vhosts").json();
    let v = &vhosts["vhosts"][0];
    assert_eq!(v["name"], DEFAULT_VHOST);
    assert_eq!(v["clients"], 2);
    assert_eq!(v["streams"], 1);
    assert_eq!(v["hls"]["enabled"], true);
    assert!(v["hls"]["fragment"].as_f64().unwrap() > 0.0);
    let one = get(&ctx, Role::Api, &format!("/api/v1/vhosts/{DEFAULT_VHOST}")).json();
    assert_eq!(one["vhost"]["id"], DEFAULT_VHOST);
    assert_eq!(
        get(&ctx, Role::Api, "/api/v1/vhosts/nope").json()["code"],
        2014
    );

    // JSONP.
    let j = get(&ctx, Role::Api, "/api/v1/versions?callback=cb_1");
    assert_eq!(j.header(header::CONTENT_TYPE), "text/javascript");
    assert!(j.text().starts_with("cb_1({\"code\":0"), "{}", j.text());
    assert_eq!(
        get(&ctx, Role::Api, "/api/v1/versions?callback=alert(1)").status,
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn kbps_covers_the_last_half_minute_not_the_whole_session() {
    let (rt, ctx) = setup();
    let (publisher, _guard) = publish(&ctx, "cam");
    let info = publisher.info().clone();
    let recv = |ctx: &Arc<ServerCtx>| {
        get(ctx, Role::Api, &format!("/api/v1/clients/{}", info.id)).json()["client"]["kbps"]
            ["recv_30s"]
            .as_u64()
            .unwrap()
    };
    // A minute at 1000 kbit/s (125 kB/s), sampled as the housekeeping timer does.
    for _ in 0..6 {
        info.add_in(1_250_000);
        rt.advance(std::time::Duration::from_millis(crate::hub::RATE_SAMPLE_MS));
        ctx.hub.sample_traffic(ctx.now_ms());
    }
    assert_eq!(recv(&ctx), 1000);
    // Then 40 s at 100 kbit/s: the session average would still be 640.
    for _ in 0..4 {
        info.add_in(125_000);
        rt.advance(std::time::Duration::from_millis(crate::hub::RATE_SAMPLE_MS));
        ctx.hub.sample_traffic(ctx.now_ms());
    }
    assert_eq!(recv(&ctx), 100);
    let streams = get(&ctx, Role::Api, "/api/v1/streams").json();
    assert_eq!(streams["streams"][0]["kbps"]["recv_30s"], 100);
}

#[test]
fn delete_kicks_and_unknown_client_is_2049() {
    let (_rt, ctx) = setup();
    let (publisher, _guard) = publish(&ctx, "cam");
    let id = publisher.info().id;
    let a = ask(
        &ctx,
        Role::Api,
        Method::DELETE,
        &format!("/api/v1/clients/{id}"),
    );
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["code"], 0);
    assert!(publisher.info().is_kicked());

    let a = ask(&ctx, Role::Api, Method::DELETE, "/api/v1/clients/999999");
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json()["code"], 2049);
    let a = get(&ctx, Role::Api, "/api/v1/clients/999999");
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json()["code"], 2049);
    assert_eq!(
        ask(&ctx, Role::Api, Method::DELETE, "/api/v1/streams").status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        get(&ctx, Role::Api, "/api/v2/nothing").status,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn lists_page_like_srs() {
    let (_rt, ctx) = setup();
    let regs: Vec<_> = (0..12)
        .map(|_| {
            ctx.hub
                .register_client(ClientInfo::new(ctx.hub.next_id(), PEER.into(), 0))
        })
        .collect();
    let count = |uri: &str| {
        get(&ctx, Role::Api, uri).json()["clients"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count("/api/v1/clients"), 10);
    assert_eq!(count("/api/v1/clients?count=100"), 12);
    assert_eq!(count("/api/v1/clients?start=10"), 2);
    drop(regs);
    assert_eq!(count("/api/v1/clients"), 0);
}

#[test]
fn flv_mount_streams_live_and_registers_the_player() {
    let (_rt, ctx) = setup();
    let req = Request::builder()
        .uri("/live/cam.flv?token=1")
        .header(header::HOST, "example.com:8080")
        .header(header::USER_AGENT, "test-player")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = respond(&ctx, Role::Server, req);
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "video/x-flv");
    let mut body = resp.into_body();
    assert!(matches!(body, ResponseBody::Flv(_)));

    let clients = ctx.hub.clients();
    assert_eq!(clients.len(), 1);
    let player = clients[0].clone();
    assert_eq!(player.kind(), ClientKind::FlvPlay);
    assert_eq!(player.details().stream, Some(key("cam")));
    assert_eq!(
        player.details().url,
        "http://example.com:8080/live/cam.flv?token=1"
    );
    assert_eq!(player.details().agent, "test-player");
    assert_eq!(player.peer, PEER);

    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut next = || match std::pin::Pin::new(&mut body).poll_frame(&mut cx) {
        Poll::Ready(Some(Ok(f))) => {
            let mut pieces = f.into_data().unwrap();
            Some(pieces.copy_to_bytes(pieces.remaining()))
        }
        Poll::Pending => None,
        other => panic!("unexpected {:?}", other.map(|o| o.map(|r| r.is_ok()))),
    };
    assert_eq!(next().unwrap(), &super::flv::FLV_FILE_HEADER[..]);
    assert!(next().is_none(), "waits for the publisher");
    let (_p, guard) = publish(&ctx, "cam");
    guard
        .source()
        .push(MediaKind::Audio, 0, Bytes::from_static(&[0xAF, 1, 7]));
    // The tag's header and payload come as one frame (one write).
    let tag = next().unwrap();
    assert_eq!(tag.len(), 15 + 3);
    assert_eq!(tag[4], 8);
    assert_eq!(&tag[15..], &[0xAF, 1, 7]);

    // Kicked through the API: the body errors, so hyper drops the connection.
    let a = ask(
        &ctx,
        Role::Api,
        Method::DELETE,
        &format!("/api/v1/clients/{}", player.id),
    );
    assert_eq!(a.status, StatusCode::OK);
    assert!(matches!(
        std::pin::Pin::new(&mut body).poll_frame(&mut cx),
        Poll::Ready(Some(Err(_)))
    ));

    // HEAD on a mount answers without subscribing.
    let before = ctx.hub.clients().len();
    let head = ask(&ctx, Role::Server, Method::HEAD, "/live/other.flv");
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header(header::CONTENT_TYPE), "video/x-flv");
    assert_eq!(ctx.hub.clients().len(), before);
}

#[test]
fn flv_file_on_disk_is_served_when_no_stream_exists() {
    let (rt, ctx) = setup();
    put_file(&rt, &ctx, "live/recorded.flv", b"FLV\x01");
    let a = get(&ctx, Role::Server, "/live/recorded.flv");
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header(header::CONTENT_TYPE), "video/x-flv");
    assert_eq!(&a.body[..], b"FLV\x01");
    assert!(ctx.hub.clients().is_empty());
}

/// E-RTMP v2 multitrack: each track's bytes are counted apart and measured
/// over the window of the stream's `recv_30s`; the API gives the listed
/// tracks (1 and up) a `kbps`, the metrics every track, track 0's too.
#[test]
fn multitrack_tracks_have_their_own_kbps_in_api_and_metrics() {
    use media_core::MediaKind;
    const AVC_RECORD: &[u8] = &[
        0x01, 0x42, 0xd0, 0x0b, 0xff, 0xe1, 0x00, 0x18, 0x67, 0x42, 0xd0, 0x0b, 0xda, 0x0a, 0x11,
        0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x1e, 0x8f, 0x12,
        0x26, 0xa0, 0x01, 0x00, 0x04, 0x68, 0xce, 0x3c, 0x80,
    ];
    /// A ManyTracks avc1 message of `packet` type with these track bodies.
    fn video(packet: u8, tracks: &[&[u8]]) -> Bytes {
        let mut p = vec![0x80 | (1 << 4) | 6, (1 << 4) | packet];
        p.extend_from_slice(b"avc1");
        for (id, body) in tracks.iter().enumerate() {
            p.push(id as u8);
            p.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
            p.extend_from_slice(body);
        }
        Bytes::from(p)
    }
    /// A OneTrack mp4a message of track 1.
    fn audio(packet: u8, body: &[u8]) -> Bytes {
        let mut p = vec![0x95, packet];
        p.extend_from_slice(b"mp4a\x01");
        p.extend_from_slice(body);
        Bytes::from(p)
    }
    let (rt, ctx) = setup();
    let (_publisher, guard) = publish(&ctx, "mt");
    let source = guard.source().clone();
    source.push(MediaKind::Video, 0, video(0, &[AVC_RECORD, AVC_RECORD]));
    source.push(
        MediaKind::Audio,
        0,
        Bytes::from_static(&[0xaf, 0, 0x12, 0x10]),
    );
    source.push(MediaKind::Audio, 0, audio(0, &[0x12, 0x10]));
    // Every 10 s: video track 0 100 kB, track 1 25 kB (80 and 20 kbit/s),
    // audio track 0 12.5 kB (legacy AAC), track 1 6.25 kB (10 and 5).
    let mut frame0 = vec![0, 0, 0];
    frame0.resize(100_000, 0x65);
    let mut frame1 = vec![0, 0, 0];
    frame1.resize(25_000, 0x65);
    let mut aac0 = vec![0xaf, 1];
    aac0.resize(12_500, 0x21);
    for t in 1..=6u64 {
        source.push(MediaKind::Video, t * 10_000, video(1, &[&frame0, &frame1]));
        source.push(MediaKind::Audio, t * 10_000, Bytes::from(aac0.clone()));
        source.push(MediaKind::Audio, t * 10_000, audio(1, &[0x21; 6_250]));
        rt.advance(std::time::Duration::from_millis(crate::hub::RATE_SAMPLE_MS));
        ctx.hub.sample_traffic(ctx.now_ms());
    }
    let streams = get(&ctx, Role::Api, "/api/v1/streams").json();
    let tracks = streams["streams"][0]["tracks"].as_array().unwrap().clone();
    let kbps = |kind: &str| {
        tracks
            .iter()
            .find(|t| t["type"] == kind && t["id"] == 1)
            .map(|t| t["kbps"]["recv_30s"].as_u64().unwrap())
    };
    assert_eq!(tracks.len(), 2, "{tracks:?}");
    assert_eq!(kbps("video"), Some(20), "{tracks:?}");
    assert_eq!(kbps("audio"), Some(5), "{tracks:?}");
    assert_eq!(tracks[0]["width"], 160, "codec details stay: {tracks:?}");

    let metrics = get(&ctx, Role::Exporter, "/metrics").text();
    let labels = |kind: &str, track: u8| {
        format!(
            "srs_stream_track_receive_kbps{{vhost=\"{DEFAULT_VHOST}\",app=\"live\",stream=\"mt\",type=\"{kind}\",track=\"{track}\"}}"
        )
    };
    for (kind, track, value) in [
        ("video", 0, 80),
        ("video", 1, 20),
        ("audio", 0, 10),
        ("audio", 1, 5),
    ] {
        let line = format!("{} {value}\n", labels(kind, track));
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }

    // A single-track stream: no per-track series, no tracks.
    let (_other, plain) = publish(&ctx, "plain");
    plain
        .source()
        .push(MediaKind::Audio, 0, Bytes::from(aac0.clone()));
    ctx.hub.sample_traffic(ctx.now_ms());
    let metrics = get(&ctx, Role::Exporter, "/metrics").text();
    assert!(!metrics.contains("stream=\"plain\",type="), "{metrics}");
}

/// LL-HLS: a complete segment held in memory answers as its file would
/// (whole, one byte range across its buffers, 416, HEAD) with the parts'
/// long-lived Cache-Control; one no longer held comes from its file.
#[test]
fn ll_hls_segments_in_memory_answer_like_their_files() {
    let (rt, ctx) = setup();
    let dir = ctx.http().dir.clone();
    let playlist = dir.join("live/s.m3u8");
    let buffers = vec![
        Bytes::from_static(b"0123456789"),
        Bytes::from_static(b"abcdef"),
        Bytes::from_static(b"XYZ"),
    ];
    ctx.hls
        .live
        .publish_segment(&playlist, dir.join("live/s-5.m4s"), 5, buffers);
    ctx.hls.live.publish_part(
        &playlist,
        dir.join("live/s-6.0.m4s"),
        6,
        Bytes::from_static(b"part bytes"),
    );
    // An older segment, out of memory, only on disk.
    put_file(&rt, &ctx, "live/s-1.m4s", b"on disk");

    let a = get(&ctx, Role::Server, "/live/s-5.m4s");
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(&a.body[..], b"0123456789abcdefXYZ");
    assert_eq!(
        a.header(header::CACHE_CONTROL),
        "public, max-age=60, immutable"
    );
    assert_eq!(a.header(header::CONTENT_TYPE), "video/iso.segment");
    assert_eq!(a.header(header::ACCEPT_RANGES), "bytes");

    let range =
        |r: &str, uri: &str| ask_with(&ctx, Role::Server, Method::GET, uri, &[("range", r)]);
    let a = range("bytes=8-17", "/live/s-5.m4s");
    assert_eq!(a.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&a.body[..], b"89abcdefXY");
    assert_eq!(a.header(header::CONTENT_RANGE), "bytes 8-17/19");
    let a = range("bytes=-2", "/live/s-5.m4s");
    assert_eq!(&a.body[..], b"YZ");
    let a = range("bytes=19-", "/live/s-5.m4s");
    assert_eq!(a.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(a.header(header::CONTENT_RANGE), "bytes */19");
    // A part, the same way.
    let a = range("bytes=5-", "/live/s-6.0.m4s");
    assert_eq!(a.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&a.body[..], b"bytes");
    assert_eq!(a.header(header::CONTENT_RANGE), "bytes 5-9/10");

    let head = ask(&ctx, Role::Server, Method::HEAD, "/live/s-5.m4s");
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.header(header::CONTENT_LENGTH), "19");
    assert_eq!(
        head.header(header::CACHE_CONTROL),
        "public, max-age=60, immutable"
    );

    let a = get(&ctx, Role::Server, "/live/s-1.m4s");
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(&a.body[..], b"on disk");
    assert_eq!(a.header(header::CACHE_CONTROL), "");
}
