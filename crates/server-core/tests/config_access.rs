//! `security { }`, `refer { }` and `max_connections_per_ip`: what parses, what
//! is refused with `file:line`, and what reaches the vhost settings.

use std::net::IpAddr;
use std::path::PathBuf;

use server_core::access::{
    IpNet, ReferConfig, RuleAction, RuleTarget, SecurityConfig, SecurityRule, Verb,
};
use server_core::config::{self, ConfigErrorKind, DEFAULT_VHOST};

fn err(text: &str) -> String {
    config::parse_str("my.conf", text).unwrap_err().to_string()
}

fn vhost_block(body: &str) -> String {
    format!("vhost __defaultVhost__ {{\n{body}\n}}\n")
}

fn security(body: &str) -> SecurityConfig {
    let text = vhost_block(&format!("  security {{\n{body}\n  }}"));
    let c = config::parse_str("my.conf", &text).unwrap();
    c.vhost(DEFAULT_VHOST).security.clone()
}

fn refer(body: &str) -> ReferConfig {
    let text = vhost_block(&format!("  refer {{\n{body}\n  }}"));
    let c = config::parse_str("my.conf", &text).unwrap();
    c.vhost(DEFAULT_VHOST).refer.clone()
}

/// An error in `security { }` placed so the bad line is line 3.
fn security_err(line: &str) -> String {
    err(&vhost_block(&format!("  security {{\n    {line}\n  }}")))
}

