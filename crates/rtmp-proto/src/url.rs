//! `rtmp[s]://host[:port]/app[/more]/stream[?query]`: where a client
//! connection goes (a forward destination, an edge's origin, the
//! `rtmp-client` library's URL), and the `connect` tcUrl and `publish`/`play`
//! name it yields. Shared by every client in the workspace so they all split
//! app, stream and query the same way (as ffmpeg and SRS do: the query goes
//! with the stream name).

use std::fmt;

/// RTMP's registered port (RTMP spec 1.0, IANA).
pub const RTMP_DEFAULT_PORT: u16 = 1935;
/// The port of an `rtmps://` URL that names none: 443, as ffmpeg, OBS and
/// the platforms that take RTMPS (Facebook Live...) have it.
pub const RTMPS_DEFAULT_PORT: u16 = 443;
/// Longest URL taken: a hostile backend answer must not make us build
/// connect commands of any size.
pub const MAX_RTMP_URL_BYTES: usize = 4096;

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtmpUrlError {
    /// Neither `rtmp://` nor `rtmps://`.
    #[error("not an rtmp:// or rtmps:// URL")]
    Scheme,
    /// Longer than [`MAX_RTMP_URL_BYTES`].
    #[error("longer than {MAX_RTMP_URL_BYTES} bytes")]
    TooLong,
    /// No host.
    #[error("no host")]
    NoHost,
    /// The port is not 1..=65535.
    #[error("bad port")]
    Port,
    /// No `/app/stream` path.
    #[error("no /app/stream path")]
    NoStream,
    /// Control characters or spaces.
    #[error("control characters or spaces")]
    BadChar,
}

/// A parsed RTMP URL. The query goes with the stream name (where ffmpeg
/// and SRS put it, and where this server and SRS read `vhost=` from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtmpUrl {
    /// `rtmps://`: RTMP inside TLS, the server's certificate checked
    /// against [`host`](Self::host).
    pub tls: bool,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port ([`RTMP_DEFAULT_PORT`] when absent).
    pub port: u16,
    /// The app: every path segment but the last.
    pub app: String,
    /// The stream name: the last path segment.
    pub stream: String,
    /// The query without `?`, or empty.
    pub query: String,
}

impl RtmpUrl {
    /// Parses `rtmp://host[:port]/app/stream[?query]`.
    pub fn parse(text: &str) -> Result<Self, RtmpUrlError> {
        if text.len() > MAX_RTMP_URL_BYTES {
            return Err(RtmpUrlError::TooLong);
        }
        if text.chars().any(|c| c.is_control() || c == ' ') {
            return Err(RtmpUrlError::BadChar);
        }
        let scheme = |name: &str| {
            text.get(..name.len())
                .filter(|s| s.eq_ignore_ascii_case(name))
                .and_then(|_| text.get(name.len()..))
        };
        let (tls, rest) = match (scheme("rtmp://"), scheme("rtmps://")) {
            (Some(rest), _) => (false, rest),
            (None, Some(rest)) => (true, rest),
            (None, None) => return Err(RtmpUrlError::Scheme),
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = split_host_port(authority)?;
        if host.is_empty() {
            return Err(RtmpUrlError::NoHost);
        }
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let path = path.trim_matches('/');
        let (app, stream) = path.rsplit_once('/').ok_or(RtmpUrlError::NoStream)?;
        if app.is_empty() || stream.is_empty() {
            return Err(RtmpUrlError::NoStream);
        }
        let default_port = if tls {
            RTMPS_DEFAULT_PORT
        } else {
            RTMP_DEFAULT_PORT
        };
        Ok(Self {
            tls,
            host: host.to_owned(),
            port: port.unwrap_or(default_port),
            app: app.to_owned(),
            stream: stream.to_owned(),
            query: query.to_owned(),
        })
    }

    /// `host:port`, IPv6 in brackets.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// `rtmps` or `rtmp`.
    pub fn scheme(&self) -> &'static str {
        if self.tls {
            "rtmps"
        } else {
            "rtmp"
        }
    }

    /// The tcUrl sent in `connect`: `rtmp[s]://host:port/app`.
    pub fn tc_url(&self) -> String {
        format!("{}://{}/{}", self.scheme(), self.authority(), self.app)
    }

    /// The tcUrl with the URL's query: `rtmp://host:port/app?query`, the
    /// form SRS's own tools send (`?vhost=...` on the tcUrl, read by SRS
    /// like a query on the stream name). Plain [`tc_url`](Self::tc_url)
    /// without a query.
    pub fn tc_url_with_query(&self) -> String {
        if self.query.is_empty() {
            self.tc_url()
        } else {
            format!("{}?{}", self.tc_url(), self.query)
        }
    }

