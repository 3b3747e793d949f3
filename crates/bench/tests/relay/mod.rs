//! A tiny live server for the load tool's tests, built from
//! `rtmp_proto::session::ServerSession` over tokio on 127.0.0.1:0.
//!
//! One stream, whatever its name: the publisher's media is relayed to
//! every RTMP player and, as FLV tags, to every HTTP-FLV player. New
//! players first get the metadata, the sequence headers and the current
//! GOP (a GOP cache, so the first frame comes at once). It also serves a
//! synthetic live HLS playlist whose window slides by one 1-second segment
//! every second. Playing a stream named `forbidden` is refused. For get
//! mode, a path under `/close/` is answered like the same path without it,
//! then the connection is closed, as a server without keep-alive would.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use media_core::flv::{FlvWriter, TagType};
use media_core::{MediaKind, MediaMessage};
use rtmp_proto::amf0::{self, Amf0Value};
use rtmp_proto::session::{ServerConfig, ServerEvent, ServerSession};
use rtmp_proto::RawMessage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the relay saw.
#[derive(Debug, Default)]
pub struct RelayStats {
    /// Media messages received from publishers.
    pub media_in: AtomicU64,
    /// RTMP connections accepted.
    pub rtmp_conns: AtomicU64,
    /// Plays accepted.
    pub plays: AtomicU64,
    /// HTTP connections accepted.
    pub http_conns: AtomicU64,
    /// HTTP answers whose body was written whole (any status).
    pub http_answers: AtomicU64,
}

/// A running relay; it lives as long as the test process.
pub struct Relay {
    /// RTMP listener.
    pub rtmp: SocketAddr,
    /// HTTP listener (HTTP-FLV at any `*.flv`, HLS at any `*.m3u8`).
    pub http: SocketAddr,
    /// Counters.
    pub stats: Arc<RelayStats>,
}

#[derive(Default)]
struct Hub {
    meta: Option<RawMessage>,
    video_config: Option<RawMessage>,
    audio_config: Option<RawMessage>,
    gop: Vec<RawMessage>,
    players: Vec<mpsc::UnboundedSender<RawMessage>>,
}

impl Hub {
    fn on_media(&mut self, msg: RawMessage) {
        let Some(kind) = MediaKind::from_message_type(msg.type_id) else {
            return;
        };
        let media = MediaMessage::new(kind, msg.timestamp, msg.payload.clone());
        match kind {
            MediaKind::Data => self.meta = Some(msg.clone()),
            MediaKind::Video if media.is_sequence_header() => self.video_config = Some(msg.clone()),
            MediaKind::Audio if media.is_sequence_header() => self.audio_config = Some(msg.clone()),
            MediaKind::Video if media.is_keyframe() => {
                self.gop.clear();
                self.gop.push(msg.clone());
            }
            _ if !self.gop.is_empty() && self.gop.len() < 10_000 => self.gop.push(msg.clone()),
            _ => {}
        }
        self.players.retain(|tx| tx.send(msg.clone()).is_ok());
    }

    fn subscribe(&mut self) -> mpsc::UnboundedReceiver<RawMessage> {
        let (tx, rx) = mpsc::unbounded_channel();
        let cached = [&self.meta, &self.video_config, &self.audio_config];
        for msg in cached.into_iter().flatten().chain(self.gop.iter()) {
            let _ = tx.send(msg.clone());
        }
        self.players.push(tx);
        rx
    }
}

/// Starts the relay on its own thread.
pub fn start() -> Relay {
    let (tx, rx) = std::sync::mpsc::channel();
    let stats = Arc::new(RelayStats::default());
    let thread_stats = stats.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let rtmp = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send((rtmp.local_addr().unwrap(), http.local_addr().unwrap()))
                .unwrap();
            let hub = Arc::new(Mutex::new(Hub::default()));
            let started = Instant::now();
            let http_hub = hub.clone();
            let http_stats = thread_stats.clone();
            tokio::spawn(async move {
                while let Ok((s, _)) = http.accept().await {
                    http_stats.http_conns.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(http_conn(s, http_hub.clone(), started, http_stats.clone()));
                }
            });
            while let Ok((s, _)) = rtmp.accept().await {
                thread_stats.rtmp_conns.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(rtmp_conn(s, hub.clone(), thread_stats.clone()));
            }
        });
    });
    let (rtmp, http) = rx.recv().unwrap();
    Relay { rtmp, http, stats }
}

