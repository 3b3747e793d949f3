//! SRS-compatible configuration files.
//!
//! The syntax is SRS's (nginx-like): `directive value...;`, `name value { ... }`
//! blocks, `#` comments, `'quoted'` or `"quoted"` values and `include FILE;`.
//! Directive names, meanings, units and defaults are SRS's (`trunk/conf/full.conf`),
//! so an SRS config for the features implemented here works unchanged, and one
//! relying on anything else fails loudly with `file:line: directive 'x' is not
//! supported yet` instead of being silently ignored.
//!
//! - `lexer`, `parser`: text to a tree with file and line on every directive,
//!   includes resolved.
//! - `directives`: the tree to the typed [`Config`], validating every value.
//! - [`model`]: the typed config and SRS's defaults; [`mount`]: HTTP-FLV mount
//!   templates.

mod access;
mod bandcheck;
mod cluster;
mod console;
mod directives;
mod dvr;
pub mod env;
mod error;
mod ffmpeg;
mod forward;
mod hooks;
mod lexer;
pub mod model;
pub mod mount;
mod parser;
mod rtmps;
mod values;
mod vod;

use std::path::Path;

pub use console::{ConsoleConfig, MAX_CONSOLE_PATH};
pub use directives::{LOG_LEVELS, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE};
pub use dvr::{DvrConfig, DvrPlan, MAX_DVR_DURATION_SECS, MIN_DVR_DURATION_SECS};
pub use error::{ConfigError, ConfigErrorKind};
pub use ffmpeg::MAX_ENGINES;
pub use model::{
    ApiAuth, Config, ExporterConfig, HlsVhostConfig, HttpApiConfig, HttpRemuxConfig,
    HttpServerConfig, LogTank, PlayConfig, PublishConfig, RawApi, VhostConfig, DEFAULT_VHOST,
};
pub use mount::{MountError, MountTemplate};
pub use parser::{MAX_BLOCK_DEPTH, MAX_FILE_BYTES, MAX_INCLUDE_DEPTH, MAX_TOTAL_BYTES};
pub use rtmps::RtmpsConfig;
pub use vod::{VodConfig, MAX_VOD_FRAGMENT_SECS, MIN_VOD_FRAGMENT_SECS};

/// The embedded default config: what runs without `-c`, and what
/// [`Config::default`] holds. `conf/srs.conf` is the same config as a file.
pub const DEFAULT_CONFIG: &str = include_str!("default.conf");

/// Reads, parses and validates the config file at `path` and its includes,
/// with the process's `SRS_*` environment overrides applied ([`env`]).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let mut tree = parser::parse_file(path)?;
    env::apply(&mut tree, process_env())?;
    directives::build(&tree)
}

/// The embedded default config ([`DEFAULT_CONFIG`]) with the process's
/// `SRS_*` environment overrides applied: what runs without `-c`.
pub fn load_default() -> Result<Config, ConfigError> {
    let mut tree = parser::parse_text("(embedded default)", DEFAULT_CONFIG)?;
    env::apply(&mut tree, process_env())?;
    directives::build(&tree)
}

/// The environment as text (a variable that is not UTF-8 is no override).
fn process_env() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
}

/// Parses and validates `text` as if it were the file `name` (used in error
/// messages; includes are resolved relative to its directory).
pub fn parse_str(name: &str, text: &str) -> Result<Config, ConfigError> {
    directives::build(&parser::parse_text(name, text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_text_is_the_default_config() {
        assert_eq!(
            parse_str("default.conf", DEFAULT_CONFIG).unwrap(),
            Config::default()
        );
    }
}
