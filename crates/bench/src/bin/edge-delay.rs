//! `edge-delay`: the delay one edge hop adds, glass to glass on one box.
//!
//! Plays the same stream from an origin and from an edge of it at the same
//! time and notes when each video frame arrives on each; a frame is known
//! on both by its payload (both servers pass it through untouched, whatever
//! timestamps each player is given). The added delay of a frame is its
//! arrival on the edge minus its arrival on the origin; the median and the
//! 95th percentile over the run are printed (one line of JSON with --json).
//! Frames that reached the origin's player in the first WARMUP seconds
//! (default 3) are left out: the GOP cache bursts each player's first
//! frames at once on both servers, which says nothing about the live delay.
//!
//! usage: edge-delay [--json] [--duration SECS] [--warmup SECS] ORIGIN_URL EDGE_URL
//!
//! Bounded: every socket read waits at most 200 ms, the run ends after
//! WARMUP + SECS (SECS default 10), and at most 100,000 frames are kept per
//! player.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use rtmp_proto::session::{ClientConfig, ClientEvent, ClientSession};
use rtmp_proto::url::RtmpUrl;
use rtmp_proto::MessageType;

/// Most frames remembered per player.
const MAX_FRAMES: usize = 100_000;

/// When each video frame (by payload digest) arrived, from `start`.
type Arrivals = HashMap<u64, Duration>;

fn digest(data: &[u8]) -> u64 {
    // FNV-1a: frames only need telling apart, not hiding.
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Plays `url` until `until`, noting video frame arrivals.
fn play(url: &str, start: Instant, until: Instant) -> Result<Arrivals, String> {
    let url = RtmpUrl::parse(url).map_err(|e| format!("{url}: {e}"))?;
    if url.tls {
        return Err("rtmps:// is not supported by this tool".to_owned());
    }
    let addr = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("{}: {e}", url.host))?
        .next()
        .ok_or_else(|| format!("{}: no address", url.host))?;
    let mut socket =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    let _ = socket.set_nodelay(true);
    let mut session = ClientSession::new(ClientConfig::default(), 0, [5; 32]);
    session.connect(&url.app, &url.tc_url(), Vec::new());
    let mut arrivals = Arrivals::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    while Instant::now() < until {
        session.poll_transmit(&mut out);
        for piece in out.drain(..) {
            socket.write_all(&piece).map_err(|e| e.to_string())?;
        }
        match socket.read(&mut buf) {
            Ok(0) => return Err("the server closed the connection".to_owned()),
            Ok(n) => {
                let now = start.elapsed();
                let data = buf.get(..n).unwrap_or_default();
                session.handle_input(0, data).map_err(|e| e.to_string())?;
                while let Some(event) = session.poll_event() {
                    match event {
                        ClientEvent::Connected { .. } => {
                            session.create_stream();
                        }
                        ClientEvent::StreamCreated { stream_id, .. } => {
                            session.play(stream_id, &url.stream_with_query());
                        }
                        ClientEvent::ConnectFailed { status } => {
                            return Err(format!("connect refused: {}", status.description));
                        }
                        ClientEvent::Media { message, .. }
                            if message.type_id == MessageType::Video
                                && arrivals.len() < MAX_FRAMES =>
                        {
                            arrivals.entry(digest(&message.payload)).or_insert(now);
                        }
                        _ => {}
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(arrivals)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut json = false;
    let mut duration = Duration::from_secs(10);
    let mut warmup = Duration::from_secs(3);
    let mut urls = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--json" => json = true,
            "--duration" => {
                let secs: u64 = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|s| (1..=3600).contains(s))
                    .unwrap_or_else(|| {
                        eprintln!("edge-delay: --duration takes 1..3600 seconds");
                        std::process::exit(2)
                    });
                duration = Duration::from_secs(secs);
            }
            "--warmup" => {
                let secs: u64 = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|s| *s <= 600)
                    .unwrap_or_else(|| {
                        eprintln!("edge-delay: --warmup takes 0..600 seconds");
                        std::process::exit(2)
                    });
                warmup = Duration::from_secs(secs);
            }
            "-h" | "--help" => {
                println!("usage: edge-delay [--json] [--duration SECS] [--warmup SECS] ORIGIN_URL EDGE_URL");
                return;
            }
            _ => urls.push(a),
        }
    }
    let [origin, edge] = <[String; 2]>::try_from(urls).unwrap_or_else(|_| {
        eprintln!(
            "usage: edge-delay [--json] [--duration SECS] [--warmup SECS] ORIGIN_URL EDGE_URL"
        );
        std::process::exit(2)
    });
    let start = Instant::now();
    let until = start + warmup + duration;
    let on_origin = std::thread::spawn(move || play(&origin, start, until));
    let on_edge = std::thread::spawn(move || play(&edge, start, until));
    let joined = |h: std::thread::JoinHandle<Result<Arrivals, String>>, what: &str| match h.join() {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => {
            eprintln!("edge-delay: {what}: {e}");
            std::process::exit(1)
        }
        Err(_) => {
            eprintln!("edge-delay: {what}: player thread panicked");
            std::process::exit(1)
        }
    };
    let origin = joined(on_origin, "origin");
    let edge = joined(on_edge, "edge");
    let mut added: Vec<f64> = edge
        .iter()
        .filter_map(|(frame, at_edge)| {
            let at_origin = origin.get(frame).filter(|at| **at >= warmup)?;
            Some((at_edge.as_secs_f64() - at_origin.as_secs_f64()) * 1000.0)
        })
        .collect();
    added.sort_by(f64::total_cmp);
    let (median, p95) = (percentile(&added, 0.5), percentile(&added, 0.95));
    if json {
        println!(
            "{{\"frames\":{},\"added_ms_median\":{median:.1},\"added_ms_p95\":{p95:.1}}}",
            added.len()
        );
    } else {
        println!(
            "frames on both: {}; added delay of the edge hop: median {median:.1} ms, p95 {p95:.1} ms",
            added.len()
        );
    }
    if added.is_empty() {
        std::process::exit(1);
    }
}
