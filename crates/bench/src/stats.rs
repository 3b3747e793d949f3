//! Per-connection measurements and the arithmetic that summarises them.
//!
//! Everything here is plain data and pure functions so the figures printed
//! by `rtmp-load` are unit-tested, not trusted.

/// A gap between two media messages (or, for HLS, an empty playback
/// buffer) longer than this is a stall: a viewer would see the picture
/// freeze. One second is the threshold the issue (and SRS's st-load) uses.
pub const STALL_GAP_MS: u64 = 1000;

/// What one simulated client measured over the whole run (all its
/// sessions when it reconnects).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnStats {
    /// Client index, 0-based, in start order.
    pub id: usize,
    /// Bytes on the wire: received by players, sent by publishers (TCP
    /// payload; for HTTP, body bytes).
    pub bytes: u64,
    /// Milliseconds connected (or, for HLS, running), summed over sessions.
    pub active_ms: u64,
    /// Media payload bytes counted by [`RateMeter`], summed over sessions.
    pub media_bytes: u64,
    /// Milliseconds measured by [`RateMeter`], summed over sessions: the
    /// time over which [`kbps`](Self::kbps) is taken, so the wait for the
    /// first keyframe does not count as a slow stream.
    pub media_ms: u64,
    /// Time from starting the first session (TCP connect) to its first
    /// video frame (RTMP, HTTP-FLV) or first complete segment (HLS).
    pub first_frame_ms: Option<u64>,
    /// Gaps longer than [`STALL_GAP_MS`] between media messages.
    pub stalls: u32,
    /// Sum of the stalled gaps (each whole gap), in milliseconds.
    pub stall_ms: u64,
    /// Video messages (RTMP, HTTP-FLV tags) or segments (HLS).
    pub video_frames: u64,
    /// Audio messages.
    pub audio_frames: u64,
    /// Get mode: answers with status 200 whose body was read in full.
    pub requests: u64,
    /// Get mode: answers with any other status (their bodies read too).
    pub non_200: u64,
    /// Connections opened.
    pub sessions: u32,
    /// Sessions the server ended (EOF, reset, unpublish) before we meant to.
    pub disconnects: u32,
    /// Sessions that failed (connect refused, protocol error, rejected
    /// publish/play, HTTP error status).
    pub errors: u32,
    /// The last error, for the report.
    pub last_error: Option<String>,
}

impl ConnStats {
    /// A fresh record for client `id`.
    pub fn new(id: usize) -> Self {
        Self {
            id,
            ..Self::default()
        }
    }

    /// Media bitrate once media flowed ([`RateMeter`]), in kbit/s (bits
    /// per millisecond): comparable with the stream's bitrate whatever the
    /// protocol overhead. Zero when no media ever came.
    pub fn kbps(&self) -> f64 {
        rate_kbps(self.media_bytes, self.media_ms)
    }

    /// Records an error.
    pub fn error(&mut self, message: String) {
        self.errors = self.errors.saturating_add(1);
        self.last_error = Some(message);
    }
}

/// `bytes` over `ms` milliseconds in kbit/s; zero for an empty interval.
pub fn rate_kbps(bytes: u64, ms: u64) -> f64 {
    if ms == 0 {
        return 0.0;
    }
    bytes as f64 * 8.0 / ms as f64
}

/// Measures one session's media bitrate: the clock starts when the first
/// video picture arrives (or the first media message, for a stream without
/// video), and the payload bytes arriving after it are counted. Before
/// that picture, players of a server without a GOP cache only get audio
/// while they wait for a keyframe; counting that wait would report a
/// healthy player as slow. A GOP cache's burst right after the first
/// picture is counted, so such players read slightly above the stream's
/// rate on short runs (by at most one GOP over the run time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateMeter {
    /// (start ms, bytes since) from the first media message.
    any: Option<(u64, u64)>,
    /// (start ms, bytes since) from the first video picture.
    picture: Option<(u64, u64)>,
}

impl RateMeter {
    /// A message of `len` payload bytes arrived at `now_ms`.
    pub fn on_media(&mut self, now_ms: u64, len: u64, picture: bool) {
        for (clock, starts) in [(&mut self.any, true), (&mut self.picture, picture)] {
            match clock {
                Some((_, bytes)) => *bytes = bytes.saturating_add(len),
                None if starts => *clock = Some((now_ms, 0)),
                None => {}
            }
        }
    }

