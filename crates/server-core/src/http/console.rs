//! The web console (`http_server { console { } }`, default `/console/`): a
//! page of the server's own, embedded in the binary, that lists vhosts,
//! streams and clients from the HTTP API, kicks clients, and plays a stream
//! with live charts.
//!
//! The page's HTML, JS and CSS are under `console/` beside this file. The
//! third-party players (hls.js, mpegts.js) are not: the page loads them from
//! jsDelivr at the pinned versions below, with Subresource Integrity hashes,
//! or, with `vendor_dir`, from `PATH/vendor/` served out of that directory.
//!
//! Besides the static files, two small JSON answers tell the page what only
//! the server knows: `config.json` (where the API is, where the players
//! load from, the RTMP address) and `urls.json?vhost=&app=&stream=` (a
//! stream's HLS and HTTP-FLV URLs, from the vhost's `hls_m3u8_file` and
//! `http_remux` mount, and its RTMP URL).

use std::time::Duration;

use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::StatusCode;
use serde::Serialize;

use super::files;
use super::path::{encode_path, percent_decode};
use super::reply::{self, Reply};
use crate::config::{ConsoleConfig, DEFAULT_VHOST};
use crate::context::ServerCtx;
use crate::hub::query_param;
use crate::runtime::timeout;
use crate::settings::ListenerKind;

const INDEX_HTML: &str = include_str!("console/index.html");
const CONSOLE_JS: &str = include_str!("console/console.js");
const CONSOLE_CSS: &str = include_str!("console/console.css");

/// A player script: its file name (in the npm package's `dist/` and in
/// `vendor_dir`), the pinned jsDelivr URL, and the SRI hash of exactly that file.
struct Player {
    name: &'static str,
    cdn: &'static str,
    integrity: &'static str,
}

/// hls.js 1.7.4 (`npm pack hls.js@1.7.4`, `dist/hls.min.js`; the version the
/// browser tests pin in `tests/browser/package.json`).
const HLS_JS: Player = Player {
    name: "hls.min.js",
    cdn: "https://cdn.jsdelivr.net/npm/hls.js@1.7.4/dist/hls.min.js",
    integrity: "sha384-p9vgU/7IYJWd3I4STrtqxqR/2cAQlhIX7D/HrTnIMEjjcUox165b7se7sxmm3zDg",
};

/// mpegts.js 1.8.2 (`npm pack mpegts.js@1.8.2`, `dist/mpegts.js`, minified).
const MPEGTS_JS: Player = Player {
    name: "mpegts.js",
    cdn: "https://cdn.jsdelivr.net/npm/mpegts.js@1.8.2/dist/mpegts.js",
    integrity: "sha384-sQp+4cJv0jChNCYvgy6W0RSfQZB/w6d3ZTDoIBlY4Uorfw4PLS56T2yM2z47bSkl",
};

/// What the page may load and do: its own scripts and the pinned CDN's (a
/// stream or client name that slipped into the page as markup could run
/// nothing), media from anywhere (players use `blob:` sources; HLS segments
/// may sit on a CDN), API calls to any origin (the API may be elsewhere), and
/// no framing (the kick button cannot be clickjacked).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self' https://cdn.jsdelivr.net; style-src 'self'; img-src 'self' data:; \
     media-src * blob:; worker-src 'self' blob:; connect-src *; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Longest a vendor file may take to open.
const VENDOR_OPEN_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest `vhost`, `app` or `stream` parameter of `urls.json`, bytes.
const MAX_NAME: usize = 512;

/// Where a player script loads from, as `config.json` tells the page.
#[derive(Serialize)]
struct PlayerSource {
    src: String,
    /// `None` for the local copy: the operator chose those bytes.
    integrity: Option<&'static str>,
}

#[derive(Serialize)]
struct Players {
    hls: PlayerSource,
    mpegts: PlayerSource,
}

#[derive(Serialize)]
struct PageConfig {
    /// The API's origin, or `""` for the page's own (API and server on one port).
    api: String,
    players: Players,
    /// `rtmp://HOST[:PORT]`, the RTMP listener as the page's host reaches it.
    rtmp: String,
    version: &'static str,
}

#[derive(Serialize)]
struct StreamUrls {
    /// Path of the HLS playlist on this server, if the vhost has HLS.
    hls: Option<String>,
    /// Path of the HTTP-FLV stream on this server, if the vhost has `http_remux`.
    flv: Option<String>,
    rtmp: String,
}

