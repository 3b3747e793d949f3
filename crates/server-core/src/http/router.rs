//! One request to its handler: request limits, API or HTTP server, CORS and
//! the headers every response carries.

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Limited};
use hyper::body::Body;
use hyper::header::{self, HeaderMap};
use hyper::http::request::Parts;
use hyper::{Method, Request, StatusCode};
use tracing::debug;

use super::auth;
use super::console;
use super::files::{self, Lookup};
use super::flv::{self, FlvRequest};
use super::path::{PathError, UrlPath};
use super::reply::{self, Cors, Reply};
use super::{api, hls_live, index, metrics, vod, HttpOptions, Role, MAX_REQUEST_BODY};
use crate::context::ServerCtx;
use crate::runtime::timeout;

/// The host part of a `Host` header value (`[::1]:8080` → `::1`, `a.b:80` → `a.b`).
pub(crate) fn hostname(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// The request's `Host` (absolute-form URI first, then the header), port included.
fn host_of(parts: &Parts) -> Option<String> {
    if let Some(authority) = parts.uri.authority() {
        return Some(
            authority
                .as_str()
                .rsplit('@')
                .next()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Reads and discards a request body within the limits; `Err` is the status
/// that refuses it.
async fn discard_body<B>(
    ctx: &ServerCtx,
    parts: &Parts,
    body: B,
    options: &HttpOptions,
) -> Result<(), StatusCode>
where
    B: Body + Send,
    B::Data: Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    if content_length(&parts.headers).is_some_and(|len| len > MAX_REQUEST_BODY as u64) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    if body.is_end_stream() {
        return Ok(());
    }
    let read = Limited::new(body, MAX_REQUEST_BODY).collect();
    match timeout(&*ctx.rt, options.body_read_timeout, read).await {
        None => Err(StatusCode::REQUEST_TIMEOUT),
        Some(Err(_)) => Err(StatusCode::PAYLOAD_TOO_LARGE),
        Some(Ok(_)) => Ok(()),
    }
}

/// What the HTTP server (files, HLS, HTTP-FLV) answers, on every path.
const SERVER_METHODS: &str = "GET, HEAD, OPTIONS";

/// The CORS headers a response gets: the HTTP server's `crossdomain` allows
/// any origin (players load HLS from any page); the API's may be narrowed to
/// the `allow_origins` list, echoing a listed caller's `Origin`.
fn cors_for(ctx: &ServerCtx, is_api: bool, headers: &HeaderMap) -> Cors {
    if !is_api {
        return if ctx.http().crossdomain {
            Cors::any()
        } else {
            Cors::off()
        };
    }
    let config = ctx.config();
    let api = &config.http_api;
    if !api.crossdomain {
        Cors::off()
    } else if api.allow_origins.is_empty() {
        Cors::any()
    } else {
        Cors::listed(&api.allow_origins, headers.get(header::ORIGIN))
    }
}

/// True when the API needs no credentials or the request has them. CORS
/// preflights are answered before this: browsers send them without.
fn api_allowed(ctx: &ServerCtx, headers: &HeaderMap) -> bool {
    match &ctx.config().http_api.auth {
        None => true,
        Some(credentials) => auth::allows(credentials, headers),
    }
}

/// Serves one request.
pub(crate) async fn handle<B>(
    ctx: &Arc<ServerCtx>,
    req: Request<B>,
    peer: SocketAddr,
    role: Role,
    options: &HttpOptions,
) -> Reply
where
    B: Body + Send,
    B::Data: Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let is_api = match role {
        Role::Api => true,
        Role::Server => false,
        Role::Both => path == "/api" || path.starts_with("/api/"),
        Role::Exporter => false,
    };
    let cors = cors_for(ctx, is_api, &parts.headers);
    debug!(method = %parts.method, uri = %parts.uri, "request");
    let mut resp = match discard_body(ctx, &parts, body, options).await {
        Err(status) => {
            // The rest of the body was not read: the connection can't go on.
            let mut resp = reply::status(status);
            reply::close(&mut resp);
            resp
        }
        Ok(()) if role == Role::Exporter => metrics::serve(ctx, &parts).await,
        Ok(()) if parts.method == Method::OPTIONS => {
            let allow = if is_api {
                api::allowed_methods(path, role == Role::Api)
            } else {
                Some(SERVER_METHODS)
            };
            match allow {
                Some(allow) => reply::preflight(&cors, allow),
                None => reply::status(StatusCode::NOT_FOUND),
            }
        }
        Ok(()) if is_api && !api_allowed(ctx, &parts.headers) => {
            debug!(%peer, uri = %parts.uri, "API request without valid credentials");
            auth::challenge()
        }
        Ok(()) if is_api => {
            api::handle(
                ctx,
                &parts.method,
                path,
                parts.uri.query().unwrap_or(""),
                role == Role::Api,
            )
            .await
        }
        Ok(()) => serve_http(ctx, &parts, peer).await,
    };
    if parts.method == Method::HEAD {
        reply::strip_body(&mut resp);
    }
    reply::finish(&mut resp, &*ctx.rt, &cors);
    resp
}

/// The HTTP server: HTTP-FLV mounts, files, the built-in index.
async fn serve_http(ctx: &Arc<ServerCtx>, parts: &Parts, peer: SocketAddr) -> Reply {
    let head = parts.method == Method::HEAD;
    if parts.method != Method::GET && !head {
        return reply::not_allowed(SERVER_METHODS);
    }
    if console::owns(ctx, parts.uri.path()) {
        let (path, query) = (parts.uri.path(), parts.uri.query().unwrap_or(""));
        return console::serve(ctx, path, query, host_of(parts).as_deref(), &parts.headers).await;
    }
    let path = match UrlPath::parse(parts.uri.path()) {
        Ok(p) => p,
        Err(e @ PathError::Traversal) => {
            debug!(%peer, uri = %parts.uri, "refused: {e}");
            return reply::text(StatusCode::FORBIDDEN, "path traversal refused");
        }
        Err(e) => return reply::text(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let host = host_of(parts);
    let name = host.as_deref().map(hostname);
    if vod::owns(ctx, &path, name) {
        return vod::serve(ctx, &path, name).await;
    }
    if path.extension() == "flv" {
        let name = host.as_deref().map(hostname);
        if let Some((vhost, key)) = flv::match_mount(&ctx.vhosts(), name, &path.to_path_string()) {
            // A live (or waiting) stream wins; otherwise an FLV file on disk
            // with that name; otherwise subscribe and wait for the publisher.
            let live = ctx.hub.find(&key).is_some();
            if !live {
                if let Lookup::Found(reader, ext) = files::lookup(ctx, &path).await {
                    return files::found(reader, &ext, &parts.headers);
                }
            }
            if head {
                return flv::head();
            }
            let agent = parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let url = format!(
                "http://{}{}",
                host.as_deref().unwrap_or_default(),
                parts.uri.path_and_query().map_or("/", |p| p.as_str())
            );
            let referer = parts
                .headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let query = parts
                .uri
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            let request = FlvRequest {
                peer,
                url,
                agent,
                referer,
                query,
            };
            return flv::play(ctx, vhost, key, request).await;
        }
    }
    let query = parts.uri.query().unwrap_or("");
    if let Some(resp) = hls_live::serve(ctx, &path, query, &parts.headers).await {
        return resp;
    }
    match files::lookup(ctx, &path).await {
        Lookup::Found(reader, ext) => files::found(reader, &ext, &parts.headers),
        Lookup::Failed(e) => files::failed(&e),
        Lookup::Missing if path.segments.is_empty() => index::page(ctx, host.as_deref()),
        Lookup::Missing => reply::status(StatusCode::NOT_FOUND),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        assert_eq!(hostname("example.com:8080"), "example.com");
        assert_eq!(hostname("example.com"), "example.com");
        assert_eq!(hostname("[::1]:8080"), "::1");
        assert_eq!(hostname("[::1]"), "::1");
        assert_eq!(hostname("a:b"), "a:b");
    }
}
