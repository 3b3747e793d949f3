//! Request paths to file-system paths, with traversal made impossible.
//!
//! The path is percent-decoded first (RFC 3986 2.1), then split on `/` into
//! segments; a `..` segment (however it was spelled: `..`, `%2e%2e`, `.%2E`),
//! a NUL or a backslash refuses the request. Decoded `/` (`%2F`) splits too, so
//! it cannot smuggle a separator inside a segment. What remains can only name
//! something below the root it is joined to.

use std::path::{Path, PathBuf};

/// Most segments in a request path.
pub const MAX_SEGMENTS: usize = 32;

/// Why a request path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A `%` not followed by two hex digits.
    #[error("bad percent-encoding")]
    BadEscape,
    /// The decoded path is not UTF-8.
    #[error("path is not UTF-8")]
    NotUtf8,
    /// A `..` segment, NUL or backslash: an attempt to leave the root.
    #[error("path traversal refused")]
    Traversal,
    /// More than [`MAX_SEGMENTS`] segments.
    #[error("path too deep")]
    TooDeep,
}

/// A decoded, validated request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPath {
    /// Decoded non-empty segments; never `.` or `..`.
    pub segments: Vec<String>,
    /// The path ended with `/` (or was `/`): it names a directory.
    pub dir: bool,
}

/// Decodes `%XX` escapes. `+` stays `+` (that rule is for query strings).
pub fn percent_decode(raw: &str) -> Result<Vec<u8>, PathError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = bytes
                .next()
                .and_then(hex_value)
                .ok_or(PathError::BadEscape)?;
            let lo = bytes
                .next()
                .and_then(hex_value)
                .ok_or(PathError::BadEscape)?;
            out.push(hi << 4 | lo);
        } else {
            out.push(b);
        }
    }
    Ok(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl UrlPath {
    /// Decodes and validates the path part of a request URI.
    pub fn parse(raw: &str) -> Result<Self, PathError> {
        let decoded = String::from_utf8(percent_decode(raw)?).map_err(|_| PathError::NotUtf8)?;
        let mut segments = Vec::new();
        for segment in decoded.split('/') {
            match segment {
                "" | "." => continue,
                ".." => return Err(PathError::Traversal),
                s if s.contains(['\0', '\\']) => return Err(PathError::Traversal),
                s => {
                    if segments.len() >= MAX_SEGMENTS {
                        return Err(PathError::TooDeep);
                    }
                    segments.push(s.to_owned());
                }
            }
        }
        let dir = segments.is_empty() || decoded.ends_with('/');
        Ok(Self { segments, dir })
    }

    /// The decoded path with a leading `/` (and a trailing one for directories).
    pub fn to_path_string(&self) -> String {
        let mut s = String::new();
        for seg in &self.segments {
            s.push('/');
            s.push_str(seg);
        }
        if self.dir {
            s.push('/');
        }
        s
    }

    /// The file this path names below `root`; a directory maps to its `index.html`.
    pub fn file_under(&self, root: &Path) -> PathBuf {
        let mut path = root.to_path_buf();
        for seg in &self.segments {
            path.push(seg);
        }
        if self.dir {
            path.push("index.html");
        }
        path
    }

    /// The last segment's extension, lowercased (`""` when none).
    pub fn extension(&self) -> String {
        match self.segments.last() {
            Some(name) if !self.dir => name
                .rsplit_once('.')
                .map(|(_, ext)| ext.to_ascii_lowercase())
                .unwrap_or_default(),
            _ => String::new(),
        }
    }
}

/// Percent-encodes one path segment for use in a link (RFC 3986 `pchar`
/// minus the sub-delims that could confuse a reader).
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes each segment of a `/`-separated path, keeping the slashes.
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_splits() {
        let p = UrlPath::parse("/live/cam%201.m3u8").unwrap();
        assert_eq!(p.segments, ["live", "cam 1.m3u8"]);
        assert!(!p.dir);
        assert_eq!(p.extension(), "m3u8");
        assert_eq!(
            p.file_under(Path::new("/srv")),
            Path::new("/srv/live/cam 1.m3u8")
        );

        let root = UrlPath::parse("/").unwrap();
        assert!(root.dir && root.segments.is_empty());
        assert_eq!(
            root.file_under(Path::new("/srv")),
            Path::new("/srv/index.html")
        );

        let dir = UrlPath::parse("/players//./x/").unwrap();
        assert_eq!(dir.segments, ["players", "x"]);
        assert!(dir.dir);
        assert_eq!(dir.to_path_string(), "/players/x/");
        assert_eq!(dir.extension(), "");
    }

    #[test]
    fn traversal_is_refused_however_spelled() {
        for raw in [
            "/../etc/passwd",
            "/live/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/.%2E/x",
            "/live/%2E%2e%2fetc",
            "/a%2f..%2fb",
            "/x%00.ts",
            "/..%5c..%5cwin.ini",
            "/a\\b",
        ] {
            assert_eq!(UrlPath::parse(raw), Err(PathError::Traversal), "{raw}");
        }
        // Encoded slashes split like real ones, so nothing escapes the root.
        let p = UrlPath::parse("/live%2Fcam.ts").unwrap();
        assert_eq!(p.segments, ["live", "cam.ts"]);
        // Dots inside names are fine.
        assert!(UrlPath::parse("/a..b/..c").is_ok());
    }

    #[test]
    fn refuses_bad_escapes_non_utf8_and_deep_paths() {
        assert_eq!(UrlPath::parse("/a%2"), Err(PathError::BadEscape));
        assert_eq!(UrlPath::parse("/a%zz"), Err(PathError::BadEscape));
        assert_eq!(UrlPath::parse("/%ff%fe"), Err(PathError::NotUtf8));
        let deep = "/a".repeat(MAX_SEGMENTS + 1);
        assert_eq!(UrlPath::parse(&deep), Err(PathError::TooDeep));
        assert!(UrlPath::parse(&"/a".repeat(MAX_SEGMENTS)).is_ok());
    }

    #[test]
    fn encoding_round_trips_through_parse() {
        let name = "cam 1/<x>&\"é\"";
        let encoded = encode_segment(name);
        assert!(!encoded.contains(['/', '<', '&', '"', ' ']));
        let p = UrlPath::parse(&format!("/live/{encoded}")).unwrap();
        // The decoded `/` splits, as any `/` does.
        assert_eq!(p.segments, ["live", "cam 1", "<x>&\"é\""]);
        assert_eq!(encode_path("live/a b.flv"), "live/a%20b.flv");
    }
}
