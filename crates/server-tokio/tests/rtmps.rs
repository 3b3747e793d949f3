//! RTMPS (`rtmps { }`, RTMP over TLS) end to end on both builds: ffmpeg
//! publishes and plays over `rtmps://` against a certificate made at test
//! time (rcgen, checked by ffmpeg against its CA file), clients of the
//! wrong kind on each port are refused without harm to the others, a SIGHUP
//! takes a renewed certificate from disk, and a forward reaches an
//! `rtmps://` destination.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// A CA and a leaf certificate for 127.0.0.1 and localhost signed by it,
/// written as PEM files into `dir`.
struct TestPki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl TestPki {
    fn new(dir: &Path, tag: &str) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("rtmps test CA {tag}"));
        let ca = ca_params.self_signed(&ca_key).expect("CA cert");
        let key = KeyPair::generate().expect("leaf key");
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("leaf params");
        params
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let leaf = params.signed_by(&key, &ca, &ca_key).expect("leaf cert");
        let pki = Self {
            ca: dir.join(format!("{tag}-ca.pem")),
            cert: dir.join(format!("{tag}-cert.pem")),
            key: dir.join(format!("{tag}-key.pem")),
        };
        std::fs::write(&pki.ca, ca.pem()).expect("write CA");
        std::fs::write(&pki.cert, leaf.pem()).expect("write cert");
        std::fs::write(&pki.key, key.serialize_pem()).expect("write key");
        pki
    }

    /// The global `rtmps { }` block of a server listening on a port of its own.
    fn block(&self, extra: &str) -> String {
        format!(
            "rtmps {{ enabled on; listen 127.0.0.1:0; key {}; cert {}; {extra} }}",
            self.key.display(),
            self.cert.display()
        )
    }
}

/// The address `server` reported for its rtmps listener.
fn rtmps_addr(server: &ServerProcess) -> SocketAddr {
    wait_for(Duration::from_secs(5), || {
        server.log_text().lines().find_map(|l| {
            let (what, addr) = l.split_once(" listening on ")?;
            what.ends_with("rtmps")
                .then(|| addr.trim().parse().ok())
                .flatten()
        })
    })
    .unwrap_or_else(|| panic!("no rtmps listener; log:\n{}", server.log_text()))
}

/// `ffmpeg -re` publishing `media` to `url`, checking the server's
/// certificate against `ca`; killed on drop.
fn publish_tls(media: &Path, url: &str, ca: &Path) -> Publisher {
    let child = Command::new("ffmpeg")
        .args(["-v", "error", "-re", "-stream_loop", "-1", "-i"])
        .arg(media)
        .args(["-c", "copy", "-f", "flv", "-tls_verify", "1", "-ca_file"])
        .arg(ca)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ffmpeg");
    Publisher(child)
}

/// Records `secs` of `url` (checking the certificate against `ca` when
/// given) and returns ffprobe's list of codecs, or ffmpeg's error.
fn record_codecs(url: &str, ca: Option<&Path>, out: &Path, secs: u32) -> Result<String, String> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-y"]);
    if let Some(ca) = ca {
        cmd.args(["-tls_verify", "1", "-ca_file"]).arg(ca);
    }
    cmd.args([
        "-i",
        url,
        "-t",
        &secs.to_string(),
        "-c",
        "copy",
        "-f",
        "flv",
    ])
    .arg(out);
    let (ok, _, err) = run(&mut cmd, Duration::from_secs(30));
    if !ok {
        return Err(err);
    }
    let (_, codecs, _) = run(
        Command::new("ffprobe")
            .args(["-v", "error", "-show_entries", "stream=codec_name"])
            .args(["-of", "compact=p=0"])
            .arg(out),
        Duration::from_secs(20),
    );
    Ok(codecs)
}

fn assert_plays(url: &str, ca: Option<&Path>, dir: &Path, name: &str) {
    let out = dir.join(format!("{name}.flv"));
    match record_codecs(url, ca, &out, 3) {
        Ok(codecs) => assert!(
            codecs.contains("codec_name=h264") && codecs.contains("codec_name=aac"),
            "{name}: {codecs}"
        ),
        Err(err) => panic!("{name}: player failed: {err}"),
    }
}

