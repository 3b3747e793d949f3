//! `rtmp://` and `rtmps://` URLs as a forward backend answers them (hostile
//! input) and edge `origin` values: nothing may panic, and what parses
//! keeps its scheme, names a port and a tcUrl of that scheme.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_proto::url::RtmpUrl;
use server_core::edge::Origin;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(url) = RtmpUrl::parse(&text) {
        let tls = text
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("rtmps://"));
        assert_eq!(url.tls, tls, "{text:?}");
        assert_ne!(url.port, 0);
        assert!(url.tc_url().starts_with(url.scheme()));
        assert!(!url.redacted().contains('?') || url.host.contains('?') || url.app.contains('?'));
        let _ = url.to_string();
    }
    if let Ok(origin) = Origin::parse(&text) {
        assert_ne!(origin.port, 0);
        assert!(!origin.host.is_empty());
        let _ = origin.name();
    }
});
