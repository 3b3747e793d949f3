//! The one response body type every handler returns: a whole buffer, or a live
//! HTTP-FLV stream.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use super::flv::FlvStream;

/// Why a streaming body ended early (hyper then closes the connection).
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The client was kicked through the API (or the server is shutting down).
    #[error("kicked")]
    Kicked,
}

/// A response body.
pub(crate) enum ResponseBody {
    /// A complete buffer (`None` once sent, or for an empty body).
    Full(Option<Bytes>),
    /// A live HTTP-FLV stream.
    Flv(Box<FlvStream>),
}

impl ResponseBody {
    /// An empty body.
    pub(crate) fn empty() -> Self {
        Self::Full(None)
    }

    /// A complete body.
    pub(crate) fn full(data: impl Into<Bytes>) -> Self {
        let data = data.into();
        if data.is_empty() {
            Self::Full(None)
        } else {
            Self::Full(Some(data))
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            Self::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Self::Flv(stream) => stream
                .poll_next_piece(cx)
                .map(|piece| piece.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            Self::Flv(_) => SizeHint::default(),
        }
    }
}
