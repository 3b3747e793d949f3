//! What every simulated client shares: the run environment, the session
//! loop (retry, reconnect, hold times) and the measurements each session
//! records. The per-protocol modules only move bytes and report media.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use media_core::flv::VideoTagHeader;

use crate::options::{Mode, Options};
use crate::progress::Counters;
use crate::publisher::Clip;
use crate::rng::Rng;
use crate::rtmp_conn::ConnError;
use crate::stats::{add_stall, ConnStats, RateMeter, StallDetector};
use crate::url::{with_suffix, Target};
use crate::{get, hls, http_flv, player, publisher};

/// Pause after a failed or dropped session before the next attempt, so a
/// refusing server is not hammered in a loop.
pub const RETRY_DELAY: Duration = Duration::from_secs(1);

impl Arrival {
    /// A video message or tag whose body starts with `body` (a whole body,
    /// or the start a [`TagScanner`](media_core::flv::TagScanner) kept): a
    /// picture when its header says so ([`VideoTagHeader::is_picture`]).
    pub fn video(body: &[u8]) -> Self {
        Self::Video {
            picture: VideoTagHeader::parse(body).is_ok_and(|(h, _)| h.is_picture()),
        }
    }
}

/// Everything the clients of one run share (read-only but the counters).
#[derive(Debug)]
pub struct Env {
    /// The command line.
    pub opts: Options,
    /// The server's address, resolved once.
    pub addr: SocketAddr,
    /// Live counters for the progress line.
    pub counters: Counters,
    /// When the run started: the origin of every `now_ms`.
    pub start: Instant,
    /// When every client stops.
    pub deadline: Instant,
    /// The file publishers send (publish mode).
    pub clip: Option<Clip>,
    /// RTMP application (RTMP modes).
    pub app: String,
    /// RTMP stream name, query included (RTMP modes).
    pub stream: String,
}

impl Env {
    /// Milliseconds since the run started.
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// The stream client `id` publishes in its `session`th session:
    /// `STREAM_id` when there are several publishers, so they do not
    /// collide, and `STREAM_id_session` with `--reconnect`, so each session
    /// is a new name (a same-name reconnect can race the server's teardown
    /// of the session just closed and be refused as a name in use, as SRS
    /// and nginx-rtmp refuse it); the query string stays last.
    pub fn publish_name(&self, id: usize, session: u32) -> String {
        let mut suffix = String::new();
        if self.opts.clients > 1 {
            suffix = format!("_{id}");
        }
        if self.opts.reconnect {
            suffix = format!("{suffix}_{session}");
        }
        with_suffix(&self.stream, &suffix)
    }

    /// What [`publish_name`](Self::publish_name) appends for publisher
    /// `id % streams` of `-n streams`: client `id` of `--streams K` plays
    /// the stream that publisher publishes, so K publishers each get every
    /// K-th player (none when K is 1: the one publisher's name is bare).
    fn play_suffix(&self, id: usize) -> String {
        match self.opts.streams {
            0 | 1 => String::new(),
            k => format!("_{}", id % k),
        }
    }

    /// The RTMP stream client `id` plays, query included.
    pub fn play_name(&self, id: usize) -> String {
        with_suffix(&self.stream, &self.play_suffix(id))
    }

    /// The HTTP-FLV URL client `id` plays.
    pub fn play_url(&self, id: usize) -> Target {
        self.opts.url.with_stream_suffix(&self.play_suffix(id))
    }
}

/// One connection's measurement state, handed to the protocol modules.
#[derive(Debug)]
pub struct Session<'a> {
    /// The run.
    pub env: &'a Env,
    /// What this client has measured so far.
    pub stats: &'a mut ConnStats,
    /// When this session started (before TCP connect).
    pub started: Instant,
    /// When it must end.
    pub end: Instant,
    /// Whether the server accepted us (play/publish started, HTTP 200): a
    /// close after this is a disconnect, before it an error.
    pub established: bool,
    got_first: bool,
    rate: RateMeter,
    stall: StallDetector,
}

