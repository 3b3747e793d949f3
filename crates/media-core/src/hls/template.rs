//! Path templates for playlists and segments, with SRS's variables.
//!
//! - `[app]`, `[stream]`: the stream's names.
//! - `[seq]`: the segment sequence number.
//! - `[timestamp]`: Unix time in milliseconds when the segment was opened.
//! - `[duration]`: the segment duration in milliseconds. Only known when the
//!   segment closes, so the path in `OpenSegment` still holds the literal
//!   `[duration]` and `CloseSegment` carries the final path.
//! - `[2006]`, `[01]`, `[02]`, `[15]`, `[04]`, `[05]`, `[999]`: year, month,
//!   day, hour, minute, second, millisecond of the open time (Go's reference
//!   date, as SRS uses them), in UTC since the core has no time zone.

use std::fmt::Write as _;

/// Values substituted into a template.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vars<'a> {
    pub app: &'a str,
    pub stream: &'a str,
    pub seq: u64,
    pub unix_ms: u64,
    pub duration_ms: Option<u64>,
}

/// Expands `template`. Unknown `[...]` groups are kept as written.
pub(crate) fn render(template: &str, v: &Vars<'_>) -> String {
    let date = Civil::from_unix_ms(v.unix_ms);
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('[') {
        let (before, from_open) = rest.split_at(open);
        out.push_str(before);
        let Some(close) = from_open.find(']') else {
            rest = from_open;
            break;
        };
        let (group, after) = from_open.split_at(close + 1);
        let name = group.trim_start_matches('[').trim_end_matches(']');
        // `write!` into a String cannot fail.
        let _ = match name {
            "app" => write!(out, "{}", v.app),
            "stream" => write!(out, "{}", v.stream),
            "seq" => write!(out, "{}", v.seq),
            "timestamp" => write!(out, "{}", v.unix_ms),
            "duration" => match v.duration_ms {
                Some(d) => write!(out, "{d}"),
                None => write!(out, "{group}"),
            },
            "2006" => write!(out, "{:04}", date.year),
            "01" => write!(out, "{:02}", date.month),
            "02" => write!(out, "{:02}", date.day),
            "15" => write!(out, "{:02}", date.hour),
            "04" => write!(out, "{:02}", date.minute),
            "05" => write!(out, "{:02}", date.second),
            "999" => write!(out, "{:03}", date.milli),
            _ => write!(out, "{group}"),
        };
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The URI of `segment` as written in the playlist at `playlist` (both paths
/// relative to the HLS root): relative to the playlist's directory, so the
/// pair can be served from any mount point (RFC 8216 4.1: relative URIs
/// resolve against the playlist's URI).
pub(crate) fn relative_uri(playlist: &str, segment: &str) -> String {
    let dir: Vec<&str> = playlist
        .split('/')
        .filter(|c| !c.is_empty())
        .collect::<Vec<_>>()
        .split_last()
        .map(|(_, d)| d.to_vec())
        .unwrap_or_default();
    let seg: Vec<&str> = segment.split('/').filter(|c| !c.is_empty()).collect();
    let common = dir
        .iter()
        .zip(seg.iter())
        .take(seg.len().saturating_sub(1))
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = String::new();
    for _ in common..dir.len() {
        out.push_str("../");
    }
    out.push_str(&seg.get(common..).unwrap_or_default().join("/"));
    out
}

/// The URI of `segment` as the playlist at `playlist` lists it: relative to
/// the playlist ([`relative_uri`]) or, with an `hls_entry_prefix`, absolute
/// under that prefix (see [`HlsConfig::entry_prefix`](super::HlsConfig)).
pub fn entry_uri(prefix: Option<&str>, playlist: &str, segment: &str) -> String {
    match prefix.filter(|p| !p.is_empty()) {
        None => relative_uri(playlist, segment),
        Some(p) if p.ends_with('/') => format!("{p}{}", relative_uri(playlist, segment)),
        Some(p) => {
            let below_root = segment.trim_start_matches('/');
            format!("{p}/{below_root}")
        }
    }
}

/// A UTC calendar date and time (the `[2006]`...`[999]` template variables;
/// DVR paths use it too).
#[derive(Debug, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub year: i64,
    /// Month, 1-12.
    pub month: u32,
    /// Day of the month, 1-31.
    pub day: u32,
    /// Hour, 0-23.
    pub hour: u32,
    /// Minute, 0-59.
    pub minute: u32,
    /// Second, 0-59.
    pub second: u32,
    /// Millisecond, 0-999.
    pub milli: u32,
}

impl Civil {
    /// Days-to-civil conversion (proleptic Gregorian calendar; the
    /// well-known era-based algorithm).
    pub fn from_unix_ms(ms: u64) -> Self {
        let secs = ms / 1000;
        let days = (secs / 86_400) as i64;
        let sod = secs % 86_400;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: (sod / 3600) as u32,
            minute: (sod / 60 % 60) as u32,
            second: (sod % 60) as u32,
            milli: (ms % 1000) as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(seq: u64, unix_ms: u64, duration_ms: Option<u64>) -> Vars<'static> {
        Vars {
            app: "live",
            stream: "cam",
            seq,
            unix_ms,
            duration_ms,
        }
    }

    #[test]
    fn srs_default_templates() {
        let v = vars(7, 0, None);
        assert_eq!(render("[app]/[stream]-[seq].ts", &v), "live/cam-7.ts");
        assert_eq!(render("[app]/[stream].m3u8", &v), "live/cam.m3u8");
    }

    #[test]
    fn time_and_duration_variables() {
        // 2015-01-03 10:57:30.776 UTC, the example in SRS's dvr_path notes.
        let v = vars(1, 1_420_282_650_776, Some(2040));
        assert_eq!(
            render(
                "[2006]/[01]/[02]/[15].[04].[05].[999]-[timestamp]-[duration].ts",
                &v
            ),
            "2015/01/03/10.57.30.776-1420282650776-2040.ts"
        );
        let open = vars(1, 0, None);
        assert_eq!(render("x-[duration].ts", &open), "x-[duration].ts");
        assert_eq!(render("[unknown][app", &open), "[unknown][app");
    }

    #[test]
    fn leap_day() {
        // 2024-02-29 23:59:59.999 UTC
        let c = Civil::from_unix_ms(1_709_251_199_999);
        assert_eq!(
            c,
            Civil {
                year: 2024,
                month: 2,
                day: 29,
                hour: 23,
                minute: 59,
                second: 59,
                milli: 999
            }
        );
    }

    #[test]
    fn entry_prefix_names_the_root_or_the_playlist_directory() {
        let uri = |p: Option<&str>, m3u8, ts| entry_uri(p, m3u8, ts);
        assert_eq!(uri(None, "live/cam.m3u8", "live/cam-1.ts"), "cam-1.ts");
        assert_eq!(uri(Some(""), "live/cam.m3u8", "live/cam-1.ts"), "cam-1.ts");
        assert_eq!(
            uri(Some("http://cdn"), "live/cam.m3u8", "live/cam-1.ts"),
            "http://cdn/live/cam-1.ts"
        );
        assert_eq!(
            uri(Some("http://cdn/"), "live/cam.m3u8", "live/cam-1.ts"),
            "http://cdn/cam-1.ts"
        );
        assert_eq!(
            uri(Some("http://cdn/hls"), "a/x.m3u8", "ts/a/y.ts"),
            "http://cdn/hls/ts/a/y.ts"
        );
        assert_eq!(
            uri(Some("https://cdn/a/"), "a/x.m3u8", "a/1/y.ts"),
            "https://cdn/a/1/y.ts"
        );
    }

    #[test]
    fn uris_relative_to_the_playlist() {
        assert_eq!(relative_uri("live/cam.m3u8", "live/cam-1.ts"), "cam-1.ts");
        assert_eq!(relative_uri("cam.m3u8", "live/cam-1.ts"), "live/cam-1.ts");
        assert_eq!(
            relative_uri("live/cam.m3u8", "ts/cam-1.ts"),
            "../ts/cam-1.ts"
        );
        assert_eq!(relative_uri("a/b/x.m3u8", "a/c/d/y.ts"), "../c/d/y.ts");
        assert_eq!(relative_uri("/live/x.m3u8", "live/y.ts"), "y.ts");
        // A directory named like the segment file is not "common".
        assert_eq!(relative_uri("a/x.m3u8", "a"), "../a");
    }
}
