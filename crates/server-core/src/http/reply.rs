//! Building responses: status, content type and the headers every response carries.

use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use serde::Serialize;

use super::body::ResponseBody;
use crate::runtime::Runtime;

/// What handlers return.
pub(crate) type Reply = Response<ResponseBody>;

/// The `Server` header.
const SERVER: &str = concat!("rtmp-server/", env!("CARGO_PKG_VERSION"));

/// What a response tells browsers about cross-origin callers (CORS, Fetch
/// standard): which origin may read it, and whether that depends on `Origin`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cors {
    /// The `Access-Control-Allow-Origin` value (`*`, or the caller's own
    /// origin when it is listed); none: cross-origin pages may not read it.
    pub(crate) allow_origin: Option<HeaderValue>,
    /// The answer depends on the request's `Origin` (`Vary: Origin`, so a
    /// cache never hands one origin's answer to another).
    pub(crate) vary_origin: bool,
}

impl Cors {
    /// `Access-Control-Allow-Origin: *` (SRS `crossdomain on`).
    pub(crate) fn any() -> Self {
        Self {
            allow_origin: Some(HeaderValue::from_static("*")),
            vary_origin: false,
        }
    }

    /// No CORS headers (`crossdomain off`).
    pub(crate) fn off() -> Self {
        Self::default()
    }

    /// Only the listed origins: the caller's `origin` is echoed when listed.
    pub(crate) fn listed(allowed: &[String], origin: Option<&HeaderValue>) -> Self {
        let allow_origin = origin
            .filter(|o| {
                o.to_str()
                    .is_ok_and(|o| allowed.iter().any(|a| a.eq_ignore_ascii_case(o)))
            })
            .cloned();
        Self {
            allow_origin,
            vary_origin: true,
        }
    }
}

/// A response with a complete body of `content_type`.
pub(crate) fn full(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Reply {
    let mut resp = Response::new(ResponseBody::full(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A plain-text response (errors, mostly).
pub(crate) fn text(status: StatusCode, message: &str) -> Reply {
    full(
        status,
        "text/plain; charset=utf-8",
        Bytes::from(format!("{message}\n")),
    )
}

/// `status` with its canonical reason as the body.
pub(crate) fn status(status: StatusCode) -> Reply {
    text(status, status.canonical_reason().unwrap_or("error"))
}

/// A JSON response.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Reply {
    match serde_json::to_vec(value) {
        Ok(body) => full(status, "application/json", body),
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "json encoding failed"),
    }
}

/// Drops the body of a response to a `HEAD` request, keeping its length.
pub(crate) fn strip_body(resp: &mut Reply) {
    let len = match resp.body_mut() {
        ResponseBody::Full(data) => data.as_ref().map_or(0, |d| d.len() as u64),
        ResponseBody::Shared(pieces) => bytes::Buf::remaining(pieces) as u64,
        ResponseBody::File(file) => file.remaining(),
        ResponseBody::Flv(_) => return,
    };
    *resp.body_mut() = ResponseBody::empty();
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
}

/// Asks the client to close the connection after this response.
pub(crate) fn close(resp: &mut Reply) {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
}

/// The answer to `OPTIONS`: the methods the path really answers (`allow`, as
/// in `Allow`), and to a CORS preflight from an allowed origin the same
/// methods as `Access-Control-Allow-Methods`.
pub(crate) fn preflight(cors: &Cors, allow: &'static str) -> Reply {
    let mut resp = Response::new(ResponseBody::empty());
    *resp.status_mut() = if cors.allow_origin.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NO_CONTENT
    };
    let headers = resp.headers_mut();
    headers.insert(header::ALLOW, HeaderValue::from_static(allow));
    if cors.allow_origin.is_some() {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(allow),
        );
        // `*` does not cover `Authorization` (Fetch standard): a web console
        // sending API credentials needs it named.
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("*, Authorization"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
    }
    resp
}

/// `405 Method Not Allowed` with the `Allow` header RFC 9110 15.5.6 requires.
pub(crate) fn not_allowed(allow: &'static str) -> Reply {
    let mut resp = status(StatusCode::METHOD_NOT_ALLOWED);
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

/// Adds `Server`, `Date` (from the runtime's wall clock) and the CORS
/// headers `cors` calls for.
pub(crate) fn finish(resp: &mut Reply, rt: &dyn Runtime, cors: &Cors) {
    let headers = resp.headers_mut();
    headers.insert(header::SERVER, HeaderValue::from_static(SERVER));
    if let Some(now) = UNIX_EPOCH.checked_add(Duration::from_millis(rt.unix_time_ms())) {
        if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(now)) {
            headers.insert(header::DATE, date);
        }
    }
    if let Some(origin) = &cors.allow_origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
    if cors.vary_origin {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}
