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
    /// The stable integer code of this error (always negative): the C
    /// ABI's `RTMP_CLIENT_E*`.
    pub fn code(&self) -> i32 {
        use crate::ffi::*;
        match self {
            ClientError::Url(_) => RTMP_CLIENT_EURL,
            ClientError::Resolve { .. } => RTMP_CLIENT_ERESOLVE,
            ClientError::Connect { .. } => RTMP_CLIENT_ECONNECT,
            ClientError::Timeout(_) => RTMP_CLIENT_ETIMEOUT,
            ClientError::Io(_) => RTMP_CLIENT_EIO,
            ClientError::Session(_) => RTMP_CLIENT_EPROTOCOL,
            ClientError::Closed => RTMP_CLIENT_ECLOSED,
            ClientError::Refused(_) => RTMP_CLIENT_EREFUSED,
            ClientError::State(_) => RTMP_CLIENT_ESTATE,
            ClientError::Media(_) => RTMP_CLIENT_EMEDIA,
        }
    }

    /// Maps a socket error: a timeout (`WouldBlock` or `TimedOut`, how
    /// `std::net` reports one) names what was awaited; a reset is a close.
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
