//! Stream addressing: vhost, app and stream name, the way SRS resolves them.
//!
//! RTMP splits the address in two: `connect` carries the tcUrl
//! (`rtmp://host[:port]/app[?query]`), `publish`/`play` carry the stream name
//! (`name[?query]`). The vhost is the tcUrl host unless a `vhost=` query parameter
//! (on either part) names one. Query strings are kept verbatim for hooks and auth.

use std::fmt;

/// The identity of a stream in the hub: what two clients must agree on to meet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    /// Virtual host (resolved against the config; `__defaultVhost__` when unknown).
    pub vhost: String,
    /// Application, e.g. `live` (may contain `/`).
    pub app: String,
    /// Stream name without its query string.
    pub stream: String,
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.vhost, self.app, self.stream)
    }
}

/// Longest app or stream name accepted, in bytes.
pub const MAX_NAME_BYTES: usize = 1024;

/// Why an app or stream name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing to name a stream by.
    #[error("empty {0} name")]
    Empty(&'static str),
    /// Longer than [`MAX_NAME_BYTES`].
    #[error("{0} name longer than {MAX_NAME_BYTES} bytes")]
    TooLong(&'static str),
    /// A leading, trailing or doubled `/`, or a `.` or `..` segment.
    #[error("{0} name has an empty, `.` or `..` path segment")]
    BadSegment(&'static str),
    /// A control character or a backslash.
    #[error("{0} name has a control character or backslash")]
    BadChar(&'static str),
}

impl StreamKey {
    /// Checks that app and stream can safely name files (done when a stream
    /// is published: see `Hub::publish`).
    ///
    /// Both come from the client, and HLS (later DVR) turns them into paths
    /// below their root directory through templates such as
    /// `[app]/[stream].m3u8`: a `..` segment or a leading `/` would write
    /// outside it. `/` between segments stays allowed (`live/cam/1` is a
    /// real layout); anything a file system or a log line could misread is
    /// refused.
    pub fn check_names(&self) -> Result<(), NameError> {
        check_name("app", &self.app)?;
        check_name("stream", &self.stream)
    }
}

fn check_name(what: &'static str, name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty(what));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong(what));
    }
    if name.chars().any(|c| c.is_control() || c == '\\') {
        return Err(NameError::BadChar(what));
    }
    if name.split('/').any(|seg| matches!(seg, "" | "." | "..")) {
        return Err(NameError::BadSegment(what));
    }
    Ok(())
}

/// What a tcUrl says: host, port, app and its query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TcUrl {
    /// Scheme, e.g. `rtmp`.
    pub schema: String,
    /// Host as written (may be an IP address).
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
    /// Application path without leading or trailing `/` and without the query.
    pub app: String,
    /// The query string after `?`, without the `?`.
    pub query: String,
}

impl TcUrl {
    /// Parses a tcUrl leniently: encoders send all kinds (missing scheme, trailing
    /// slashes, SRS's `app...vhost...name` form is not supported). Never fails:
    /// what can't be read stays empty.
    pub fn parse(tc_url: &str) -> Self {
        let (schema, rest) = match tc_url.split_once("://") {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None => (String::new(), tc_url),
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = split_host_port(authority);
        let (app, query) = split_query(path);
        Self {
            schema,
            host,
            port,
            app: app.trim_matches('/').to_string(),
            query: query.to_string(),
        }
    }
}

fn split_host_port(authority: &str) -> (String, Option<u16>) {
    // Strip userinfo, then handle [v6]:port, host:port, bare host.
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(rest) = authority.strip_prefix('[') {
        if let Some((h, tail)) = rest.split_once(']') {
            let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
            return (h.to_string(), port);
        }
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_string(), p.parse().ok()),
        _ => (authority.to_string(), None),
    }
}

/// Splits `text` at the first `?` into (path, query).
pub fn split_query(text: &str) -> (&str, &str) {
    text.split_once('?').unwrap_or((text, ""))
}

/// Looks up `name` in a `k=v&k2=v2` query string (also accepting `,` as SRS does).
pub fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split(['&', ','])
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A full request address: the stream key plus everything hooks may want.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRequest {
    /// The resolved key (vhost as requested; config fallback happens later).
    pub key: StreamKey,
    /// The tcUrl as sent.
    pub tc_url: String,
    /// The stream name as sent, with its query.
    pub stream_with_query: String,
    /// Query parameters of the tcUrl and the stream name, joined with `&`.
    pub param: String,
}

impl StreamRequest {
    /// Resolves a stream request from the connect tcUrl and the publish/play name.
    pub fn new(tc_url: &str, stream_name: &str) -> Self {
        let tc = TcUrl::parse(tc_url);
        let (stream, stream_query) = split_query(stream_name);
        let vhost = query_param(stream_query, "vhost")
            .or_else(|| query_param(&tc.query, "vhost"))
            .or_else(|| query_param(stream_query, "domain"))
            .unwrap_or(&tc.host)
            .to_string();
        let param = match (tc.query.is_empty(), stream_query.is_empty()) {
            (true, true) => String::new(),
            (false, true) => tc.query.clone(),
            (true, false) => stream_query.to_string(),
            (false, false) => format!("{}&{}", tc.query, stream_query),
        };
        Self {
            key: StreamKey {
                vhost,
                app: tc.app,
                stream: stream.to_string(),
            },
            tc_url: tc_url.to_string(),
            stream_with_query: stream_name.to_string(),
            param,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_vhost_app_stream_and_keeps_queries() {
        let r = StreamRequest::new(
            "rtmp://127.0.0.1:1935/live?vhost=v.example",
            "cam?token=abc",
        );
        assert_eq!(r.key.vhost, "v.example");
        assert_eq!(r.key.app, "live");
        assert_eq!(r.key.stream, "cam");
        assert_eq!(r.param, "vhost=v.example&token=abc");

        let r = StreamRequest::new("rtmp://host.example/live/sub/", "s?vhost=other");
        assert_eq!(r.key.vhost, "other");
        assert_eq!(r.key.app, "live/sub");

        let tc = TcUrl::parse("rtmp://[::1]:19350/app");
        assert_eq!((tc.host.as_str(), tc.port), ("::1", Some(19350)));
        let tc = TcUrl::parse("garbage");
        assert_eq!(tc.host, "garbage");
        assert_eq!(tc.app, "");
    }

    fn names(app: &str, stream: &str) -> Result<(), NameError> {
        StreamRequest::new(&format!("rtmp://h/{app}"), stream)
            .key
            .check_names()
    }

    #[test]
    fn names_that_could_leave_a_directory_are_refused() {
        for (app, stream) in [
            ("live", "livestream"),
            ("live/sub", "cam/1"),
            ("live", "cam 1"),
            ("live", "a..b"),
            ("live", ".hidden"),
            ("live", "直播"),
            ("live", "s?token=../../x"),
        ] {
            assert_eq!(names(app, stream), Ok(()), "{app} {stream}");
        }
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        for (app, stream, err) in [
            ("live", "", NameError::Empty("stream")),
            ("", "s", NameError::Empty("app")),
            ("live", "..", NameError::BadSegment("stream")),
            ("live", "../../etc/x", NameError::BadSegment("stream")),
            ("live", "a/../../b", NameError::BadSegment("stream")),
            ("live", "/etc/x", NameError::BadSegment("stream")),
            ("live", "x/", NameError::BadSegment("stream")),
            ("live", "a//b", NameError::BadSegment("stream")),
            ("live", "./x", NameError::BadSegment("stream")),
            ("../..", "s", NameError::BadSegment("app")),
            ("live/../..", "s", NameError::BadSegment("app")),
            ("live", "a\\..\\b", NameError::BadChar("stream")),
            ("live", "a\0b", NameError::BadChar("stream")),
            ("live", "a\nb", NameError::BadChar("stream")),
            ("live", &long, NameError::TooLong("stream")),
        ] {
            assert_eq!(names(app, stream), Err(err), "{app:?} {stream:?}");
        }
    }
}
