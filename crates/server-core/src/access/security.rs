//! SRS's `security { enabled on; allow|deny publish|play all|IP|CIDR; }`.
//!
//! SCAFFOLD: rules and matching still to be written.

use std::net::IpAddr;

use super::Verb;

/// `vhost { security { ... } }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityConfig {
    /// `enabled` (default off: everyone may publish and play).
    pub enabled: bool,
}

/// Why the rules refused a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SecurityDenied(pub String);

impl SecurityConfig {
    /// Whether `ip` may do `verb`.
    pub fn check(&self, verb: Verb, ip: IpAddr) -> Result<(), SecurityDenied> {
        let _ = (verb, ip);
        Ok(())
    }
}
