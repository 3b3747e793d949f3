//! The hook client against a real hook server on 127.0.0.1, on the tokio
//! runtime: SRS's answer contract, chains, failures, time and concurrency
//! bounds, and https with a CA made at test time.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{AsyncReadExt, AsyncWriteExt};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use server_core::hooks::{
    HookEvent, HookLimits, HookRequest, Hooks, HttpHooksConfig, MAX_BODY_BYTES,
};
use server_core::runtime::Runtime;
use server_tokio::TokioRuntime;

/// One request the hook server received.
#[derive(Debug, Clone)]
struct Call {
    method: String,
    target: String,
    head: String,
    body: String,
}

impl Call {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// What the hook server does with a request.
#[derive(Clone)]
enum Reply {
    /// Waits, then answers with these raw bytes and closes.
    Raw(Duration, Vec<u8>),
}

fn answer(status: u16, body: &str) -> Reply {
    Reply::Raw(
        Duration::ZERO,
        format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

fn raw(bytes: &[u8]) -> Reply {
    Reply::Raw(Duration::ZERO, bytes.to_vec())
}

fn late(delay: Duration, reply: Reply) -> Reply {
    let Reply::Raw(_, bytes) = reply;
    Reply::Raw(delay, bytes)
}

type Replier = Arc<dyn Fn(&Call) -> Reply + Send + Sync>;

/// A hook server on 127.0.0.1 (plain or TLS) that records every call.
struct HookServer {
    addr: SocketAddr,
    calls: Arc<Mutex<Vec<Call>>>,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
}

impl HookServer {
    async fn start(
        rt: &Arc<TokioRuntime>,
        replier: impl Fn(&Call) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::start_with(rt, Arc::new(replier), None).await
    }

    async fn start_with(
        rt: &Arc<TokioRuntime>,
        replier: Replier,
        tls: Option<futures_rustls::TlsAcceptor>,
    ) -> Self {
        let listener = rt.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most_in_flight = Arc::new(AtomicUsize::new(0));
        let (c, f, m) = (calls.clone(), in_flight.clone(), most_in_flight.clone());
        tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    return;
                };
                let (c, f, m, replier, tls) = (
                    c.clone(),
                    f.clone(),
                    m.clone(),
                    replier.clone(),
                    tls.clone(),
                );
                tokio::spawn(async move {
                    let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                    m.fetch_max(now, Ordering::SeqCst);
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(conn).await {
                                serve(stream, &c, &*replier).await;
                            }
                        }
                        None => serve(conn, &c, &*replier).await,
                    }
                    f.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self {
            addr,
            calls,
            in_flight,
            most_in_flight,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Waits (at most 5 s) until `n` calls have arrived.
    async fn wait_calls(&self, n: usize) -> Vec<Call> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.calls.lock().unwrap().len() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.calls()
    }
}

async fn serve<S>(
    mut stream: S,
    calls: &Mutex<Vec<Call>>,
    replier: &(dyn Fn(&Call) -> Reply + Send + Sync),
) where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    let mut buf = Vec::new();
    let mut scratch = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut scratch).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&scratch[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut scratch).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&scratch[..n]),
        }
    }
    let mut words = head.split_whitespace();
    let call = Call {
        method: words.next().unwrap_or_default().to_owned(),
        target: words.next().unwrap_or_default().to_owned(),
        body: String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned(),
        head,
    };
    let reply = replier(&call);
    calls.lock().unwrap().push(call);
    let Reply::Raw(delay, bytes) = reply;
    tokio::time::sleep(delay).await;
    let _ = stream.write_all(&bytes).await;
    let _ = stream.flush().await;
    let _ = stream.close().await;
}

fn req() -> HookRequest {
    HookRequest {
        client_id: "7".into(),
        ip: "192.0.2.1".into(),
        vhost: "__defaultVhost__".into(),
        app: "live".into(),
        stream: "cam".into(),
        param: "?token=abc".into(),
        tc_url: "rtmp://127.0.0.1/live".into(),
        page_url: String::new(),
        stream_id: Some("3".into()),
    }
}

