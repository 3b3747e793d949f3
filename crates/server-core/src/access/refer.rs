//! SRS's `refer { enabled on; all DOMAIN...; publish DOMAIN...; play DOMAIN...; }`:
//! who may connect, publish and play, by the page the client was embedded in
//! (RTMP `connect`'s `pageUrl`, HTTP's `Referer`). Hotlink protection, not
//! authentication: any client can send any page URL.
//!
//! As SRS (`srs_app_refer.cpp`): with `enabled on`, `all` is checked when a
//! client connects, then `publish` or `play` when it publishes or plays (both
//! must pass; the verb's list does not override `all`). A list that is not
//! given admits every page; a given list admits a page whose host is one of
//! its domains or ends with one. A page URL that is empty (ffmpeg, OBS and most
//! encoders send no `pageUrl`; a player may send no `Referer`) has no host and
//! is refused by every list.
//!
//! Where we differ from SRS, to fix what lets a page pass that should not:
//! - A domain matches at a label boundary: `example.com` admits
//!   `example.com` and `www.example.com`, not `evilexample.com` (SRS compares
//!   bare string suffixes). A domain written with a leading dot
//!   (`.example.com`) admits subdomains only.
//! - The host ends at `/`, `?`, `#` or `\` (SRS only cuts at `/`, so
//!   `http://evil.com?.example.com` passed for `example.com`), and the
//!   user-info before `@` is not the host (SRS cut at the first `:`, so
//!   `http://example.com:x@evil.com/` passed for `example.com`).
//! - Hosts compare without regard to ASCII case and to a trailing dot, as DNS
//!   names do; an IPv6 literal host is read inside its brackets.
//! - A domain that appears twice in the host (`a.com.a.com`) matches; SRS
//!   looked at the first occurrence only and refused it.

use super::Verb;

/// Longest page URL quoted in a denial (a client chooses it; logs stay short).
pub const MAX_QUOTED_PAGE_URL: usize = 256;

/// `vhost { refer { ... } }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferConfig {
    /// `enabled` (default off).
    pub enabled: bool,
    /// `all`: domains a client's page must be on to connect at all; `None`
    /// (not given) admits every page.
    pub all: Option<Vec<String>>,
    /// `publish`: domains a publisher's page must be on; `None` admits every page.
    pub publish: Option<Vec<String>>,
    /// `play`: domains a player's page must be on; `None` admits every page.
    pub play: Option<Vec<String>>,
}

/// Why a page was refused: a sentence naming the list and the page, for the
/// log and the client's error status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReferDenied(pub String);

impl ReferConfig {
    /// Whether a client whose page is `page_url` may connect (`verb` `None`,
    /// checked against `all`) or do `verb` (checked against `publish`/`play`).
    pub fn check(&self, verb: Option<Verb>, page_url: &str) -> Result<(), ReferDenied> {
        if !self.enabled {
            return Ok(());
        }
        let (name, list) = match verb {
            None => ("all", &self.all),
            Some(Verb::Publish) => ("publish", &self.publish),
            Some(Verb::Play) => ("play", &self.play),
        };
        let Some(list) = list else {
            return Ok(());
        };
        let host = page_host(page_url);
        if list.iter().any(|domain| host_matches(host, domain)) {
            return Ok(());
        }
        let quoted = quote(page_url);
        Err(ReferDenied(if page_url.is_empty() {
            format!(
                "refer: no page URL, and 'refer {name}' lists {}",
                list.join(" ")
            )
        } else {
            format!(
                "refer: page {quoted} is not on any domain of 'refer {name} {}'",
                list.join(" ")
            )
        }))
    }
}

