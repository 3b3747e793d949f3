//! The `http_hooks { }` block.
//!
//! SCAFFOLD: parsing still to be written; the block is accepted and ignored.

use super::error::ConfigError;
use super::parser::Directive;
use crate::hooks::HttpHooksConfig;

/// `http_hooks { enabled; on_connect URL...; ... }`.
pub(super) fn http_hooks(dirs: &[Directive]) -> Result<HttpHooksConfig, ConfigError> {
    let _ = dirs;
    Ok(HttpHooksConfig::default())
}