fn publish_hooks(urls: &[String]) -> HttpHooksConfig {
    HttpHooksConfig {
        enabled: true,
        on_publish: urls.to_vec(),
        ..HttpHooksConfig::default()
    }
}

fn tokio_rt() -> Arc<TokioRuntime> {
    TokioRuntime::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allows_with_zero_and_code_zero_and_sends_srs_json() {
    let rt = tokio_rt();
    let server = HookServer::start(&rt, |c: &Call| {
        if c.target.starts_with("/zero") {
            answer(200, "0")
        } else {
            answer(201, r#"{"code":0,"data":null}"#)
        }
    })
    .await;
    let hooks = Hooks::new(rt.clone());
    let config = publish_hooks(&[server.url("/zero?key=v"), server.url("/object")]);
    hooks
        .check(&config, &HookEvent::Publish(req()))
        .await
        .unwrap();

    let calls = server.calls();
    assert_eq!(calls.len(), 2);
    let call = &calls[0];
    assert_eq!(
        (call.method.as_str(), call.target.as_str()),
        ("POST", "/zero?key=v")
    );
    let head = call.head.to_ascii_lowercase();
    assert!(
        head.contains("content-type: application/json\r\n"),
        "{head}"
    );
    assert!(head.contains("connection: close\r\n"), "{head}");
    assert!(
        head.contains(&format!("host: {}\r\n", server.addr)),
        "{head}"
    );
    let json = call.json();
    assert_eq!(json["action"], "on_publish");
    assert_eq!(json["server_id"], server_core::server_id());
    assert_eq!(json["service_id"], server_core::service_id());
    assert_eq!(json["client_id"], "7");
    assert_eq!(json["ip"], "192.0.2.1");
    assert_eq!(json["vhost"], "__defaultVhost__");
    assert_eq!(json["app"], "live");
    assert_eq!(json["stream"], "cam");
    assert_eq!(json["param"], "?token=abc");
    assert_eq!(json["tcUrl"], "rtmp://127.0.0.1/live");
    assert_eq!(json["stream_url"], "/live/cam");
    assert_eq!(json["stream_id"], "3");
    assert_eq!(calls[1].target, "/object");
    assert_eq!(calls[1].body, call.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_stops_the_chain_and_names_the_reason() {
    let rt = tokio_rt();
    let server = HookServer::start(&rt, |c: &Call| match c.target.as_str() {
        "/deny?secret=1" => answer(200, r#"{"code":403,"msg":"bad token"}"#),
        _ => answer(200, "0"),
    })
    .await;
    let hooks = Hooks::new(rt.clone());
    let config = publish_hooks(&[
        server.url("/first"),
        server.url("/deny?secret=1"),
        server.url("/never"),
    ]);
    let denied = hooks
        .check(&config, &HookEvent::Publish(req()))
        .await
        .unwrap_err();
    assert_eq!(
        denied.url,
        server.url("/deny"),
        "the query stays out of the reason"
    );
    assert_eq!(denied.reason, "code 403: bad token");
    let targets: Vec<String> = server.calls().into_iter().map(|c| c.target).collect();
    assert_eq!(targets, ["/first", "/deny?secret=1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_other_answer_refuses() {
    let rt = tokio_rt();
    let huge = "x".repeat(MAX_BODY_BYTES + 1);
    let cases: Vec<(Reply, &str)> = vec![
        (answer(500, "0"), "status 500: 0"),
        (answer(404, ""), "status 404"),
        (answer(200, ""), "empty answer"),
        (answer(200, "ok"), "answer is not JSON: ok"),
        (answer(200, r#"{"code":"0"}"#), "no integer code"),
        (answer(200, r#"{"code":1}"#), "code 1"),
        (answer(200, "0\n"), "neither 0 nor a JSON object"),
        (answer(200, &huge), "body larger than 65536 bytes"),
        (raw(b"HELLO\r\n\r\n"), "bad status line"),
        (
            raw(b"garbage without any line end"),
            "connection closed before the response head",
        ),
        (raw(b""), "connection closed before the response head"),
        (
            raw(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0"),
            "connection closed inside the body",
        ),
        (
            raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            "bad chunk size",
        ),
    ];
    for (reply, reason) in cases {
        let server = HookServer::start(&rt, move |_: &Call| reply.clone()).await;
        let hooks = Hooks::new(rt.clone());
        let denied = hooks
            .check(
                &publish_hooks(&[server.url("/h")]),
                &HookEvent::Publish(req()),
            )
            .await
            .unwrap_err();
        assert!(
            denied.reason.contains(reason),
            "{reason:?} not in {:?}",
            denied.reason
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_and_read_to_close_answers_allow() {
    let rt = tokio_rt();
    for reply in [
        raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n0\r\n0\r\n\r\n"),
        raw(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\n{\"cod\r\n6\r\ne\": 0}\r\n0\r\n\r\n"),
        raw(b"HTTP/1.0 200 OK\r\n\r\n{\"code\":0}"),
        raw(b"HTTP/1.1 201 Created\nContent-Length: 1\n\n0"),
    ] {
        let server = HookServer::start(&rt, move |_: &Call| reply.clone()).await;
        let hooks = Hooks::new(rt.clone());
        hooks
            .check(&publish_hooks(&[server.url("/h")]), &HookEvent::Publish(req()))
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_refuses() {
    let rt = tokio_rt();
    // A port nothing listens on: bound, then closed.
    let addr = {
        let l = rt.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        l.local_addr().unwrap()
    };
    let hooks = Hooks::new(rt.clone());
    let denied = hooks
        .check(
            &publish_hooks(&[format!("http://{addr}/h")]),
            &HookEvent::Publish(req()),
        )
        .await
        .unwrap_err();
    assert!(denied.reason.contains("cannot connect"), "{denied}");

    // A name that does not resolve refuses too.
    let denied = hooks
        .check(
            &publish_hooks(&["http://no-such-host.invalid/h".into()]),
            &HookEvent::Publish(req()),
        )
        .await
        .unwrap_err();
    assert!(denied.reason.contains("cannot resolve"), "{denied}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_answer_refuses_within_the_timeout() {
    let rt = tokio_rt();
    let server = HookServer::start(&rt, |_: &Call| {
        late(Duration::from_secs(30), answer(200, "0"))
    })
    .await;
    let hooks = Hooks::new(rt.clone());
    let config = HttpHooksConfig {
        timeout: Duration::from_millis(800),
        ..publish_hooks(&[server.url("/slow")])
    };
    let started = Instant::now();
    let denied = hooks
        .check(&config, &HookEvent::Publish(req()))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(denied.reason.contains("no answer within 800ms"), "{denied}");
    assert!(took >= Duration::from_millis(700), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_resolve_through_the_runtime() {
    let rt = tokio_rt();
    let server = HookServer::start(&rt, |_: &Call| answer(200, "0")).await;
    let hooks = Hooks::new(rt.clone());
    // localhost may resolve to ::1 first, where nothing listens: the next
    // address is tried.
    let url = format!("http://localhost:{}/h", server.addr.port());
    hooks
        .check(&publish_hooks(&[url]), &HookEvent::Publish(req()))
        .await
        .unwrap();
    let call = &server.calls()[0];
    assert!(
        call.head
            .contains(&format!("Host: localhost:{}\r\n", server.addr.port())),
        "{}",
        call.head
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_off_or_without_urls_call_nothing() {
    let rt = tokio_rt();
    let server = HookServer::start(&rt, |_: &Call| answer(500, "")).await;
    let hooks = Hooks::new(rt.clone());
    let off = HttpHooksConfig {
        enabled: false,
        ..publish_hooks(&[server.url("/h")])
    };
    hooks.check(&off, &HookEvent::Publish(req())).await.unwrap();
    hooks.notify(&off, HookEvent::Unpublish(req()));
    // Only on_publish is configured: a play is not asked.
    hooks
        .check(&publish_hooks(&[server.url("/h")]), &HookEvent::Play(req()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(server.calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_run_in_the_background_and_never_refuse() {
    let rt = tokio_rt();
    let server = HookServer::start(&rt, |c: &Call| match c.target.as_str() {
        "/close" => late(Duration::from_millis(300), answer(500, "")),
        _ => answer(200, "0"),
    })
    .await;
    let hooks = Hooks::new(rt.clone());
    let config = HttpHooksConfig {
        enabled: true,
        on_close: vec![server.url("/close"), server.url("/close2")],
        on_hls: vec![server.url("/hls")],
        on_hls_notify: vec![server.url("/notify/[app]/[stream]/[ts_url][param]")],
        ..HttpHooksConfig::default()
    };
    let started = Instant::now();
    hooks.notify(
        &config,
        HookEvent::Close {
            req: req(),
            send_bytes: 1234,
            recv_bytes: 5678,
        },
    );
    hooks.notify(
        &config,
        HookEvent::Hls {
            req: req(),
            duration: 9.5,
            cwd: "/srv".into(),
            file: "./objs/nginx/html/live/cam-3.ts".into(),
            url: "live/cam-3.ts".into(),
            m3u8: "./objs/nginx/html/live/cam.m3u8".into(),
            m3u8_url: "live/cam.m3u8".into(),
            seq_no: 3,
        },
    );
    hooks.notify_hls(&config, &req(), "cam-3.ts", 64);
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "notify never waits"
    );

    let calls = server.wait_calls(4).await;
    let find = |t: &str| {
        calls
            .iter()
            .find(|c| c.target.starts_with(t))
            .unwrap()
            .clone()
    };
    let close = find("/close").json();
    assert_eq!(close["action"], "on_close");
    assert_eq!(close["send_bytes"], 1234);
    assert_eq!(close["recv_bytes"], 5678);
    // A failed on_close does not stop its chain (SRS ignores each failure).
    assert_eq!(find("/close2").json()["action"], "on_close");
    let hls = find("/hls").json();
    assert_eq!(hls["action"], "on_hls");
    assert_eq!(hls["duration"], 9.5);
    assert_eq!(hls["seq_no"], 3);
    assert_eq!(hls["m3u8_url"], "live/cam.m3u8");
    let notify = find("/notify");
    assert_eq!(notify.method, "GET");
    assert_eq!(notify.target, "/notify/live/cam/cam-3.ts?token=abc");
    assert_eq!(hooks.dropped_notifies(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hls_notify_reads_at_most_nb_notify_bytes() {
    let rt = tokio_rt();
    // An answer that never ends: only nb_notify bytes are read.
    let endless = {
        let mut bytes = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        bytes.extend(vec![b'x'; 1 << 20]);
        bytes
    };
    let server = HookServer::start(&rt, move |_: &Call| raw(&endless)).await;
    let hooks = Hooks::new(rt.clone());
    let config = HttpHooksConfig {
        enabled: true,
        on_hls_notify: vec![server.url("/n/[ts_url]")],
        ..HttpHooksConfig::default()
    };
    hooks.notify_hls(&config, &req(), "cam-1.ts", 10);
    // An absolute segment URL is fetched itself, as SRS warms a CDN.
    hooks.notify_hls(&config, &req(), &server.url("/cdn/cam-2.ts"), 10);
    let calls = server.wait_calls(2).await;
    let mut targets: Vec<_> = calls.iter().map(|c| c.target.clone()).collect();
    targets.sort();
    assert_eq!(targets, ["/cdn/cam-2.ts", "/n/cam-1.ts"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deciding_calls_are_bounded_and_wait_for_a_slot() {
    let rt = tokio_rt();
    let server = HookServer::start(&rt, |_: &Call| {
        late(Duration::from_millis(400), answer(200, "0"))
    })
    .await;
    let limits = HookLimits {
        deciding: 2,
        ..HookLimits::default()
    };
    let hooks = Hooks::with_limits(rt.clone(), limits);
    let config = HttpHooksConfig {
        timeout: Duration::from_secs(5),
        ..publish_hooks(&[server.url("/h")])
    };
    let checks: Vec<_> = (0..5)
        .map(|_| {
            let (hooks, config) = (hooks.clone(), config.clone());
            tokio::spawn(async move { hooks.check(&config, &HookEvent::Publish(req())).await })
        })
        .collect();
    for c in checks {
        c.await.unwrap().unwrap();
    }
    assert_eq!(server.calls().len(), 5);
    assert_eq!(server.most_in_flight.load(Ordering::SeqCst), 2);

    // With every slot held past its timeout, a deciding call refuses.
    let hooks = Hooks::with_limits(
        rt.clone(),
        HookLimits {
            deciding: 1,
            ..HookLimits::default()
        },
    );
    let slow = HookServer::start(&rt, |_: &Call| {
        late(Duration::from_millis(1500), answer(200, "0"))
    })
    .await;
    let patient = HttpHooksConfig {
        timeout: Duration::from_secs(5),
        ..publish_hooks(&[slow.url("/h")])
    };
    let hasty = HttpHooksConfig {
        timeout: Duration::from_millis(500),
        ..patient.clone()
    };
    let first = {
        let hooks = hooks.clone();
        tokio::spawn(async move { hooks.check(&patient, &HookEvent::Publish(req())).await })
    };
    slow.wait_calls(1).await;
    let started = Instant::now();
    let denied = hooks
        .check(&hasty, &HookEvent::Publish(req()))
        .await
        .unwrap_err();
    assert!(denied.reason.contains("all 1 hook slots busy"), "{denied}");
    assert!(started.elapsed() < Duration::from_millis(1400));
    first.await.unwrap().unwrap();
    assert_eq!(slow.calls().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_events_past_the_queue_are_dropped_and_counted() {
    let rt = tokio_rt();
    let server = HookServer::start(&rt, |_: &Call| {
        late(Duration::from_millis(300), answer(200, "0"))
    })
    .await;
    let hooks = Hooks::with_limits(
        rt.clone(),
        HookLimits {
            notifying: 1,
            notify_queue: 2,
            ..HookLimits::default()
        },
    );
    let config = HttpHooksConfig {
        enabled: true,
        on_unpublish: vec![server.url("/u")],
        ..HttpHooksConfig::default()
    };
    for _ in 0..5 {
        hooks.notify(&config, HookEvent::Unpublish(req()));
    }
    assert_eq!(hooks.dropped_notifies(), 3);
    server.wait_calls(2).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(server.calls().len(), 2);
    assert_eq!(server.most_in_flight.load(Ordering::SeqCst), 1);
    assert_eq!(server.in_flight.load(Ordering::SeqCst), 0);
    // The queue has room again.
    hooks.notify(&config, HookEvent::Unpublish(req()));
    assert_eq!(server.wait_calls(3).await.len(), 3);
    assert_eq!(hooks.dropped_notifies(), 3);
}

/// A CA and a certificate it signed for `localhost` and 127.0.0.1.
fn test_pki() -> (Vec<u8>, futures_rustls::TlsAcceptor) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "hooks test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();

    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    (
        ca.der().to_vec(),
        futures_rustls::TlsAcceptor::from(Arc::new(config)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_hooks_trust_an_added_root() {
    let rt = tokio_rt();
    let (ca_der, acceptor) = test_pki();
    let replier: Replier = Arc::new(|_: &Call| answer(200, r#"{"code":0}"#));
    let server = HookServer::start_with(&rt, replier, Some(acceptor)).await;
    let port = server.addr.port();
    let config = publish_hooks(&[
        format!("https://127.0.0.1:{port}/ip"),
        format!("https://localhost:{port}/name"),
    ]);

    // Unknown to the system's roots: the handshake fails, which refuses.
    let hooks = Hooks::new(rt.clone());
    let denied = hooks
        .check(&config, &HookEvent::Publish(req()))
        .await
        .unwrap_err();
    assert!(denied.reason.starts_with("TLS:"), "{denied}");
    assert!(server.calls().is_empty());

    let hooks = Hooks::new(rt.clone());
    hooks.add_root_certificates(&[ca_der]).unwrap();
    hooks
        .check(&config, &HookEvent::Publish(req()))
        .await
        .unwrap();
    let calls = server.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].target, "/ip");
    assert_eq!(calls[1].json()["action"], "on_publish");

    // A certificate for another name refuses.
    let wrong = publish_hooks(&[format!("https://127.0.0.2:{port}/h")]);
    let denied = hooks.check(&wrong, &HookEvent::Publish(req())).await;
    assert!(denied.is_err());

    // Garbage is not a root.
    assert!(hooks
        .add_root_certificates(&[b"not a certificate".to_vec()])
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_server_that_never_answers_does_not_hold_up_others() {
    let rt = tokio_rt();
    let silent = HookServer::start(&rt, |_: &Call| late(Duration::from_secs(30), raw(b""))).await;
    let fine = HookServer::start(&rt, |_: &Call| answer(200, "0")).await;
    let hooks = Hooks::new(rt.clone());
    let stuck = HttpHooksConfig {
        timeout: Duration::from_secs(2),
        ..publish_hooks(&[silent.url("/h")])
    };
    let waiting: Vec<_> = (0..10)
        .map(|_| {
            let (hooks, config) = (hooks.clone(), stuck.clone());
            tokio::spawn(async move { hooks.check(&config, &HookEvent::Publish(req())).await })
        })
        .collect();
    silent.wait_calls(10).await;
    let started = Instant::now();
    hooks
        .check(
            &publish_hooks(&[fine.url("/h")]),
            &HookEvent::Publish(req()),
        )
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    for w in waiting {
        assert!(w.await.unwrap().is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_clients_events_arrive_in_order() {
    let rt = tokio_rt();
    // on_unpublish answers late; on_close must still come after it, while
    // another client's event is not held up.
    let server = HookServer::start(&rt, |c: &Call| {
        if c.body.contains("on_unpublish") {
            late(Duration::from_millis(500), answer(200, "0"))
        } else {
            answer(200, "0")
        }
    })
    .await;
    let hooks = Hooks::new(rt.clone());
    let config = HttpHooksConfig {
        enabled: true,
        on_unpublish: vec![server.url("/u")],
        on_close: vec![server.url("/c")],
        ..HttpHooksConfig::default()
    };
    let close = |client: &str| HookEvent::Close {
        req: HookRequest {
            client_id: client.into(),
            ..req()
        },
        send_bytes: 0,
        recv_bytes: 0,
    };
    hooks.notify(&config, HookEvent::Unpublish(req()));
    hooks.notify(&config, close("7"));
    hooks.notify(&config, close("8"));
    let calls = server.wait_calls(3).await;
    let order: Vec<String> = calls
        .iter()
        .map(|c| {
            let j = c.json();
            format!(
                "{}:{}",
                j["action"].as_str().unwrap(),
                j["client_id"].as_str().unwrap()
            )
        })
        .collect();
    // Client 8 runs beside client 7 (either may arrive first); client 7's
    // on_close waits for its on_unpublish's answer.
    assert_eq!(order.len(), 3);
    assert!(
        order[..2].contains(&"on_unpublish:7".to_owned()),
        "{order:?}"
    );
    assert!(order[..2].contains(&"on_close:8".to_owned()), "{order:?}");
    assert_eq!(order[2], "on_close:7", "{order:?}");
}
