//! Where the corpus of real captures lives, for every crate's tests.
//!
//! The corpus (captured RTMP sessions, handshake vectors, sample FLV and HLS
//! files) is kept outside this repository, in `../shared/corpus` beside the
//! checkout, and read in place. A user's fresh clone lacks it, so tests that
//! need it ask here and skip with a clear notice when it is absent; the
//! `RTMP_CORPUS_DIR` environment variable points elsewhere.

use std::path::PathBuf;

/// The corpus directory, or `None` (after printing a notice saying where it
/// was looked for) when it is absent.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("RTMP_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
        });
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "NOTICE: corpus not found at {} (set RTMP_CORPUS_DIR); skipping corpus checks",
            dir.display()
        );
        None
    }
}

/// A path inside the corpus, or `None` (with the notice) when the corpus is absent.
pub fn corpus_path(rel: &str) -> Option<PathBuf> {
    Some(corpus_dir()?.join(rel))
}

/// Reads one corpus file, or `None` (with the notice) when the corpus is
/// absent. A corpus that is present but lacks the file is a broken checkout:
/// that panics, naming the file.
pub fn corpus_file(rel: &str) -> Option<Vec<u8>> {
    let path = corpus_path(rel)?;
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display())))
}
