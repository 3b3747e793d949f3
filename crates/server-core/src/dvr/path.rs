//! `dvr_path`: the template a recording's file name is rendered from.
//!
//! SRS's variables: `[vhost]`, `[app]`, `[stream]`, `[timestamp]` (Unix
//! time in ms when the file was opened) and the open time's `[2006]` year,
//! `[01]` month, `[02]` day, `[15]` hour, `[04]` minute, `[05]` second and
//! `[999]` millisecond (UTC: the server has no time zone; SRS uses the local
//! one). A path that does not end in `.flv` or `.mp4` is a directory, and
//! `/[stream].[timestamp].flv` is appended to it, as SRS does.
//!
//! The part of the template before its first variable's directory is the
//! root; the rendered rest must stay below it ([`stays_below`]), so a stream
//! name can never write elsewhere even if a check at publish was skipped.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use media_core::hls::Civil;

use crate::fs::stays_below;
use crate::hub::StreamKey;

/// SRS's default `dvr_path`.
pub const DEFAULT_DVR_PATH: &str = "./objs/nginx/html/[app]/[stream].[timestamp].flv";

/// The variables a `dvr_path` may hold.
const VARIABLES: &[&str] = &[
    "vhost",
    "app",
    "stream",
    "timestamp",
    "2006",
    "01",
    "02",
    "15",
    "04",
    "05",
    "999",
];

/// The file format, from the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// `.flv` (and a directory path).
    Flv,
    /// `.mp4`: fragmented ISO-BMFF.
    Mp4,
}

/// A parsed `dvr_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DvrPath {
    /// As configured (with SRS's file name added to a directory).
    full: String,
    /// The directory before any variable.
    root: PathBuf,
    /// The rest, rendered per file.
    template: String,
    container: Container,
}

impl Default for DvrPath {
    fn default() -> Self {
        // The default is a valid template.
        Self::parse(DEFAULT_DVR_PATH).unwrap_or_else(|_| Self {
            full: DEFAULT_DVR_PATH.into(),
            root: PathBuf::from("./objs/nginx/html"),
            template: "[app]/[stream].[timestamp].flv".into(),
            container: Container::Flv,
        })
    }
}

/// Why a `dvr_path` was refused (for the config error's "expected").
pub type DvrPathError = &'static str;

impl DvrPath {
    /// Parses a `dvr_path` value.
    pub fn parse(value: &str) -> Result<Self, DvrPathError> {
        if value.is_empty() {
            return Err("a file or directory path");
        }
        let full = if value.ends_with(".flv") || value.ends_with(".mp4") {
            value.to_owned()
        } else {
            format!("{}/[stream].[timestamp].flv", value.trim_end_matches('/'))
        };
        let container = if full.ends_with(".mp4") {
            Container::Mp4
        } else {
            Container::Flv
        };
        let mut rest = full.as_str();
        while let Some(open) = rest.find('[') {
            let after = rest.get(open + 1..).unwrap_or_default();
            let close = after
                .find(']')
                .ok_or("a path template with closed [variables]")?;
            let name = after.get(..close).unwrap_or_default();
            if !VARIABLES.contains(&name) {
                return Err("variables among [vhost] [app] [stream] [timestamp] [2006] [01] [02] [15] [04] [05] [999]");
            }
            rest = after.get(close + 1..).unwrap_or_default();
        }
        let first_var = full.find('[').unwrap_or(full.len());
        let split = full
            .get(..first_var)
            .and_then(|head| head.rfind('/'))
            .map(|slash| slash + 1)
            .unwrap_or(0);
        let (root, template) = full.split_at(split);
        let root = if root.is_empty() {
            PathBuf::from(".")
        } else {
            PathBuf::from(root)
        };
        if template.is_empty() || !stays_below(template) || template.ends_with('/') {
            return Err("a path whose variable part stays below its directory (no ..)");
        }
        Ok(Self {
            full: full.clone(),
            root,
            template: template.to_owned(),
            container,
        })
    }

    /// The configured path (a directory given has SRS's file name appended).
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The directory every file of this template is below.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// FLV or MP4.
    pub fn container(&self) -> Container {
        self.container
    }