/// True when `path` is the console's (its directory, with or without the
/// trailing `/`, or anything under it) and the console is enabled.
pub(crate) fn owns(ctx: &ServerCtx, path: &str) -> bool {
    let config = ctx.config();
    let console = &config.http_server.console;
    console.enabled
        && (path.starts_with(&console.path) || path == console.path.trim_end_matches('/'))
}

/// Answers a `GET`/`HEAD` of a console path (see [`owns`]). `host` is the
/// request's `Host`, port included.
pub(crate) async fn serve(
    ctx: &ServerCtx,
    path: &str,
    query: &str,
    host: Option<&str>,
    headers: &HeaderMap,
) -> Reply {
    let config = ctx.config();
    let console = &config.http_server.console;
    let Some(rest) = path.strip_prefix(console.path.as_str()) else {
        // `/console`: the page's relative links need the trailing slash.
        return redirect(&console.path);
    };
    let hostname = super::router::hostname(host.unwrap_or("localhost"));
    match rest {
        "" | "index.html" => {
            let mut resp = page("html", INDEX_HTML);
            let headers = resp.headers_mut();
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
            resp
        }
        "console.js" => page("js", CONSOLE_JS),
        "console.css" => page("css", CONSOLE_CSS),
        "config.json" => reply::json(StatusCode::OK, &page_config(ctx, console, hostname)),
        "urls.json" => stream_urls(ctx, query, hostname),
        "vendor/hls.min.js" => vendor(ctx, console, &HLS_JS, headers).await,
        "vendor/mpegts.js" => vendor(ctx, console, &MPEGTS_JS, headers).await,
        _ => reply::status(StatusCode::NOT_FOUND),
    }
}

