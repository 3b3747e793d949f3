//! One error type for every API of the crate, and the integer codes the C
//! ABI reports it as (srs-librtmp returned codes too; ours are small,
//! stable and negative so `>= 0` means success in C).

use rtmp_proto::session::SessionError;
use rtmp_proto::url::RtmpUrlError;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL is not `rtmp://host[:port]/app/stream[?query]`.
    #[error("bad url: {0}")]
    Url(#[from] RtmpUrlError),
    /// The host has no address, or the resolver failed.
    #[error("cannot resolve {host}: {error}")]
    Resolve {
        /// The host.
        host: String,
        /// Why.
        error: std::io::Error,
    },
    /// No address took the TCP connection.
    #[error("cannot connect to {addr}: {error}")]
    Connect {
        /// The last address tried.
        addr: String,
        /// Why.
        error: std::io::Error,
    },
    /// A read, write or setup step did not finish in time.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// Socket error.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The server broke the protocol.
    #[error("rtmp: {0}")]
    Session(#[from] SessionError),
    /// The server closed the connection.
    #[error("closed by the server")]
    Closed,
    /// The server refused `connect`, `publish` or `play`.
    #[error("refused: {0}")]
    Refused(String),
    /// A call came out of order (publish before connect, write while playing...).
    #[error("call out of order: {0}")]
    State(&'static str),
    /// Media handed to the client could not be packaged (bad Annex-B, ADTS,
    /// FLV tag...).
    #[error("media: {0}")]
    Media(String),
}

/// Result of a client call.
pub type Result<T> = std::result::Result<T, ClientError>;

/// The C ABI's error codes (`RTMP_CLIENT_E*` in the header).
impl ClientError {
    /// The stable integer code of this error (always negative).
    pub fn code(&self) -> i32 {
        match self {
            ClientError::Url(_) => -2,
            ClientError::Resolve { .. } => -3,
            ClientError::Connect { .. } => -4,
            ClientError::Timeout(_) => -5,
            ClientError::Io(_) => -6,
            ClientError::Session(_) => -7,
            ClientError::Closed => -8,
            ClientError::Refused(_) => -9,
            ClientError::State(_) => -10,
            ClientError::Media(_) => -11,
        }
    }

    /// Whether this error is a timeout (an I/O error of kind `WouldBlock`
    /// or `TimedOut`, which is how `std::net` reports a socket timeout).
    pub(crate) fn from_io(error: std::io::Error, waiting_for: &'static str) -> Self {
        match error.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                ClientError::Timeout(waiting_for)
            }
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::BrokenPipe => ClientError::Closed,
            _ => ClientError::Io(error),
        }
    }
}