    /// (bytes, milliseconds) measured when the session ends at `now_ms`.
    pub fn finish(&self, now_ms: u64) -> (u64, u64) {
        match self.picture.or(self.any) {
            Some((start, bytes)) => (bytes, now_ms.saturating_sub(start)),
            None => (0, 0),
        }
    }
}

/// Counts stalls from media arrival times.
#[derive(Debug, Clone, Copy, Default)]
pub struct StallDetector {
    last_ms: Option<u64>,
}

impl StallDetector {
    /// Media arrived at `now_ms`; returns the stalled time if the gap since
    /// the previous media exceeded [`STALL_GAP_MS`]. The first media of a
    /// session opens the clock (time to first frame is measured apart).
    pub fn on_media(&mut self, now_ms: u64) -> Option<u64> {
        let stall = self.gap(now_ms);
        self.last_ms = Some(now_ms);
        stall
    }

    /// The session ends at `now_ms`: a player that has been waiting longer
    /// than [`STALL_GAP_MS`] for media is stalled too.
    pub fn finish(&mut self, now_ms: u64) -> Option<u64> {
        let stall = self.gap(now_ms);
        self.last_ms = None;
        stall
    }

    fn gap(&self, now_ms: u64) -> Option<u64> {
        let last = self.last_ms?;
        let gap = now_ms.saturating_sub(last);
        (gap > STALL_GAP_MS).then_some(gap)
    }
}

/// Records a stall returned by [`StallDetector`].
pub fn add_stall(stats: &mut ConnStats, stall: Option<u64>) {
    if let Some(ms) = stall {
        stats.stalls = stats.stalls.saturating_add(1);
        stats.stall_ms = stats.stall_ms.saturating_add(ms);
    }
}

/// min / median / p95 / max of one metric over connections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Distribution {
    /// How many values.
    pub count: usize,
    /// Smallest.
    pub min: f64,
    /// 50th percentile (nearest rank).
    pub median: f64,
    /// 95th percentile (nearest rank).
    pub p95: f64,
    /// Largest.
    pub max: f64,
}

impl Distribution {
    /// The distribution of `values` (NaNs are ignored); `None` when empty.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
        v.sort_by(f64::total_cmp);
        Some(Self {
            count: v.len(),
            min: *v.first()?,
            median: percentile(&v, 50.0)?,
            p95: percentile(&v, 95.0)?,
            max: *v.last()?,
        })
    }
}

/// The `p`th percentile of ascending `sorted` values by the nearest-rank
/// method: the smallest value with at least `p` % of the values at or below
/// it. Always one of the values (no interpolation), so a p95 stall count is
/// a count some connection really had. `None` when empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    // rank = ceil(p/100 * n), at least 1.
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    sorted.get(rank.clamp(1, n) - 1).copied()
}

/// Totals over all connections.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Clients that started at least one session.
    pub started: usize,
    /// Sessions opened.
    pub sessions: u64,
    /// Bytes moved.
    pub bytes: u64,
    /// Stalls.
    pub stalls: u64,
    /// Server-side disconnects.
    pub disconnects: u64,
    /// Errors.
    pub errors: u64,
    /// Get mode: 200 answers read in full.
    pub requests: u64,
    /// Get mode: answers with another status.
    pub non_200: u64,
    /// Clients that never got a first frame.
    pub no_media: usize,
}

