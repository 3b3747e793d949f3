//! The end-of-run summary: a plain-text table for people, JSON for
//! scripts (`bench/compare.sh` reads it).

use std::fmt::Write;

use crate::cpu::CpuTimes;
use crate::json::{self, Object};
use crate::options::Mode;
use crate::stats::{rate_kbps, ConnStats, Distribution, Totals};

/// Distinct error messages listed in a report.
pub const MAX_ERROR_KINDS: usize = 5;

/// Everything a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// What the clients did.
    pub mode: Mode,
    /// Against what.
    pub url: String,
    /// Clients asked for.
    pub clients: usize,
    /// Streams the players were spread over (`--streams`; 1 otherwise).
    pub streams: usize,
    /// Wall time of the run, in seconds.
    pub wall_s: f64,
    /// The time clients ran (from the start to the deadline), in seconds:
    /// what get mode's rates are taken over. Defaults to `wall_s`; see
    /// [`with_window`](Self::with_window).
    pub window_s: f64,
    /// Our own CPU time over the run.
    pub cpu: CpuTimes,
    /// Our own peak RSS, in KiB.
    pub peak_rss_kb: Option<u64>,
    /// Sums.
    pub totals: Totals,
    /// Per-connection kbit/s, over clients that connected.
    pub kbps: Option<Distribution>,
    /// Per-connection time to first frame, in ms.
    pub first_frame_ms: Option<Distribution>,
    /// Per-connection stall counts.
    pub stalls: Option<Distribution>,
    /// Most frequent errors, with counts.
    pub errors: Vec<(String, usize)>,
    /// Every connection.
    pub conns: Vec<ConnStats>,
}

impl Report {
    /// Summarises `conns`.
    pub fn new(
        mode: Mode,
        url: String,
        clients: usize,
        wall_s: f64,
        cpu: CpuTimes,
        peak_rss_kb: Option<u64>,
        conns: Vec<ConnStats>,
    ) -> Self {
        let started = || conns.iter().filter(|c| c.sessions > 0);
        let kbps = Distribution::of(started().map(ConnStats::kbps));
        let first_frame_ms =
            Distribution::of(started().filter_map(|c| c.first_frame_ms.map(|v| v as f64)));
        let stalls = Distribution::of(started().map(|c| f64::from(c.stalls)));
        let mut errors: Vec<(String, usize)> = Vec::new();
        for c in &conns {
            if let Some(e) = &c.last_error {
                match errors.iter_mut().find(|(m, _)| m == e) {
                    Some((_, n)) => *n += 1,
                    None => errors.push((e.clone(), 1)),
                }
            }
        }
        errors.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        errors.truncate(MAX_ERROR_KINDS);
        Self {
            mode,
            url,
            clients,
            streams: 1,
            wall_s,
            window_s: wall_s,
            cpu,
            peak_rss_kb,
            totals: Totals::of(&conns),
            kbps,
            first_frame_ms,
            stalls,
            errors,
            conns,
        }
    }

    /// Sets [`window_s`](Self::window_s): the wall time also covers the
    /// runtime's shutdown after the deadline, when no request is counted.
    pub fn with_window(mut self, window_s: f64) -> Self {
        self.window_s = window_s;
        self
    }

    /// Sets [`streams`](Self::streams).
    pub fn with_streams(mut self, streams: usize) -> Self {
        self.streams = streams;
        self
    }

    /// Get mode: 200 answers a second over the window.
    pub fn requests_per_s(&self) -> f64 {
        per_second(self.totals.requests as f64, self.window_s)
    }

    /// Body bytes a second over the window, in MB (10^6 bytes).
    pub fn mb_per_s(&self) -> f64 {
        per_second(self.totals.bytes as f64 / 1e6, self.window_s)
    }

    /// Aggregate bitrate over the run, in kbit/s.
    pub fn aggregate_kbps(&self) -> f64 {
        rate_kbps(self.totals.bytes, (self.wall_s * 1000.0) as u64)
    }

    /// Our CPU use as a share of one core over the run, in percent.
    pub fn cpu_percent(&self) -> f64 {
        if self.wall_s <= 0.0 {
            return 0.0;
        }
        self.cpu.total_s() * 100.0 / self.wall_s
    }

