//! The `security { }` and `refer { }` blocks.
//!
//! SCAFFOLD: parsing still to be written; the blocks are accepted and ignored.

use super::error::ConfigError;
use super::parser::Directive;
use crate::access::{ReferConfig, SecurityConfig};

/// `security { enabled; allow|deny publish|play all|IP|CIDR; }`.
pub(super) fn security(dirs: &[Directive]) -> Result<SecurityConfig, ConfigError> {
    let _ = dirs;
    Ok(SecurityConfig::default())
}

/// `refer { enabled; all DOMAIN...; publish DOMAIN...; play DOMAIN...; }`.
pub(super) fn refer(dirs: &[Directive]) -> Result<ReferConfig, ConfigError> {
    let _ = dirs;
    Ok(ReferConfig::default())
}