impl Totals {
    /// Sums `conns`.
    pub fn of(conns: &[ConnStats]) -> Self {
        let mut t = Self::default();
        for c in conns {
            if c.sessions > 0 {
                t.started += 1;
            }
            t.sessions += u64::from(c.sessions);
            t.bytes = t.bytes.saturating_add(c.bytes);
            t.stalls += u64::from(c.stalls);
            t.disconnects += u64::from(c.disconnects);
            t.errors += u64::from(c.errors);
            t.requests = t.requests.saturating_add(c.requests);
            t.non_200 = t.non_200.saturating_add(c.non_200);
            if c.sessions > 0 && c.first_frame_ms.is_none() {
                t.no_media += 1;
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(10.0));
        assert_eq!(percentile(&v, 95.0), Some(19.0));
        assert_eq!(percentile(&v, 100.0), Some(20.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 95.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
        // 5 values: p95 rank = ceil(4.75) = 5, median rank = ceil(2.5) = 3.
        let v = [1.0, 2.0, 3.0, 4.0, 100.0];
        assert_eq!(percentile(&v, 95.0), Some(100.0));
        assert_eq!(percentile(&v, 50.0), Some(3.0));
    }

    #[test]
    fn distribution_sorts_and_ignores_nan() {
        let d = Distribution::of([5.0, f64::NAN, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!(d.count, 5);
        assert_eq!((d.min, d.median, d.p95, d.max), (1.0, 3.0, 5.0, 5.0));
        assert_eq!(Distribution::of([]), None);
        assert_eq!(Distribution::of([f64::NAN]), None);
    }

    #[test]
    fn kbps_is_bits_per_millisecond() {
        // 62,500 bytes in one second is 500 kbit/s.
        assert_eq!(rate_kbps(62_500, 1000), 500.0);
        assert_eq!(rate_kbps(62_500 * 30, 30_000), 500.0);
        assert_eq!(rate_kbps(1, 0), 0.0);
        let c = ConnStats {
            bytes: 1_000_000,
            active_ms: 4000,
            media_bytes: 125_000,
            media_ms: 2000,
            ..ConnStats::new(3)
        };
        assert_eq!(c.kbps(), 500.0);
    }

    #[test]
    fn rate_meter_starts_at_the_first_picture() {
        let mut m = RateMeter::default();
        assert_eq!(m.finish(5000), (0, 0));
        // Audio while waiting for a keyframe.
        m.on_media(100, 200, false);
        m.on_media(120, 200, false);
        assert_eq!(m.finish(1100), (200, 1000));
        // The keyframe at 1000 starts the clock; its own bytes do not count.
        m.on_media(1000, 9000, true);
        m.on_media(1500, 31_250, false);
        m.on_media(2000, 31_250, true);
        let (bytes, ms) = m.finish(2000);
        assert_eq!((bytes, ms), (62_500, 1000));
        assert_eq!(rate_kbps(bytes, ms), 500.0);
    }

    #[test]
    fn stalls_are_gaps_over_one_second() {
        let mut d = StallDetector::default();
        let mut c = ConnStats::new(0);
        for t in [100, 1100, 2000, 3001, 5000, 5100] {
            add_stall(&mut c, d.on_media(t));
        }
        // 1100 -> 2000 is 900 ms, 2000 -> 3001 is 1001 ms, 3001 -> 5000 is 1999 ms;
        // 100 -> 1100 is exactly 1000 ms, not over.
        assert_eq!(c.stalls, 2);
        assert_eq!(c.stall_ms, 1001 + 1999);
        // Waiting 1.5 s at the end is a stall as well; 0.5 s is not.
        add_stall(&mut c, d.finish(6600));
        assert_eq!(c.stalls, 3);
        add_stall(&mut c, d.on_media(7000));
        add_stall(&mut c, d.finish(7500));
        assert_eq!(c.stalls, 3);
        // No media at all: nothing to measure a gap from.
        let mut fresh = StallDetector::default();
        assert_eq!(fresh.finish(10_000), None);
    }

    #[test]
    fn totals_count_clients_without_media() {
        let a = ConnStats {
            sessions: 2,
            bytes: 10,
            requests: 7,
            non_200: 1,
            first_frame_ms: Some(5),
            disconnects: 1,
            stalls: 1,
            ..ConnStats::new(0)
        };
        let mut b = ConnStats {
            sessions: 1,
            bytes: 3,
            requests: 5,
            non_200: 2,
            ..ConnStats::new(1)
        };
        b.error("refused".to_owned());
        let never = ConnStats::new(2);
        let t = Totals::of(&[a, b, never]);
        assert_eq!(t.started, 2);
        assert_eq!(t.sessions, 3);
        assert_eq!(t.bytes, 13);
        assert_eq!((t.stalls, t.disconnects, t.errors), (1, 1, 1));
        assert_eq!(t.no_media, 1);
        assert_eq!((t.requests, t.non_200), (12, 3));
    }
}
