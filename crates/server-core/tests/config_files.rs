//! The shipped config files parse, and `conf/srs.conf` is the embedded default.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use media_core::jitter::JitterMode;
use server_core::config::{self, Config, LogTank, DEFAULT_CONFIG, DEFAULT_VHOST};

fn conf(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../conf")
        .join(name)
}

#[test]
fn srs_conf_is_the_embedded_default() {
    let parsed = config::load(&conf("srs.conf")).unwrap();
    assert_eq!(parsed, Config::default());
    assert_eq!(
        config::parse_str("embedded", DEFAULT_CONFIG).unwrap(),
        parsed
    );
}

#[test]
fn embedded_default_is_what_the_brief_promises() {
    let c = Config::default();
    assert_eq!(
        c.listen,
        vec![SocketAddr::from((Ipv4Addr::UNSPECIFIED, 1935))]
    );
    assert!(c.http_server.enabled);
    assert_eq!(
        c.http_server.listen,
        vec![SocketAddr::from((Ipv4Addr::UNSPECIFIED, 8080))]
    );
    assert!(c.http_api.enabled);
    assert_eq!(
        c.http_api.listen,
        vec![SocketAddr::from((Ipv4Addr::UNSPECIFIED, 1985))]
    );
    assert_eq!(c.vhosts.len(), 1);
    let v = c.vhost(DEFAULT_VHOST);
    assert_eq!(v.name, DEFAULT_VHOST);
    assert!(v.hls.enabled && v.http_remux.enabled);
    assert_eq!(v.hls.path, PathBuf::from("./objs/nginx/html"));
    assert_eq!(
        v.http_remux.mount.render(DEFAULT_VHOST, "live", "s"),
        "/live/s.flv"
    );
}

#[test]
fn full_conf_parses_with_its_documented_values() {
    let c = config::load(&conf("full.conf")).unwrap();
    assert_eq!(
        c.listen,
        vec![
            SocketAddr::from((Ipv4Addr::UNSPECIFIED, 1935)),
            SocketAddr::from((Ipv6Addr::UNSPECIFIED, 1935)),
        ]
    );
    assert_eq!(c.max_connections, 1000);
    assert_eq!(c.workers, None);
    assert_eq!(c.chunk_size, 60000);
    assert_eq!(c.log_tank, LogTank::Console);
    assert_eq!(c.log_level, "trace");
    assert!(c.http_api.enabled && c.http_api.crossdomain);
    assert_eq!(c.http_api.auth, None, "auth is documented but off");
    let d = c.vhost(DEFAULT_VHOST);
    assert_eq!(d.play.gop_cache_max_frames, 2500);
    assert_eq!(d.play.queue_length, Duration::from_secs(30));
    assert_eq!(d.play.mw_latency, Duration::from_millis(350));
    assert_eq!(d.publish.firstpkt_timeout, Duration::from_secs(20));
    assert_eq!(d.publish.normal_timeout, Duration::from_secs(5));
    assert_eq!(d.hls.segmenter.td_ratio, 1.5);
    assert!(!d.hls.segmenter.use_fmp4 && d.hls.segmenter.fmp4_fallback);
    let off = config::parse_str("t", "vhost v { hls { hls_fmp4_fallback off; } }").unwrap();
    assert!(!off.vhost("v").hls.segmenter.fmp4_fallback);
    assert_eq!(d.hls.segmenter.dispose, Duration::from_secs(120));
    assert_eq!(
        d.hls.segmenter.entry_prefix.as_deref(),
        Some("http://cdn.example.com/")
    );

    let live = c.vhost("live.example.com");
    assert_eq!(live.chunk_size, 4096);
    assert!(!live.play.gop_cache);
    assert_eq!(live.play.time_jitter, JitterMode::Zero);
    // min_latency on makes mw_msgs default to 0, as in SRS.
    assert_eq!(live.play.mw_msgs, 0);
    // Everything else keeps SRS's defaults.
    assert!(!live.hls.enabled && !live.http_remux.enabled);
    assert_eq!(live.publish.firstpkt_timeout, Duration::from_millis(20_000));
}

#[test]
fn full_conf_documents_every_directive_with_a_default() {
    // Each directive line in full.conf is preceded by a comment block naming
    // its default, so an operator never has to read the code.
    let text = std::fs::read_to_string(conf("full.conf")).unwrap();
    let mut comment_has_default = false;
    let mut in_second_vhost = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with("vhost live.example.com") {
            in_second_vhost = true;
        }
        if line.starts_with('#') {
            comment_has_default |= line.contains("default:");
            continue;
        }
        let is_value = line.ends_with(';');
        if is_value && !in_second_vhost && !line.starts_with("vhost") {
            assert!(
                comment_has_default,
                "no '# default:' comment before `{line}`"
            );
        }
        comment_has_default = false;
    }
}
