//! Who may publish or play, decided before any hook is asked: SRS's
//! `security` (by client address) and `refer` (by the page the client was
//! embedded in).
//!
//! SCAFFOLD: the interface the stream lifecycle calls.

pub mod refer;
pub mod security;

pub use refer::{ReferConfig, ReferDenied};
pub use security::{SecurityConfig, SecurityDenied};

/// What a client asks to do with a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Publish.
    Publish,
    /// Play.
    Play,
}
