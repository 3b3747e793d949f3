//! The small subset of URLs the load tool takes: `rtmp://` and `http://`
//! with a host, an optional port and a path (RFC 3986 3, without user info
//! or fragments). TLS (`rtmps`, `https`) is deliberately not supported: the
//! tool measures servers on loopback, where encryption would only measure
//! the client.

use std::fmt;

/// Default RTMP port (RTMP spec 1.0, IANA registration).
pub const RTMP_DEFAULT_PORT: u16 = 1935;
/// Default HTTP port (RFC 9110 4.2.1).
pub const HTTP_DEFAULT_PORT: u16 = 80;

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not `rtmp://` or `http://`.
    #[error("unsupported scheme in {0:?}: use rtmp:// or http://")]
    Scheme(String),
    /// No host between `//` and the path.
    #[error("no host in {0:?}")]
    NoHost(String),
    /// The port is not a number in 1..=65535.
    #[error("bad port in {0:?}")]
    Port(String),
    /// An RTMP URL needs `/app/stream`.
    #[error("an RTMP URL needs /app/stream: {0:?}")]
    NoStream(String),
}

/// URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `rtmp://`.
    Rtmp,
    /// `http://`.
    Http,
}

/// A parsed `scheme://host[:port]/path[?query]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Scheme.
    pub scheme: Scheme,
    /// Host name or address; IPv6 addresses keep their brackets.
    pub host: String,
    /// Port (the scheme's default when absent).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Target {
    /// Parses `url`.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("rtmp://") {
            (Scheme::Rtmp, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else {
            return Err(UrlError::Scheme(url.to_owned()));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let (host, port) = split_host_port(authority).ok_or(UrlError::Port(url.to_owned()))?;
        if host.is_empty() {
            return Err(UrlError::NoHost(url.to_owned()));
        }
        let port = match port {
            Some(p) => p,
            None if scheme == Scheme::Rtmp => RTMP_DEFAULT_PORT,
            None => HTTP_DEFAULT_PORT,
        };
        // A fragment is never sent to a server (RFC 3986 3.5).
        let path = path.split('#').next().unwrap_or("/");
        Ok(Self {
            scheme,
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    /// `host:port`, for the HTTP `Host` header and for resolving.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Splits an RTMP path into the application (everything before the last
    /// `/`, as `connect` wants it) and the stream name (after it, query kept:
    /// servers read `?vhost=` and tokens from it).
    pub fn app_and_stream(&self) -> Result<(String, String), UrlError> {
        let path = self.path.trim_start_matches('/');
        // The query belongs to the stream, so split before it.
        let query_at = path.find('?').unwrap_or(path.len());
        let (before_query, query) = path.split_at(query_at);
        let (app, stream) = before_query
            .rsplit_once('/')
            .ok_or_else(|| UrlError::NoStream(self.to_string()))?;
        if app.is_empty() || stream.is_empty() {
            return Err(UrlError::NoStream(self.to_string()));
        }
        Ok((app.to_owned(), format!("{stream}{query}")))
    }

    /// The `tcUrl` of `connect` for application `app`: `rtmp://host:port/app`.
    pub fn tc_url(&self, app: &str) -> String {
        format!("rtmp://{}:{}/{}", self.host, self.port, app)
    }

    /// This HTTP URL for stream `STREAM{suffix}`: the suffix goes into the
    /// last path segment before its extension, so `/live/s.flv?k=1` with
    /// `_3` is `/live/s_3.flv?k=1`, the HTTP-FLV address of the RTMP stream
    /// [`with_suffix`]`("s", "_3")`.
    pub fn with_stream_suffix(&self, suffix: &str) -> Self {
        let (path, query) = self
            .path
            .split_at(self.path.find('?').unwrap_or(self.path.len()));
        let segment = path.rfind('/').map_or(0, |i| i + 1);
        let stem_end = path[segment..]
            .rfind('.')
            .map_or(path.len(), |i| segment + i);
        let (stem, extension) = path.split_at(stem_end);
        Self {
            path: format!("{stem}{suffix}{extension}{query}"),
            ..self.clone()
        }
    }

    /// Resolves a playlist entry against this URL (RFC 3986 5.2, reduced to
    /// the three forms HLS servers write: absolute `http://`, host-absolute
    /// `/path`, and relative to the playlist's directory).
    pub fn join(&self, reference: &str) -> Result<Self, UrlError> {
        if reference.contains("://") {
            return Self::parse(reference);
        }
        let path = if reference.starts_with('/') {
            reference.to_owned()
        } else {
            let base = self.path.split('?').next().unwrap_or("/");
            let dir = base.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            format!("{dir}/{reference}")
        };
        Ok(Self {
            path,
            ..self.clone()
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Rtmp => "rtmp",
            Scheme::Http => "http",
        };
        write!(f, "{scheme}://{}:{}{}", self.host, self.port, self.path)
    }
}

/// The RTMP stream name `name` (query string included) with `suffix`
/// appended to the name, before the query: servers read `?vhost=` and
/// tokens from the query, so it must stay last.
pub fn with_suffix(name: &str, suffix: &str) -> String {
    match name.split_once('?') {
        Some((name, query)) => format!("{name}{suffix}?{query}"),
        None => format!("{name}{suffix}"),
    }
}

/// `host[:port]` or `[v6][:port]`; `None` when the port is not a number.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => {
                let (host, rest) = authority.split_at(end + 1);
                (host, rest.strip_prefix(':'))
            }
            None => (authority, None),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    match port {
        None => Some((host, None)),
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => None,
            Ok(p) => Some((host, Some(p))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtmp_url_with_default_port() {
        let t = Target::parse("rtmp://localhost/live/livestream").unwrap();
        assert_eq!(t.scheme, Scheme::Rtmp);
        assert_eq!(t.host, "localhost");
        assert_eq!(t.port, 1935);
        let (app, stream) = t.app_and_stream().unwrap();
        assert_eq!((app.as_str(), stream.as_str()), ("live", "livestream"));
        assert_eq!(t.tc_url(&app), "rtmp://localhost:1935/live");
    }

    #[test]
    fn rtmp_url_with_nested_app_and_query() {
        let t = Target::parse("rtmp://127.0.0.1:19350/a/b/s?vhost=v&k=1").unwrap();
        assert_eq!(t.port, 19350);
        let (app, stream) = t.app_and_stream().unwrap();
        assert_eq!(app, "a/b");
        assert_eq!(stream, "s?vhost=v&k=1");
    }

    #[test]
    fn rtmp_url_without_stream_is_refused() {
        let t = Target::parse("rtmp://h/live").unwrap();
        assert!(matches!(t.app_and_stream(), Err(UrlError::NoStream(_))));
    }

    #[test]
    fn bad_urls() {
        assert!(matches!(
            Target::parse("https://h/x"),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            Target::parse("http://h:0/x"),
            Err(UrlError::Port(_))
        ));
        assert!(matches!(
            Target::parse("http://h:99999/x"),
            Err(UrlError::Port(_))
        ));
        assert!(matches!(
            Target::parse("http://:80/x"),
            Err(UrlError::NoHost(_))
        ));
    }

    #[test]
    fn ipv6_host() {
        let t = Target::parse("http://[::1]:8080/live/s.flv").unwrap();
        assert_eq!(t.host, "[::1]");
        assert_eq!(t.port, 8080);
        assert_eq!(t.path, "/live/s.flv");
    }

    #[test]
    fn stream_suffixes_go_before_extension_and_query() {
        let flv = |url: &str| {
            Target::parse(url)
                .unwrap()
                .with_stream_suffix("_3")
                .to_string()
        };
        assert_eq!(flv("http://h/live/s.flv"), "http://h:80/live/s_3.flv");
        assert_eq!(
            flv("http://h:8080/a.b/s.flv?k=1.2"),
            "http://h:8080/a.b/s_3.flv?k=1.2"
        );
        assert_eq!(flv("http://h/live/s"), "http://h:80/live/s_3");
        assert_eq!(with_suffix("s", "_3"), "s_3");
        assert_eq!(with_suffix("s?k=1", "_3"), "s_3?k=1");
        assert_eq!(with_suffix("s?k=1", ""), "s?k=1");
    }

    #[test]
    fn join_forms() {
        let t = Target::parse("http://h:8080/live/s.m3u8?token=1").unwrap();
        assert_eq!(t.join("s-1.ts").unwrap().path, "/live/s-1.ts");
        assert_eq!(t.join("/other/x.ts").unwrap().path, "/other/x.ts");
        let abs = t.join("http://o:81/y.ts").unwrap();
        assert_eq!((abs.host.as_str(), abs.port), ("o", 81));
    }
}