/// The host of a page URL as SRS reads it, hardened: after `scheme://` (or a
/// leading `//`), before the first `/`, `?`, `#` or `\`, after any user-info
/// (`user:pass@`), without the port, and without the brackets of an IPv6
/// literal. Empty when there is none.
pub fn page_host(page_url: &str) -> &str {
    let rest = match page_url.find("://") {
        Some(i) => page_url.get(i.saturating_add(3)..).unwrap_or_default(),
        None => page_url.strip_prefix("//").unwrap_or(page_url),
    };
    let authority = match rest.find(['/', '?', '#', '\\']) {
        Some(end) => rest.get(..end).unwrap_or_default(),
        None => rest,
    };
    let host_port = match authority.rfind('@') {
        Some(at) => authority.get(at.saturating_add(1)..).unwrap_or_default(),
        None => authority,
    };
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return match bracketed.find(']') {
            Some(end) => bracketed.get(..end).unwrap_or_default(),
            None => "",
        };
    }
    match host_port.find(':') {
        Some(end) => host_port.get(..end).unwrap_or_default(),
        None => host_port,
    }
}

/// Whether `host` is `domain` or a subdomain of it (ASCII case and one
/// trailing dot ignored on both). A `domain` with a leading dot matches
/// subdomains only.
pub fn host_matches(host: &str, domain: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() || domain == "." {
        return false;
    }
    let Some(split) = host.len().checked_sub(domain.len()) else {
        return false;
    };
    let (Some(head), Some(tail)) = (host.get(..split), host.get(split..)) else {
        return false;
    };
    tail.eq_ignore_ascii_case(domain)
        && (head.is_empty() || head.ends_with('.') || domain.starts_with('.'))
}

