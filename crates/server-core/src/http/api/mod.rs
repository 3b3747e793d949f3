//! The HTTP API: SRS's `/api/v1` paths, JSON envelope and error codes, so
//! tools written for SRS (srs-console, dashboards, scripts) work.
//!
//! Every success is `{"code":0,"server":..,"service":..,"pid":..,<payload>}`;
//! an unknown stream or client is `{"code":2048}` / `{"code":2049}` (SRS's
//! `ERROR_RTMP_STREAM_NOT_FOUND` / `ERROR_RTMP_CLIENT_NOT_FOUND`), sent with
//! HTTP 404 (SRS sends 200; a status that says "not found" serves scripts
//! better). `?callback=NAME` wraps the JSON as JSONP, as SRS does. Lists take
//! SRS's `start` and `count` (default and minimum 10, SRS's "top 10").

pub(crate) mod json;
pub(crate) mod system;

use hyper::{Method, StatusCode};
use serde::Serialize;

use super::reply::{self, Reply};
use crate::context::ServerCtx;
use crate::hub::query_param;

/// Success.
pub const ERROR_SUCCESS: i32 = 0;
/// SRS `ERROR_RTMP_VHOST_NOT_FOUND`.
pub const ERROR_RTMP_VHOST_NOT_FOUND: i32 = 2014;
/// SRS `ERROR_RTMP_STREAM_NOT_FOUND`.
pub const ERROR_RTMP_STREAM_NOT_FOUND: i32 = 2048;
/// SRS `ERROR_RTMP_CLIENT_NOT_FOUND`.
pub const ERROR_RTMP_CLIENT_NOT_FOUND: i32 = 2049;
/// Items in a list by default and at least (SRS: `count = max(10, count)`).
pub const DEFAULT_LIST_COUNT: usize = 10;
/// Most items in one list response.
pub const MAX_LIST_COUNT: usize = 10_000;
/// Longest JSONP callback name accepted.
const MAX_CALLBACK_LEN: usize = 64;
/// `Allow` for the read-only paths.
const READ_ONLY: &str = "GET, HEAD, OPTIONS";
/// `Allow` for `/api/v1/clients/ID`, which can also kick.
const READ_AND_DELETE: &str = "GET, HEAD, DELETE, OPTIONS";

/// The envelope around every successful answer.
#[derive(Serialize)]
struct Envelope<T: Serialize> {
    code: i32,
    server: String,
    service: String,
    pid: String,
    #[serde(flatten)]
    body: T,
}

/// An error answer: the code alone, as SRS's `srs_api_response_code`.
#[derive(Serialize)]
struct Code {
    code: i32,
}

#[derive(Serialize)]
struct Urls<T: Serialize> {
    urls: T,
}

#[derive(Serialize)]
struct RootUrls {
    api: &'static str,
}

#[derive(Serialize)]
struct ApiUrls {
    v1: &'static str,
}

#[derive(Serialize)]
struct V1Urls {
    versions: &'static str,
    summaries: &'static str,
    vhosts: &'static str,
    streams: &'static str,
    clients: &'static str,
}

#[derive(Serialize)]
struct Data<T: Serialize> {
    data: T,
}

#[derive(Serialize)]
struct Version {
    major: u32,
    minor: u32,
    revision: u32,
    version: &'static str,
}

#[derive(Serialize)]
struct Streams {
    streams: Vec<json::Stream>,
}

#[derive(Serialize)]
struct OneStream {
    stream: json::Stream,
}

#[derive(Serialize)]
struct Clients {
    clients: Vec<json::Client>,
}

#[derive(Serialize)]
struct OneClient {
    client: json::Client,
}

#[derive(Serialize)]
struct Vhosts {
    vhosts: Vec<json::Vhost>,
}