/// What [`Session::on_media`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// An audio message or tag.
    Audio,
    /// A video message or tag; `picture` when it is a coded picture (not a
    /// sequence header).
    Video {
        /// Whether it is a coded picture.
        picture: bool,
    },
    /// A complete HLS segment.
    Segment,
    /// A complete 200 answer (get mode): starts the clock like a first
    /// frame, counts toward the bitrate, is neither a frame nor a stall.
    Response,
}

impl<'a> Session<'a> {
    /// A session starting now and ending at `end`.
    pub fn new(env: &'a Env, stats: &'a mut ConnStats, end: Instant) -> Self {
        Self {
            env,
            stats,
            started: Instant::now(),
            end,
            established: false,
            got_first: false,
            rate: RateMeter::default(),
            stall: StallDetector::default(),
        }
    }

    /// Counts `n` bytes moved.
    pub fn add_bytes(&mut self, n: u64) {
        self.stats.bytes = self.stats.bytes.saturating_add(n);
        self.env
            .counters
            .bytes
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// The first picture (or first segment) of this session arrived at
    /// `now`; only a client's first session sets [`ConnStats::first_frame_ms`].
    fn first_frame(&mut self, now: Instant) {
        if self.got_first {
            return;
        }
        self.got_first = true;
        if self.stats.first_frame_ms.is_none() {
            let ms = now.saturating_duration_since(self.started).as_millis() as u64;
            self.stats.first_frame_ms = Some(ms);
        }
        Counters::bump(&self.env.counters.first_frames);
    }

    /// Whether this session's first picture has arrived.
    pub fn has_first_frame(&self) -> bool {
        self.got_first
    }

    /// Media of `len` payload bytes arrived (or, for a publisher, was
    /// sent) at `now`, `now_ms` in run time.
    pub fn on_media(&mut self, now: Instant, now_ms: u64, arrival: Arrival, len: u64) {
        let picture = match arrival {
            Arrival::Audio => {
                self.stats.audio_frames += 1;
                false
            }
            Arrival::Video { picture } => {
                self.stats.video_frames += 1;
                picture
            }
            Arrival::Segment => {
                self.stats.video_frames += 1;
                true
            }
            Arrival::Response => true,
        };
        if picture {
            self.first_frame(now);
        }
        self.rate.on_media(now_ms, len, picture);
        // A segment per target duration is no stall: HLS models playback;
        // get mode measures throughput, not playback.
        if !matches!(arrival, Arrival::Segment | Arrival::Response) {
            let stall = self.stall.on_media(now_ms);
            self.record_stall(stall);
        }
    }

    /// Records a stall of `ms` if any.
    pub fn record_stall(&mut self, stall: Option<u64>) {
        if stall.is_some() {
            Counters::bump(&self.env.counters.stalls);
        }
        add_stall(self.stats, stall);
    }

    /// Closes the books on this session at `now`.
    fn finish(&mut self, now: Instant) {
        let now_ms = self.env.now_ms();
        let stall = self.stall.finish(now_ms);
        self.record_stall(stall);
        let ms = now.saturating_duration_since(self.started).as_millis() as u64;
        self.stats.active_ms = self.stats.active_ms.saturating_add(ms);
        let (bytes, ms) = self.rate.finish(now_ms);
        self.stats.media_bytes = self.stats.media_bytes.saturating_add(bytes);
        self.stats.media_ms = self.stats.media_ms.saturating_add(ms);
    }
}

/// Runs client `id` until the deadline: one session after another (several
/// only with `--reconnect` or after a failure), each measured into one
/// [`ConnStats`].
pub async fn run(env: &Env, id: usize) -> ConnStats {
    let mut stats = ConnStats::new(id);
    let mut rng = Rng::new(env.opts.seed ^ (id as u64).wrapping_mul(0x9e37_79b9));
    Counters::bump(&env.counters.started);
    while Instant::now() < env.deadline {
        let now = Instant::now();
        let end = if env.opts.reconnect {
            let (lo, hi) = env.opts.hold_ms;
            (now + Duration::from_millis(rng.range(lo, hi))).min(env.deadline)
        } else {
            env.deadline
        };
        stats.sessions += 1;
        env.counters
            .open
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut session = Session::new(env, &mut stats, end);
        let seed = rng.seed32();
        let result = match env.opts.mode {
            Mode::Play => player::session(&mut session, seed, id).await,
            Mode::Publish => publisher::session(&mut session, seed, id).await,
            Mode::HttpFlv => http_flv::session(&mut session, id).await,
            Mode::Hls => hls::session(&mut session).await,
            Mode::Get => get::session(&mut session).await,
        };
        session.finish(Instant::now());
        let established = session.established;
        env.counters
            .open
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        if let Err(error) = result {
            let dropped = matches!(error, ConnError::Closed | ConnError::Io(_));
            if established && dropped {
                stats.disconnects += 1;
                stats.last_error = Some(error.to_string());
                Counters::bump(&env.counters.disconnects);
            } else {
                stats.error(error.to_string());
                Counters::bump(&env.counters.errors);
            }
            let retry_at = (Instant::now() + RETRY_DELAY).min(env.deadline);
            tokio::time::sleep_until(retry_at.into()).await;
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{parse, Command};

    fn env(args: &[&str]) -> Env {
        let Ok(Command::Run(opts)) = parse(args.iter().map(|s| s.to_string())) else {
            panic!("options {args:?}");
        };
        let now = Instant::now();
        Env {
            opts,
            addr: SocketAddr::from(([127, 0, 0, 1], 1935)),
            counters: Counters::default(),
            start: now,
            deadline: now,
            clip: None,
            app: "live".into(),
            stream: "s?k=1".into(),
        }
    }

    #[test]
    fn publishers_take_their_own_names_and_a_new_one_each_reconnect() {
        let one = env(&["-m", "publish", "-i", "c.flv", "rtmp://h/live/s"]);
        assert_eq!(one.publish_name(0, 1), "s?k=1");
        let many = env(&["-m", "publish", "-i", "c.flv", "-n", "3", "rtmp://h/live/s"]);
        assert_eq!(many.publish_name(2, 5), "s_2?k=1");
        let churn = env(&[
            "-m",
            "publish",
            "-i",
            "c.flv",
            "-n",
            "3",
            "--reconnect",
            "rtmp://h/live/s",
        ]);
        assert_eq!(churn.publish_name(2, 1), "s_2_1?k=1");
        assert_eq!(churn.publish_name(2, 2), "s_2_2?k=1");
    }

    #[test]
    fn players_of_k_streams_play_what_k_publishers_publish() {
        let publishers = env(&["-m", "publish", "-i", "c.flv", "-n", "3", "rtmp://h/live/s"]);
        let players = env(&["-n", "7", "--streams", "3", "rtmp://h/live/s"]);
        for id in 0..7 {
            assert_eq!(players.play_name(id), publishers.publish_name(id % 3, 1));
        }
        assert_eq!(players.play_name(4), "s_1?k=1");
        let flv = env(&["-n", "7", "--streams", "3", "http://h/live/s.flv?k=1"]);
        assert_eq!(flv.play_url(5).path, "/live/s_2.flv?k=1");
        // One stream: the one publisher's bare name, as without --streams.
        let one = env(&["-m", "publish", "-i", "c.flv", "rtmp://h/live/s"]);
        for args in [
            &["-n", "4", "--streams", "1", "rtmp://h/live/s"][..],
            &["-n", "4", "rtmp://h/live/s"],
        ] {
            let players = env(args);
            for id in 0..4 {
                assert_eq!(players.play_name(id), one.publish_name(0, 1));
            }
        }
        let flv = env(&["-n", "4", "http://h/live/s.flv"]);
        assert_eq!(flv.play_url(3).path, "/live/s.flv");
    }
}
