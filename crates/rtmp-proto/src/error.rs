//! The crate-level error: one connection's fatal protocol error.
//!
//! Each module has its own error enum naming exactly what was wrong; this enum
//! wraps them so a runtime can close the one connection and log the reason.

/// A protocol error. Whatever the variant, the right reaction is to close the
/// connection it came from and nothing else.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parser ran past the end of a field that claimed more bytes than it had.
    #[error(transparent)]
    Truncated(#[from] crate::reader::Truncated),
    /// An AMF0 command or data body was malformed.
    #[error(transparent)]
    Amf0(#[from] crate::amf0::Amf0Error),
    /// The handshake failed (bad version byte).
    #[error(transparent)]
    Handshake(#[from] crate::handshake::HandshakeError),
    /// The chunk stream could not be decoded.
    #[error(transparent)]
    Chunk(#[from] crate::chunk::ChunkError),
    /// A protocol control message body was malformed.
    #[error(transparent)]
    Control(#[from] crate::control::ControlError),
    /// An aggregate message body was malformed.
    #[error(transparent)]
    Aggregate(#[from] crate::aggregate::AggregateError),
    /// A command or data message was malformed.
    #[error(transparent)]
    Command(#[from] crate::command::CommandError),
    /// A server or client session failed.
    #[error(transparent)]
    Session(#[from] crate::session::SessionError),
}
