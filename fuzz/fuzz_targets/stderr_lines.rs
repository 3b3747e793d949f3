//! A child's standard error (ffmpeg's, `server_core::process::LineReader`):
//! any bytes, cut into reads of any size, give lines without `\n` or `\r`
//! and none longer than the bound (after lossy UTF-8, at most 3 bytes per
//! byte read), and the reader ends.
#![no_main]
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use server_core::process::{LineReader, MAX_STDERR_LINE};

/// Reads `data` in pieces of the sizes its first byte picks.
struct Pieces<'a> {
    data: &'a [u8],
    step: usize,
}

impl futures_io::AsyncRead for Pieces<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(n))
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, data)) = data.split_first() else {
        return;
    };
    let mut reader = LineReader::new(Pieces {
        data,
        step: usize::from(step).max(1),
    });
    let mut cx = Context::from_waker(Waker::noop());
    let mut lines = 0usize;
    loop {
        let mut next = std::pin::pin!(reader.next_line());
        let Poll::Ready(line) = next.as_mut().poll(&mut cx) else {
            panic!("an in-memory reader never waits");
        };
        match line.expect("in-memory reads do not fail") {
            None => break,
            Some(line) => {
                assert!(!line.is_empty());
                assert!(!line.contains(['\n', '\r']));
                assert!(line.len() <= 3 * MAX_STDERR_LINE);
                lines += 1;
                assert!(lines <= data.len());
            }
        }
    }
});
