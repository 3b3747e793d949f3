//! The exporter's `/metrics`, scraped and parsed with `prometheus-parse`,
//! and checked with Prometheus's own `promtool` when it is installed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{have, http, wait_for, ServerProcess};

/// The exporter's address, from the server's log.
pub fn exporter_addr(server: &ServerProcess) -> SocketAddr {
    wait_for(Duration::from_secs(10), || {
        server.log_text().lines().find_map(|l| {
            let (what, addr) = l.split_once(" listening on ")?;
            what.ends_with("exporter")
                .then(|| addr.trim().parse().ok())?
        })
    })
    .unwrap_or_else(|| panic!("no exporter listener; log:\n{}", server.log_text()))
}

/// One scraped sample: name and labels (sorted by name).
pub type Key = (String, Vec<(String, String)>);

/// Scrapes `/metrics` and parses it with `prometheus-parse`: the text and
/// every sample.
pub fn scrape(addr: SocketAddr) -> (String, HashMap<Key, f64>) {
    let (status, head, body) = http("GET", addr, "/metrics");
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    let text = String::from_utf8(body).expect("utf-8 metrics");
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("a Prometheus text exposition");
    let mut out = HashMap::new();
    for s in scrape.samples {
        let value = match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            other => panic!("unexpected sample kind for {}: {other:?}", s.metric),
        };
        let mut labels: Vec<(String, String)> = s
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.sort();
        out.insert((s.metric, labels), value);
    }
    (text, out)
}

/// Runs `promtool check metrics` on `text` when promtool is installed
/// (else prints a NOTICE) and fails on any finding but the expected ones.
pub fn promtool_check(text: &str) {
    if !have("promtool") {
        eprintln!(
            "NOTICE: promtool not installed (apt-get install prometheus): skipping its check"
        );
        return;
    }
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    {
        use std::io::Write;
        let mut stdin = check.stdin.take().expect("stdin");
        stdin.write_all(text.as_bytes()).expect("feed promtool");
    }
    let out = check.wait_with_output().expect("promtool output");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // promtool 2.x parses the classic text format (exit 1 when it can't)
    // and lints (exit 3). Its linter reads an OpenMetrics counter (`# HELP
    // srs_send_bytes`, sample `srs_send_bytes_total`) as a sample without
    // help, and flags SRS's `srs_clients_total`, a gauge here (see
    // `http::metrics`): those are expected; any other finding fails.
    let expected = |l: &str| {
        l.strip_suffix("_total no help text")
            .is_some_and(|name| text.contains(&format!("# TYPE {name} counter\n")))
            || l == r#"srs_clients_total non-counter metrics should not have "_total" suffix"#
    };
    let code = out.status.code();
    assert!(
        code == Some(0)
            || (code == Some(3) && said.lines().filter(|l| !l.is_empty()).all(expected)),
        "promtool check metrics ({code:?}): {said}\n{text}"
    );
}
