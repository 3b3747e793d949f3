//! `dvr { }`: SRS's directives and defaults, templates checked at load.

use std::path::Path;
use std::time::Duration;

use media_core::jitter::JitterMode;
use server_core::config::{self, DvrConfig, DvrPlan, DEFAULT_VHOST};
use server_core::dvr::{Container, DEFAULT_DVR_PATH};
use server_core::hub::StreamKey;

fn conf(block: &str) -> String {
    format!("vhost {DEFAULT_VHOST} {{\n    dvr {{\n{block}\n    }}\n}}\n")
}

fn dvr(block: &str) -> DvrConfig {
    config::parse_str("my.conf", &conf(block))
        .unwrap()
        .vhost(DEFAULT_VHOST)
        .dvr
        .clone()
}

fn err(block: &str) -> String {
    config::parse_str("my.conf", &conf(block))
        .unwrap_err()
        .to_string()
}

fn key(app: &str, stream: &str) -> StreamKey {
    StreamKey {
        vhost: DEFAULT_VHOST.into(),
        app: app.into(),
        stream: stream.into(),
    }
}

#[test]
fn srs_defaults() {
    let d = dvr("");
    assert!(!d.enabled);
    assert_eq!(d.apply, None);
    assert_eq!(d.plan, DvrPlan::Session);
    assert_eq!(d.path.as_str(), DEFAULT_DVR_PATH);
    assert_eq!(d.duration, Duration::from_secs(30));
    assert!(d.wait_keyframe);
    assert_eq!(d.time_jitter, JitterMode::Full);
    assert_eq!(d, DvrConfig::srs_default());
}

#[test]
fn every_directive_is_read() {
    let d = dvr("enabled on;
        dvr_apply live/a live/b;
        dvr_plan segment;
        dvr_path /data/[vhost]/[app]/[stream]/[2006][01][02]/[15][04][05].[999].mp4;
        dvr_duration 2.5;
        dvr_wait_keyframe off;
        time_jitter zero;");
    assert!(d.enabled);
    assert_eq!(d.apply, Some(vec!["live/a".into(), "live/b".into()]));
    assert_eq!(d.plan, DvrPlan::Segment);
    assert_eq!(d.path.container(), Container::Mp4);
    assert_eq!(d.path.root(), Path::new("/data"));
    assert_eq!(d.duration, Duration::from_millis(2500));
    assert!(!d.wait_keyframe);
    assert_eq!(d.time_jitter, JitterMode::Zero);
    assert!(d.applies_to(&key("live", "a")));
    assert!(!d.applies_to(&key("live", "c")));
    assert!(!d.applies_to(&key("live/a", "")));
    assert!(dvr("dvr_apply all;").applies_to(&key("x", "y")));
}

#[test]
fn a_directory_path_gets_srs_file_name() {
    assert_eq!(
        dvr("dvr_path ./objs/dvr;").path.as_str(),
        "./objs/dvr/[stream].[timestamp].flv"
    );
}

#[test]
fn bad_values_are_refused_with_their_line() {
    assert_eq!(
        err("dvr_plan append;"),
        "my.conf:3: invalid value 'append' for 'dvr_plan': expected session or segment"
    );
    assert!(err("dvr_path /data/[app]/../[stream].flv;").starts_with("my.conf:3: invalid value"));
    assert!(err("dvr_path /data/[seq].flv;").starts_with("my.conf:3: invalid value"));
    assert!(err("dvr_duration 0;").starts_with("my.conf:3: invalid value"));
    assert!(err("dvr_apply live;").starts_with("my.conf:3: invalid value"));
    assert!(err("time_jitter smooth;").starts_with("my.conf:3: invalid value"));
    assert_eq!(
        err("dvr_bogus 1;"),
        "my.conf:3: unknown directive 'dvr_bogus'"
    );
    assert!(
        err("enabled on;\nenabled off;").contains("duplicate"),
        "{}",
        err("enabled on;\nenabled off;")
    );
}

#[test]
fn full_conf_documents_every_dvr_directive_at_its_default() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conf/full.conf");
    let c = config::load(&path).unwrap();
    let d = &c.vhost(DEFAULT_VHOST).dvr;
    assert!(d.enabled);
    assert_eq!(
        *d,
        DvrConfig {
            enabled: true,
            ..DvrConfig::srs_default()
        }
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let head: String = text.lines().take(12).collect::<Vec<_>>().join("\n");
    assert!(!head.contains("dvr"), "no longer listed as not implemented");
}
