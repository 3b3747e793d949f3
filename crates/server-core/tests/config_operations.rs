//! The directives of operations: the graceful quit's timing (SRS's names and
//! defaults) and the API's allowed origins.

use std::time::Duration;

use server_core::config::{self, Config};

fn parse(text: &str) -> Config {
    config::parse_str("my.conf", text).unwrap()
}

fn err(text: &str) -> String {
    config::parse_str("my.conf", text).unwrap_err().to_string()
}

#[test]
fn graceful_quit_timing_has_srs_names_and_defaults() {
    let c = Config::srs_default();
    assert_eq!(c.grace_start_wait, Duration::from_millis(2300));
    assert_eq!(c.grace_final_wait, Duration::from_millis(3200));
    assert_eq!(c.grace_drain_timeout, Duration::from_secs(30));
    assert!(!c.force_grace_quit);

    let c = parse(
        "grace_start_wait 0;\ngrace_drain_timeout 1500;\ngrace_final_wait 10;\nforce_grace_quit on;",
    );
    assert_eq!(c.grace_start_wait, Duration::ZERO);
    assert_eq!(c.grace_drain_timeout, Duration::from_millis(1500));
    assert_eq!(c.grace_final_wait, Duration::from_millis(10));
    assert!(c.force_grace_quit);

    assert_eq!(
        err("grace_final_wait 3.2s;"),
        "my.conf:1: invalid value '3.2s' for 'grace_final_wait': expected an integer from 0 to 86400000"
    );
    assert_eq!(
        err("force_grace_quit yes;"),
        "my.conf:1: invalid value 'yes' for 'force_grace_quit': expected on or off"
    );
}

#[test]
fn allowed_origins_are_origins_only() {
    let c = parse("http_api { allow_origins https://Console.Example.com http://10.0.0.5:8080 http://[::1]:1985; }");
    assert_eq!(
        c.http_api.allow_origins,
        [
            "https://console.example.com",
            "http://10.0.0.5:8080",
            "http://[::1]:1985"
        ]
    );
    assert!(Config::srs_default().http_api.allow_origins.is_empty());
    for bad in [
        "*",
        "console.example.com",
        "https://console.example.com/",
        "https://console.example.com/path",
        "ftp://example.com",
        "https://",
        "null",
    ] {
        let e = err(&format!("http_api {{ allow_origins {bad}; }}"));
        assert!(
            e.starts_with(&format!(
                "my.conf:1: invalid value '{bad}' for 'allow_origins'"
            )),
            "{bad}: {e}"
        );
    }
    let e = err("http_api {\n  crossdomain off;\n  allow_origins https://a.example;\n}");
    assert!(
        e.starts_with("my.conf:3: invalid value 'https://a.example' for 'allow_origins'"),
        "{e}"
    );
    assert!(err("http_api { allow_origins; }").contains("one or more values"));
}
