//! Many publishers ending at once, and many short publishes, on both builds
//! (issue 22: a bounded number of threads however many streams end at once;
//! issue 23 §4: RSS comes back after streams end).
//!
//! The publishers are real RTMP clients (rtmp-proto's client session over TCP)
//! sending a real H.264 + AAC recording's first seconds at once, so every
//! stream's HLS sink opens, writes and closes segments and playlists.

mod support;

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtmp_proto::session::ClientEvent;
use rtmp_proto::{MessageType, RawMessage};

use support::{each_server, media, wait_for, Media, ServerProcess, TestClient};

/// Threads file work may add: `server_core::file_workers::FILE_WORKER_THREADS`.
const FILE_WORKERS: usize = 4;

/// The recording's tags up to `until_ms` (two 2 s GOPs: the first segment
/// closes at the second key frame).
fn clip(until_ms: u32) -> Vec<RawMessage> {
    let data = bytes::Bytes::from(std::fs::read(media(Media::AvcAac)).expect("read clip"));
    media_core::flv::FlvReader::new(data)
        .expect("flv header")
        .map(|t| t.expect("flv tag"))
        .filter(|t| t.timestamp <= until_ms)
        .filter_map(|t| {
            let type_id = match t.tag_type {
                media_core::flv::TagType::Audio => MessageType::Audio,
                media_core::flv::TagType::Video => MessageType::Video,
                _ => return None,
            };
            Some(RawMessage {
                csid: if type_id == MessageType::Audio { 4 } else { 6 },
                timestamp: u64::from(t.timestamp),
                type_id,
                stream_id: 0,
                payload: t.body,
            })
        })
        .collect()
}

/// Connects, publishes `name` and sends `messages` at once; the returned
/// client holds the stream until dropped.
fn publish(server: &ServerProcess, name: &str, messages: &[RawMessage]) -> TestClient {
    let mut client = TestClient::connect(server.rtmp, "live");
    client
        .session
        .publish_fmle(name, rtmp_proto::command::PublishType::Live);
    let mut sid = None;
    let started = client.pump_until(Duration::from_secs(10), |e| match e {
        ClientEvent::Status {
            stream_id, code, ..
        } if code == "NetStream.Publish.Start" => {
            sid = Some(*stream_id);
            true
        }
        _ => false,
    });
    assert!(started, "publish {name}: {}", client.gave_up);
    let sid = sid.expect("stream id");
    for m in messages {
        let mut m = m.clone();
        m.stream_id = sid;
        client.session.send_media(sid, &m);
    }
    let mut out = Vec::new();
    client.session.poll_transmit(&mut out);
    for piece in out {
        client.socket.write_all(&piece).expect("send media");
    }
    client
}

/// `n` publishers of `{prefix}{i}`, connected from 10 threads at once.
fn publish_many(
    server: &ServerProcess,
    prefix: &str,
    n: usize,
    messages: &[RawMessage],
) -> Vec<TestClient> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..10)
            .map(|w| {
                scope.spawn(move || {
                    (w..n)
                        .step_by(10)
                        .map(|i| publish(server, &format!("{prefix}{i}"), messages))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("publisher thread"))
            .collect()
    })
}

fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count())
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// Samples `pid`'s thread count every 10 ms until dropped; `most` is the peak.
struct ThreadWatch {
    most: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ThreadWatch {
    fn start(pid: u32) -> Self {
        let most = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, s) = (most.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                m.fetch_max(threads(pid), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Self {
            most,
            stop,
            thread: Some(thread),
        }
    }

    fn most(mut self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.most.load(Ordering::SeqCst)
    }
}

fn playlist_exists(server: &ServerProcess, name: &str) -> bool {
    Path::new(&server.hls_dir().join(format!("live/{name}.m3u8"))).exists()
}

#[test]
fn two_hundred_publishers_leaving_at_once_add_at_most_the_file_workers() {
    let messages = clip(2_500);
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let pid = server.child.id();
        std::thread::sleep(Duration::from_millis(300));
        let idle = threads(pid);
        let watch = ThreadWatch::start(pid);
        let clients = publish_many(&server, "many", 200, &messages);
        // Most streams closed their first segment at the second key frame;
        // the rest hold theirs open until they end.
        wait_for(Duration::from_secs(10), || {
            (0..200)
                .filter(|i| playlist_exists(&server, &format!("many{i}")))
                .count()
                .ge(&150)
                .then_some(())
        });
        // All leave at once: 200 sinks close their segments together.
        drop(clients);
        let closed = wait_for(Duration::from_secs(30), || {
            let open = std::fs::read_dir(server.hls_dir().join("live"))
                .ok()?
                .filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().ends_with(".tmp"));
            let all = (0..200).all(|i| playlist_exists(&server, &format!("many{i}")));
            (!open && all).then_some(())
        });
        assert!(closed.is_some(), "not every stream closed its last segment");
        std::thread::sleep(Duration::from_millis(500));
        let most = watch.most();
        eprintln!(
            "{}: {idle} threads idle, at most {most} with 200 publishers and as they left",
            bin.display()
        );
        assert!(
            most <= idle + FILE_WORKERS + 2,
            "{most} threads (idle {idle}): file work is not bounded"
        );
    });
}

/// RSS one dead stream name may keep, KB: what is kept so that a republish
/// continues its playlist, until `hls_dispose` (120 s) removes it. heaptrack
/// attached at idle and stopped 30 s after 1500 short publishes found 1.08
/// MB allocated since and still live: 0.82 MB of parked playlists on the
/// manager's one `PlaylistShelf` (0.55 KB a name) and 0.17 MB of the hub's
/// table, which now shrinks. Measured by this test with the allowance at 0
/// (debug builds, 1500 names): rtmp-server 23.1 MB 15 s after (idle 20.7
/// MB), 22.6 MB once the parked playlists went; rtmp-server-smol 20.6 MB
/// (idle 18.5), 20.1 MB. Past idle + 10 % and the parked playlists stays
/// what glibc cannot return: pages pinned by the ~1 MB still in use (in use
/// is back at its idle level once they go). Twice the parked figure.
const PARKED_KB: u64 = 1;

/// Issue 23 §4's figure: 1500 short publishes (about a minute a build;
/// `SHORT_PUBLISHES=N` runs another count).
#[test]
fn rss_returns_near_idle_within_a_minute_of_many_short_publishes_ending() {
    let count: usize = std::env::var("SHORT_PUBLISHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let messages = clip(2_500);
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let pid = server.child.id();
        // Idle: after one batch came and went (the server's code paths paged
        // in, pools and tables at their working size).
        // It settles once their HLS sinks stop waiting for a republish
        // (`REPUBLISH_GRACE`, 10 s) and the heap is trimmed (every 2 s).
        drop(publish_many(&server, "warmup", 50, &messages));
        std::thread::sleep(Duration::from_secs(13));
        let idle = rss_kb(pid);
        let mut peak = idle;
        for batch in 0..count.div_ceil(50) {
            let n = 50.min(count - batch * 50);
            let clients = publish_many(&server, &format!("short{batch}_"), n, &messages);
            std::thread::sleep(Duration::from_millis(300));
            peak = peak.max(rss_kb(pid));
            drop(clients);
        }
        let ended = Instant::now();
        // Within 10 % of idle, plus what each dead name keeps so that a
        // republish continues its playlist (the parked segmenter, a few KB,
        // at most `MAX_PARKED_SEGMENTERS` of them).
        let bound = idle + idle / 10 + count as u64 * PARKED_KB;
        let back = wait_for(Duration::from_secs(60), || {
            let rss = rss_kb(pid);
            (rss <= bound).then_some(rss)
        });
        eprintln!(
            "{}: {count} short publishes: RSS idle {idle} KB, peak {peak} KB, \
             back to {:?} KB after {:?} (now {} KB)",
            bin.display(),
            back,
            ended.elapsed(),
            rss_kb(pid)
        );
        assert!(
            back.is_some(),
            "RSS stayed at {} KB over {bound} KB, idle was {idle} KB (peak {peak} KB)",
            rss_kb(pid)
        );
    });
}
