//! Socket helpers shared by the RTMP and HTTP sides.

use std::io::{self, IoSlice};

use bytes::{Buf, Bytes};
use futures_io::AsyncWrite;
use futures_util::AsyncWriteExt;

/// The most slices handed to one `writev` (Linux `IOV_MAX` is 1024).
const MAX_IOVECS: usize = 512;

/// Writes every piece with vectored writes, handling partial writes. The pieces
/// are shared `Bytes` (chunk headers and payload slices), so nothing is copied
/// into an intermediate buffer.
pub async fn write_all_vectored<W: AsyncWrite + Unpin + ?Sized>(
    writer: &mut W,
    pieces: &mut Vec<Bytes>,
) -> io::Result<usize> {
    let mut written_total = 0;
    let mut start = 0;
    while start < pieces.len() {
        if pieces[start].is_empty() {
            start += 1;
            continue;
        }
        let end = (start + MAX_IOVECS).min(pieces.len());
        let slices: Vec<IoSlice<'_>> = pieces[start..end].iter().map(|b| IoSlice::new(b)).collect();
        let mut n = writer.write_vectored(&slices).await?;
        drop(slices);
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        written_total += n;
        while n > 0 && start < pieces.len() {
            let len = pieces[start].len();
            if n >= len {
                n -= len;
                start += 1;
            } else {
                pieces[start].advance(n);
                n = 0;
            }
        }
    }
    pieces.clear();
    writer.flush().await?;
    Ok(written_total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A writer that accepts at most 3 bytes per call, to exercise partial writes.
    struct Trickle(Vec<u8>);

    impl AsyncWrite for Trickle {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(3);
            self.get_mut().0.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn partial_writes_deliver_every_byte_in_order() {
        let mut w = Trickle(Vec::new());
        let mut pieces = vec![
            Bytes::from_static(b"hello"),
            Bytes::new(),
            Bytes::from_static(b", "),
            Bytes::from_static(b"world"),
        ];
        let n = futures_util::FutureExt::now_or_never(write_all_vectored(&mut w, &mut pieces))
            .expect("ready")
            .expect("ok");
        assert_eq!(n, 12);
        assert_eq!(w.0, b"hello, world");
        assert!(pieces.is_empty());
    }
}