fn refer_err(line: &str) -> String {
    err(&vhost_block(&format!("  refer {{\n    {line}\n  }}")))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> RuleTarget {
    RuleTarget::Net(s.parse::<IpNet>().unwrap())
}

#[test]
fn security_rules_parse_in_order_and_repeat() {
    let s = security(
        "    enabled on;\n\
         \x20   deny publish 10.0.0.0/8;\n\
         \x20   allow publish 127.0.0.1;\n\
         \x20   allow publish ::1;\n\
         \x20   allow publish 2001:db8::/32;\n\
         \x20   allow play all;\n\
         \x20   deny play all;",
    );
    assert!(s.enabled);
    let rule = |action, verb, target| SecurityRule {
        action,
        verb,
        target,
    };
    assert_eq!(
        s.rules,
        vec![
            rule(RuleAction::Deny, Verb::Publish, net("10.0.0.0/8")),
            rule(RuleAction::Allow, Verb::Publish, net("127.0.0.1")),
            rule(RuleAction::Allow, Verb::Publish, net("::1")),
            rule(RuleAction::Allow, Verb::Publish, net("2001:db8::/32")),
            rule(RuleAction::Allow, Verb::Play, RuleTarget::All),
            rule(RuleAction::Deny, Verb::Play, RuleTarget::All),
        ]
    );
    assert!(s.check(Verb::Publish, ip("127.0.0.1")).is_ok());
    assert!(s.check(Verb::Publish, ip("::ffff:127.0.0.1")).is_ok());
    assert!(s.check(Verb::Publish, ip("2001:db8:5::1")).is_ok());
    assert!(s.check(Verb::Publish, ip("10.0.0.1")).is_err());
    assert!(s.check(Verb::Publish, ip("192.0.2.1")).is_err());
    // deny play all wins over allow play all.
    assert!(s.check(Verb::Play, ip("127.0.0.1")).is_err());
}

#[test]
fn security_defaults() {
    // Absent: off, no rules.
    let c = config::parse_str("my.conf", &vhost_block("")).unwrap();
    assert_eq!(c.vhost(DEFAULT_VHOST).security, SecurityConfig::default());
    // Rules without enabled: kept, not applied.
    let s = security("    deny play all;");
    assert!(!s.enabled);
    assert_eq!(s.rules.len(), 1);
    assert!(s.check(Verb::Play, ip("1.2.3.4")).is_ok());
    // Enabled without rules: everyone refused, as SRS.
    let s = security("    enabled on;");
    assert!(s.check(Verb::Play, ip("1.2.3.4")).is_err());
    assert!(security("").rules.is_empty());
}

#[test]
fn bad_security_rules_name_file_and_line() {
    assert_eq!(
        security_err("deny play 10.0.0.0/33;"),
        "my.conf:3: invalid value '10.0.0.0/33' for 'deny': expected a network whose prefix length is 0 to 32"
    );
    assert_eq!(
        security_err("allow publish 2001:db8::/129;"),
        "my.conf:3: invalid value '2001:db8::/129' for 'allow': expected a network whose prefix length is 0 to 128"
    );
    let address =
        "expected all, an IPv4 or IPv6 address, or a network such as 10.0.0.0/8 or 2001:db8::/32";
    for bad in [
        "10.0.0.256",
        "10.0.0",
        "10.0.0.0/",
        "/8",
        "localhost",
        "ALL",
        "fe80::1%eth0",
        "[::1]",
        "1.2.3.4:1935",
        "*",
    ] {
        let e = security_err(&format!("allow play {bad};"));
        let want_prefix = bad == "10.0.0.0/";
        assert!(e.starts_with("my.conf:3: invalid value '"), "{e}");
        if want_prefix {
            assert!(e.ends_with("prefix length is 0 to 32"), "{e}");
        } else {
            assert!(e.ends_with(address), "{bad}: {e}");
        }
    }
    assert_eq!(
        security_err("allow watch all;"),
        "my.conf:3: invalid value 'watch' for 'allow': expected publish or play"
    );
    assert_eq!(
        security_err("deny all;"),
        "my.conf:3: directive 'deny' takes two values (publish or play, then all, an address or a network), got 1"
    );
    assert_eq!(
        security_err("allow publish 1.2.3.4 5.6.7.8;"),
        "my.conf:3: directive 'allow' takes two values (publish or play, then all, an address or a network), got 3"
    );
    assert_eq!(
        security_err("allow publish all { }"),
        "my.conf:3: directive 'allow' does not take a block"
    );
    assert_eq!(
        security_err("whitelist 1.2.3.4;"),
        "my.conf:3: unknown directive 'whitelist'"
    );
    assert_eq!(
        security_err("enabled yes;"),
        "my.conf:3: invalid value 'yes' for 'enabled': expected on or off"
    );
    assert_eq!(
        err(&vhost_block(
            "  security {\n    enabled on;\n    allow play all;\n    enabled off;\n  }"
        )),
        "my.conf:5: duplicate directive 'enabled' (first at my.conf:3)"
    );
    assert_eq!(
        err(&vhost_block("  security on;")),
        "my.conf:2: directive 'security' needs a block { ... }"
    );
}

#[test]
fn refer_lists_parse() {
    let r = refer(
        "    enabled on;\n    all github.com github.io;\n    publish .example.com;\n    play ossrs.net 10.0.0.5 ::1;",
    );
    let list = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        r,
        ReferConfig {
            enabled: true,
            all: list(&["github.com", "github.io"]),
            publish: list(&[".example.com"]),
            play: list(&["ossrs.net", "10.0.0.5", "::1"]),
        }
    );
    assert!(r.check(None, "https://ossrs.github.io/srs").is_ok());
    assert!(r.check(None, "https://evilgithub.com/").is_err());
    assert!(r
        .check(Some(Verb::Publish), "http://www.example.com/")
        .is_ok());
    assert!(r.check(Some(Verb::Publish), "http://example.com/").is_err());
    assert!(r.check(Some(Verb::Play), "http://[::1]:8080/").is_ok());
    assert!(r.check(Some(Verb::Play), "").is_err());
    // Absent lists: none.
    let r = refer("    enabled on;");
    assert_eq!((r.all, r.publish, r.play), (None, None, None));
    let c = config::parse_str("my.conf", &vhost_block("")).unwrap();
    assert_eq!(c.vhost(DEFAULT_VHOST).refer, ReferConfig::default());
}

#[test]
fn bad_refer_lists_name_file_and_line() {
    assert_eq!(
        refer_err("all;"),
        "my.conf:3: directive 'all' takes one or more values, got 0"
    );
    let domain = "expected a domain such as example.com or .example.com (no scheme, port or path)";
    for bad in [
        "http://example.com",
        "example.com/live",
        "example.com:8080",
        "*.example.com",
        "a..b",
        ".",
    ] {
        let e = refer_err(&format!("play example.org {bad};"));
        assert_eq!(
            e,
            format!("my.conf:3: invalid value '{bad}' for 'play': {domain}")
        );
    }
    assert_eq!(
        err(&vhost_block(
            "  refer {\n    play a.com;\n    play b.com;\n  }"
        )),
        "my.conf:4: duplicate directive 'play' (first at my.conf:3)"
    );
    assert_eq!(
        refer_err("refer_play a.com;"),
        "my.conf:3: unknown directive 'refer_play'"
    );
    assert_eq!(
        refer_err("play a.com { }"),
        "my.conf:3: directive 'play' does not take a block"
    );
}

