//! The one response body type every handler returns: a whole buffer, shared
//! buffers sent as one (an LL-HLS segment from memory), a file read a piece
//! at a time, or a live HTTP-FLV stream.

use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use hyper::body::{Body, Frame, SizeHint};

use super::flv::FlvStream;
use super::pieces::{Pieces, MAX_PIECES};
use crate::fs::READ_PIECE_BYTES;
use crate::runtime::{BoxFuture, FileReader};

/// Why a streaming body ended early (hyper then closes the connection).
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The client was kicked through the API (or the server is shutting down).
    #[error("kicked")]
    Kicked,
    /// Reading the file being sent failed, or it became shorter than the
    /// length already announced.
    #[error("file: {0}")]
    File(#[from] io::Error),
}

/// A response body.
pub(crate) enum ResponseBody {
    /// A complete buffer (`None` once sent, or for an empty body).
    Full(Option<Bytes>),
    /// A complete body made of shared buffers (an LL-HLS segment held as
    /// its parts' `Bytes`), never copied: sent [`MAX_PIECES`] buffers a
    /// frame, each frame one vectored write.
    Shared(Pieces),
    /// A file, or part of one.
    File(Box<FileBody>),
    /// A live HTTP-FLV stream.
    Flv(Box<FlvStream>),
}

/// A byte range of an open file, read one piece at a time: at most one piece
/// ([`READ_PIECE_BYTES`]) is in memory per response, however large the file.
pub(crate) struct FileBody {
    reader: Box<dyn FileReader>,
    /// What is left to send.
    left: Range<u64>,
    /// The piece being read.
    reading: Option<BoxFuture<'static, io::Result<Bytes>>>,
}

impl FileBody {
    /// The bytes `range` of `reader`'s file (the caller keeps it inside the file).
    pub(crate) fn new(reader: Box<dyn FileReader>, range: Range<u64>) -> Self {
        Self {
            reader,
            left: range,
            reading: None,
        }
    }

    /// Bytes still to send.
    pub(crate) fn remaining(&self) -> u64 {
        self.left.end.saturating_sub(self.left.start)
    }

    fn poll_piece(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BodyError>>> {
        let want = self.remaining();
        if want == 0 {
            return Poll::Ready(None);
        }
        let reading = self.reading.get_or_insert_with(|| {
            let max = usize::try_from(want).map_or(READ_PIECE_BYTES, |w| w.min(READ_PIECE_BYTES));
            self.reader.read_at(self.left.start, max)
        });
        let result = ready!(reading.as_mut().poll(cx));
        self.reading = None;
        let piece = match result {
            Ok(piece) if piece.is_empty() => {
                let e =
                    io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank while being sent");
                return Poll::Ready(Some(Err(e.into())));
            }
            Ok(mut piece) => {
                piece.truncate(usize::try_from(want).unwrap_or(usize::MAX));
                piece
            }
            Err(e) => return Poll::Ready(Some(Err(e.into()))),
        };
        self.left.start += piece.len() as u64;
        Poll::Ready(Some(Ok(piece)))
    }
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
    type Data = Pieces;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Pieces>, BodyError>>> {
        match self.get_mut() {
            Self::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d.into())))),
            Self::Shared(pieces) => Poll::Ready(
                (pieces.count() > 0).then(|| Ok(Frame::data(pieces.take_front(MAX_PIECES)))),
            ),
            Self::File(file) => file
                .poll_piece(cx)
                .map(|piece| piece.map(|r| r.map(|b| Frame::data(b.into())))),
            Self::Flv(stream) => stream
                .poll_next_pieces(cx)
                .map(|pieces| pieces.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Full(data) => data.is_none(),
            Self::Shared(pieces) => pieces.count() == 0,
            Self::File(file) => file.remaining() == 0,
            Self::Flv(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            Self::Shared(pieces) => SizeHint::with_exact(pieces.remaining() as u64),
            Self::File(file) => SizeHint::with_exact(file.remaining()),
            Self::Flv(_) => SizeHint::default(),
        }
    }
}
