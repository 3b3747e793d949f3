//! `server-core` on tokio: the runtime adapter behind the `rtmp-server` binary.
//!
//! A library as well as a binary so that `server-core`'s own in-process tests
//! run on exactly the adapter production uses, not a copy of it.

pub mod runtime;

pub use runtime::{TokioConn, TokioRuntime};