fn page(ext: &str, body: &'static str) -> Reply {
    let mut resp = reply::full(
        StatusCode::OK,
        super::mime::content_type(ext),
        body.as_bytes(),
    );
    // Small and embedded: revalidate so an upgrade is seen at once.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

fn redirect(to: &str) -> Reply {
    let mut resp = reply::status(StatusCode::FOUND);
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// `http://HOSTNAME:PORT` for an address the config names, or `HOSTNAME`
/// in brackets when it is an IPv6 literal.
fn host_for_url(hostname: &str) -> String {
    if hostname.contains(':') {
        format!("[{hostname}]")
    } else {
        hostname.to_owned()
    }
}

/// The first listener of one of `kinds`: its kind and bound port (port 0 in
/// the config resolved).
fn bound(ctx: &ServerCtx, kinds: &[ListenerKind]) -> Option<(ListenerKind, u16)> {
    let listeners = ctx
        .reload
        .listeners
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    listeners
        .iter()
        .find(|l| kinds.contains(&l.kind))
        .map(|l| (l.kind, l.local.port()))
}

/// The API's origin as the page should call it: `api` when configured; the
/// page's own origin (`""`) when the API is off or shares the HTTP server's
/// port; otherwise the page's host on the port the API listens on.
fn api_origin(ctx: &ServerCtx, console: &ConsoleConfig, hostname: &str) -> String {
    if let Some(api) = &console.api {
        return api.clone();
    }
    let config = ctx.config();
    if !config.http_api.enabled {
        return String::new();
    }
    let port = match bound(ctx, &[ListenerKind::HttpApi, ListenerKind::HttpBoth]) {
        Some((ListenerKind::HttpApi, port)) => port,
        Some(_) => return String::new(),
        // Not started by `Server` (unit tests): the configured port.
        None => config.http_api.listen.first().map_or(0, |a| a.port()),
    };
    if port == 0 {
        return String::new();
    }
    format!("http://{}:{port}", host_for_url(hostname))
}

fn rtmp_base(ctx: &ServerCtx, hostname: &str) -> String {
    let port = bound(ctx, &[ListenerKind::Rtmp])
        .map(|(_, port)| port)
        .or_else(|| ctx.config().listen.first().map(|a| a.port()))
        .unwrap_or(1935);
    let host = host_for_url(hostname);
    if port == 1935 {
        format!("rtmp://{host}")
    } else {
        format!("rtmp://{host}:{port}")
    }
}

fn page_config(ctx: &ServerCtx, console: &ConsoleConfig, hostname: &str) -> PageConfig {
    let source = |p: &Player| match console.vendor_dir {
        Some(_) => PlayerSource {
            src: format!("{}vendor/{}", console.path, p.name),
            integrity: None,
        },
        None => PlayerSource {
            src: p.cdn.to_owned(),
            integrity: Some(p.integrity),
        },
    };
    PageConfig {
        api: api_origin(ctx, console, hostname),
        players: Players {
            hls: source(&HLS_JS),
            mpegts: source(&MPEGTS_JS),
        },
        rtmp: rtmp_base(ctx, hostname),
        version: env!("CARGO_PKG_VERSION"),
    }
}

/// `urls.json?vhost=V&app=A&stream=S`: where the stream plays.
fn stream_urls(ctx: &ServerCtx, query: &str, hostname: &str) -> Reply {
    let param = |name| {
        query_param(query, name)
            .filter(|v| !v.is_empty() && v.len() <= MAX_NAME)
            .and_then(|v| percent_decode(v).ok())
            .and_then(|v| String::from_utf8(v).ok())
    };
    let (Some(app), Some(stream)) = (param("app"), param("stream")) else {
        return reply::text(StatusCode::BAD_REQUEST, "app and stream are required");
    };
    let vhost_name = param("vhost").unwrap_or_else(|| DEFAULT_VHOST.to_owned());
    if [&vhost_name, &app, &stream]
        .iter()
        .any(|v| v.contains(['/', '?', '#']) || v.chars().any(char::is_control))
    {
        return reply::text(StatusCode::BAD_REQUEST, "bad vhost, app or stream");
    }
    let vhost = ctx.vhost(&vhost_name);
    let hls = vhost.hls.as_ref().map(|h| {
        let file = h
            .config
            .m3u8_file
            .replace("[vhost]", &vhost_name)
            .replace("[app]", &app)
            .replace("[stream]", &stream);
        format!("/{}", encode_path(file.trim_start_matches('/')))
    });
    let flv = vhost
        .flv_mount
        .as_ref()
        .map(|m| encode_path(&m.render(&vhost_name, &app, &stream)));
    let mut rtmp = format!("{}/{}/{}", rtmp_base(ctx, hostname), app, stream);
    if vhost_name != DEFAULT_VHOST {
        rtmp.push_str("?vhost=");
        rtmp.push_str(&vhost_name);
    }
    reply::json(StatusCode::OK, &StreamUrls { hls, flv, rtmp })
}

/// A player script from `vendor_dir`, or 404 when the console loads them
/// from the CDN.
async fn vendor(
    ctx: &ServerCtx,
    console: &ConsoleConfig,
    player: &Player,
    headers: &HeaderMap,
) -> Reply {
    let Some(dir) = &console.vendor_dir else {
        return reply::status(StatusCode::NOT_FOUND);
    };
    let file = dir.join(player.name);
    let fs = ctx.rt.fs();
    match timeout(&*ctx.rt, VENDOR_OPEN_TIMEOUT, fs.open(&file)).await {
        Some(Ok(reader)) => files::found(reader, "js", headers),
        Some(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(file = %file.display(), "console vendor_dir lacks {}", player.name);
            reply::status(StatusCode::NOT_FOUND)
        }
        Some(Err(e)) => files::failed(&e),
        None => reply::status(StatusCode::GATEWAY_TIMEOUT),
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::path::PathBuf;
    use std::sync::Arc;

    use bytes::Bytes;
    use futures_util::FutureExt;
    use http_body_util::{BodyExt, Empty};
    use hyper::{Request, StatusCode};
    use serde_json::Value;

    use super::super::testing::ManualRuntime;
    use super::super::{router, HttpOptions, Role};
    use crate::config::Config;
    use crate::context::ServerCtx;

    fn ctx_with(edit: impl FnOnce(&mut Config)) -> (Arc<ManualRuntime>, Arc<ServerCtx>) {
        let rt = ManualRuntime::new();
        let mut config = Config::default();
        edit(&mut config);
        let ctx = ServerCtx::new(rt.clone(), config);
        (rt, ctx)
    }

    fn get(ctx: &Arc<ServerCtx>, uri: &str) -> (StatusCode, hyper::HeaderMap, Bytes) {
        let req = Request::builder()
            .uri(uri)
            .header(hyper::header::HOST, "media.example:8080")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let peer: SocketAddr = "192.0.2.7:50000".parse().unwrap();
        let resp = router::handle(ctx, req, peer, Role::Server, &HttpOptions::default())
            .now_or_never()
            .expect("completes without waiting");
        let (parts, body) = resp.into_parts();
        let body = body.collect().now_or_never().unwrap().unwrap().to_bytes();
        (parts.status, parts.headers, body)
    }

    fn json(ctx: &Arc<ServerCtx>, uri: &str) -> Value {
        let (status, _, body) = get(ctx, uri);
        assert_eq!(status, StatusCode::OK, "{uri}");
        serde_json::from_slice(&body).expect("json")
    }

    #[test]
    fn serves_the_embedded_page_and_assets() {
        let (_, ctx) = ctx_with(|_| {});
        let (status, headers, body) = get(&ctx, "/console/");
        assert_eq!(status, StatusCode::OK);
        assert!(headers[hyper::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(String::from_utf8_lossy(&body).contains("console.js"));
        let csp = headers[hyper::header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(
            csp.contains("script-src 'self' https://cdn.jsdelivr.net"),
            "{csp}"
        );
        for (uri, kind) in [
            ("/console/index.html", "text/html"),
            ("/console/console.js", "text/javascript"),
            ("/console/console.css", "text/css"),
        ] {
            let (status, headers, _) = get(&ctx, uri);
            assert_eq!(status, StatusCode::OK, "{uri}");
            let ct = headers[hyper::header::CONTENT_TYPE].to_str().unwrap();
            assert!(ct.starts_with(kind), "{uri}: {ct}");
        }
        let (status, headers, _) = get(&ctx, "/console");
        assert_eq!(status, StatusCode::FOUND);
        assert_eq!(headers[hyper::header::LOCATION], "/console/");
        assert_eq!(get(&ctx, "/console/nope.js").0, StatusCode::NOT_FOUND);
        assert_eq!(get(&ctx, "/console/../etc/passwd").0, StatusCode::NOT_FOUND);
    }

    #[test]
    fn config_points_at_the_api_port_and_the_pinned_cdn() {
        let (_, ctx) = ctx_with(|_| {});
        let c = json(&ctx, "/console/config.json");
        assert_eq!(c["api"], "http://media.example:1985");
        assert_eq!(c["rtmp"], "rtmp://media.example");
        assert_eq!(c["players"]["hls"]["src"], super::HLS_JS.cdn);
        assert!(c["players"]["hls"]["integrity"]
            .as_str()
            .unwrap()
            .starts_with("sha384-"));
        assert!(c["players"]["mpegts"]["src"]
            .as_str()
            .unwrap()
            .contains("mpegts.js@"));
        // No local copies unless vendor_dir is set.
        assert_eq!(
            get(&ctx, "/console/vendor/hls.min.js").0,
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn api_directive_and_shared_port_change_the_api_origin() {
        let (_, ctx) = ctx_with(|c| {
            c.http_server.console.api = Some("https://api.example".into());
        });
        assert_eq!(
            json(&ctx, "/console/config.json")["api"],
            "https://api.example"
        );
        let (_, ctx) = ctx_with(|c| c.http_api.enabled = false);
        assert_eq!(json(&ctx, "/console/config.json")["api"], "");
    }

    #[test]
    fn vendor_dir_serves_the_two_player_files_only() {
        let (rt, ctx) = ctx_with(|c| {
            c.http_server.console.vendor_dir = Some(PathBuf::from("/opt/players"));
        });
        rt.mem_fs()
            .put("/opt/players/hls.min.js", Bytes::from_static(b"var Hls;"));
        let c = json(&ctx, "/console/config.json");
        assert_eq!(c["players"]["hls"]["src"], "/console/vendor/hls.min.js");
        assert!(c["players"]["hls"]["integrity"].is_null());
        let (status, _, body) = get(&ctx, "/console/vendor/hls.min.js");
        assert_eq!((status, &body[..]), (StatusCode::OK, &b"var Hls;"[..]));
        assert_eq!(
            get(&ctx, "/console/vendor/mpegts.js").0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get(&ctx, "/console/vendor/other.js").0,
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn stream_urls_follow_the_vhost_config() {
        let (_, ctx) = ctx_with(|_| {});
        let u = json(&ctx, "/console/urls.json?app=live&stream=a%20b");
        assert_eq!(u["hls"], "/live/a%20b.m3u8");
        assert_eq!(u["flv"], "/live/a%20b.flv");
        assert_eq!(u["rtmp"], "rtmp://media.example/live/a b");
        assert_eq!(
            get(&ctx, "/console/urls.json?app=live").0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            get(&ctx, "/console/urls.json?app=live&stream=x%2F..%2Fy").0,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn a_custom_path_moves_the_console_and_off_removes_it() {
        let (_, ctx) = ctx_with(|c| c.http_server.console.path = "/ops/console/".into());
        assert_eq!(get(&ctx, "/ops/console/").0, StatusCode::OK);
        assert_eq!(get(&ctx, "/console/").0, StatusCode::NOT_FOUND);
        let (_, ctx) = ctx_with(|c| c.http_server.console.enabled = false);
        assert_eq!(get(&ctx, "/console/").0, StatusCode::NOT_FOUND);
        assert_eq!(get(&ctx, "/console/config.json").0, StatusCode::NOT_FOUND);
    }
}
