//! Hook URLs, checked when the config loads so that a typo is a `file:line`
//! error rather than a publish refused in the middle of the night, and the
//! `on_hls_notify` template.
//!
//! Only what a hook needs: `http` or `https`, a host (name, IPv4, or `[IPv6]`),
//! an optional port, a path and a query (RFC 3986 3.2 to 3.4). Anything a
//! request line cannot carry as it is (spaces, control characters, non-ASCII,
//! a stray `%`) is refused rather than guessed at; so are `user:password@`
//! (SRS sends no credentials either) and a `#fragment` (never sent).

use std::fmt;
use std::net::IpAddr;

/// Longest URL accepted, in bytes (config and rendered `on_hls_notify`).
pub const MAX_URL_BYTES: usize = 2048;

/// The variables SRS renders in an `on_hls_notify` template
/// (`SrsHttpHooks::on_hls_notify`); there is no `[vhost]`.
pub const NOTIFY_VARIABLES: [&str; 6] = [
    "server_id",
    "service_id",
    "app",
    "stream",
    "ts_url",
    "param",
];

/// A parsed `http://` or `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookUrl {
    /// `https`.
    pub tls: bool,
    /// Host name or IP address (an IPv6 address without its brackets).
    pub host: String,
    /// The port, 80 or 443 when the URL names none.
    pub port: u16,
    /// What the request line carries: the path (at least `/`) and the query.
    pub target: String,
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Longer than [`MAX_URL_BYTES`].
    #[error("longer than {MAX_URL_BYTES} bytes")]
    TooLong,
    /// Neither `http://` nor `https://`.
    #[error("not http:// or https://")]
    Scheme,
    /// `user:password@host`.
    #[error("user:password@ is not supported")]
    UserInfo,
    /// Empty host, or one with characters a host name cannot have.
    #[error("no valid host")]
    Host,
    /// A port that is not a number from 1 to 65535.
    #[error("port not from 1 to 65535")]
    Port,
    /// `#...`, which is never sent.
    #[error("a #fragment is never sent")]
    Fragment,
    /// A character that must be percent-encoded, or a `%` without two hex digits.
    #[error("'{0}' must be percent-encoded")]
    Character(char),
    /// An `on_hls_notify` variable SRS does not render.
    #[error("unknown variable '[{0}]' (known: [server_id] [service_id] [app] [stream] [ts_url] [param])")]
    Variable(String),
}

impl HookUrl {
    /// Parses and checks `text`.
    pub fn parse(text: &str) -> Result<Self, UrlError> {
        if text.len() > MAX_URL_BYTES {
            return Err(UrlError::TooLong);
        }
        let (tls, rest) = if let Some(rest) = strip_prefix_ignore_case(text, "http://") {
            (false, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(text, "https://") {
            (true, rest)
        } else {
            return Err(UrlError::Scheme);
        };
        if rest.contains('#') {
            return Err(UrlError::Fragment);
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(split);
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port) = split_authority(authority)?;
        check_target(target)?;
        let target = match target.as_bytes().first() {
            None => "/".to_owned(),
            Some(b'?') => format!("/{target}"),
            Some(_) => target.to_owned(),
        };
        Ok(Self {
            tls,
            host,
            port: port.unwrap_or(if tls { 443 } else { 80 }),
            target,
        })
    }

    /// The `Host` header (RFC 9110 7.2): the port only when it is not the
    /// scheme's own, an IPv6 address in brackets.
    pub fn host_header(&self) -> String {
        let host = self.bracketed_host();
        if self.port == if self.tls { 443 } else { 80 } {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The URL without its query, which may hold secrets: for logs and
    /// refusal reasons.
    pub fn redacted(&self) -> String {
        let path = self.target.split('?').next().unwrap_or_default();
        format!(
            "{}://{}{}",
            if self.tls { "https" } else { "http" },
            self.host_header(),
            path
        )
    }

    /// The host as the URL writes it.
    fn bracketed_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }
}

impl fmt::Display for HookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            if self.tls { "https" } else { "http" },
            self.host_header(),
            self.target
        )
    }
}

/// `text` without its query: how a URL that failed to parse is named in logs.
pub fn redact(text: &str) -> &str {
    text.split(['?', '#']).next().unwrap_or_default()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// `host[:port]` or `[v6][:port]`.
fn split_authority(authority: &str) -> Result<(String, Option<u16>), UrlError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or(UrlError::Host)?;
        let ip: std::net::Ipv6Addr = inside.parse().map_err(|_| UrlError::Host)?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(UrlError::Host)?),
        };
        (ip.to_string(), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let name_chars = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
        if host.is_empty()
            || !host.bytes().all(name_chars)
            || host.starts_with(['.', '-'])
            || host.contains("..")
        {
            return Err(UrlError::Host);
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            match p.parse::<u16>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(UrlError::Port),
            }
        }
        Some(_) => return Err(UrlError::Port),
    };
    Ok((host, port))
}