    /// The human summary.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let t = &self.totals;
        let _ = writeln!(
            out,
            "rtmp-load {} {}: {} clients ({} started), {:.1} s",
            self.mode.name(),
            self.url,
            self.clients,
            t.started,
            self.wall_s
        );
        let _ = writeln!(
            out,
            "{:<18}{:>10}{:>10}{:>10}{:>10}",
            "", "min", "median", "p95", "max"
        );
        let first_label = match self.mode {
            Mode::Publish => "first sent ms",
            Mode::Hls => "first segment ms",
            Mode::Get => "first answer ms",
            _ => "first frame ms",
        };
        for (label, d, decimals) in [
            ("kbit/s", self.kbps, 1),
            (first_label, self.first_frame_ms, 0),
            ("stalls", self.stalls, 0),
        ] {
            match d {
                Some(d) => {
                    let _ = writeln!(
                        out,
                        "{label:<18}{:>10.decimals$}{:>10.decimals$}{:>10.decimals$}{:>10.decimals$}  ({} clients)",
                        d.min, d.median, d.p95, d.max, d.count
                    );
                }
                None => {
                    let _ = writeln!(out, "{label:<18}{:>10}", "-");
                }
            }
        }
        let _ = writeln!(
            out,
            "totals: {:.1} MB, {:.1} Mbit/s aggregate, {} sessions, {} disconnects, {} errors, {} stalls, {} without media",
            t.bytes as f64 / 1e6,
            self.aggregate_kbps() / 1000.0,
            t.sessions,
            t.disconnects,
            t.errors,
            t.stalls,
            t.no_media
        );
        if self.mode == Mode::Get {
            let per_request = if t.requests == 0 {
                0.0
            } else {
                t.bytes as f64 / t.requests as f64 / 1e3
            };
            let _ = writeln!(
                out,
                "throughput: {} requests in {:.1} s = {:.1} req/s, {:.2} MB/s ({:.1} KB a request), {} non-200 answers",
                t.requests,
                self.window_s,
                self.requests_per_s(),
                self.mb_per_s(),
                per_request,
                t.non_200
            );
        }
        let rss = self
            .peak_rss_kb
            .map(|kb| format!("{:.1} MB", kb as f64 / 1024.0))
            .unwrap_or_else(|| "?".to_owned());
        let _ = writeln!(
            out,
            "own cpu: {:.2} s user + {:.2} s sys = {:.1}% of one core; peak RSS {rss}",
            self.cpu.user_s,
            self.cpu.system_s,
            self.cpu_percent()
        );
        for (message, count) in &self.errors {
            let _ = writeln!(out, "  {count} x {message}");
        }
        out
    }

    /// The machine summary: one JSON object, every connection included.
    pub fn json(&self) -> String {
        let dist = |d: Option<Distribution>| match d {
            Some(d) => Object::new()
                .int("count", d.count as u64)
                .num("min", d.min)
                .num("median", d.median)
                .num("p95", d.p95)
                .num("max", d.max)
                .finish(),
            None => "null".to_owned(),
        };
        let t = &self.totals;
        let totals = Object::new()
            .int("started", t.started as u64)
            .int("sessions", t.sessions)
            .int("bytes", t.bytes)
            .num("kbps", self.aggregate_kbps())
            .int("stalls", t.stalls)
            .int("disconnects", t.disconnects)
            .int("errors", t.errors)
            .int("requests", t.requests)
            .int("non_200", t.non_200)
            .int("no_media", t.no_media as u64)
            .finish();
        let cpu = Object::new()
            .num("user_s", self.cpu.user_s)
            .num("system_s", self.cpu.system_s)
            .num("percent_of_core", self.cpu_percent())
            .finish();
        let errors = json::array(self.errors.iter().map(|(m, n)| {
            Object::new()
                .str("message", m)
                .int("count", *n as u64)
                .finish()
        }));
        let conns = json::array(self.conns.iter().map(|c| {
            Object::new()
                .int("id", c.id as u64)
                .int("bytes", c.bytes)
                .num("kbps", c.kbps())
                .int("active_ms", c.active_ms)
                .int("media_bytes", c.media_bytes)
                .int("media_ms", c.media_ms)
                .opt_num("first_frame_ms", c.first_frame_ms.map(|v| v as f64))
                .int("stalls", u64::from(c.stalls))
                .int("stall_ms", c.stall_ms)
                .int("video", c.video_frames)
                .int("audio", c.audio_frames)
                .int("sessions", u64::from(c.sessions))
                .int("disconnects", u64::from(c.disconnects))
                .int("errors", u64::from(c.errors))
                .int("requests", c.requests)
                .int("non_200", c.non_200)
                .opt_str("last_error", c.last_error.as_deref())
                .finish()
        }));
        Object::new()
            .str("mode", self.mode.name())
            .str("url", &self.url)
            .int("clients", self.clients as u64)
            .int("streams", self.streams as u64)
            .num("wall_s", self.wall_s)
            .num("window_s", self.window_s)
            .num("requests_per_s", self.requests_per_s())
            .num("mb_per_s", self.mb_per_s())
            .raw("cpu", &cpu)
            .opt_num("peak_rss_kb", self.peak_rss_kb.map(|v| v as f64))
            .raw("totals", &totals)
            .raw("kbps", &dist(self.kbps))
            .raw("first_frame_ms", &dist(self.first_frame_ms))
            .raw("stalls", &dist(self.stalls))
            .raw("errors", &errors)
            .raw("connections", &conns)
            .finish()
    }
}

