//! The `rtmps { }` block (SRS 7.0.56's names and defaults): RTMP over TLS
//! on listeners of its own, plus the roots this server trusts when it is
//! the TLS client (`rtmps://` forward destinations and edge origins).

use std::net::SocketAddr;
use std::path::PathBuf;

use super::directives::Seen;
use super::error::{ConfigError, ConfigErrorKind};
use super::parser::Directive;
use super::values::{endpoints, on_off, text};

/// `rtmps { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtmpsConfig {
    /// `enabled` (default off): bind the TLS listeners.
    pub enabled: bool,
    /// `listen` (default none, as SRS: `enabled on` alone binds nothing,
    /// which the start-up log says; a bare port means `0.0.0.0:PORT`;
    /// SRS's full.conf suggests 1443).
    pub listen: Vec<SocketAddr>,
    /// `key`: the PEM private key (default `./conf/server.key`, as SRS).
    pub key: PathBuf,
    /// `cert`: the PEM certificate chain, leaf first (default
    /// `./conf/server.crt`, as SRS).
    pub cert: PathBuf,
    /// `upstream_ca`: a PEM file of root certificates trusted, besides the
    /// system's, when this server connects to an `rtmps://` forward
    /// destination or edge origin (default none: the system roots only).
    /// Not in SRS, which has no RTMPS client; it applies whether or not
    /// `enabled` is on.
    pub upstream_ca: Option<PathBuf>,
}

impl RtmpsConfig {
    /// SRS's defaults: off, no listener.
    pub fn srs_default() -> Self {
        Self {
            enabled: false,
            listen: Vec::new(),
            key: PathBuf::from("./conf/server.key"),
            cert: PathBuf::from("./conf/server.crt"),
            upstream_ca: None,
        }
    }
}

/// `rtmps { enabled; listen; key; cert; upstream_ca; }`.
pub(super) fn rtmps(dirs: &[Directive]) -> Result<RtmpsConfig, ConfigError> {
    let mut c = RtmpsConfig::srs_default();
    let mut seen = Seen::default();
    for d in dirs {
        seen.name(d)?;
        match d.name.as_str() {
            "enabled" => c.enabled = on_off(d)?,
            "listen" => c.listen = endpoints(d)?,
            "key" => c.key = text(d)?.into(),
            "cert" => c.cert = text(d)?.into(),
            "upstream_ca" => c.upstream_ca = Some(text(d)?.into()),
            _ => return Err(d.error(ConfigErrorKind::UnknownDirective(d.name.clone()))),
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    #[test]
    fn defaults_are_srs_ones() {
        let c = parse_str("t.conf", "listen 1935;").unwrap();
        assert_eq!(c.rtmps, RtmpsConfig::srs_default());
        assert!(!c.rtmps.enabled);
        assert_eq!(c.rtmps.key, PathBuf::from("./conf/server.key"));
        assert_eq!(c.rtmps.cert, PathBuf::from("./conf/server.crt"));
    }

    #[test]
    fn parses_the_block() {
        let c = parse_str(
            "t.conf",
            "rtmps { enabled on; listen 1443 127.0.0.1:8443; key k.pem; cert c.pem; upstream_ca ca.pem; }",
        )
        .unwrap();
        assert!(c.rtmps.enabled);
        assert_eq!(
            c.rtmps.listen,
            vec![
                "0.0.0.0:1443".parse().unwrap(),
                "127.0.0.1:8443".parse().unwrap()
            ]
        );
        assert_eq!(c.rtmps.key, PathBuf::from("k.pem"));
        assert_eq!(c.rtmps.cert, PathBuf::from("c.pem"));
        assert_eq!(c.rtmps.upstream_ca, Some(PathBuf::from("ca.pem")));
    }

    #[test]
    fn refuses_unknown_and_duplicate_directives() {
        assert!(parse_str("t.conf", "rtmps { unknown on; }").is_err());
        assert!(parse_str("t.conf", "rtmps { listen 1; listen 2; }").is_err());
        assert!(parse_str("t.conf", "rtmps { enabled maybe; }").is_err());
    }
}
