//! What can be wrong with a command or data message body.

use crate::amf0::Amf0Error;
use crate::message::MessageType;

/// Why a command (type 20/17) or data (type 18/15) message could not be
/// decoded. Unknown command names are not errors (they decode to
/// [`Command::Unknown`](super::Command::Unknown)); known commands whose
/// arguments have the wrong type are.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The body is not valid AMF0.
    #[error("command body: {0}")]
    Amf0(#[from] Amf0Error),
    /// The message type carries no command or data message.
    #[error("message type {0:?} is not a command or data message")]
    NotCommand(MessageType),
    /// An AMF3 command or data message (type 17/15) did not start with the
    /// 0 format byte that announces an AMF0 body.
    #[error("AMF3 message format byte {0:?} is not 0 (AMF0 body)")]
    Amf3Format(Option<u8>),
    /// The body is empty or its first value is not a string: there is no
    /// command (or handler) name (spec 7.1.1).
    #[error("command has no name (first value is not a string)")]
    MissingName,
    /// A required argument of a known command is absent.
    #[error("{command}: missing argument {index} ({what})")]
    MissingArgument {
        /// The command name.
        command: &'static str,
        /// Position of the value in the body (0 is the name).
        index: usize,
        /// What the argument is.
        what: &'static str,
    },
    /// An argument of a known command has the wrong AMF0 type or range.
    #[error("{command}: argument {index} ({what}) has the wrong type or value")]
    InvalidArgument {
        /// The command name.
        command: &'static str,
        /// Position of the value in the body (0 is the name).
        index: usize,
        /// What the argument should be.
        what: &'static str,
    },
}
