//! Bad configs are refused with `file:line: what is wrong`.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use server_core::config::{self, ConfigErrorKind, DEFAULT_VHOST};

fn err(text: &str) -> String {
    config::parse_str("my.conf", text).unwrap_err().to_string()
}

#[test]
fn errors_show_file_and_line() {
    assert_eq!(
        err("listen 1935;\n\nbogus 1;"),
        "my.conf:3: unknown directive 'bogus'"
    );
    assert_eq!(
        err("vhost a {\n  play {\n    gop_cache maybe;\n  }\n}"),
        "my.conf:3: invalid value 'maybe' for 'gop_cache': expected on or off"
    );
    assert_eq!(
        err("max_connections 0;"),
        "my.conf:1: invalid value '0' for 'max_connections': expected an integer from 1 to 1000000"
    );
    assert_eq!(
        err("chunk_size 127;"),
        "my.conf:1: invalid value '127' for 'chunk_size': expected an integer from 128 to 65536"
    );
    assert_eq!(
        err("listen localhost:1935;"),
        "my.conf:1: invalid value 'localhost:1935' for 'listen': expected PORT, IPv4:PORT or [IPv6]:PORT"
    );
    assert_eq!(
        err("vhost a { play { time_jitter smooth; } }"),
        "my.conf:1: invalid value 'smooth' for 'time_jitter': expected full, zero or off"
    );
    assert_eq!(
        err("daemon on;"),
        "my.conf:1: 'daemon on' is not supported yet"
    );
    assert_eq!(
        err("max_connections 10 20;"),
        "my.conf:1: directive 'max_connections' takes exactly one value, got 2"
    );
    assert_eq!(
        err("http_api;"),
        "my.conf:1: directive 'http_api' needs a block { ... }"
    );
    assert_eq!(
        err("vhost {}"),
        "my.conf:1: directive 'vhost' takes exactly one value before its block, got 0"
    );
    assert_eq!(
        err("pid x { }"),
        "my.conf:1: directive 'pid' does not take a block"
    );
    assert_eq!(err("srs_log_level debug;"), "my.conf:1: invalid value 'debug' for 'srs_log_level': expected verbose, info, trace, warn or error");
    assert_eq!(
        err("srs_log_tank syslog;"),
        "my.conf:1: invalid value 'syslog' for 'srs_log_tank': expected console or file"
    );
}

#[test]
fn structured_error_fields() {
    let e = config::parse_str("x.conf", "\nvhost a {\n  nope;\n}").unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("x.conf", 3));
    assert_eq!(e.kind, ConfigErrorKind::UnknownDirective("nope".into()));
}

#[test]
fn duplicates_are_refused() {
    assert_eq!(
        err("listen 1935;\nlisten 1936;"),
        "my.conf:2: duplicate directive 'listen' (first at my.conf:1)"
    );
    assert_eq!(
        err("vhost a {}\nvhost b {}\nvhost a {}"),
        "my.conf:3: duplicate directive 'vhost a' (first at my.conf:1)"
    );
    assert!(err("vhost a { hls { enabled on; enabled off; } }")
        .contains("duplicate directive 'enabled'"));
}

/// Every SRS directive not implemented yet, in the block where SRS accepts it.
#[test]
fn every_not_supported_directive_is_refused_clearly() {
    let root = [
        "heartbeat { enabled off; }",
        "stats { network 0; }",
        "stream_caster { enabled off; }",
        "rtc_server { enabled off; }",
        "srt_server { enabled off; }",
        "srs_log_level_v2 info;",
        "utc_time off;",
        "work_dir ./;",
        "asprocess off;",
        "disable_daemon_for_docker on;",
        "inotify_auto_reload off;",
        "auto_reload_for_docker on;",
        "query_latest_version on;",
        "first_wait_for_qlv 1;",
        "circuit_breaker { enabled on; }",
        "tencentcloud_cls { enabled off; }",
        "tencentcloud_apm { enabled off; }",
        "http_stream { enabled on; }",
    ];
    for d in root {
        let name = d.split_whitespace().next().unwrap();
        assert_eq!(
            err(&format!("\n{d}")),
            format!("my.conf:2: directive '{name}' is not supported yet")
        );
    }
    let vhost = [
        "rtc { enabled on; }",
        "srt { enabled on; }",
        "hds { enabled on; }",
        "dash { enabled on; }",
        "exec { enabled on; }",
        "edge on;",
        "mode remote;",
        "origin 127.0.0.1:1935;",
        "in_ack_size 0;",
        "out_ack_size 2500000;",
        "http_static { enabled on; }",
    ];
    for d in vhost {
        let name = d.split_whitespace().next().unwrap();
        assert_eq!(
            err(&format!("vhost v {{\n  {d}\n}}")),
            format!("my.conf:2: directive '{name}' is not supported yet")
        );
    }
    let nested = [
        ("play", "atc_auto off;"),
        ("play", "send_min_interval 10.0;"),
        ("play", "reduce_sequence_header on;"),
        ("publish", "parse_sps on;"),
        ("publish", "try_annexb_first on;"),
        ("publish", "kickoff_for_idle 0;"),
        ("hls", "hls_on_error continue;"),
        ("hls", "hls_acodec aac;"),
        ("hls", "hls_vcodec h264;"),
        ("hls", "hls_ts_floor off;"),
        ("hls", "hls_keys on;"),
        ("hls", "hls_ctx on;"),
        ("hls", "hls_dts_directly on;"),
        ("http_remux", "fast_cache 30;"),
        ("http_remux", "has_audio on;"),
        ("http_remux", "drop_if_not_match off;"),
    ];
    for (block, d) in nested {
        let name = d.split_whitespace().next().unwrap();
        assert_eq!(
            err(&format!("vhost v {{\n  {block} {{\n    {d}\n  }}\n}}")),
            format!("my.conf:3: directive '{name}' is not supported yet")
        );
    }
    for (block, d) in [
        ("http_api", "https { enabled on; }"),
        ("http_server", "https { enabled on; }"),
    ] {
        let name = d.split_whitespace().next().unwrap();
        assert_eq!(
            err(&format!("{block} {{ {d} }}")),
            format!("my.conf:1: directive '{name}' is not supported yet")
        );
    }
}

