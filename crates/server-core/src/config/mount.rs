//! HTTP-FLV mount templates (SRS `http_remux { mount [vhost]/[app]/[stream].flv; }`).
//!
//! A template maps a stream to a URL path and back. Variables: `[vhost]`,
//! `[app]` and `[stream]`; `[app]` and `[stream]` must each appear exactly
//! once. For `__defaultVhost__`, `[vhost]/` is removed, as SRS does, so the
//! default template serves `/live/livestream.flv`.

use super::model::DEFAULT_VHOST;

/// Only `.flv` mounts are served today; SRS's `.ts`, `.aac` and `.mp3` remuxers
/// are refused as not supported.
pub const MOUNT_EXTENSION: &str = ".flv";

/// Why a mount template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MountError {
    /// An SRS remux format not implemented here (`.ts`, `.aac`, `.mp3`).
    #[error("HTTP remux to '{0}' is not supported yet")]
    UnsupportedExtension(String),
    /// Not a usable template.
    #[error("{0}")]
    Invalid(&'static str),
}

/// A validated mount template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountTemplate {
    text: String,
}

#[derive(Debug, PartialEq, Eq)]
enum Part<'a> {
    Lit(&'a str),
    Vhost,
    App,
    Stream,
}

/// Splits a template into literals and variables; `None` on an unknown or
/// unclosed `[...]`.
fn parts(text: &str) -> Option<Vec<Part<'_>>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let (lit, from) = rest.split_at(open);
        if !lit.is_empty() {
            out.push(Part::Lit(lit));
        }
        let close = from.find(']')?;
        let (group, after) = from.split_at(close.saturating_add(1));
        out.push(match group {
            "[vhost]" => Part::Vhost,
            "[app]" => Part::App,
            "[stream]" => Part::Stream,
            _ => return None,
        });
        rest = after;
    }
    if rest.contains(']') {
        return None;
    }
    if !rest.is_empty() {
        out.push(Part::Lit(rest));
    }
    Some(out)
}

impl MountTemplate {
    /// SRS's default, `[vhost]/[app]/[stream].flv`.
    pub fn srs_default() -> Self {
        Self {
            text: "[vhost]/[app]/[stream].flv".to_owned(),
        }
    }