/// Whether `server` has `stream` published.
fn is_live(server: &ServerProcess, stream: &str) -> bool {
    let (status, _, body) = http("GET", server.api, "/api/v1/streams");
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return false;
    };
    status == 200
        && v["streams"].as_array().is_some_and(|s| {
            s.iter()
                .any(|s| s["name"] == stream && s["publish"]["active"] == true)
        })
}

fn wait_live(server: &ServerProcess, stream: &str) {
    assert!(
        wait_for(Duration::from_secs(20), || is_live(server, stream)
            .then_some(()))
        .is_some(),
        "{stream} never went live; log:\n{}",
        server.log_text()
    );
}

/// Sends `hello` to `addr` and reads until the server closes; returns what
/// it answered and how long it took to close.
fn answer_then_close(addr: SocketAddr, hello: &[u8]) -> (Vec<u8>, Duration) {
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.write_all(hello).expect("send");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("{addr}: not closed: {e} (got {} bytes)", got.len()),
        }
    }
    (got, start.elapsed())
}

/// An RTMP C0+C1: version 3, then 1536 bytes.
fn rtmp_c0c1() -> Vec<u8> {
    let mut hello = vec![3u8];
    hello.extend(std::iter::repeat_n(0u8, 1536));
    hello
}

/// The start of a TLS record carrying a ClientHello (RFC 8446 5.1: type 22,
/// legacy version 3.1), as any TLS client sends first.
fn tls_client_hello_start() -> Vec<u8> {
    let mut hello = vec![22u8, 3, 1, 0, 64, 1, 0, 0, 60, 3, 3];
    hello.extend(std::iter::repeat_n(7u8, 1526));
    hello
}

#[test]
fn ffmpeg_publishes_and_plays_over_rtmps_and_wrong_clients_are_refused() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let dir = TempDir::new("rtmps");
        let pki = TestPki::new(dir.path(), "a");
        let server = ServerProcess::start_configured(bin, &pki.block(""), "");
        let tls = rtmps_addr(&server);
        let _publisher = publish_tls(&media, &format!("rtmps://{tls}/live/sec"), &pki.ca);
        wait_live(&server, "sec");

        // A plain RTMP client on the TLS port: no S0, closed at once.
        let (answer, took) = answer_then_close(tls, &rtmp_c0c1());
        assert!(answer.first() != Some(&3), "the TLS port answered RTMP");
        assert!(took < Duration::from_secs(5), "closed after {took:?}");
        // A TLS client on the plain port: no TLS answer, closed at once.
        let (answer, took) = answer_then_close(server.rtmp, &tls_client_hello_start());
        assert!(answer.first() != Some(&22), "the plain port answered TLS");
        assert!(took < Duration::from_secs(5), "closed after {took:?}");
        // ffmpeg itself, on the wrong ports, fails.
        let wrong = dir.path().join("wrong.flv");
        let plain_on_tls = format!("rtmp://{tls}/live/sec");
        assert!(record_codecs(&plain_on_tls, None, &wrong, 1).is_err());
        let tls_on_plain = format!("rtmps://{}/live/sec", server.rtmp);
        assert!(record_codecs(&tls_on_plain, Some(&pki.ca), &wrong, 1).is_err());
        assert!(
            server.log_text().contains("rtmps: TLS handshake failed"),
            "{}",
            server.log_text()
        );

        // The publisher never noticed: it plays over TLS (certificate
        // checked) and over plain RTMP.
        assert!(is_live(&server, "sec"));
        assert_plays(
            &format!("rtmps://{tls}/live/sec"),
            Some(&pki.ca),
            dir.path(),
            "tls",
        );
        assert_plays(&server.rtmp_url("sec"), None, dir.path(), "plain");
    });
}

