//! `http_hooks { }` and `hls_nb_notify`: SRS's directives, URLs checked at load.

use std::time::Duration;

use server_core::config::{self, DEFAULT_VHOST};
use server_core::hooks::{HttpHooksConfig, DEFAULT_HLS_NB_NOTIFY, DEFAULT_TIMEOUT};

fn hooks(block: &str) -> HttpHooksConfig {
    let text = format!("vhost {DEFAULT_VHOST} {{\n    http_hooks {{\n{block}\n    }}\n}}\n");
    config::parse_str("my.conf", &text)
        .unwrap()
        .vhost(DEFAULT_VHOST)
        .http_hooks
        .clone()
}

/// The error for `block` inside `http_hooks` (which starts on line 3).
fn err(block: &str) -> String {
    let text = format!("vhost {DEFAULT_VHOST} {{\n    http_hooks {{\n{block}\n    }}\n}}\n");
    config::parse_str("my.conf", &text).unwrap_err().to_string()
}

#[test]
fn every_srs_directive_is_read() {
    let h = hooks(
        "enabled on;
         on_connect http://127.0.0.1:8085/api/v1/clients http://localhost:8085/second;
         on_close http://127.0.0.1:8085/api/v1/clients;
         on_publish https://hooks.example.com/publish?token=s3cret;
         on_unpublish http://[::1]:8085/api/v1/streams;
         on_play http://127.0.0.1:8085/api/v1/sessions;
         on_stop http://127.0.0.1:8085/api/v1/sessions;
         on_dvr http://127.0.0.1:8085/api/v1/dvrs;
         on_hls http://127.0.0.1:8085/api/v1/hls;
         on_hls_notify http://127.0.0.1:8085/api/v1/hls/[server_id]/[app]/[stream]/[ts_url][param];
         timeout 2500;",
    );
    assert_eq!(
        h,
        HttpHooksConfig {
            enabled: true,
            on_connect: vec![
                "http://127.0.0.1:8085/api/v1/clients".into(),
                "http://localhost:8085/second".into()
            ],
            on_close: vec!["http://127.0.0.1:8085/api/v1/clients".into()],
            on_publish: vec!["https://hooks.example.com/publish?token=s3cret".into()],
            on_unpublish: vec!["http://[::1]:8085/api/v1/streams".into()],
            on_play: vec!["http://127.0.0.1:8085/api/v1/sessions".into()],
            on_stop: vec!["http://127.0.0.1:8085/api/v1/sessions".into()],
            on_dvr: vec!["http://127.0.0.1:8085/api/v1/dvrs".into()],
            on_hls: vec!["http://127.0.0.1:8085/api/v1/hls".into()],
            on_hls_notify: vec![
                "http://127.0.0.1:8085/api/v1/hls/[server_id]/[app]/[stream]/[ts_url][param]"
                    .into()
            ],
            timeout: Duration::from_millis(2500),
        }
    );
}

#[test]
fn defaults_are_off_with_a_ten_second_timeout() {
    let c = config::parse_str("my.conf", "vhost v { }").unwrap();
    let h = &c.vhost("v").http_hooks;
    assert_eq!(h, &HttpHooksConfig::default());
    assert!(!h.enabled);
    assert_eq!(h.timeout, DEFAULT_TIMEOUT);
    assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(10));
    // An empty block is the same as none.
    assert_eq!(hooks(""), HttpHooksConfig::default());
    // URLs without `enabled on` are kept (and not called).
    let h = hooks("on_publish http://h/p;");
    assert!(!h.enabled);
    assert_eq!(h.on_publish, ["http://h/p"]);
}

#[test]
fn bad_urls_are_refused_with_file_line_and_reason() {
    let shape = "http(s)://HOST[:PORT][/PATH][?QUERY]";
    for (directive, url, reason) in [
        ("on_connect", "127.0.0.1:8085/x", "not http:// or https://"),
        ("on_close", "ftp://h/x", "not http:// or https://"),
        ("on_publish", "http://h:0/x", "port not from 1 to 65535"),
        ("on_publish", "http://h:99999/x", "port not from 1 to 65535"),
        ("on_unpublish", "http:///x", "no valid host"),
        (
            "on_play",
            "http://u:p@h/x",
            "user:password@ is not supported",
        ),
        ("on_stop", "http://h/x#y", "a #fragment is never sent"),
        ("on_dvr", "http://h/a%zz", "'%' must be percent-encoded"),
        ("on_hls", "http://h/[app]", "'[' must be percent-encoded"),
    ] {
        assert_eq!(
            err(&format!(
                "        enabled on;\n        {directive} http://ok/ {url};"
            )),
            format!(
                "my.conf:4: invalid value '{url}' for '{directive}': expected {shape} ({reason})"
            ),
        );
    }
}