#[test]
fn errors_in_an_included_file_point_into_it() {
    let dir = std::env::temp_dir().join(format!("config-access-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inc = dir.join("rules.conf");
    std::fs::write(&inc, "allow play all;\n\ndeny publish 300.1.1.1;\n").unwrap();
    let main = dir.join("main.conf");
    std::fs::write(
        &main,
        "vhost __defaultVhost__ {\n  security {\n    enabled on;\n    include rules.conf;\n  }\n}\n",
    )
    .unwrap();
    let e = config::load(&main).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(e.line, 3);
    assert!(e.file.ends_with("rules.conf"), "{}", e.file);
    assert!(matches!(e.kind, ConfigErrorKind::BadValue { .. }));
}

#[test]
fn max_connections_per_ip() {
    let c = config::parse_str("my.conf", "").unwrap();
    assert_eq!(c.max_connections_per_ip, 0, "off by default");
    assert_eq!(config::Config::default().max_connections_per_ip, 0);
    let c = config::parse_str("my.conf", "max_connections_per_ip 10;").unwrap();
    assert_eq!(c.max_connections_per_ip, 10);
    let c = config::parse_str("my.conf", "max_connections_per_ip 0;").unwrap();
    assert_eq!(c.max_connections_per_ip, 0);
    for bad in ["-1", "ten", "1000001", "10s"] {
        assert_eq!(
            err(&format!("listen 1935;\nmax_connections_per_ip {bad};")),
            format!("my.conf:2: invalid value '{bad}' for 'max_connections_per_ip': expected an integer from 0 to 1000000")
        );
    }
    assert!(err("max_connections_per_ip 1;\nmax_connections_per_ip 2;")
        .starts_with("my.conf:2: duplicate directive"));
}

#[test]
fn full_conf_documents_security_refer_and_the_per_ip_cap() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conf/full.conf");
    let c = config::load(&path).unwrap();
    assert_eq!(c.max_connections_per_ip, 0);
    let v = c.vhost(DEFAULT_VHOST);
    assert!(!v.security.enabled, "documented but off");
    assert_eq!(v.security.rules.len(), 4);
    let mut on = v.security.clone();
    on.enabled = true;
    assert!(on.check(Verb::Publish, ip("127.0.0.1")).is_ok());
    assert!(on.check(Verb::Publish, ip("::1")).is_ok());
    assert!(on.check(Verb::Publish, ip("10.1.1.1")).is_err());
    assert!(on.check(Verb::Play, ip("10.1.1.1")).is_ok());
    assert!(!v.refer.enabled, "documented but off");
    assert!(v.refer.all.is_some() && v.refer.publish.is_some() && v.refer.play.is_some());
    let text = std::fs::read_to_string(&path).unwrap();
    let head: String = text.lines().take(12).collect::<Vec<_>>().join("\n");
    assert!(
        !head.contains("security"),
        "no longer listed as not implemented"
    );
}

#[test]
fn vhost_settings_carry_the_rules() {
    let text = "vhost __defaultVhost__ {\n  security { enabled on; deny play 192.0.2.0/24; }\n  refer { enabled on; play example.com; }\n}\n";
    let c = config::parse_str("my.conf", text).unwrap();
    let rt: std::sync::Arc<dyn server_core::Runtime> = server_tokio::TokioRuntime::new();
    let ctx = server_core::ServerCtx::new(rt, c);
    let v = ctx.vhost(DEFAULT_VHOST);
    assert!(v.security.check(Verb::Play, ip("192.0.2.9")).is_err());
    assert!(v.security.check(Verb::Play, ip("198.51.100.1")).is_ok());
    assert!(v
        .refer
        .check(Some(Verb::Play), "http://example.com/")
        .is_ok());
    assert!(v
        .refer
        .check(Some(Verb::Play), "http://example.org/")
        .is_err());
}
