//! `http_server { console { } }`: the web console the HTTP server serves
//! (`crate::http::console`). SRS ships its console as static files under
//! `objs/nginx/html/console` and has no directives for it; these names are
//! ours, in SRS's style.

use std::path::PathBuf;

use super::directives::Seen;
use super::error::{ConfigError, ConfigErrorKind};
use super::parser::Directive;
use super::values::{bad, block, on_off, one, text};

/// Longest `path`, bytes.
pub const MAX_CONSOLE_PATH: usize = 128;

/// `http_server { console { enabled on; path /console/; api URL; vendor_dir DIR; } }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// Serve the console (`enabled`, default on).
    pub enabled: bool,
    /// URL path the console is served under, with its leading and trailing
    /// `/` (`path`, default `/console/`).
    pub path: String,
    /// The HTTP API's base URL the page calls (`api`, `http[s]://HOST[:PORT]`;
    /// default none: the host the page was loaded from, on the API's
    /// configured port). A `?api=` query parameter on the page overrides it.
    pub api: Option<String>,
    /// A local directory holding `hls.min.js` and `mpegts.js`, served as
    /// `PATH/vendor/...`, for sites without internet (`vendor_dir`; default
    /// none: the players load from jsDelivr, pinned, with Subresource Integrity).
    pub vendor_dir: Option<PathBuf>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            path: "/console/".to_owned(),
            api: None,
            vendor_dir: None,
        }
    }
}

/// The `console { }` block.
pub(super) fn console(d: &Directive) -> Result<ConsoleConfig, ConfigError> {
    let mut c = ConsoleConfig::default();
    let mut seen = Seen::default();
    for d in block(d, 0)? {
        seen.name(d)?;
        match d.name.as_str() {
            "enabled" => c.enabled = on_off(d)?,
            "path" => c.path = console_path(d)?,
            "api" => c.api = Some(api_url(d)?),
            "vendor_dir" => c.vendor_dir = Some(text(d)?.into()),
            _ => return Err(d.error(ConfigErrorKind::UnknownDirective(d.name.clone()))),
        }
    }
    Ok(c)
}

/// `/NAME/...`: starts and ends with `/`, not the root (which is the
/// document root's), not under `/api/`, plain URL characters only.
fn console_path(d: &Directive) -> Result<String, ConfigError> {
    let v = one(d)?;
    let expected = "a URL path such as /console/ (leading and trailing '/', not '/' alone, \
                    not under /api/; letters, digits, '-', '_', '.', '/')";
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-_./".contains(&b);
    let ok = v.len() > 2
        && v.len() <= MAX_CONSOLE_PATH
        && v.starts_with('/')
        && v.ends_with('/')
        && v.bytes().all(plain)
        && !v.contains("//")
        && !v.split('/').any(|s| s == "." || s == "..")
        && v != "/api/"
        && !v.starts_with("/api/");
    if ok {
        Ok(v.to_owned())
    } else {
        Err(bad(d, v, expected))
    }
}

/// `http[s]://HOST[:PORT]`, no path: an origin, as the page joins `/api/v1/...` to it.
fn api_url(d: &Directive) -> Result<String, ConfigError> {
    let v = one(d)?;
    let expected = "the API's origin, such as http://10.0.0.5:1985 or https://api.example.com";
    let rest = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"))
        .ok_or_else(|| bad(d, v, expected))?;
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b);
    if rest.is_empty() || rest.len() > 255 || !rest.bytes().all(plain) {
        return Err(bad(d, v, expected));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::ConsoleConfig;

    fn parse(block: &str) -> Result<ConsoleConfig, String> {
        crate::config::parse_str(
            "t.conf",
            &format!("listen 1935; http_server {{ enabled on; console {{ {block} }} }}"),
        )
        .map(|c| c.http_server.console)
        .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_on_at_console() {
        let c =
            crate::config::parse_str("t.conf", "listen 1935; http_server { enabled on; }").unwrap();
        assert_eq!(c.http_server.console, ConsoleConfig::default());
        assert!(c.http_server.console.enabled);
        assert_eq!(c.http_server.console.path, "/console/");
        assert_eq!(parse("").unwrap(), ConsoleConfig::default());
    }

    #[test]
    fn every_directive() {
        let c = parse(
            "enabled off; path /ops/console/; api http://10.0.0.5:1985; vendor_dir ./players;",
        )
        .unwrap();
        assert!(!c.enabled);
        assert_eq!(c.path, "/ops/console/");
        assert_eq!(c.api.as_deref(), Some("http://10.0.0.5:1985"));
        assert_eq!(c.vendor_dir, Some("./players".into()));
    }

    #[test]
    fn bad_values_name_file_and_line() {
        for bad in [
            "path /;",
            "path console/;",
            "path /console;",
            "path /a/../b/;",
            "path /api/;",
            "path /api/x/;",
            "path /a b/;",
            "path /a//b/;",
            "api 10.0.0.5:1985;",
            "api http://h/path;",
            "api ftp://h;",
            "enabled maybe;",
            "color blue;",
            "path /a/; path /b/;",
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(e.starts_with("t.conf:1:"), "{bad}: {e}");
        }
    }
}
