//! The part of an HLS playlist (RFC 8216 4.3) a live player needs: the
//! variants of a master playlist, and the segments, media sequence and
//! target duration of a media playlist. Unknown tags are ignored, as the
//! RFC asks of clients (4.1).

/// Largest playlist body read: a live window of a few hundred segments is
/// a few tens of KiB.
pub const MAX_PLAYLIST_BYTES: usize = 1 << 20;
/// Target duration assumed when the tag is missing or absurd, in ms.
pub const DEFAULT_TARGET_DURATION_MS: u64 = 10_000;
/// Largest target duration taken from a playlist, in ms (a poll interval
/// beyond this would stall the load tool, not test the server).
pub const MAX_TARGET_DURATION_MS: u64 = 60_000;

/// A parsed playlist.
#[derive(Debug, Clone, PartialEq)]
pub enum Playlist {
    /// Master playlist: variant stream URIs, in order (RFC 8216 4.3.4.2).
    Master(Vec<String>),
    /// Media playlist.
    Media(MediaPlaylist),
}

/// One media segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// `EXTINF` duration, in ms.
    pub duration_ms: u64,
    /// URI, relative to the playlist.
    pub uri: String,
}

/// A media playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaPlaylist {
    /// `EXT-X-TARGETDURATION`, in ms (RFC 8216 4.3.3.1).
    pub target_duration_ms: u64,
    /// `EXT-X-MEDIA-SEQUENCE`: the sequence number of the first segment
    /// (4.3.3.2; 0 when absent).
    pub media_sequence: u64,
    /// The segments, oldest first.
    pub segments: Vec<Segment>,
    /// `EXT-X-ENDLIST`: no segment will be added (4.3.3.4).
    pub ended: bool,
}

/// Parses a playlist; `None` when it does not start with `#EXTM3U` (4.3.1.1).
pub fn parse(text: &str) -> Option<Playlist> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    if lines.next()? != "#EXTM3U" {
        return None;
    }
    let mut variants = Vec::new();
    let mut media = MediaPlaylist {
        target_duration_ms: DEFAULT_TARGET_DURATION_MS,
        media_sequence: 0,
        segments: Vec::new(),
        ended: false,
    };
    let mut pending_variant = false;
    let mut pending_duration = None;
    for line in lines {
        if let Some(tag) = line.strip_prefix('#') {
            if let Some(v) = tag.strip_prefix("EXT-X-TARGETDURATION:") {
                if let Ok(secs) = v.trim().parse::<u64>() {
                    media.target_duration_ms = secs
                        .saturating_mul(1000)
                        .clamp(1000, MAX_TARGET_DURATION_MS);
                }
            } else if let Some(v) = tag.strip_prefix("EXT-X-MEDIA-SEQUENCE:") {
                media.media_sequence = v.trim().parse().unwrap_or(0);
            } else if let Some(v) = tag.strip_prefix("EXTINF:") {
                let secs = v.split(',').next().unwrap_or("").trim();
                let secs: f64 = secs.parse().unwrap_or(0.0);
                let ms = if secs.is_finite() && secs > 0.0 {
                    (secs * 1000.0).min(MAX_TARGET_DURATION_MS as f64) as u64
                } else {
                    0
                };
                pending_duration = Some(ms);
            } else if tag.starts_with("EXT-X-STREAM-INF:") {
                pending_variant = true;
            } else if tag == "EXT-X-ENDLIST" {
                media.ended = true;
            }
            // Comments and other tags are skipped (4.1).
        } else if pending_variant {
            variants.push(line.to_owned());
            pending_variant = false;
        } else if let Some(duration_ms) = pending_duration.take() {
            media.segments.push(Segment {
                duration_ms,
                uri: line.to_owned(),
            });
        }
    }
    if variants.is_empty() {
        Some(Playlist::Media(media))
    } else {
        Some(Playlist::Master(variants))
    }
}

impl MediaPlaylist {
    /// The segments with sequence number `>= next`, with their numbers.
    /// With `next` unknown (the first load), a live player starts three
    /// segments from the end (RFC 8216 6.3.3: not closer than three target
    /// durations to the end).
    pub fn segments_from(&self, next: Option<u64>) -> impl Iterator<Item = (u64, &Segment)> {
        let count = self.segments.len() as u64;
        let first = self.media_sequence;
        let start = match next {
            Some(n) => n.max(first),
            None => first.saturating_add(count.saturating_sub(3)),
        };
        // The server chooses EXT-X-MEDIA-SEQUENCE: numbering saturates rather
        // than overflow near u64::MAX.
        self.segments
            .iter()
            .enumerate()
            .map(move |(i, s)| (first.saturating_add(i as u64), s))
            .filter(move |(seq, _)| *seq >= start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: &str =
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-TARGETDURATION:4\n\
        #EXTINF:3.960,\nlive/s-7.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:4.0,no desc\nlive/s-8.ts\n\
        #EXTINF:2.5,\n/abs/s-9.ts\n#EXTINF:4,\ns-10.ts\n";

    #[test]
    fn media_playlist() {
        let Some(Playlist::Media(m)) = parse(LIVE) else {
            panic!("not media")
        };
        assert_eq!(m.target_duration_ms, 4000);
        assert_eq!(m.media_sequence, 7);
        assert!(!m.ended);
        let durations: Vec<u64> = m.segments.iter().map(|s| s.duration_ms).collect();
        assert_eq!(durations, [3960, 4000, 2500, 4000]);
        assert_eq!(m.segments[2].uri, "/abs/s-9.ts");
        // First load: the last three.
        let first: Vec<u64> = m.segments_from(None).map(|(n, _)| n).collect();
        assert_eq!(first, [8, 9, 10]);
        let later: Vec<u64> = m.segments_from(Some(10)).map(|(n, _)| n).collect();
        assert_eq!(later, [10]);
        assert_eq!(m.segments_from(Some(11)).count(), 0);
        // Fell behind the window: everything still listed.
        assert_eq!(m.segments_from(Some(2)).count(), 4);
    }

    #[test]
    fn a_media_sequence_near_the_top_does_not_overflow() {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:18446744073709551615\n\
                    #EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n";
        let Some(Playlist::Media(p)) = parse(text) else {
            panic!("not media")
        };
        let seqs: Vec<u64> = p.segments_from(None).map(|(n, _)| n).collect();
        assert_eq!(seqs, [u64::MAX, u64::MAX]);
        assert_eq!(p.segments_from(Some(u64::MAX)).count(), 2);
    }

    #[test]
    fn master_playlist_and_garbage() {
        let text = "#EXTM3U\r\n#EXT-X-STREAM-INF:BANDWIDTH=1\r\nlow/a.m3u8\r\n#EXT-X-STREAM-INF:BANDWIDTH=2\r\nhi/a.m3u8\r\n";
        assert_eq!(
            parse(text),
            Some(Playlist::Master(vec![
                "low/a.m3u8".to_owned(),
                "hi/a.m3u8".to_owned()
            ]))
        );
        assert_eq!(parse("<html>"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn ended_and_bad_numbers() {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:abc\n#EXTINF:-1,\na.ts\n#EXTINF:NaN,\nb.ts\n#EXT-X-ENDLIST\n";
        let Some(Playlist::Media(m)) = parse(text) else {
            panic!()
        };
        assert!(m.ended);
        assert_eq!(m.target_duration_ms, DEFAULT_TARGET_DURATION_MS);
        assert_eq!(m.segments.len(), 2);
        assert!(m.segments.iter().all(|s| s.duration_ms == 0));
    }
}