    /// The name sent in `publish` or `play`: the stream and its query.
    pub fn stream_with_query(&self) -> String {
        if self.query.is_empty() {
            self.stream.clone()
        } else {
            format!("{}?{}", self.stream, self.query)
        }
    }

    /// The URL without its query (which may hold secrets), for logs and the API.
    pub fn redacted(&self) -> String {
        format!(
            "{}://{}/{}/{}",
            self.scheme(),
            self.authority(),
            self.app,
            self.stream
        )
    }
}

impl fmt::Display for RtmpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.tc_url())?;
        write!(f, "/{}", self.stream_with_query())
    }
}

/// Splits `host`, `host:port`, `[v6]`, `[v6]:port` (user info refused).
pub fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), RtmpUrlError> {
    if authority.contains('@') {
        // No user info: nothing here would use it.
        return Err(RtmpUrlError::NoHost);
    }
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, tail) = rest.split_once(']').ok_or(RtmpUrlError::NoHost)?;
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(port(p)?),
            None if tail.is_empty() => None,
            None => return Err(RtmpUrlError::Port),
        };
        return Ok((host, port));
    }
    match authority.split_once(':') {
        Some((host, p)) => Ok((host, Some(port(p)?))),
        None => Ok((authority, None)),
    }
}

fn port(text: &str) -> Result<u16, RtmpUrlError> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(RtmpUrlError::Port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_encoders_and_srs_write() {
        let u = RtmpUrl::parse("rtmp://127.0.0.1:19350/live/cam?vhost=v&token=x").unwrap();
        assert_eq!(u.authority(), "127.0.0.1:19350");
        assert_eq!(u.app, "live");
        assert_eq!(u.stream, "cam");
        assert_eq!(u.tc_url(), "rtmp://127.0.0.1:19350/live");
        assert_eq!(u.stream_with_query(), "cam?vhost=v&token=x");
        assert_eq!(u.redacted(), "rtmp://127.0.0.1:19350/live/cam");
        assert_eq!(
            u.tc_url_with_query(),
            "rtmp://127.0.0.1:19350/live?vhost=v&token=x"
        );
        let u = RtmpUrl::parse("RTMP://[::1]/a/b/c").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 1935));
        assert_eq!((u.app.as_str(), u.stream.as_str()), ("a/b", "c"));
        assert_eq!(u.tc_url(), "rtmp://[::1]:1935/a/b");
        assert!(!u.tls);
    }

    #[test]
    fn rtmps_urls_default_to_port_443() {
        let u = RtmpUrl::parse("rtmps://live-api-s.facebook.com/rtmp/KEY?s=1").unwrap();
        assert!(u.tls);
        assert_eq!(u.port, RTMPS_DEFAULT_PORT);
        assert_eq!(u.tc_url(), "rtmps://live-api-s.facebook.com:443/rtmp");
        assert_eq!(u.redacted(), "rtmps://live-api-s.facebook.com:443/rtmp/KEY");
        let u = RtmpUrl::parse("RTMPS://127.0.0.1:1443/live/s").unwrap();
        assert_eq!((u.tls, u.port), (true, 1443));
        assert_eq!(u.to_string(), "rtmps://127.0.0.1:1443/live/s");
    }

    #[test]
    fn refuses_what_it_cannot_connect_to() {
        for (text, err) in [
            ("http://h/a/b", RtmpUrlError::Scheme),
            ("rtmpt://h/a/b", RtmpUrlError::Scheme),
            ("rtmp:/", RtmpUrlError::Scheme),
            ("rtmp:///a/b", RtmpUrlError::NoHost),
            ("rtmp://u:p@h/a/b", RtmpUrlError::NoHost),
            ("rtmp://h:0/a/b", RtmpUrlError::Port),
            ("rtmp://h:99999/a/b", RtmpUrlError::Port),
            ("rtmp://h:+1/a/b", RtmpUrlError::Port),
            ("rtmp://[::1]x/a/b", RtmpUrlError::Port),
            ("rtmp://h/a", RtmpUrlError::NoStream),
            ("rtmp://h", RtmpUrlError::NoStream),
            ("rtmp://h//b", RtmpUrlError::NoStream),
            ("rtmp://h/a/b c", RtmpUrlError::BadChar),
            ("rtmp://h/a/b\r\n", RtmpUrlError::BadChar),
        ] {
            assert_eq!(RtmpUrl::parse(text), Err(err), "{text}");
        }
        let long = format!("rtmp://h/a/{}", "x".repeat(MAX_RTMP_URL_BYTES));
        assert_eq!(RtmpUrl::parse(&long), Err(RtmpUrlError::TooLong));
    }
}
