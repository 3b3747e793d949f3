//! Shared by this crate's integration tests: where the captured corpus lives.
#![allow(dead_code)]

use std::path::PathBuf;

/// The corpus of real captures (`../shared/corpus` beside the repo). Override
/// with `RTMP_CORPUS_DIR`. It is absent in a user's fresh clone, so callers
/// skip with a clear notice when this returns `None`.
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

/// Reads one corpus file, or `None` (with the notice) when the corpus is absent.
pub fn corpus_file(rel: &str) -> Option<Vec<u8>> {
    let path = corpus_dir()?.join(rel);
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display())))
}

/// Loads a corpus capture and names it by its corpus path, so reports do
/// not depend on where the corpus lives.
pub fn corpus_capture(rel: &str) -> Option<conformance::Capture> {
    let path = corpus_dir()?.join(rel);
    let mut capture = conformance::Capture::load(&path)
        .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
    capture.name = format!("corpus/{rel}");
    Some(capture)
}

/// Loads one of the project's own captures (`crates/conformance/captures`).
pub fn own_capture(file: &str) -> conformance::Capture {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(file);
    let mut capture = conformance::Capture::load(&path)
        .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
    capture.name = format!("captures/{file}");
    capture
}

/// Replays with the default options (seed 1, default server config).
pub fn replay(capture: &conformance::Capture) -> conformance::Report {
    conformance::replay(capture, &conformance::ReplayOptions::default()).expect("replay runs")
}
