//! Request headers the HTTP server interprets itself (hyper parses the rest):
//! `Range` against a file length, and API `Authorization`. Nothing may panic,
//! a range is always inside the file and never empty, and only the
//! configured credentials pass.
#![no_main]
use http::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use libfuzzer_sys::fuzz_target;
use server_core::config::ApiAuth;
use server_core::http::auth;
use server_core::http::range::{self, Ranged};

fuzz_target!(|data: &[u8]| {
    let Some((&len_byte, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let (range_header, authorization) = text.split_once('\n').unwrap_or((&text, ""));

    // Lengths from empty to huge, so both ends of u64 are reached.
    let len = match len_byte % 4 {
        0 => 0,
        1 => u64::from(len_byte),
        2 => 1 << 40,
        _ => u64::MAX,
    };
    if let Ranged::Partial(r) = range::resolve(Some(range_header), len) {
        assert!(
            r.start < r.end && r.end <= len,
            "{range_header:?} over {len}: {r:?}"
        );
    }

    let credentials = ApiAuth {
        username: "ops".into(),
        password: "pw".into(),
    };
    if let Ok(value) = HeaderValue::from_str(authorization) {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value);
        if auth::allows(&credentials, &headers) {
            // base64("ops:pw"), in any case of "Basic", maybe with spaces.
            let token = authorization.trim().split_once(' ').map(|(_, t)| t.trim());
            assert_eq!(token, Some("b3BzOnB3"), "{authorization:?} passed");
        }
    }
});