    /// The path of a file of `key` opened at `unix_ms`, or `None` when the
    /// names would take it outside [`DvrPath::root`].
    pub fn render(&self, key: &StreamKey, unix_ms: u64) -> Option<PathBuf> {
        let date = Civil::from_unix_ms(unix_ms);
        let mut out = String::with_capacity(self.template.len() + 32);
        let mut rest = self.template.as_str();
        while let Some(open) = rest.find('[') {
            let (before, from_open) = rest.split_at(open);
            out.push_str(before);
            let Some(close) = from_open.find(']') else {
                rest = from_open;
                break;
            };
            let (group, after) = from_open.split_at(close + 1);
            // `write!` into a String cannot fail.
            let _ = match group.trim_start_matches('[').trim_end_matches(']') {
                "vhost" => write!(out, "{}", key.vhost),
                "app" => write!(out, "{}", key.app),
                "stream" => write!(out, "{}", key.stream),
                "timestamp" => write!(out, "{unix_ms}"),
                "2006" => write!(out, "{:04}", date.year),
                "01" => write!(out, "{:02}", date.month),
                "02" => write!(out, "{:02}", date.day),
                "15" => write!(out, "{:02}", date.hour),
                "04" => write!(out, "{:02}", date.minute),
                "05" => write!(out, "{:02}", date.second),
                "999" => write!(out, "{:03}", date.milli),
                _ => write!(out, "{group}"),
            };
            rest = after;
        }
        out.push_str(rest);
        (stays_below(&out) && !out.ends_with('/')).then(|| self.root.join(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(app: &str, stream: &str) -> StreamKey {
        StreamKey {
            vhost: "v.example".into(),
            app: app.into(),
            stream: stream.into(),
        }
    }

    #[test]
    fn srs_default_renders_below_its_root() {
        let p = DvrPath::default();
        assert_eq!(p.as_str(), DEFAULT_DVR_PATH);
        assert_eq!(p.root(), Path::new("./objs/nginx/html/"));
        assert_eq!(p.container(), Container::Flv);
        assert_eq!(
            p.render(&key("live", "cam"), 1_700_000_000_123),
            Some(PathBuf::from(
                "./objs/nginx/html/live/cam.1700000000123.flv"
            ))
        );
    }

    #[test]
    fn every_variable_renders() {
        let p = DvrPath::parse(
            "/data/[vhost]/[app]/[stream]/[2006]/[01]/[02]/[15].[04].[05].[999].[timestamp].mp4",
        )
        .unwrap();
        assert_eq!(p.container(), Container::Mp4);
        assert_eq!(p.root(), Path::new("/data/"));
        // 2024-02-29 23:59:59.999 UTC
        assert_eq!(
            p.render(&key("live", "s"), 1_709_251_199_999).unwrap(),
            Path::new("/data/v.example/live/s/2024/02/29/23.59.59.999.1709251199999.mp4")
        );
    }

    #[test]
    fn a_directory_gets_srs_file_name() {
        let p = DvrPath::parse("/rec/").unwrap();
        assert_eq!(p.as_str(), "/rec/[stream].[timestamp].flv");
        assert_eq!(
            p.render(&key("a", "b"), 5).unwrap(),
            Path::new("/rec/b.5.flv")
        );
        let plain = DvrPath::parse("rec.mp4").unwrap();
        assert_eq!(plain.root(), Path::new("."));
        assert_eq!(
            plain.render(&key("a", "b"), 5).unwrap(),
            Path::new("./rec.mp4")
        );
    }

    #[test]
    fn names_that_would_leave_the_root_are_refused() {
        let p = DvrPath::default();
        assert_eq!(p.render(&key("..", "x"), 1), None);
        assert_eq!(p.render(&key("live", "../../etc/x"), 1), None);
        assert!(p.render(&key("live", "a/b"), 1).is_some());
    }

    #[test]
    fn bad_templates_are_refused() {
        for bad in [
            "",
            "/data/[app]/../[stream].flv",
            "/data/[seq].flv",
            "/data/[app.flv",
            "/data/[duration]/x.mp4",
        ] {
            assert!(DvrPath::parse(bad).is_err(), "{bad}");
        }
    }
}