#[test]
fn notify_templates_know_srs_variables_only() {
    assert_eq!(
        err("on_hls_notify http://cdn/[vhost]/[ts_url];"),
        "my.conf:3: invalid value 'http://cdn/[vhost]/[ts_url]' for 'on_hls_notify': expected \
         http(s)://HOST[:PORT][/PATH][?QUERY] with [variables] (unknown variable '[vhost]' (known: \
         [server_id] [service_id] [app] [stream] [ts_url] [param]))"
    );
    assert!(err("on_hls_notify [ts_url];").contains("not http:// or https://"));
    assert!(err("on_hls_notify http://cdn/[ts_url;").contains("'[' must be percent-encoded"));
    // Several templates, as SRS allows.
    let h = hooks("on_hls_notify http://a/[ts_url] https://b/[service_id]/[ts_url];");
    assert_eq!(h.on_hls_notify.len(), 2);
}

#[test]
fn other_mistakes_are_refused() {
    assert_eq!(
        err("enabled yes;"),
        "my.conf:3: invalid value 'yes' for 'enabled': expected on or off"
    );
    assert_eq!(
        err("on_publish;"),
        "my.conf:3: directive 'on_publish' takes one or more values, got 0"
    );
    assert_eq!(
        err("on_publish http://a/;\non_publish http://b/;"),
        "my.conf:4: duplicate directive 'on_publish' (first at my.conf:3)"
    );
    assert_eq!(
        err("on_connnect http://a/;"),
        "my.conf:3: unknown directive 'on_connnect'"
    );
    assert_eq!(
        err("timeout 10;"),
        "my.conf:3: invalid value '10' for 'timeout': expected an integer from 100 to 120000"
    );
    assert_eq!(
        err("timeout 10s;"),
        "my.conf:3: invalid value '10s' for 'timeout': expected an integer from 100 to 120000"
    );
    assert_eq!(
        err("on_hls { }"),
        "my.conf:3: directive 'on_hls' does not take a block"
    );
}

#[test]
fn hls_nb_notify_is_read_from_the_hls_block() {
    let nb = |block: &str| {
        config::parse_str("my.conf", &format!("vhost v {{ hls {{ {block} }} }}"))
            .map(|c| c.vhost("v").hls.nb_notify)
    };
    assert_eq!(nb(""), Ok(DEFAULT_HLS_NB_NOTIFY));
    assert_eq!(DEFAULT_HLS_NB_NOTIFY, 64);
    assert_eq!(nb("hls_nb_notify 0;"), Ok(0));
    assert_eq!(nb("hls_nb_notify 65536;"), Ok(65536));
    assert_eq!(
        nb("hls_nb_notify 65537;").unwrap_err().to_string(),
        "my.conf:1: invalid value '65537' for 'hls_nb_notify': expected an integer from 0 to 65536"
    );
}

#[test]
fn full_conf_documents_http_hooks_at_their_defaults() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf/full.conf");
    let c = config::load(&path).unwrap();
    let v = c.vhost(DEFAULT_VHOST);
    let h = &v.http_hooks;
    assert!(!h.enabled, "documented, off");
    assert_eq!(h.timeout, DEFAULT_TIMEOUT);
    assert_eq!(h.on_publish.len(), 2);
    for urls in [
        &h.on_connect,
        &h.on_close,
        &h.on_unpublish,
        &h.on_play,
        &h.on_stop,
        &h.on_dvr,
        &h.on_hls,
        &h.on_hls_notify,
    ] {
        assert_eq!(urls.len(), 1);
    }
    assert_eq!(v.hls.nb_notify, DEFAULT_HLS_NB_NOTIFY);
}