/// `page_url` quoted for a log line: escaped, and clipped to
/// [`MAX_QUOTED_PAGE_URL`] bytes.
fn quote(page_url: &str) -> String {
    let mut end = page_url.len().min(MAX_QUOTED_PAGE_URL);
    while !page_url.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    let clipped = page_url.get(..end).unwrap_or_default();
    if end < page_url.len() {
        format!("{clipped:?}...")
    } else {
        format!("{clipped:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(domains: &[&str]) -> Option<Vec<String>> {
        Some(domains.iter().map(|s| s.to_string()).collect())
    }

    fn refer(
        all: Option<Vec<String>>,
        publish: Option<Vec<String>>,
        play: Option<Vec<String>>,
    ) -> ReferConfig {
        ReferConfig {
            enabled: true,
            all,
            publish,
            play,
        }
    }

    #[test]
    fn hosts_of_page_urls() {
        for (url, host) in [
            ("http://www.example.com/player.html", "www.example.com"),
            ("https://example.com:8443/a/b?c=d", "example.com"),
            ("example.com/page", "example.com"),
            ("example.com", "example.com"),
            ("//cdn.example.com/x.swf", "cdn.example.com"),
            ("http://evil.com?.example.com", "evil.com"),
            ("http://evil.com#.example.com", "evil.com"),
            ("http://evil.com\\.example.com/", "evil.com"),
            ("http://example.com:x@evil.com/", "evil.com"),
            ("http://user@a.example.com@evil.com/", "evil.com"),
            ("http://[2001:db8::1]:8080/p", "2001:db8::1"),
            ("http://[::1/", ""),
            ("http://192.168.1.10:80/", "192.168.1.10"),
            ("", ""),
            ("http://", ""),
            ("http:///path", ""),
            ("rtmp://", ""),
        ] {
            assert_eq!(page_host(url), host, "{url}");
        }
    }

    #[test]
    fn domains_match_at_label_boundaries() {
        assert!(host_matches("example.com", "example.com"));
        assert!(host_matches("www.example.com", "example.com"));
        assert!(host_matches("a.b.example.com", "example.com"));
        assert!(!host_matches("evilexample.com", "example.com"));
        assert!(!host_matches("example.com.evil.net", "example.com"));
        assert!(!host_matches("xample.com", "example.com"));
        assert!(!host_matches("", "example.com"));
        assert!(!host_matches("example.com", ""));
        // Case and a trailing dot do not matter.
        assert!(host_matches("WWW.Example.COM", "example.com"));
        assert!(host_matches("www.example.com.", "EXAMPLE.com"));
        assert!(host_matches("www.example.com", "example.com."));
        // A leading dot: subdomains only.
        assert!(host_matches("www.example.com", ".example.com"));
        assert!(!host_matches("example.com", ".example.com"));
        assert!(!host_matches("wwwexample.com", ".example.com"));
        // A repeated domain (SRS looked at its first occurrence only).
        assert!(host_matches("a.com.a.com", "a.com"));
        // A multi-byte host does not split inside a character.
        assert!(!host_matches("aé.com", "b.com"));
        assert!(!host_matches("é.com", "xé.com"));
    }

    #[test]
    fn disabled_or_absent_lists_admit_everyone() {
        let off = ReferConfig {
            enabled: false,
            all: list(&["example.com"]),
            publish: list(&["example.com"]),
            play: list(&["example.com"]),
        };
        for verb in [None, Some(Verb::Publish), Some(Verb::Play)] {
            assert!(off.check(verb, "http://evil.com/").is_ok());
            assert!(off.check(verb, "").is_ok());
            assert!(refer(None, None, None).check(verb, "").is_ok());
        }
        assert!(ReferConfig::default().check(None, "").is_ok());
    }

    #[test]
    fn each_check_reads_its_own_list() {
        let c = refer(
            list(&["github.com", "github.io"]),
            None,
            list(&["ossrs.net"]),
        );
        assert!(c.check(None, "http://ossrs.github.io/srs/").is_ok());
        assert!(c.check(None, "http://ossrs.net/").is_err());
        // publish has no list: any page.
        assert!(c.check(Some(Verb::Publish), "http://anything.org/").is_ok());
        assert!(c
            .check(Some(Verb::Play), "https://www.ossrs.net/player")
            .is_ok());
        let e = c.check(Some(Verb::Play), "http://github.com/").unwrap_err();
        assert_eq!(
            e.to_string(),
            "refer: page \"http://github.com/\" is not on any domain of 'refer play ossrs.net'"
        );
    }

    #[test]
    fn empty_page_urls_are_refused_by_a_list() {
        let c = refer(list(&["example.com"]), list(&["example.com"]), None);
        assert_eq!(
            c.check(None, "").unwrap_err().0,
            "refer: no page URL, and 'refer all' lists example.com"
        );
        assert!(c.check(Some(Verb::Publish), "").is_err());
        assert!(c.check(Some(Verb::Play), "").is_ok());
        // An empty list (only built in code; the config refuses it) refuses every page.
        let none = refer(Some(Vec::new()), None, None);
        assert!(none.check(None, "http://example.com/").is_err());
    }

    #[test]
    fn hostile_page_urls_do_not_pass() {
        let c = refer(list(&["example.com"]), None, None);
        for page in [
            "http://evilexample.com/",
            "http://evil.com?.example.com",
            "http://evil.com#.example.com",
            "http://example.com:80@evil.com/",
            "http://example.com.evil.com/",
            "http://evil.com\\.example.com",
        ] {
            assert!(c.check(None, page).is_err(), "{page}");
        }
        for page in [
            "http://example.com",
            "https://video.example.com:443/live?x=evil.com",
            "HTTP://WWW.EXAMPLE.COM/",
            "http://user@example.com/",
        ] {
            assert!(c.check(None, page).is_ok(), "{page}");
        }
    }

    #[test]
    fn denials_quote_long_urls_clipped_and_escaped() {
        let c = refer(list(&["example.com"]), None, None);
        let long = format!("http://evil.com/{}\n", "é".repeat(400));
        let e = c.check(None, &long).unwrap_err().0;
        assert!(e.len() < MAX_QUOTED_PAGE_URL * 2, "{}", e.len());
        assert!(e.contains("\"... is not"), "{e}");
        assert!(!e.contains('\n'));
    }
}