#[test]
fn api_auth_needs_its_credentials() {
    assert_eq!(
        err("http_api {\n  auth { enabled on; username admin; }\n}"),
        "my.conf:2: 'auth' needs both 'username' and 'password' when enabled"
    );
    assert_eq!(
        err("http_api { auth { enabled on; username a:b; password p; } }"),
        "my.conf:1: invalid value 'a:b' for 'username': expected a name without ':'"
    );
    assert_eq!(
        err("http_api { auth { enabled on; realm x; } }"),
        "my.conf:1: unknown directive 'realm'"
    );
    let c = config::parse_str(
        "my.conf",
        "http_api { auth { enabled on; username ops; password \"two words\"; } }",
    )
    .unwrap();
    let auth = c.http_api.auth.expect("credentials");
    assert_eq!(
        (auth.username.as_str(), auth.password.as_str()),
        ("ops", "two words")
    );
    assert!(
        !format!("{auth:?}").contains("two words"),
        "password in Debug output"
    );
    let off = config::parse_str("my.conf", "http_api { auth { enabled off; } }").unwrap();
    assert_eq!(off.http_api.auth, None);
}

#[test]
fn values_we_do_not_implement_are_refused() {
    assert_eq!(
        err("vhost v { play { mix_correct on; } }"),
        "my.conf:1: 'mix_correct on' is not supported yet"
    );
    assert_eq!(
        err("vhost v { http_remux { mount [vhost]/[app]/[stream].ts; } }"),
        "my.conf:1: 'mount [vhost]/[app]/[stream].ts' is not supported yet"
    );
    assert_eq!(
        err("vhost v { hls { hls_m3u8_file [vhost]/[app]/[stream].m3u8; } }"),
        "my.conf:1: 'hls_m3u8_file [vhost]/[app]/[stream].m3u8' is not supported yet"
    );
    assert!(config::parse_str("ok", "vhost v { play { mix_correct off; } }").is_ok());
}

#[test]
fn bad_hls_and_remux_values() {
    let cases = [
        ("hls { hls_fragment 0; }", "hls_fragment"),
        ("hls { hls_fragment -1; }", "hls_fragment"),
        ("hls { hls_fragment abc; }", "hls_fragment"),
        ("hls { hls_td_ratio 0.5; }", "hls_td_ratio"),
        ("hls { hls_fmp4_fallback maybe; }", "hls_fmp4_fallback"),
        ("hls { hls_window nan; }", "hls_window"),
        ("hls { hls_ts_file [app]/[stream].ts; }", "hls_ts_file"),
        (
            "hls { hls_ts_file [app]/[stream]-[sequence].ts; }",
            "hls_ts_file",
        ),
        (
            "hls { hls_m3u8_file [app]/[stream]-[duration].m3u8; }",
            "hls_m3u8_file",
        ),
        ("hls { hls_path ''; }", "hls_path"),
        // Templates stay below hls_path.
        (
            "hls { hls_m3u8_file ../[app]/[stream].m3u8; }",
            "hls_m3u8_file",
        ),
        ("hls { hls_m3u8_file /tmp/[stream].m3u8; }", "hls_m3u8_file"),
        (
            "hls { hls_ts_file [app]/../../[stream]-[seq].ts; }",
            "hls_ts_file",
        ),
        // The prefix is written into playlist lines.
        (
            "hls { hls_entry_prefix 'http://cdn/a b'; }",
            "hls_entry_prefix",
        ),
        (
            "hls { hls_entry_prefix 'http://cdn/\u{1b}[2J'; }",
            "hls_entry_prefix",
        ),
        ("http_remux { mount [app].flv; }", "mount"),
        ("play { mw_msgs 129; }", "mw_msgs"),
        ("play { queue_length 1e9; }", "queue_length"),
        ("publish { firstpkt_timeout 0; }", "firstpkt_timeout"),
    ];
    for (block, name) in cases {
        let e = err(&format!("vhost v {{ {block} }}"));
        assert!(e.starts_with("my.conf:1: invalid value"), "{e}");
        assert!(e.contains(&format!("for '{name}'")), "{e}");
    }
}