/// Path and query characters (RFC 3986 3.3, 3.4: `pchar`, `/`, `?`), with
/// every `%` starting an escape.
fn check_target(target: &str) -> Result<(), UrlError> {
    let bytes = target.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return Err(UrlError::Character('%'));
            }
            i += 3;
            continue;
        }
        if !is_target_char(b) {
            let c = target
                .get(i..)
                .and_then(|s| s.chars().next())
                .unwrap_or('?');
            return Err(UrlError::Character(c));
        }
        i += 1;
    }
    Ok(())
}

fn is_target_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
                | b'?'
        )
}

/// Percent-encodes what a URL cannot carry as it is (RFC 3986 2.1), keeping
/// what it can (`/`, `?`, `&`, `=`, existing `%XX` escapes...): for stream
/// names and queries put into an `on_hls_notify` URL.
pub fn encode_for_target(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    for (i, &b) in bytes.iter().enumerate() {
        let escape_start = b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if is_target_char(b) || escape_start {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The values of an `on_hls_notify` template's variables.
#[derive(Debug, Clone, Copy)]
pub struct NotifyVars<'a> {
    /// `[server_id]`.
    pub server_id: &'a str,
    /// `[service_id]`.
    pub service_id: &'a str,
    /// `[app]`.
    pub app: &'a str,
    /// `[stream]`.
    pub stream: &'a str,
    /// `[ts_url]`: the segment's URI as the playlist lists it.
    pub ts_url: &'a str,
    /// `[param]`: the publisher's query, `?` included.
    pub param: &'a str,
}

impl NotifyVars<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "server_id" => self.server_id,
            "service_id" => self.service_id,
            "app" => self.app,
            "stream" => self.stream,
            "ts_url" => self.ts_url,
            "param" => self.param,
            _ => return None,
        })
    }
}

