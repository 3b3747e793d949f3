//! Shared by this crate's integration tests: where the captured corpus lives.
#![allow(unused_imports)]

pub use test_corpus::{corpus_dir, corpus_file};