#[test]
fn ipv4_and_ipv6_listen() {
    let c = config::parse_str(
        "l.conf",
        "listen 1935 127.0.0.1:19350 [::]:1935 [::1]:1936;\n\
         http_api { enabled on; listen [::1]:1985 1985; }\n\
         http_server { enabled on; listen 0.0.0.0:8080; }",
    )
    .unwrap();
    assert_eq!(
        c.listen,
        vec![
            SocketAddr::from((Ipv4Addr::UNSPECIFIED, 1935)),
            SocketAddr::from(([127, 0, 0, 1], 19350)),
            SocketAddr::from((Ipv6Addr::UNSPECIFIED, 1935)),
            SocketAddr::from((Ipv6Addr::LOCALHOST, 1936)),
        ]
    );
    assert_eq!(
        c.http_api.listen,
        vec![
            SocketAddr::from((Ipv6Addr::LOCALHOST, 1985)),
            SocketAddr::from((Ipv4Addr::UNSPECIFIED, 1985))
        ]
    );
    assert_eq!(
        c.http_server.listen,
        vec![SocketAddr::from((Ipv4Addr::UNSPECIFIED, 8080))]
    );
    for bad in [
        "[::1]",
        "::1:1935",
        "[::1]:99999",
        "1935a",
        "[fe80::1%eth0]:1935x",
    ] {
        assert!(
            err(&format!("listen {bad};")).contains("for 'listen'"),
            "{bad}"
        );
    }
}

#[test]
fn absent_directives_take_srs_defaults() {
    let c = config::parse_str("min.conf", "listen 1935;\nvhost __defaultVhost__ {}\n").unwrap();
    assert!(!c.http_api.enabled && !c.http_server.enabled);
    assert_eq!(c.log_tank, config::LogTank::File);
    let v = c.vhost("anything.example");
    assert_eq!(v.name, DEFAULT_VHOST);
    assert_eq!(v.chunk_size, 60000);
    assert!(v.play.gop_cache);
    assert_eq!(v.play.gop_cache_max_frames, 2500);
    assert!(!v.hls.enabled && !v.http_remux.enabled);
}

#[test]
fn vhost_resolution_and_chunk_size_inheritance() {
    let c = config::parse_str(
        "v.conf",
        "vhost a { chunk_size 4096; }\nvhost __defaultVhost__ { tcp_nodelay on; }\nchunk_size 8192;",
    )
    .unwrap();
    assert_eq!(c.vhost("a").chunk_size, 4096);
    assert_eq!(c.vhost("b").name, DEFAULT_VHOST);
    // The global chunk_size applies even when written after the vhosts.
    assert_eq!(c.vhost("b").chunk_size, 8192);
    assert!(c.vhost("b").tcp_nodelay);
    assert!(c.find_vhost("b").is_none());

    // Without a default vhost, an unknown vhost resolves to a disabled one.
    let c = config::parse_str("v.conf", "vhost a {}").unwrap();
    assert!(c.vhost("a").enabled);
    assert!(!c.vhost("other").enabled);
}

#[test]
fn atc_turns_jitter_off() {
    use media_core::jitter::JitterMode;
    let c = config::parse_str("a.conf", "vhost v { play { atc on; time_jitter zero; } }").unwrap();
    assert_eq!(c.vhost("v").play.time_jitter, JitterMode::Zero);
    assert_eq!(c.vhost("v").play.effective_jitter(), JitterMode::Off);
}

#[test]
fn workers_is_auto_or_a_bounded_count() {
    let parse = |t: &str| config::parse_str("w.conf", t);
    assert_eq!(parse("workers auto;").unwrap().workers, None);
    assert_eq!(parse("workers 1;").unwrap().workers, Some(1));
    assert_eq!(parse("workers 8;").unwrap().workers, Some(8));
    assert_eq!(parse("listen 1935;").unwrap().workers, None);
    for bad in ["workers 0;", "workers 257;", "workers many;", "workers;"] {
        let e = parse(bad).unwrap_err().to_string();
        assert!(e.contains("w.conf:1"), "{bad}: {e}");
    }
}

#[test]
fn merged_read_is_off_by_default_and_bounded() {
    let parse = |t: &str| config::parse_str("m.conf", t);
    let v = parse("vhost v {}").unwrap().vhost("v").clone();
    assert!(!v.publish.mr);
    assert_eq!(v.publish.mr_latency, std::time::Duration::from_millis(350));
    let c = parse("vhost v { publish { mr on; mr_latency 100; } }").unwrap();
    let p = &c.vhost("v").publish;
    assert!(p.mr);
    assert_eq!(p.mr_latency, std::time::Duration::from_millis(100));
    for bad in ["mr_latency 5;", "mr_latency 2001;", "mr maybe;"] {
        let e = parse(&format!("vhost v {{ publish {{ {bad} }} }}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("m.conf:1"), "{bad}: {e}");
    }
}
