//! A connection's pending output, written with vectored writes straight from
//! shared buffers.
//!
//! A player's output is mostly media messages whose chunk encoding is shared
//! by every player (`rtmp_proto::chunk::EncodedMessage`). Queuing the message
//! itself, rather than a clone of each of its pieces, costs one reference
//! count per message per player; the pieces are only borrowed, for the
//! duration of one `writev`, and nothing is copied into an intermediate buffer.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_io::AsyncWrite;
use rtmp_proto::chunk::EncodedMessage;

/// The most slices handed to one `writev` (Linux `IOV_MAX` is 1024; the
/// slices live on the stack while the call is made).
const MAX_IOVECS: usize = 64;
/// Room for queued items kept between writes (a merge window's worth).
const KEEP_ITEMS: usize = 64;

/// One thing to write.
#[derive(Debug, Clone)]
pub enum OutPiece {
    /// Bytes of the connection's own (session) output.
    Bytes(Bytes),
    /// A shared, chunk-encoded message.
    Message(EncodedMessage),
}

impl OutPiece {
    fn parts(&self) -> &[Bytes] {
        match self {
            OutPiece::Bytes(b) => std::slice::from_ref(b),
            OutPiece::Message(m) => m.pieces(),
        }
    }
}

/// Pending output and how far it has been written.
#[derive(Debug, Default)]
pub struct Outbox {
    items: Vec<OutPiece>,
    /// Position of the next unwritten byte: item, part within it, offset.
    item: usize,
    part: usize,
    offset: usize,
}

impl Outbox {
    /// Queues bytes.
    pub fn push_bytes(&mut self, bytes: Bytes) {
        if !bytes.is_empty() {
            self.items.push(OutPiece::Bytes(bytes));
        }
    }

    /// Queues a shared message.
    pub fn push_message(&mut self, message: EncodedMessage) {
        self.items.push(OutPiece::Message(message));
    }

    /// True when nothing is left to write.
    pub fn is_empty(&self) -> bool {
        self.item >= self.items.len()
    }

    /// Fills `slices` from the current position; returns how many.
    fn slices<'a>(&'a self, slices: &mut [IoSlice<'a>; MAX_IOVECS]) -> usize {
        let mut n = 0;
        let (mut part, mut offset) = (self.part, self.offset);
        for item in self.items.iter().skip(self.item) {
            for bytes in item.parts().iter().skip(part) {
                let rest = bytes.get(offset..).unwrap_or_default();
                offset = 0;
                if rest.is_empty() {
                    continue;
                }
                if n == MAX_IOVECS {
                    return n;
                }
                slices[n] = IoSlice::new(rest);
                n += 1;
            }
            part = 0;
        }
        n
    }

    /// Moves the position forward by `n` written bytes.
    fn advance(&mut self, mut n: usize) {
        while let Some(item) = self.items.get(self.item) {
            let parts = item.parts();
            while let Some(bytes) = parts.get(self.part) {
                let left = bytes.len().saturating_sub(self.offset);
                if n < left {
                    self.offset += n;
                    return;
                }
                n -= left;
                self.part += 1;
                self.offset = 0;
            }
            self.item += 1;
            self.part = 0;
        }
    }

    /// Writes what is left, as far as the writer takes it without blocking.
    /// Returns `Ready(Ok(bytes))` once everything is written (and then empties
    /// the box); partial progress is kept across `Pending`.
    pub fn poll_write_all<W: AsyncWrite + Unpin + ?Sized>(
        &mut self,
        cx: &mut Context<'_>,
        writer: &mut W,
        written: &mut usize,
    ) -> Poll<io::Result<()>> {
        while !self.is_empty() {
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let count = self.slices(&mut slices);
            if count == 0 {
                // Only empty pieces were left.
                break;
            }
            let n = match Pin::new(&mut *writer).poll_write_vectored(cx, &slices[..count]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            *written += n;
            self.advance(n);
        }
        match Pin::new(&mut *writer).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                if self.items.capacity() > KEEP_ITEMS {
                    // A join burst must not leave every player holding room for it.
                    self.items = Vec::new();
                } else {
                    self.items.clear();
                }
                self.item = 0;
                self.part = 0;
                self.offset = 0;
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }

    /// Writes everything; returns the bytes written.
    pub async fn write_all<W: AsyncWrite + Unpin + ?Sized>(
        &mut self,
        writer: &mut W,
    ) -> io::Result<usize> {
        let mut written = 0;
        poll_fn(|cx| self.poll_write_all(cx, writer, &mut written)).await?;
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtmp_proto::chunk::encode_shared;
    use rtmp_proto::{MessageType, RawMessage};

    /// A writer that accepts at most `limit` bytes per call and refuses every
    /// other call, to exercise partial writes and `Pending`.
    struct Trickle {
        out: Vec<u8>,
        limit: usize,
        calls: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let me = self.get_mut();
            me.calls += 1;
            if me.calls.is_multiple_of(2) {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let n = buf.len().min(me.limit);
            me.out.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn message(payload: &'static [u8]) -> EncodedMessage {
        encode_shared(
            4,
            &RawMessage {
                csid: 6,
                timestamp: 7,
                type_id: MessageType::Video,
                stream_id: 1,
                payload: Bytes::from_static(payload),
            },
        )
    }

    fn flat(m: &EncodedMessage) -> Vec<u8> {
        m.pieces().iter().flat_map(|b| b.to_vec()).collect()
    }

    #[test]
    fn partial_writes_deliver_every_byte_in_order() {
        for limit in [1, 3, 7, 1000] {
            let mut w = Trickle {
                out: Vec::new(),
                limit,
                calls: 0,
            };
            let a = message(b"0123456789");
            let b = message(b"abcdefghijklmnopq");
            let mut outbox = Outbox::default();
            outbox.push_bytes(Bytes::from_static(b"hello"));
            outbox.push_bytes(Bytes::new());
            outbox.push_message(a.clone());
            outbox.push_bytes(Bytes::from_static(b", "));
            outbox.push_message(b.clone());
            let n = futures_executor_block_on(outbox.write_all(&mut w)).expect("ok");
            let mut want = b"hello".to_vec();
            want.extend(flat(&a));
            want.extend_from_slice(b", ");
            want.extend(flat(&b));
            assert_eq!(n, want.len(), "limit {limit}");
            assert_eq!(w.out, want, "limit {limit}");
            assert!(outbox.is_empty());
            // Reusable once drained.
            outbox.push_bytes(Bytes::from_static(b"!"));
            assert!(!outbox.is_empty());
        }
    }

    #[test]
    fn more_pieces_than_one_writev_takes() {
        let mut w = Trickle {
            out: Vec::new(),
            limit: usize::MAX,
            calls: 0,
        };
        let mut outbox = Outbox::default();
        let mut want = Vec::new();
        for i in 0..(MAX_IOVECS * 3 + 5) {
            let b = Bytes::from(vec![(i % 251) as u8; 1 + i % 5]);
            want.extend_from_slice(&b);
            outbox.push_bytes(b);
        }
        futures_executor_block_on(outbox.write_all(&mut w)).expect("ok");
        assert_eq!(w.out, want);
    }

    /// Polls to completion; the test writers wake themselves when pending.
    fn futures_executor_block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..100_000 {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
        panic!("did not complete");
    }
}
