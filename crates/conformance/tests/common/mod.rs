//! Shared by this crate's integration tests: where the captured corpus lives.
#![allow(dead_code, unused_imports)]

use std::path::PathBuf;
pub use test_corpus::{corpus_dir, corpus_file};

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
