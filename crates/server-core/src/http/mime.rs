//! Content types by file extension, as SRS's HTTP server sends them.

/// The `Content-Type` for a file with extension `ext` (lowercase, no dot).
/// Unknown extensions are `application/octet-stream`.
pub fn content_type(ext: &str) -> &'static str {
    match ext {
        // RFC 8216 4: playlists.
        "m3u8" => "application/vnd.apple.mpegurl",
        "ts" => "video/mp2t",
        "flv" => "video/x-flv",
        "mp4" => "video/mp4",
        "m4s" => "video/iso.segment",
        "aac" => "audio/aac",
        "mp3" => "audio/mpeg",
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "txt" | "log" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "wasm" => "application/wasm",
        "swf" => "application/x-shockwave-flash",
        _ => "application/octet-stream",
    }
}

/// Extra `Cache-Control` for a file type: live playlists change every segment,
/// so players must not cache them.
pub fn cache_control(ext: &str) -> Option<&'static str> {
    match ext {
        "m3u8" => Some("no-cache"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hls_and_web_types() {
        assert_eq!(content_type("m3u8"), "application/vnd.apple.mpegurl");
        assert_eq!(content_type("ts"), "video/mp2t");
        assert_eq!(content_type("flv"), "video/x-flv");
        assert_eq!(content_type("html"), "text/html; charset=utf-8");
        assert_eq!(content_type("js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("css"), "text/css; charset=utf-8");
        assert_eq!(content_type("json"), "application/json");
        assert_eq!(content_type("bin"), "application/octet-stream");
        assert_eq!(content_type(""), "application/octet-stream");
        assert_eq!(cache_control("m3u8"), Some("no-cache"));
        assert_eq!(cache_control("ts"), None);
    }
}