    /// Validates `text`.
    pub fn parse(text: &str) -> Result<Self, MountError> {
        for ext in [".ts", ".aac", ".mp3", ".m4a", ".mp4"] {
            if text.ends_with(ext) {
                return Err(MountError::UnsupportedExtension(ext.to_owned()));
            }
        }
        if !text.ends_with(MOUNT_EXTENSION) {
            return Err(MountError::Invalid("a path ending in .flv"));
        }
        if text
            .chars()
            .any(|c| c.is_whitespace() || c == '?' || c == '#')
        {
            return Err(MountError::Invalid("a URL path without spaces, '?' or '#'"));
        }
        let parts = parts(text).ok_or(MountError::Invalid(
            "only the variables [vhost], [app] and [stream]",
        ))?;
        let count = |p: Part<'_>| parts.iter().filter(|x| **x == p).count();
        if count(Part::App) != 1 || count(Part::Stream) != 1 {
            return Err(MountError::Invalid("[app] and [stream] exactly once each"));
        }
        Ok(Self {
            text: text.to_owned(),
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The template for `vhost`, with `[vhost]` resolved and a leading `/`.
    fn for_vhost(&self, vhost: &str) -> String {
        let t = if vhost == DEFAULT_VHOST {
            self.text.replace("[vhost]/", "").replace("[vhost]", "")
        } else {
            self.text.replace("[vhost]", vhost)
        };
        if t.starts_with('/') {
            t
        } else {
            format!("/{t}")
        }
    }

    /// The URL path of `vhost/app/stream`.
    pub fn render(&self, vhost: &str, app: &str, stream: &str) -> String {
        self.for_vhost(vhost)
            .replace("[app]", app)
            .replace("[stream]", stream)
    }

    /// The `(app, stream)` a request path names under `vhost`, if it matches.
    /// `[app]` and `[stream]` match one or more characters other than `/`.
    pub fn match_path(&self, vhost: &str, path: &str) -> Option<(String, String)> {
        let template = self.for_vhost(vhost);
        let parts = parts(&template)?;
        let mut caps = (None, None);
        if match_parts(&parts, path, &mut caps) {
            if let (Some(app), Some(stream)) = caps {
                return Some((app.to_owned(), stream.to_owned()));
            }
        }
        None
    }
}

/// Backtracking match; at most two variables, so at most quadratic.
fn match_parts<'p>(
    parts: &[Part<'_>],
    s: &'p str,
    caps: &mut (Option<&'p str>, Option<&'p str>),
) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return s.is_empty();
    };
    match first {
        Part::Lit(lit) => s
            .strip_prefix(lit)
            .is_some_and(|tail| match_parts(rest, tail, caps)),
        // `[vhost]` was resolved before matching; a literal `[vhost]` in a
        // vhost name cannot match a real path.
        Part::Vhost => false,
        Part::App | Part::Stream => {
            let limit = s.find('/').unwrap_or(s.len());
            for end in (1..=limit).rev() {
                let (Some(value), Some(tail)) = (s.get(..end), s.get(end..)) else {
                    continue;
                };
                let saved = *caps;
                if *first == Part::App {
                    caps.0 = Some(value);
                } else {
                    caps.1 = Some(value);
                }
                if match_parts(rest, tail, caps) {
                    return true;
                }
                *caps = saved;
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_template_for_default_vhost() {
        let m = MountTemplate::srs_default();
        assert_eq!(m.render(DEFAULT_VHOST, "live", "cam"), "/live/cam.flv");
        assert_eq!(
            m.match_path(DEFAULT_VHOST, "/live/cam.flv"),
            Some(("live".into(), "cam".into()))
        );
        assert_eq!(m.match_path(DEFAULT_VHOST, "/live/cam.m3u8"), None);
        assert_eq!(m.match_path(DEFAULT_VHOST, "/a/b/cam.flv"), None);
        assert_eq!(m.match_path(DEFAULT_VHOST, "/live/.flv"), None);
    }

    #[test]
    fn named_vhost_is_part_of_the_path() {
        let m = MountTemplate::srs_default();
        assert_eq!(
            m.render("v.example", "live", "a.b"),
            "/v.example/live/a.b.flv"
        );
        assert_eq!(
            m.match_path("v.example", "/v.example/live/a.b.flv"),
            Some(("live".into(), "a.b".into()))
        );
        assert_eq!(m.match_path("v.example", "/live/a.flv"), None);
    }

    #[test]
    fn custom_templates() {
        let m = MountTemplate::parse("/flv/[stream]-[app].flv").unwrap();
        assert_eq!(
            m.match_path(DEFAULT_VHOST, "/flv/x-y-live.flv"),
            Some(("live".into(), "x-y".into()))
        );
        assert_eq!(m.render(DEFAULT_VHOST, "live", "s"), "/flv/s-live.flv");
    }

    #[test]
    fn refuses_bad_templates() {
        assert!(matches!(
            MountTemplate::parse("[vhost]/[app]/[stream].ts"),
            Err(MountError::UnsupportedExtension(_))
        ));
        assert!(MountTemplate::parse("[app]/[stream].mkv").is_err());
        assert!(MountTemplate::parse("[app]/x.flv").is_err());
        assert!(MountTemplate::parse("[app]/[stream]/[stream].flv").is_err());
        assert!(MountTemplate::parse("[app]/[name].flv").is_err());
        assert!(MountTemplate::parse("[app/[stream].flv").is_err());
        assert!(MountTemplate::parse("[app]/[stream]].flv").is_err());
        assert!(MountTemplate::parse("[app]/[stream] x.flv").is_err());
    }
}