/// Renders an `on_hls_notify` template. One pass, so a stream name that
/// contains `[param]` stays a name (SRS replaces variable after variable);
/// values are percent-encoded where a URL needs it. Unknown `[...]` stay as
/// they are (the config refuses them).
pub fn render_notify(template: &str, vars: &NotifyVars<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('[') {
        let (before, from_open) = rest.split_at(open);
        out.push_str(before);
        let after_open = from_open.get(1..).unwrap_or_default();
        let value = after_open
            .find(']')
            .and_then(|close| Some((close, vars.get(after_open.get(..close)?)?)));
        match value {
            Some((close, value)) => {
                out.push_str(&encode_for_target(value));
                rest = after_open.get(close + 1..).unwrap_or_default();
            }
            None => {
                out.push('[');
                rest = after_open;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Checks an `on_hls_notify` template: only SRS's variables, and a valid URL
/// once they are rendered.
pub fn check_notify_template(template: &str) -> Result<(), UrlError> {
    let mut rest = template;
    while let Some(open) = rest.find('[') {
        let after_open = rest.get(open + 1..).unwrap_or_default();
        let Some(close) = after_open.find(']') else {
            return Err(UrlError::Character('['));
        };
        let name = after_open.get(..close).unwrap_or_default();
        if !NOTIFY_VARIABLES.contains(&name) {
            return Err(UrlError::Variable(name.to_owned()));
        }
        rest = after_open.get(close + 1..).unwrap_or_default();
    }
    let sample = NotifyVars {
        server_id: "s",
        service_id: "s",
        app: "a",
        stream: "s",
        ts_url: "t.ts",
        param: "?p=1",
    };
    HookUrl::parse(&render_notify(template, &sample)).map(|_| ())
}

/// Whether `host` is an IP address literal (no name resolution needed).
pub(crate) fn ip_literal(host: &str) -> Option<IpAddr> {
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> HookUrl {
        HookUrl::parse(text).unwrap()
    }

    #[test]
    fn parses_scheme_host_port_path_and_query() {
        let u = url("http://127.0.0.1:8085/api/v1/streams?x=1&y=%20");
        assert_eq!(
            u,
            HookUrl {
                tls: false,
                host: "127.0.0.1".into(),
                port: 8085,
                target: "/api/v1/streams?x=1&y=%20".into()
            }
        );
        assert_eq!(u.host_header(), "127.0.0.1:8085");
        assert_eq!(u.redacted(), "http://127.0.0.1:8085/api/v1/streams");
        assert_eq!(
            u.to_string(),
            "http://127.0.0.1:8085/api/v1/streams?x=1&y=%20"
        );

        let u = url("HTTPS://Hooks.Example.com");
        assert!(u.tls);
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("hooks.example.com", 443, "/")
        );
        assert_eq!(u.host_header(), "hooks.example.com");

        let u = url("http://[::1]:9000?token=a");
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("::1", 9000, "/?token=a")
        );
        assert_eq!(u.host_header(), "[::1]:9000");
        assert_eq!(url("http://[::1]/").host_header(), "[::1]");
        assert_eq!(url("http://h:80/").host_header(), "h");
        assert_eq!(url("https://h:80/").host_header(), "h:80");
        assert_eq!(url("http://my_host.local/x").host, "my_host.local");
    }

    #[test]
    fn refuses_what_a_request_cannot_carry() {
        let e = |t: &str| HookUrl::parse(t).unwrap_err();
        assert_eq!(e("ftp://h/"), UrlError::Scheme);
        assert_eq!(e("127.0.0.1:8085/x"), UrlError::Scheme);
        assert_eq!(e("http:/h/x"), UrlError::Scheme);
        assert_eq!(e("http://"), UrlError::Host);
        assert_eq!(e("http:///x"), UrlError::Host);
        assert_eq!(e("http://:80/x"), UrlError::Host);
        assert_eq!(e("http://a..b/"), UrlError::Host);
        assert_eq!(e("http://h st/"), UrlError::Host);
        assert_eq!(e("http://[::1/"), UrlError::Host);
        assert_eq!(e("http://[zz]/"), UrlError::Host);
        assert_eq!(e("http://[::1]x/"), UrlError::Host);
        assert_eq!(e("http://::1/"), UrlError::Host);
        assert_eq!(e("http://h:0/"), UrlError::Port);
        assert_eq!(e("http://h:65536/"), UrlError::Port);
        assert_eq!(e("http://h:/"), UrlError::Port);
        assert_eq!(e("http://h:8o/"), UrlError::Port);
        assert_eq!(e("http://u:p@h/"), UrlError::UserInfo);
        assert_eq!(e("http://h/x#top"), UrlError::Fragment);
        assert_eq!(e("http://h/a b"), UrlError::Character(' '));
        assert_eq!(e("http://h/é"), UrlError::Character('é'));
        assert_eq!(e("http://h/a\r\nX: y"), UrlError::Character('\r'));
        assert_eq!(e("http://h/%zz"), UrlError::Character('%'));
        assert_eq!(e("http://h/%4"), UrlError::Character('%'));
        assert_eq!(e("http://h/[app]"), UrlError::Character('['));
        let long = format!("http://h/{}", "a".repeat(MAX_URL_BYTES));
        assert_eq!(e(&long), UrlError::TooLong);
    }

    #[test]
    fn redact_drops_the_query_of_any_text() {
        assert_eq!(redact("http://h/x?token=secret"), "http://h/x");
        assert_eq!(redact("garbage#frag"), "garbage");
    }

    #[test]
    fn notify_templates_render_srs_variables_in_one_pass() {
        let vars = NotifyVars {
            server_id: "vid-1",
            service_id: "1",
            app: "live",
            stream: "cam [param]",
            ts_url: "cam-3.ts",
            param: "?token=a b&x=%41",
        };
        assert_eq!(
            render_notify(
                "http://cdn/[server_id]/[service_id]/[app]/[stream]/[ts_url][param]",
                &vars
            ),
            "http://cdn/vid-1/1/live/cam%20%5Bparam%5D/cam-3.ts?token=a%20b&x=%41"
        );
        assert_eq!(
            render_notify("http://h/[vhost]/[x", &vars),
            "http://h/[vhost]/[x"
        );
        assert_eq!(render_notify("", &vars), "");
    }

    #[test]
    fn notify_templates_are_checked() {
        assert_eq!(
            check_notify_template("http://127.0.0.1:8080/[app]/[ts_url][param]"),
            Ok(())
        );
        assert_eq!(
            check_notify_template("http://h/[vhost]/[ts_url]"),
            Err(UrlError::Variable("vhost".into()))
        );
        assert_eq!(
            check_notify_template("http://h/[ts_url"),
            Err(UrlError::Character('['))
        );
        assert_eq!(check_notify_template("[ts_url]"), Err(UrlError::Scheme));
    }

    #[test]
    fn encoding_keeps_url_syntax_and_escapes() {
        assert_eq!(encode_for_target("a/b?c=d&e=%2F"), "a/b?c=d&e=%2F");
        assert_eq!(encode_for_target("100%"), "100%25");
        assert_eq!(encode_for_target("é\n"), "%C3%A9%0A");
    }
}
