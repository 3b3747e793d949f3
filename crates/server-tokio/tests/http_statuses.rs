//! HTTP statuses on a real disk, on both builds: paths that cannot name a
//! file are 404 (not 500), OPTIONS announces what each route answers, and the
//! API's CORS can be limited to listed origins.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use support::{each_server, test_config, ServerProcess};

/// One request with extra header lines; the status and the head, lowercased.
fn ask(addr: SocketAddr, method: &str, path: &str, headers: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, head)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

#[test]
fn paths_that_cannot_name_a_file_are_404() {
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let root = server.dir.path().join("html");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("index.html"), "<html>home</html>").unwrap();
        let longest = format!("{}.ts", "c".repeat(252));
        std::fs::write(root.join(&longest), "ts").unwrap();

        assert_eq!(ask(server.http, "GET", "/index.html", "").0, 200);
        assert_eq!(ask(server.http, "GET", &format!("/{longest}"), "").0, 200);
        let too_long = format!("/{}.ts", "a".repeat(256));
        // Longer than PATH_MAX, each segment short enough.
        let too_deep = format!("/{}x.ts", format!("{}/", "b".repeat(250)).repeat(20));
        for path in ["/index.html/", "/index.html/x", "/index.html/x/y.m3u8"]
            .into_iter()
            .chain([too_long.as_str(), too_deep.as_str()])
        {
            let (status, _) = ask(server.http, "GET", path, "");
            assert_eq!(status, 404, "{}", &path[..path.len().min(40)]);
        }
    });
}

#[test]
fn options_announces_only_what_each_route_answers() {
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let (status, head) = ask(server.http, "OPTIONS", "/live/s.m3u8", "");
        assert_eq!(status, 200);
        assert_eq!(header(&head, "allow"), Some("get, head, options"));
        assert_eq!(
            header(&head, "access-control-allow-methods"),
            Some("get, head, options")
        );
        let (status, head) = ask(server.http, "POST", "/live/s.m3u8", "");
        assert_eq!(status, 405);
        assert_eq!(header(&head, "allow"), Some("get, head, options"));

        let (_, head) = ask(server.api, "OPTIONS", "/api/v1/clients/1", "");
        assert_eq!(header(&head, "allow"), Some("get, head, delete, options"));
        let (_, head) = ask(server.api, "OPTIONS", "/api/v1/streams", "");
        assert_eq!(header(&head, "allow"), Some("get, head, options"));
        let (status, head) = ask(server.api, "DELETE", "/api/v1/streams", "");
        assert_eq!(status, 405);
        assert_eq!(header(&head, "allow"), Some("get, head, options"));
    });
}

#[test]
fn api_cors_follows_allow_origins() {
    each_server(|bin| {
        let server = ServerProcess::start_from(bin, |dir| {
            test_config(dir, "", "").replacen(
                "http_api {\n    enabled on;",
                "http_api {\n    enabled on;\n    allow_origins https://console.example.com;",
                1,
            )
        });
        let listed = "Origin: https://console.example.com\r\n";
        let other = "Origin: https://evil.example\r\n";
        let (status, head) = ask(server.api, "OPTIONS", "/api/v1/clients/1", listed);
        assert_eq!(status, 200);
        assert_eq!(
            header(&head, "access-control-allow-origin"),
            Some("https://console.example.com")
        );
        assert_eq!(header(&head, "vary"), Some("origin"));
        let (status, head) = ask(server.api, "OPTIONS", "/api/v1/clients/1", other);
        assert_eq!(status, 204);
        assert_eq!(header(&head, "access-control-allow-origin"), None);
        let (status, head) = ask(server.api, "GET", "/api/v1/versions", other);
        assert_eq!(status, 200);
        assert_eq!(header(&head, "access-control-allow-origin"), None);
        // HLS stays open to every page.
        let (_, head) = ask(server.http, "GET", "/live/none.m3u8", other);
        assert_eq!(header(&head, "access-control-allow-origin"), Some("*"));
    });
}
