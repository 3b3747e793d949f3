//! SRS's `refer { enabled on; all DOMAIN...; publish DOMAIN...; play DOMAIN...; }`.
//!
//! SCAFFOLD: matching still to be written.

use super::Verb;

/// `vhost { refer { ... } }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferConfig {
    /// `enabled` (default off).
    pub enabled: bool,
}

/// Why a page was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReferDenied(pub String);

impl ReferConfig {
    /// Whether a client whose page is `page_url` may connect (`verb` `None`,
    /// checked against `all`) or do `verb` (checked against `publish`/`play`).
    pub fn check(&self, verb: Option<Verb>, page_url: &str) -> Result<(), ReferDenied> {
        let _ = (verb, page_url);
        Ok(())
    }
}
