//! A player that records, and optionally verifies, everything it receives.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::future::{select, Either};
use rtmp_proto::message::MessageType;
use rtmp_proto::session::{ClientConfig, ClientEvent};

use super::driver::{ClientError, Driver};
use super::media::MediaRecord;
use super::publisher::PublisherLog;
use crate::executor::JoinHandle;
use crate::handle::Host;

/// How a [`SimPlayer`] plays.
#[derive(Debug, Clone)]
pub struct PlayerOptions {
    /// Application (`live`).
    pub app: String,
    /// Stream name.
    pub stream: String,
    /// Session settings.
    pub config: ClientConfig,
    /// Virtual time at which the player stops reading (its socket stays open):
    /// a stalled viewer.
    pub stall_at: Option<Duration>,
    /// Virtual time at which the player disconnects.
    pub stop_at: Option<Duration>,
    /// Keep a [`MediaRecord`] per message (memory grows with the run).
    pub keep_records: bool,
    /// The publisher whose messages this player must receive, in order and without gaps.
    pub expect: Option<Arc<Mutex<PublisherLog>>>,
}

impl PlayerOptions {
    /// Plays `app/stream` until disconnected, keeping records.
    pub fn new(app: &str, stream: &str) -> Self {
        Self {
            app: app.to_owned(),
            stream: stream.to_owned(),
            config: ClientConfig::default(),
            stall_at: None,
            stop_at: None,
            keep_records: true,
            expect: None,
        }
    }
}

/// What a player received.
#[derive(Debug, Clone, Default)]
pub struct PlayerLog {
    /// `onStatus` codes, with their virtual time.
    pub statuses: Vec<(Duration, String)>,
    /// Every media message, if [`PlayerOptions::keep_records`].
    pub records: Vec<MediaRecord>,
    /// Audio/video frames received (sequence headers and metadata excluded).
    pub frames: u64,
    /// Sequence headers and metadata received.
    pub config_messages: u64,
    /// The first frame.
    pub first_frame: Option<MediaRecord>,
    /// The latest frame.
    pub last_frame: Option<MediaRecord>,
    /// Frames whose timestamp went below the previous frame's of the same track.
    pub timestamp_regressions: u64,
    /// Frames that matched the publisher's next frame (with `expect`).
    pub matched: u64,
    /// Publisher frames skipped between matches (with `expect`).
    pub gaps: u64,
    /// Frames not found among the publisher's (with `expect`).
    pub unknown: u64,
    /// The first irregularity, described.
    pub first_problem: Option<String>,
    /// Why the player stopped, once it did.
    pub ended: Option<String>,
    last_audio_ts: Option<u64>,
    last_video_ts: Option<u64>,
    cursor: Option<usize>,
    /// This player's timestamps minus the publisher's, learnt from the first
    /// matched frame: with `atc off` a player's timeline starts at 0 when it
    /// joins (SRS's consumer jitter), so a late joiner's times are the
    /// publisher's shifted by a constant.
    offset: Option<i128>,
}

impl PlayerLog {
    /// Whether every frame so far arrived in order, without a gap, starting at a
    /// video key frame (and at least one frame arrived).
    pub fn is_clean(&self) -> bool {
        self.frames > 0
            && self
                .first_frame
                .is_some_and(|f| f.kind == MessageType::Video && f.keyframe)
            && self.timestamp_regressions == 0
            && self.gaps == 0
            && self.unknown == 0
    }

    /// This player's timestamps minus the publisher's (with `expect`, once a
    /// frame matched): 0 for a player there from the start, minus the
    /// stream time it joined at for a late one.
    pub fn timeline_offset(&self) -> Option<i128> {
        self.offset
    }

    /// A timestamp this player received, on the publisher's clock.
    pub fn publisher_time(&self, timestamp: u64) -> u64 {
        let t = i128::from(timestamp) - self.offset.unwrap_or(0);
        u64::try_from(t.max(0)).unwrap_or(u64::MAX)
    }

    fn problem(&mut self, what: String) {
        if self.first_problem.is_none() {
            self.first_problem = Some(what);
        }
    }

    fn record(&mut self, rec: MediaRecord, keep: bool, expect: Option<&Mutex<PublisherLog>>) {
        if keep {
            self.records.push(rec);
        }
        let config = rec.sequence_header || rec.kind == MessageType::DataAmf0;
        if config {
            self.config_messages += 1;
            return;
        }
        self.frames += 1;
        if self.first_frame.is_none() {
            self.first_frame = Some(rec);
            if !(rec.kind == MessageType::Video && rec.keyframe) {
                self.problem(format!("first frame is not a video key frame: {rec:?}"));
            }
        }
        self.last_frame = Some(rec);
        let last = match rec.kind {
            MessageType::Audio => &mut self.last_audio_ts,
            _ => &mut self.last_video_ts,
        };
        let prev = last.replace(rec.timestamp);
        if let Some(prev) = prev.filter(|p| rec.timestamp < *p) {
            self.timestamp_regressions += 1;
            self.problem(format!(
                "timestamp went back from {prev} to {}",
                rec.timestamp
            ));
        }
        if let Some(expect) = expect {
            self.verify(rec, &expect.lock().unwrap_or_else(|e| e.into_inner()).sent);
        }
    }

