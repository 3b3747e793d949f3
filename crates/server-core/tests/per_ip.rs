//! `max_connections_per_ip` over real loopback TCP: connections past the cap,
//! on any listener, are closed at once; a closed connection frees its slot.

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use server_core::{config, ListenerKind, Server, ServerCtx};
use support::{TempDir, TestRuntime};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Warnings logged by every server in this test binary.
static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_warnings() {
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(|| LogWriter)
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The refusal lines logged so far, and the refusals they add up to.
fn refusal_lines() -> (usize, u64) {
    let log = String::from_utf8_lossy(&LOG.lock().unwrap()).into_owned();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("max_connections_per_ip reached"))
        .collect();
    let total = lines
        .iter()
        .map(|l| {
            l.split_once("refused ")
                .and_then(|(_, rest)| rest.split_once(" connections in "))
                .and_then(|(n, _)| n.parse::<u64>().ok())
                .unwrap_or(1)
        })
        .sum();
    (lines.len(), total)
}

/// How long a refused connection may take to be closed, generously.
const CLOSE_WITHIN: Duration = Duration::from_secs(5);

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_for_open(ctx: &ServerCtx, n: u32) {
    wait_for(&format!("{n} open connections"), || {
        ctx.per_ip.open(LOCALHOST) == n
    })
    .await;
}

/// The server closes `s` without a word.
async fn assert_closed(s: &mut TcpStream) {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(CLOSE_WITHIN, s.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => {}
        Ok(Ok(n)) => panic!("refused connection got {n} bytes"),
        Err(_) => panic!("refused connection still open after {CLOSE_WITHIN:?}"),
    }
}

/// The server keeps `s` open (it waits for the client to speak first).
async fn assert_open(s: &mut TcpStream) {
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await;
    assert!(read.is_err(), "connection closed or answered: {read:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_are_closed_on_every_listener() {
    capture_warnings();
    let dir = TempDir::new("per-ip");
    let text = format!(
        "listen 127.0.0.1:0;\n\
         max_connections_per_ip 3;\n\
         http_server {{ enabled on; listen 127.0.0.1:0; dir {}; }}\n\
         vhost __defaultVhost__ {{ }}\n",
        dir.path().display()
    );
    let config = config::parse_str("per_ip.conf", &text).unwrap();
    let server = Server::start(TestRuntime::new(), config).unwrap();
    let ctx = server.ctx().clone();
    let rtmp: SocketAddr = server.addrs(ListenerKind::Rtmp)[0];
    let http: SocketAddr = server.addrs(ListenerKind::HttpServer)[0];

    // Three, over two listeners, fill the cap.
    let mut held = Vec::new();
    for addr in [rtmp, http, rtmp] {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    wait_for_open(&ctx, 3).await;

    // The next is closed at once, whichever listener it reaches; a burst too.
    let started = Instant::now();
    for addr in [rtmp, http] {
        let mut extra = TcpStream::connect(addr).await.unwrap();
        assert_closed(&mut extra).await;
    }
    let mut burst = Vec::new();
    for n in 0..20 {
        let addr = if n % 2 == 0 { rtmp } else { http };
        burst.push(TcpStream::connect(addr).await.unwrap());
    }
    for s in &mut burst {
        assert_closed(s).await;
    }
    assert_eq!(ctx.per_ip.open(LOCALHOST), 3);
    for s in &mut held {
        assert_open(s).await;
    }
    // 22 refusals, but not 22 lines: the first, then a summary a second
    // (the last written by a timer once the burst is over).
    wait_for("every refusal logged", || refusal_lines().1 == 22).await;
    let (lines, _) = refusal_lines();
    let seconds = started.elapsed().as_secs() as usize;
    assert!(
        lines >= 2 && lines <= seconds + 2,
        "{lines} lines in {seconds}s"
    );

    // Closing one frees its slot for the next.
    drop(held.remove(0));
    wait_for_open(&ctx, 2).await;
    let mut again = TcpStream::connect(rtmp).await.unwrap();
    wait_for_open(&ctx, 3).await;
    assert_open(&mut again).await;

    drop((held, again));
    wait_for_open(&ctx, 0).await;
    assert_eq!(ctx.per_ip.clients(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cap_by_default() {
    let config = config::parse_str(
        "default.conf",
        "listen 127.0.0.1:0;\nvhost __defaultVhost__ { }\n",
    )
    .unwrap();
    let server = Server::start(TestRuntime::new(), config).unwrap();
    let ctx = server.ctx().clone();
    let rtmp = server.addrs(ListenerKind::Rtmp)[0];
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(TcpStream::connect(rtmp).await.unwrap());
    }
    wait_for_open(&ctx, 20).await;
    for s in [0, 19] {
        assert_open(&mut held[s]).await;
    }
}
