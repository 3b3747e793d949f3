//! `vod { }`: what parses, defaults, refusals, and full.conf.

use std::path::{Path, PathBuf};
use std::time::Duration;

use server_core::config::{self, DEFAULT_VHOST};

fn err(text: &str) -> String {
    config::parse_str("my.conf", text).unwrap_err().to_string()
}

#[test]
fn defaults_and_values() {
    let c = config::parse_str("my.conf", "").unwrap();
    let vod = &c.vhost(DEFAULT_VHOST).vod;
    assert!(!vod.enabled);
    assert_eq!(vod.dir, Path::new("./objs/nginx/html"));
    assert_eq!(vod.hls_fragment, Duration::from_secs(10));
    let c = config::parse_str(
        "my.conf",
        "vhost __defaultVhost__ { vod { enabled on; dir /srv/vod; hls_fragment 2.5; } }",
    )
    .unwrap();
    let vod = &c.vhost(DEFAULT_VHOST).vod;
    assert!(vod.enabled);
    assert_eq!(vod.dir, Path::new("/srv/vod"));
    assert_eq!(vod.hls_fragment, Duration::from_millis(2500));
}

#[test]
fn mistakes_are_refused() {
    assert!(err("vhost v { vod { hls_fragment 0.5; } }").contains("hls_fragment"));
    assert!(err("vhost v { vod { hls_fragment 61; } }").contains("hls_fragment"));
    assert!(err("vhost v { vod { play /dir; } }").contains("play"));
    assert!(err("vhost v { vod { dir a; dir b; } }").contains("dir"));
}

#[test]
fn full_conf_documents_it() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conf/full.conf");
    let c = config::load(&path).unwrap();
    let vod = &c.vhost(DEFAULT_VHOST).vod;
    assert!(vod.enabled);
    assert_eq!(vod.hls_fragment, Duration::from_secs(10));
}