    /// Matches `rec` with the publisher's next frame after the cursor, at the
    /// offset the first match set; the first frame matches the publisher's
    /// latest frame with its payload (a joiner starts at the newest GOP).
    fn verify(&mut self, rec: MediaRecord, sent: &[MediaRecord]) {
        let offset = self.offset;
        let same = |s: &MediaRecord| {
            s.kind == rec.kind
                && s.digest == rec.digest
                && s.len == rec.len
                && offset.is_none_or(|o| i128::from(s.timestamp) + o == i128::from(rec.timestamp))
        };
        let is_frame = |s: &MediaRecord| !(s.sequence_header || s.kind == MessageType::DataAmf0);
        let from = self.cursor.map_or(0, |c| c + 1);
        let found = match offset {
            Some(_) => sent
                .get(from..)
                .and_then(|rest| rest.iter().position(same))
                .map(|i| i + from),
            None => sent.iter().rposition(same),
        };
        if let (None, Some(at)) = (offset, found.and_then(|at| sent.get(at))) {
            self.offset = Some(i128::from(rec.timestamp) - i128::from(at.timestamp));
        }
        match found {
            Some(at) => {
                if self.cursor.is_some() {
                    let skipped = sent
                        .get(from..at)
                        .map_or(0, |s| s.iter().filter(|r| is_frame(r)).count());
                    if skipped > 0 {
                        self.gaps += skipped as u64;
                        self.problem(format!(
                            "{skipped} frames missing before ts {}",
                            rec.timestamp
                        ));
                    }
                }
                self.matched += 1;
                self.cursor = Some(at);
            }
            None => {
                self.unknown += 1;
                self.problem(format!(
                    "frame not sent by the publisher (or out of order): {rec:?}"
                ));
            }
        }
    }
}

/// A running simulated player.
#[derive(Debug)]
pub struct SimPlayer {
    log: Arc<Mutex<PlayerLog>>,
    task: JoinHandle<Result<(), ClientError>>,
}

impl SimPlayer {
    /// Starts playing from `host` against the RTMP server at `server`.
    pub fn spawn(host: &Host, server: SocketAddr, options: PlayerOptions) -> Self {
        let log = Arc::new(Mutex::new(PlayerLog::default()));
        let task = host
            .sim()
            .spawn(run(host.clone(), server, options, log.clone()));
        Self { log, task }
    }

    fn lock(&self) -> MutexGuard<'_, PlayerLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the log so far.
    pub fn log(&self) -> PlayerLog {
        self.lock().clone()
    }

    /// Applies `f` to the log without copying it.
    pub fn with_log<R>(&self, f: impl FnOnce(&PlayerLog) -> R) -> R {
        f(&self.lock())
    }

    /// Whether the player task ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// The task's outcome, once finished (taken once).
    pub fn result(&self) -> Option<Result<(), ClientError>> {
        self.task.try_take()
    }

    /// Stops the player at once (its connection is dropped).
    pub fn abort(&self) {
        self.task.abort();
    }
}

async fn run(
    host: Host,
    server: SocketAddr,
    options: PlayerOptions,
    log: Arc<Mutex<PlayerLog>>,
) -> Result<(), ClientError> {
    let result = play(host, server, &options, &log).await;
    let reason = match &result {
        Ok(()) => "stopped".to_owned(),
        Err(e) => e.to_string(),
    };
    log.lock().unwrap_or_else(|e| e.into_inner()).ended = Some(reason);
    result
}

async fn play(
    host: Host,
    server: SocketAddr,
    options: &PlayerOptions,
    log: &Mutex<PlayerLog>,
) -> Result<(), ClientError> {
    let sim = host.sim().clone();
    let expect = options.expect.as_deref();
    let keep = options.keep_records;
    let on_event = |event: ClientEvent| {
        let now = sim.now();
        let mut l = log.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            ClientEvent::Status { code, .. } => l.statuses.push((now, code)),
            ClientEvent::Media { message, .. } | ClientEvent::Data { message, .. } => {
                l.record(MediaRecord::of(&message, now), keep, expect);
            }
            _ => {}
        }
    };
    let mut d = Driver::open(&host, server, options.config.clone()).await?;
    d.connect_app(&options.app, server, &mut |e| on_event(e))
        .await?;
    d.session.create_stream();
    let stream_id = loop {
        match d.next_event().await? {
            ClientEvent::StreamCreated { stream_id, .. } => break stream_id,
            ClientEvent::CallFailed { command, .. } => return Err(ClientError::Refused(command)),
            e => on_event(e),
        }
    };
    d.session.play(stream_id, &options.stream);
    d.flush().await?;
    let never = Duration::MAX;
    let stall_at = options.stall_at.unwrap_or(never);
    let stop_at = options.stop_at.unwrap_or(never);
    loop {
        let now = sim.now();
        if now >= stop_at {
            return Ok(());
        }
        if now >= stall_at {
            // Stop reading; the socket stays open until stop_at.
            if stop_at == never {
                std::future::pending::<()>().await;
            }
            sim.sleep_until(stop_at).await;
            continue;
        }
        let deadline = stall_at.min(stop_at);
        let step = {
            let read = pin!(d.read_once());
            match deadline {
                d if d == never => Some(read.await),
                d => match select(read, pin!(sim.sleep_until(d))).await {
                    Either::Left((r, _)) => Some(r),
                    Either::Right(_) => None,
                },
            }
        };
        match step {
            Some(Ok(true)) => {
                while let Some(e) = d.session.poll_event() {
                    on_event(e);
                }
                // Acknowledgements and pong replies.
                d.flush().await?;
            }
            Some(Ok(false)) => return Err(ClientError::Closed),
            Some(Err(e)) => return Err(e),
            None => {}
        }
    }
}
