//! What `on_hls` and `on_hls_notify` say about a closed segment's address.

/// A closed segment's URLs, as SRS's `on_hls` and `on_hls_notify` name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentUrls {
    /// `on_hls`'s `url`: below the HTTP root (SRS joins the playlist's
    /// directory and the playlist entry, which for a relative entry is the
    /// segment's path below `hls_path`), or the entry itself when
    /// `hls_entry_prefix` makes it absolute.
    pub url: String,
    /// `on_hls_notify`'s `[ts_url]`: the entry exactly as the playlist lists it.
    pub ts_url: String,
}

/// The URLs of the segment at `segment` (below `hls_path`) listed in the
/// playlist at `m3u8` (below `hls_path`), with `hls_entry_prefix` if any: the
/// entry is the segmenter's own ([`media_core::hls::entry_uri`]).
pub fn segment_urls(entry_prefix: Option<&str>, m3u8: &str, segment: &str) -> SegmentUrls {
    let ts_url = media_core::hls::entry_uri(entry_prefix, m3u8, segment);
    let url = if entry_prefix.is_some_and(|p| !p.is_empty()) {
        ts_url.clone()
    } else {
        segment.trim_start_matches('/').to_owned()
    };
    SegmentUrls { url, ts_url }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts_url(prefix: Option<&str>, m3u8: &str, ts: &str) -> String {
        segment_urls(prefix, m3u8, ts).ts_url
    }

    #[test]
    fn entries_match_the_segmenter_playlists() {
        // The cases media-core's playlist tests pin down.
        assert_eq!(ts_url(None, "live/cam.m3u8", "live/cam-1.ts"), "cam-1.ts");
        assert_eq!(
            ts_url(Some(""), "live/cam.m3u8", "live/cam-1.ts"),
            "cam-1.ts"
        );
        assert_eq!(
            ts_url(Some("http://cdn"), "live/cam.m3u8", "live/cam-1.ts"),
            "http://cdn/live/cam-1.ts"
        );
        assert_eq!(
            ts_url(Some("http://cdn/"), "live/cam.m3u8", "live/cam-1.ts"),
            "http://cdn/cam-1.ts"
        );
        assert_eq!(
            ts_url(Some("http://cdn/hls"), "a/x.m3u8", "ts/a/y.ts"),
            "http://cdn/hls/ts/a/y.ts"
        );
        assert_eq!(ts_url(None, "cam.m3u8", "live/cam-1.ts"), "live/cam-1.ts");
        assert_eq!(
            ts_url(None, "live/cam.m3u8", "ts/cam-1.ts"),
            "../ts/cam-1.ts"
        );
        assert_eq!(ts_url(None, "a/b/x.m3u8", "a/c/d/y.ts"), "../c/d/y.ts");
        assert_eq!(ts_url(None, "/live/x.m3u8", "live/y.ts"), "y.ts");
        assert_eq!(ts_url(None, "a/x.m3u8", "a"), "../a");
    }

    #[test]
    fn on_hls_urls_are_below_the_root_or_absolute() {
        assert_eq!(
            segment_urls(None, "live/cam.m3u8", "live/cam-1.ts").url,
            "live/cam-1.ts"
        );
        assert_eq!(
            segment_urls(None, "live/cam.m3u8", "ts/cam-1.ts").url,
            "ts/cam-1.ts"
        );
        assert_eq!(
            segment_urls(Some("http://cdn/"), "live/cam.m3u8", "live/cam-1.ts").url,
            "http://cdn/cam-1.ts"
        );
    }
}
