//! The `vod { }` block of a vhost: FLV and MP4 files under a directory
//! played on demand, over RTMP and as HLS.
//!
//! SRS has no VOD over RTMP (its HTTP server only streams `.flv`/`.mp4`
//! files with `?start=`), so the block is new; its names follow SRS's
//! style (`enabled`, a path, `hls_fragment` as in `hls { }`). nginx-rtmp's
//! `play /dir;` is the same idea: there an application's play names files.

use std::path::PathBuf;
use std::time::Duration;

use super::directives::Seen;
use super::error::{ConfigError, ConfigErrorKind};
use super::parser::Directive;
use super::values::{on_off, seconds, text};

/// Shortest `hls_fragment` of a VOD playlist, seconds.
pub const MIN_VOD_FRAGMENT_SECS: f64 = 1.0;
/// Longest `hls_fragment` of a VOD playlist, seconds.
pub const MAX_VOD_FRAGMENT_SECS: f64 = 60.0;

/// `vod { }`.
#[derive(Debug, Clone, PartialEq)]
pub struct VodConfig {
    /// `enabled` (default off).
    pub enabled: bool,
    /// `dir`: the files' root (default `./objs/nginx/html`, where SRS's DVR
    /// writes). `rtmp://HOST/APP/NAME.mp4` plays `dir/APP/NAME.mp4`;
    /// `http://HOST:PORT/vod/APP/NAME.mp4/index.m3u8` is its HLS playlist.
    pub dir: PathBuf,
    /// `hls_fragment`: the shortest HLS segment, seconds (default 10, as
    /// SRS's `hls_fragment`); each is cut at the next key frame after it.
    pub hls_fragment: Duration,
}

impl VodConfig {
    /// The defaults (VOD off).
    pub fn srs_default() -> Self {
        Self {
            enabled: false,
            dir: PathBuf::from("./objs/nginx/html"),
            hls_fragment: Duration::from_secs(10),
        }
    }
}

/// `vod { enabled; dir; hls_fragment; }`.
pub(super) fn vod(dirs: &[Directive]) -> Result<VodConfig, ConfigError> {
    let mut c = VodConfig::srs_default();
    let mut seen = Seen::default();
    for d in dirs {
        seen.name(d)?;
        match d.name.as_str() {
            "enabled" => c.enabled = on_off(d)?,
            "dir" => c.dir = text(d)?.into(),
            "hls_fragment" => {
                c.hls_fragment = seconds(d, MIN_VOD_FRAGMENT_SECS, MAX_VOD_FRAGMENT_SECS)?;
            }
            _ => return Err(d.error(ConfigErrorKind::UnknownDirective(d.name.clone()))),
        }
    }
    Ok(c)
}