async fn rtmp_conn(stream: TcpStream, hub: Arc<Mutex<Hub>>, stats: Arc<RelayStats>) {
    stream.set_nodelay(true).unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let mut session = ServerSession::new(ServerConfig::default(), 0, [7; 32]);
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    let mut playing: Option<(u32, mpsc::UnboundedReceiver<RawMessage>)> = None;
    loop {
        let rx = async {
            match &mut playing {
                Some((_, rx)) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            n = rd.read(&mut buf) => {
                let Ok(n) = n else { return };
                if n == 0 || session.handle_input(0, &buf[..n]).is_err() {
                    return;
                }
            }
            msg = rx => {
                let Some(msg) = msg else { return };
                if let Some((sid, _)) = &playing {
                    session.send_media(*sid, &msg);
                }
            }
        }
        while let Some(event) = session.poll_event() {
            let ok = match event {
                ServerEvent::Connect { .. } => session.accept_connect(),
                ServerEvent::Publish { stream_id, .. } => session.accept_publish(stream_id),
                ServerEvent::Play {
                    stream_id, name, ..
                } => {
                    if name == "forbidden" {
                        session.reject_play(stream_id, "NetStream.Play.Forbidden", "not this one")
                    } else {
                        stats.plays.fetch_add(1, Ordering::Relaxed);
                        let rx = hub.lock().unwrap().subscribe();
                        playing = Some((stream_id, rx));
                        session.accept_play(stream_id)
                    }
                }
                ServerEvent::Media { message, .. } => {
                    stats.media_in.fetch_add(1, Ordering::Relaxed);
                    hub.lock().unwrap().on_media(message);
                    Ok(())
                }
                _ => Ok(()),
            };
            if ok.is_err() {
                return;
            }
        }
        session.poll_transmit(&mut out);
        for piece in out.drain(..) {
            if wr.write_all(&piece).await.is_err() {
                return;
            }
        }
    }
}

/// Reads one request head; returns its path.
async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return head.split_whitespace().nth(1).map(str::to_owned);
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn http_conn(
    mut s: TcpStream,
    hub: Arc<Mutex<Hub>>,
    started: Instant,
    stats: Arc<RelayStats>,
) {
    // Head and body go out in two writes: without this, Nagle holds the
    // body until the client's delayed ACK (40 ms) of the head.
    let _ = s.set_nodelay(true);
    let mut buf = Vec::new();
    while let Some(path) = read_request(&mut s, &mut buf).await {
        let path = path.split('?').next().unwrap_or("").to_owned();
        let (path, close) = match path.strip_prefix("/close") {
            Some(rest) => (rest.to_owned(), true),
            None => (path, false),
        };
        let connection = if close { "close" } else { "keep-alive" };
        if path.ends_with(".flv") {
            http_flv(s, hub).await;
            return;
        }
        // Synthetic live HLS: segment k (1 s long) exists from k seconds on.
        let now = started.elapsed().as_secs();
        let body: Bytes = if path.ends_with(".m3u8") {
            let first = now.saturating_sub(2);
            let mut text = format!(
                "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:{first}\n"
            );
            for k in first..=now {
                text.push_str(&format!("#EXTINF:1.000,\nseg-{k}.ts\n"));
            }
            Bytes::from(text)
        } else if path.contains("/seg-") {
            Bytes::from(vec![0x47u8; 62_500])
        } else {
            let head = format!(
                "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: {connection}\r\n\r\nnot found"
            );
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            stats.http_answers.fetch_add(1, Ordering::Relaxed);
            if close {
                return;
            }
            continue;
        };
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
            body.len()
        );
        if s.write_all(head.as_bytes()).await.is_err() || s.write_all(&body).await.is_err() {
            return;
        }
        stats.http_answers.fetch_add(1, Ordering::Relaxed);
        if close {
            return;
        }
    }
}

/// Streams the hub's messages as FLV (FLV spec E.2, E.3), one tag per write.
async fn http_flv(mut s: TcpStream, hub: Arc<Mutex<Hub>>) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nConnection: close\r\n\r\n";
    let mut flv = FlvWriter::new(true, true);
    if s.write_all(head.as_bytes()).await.is_err() || s.write_all(&flv.take()).await.is_err() {
        return;
    }
    let mut rx = hub.lock().unwrap().subscribe();
    while let Some(msg) = rx.recv().await {
        let tag_type = TagType::from_id(msg.type_id.id());
        if flv
            .write_tag(tag_type, msg.timestamp as u32, &msg.payload)
            .is_err()
            || s.write_all(&flv.take()).await.is_err()
        {
            return;
        }
    }
}

/// Writes a synthetic H.264 + AAC FLV file of `seconds` seconds: 25 fps
/// video with a keyframe every second (6,000-byte keyframes, 1,800-byte
/// others) and 43 AAC frames of 200 bytes per second, about 462 kbit/s
/// of tag bodies. Returns the nominal body bitrate in kbit/s.
pub fn write_test_flv(path: &std::path::Path, seconds: u32) -> f64 {
    let mut tags: Vec<(u8, u32, Vec<u8>)> = Vec::new();
    let mut meta = Vec::new();
    amf0::encode(
        &[
            Amf0Value::String("onMetaData".into()),
            Amf0Value::EcmaArray(vec![
                ("duration".into(), Amf0Value::Number(f64::from(seconds))),
                ("videocodecid".into(), Amf0Value::Number(7.0)),
                ("audiocodecid".into(), Amf0Value::Number(10.0)),
            ]),
        ],
        &mut meta,
    );
    tags.push((18, 0, meta));
    tags.push((
        9,
        0,
        vec![0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 0],
    ));
    tags.push((8, 0, vec![0xaf, 0, 0x12, 0x10]));
    let mut media = Vec::new();
    for i in 0..seconds * 25 {
        let key = i % 25 == 0;
        let mut body = vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0];
        body.resize(if key { 6000 } else { 1800 }, 0xab);
        media.push((9u8, i * 40, body));
    }
    for i in 0..seconds * 43 {
        let mut body = vec![0xaf, 1];
        body.resize(200, 0xcd);
        media.push((8u8, i * 1000 / 43, body));
    }
    media.sort_by_key(|(_, ts, _)| *ts);
    tags.extend(media);
    let mut w = FlvWriter::new(true, true);
    for (t, ts, body) in &tags {
        w.write_tag(TagType::from_id(*t), *ts, body).unwrap();
    }
    std::fs::write(path, w.finish()).unwrap();
    let per_second = 6000 + 24 * 1800 + 43 * 200;
    f64::from(per_second) * 8.0 / 1000.0
}

/// Waits until `cond` holds, for at most `limit`.
pub fn wait_for(limit: Duration, cond: impl Fn() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}
