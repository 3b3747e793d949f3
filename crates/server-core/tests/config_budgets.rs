//! Connection budgets per listener and the per-vhost `max_message`: what
//! parses, defaults, refusals with `file:line`, and full.conf.

use std::path::PathBuf;

use server_core::config::{self, DEFAULT_VHOST};

fn err(text: &str) -> String {
    config::parse_str("my.conf", text).unwrap_err().to_string()
}

#[test]
fn defaults() {
    let c = config::parse_str("my.conf", "").unwrap();
    assert_eq!(c.max_connections, 1000);
    assert_eq!(c.rtmp_max_connections, 0);
    assert_eq!(c.http_server.max_connections, 0);
    assert_eq!(c.http_api.max_connections, 64);
    assert_eq!(c.vhost(DEFAULT_VHOST).max_message, (1 << 24) - 1);
}

#[test]
fn budgets_and_max_message_parse() {
    let c = config::parse_str(
        "my.conf",
        "rtmp_max_connections 500;\n\
         http_server { max_connections 300; }\n\
         http_api { max_connections 8; }\n\
         vhost __defaultVhost__ { max_message 1000000; }\n",
    )
    .unwrap();
    assert_eq!(c.rtmp_max_connections, 500);
    assert_eq!(c.http_server.max_connections, 300);
    assert_eq!(c.http_api.max_connections, 8);
    assert_eq!(c.vhost(DEFAULT_VHOST).max_message, 1_000_000);
}

#[test]
fn out_of_range_values_are_refused() {
    assert!(err("http_api { max_connections 0; }").starts_with("my.conf:1: invalid value '0'"));
    assert!(err("rtmp_max_connections -1;").starts_with("my.conf:1: invalid value"));
    assert!(err("vhost v { max_message 100; }").contains("'max_message'"));
    assert!(err("vhost v { max_message 16777216; }").contains("'max_message'"));
}

#[test]
fn full_conf_documents_them() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conf/full.conf");
    let c = config::load(&path).unwrap();
    assert_eq!(c.rtmp_max_connections, 0);
    assert_eq!(c.http_api.max_connections, 64);
    assert_eq!(c.http_server.max_connections, 0);
    assert_eq!(c.vhost(DEFAULT_VHOST).max_message, (1 << 24) - 1);
}

#[test]
fn reassembly_budget_parses_and_is_documented() {
    let c = config::parse_str("my.conf", "rtmp_reassembly_budget 268435456;").unwrap();
    assert_eq!(c.rtmp_reassembly_budget, 1 << 28);
    assert_eq!(
        config::parse_str("my.conf", "")
            .unwrap()
            .rtmp_reassembly_budget,
        0
    );
    assert!(err("rtmp_reassembly_budget 1000;").contains("at least 1048576"));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conf/full.conf");
    assert_eq!(config::load(&path).unwrap().rtmp_reassembly_budget, 0);
}
