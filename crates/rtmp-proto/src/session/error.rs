//! What ends a session.

use crate::aggregate::AggregateError;
use crate::chunk::ChunkError;
use crate::command::CommandError;
use crate::control::ControlError;
use crate::handshake::HandshakeError;

/// A session error. Except for [`NotPending`](Self::NotPending) (a mistake
/// of the application, which leaves the session as it was), every variant is
/// fatal for the connection: the session keeps returning it, and the runtime
/// should close this one connection and nothing else.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The handshake failed.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The chunk stream could not be decoded.
    #[error(transparent)]
    Chunk(#[from] ChunkError),
    /// A protocol control message was malformed.
    #[error(transparent)]
    Control(#[from] ControlError),
    /// An aggregate message was malformed.
    #[error(transparent)]
    Aggregate(#[from] AggregateError),
    /// A command or data message was malformed (AMF0 error, or a known
    /// command with arguments of the wrong type).
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A well-formed command arrived when the protocol does not allow it.
    #[error("unexpected {command:?}: {reason}")]
    UnexpectedCommand {
        /// The command name.
        command: String,
        /// Why it is not allowed now.
        reason: &'static str,
    },
    /// The peer holds more message streams than [`MAX_STREAMS`](super::MAX_STREAMS).
    #[error("more than {limit} message streams on one connection")]
    TooManyStreams {
        /// The limit.
        limit: usize,
    },
    /// Too many bytes arrived while the application had not answered a
    /// connect/publish/play decision ([`MAX_PENDING_INPUT`](super::MAX_PENDING_INPUT)).
    #[error("{buffered} bytes buffered while a decision is pending (limit {limit})")]
    InputBacklog {
        /// Bytes waiting in the chunk decoder.
        buffered: usize,
        /// The limit.
        limit: usize,
    },
    /// The peer does not read our replies: more than
    /// [`MAX_QUEUED_REPLY_BYTES`](super::MAX_QUEUED_REPLY_BYTES) of answers
    /// the session queued by itself (acknowledgements, ping responses,
    /// command results) wait to be written.
    #[error("peer does not read our replies: {queued} bytes queued (limit {limit})")]
    PeerNotReading {
        /// Reply bytes queued.
        queued: usize,
        /// The limit.
        limit: usize,
    },
    /// The application answered a decision the session is not waiting for
    /// (e.g. `accept_publish` for a stream that did not ask to publish). Not
    /// fatal: nothing was sent and the session is unchanged.
    #[error("no pending {decision} decision to answer")]
    NotPending {
        /// The decision the application tried to answer.
        decision: &'static str,
    },
}
