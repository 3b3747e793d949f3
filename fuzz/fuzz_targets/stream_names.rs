//! What clients name: a tcUrl and a stream name (RTMP connect + publish/play)
//! and an HTTP request path. Nothing may panic, and every name the server
//! accepts for publishing, or path it serves, stays below the directory it is
//! joined to: these strings become HLS file paths and static-file lookups.
#![no_main]
use std::path::{Component, Path};

use libfuzzer_sys::fuzz_target;
use server_core::http::path::{encode_segment, UrlPath};
use server_core::hub::{query_param, StreamRequest};

/// True when `rel` cannot leave the directory it is joined to.
fn contained(rel: &Path) -> bool {
    rel.components().all(|c| matches!(c, Component::Normal(_)))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (tc_url, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let (stream, http_path) = rest.split_once('\n').unwrap_or((rest, ""));

    let req = StreamRequest::new(tc_url, stream);
    let _ = query_param(&req.param, "vhost");
    if req.key.check_names().is_ok() {
        // The default templates, [app]/[stream].m3u8 and [app]/[stream]-[seq].ts.
        let m3u8 = format!("{}/{}.m3u8", req.key.app, req.key.stream);
        let ts = format!("{}/{}-7.ts", req.key.app, req.key.stream);
        assert!(contained(Path::new(&m3u8)), "{m3u8:?}");
        assert!(contained(Path::new(&ts)), "{ts:?}");
    }

    if let Ok(path) = UrlPath::parse(http_path) {
        let root = Path::new("/srv/html");
        let file = path.file_under(root);
        let rel = file.strip_prefix(root).expect("below the root");
        assert!(contained(rel), "{http_path:?} -> {}", file.display());
        // Re-encoding what was decoded names the same path.
        let encoded: Vec<String> = path.segments.iter().map(|s| encode_segment(s)).collect();
        let again = UrlPath::parse(&format!("/{}", encoded.join("/"))).expect("re-encoded parses");
        assert_eq!(again.segments, path.segments);
    }
});