#[test]
fn sighup_takes_a_renewed_certificate_from_disk() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let dir = TempDir::new("rtmps-reload");
        let old = TestPki::new(dir.path(), "old");
        let server = ServerProcess::start_configured(bin, &old.block(""), "");
        let tls = rtmps_addr(&server);
        let _publisher = Publisher::start(&media, &server.rtmp_url("renew"), true);
        wait_live(&server, "renew");
        let url = format!("rtmps://{tls}/live/renew");
        let out = dir.path().join("check.flv");
        // The renewal: another CA's certificate under the same file names.
        let new = TestPki::new(dir.path(), "new");
        std::fs::copy(&new.cert, &old.cert).unwrap();
        std::fs::copy(&new.key, &old.key).unwrap();
        assert!(
            record_codecs(&url, Some(&new.ca), &out, 1).is_err(),
            "the new certificate was served before the reload"
        );
        let pid = server.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success());
        wait_for(Duration::from_secs(10), || {
            server
                .log_text()
                .contains("rtmps: certificate and key loaded")
                .then_some(())
        })
        .unwrap_or_else(|| panic!("no reload; log:\n{}", server.log_text()));
        assert_plays(&url, Some(&new.ca), dir.path(), "renewed");
        assert!(record_codecs(&url, Some(&old.ca), &out, 1).is_err());

        // A broken file on the next reload keeps the running certificate.
        std::fs::write(&old.key, "not a key").unwrap();
        assert!(Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success());
        wait_for(Duration::from_secs(10), || {
            server
                .log_text()
                .contains("the running certificate stays")
                .then_some(())
        })
        .unwrap_or_else(|| panic!("no refusal; log:\n{}", server.log_text()));
        assert_plays(&url, Some(&new.ca), dir.path(), "kept");
    });
}

/// The `forwards` list of `stream` in `server`'s API.
fn forwards(server: &ServerProcess, stream: &str) -> Vec<serde_json::Value> {
    let (_, _, body) = http("GET", server.api, "/api/v1/streams");
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    v["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == stream))
        .and_then(|s| s["forwards"].as_array().cloned())
        .unwrap_or_default()
}

#[test]
fn a_forward_reaches_an_rtmps_destination_that_plays_it() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let dir = TempDir::new("rtmps-forward");
        let pki = TestPki::new(dir.path(), "dest");
        let b = ServerProcess::start_configured(bin, &pki.block(""), "");
        let b_tls = rtmps_addr(&b);
        let forward =
            format!("forward {{ enabled on; destination rtmps://{b_tls}/[app]/[stream]; }}");
        // A trusts B's CA (upstream_ca) without a TLS listener of its own.
        let a_global = format!("rtmps {{ upstream_ca {}; }}", pki.ca.display());
        let a = ServerProcess::start_configured(bin, &a_global, &forward);
        // C does not trust it: its forward fails the TLS handshake.
        let c = ServerProcess::start_configured(bin, "", &forward);
        let _to_a = Publisher::start(&media, &a.rtmp_url("fwd"), true);
        let _to_c = Publisher::start(&media, &c.rtmp_url("untrusted"), true);
        wait_live(&b, "fwd");
        assert_plays(&b.rtmp_url("fwd"), None, dir.path(), "forwarded");
        let f = forwards(&a, "fwd");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0]["destination"], format!("rtmps://{b_tls}/live/fwd"));
        assert_eq!(f[0]["state"], "forwarding", "{f:?}");

        let refused = wait_for(Duration::from_secs(15), || {
            forwards(&c, "untrusted")
                .first()
                .and_then(|f| f["last_error"].as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| panic!("no forward error; log:\n{}", c.log_text()));
        assert!(
            refused.contains("TLS") && refused.contains("certificate"),
            "{refused}"
        );
        assert!(!is_live(&b, "untrusted"));
    });
}

#[test]
fn an_edge_pulls_from_an_rtmps_origin() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let dir = TempDir::new("rtmps-edge");
        let pki = TestPki::new(dir.path(), "origin");
        let origin = ServerProcess::start_configured(bin, &pki.block(""), "");
        let origin_tls = rtmps_addr(&origin);
        let edge = ServerProcess::start_configured(
            bin,
            &format!("rtmps {{ upstream_ca {}; }}", pki.ca.display()),
            &format!("cluster {{ mode remote; origin rtmps://{origin_tls}; }}"),
        );
        let _publisher = Publisher::start(&media, &origin.rtmp_url("pulled"), true);
        wait_live(&origin, "pulled");
        assert_plays(&edge.rtmp_url("pulled"), None, dir.path(), "edge");
        let (_, _, body) = http("GET", origin.api, "/api/v1/clients");
        let clients: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(
            edge.log_text().contains(&format!("rtmps://{origin_tls}")),
            "{}",
            edge.log_text()
        );
        assert!(clients["clients"].as_array().is_some_and(|c| c.len() >= 2));
    });
}