/// `/api/v1/processes` (not in SRS, which lists no ffmpeg): every
/// supervised ffmpeg, ingest and transcode.
#[derive(Serialize)]
struct Processes {
    processes: Vec<crate::ffmpeg::ProcessStatus>,
}

#[derive(Serialize)]
struct OneVhost {
    vhost: json::Vhost,
}

#[derive(Serialize)]
struct Empty {}

/// How an answer is written: plain JSON, or JSONP into `callback`.
struct Writer {
    callback: Option<String>,
}

impl Writer {
    fn send<T: Serialize>(&self, status: StatusCode, value: &T) -> Reply {
        let Some(callback) = &self.callback else {
            return reply::json(status, value);
        };
        match serde_json::to_string(value) {
            Ok(text) => reply::full(status, "text/javascript", format!("{callback}({text})")),
            Err(_) => reply::status(StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    fn ok<T: Serialize>(&self, body: T) -> Reply {
        let pid = std::process::id();
        self.send(
            StatusCode::OK,
            &Envelope {
                code: ERROR_SUCCESS,
                server: crate::server_id(),
                service: crate::service_id(),
                pid: pid.to_string(),
                body,
            },
        )
    }

    fn error(&self, status: StatusCode, code: i32) -> Reply {
        self.send(status, &Code { code })
    }
}

/// SRS `ERROR_SYSTEM_CONFIG_INVALID`: the new config file has an error.
pub const ERROR_SYSTEM_CONFIG_INVALID: i32 = 1023;
/// SRS `ERROR_SYSTEM_CONFIG_RAW`: no such RPC.
pub const ERROR_SYSTEM_CONFIG_RAW: i32 = 1060;
/// SRS `ERROR_SYSTEM_CONFIG_RAW_DISABLED`: `raw_api` (or `allow_reload`) is off.
pub const ERROR_SYSTEM_CONFIG_RAW_DISABLED: i32 = 1061;

/// SRS's HTTP RPC `GET /api/v1/raw?rpc=reload` (`http_api { raw_api { } }`).
/// Unlike SRS, which answers before it reloads, the reload is done when the
/// answer comes, and a refused file's `file:line` reason is in it.
async fn raw(ctx: &std::sync::Arc<ServerCtx>, w: &Writer, query: &str) -> Reply {
    #[derive(Serialize)]
    struct Refused {
        code: i32,
        error: String,
    }
    #[derive(Serialize)]
    struct Reloaded {
        changes: Vec<String>,
        failures: Vec<String>,
    }
    let raw_api = ctx.config().http_api.raw_api;
    if !raw_api.enabled {
        return w.error(StatusCode::FORBIDDEN, ERROR_SYSTEM_CONFIG_RAW_DISABLED);
    }
    if query_param(query, "rpc") != Some("reload") {
        return w.error(StatusCode::BAD_REQUEST, ERROR_SYSTEM_CONFIG_RAW);
    }
    if !raw_api.allow_reload {
        return w.error(StatusCode::FORBIDDEN, ERROR_SYSTEM_CONFIG_RAW_DISABLED);
    }
    tracing::info!("reload requested by the HTTP API (rpc=reload)");
    match crate::reload::reload_file(ctx).await {
        Ok(report) => w.ok(Reloaded {
            changes: report.changes,
            failures: report.failures,
        }),
        Err(e) => {
            tracing::error!("rpc=reload refused, the running config stays: {e}");
            let status = match e {
                crate::reload::ReloadError::Busy | crate::reload::ReloadError::Quitting => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            w.send(
                status,
                &Refused {
                    code: ERROR_SYSTEM_CONFIG_INVALID,
                    error: e.to_string(),
                },
            )
        }
    }
}

/// A JSONP callback must be a plain JavaScript name path (`cb`, `a.b_c$1`):
/// anything else could inject script into the page that loads it.
fn valid_callback(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_CALLBACK_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.'))
}

/// `start` and `count` from the query, SRS's way.
fn window(query: &str) -> (usize, usize) {
    let number = |name| query_param(query, name).and_then(|v| v.parse::<usize>().ok());
    let start = number("start").unwrap_or(0);
    let count = number("count")
        .unwrap_or(0)
        .clamp(DEFAULT_LIST_COUNT, MAX_LIST_COUNT);
    (start, count)
}

fn page<T>(items: Vec<T>, (start, count): (usize, usize)) -> Vec<T> {
    items.into_iter().skip(start).take(count).collect()
}

/// The major, minor and revision numbers of `version` (`"1.2.3"`).
fn version_numbers(version: &str) -> [u32; 3] {
    let mut out = [0; 3];
    for (slot, part) in out.iter_mut().zip(version.split(['.', '-'])) {
        *slot = part.parse().unwrap_or(0);
    }
    out
}

/// The methods `path` answers (its `Allow`, and what a CORS preflight is
/// told), or `None` for a path the API does not serve. [`handle`] answers
/// exactly these: the tests hold the two together.
pub(crate) fn allowed_methods(path: &str, serve_root: bool) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] if serve_root => Some(READ_ONLY),
        ["api"] | ["api", "v1"] | ["api", "v1", "versions" | "summaries" | "clients"] => {
            Some(READ_ONLY)
        }
        ["api", "v1", "vhosts" | "streams"] | ["api", "v1", "vhosts" | "streams", _] => {
            Some(READ_ONLY)
        }
        ["api", "v1", "clients", _] => Some(READ_AND_DELETE),
        ["api", "v1", "raw"] => Some(READ_ONLY),
        ["api", "v1", "processes"] => Some(READ_ONLY),
        _ => None,
    }
}

/// Serves one API request. `serve_root` answers `/` (a listener dedicated to
/// the API); on a shared port `/` is the HTTP server's.
pub(crate) async fn handle(
    ctx: &std::sync::Arc<ServerCtx>,
    method: &Method,
    path: &str,
    query: &str,
    serve_root: bool,
) -> Reply {
    let callback = query_param(query, "callback").filter(|c| !c.is_empty());
    if let Some(cb) = callback {
        if !valid_callback(cb) {
            return reply::text(StatusCode::BAD_REQUEST, "invalid JSONP callback");
        }
    }
    let w = Writer {
        callback: callback.map(str::to_owned),
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let reading = *method == Method::GET || *method == Method::HEAD;
    let clock = json::Clock {
        now_ms: ctx.now_ms(),
        unix_ms: ctx.rt.unix_time_ms(),
    };
    match segments.as_slice() {
        [] if serve_root && reading => w.ok(Urls {
            urls: RootUrls { api: "the api root" },
        }),
        ["api"] if reading => w.ok(Urls {
            urls: ApiUrls {
                v1: "the api version 1.0",
            },
        }),
        ["api", "v1"] if reading => w.ok(Urls {
            urls: V1Urls {
                versions: "the version of the server",
                summaries: "the summary (pid, argv, cwd, cpu, mem) of the server",
                vhosts: "all vhosts or the specified vhost",
                streams: "all streams or the specified stream",
                clients: "all clients or the specified client (GET), kick it (DELETE); top 10 by default",
            },
        }),
        ["api", "v1", "versions"] if reading => {
            let [major, minor, revision] = version_numbers(crate::VERSION);
            w.ok(Data {
                data: Version {
                    major,
                    minor,
                    revision,
                    version: crate::VERSION,
                },
            })
        }
        ["api", "v1", "summaries"] if reading => w.ok(Data {
            data: system::summaries(ctx).await,
        }),
        ["api", "v1", "vhosts", rest @ ..] if reading => {
            let sources = ctx.hub.sources();
            let clients = ctx.hub.clients();
            let build = |v: &crate::vhost::VhostSettings| json::vhost(v, &sources, &clients, clock);
            match rest {
                [] => w.ok(Vhosts {
                    vhosts: ctx.vhosts().iter().map(|v| build(v)).collect(),
                }),
                [id] => match ctx.vhosts().iter().find(|v| v.name == *id) {
                    Some(v) => w.ok(OneVhost { vhost: build(v) }),
                    None => w.error(StatusCode::NOT_FOUND, ERROR_RTMP_VHOST_NOT_FOUND),
                },
                _ => reply::status(StatusCode::NOT_FOUND),
            }
        }
        ["api", "v1", "streams", rest @ ..] if reading => {
            let by_source = json::clients_by_source(&ctx.hub.clients());
            match rest {
                [] => {
                    let all = ctx.hub.sources();
                    let streams = page(all, window(query))
                        .iter()
                        .map(|s| {
                            json::stream(s, &by_source, clock)
                                .with_forwards(ctx.forwards.status(&s.key))
                                .with_edge(ctx.edges.status(&s.key))
                                .with_transcodes(ctx.processes.for_stream(&s.key, ctx.rt.now()))
                        })
                        .collect();
                    w.ok(Streams { streams })
                }
                [id] => match id.parse().ok().and_then(|id| ctx.hub.source_by_id(id)) {
                    Some(s) => w.ok(OneStream {
                        stream: json::stream(&s, &by_source, clock)
                            .with_forwards(ctx.forwards.status(&s.key))
                                .with_edge(ctx.edges.status(&s.key))
                                .with_transcodes(ctx.processes.for_stream(&s.key, ctx.rt.now())),
                    }),
                    None => w.error(StatusCode::NOT_FOUND, ERROR_RTMP_STREAM_NOT_FOUND),
                },
                _ => reply::status(StatusCode::NOT_FOUND),
            }
        }
        ["api", "v1", "clients"] if reading => {
            let clients = page(ctx.hub.clients(), window(query))
                .iter()
                .map(|c| json::client(c, clock))
                .collect();
            w.ok(Clients { clients })
        }
        ["api", "v1", "clients", id] if reading || *method == Method::DELETE => {
            match id.parse().ok().and_then(|id| ctx.hub.client(id)) {
                None => w.error(StatusCode::NOT_FOUND, ERROR_RTMP_CLIENT_NOT_FOUND),
                Some(c) if *method == Method::DELETE => {
                    tracing::warn!(cid = c.id, "kicked through the API");
                    ctx.hub.kick(c.id);
                    w.ok(Empty {})
                }
                Some(c) => w.ok(OneClient {
                    client: json::client(&c, clock),
                }),
            }
        }
        ["api", "v1", "raw"] if reading => raw(ctx, &w, query).await,
        ["api", "v1", "processes"] if reading => w.ok(Processes {
            processes: ctx.processes.list(ctx.rt.now()),
        }),
        _ => match allowed_methods(path, serve_root) {
            Some(allow) => reply::not_allowed(allow),
            None => reply::status(StatusCode::NOT_FOUND),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_and_windows() {
        assert!(valid_callback("cb"));
        assert!(valid_callback("jQuery_1.x$2"));
        assert!(!valid_callback("alert(1)//"));
        assert!(!valid_callback("a b"));
        assert!(!valid_callback(&"a".repeat(MAX_CALLBACK_LEN + 1)));
        assert_eq!(window(""), (0, 10));
        assert_eq!(window("start=5&count=3"), (5, 10));
        assert_eq!(window("count=50"), (0, 50));
        assert_eq!(window("count=99999999"), (0, MAX_LIST_COUNT));
        assert_eq!(window("start=-1"), (0, 10));
        assert_eq!(page(vec![1, 2, 3, 4], (1, 2)), vec![2, 3]);
        assert_eq!(version_numbers("1.22.333"), [1, 22, 333]);
        assert_eq!(version_numbers("0.1.0-beta"), [0, 1, 0]);
        assert_eq!(version_numbers("x"), [0, 0, 0]);
    }
}
