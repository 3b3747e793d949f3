//! LL-HLS complete segments from memory (issue 21), on virtual time with the
//! real server code: the embedded HTTP server answers a segment whose parts
//! are still kept (the newest `LL_SEGMENTS_WITH_PARTS`) from memory with
//! exactly the bytes of its file in `hls_path` (whole, a byte range, HEAD),
//! with the parts' long-lived `Cache-Control`; an older one comes from its
//! file, which every segment still has.

mod scenario_support;

use std::net::{Ipv4Addr, SocketAddr};

use futures_util::{AsyncReadExt, AsyncWriteExt};
use media_core::hls::LL_SEGMENTS_WITH_PARTS;
use scenario_support::{secs, Synthetic, SERVER};
use server_core::{ListenerKind, Server};
use sim::client::{PublishEnd, PublisherOptions, SimPublisher};
use sim::runtime::SimRuntime;
use sim::Sim;

const PLAYER: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 1);
const MEMORY_CACHE: &str = "public, max-age=60, immutable";

const CONFIG: &str = "
listen 1935;
http_server { enabled on; listen 8080; dir /www; }
vhost __defaultVhost__ {
    hls {
        enabled on;
        hls_path /hls;
        hls_fragment 2;
        hls_window 60;
        hls_ll on;
        hls_part_duration 0.2;
    }
}
";

/// One answer: status, header lines (lowercase names) and body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `method path` with `extra` header lines, on a connection of its own.
async fn request(host: sim::Host, to: SocketAddr, method: &str, path: &str, extra: &str) -> Answer {
    let mut conn = host.connect(to).await.expect("connect to the HTTP server");
    let head = format!("{method} {path} HTTP/1.1\r\nHost: s\r\nConnection: close\r\n{extra}\r\n");
    conn.write_all(head.as_bytes()).await.expect("send");
    let mut data = Vec::new();
    conn.read_to_end(&mut data).await.expect("read the answer");
    let end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole head");
    let text = String::from_utf8_lossy(&data[..end]).into_owned();
    let mut lines = text.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    assert!(
        !headers.iter().any(|(n, _)| n == "transfer-encoding"),
        "a length-delimited body: {text}"
    );
    Answer {
        status,
        headers,
        body: data[end + 4..].to_vec(),
    }
}

#[test]
fn recent_segments_come_from_memory_as_their_files_and_older_ones_from_the_files() {
    let mut sim = Sim::from_env(211);
    let config = server_core::config::parse_str("ll.conf", CONFIG).expect("config parses");
    let server = Server::start(SimRuntime::new(sim.host(SERVER)), config).expect("server starts");
    let rtmp = server.addrs(ListenerKind::Rtmp)[0];
    let http = server.addrs(ListenerKind::HttpServer)[0];
    let t0 = sim.now();
    // Key frames every 2 s: segment n spans [2n, 2n + 2) s. Still publishing
    // at 15 s, so segments 0..=6 are closed and 7 is being written.
    let media = Synthetic {
        video_bytes: 3_000,
        ..Synthetic::default()
    };
    let _publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "cam").ending(PublishEnd::Hold),
        media.messages(secs(20)),
    );
    sim.run_until(t0 + secs(15)).unwrap();

    let playlist = String::from_utf8(
        sim.fs()
            .read("/hls/live/cam.m3u8")
            .expect("the plain playlist on disk")
            .to_vec(),
    )
    .unwrap();
    let listed: Vec<&str> = playlist
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert!(listed.len() >= 6, "{playlist}");
    let newest = listed.len() - 1;
    let get = |sim: &mut Sim, method: &str, uri: &str, extra: &str| {
        let path = format!("/live/{uri}");
        sim.block_on(request(sim.host(PLAYER), http, method, &path, extra))
            .unwrap()
    };

    for (n, uri) in listed.iter().enumerate() {
        let file = sim
            .fs()
            .read(format!("/hls/live/{uri}"))
            .unwrap_or_else(|| panic!("{uri} on disk"));
        assert!(file.len() > 10_000, "{uri}: {} bytes", file.len());
        let a = get(&mut sim, "GET", uri, "");
        assert_eq!(a.status, 200, "{uri}");
        assert!(a.body == file, "{uri}: the answer differs from the file");
        assert_eq!(
            a.header("content-length"),
            Some(file.len().to_string().as_str())
        );
        // The newest closed segments, whose parts are kept, from memory;
        // the others from their files (which send no Cache-Control).
        let in_memory = n + LL_SEGMENTS_WITH_PARTS > newest;
        let cache = a.header("cache-control");
        assert_eq!(cache == Some(MEMORY_CACHE), in_memory, "{uri}: {cache:?}");
        if !in_memory {
            assert_eq!(cache, None, "{uri}");
        }
        assert_eq!(a.header("accept-ranges"), Some("bytes"), "{uri}");
    }

    // The newest one: a byte range across parts, a suffix, HEAD, 416.
    let uri = listed[newest];
    let file = sim.fs().read(format!("/hls/live/{uri}")).unwrap();
    let len = file.len();
    let a = get(&mut sim, "GET", uri, "Range: bytes=100-8099\r\n");
    assert_eq!(a.status, 206);
    assert!(
        a.body == file[100..8100],
        "the range differs from the file's"
    );
    let range = format!("bytes 100-8099/{len}");
    assert_eq!(a.header("content-range"), Some(range.as_str()));
    assert_eq!(a.header("cache-control"), Some(MEMORY_CACHE));
    let a = get(&mut sim, "GET", uri, "Range: bytes=-1000\r\n");
    assert_eq!(a.status, 206);
    assert!(a.body == file[len - 1000..]);
    let a = get(&mut sim, "HEAD", uri, "");
    assert_eq!(a.status, 200);
    assert!(a.body.is_empty());
    assert_eq!(a.header("content-length"), Some(len.to_string().as_str()));
    assert_eq!(a.header("cache-control"), Some(MEMORY_CACHE));
    let a = get(&mut sim, "GET", uri, &format!("Range: bytes={len}-\r\n"));
    assert_eq!(a.status, 416);
    let unsatisfiable = format!("bytes */{len}");
    assert_eq!(a.header("content-range"), Some(unsatisfiable.as_str()));
}
