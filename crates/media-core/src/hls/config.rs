//! HLS options, named and defaulted as in SRS's `vhost.hls` section.

use std::time::Duration;

/// Segmenter options. Field names follow SRS's `hls_*` directives.
#[derive(Debug, Clone, PartialEq)]
pub struct HlsConfig {
    /// `hls_fragment`: the target segment duration. A segment is cut at the
    /// first video key frame once it is at least this long. Default 10 s.
    pub fragment: Duration,
    /// `hls_td_ratio`: with `wait_keyframe` off, a segment is cut at any frame
    /// once it reaches `td_ratio × fragment`. Default 1.5.
    pub td_ratio: f64,
    /// `hls_aof_ratio` (audio overflow): a pure-audio stream has no key frames
    /// to wait for, so its segments are cut by time at `aof_ratio × fragment`.
    /// Default 2.1.
    pub aof_ratio: f64,
    /// `hls_window`: the playlist keeps the newest segments whose durations
    /// add up to at most this (always at least one, never more than
    /// [`MAX_WINDOW_SEGMENTS`](super::MAX_WINDOW_SEGMENTS)). Default 60 s.
    pub window: Duration,
    /// `hls_wait_keyframe`: cut only at video key frames. Default on.
    pub wait_keyframe: bool,
    /// `hls_cleanup`: delete segment files that left the window. Default on.
    pub cleanup: bool,
    /// `hls_dispose`: after an unpublish, remove the stream's files once this
    /// long has passed without a republish; zero disables. The runtime owns the
    /// timer (see [`HlsSegmenter::dispose_after`](super::HlsSegmenter::dispose_after)).
    /// Default 0.
    pub dispose: Duration,
    /// `hls_m3u8_file`: playlist path template, relative to the HLS root.
    /// Default `[app]/[stream].m3u8`.
    pub m3u8_file: String,
    /// `hls_ts_file`: segment path template, relative to the HLS root.
    /// Default `[app]/[stream]-[seq].ts`. Variables: `[app]`, `[stream]`,
    /// `[seq]`, `[timestamp]` (Unix ms at open), `[duration]` (ms; only known
    /// at close, so `OpenSegment` still shows it literally and `CloseSegment`
    /// carries the final path), and the SRS date variables `[2006]` `[01]`
    /// `[02]` `[15]` `[04]` `[05]` `[999]` (UTC).
    pub ts_file: String,
    /// `hls_entry_prefix`: where a CDN or another web server serves the
    /// files, so the playlist lists absolute URIs there instead of URIs
    /// relative to itself. Without a trailing `/` the prefix stands for the
    /// HLS root (`http://cdn` lists `http://cdn/live/cam-0.ts`); with one, for
    /// the playlist's directory (`http://cdn/` lists `http://cdn/cam-0.ts`),
    /// as in SRS. Default none.
    pub entry_prefix: Option<String>,
    /// `hls_use_fmp4` (SRS 7): segments are CMAF fragmented MP4 (`.m4s`)
    /// with an init segment named by `EXT-X-MAP` (RFC 8216 4.3.2.5), not
    /// MPEG-TS. Default off.
    pub use_fmp4: bool,
    /// `hls_fmp4_fallback` (this server's): with `use_fmp4` off, a stream
    /// with a codec MPEG-TS cannot carry here but fMP4 can (AV1, VP9, Opus,
    /// FLAC, AC-3, E-AC-3) is sliced in fMP4 from that codec's first
    /// message on, rather than not at all; TS stays the format of H.264,
    /// HEVC, AAC and MP3 streams. Default on.
    pub fmp4_fallback: bool,
    /// `hls_fmp4_file`: the fMP4 segment path template (the `hls_ts_file`
    /// variables). Default `[app]/[stream]-[seq].m4s`.
    pub fmp4_file: String,
    /// `hls_init_file`: the init segment's path template. Default
    /// `[app]/[stream]/init.mp4`. `[seq]` is the first segment it serves,
    /// so each new init (a republish, a codec change) gets its own file
    /// rather than replacing one players may have cached.
    pub init_file: String,
    /// `hls_ll` (this server's, SRS has no LL-HLS): Low-Latency HLS
    /// (RFC 8216bis): fMP4 segments (whatever `use_fmp4` says) cut into
    /// partial segments of `part_duration`, listed with `EXT-X-PART` and
    /// served from memory with blocking playlist reload and delta updates.
    /// Default off.
    pub low_latency: bool,
    /// `hls_part_duration`: the part target duration (EXT-X-PART-INF).
    /// Default 0.2 s.
    pub part_duration: Duration,
}

impl Default for HlsConfig {
    fn default() -> Self {
        Self {
            fragment: Duration::from_secs(10),
            td_ratio: 1.5,
            aof_ratio: 2.1,
            window: Duration::from_secs(60),
            wait_keyframe: true,
            cleanup: true,
            dispose: Duration::ZERO,
            m3u8_file: "[app]/[stream].m3u8".to_owned(),
            ts_file: "[app]/[stream]-[seq].ts".to_owned(),
            entry_prefix: None,
            use_fmp4: false,
            fmp4_fallback: true,
            fmp4_file: "[app]/[stream]-[seq].m4s".to_owned(),
            init_file: "[app]/[stream]/init.mp4".to_owned(),
            low_latency: false,
            part_duration: Duration::from_millis(200),
        }
    }
}

impl HlsConfig {
    /// `fragment` in milliseconds.
    pub(crate) fn fragment_ms(&self) -> u64 {
        duration_ms(self.fragment)
    }

    /// `ratio × fragment` in milliseconds; a non-finite or negative ratio
    /// counts as 1.
    pub(crate) fn scaled_fragment_ms(&self, ratio: f64) -> u64 {
        let ratio = if ratio.is_finite() && ratio >= 0.0 {
            ratio
        } else {
            1.0
        };
        // Float to int `as` saturates; fragments are far below 2^53 ms.
        (self.fragment.as_secs_f64() * ratio * 1000.0).round() as u64
    }

    /// Segments are fMP4: `use_fmp4`, or LL-HLS, whose parts need it.
    pub(crate) fn fmp4(&self) -> bool {
        self.use_fmp4 || self.low_latency
    }

    /// `part_duration` in milliseconds (at least 1).
    pub(crate) fn part_ms(&self) -> u64 {
        duration_ms(self.part_duration).max(1)
    }

    /// `window` in milliseconds.
    pub(crate) fn window_ms(&self) -> u64 {
        duration_ms(self.window)
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srs_defaults() {
        let c = HlsConfig::default();
        assert_eq!(c.fragment_ms(), 10_000);
        assert_eq!(c.scaled_fragment_ms(c.td_ratio), 15_000);
        assert_eq!(c.scaled_fragment_ms(c.aof_ratio), 21_000);
        assert_eq!(c.window_ms(), 60_000);
        assert_eq!(c.scaled_fragment_ms(f64::NAN), 10_000);
    }
}