/// `amount` over `seconds`; zero for an empty window.
fn per_second(amount: f64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        amount / seconds
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(id: usize, bytes: u64, ff: Option<u64>, stalls: u32) -> ConnStats {
        ConnStats {
            bytes,
            active_ms: 1000,
            media_bytes: bytes,
            media_ms: 1000,
            first_frame_ms: ff,
            stalls,
            sessions: 1,
            ..ConnStats::new(id)
        }
    }

    #[test]
    fn summary_over_started_clients() {
        let mut failed = conn(3, 0, None, 0);
        failed.error("refused: x".to_owned());
        let conns = vec![
            conn(0, 62_500, Some(10), 0),
            conn(1, 125_000, Some(30), 2),
            conn(2, 93_750, Some(20), 0),
            failed,
            ConnStats::new(4),
        ];
        let cpu = CpuTimes {
            user_s: 1.0,
            system_s: 0.5,
        };
        let r = Report::new(
            Mode::Play,
            "rtmp://h/a/s".into(),
            5,
            3.0,
            cpu,
            Some(2048),
            conns,
        );
        let k = r.kbps.unwrap();
        // Four clients started; the failed one moved nothing.
        assert_eq!(k.count, 4);
        assert_eq!((k.min, k.median, k.max), (0.0, 500.0, 1000.0));
        let f = r.first_frame_ms.unwrap();
        assert_eq!((f.count, f.min, f.median, f.max), (3, 10.0, 20.0, 30.0));
        assert_eq!(r.stalls.unwrap().max, 2.0);
        assert_eq!(r.errors, vec![("refused: x".to_owned(), 1)]);
        assert_eq!(r.cpu_percent(), 50.0);
        // 281,250 bytes over 3 s = 750 kbit/s.
        assert_eq!(r.aggregate_kbps(), 750.0);
        let table = r.table();
        assert!(table.contains("1 x refused: x"), "{table}");
        assert!(table.contains("50.0% of one core"), "{table}");
        let json: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(json["streams"], 1);
        let json: serde_json::Value = serde_json::from_str(&r.with_streams(3).json()).unwrap();
        assert_eq!(
            (json["clients"].as_u64(), json["streams"].as_u64()),
            (Some(5), Some(3))
        );
    }

    #[test]
    fn get_mode_rates_over_the_window() {
        let conns = vec![
            ConnStats {
                requests: 300,
                non_200: 2,
                bytes: 3_000_000,
                sessions: 1,
                first_frame_ms: Some(1),
                ..ConnStats::new(0)
            },
            ConnStats {
                requests: 100,
                bytes: 1_000_000,
                sessions: 2,
                disconnects: 1,
                first_frame_ms: Some(2),
                ..ConnStats::new(1)
            },
        ];
        let r = Report::new(
            Mode::Get,
            "http://h/x".into(),
            2,
            4.5,
            CpuTimes::default(),
            None,
            conns,
        );
        // Without a window, the wall time.
        assert_eq!(r.requests_per_s(), 400.0 / 4.5);
        let r = r.with_window(4.0);
        // 400 answers of 10 kB in 4 s.
        assert_eq!(r.requests_per_s(), 100.0);
        assert_eq!(r.mb_per_s(), 1.0);
        let table = r.table();
        assert!(
            table.contains("400 requests in 4.0 s = 100.0 req/s, 1.00 MB/s (10.0 KB a request), 2 non-200 answers"),
            "{table}"
        );
        assert!(table.contains("first answer ms"), "{table}");
        let json: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(json["requests_per_s"], 100);
        assert_eq!(json["mb_per_s"], 1);
        assert_eq!(json["totals"]["requests"], 400);
        assert_eq!(json["totals"]["non_200"], 2);
        assert_eq!(json["connections"][1]["requests"], 100);
        // An empty window is no rate, not a division by zero.
        assert_eq!(r.with_window(0.0).requests_per_s(), 0.0);
    }

    #[test]
    fn other_modes_print_no_throughput_line() {
        let r = Report::new(
            Mode::Hls,
            "http://h/s.m3u8".into(),
            1,
            1.0,
            CpuTimes::default(),
            None,
            vec![ConnStats::new(0)],
        );
        assert!(!r.table().contains("throughput"));
    }
}
