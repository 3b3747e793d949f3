//! Several shared buffers handed to hyper as one body frame, so they leave in
//! one vectored write.
//!
//! hyper queues at most 16 frames before it flushes and frames each one of a
//! chunked body with two more buffers, so an HTTP-FLV player whose tags went
//! out as one frame per header and per payload cost several `writev`s per
//! merge window where an RTMP player costs one. A window's tags as one
//! [`Pieces`] frame go out together, each payload still the publisher's shared
//! `Bytes`, never copied.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::ops::Range;

use bytes::{Buf, Bytes};

/// Most pieces in one frame. hyper writes at most 64 buffers per `writev`,
/// two of which frame a chunk of a chunked body.
pub(crate) const MAX_PIECES: usize = 62;

/// Buffers read in order as one; empty ones are never kept.
#[derive(Debug, Default)]
pub(crate) struct Pieces {
    pieces: VecDeque<Bytes>,
    remaining: usize,
}

impl Pieces {
    /// Appends a buffer.
    pub(crate) fn push(&mut self, piece: Bytes) {
        if !piece.is_empty() {
            self.remaining += piece.len();
            self.pieces.push_back(piece);
        }
    }

    /// How many buffers are left.
    pub(crate) fn count(&self) -> usize {
        self.pieces.len()
    }

    /// Takes off the first `n` buffers (all there are, if fewer).
    pub(crate) fn take_front(&mut self, n: usize) -> Self {
        let mut front = Self::default();
        for _ in 0..n {
            let Some(piece) = self.pieces.pop_front() else {
                break;
            };
            self.remaining -= piece.len();
            front.push(piece);
        }
        front
    }

    /// The bytes `range` of `buffers` read as one, as slices of them (no
    /// copy); what of `range` lies past their end is left out.
    pub(crate) fn range_of(buffers: impl IntoIterator<Item = Bytes>, range: Range<u64>) -> Self {
        let mut out = Self::default();
        let mut at = 0u64;
        for buffer in buffers {
            let len = buffer.len() as u64;
            let (start, end) = (range.start.max(at), range.end.min(at.saturating_add(len)));
            if start < end {
                // Both inside this buffer, so they fit in usize.
                let (from, to) = ((start - at) as usize, (end - at) as usize);
                out.push(buffer.slice(from..to));
            }
            at = at.saturating_add(len);
            if at >= range.end {
                break;
            }
        }
        out
    }
}

impl From<Bytes> for Pieces {
    fn from(piece: Bytes) -> Self {
        let mut pieces = Self::default();
        pieces.push(piece);
        pieces
    }
}

impl Buf for Pieces {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        self.pieces.front().map_or(&[], |p| &p[..])
    }

    /// Advancing past the end stops at the end.
    fn advance(&mut self, mut cnt: usize) {
        while cnt > 0 {
            let Some(front) = self.pieces.front_mut() else {
                break;
            };
            if cnt < front.len() {
                front.advance(cnt);
                self.remaining -= cnt;
                break;
            }
            cnt -= front.len();
            self.remaining -= front.len();
            self.pieces.pop_front();
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, piece) in dst.iter_mut().zip(&self.pieces) {
            *slot = IoSlice::new(piece);
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pieces(parts: &[Vec<u8>]) -> Pieces {
        let mut p = Pieces::default();
        for part in parts {
            p.push(Bytes::from(part.clone()));
        }
        p
    }

    proptest! {
        /// However it is advanced, it reads as the concatenation, and its
        /// vectored view always starts where its plain view does.
        #[test]
        fn reads_as_the_concatenation(
            parts in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 0..12),
            steps in proptest::collection::vec(0usize..30, 0..20),
        ) {
            let whole: Vec<u8> = parts.concat();
            let mut p = pieces(&parts);
            prop_assert_eq!(p.remaining(), whole.len());
            prop_assert!(p.count() <= parts.len());
            let mut at = 0;
            for step in steps {
                let mut slices = [IoSlice::new(&[]); 4];
                let n = p.chunks_vectored(&mut slices);
                let gathered: Vec<u8> = slices[..n].iter().flat_map(|s| s.iter().copied()).collect();
                prop_assert!(whole[at..].starts_with(&gathered));
                prop_assert!(gathered.starts_with(p.chunk()));
                prop_assert_eq!(p.chunk().is_empty(), at == whole.len());
                p.advance(step);
                at = (at + step).min(whole.len());
                prop_assert_eq!(p.remaining(), whole.len() - at);
            }
            let rest = p.copy_to_bytes(p.remaining());
            prop_assert_eq!(&rest[..], &whole[at..]);
        }

        /// A range of buffers reads as that range of their concatenation,
        /// and taking buffers off the front keeps the rest in order.
        #[test]
        fn a_range_reads_as_that_range_of_the_concatenation(
            parts in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 0..12),
            a in 0u64..300,
            b in 0u64..300,
            n in 0usize..6,
        ) {
            let whole: Vec<u8> = parts.concat();
            let (start, end) = (a.min(b), a.max(b));
            let buffers: Vec<Bytes> = parts.iter().cloned().map(Bytes::from).collect();
            let mut p = Pieces::range_of(buffers, start..end);
            let len = whole.len() as u64;
            let expected = &whole[start.min(len) as usize..end.min(len) as usize];
            prop_assert_eq!(p.remaining(), expected.len());
            let mut front = p.take_front(n);
            prop_assert!(front.count() <= n);
            let mut read = front.copy_to_bytes(front.remaining()).to_vec();
            read.extend_from_slice(&p.copy_to_bytes(p.remaining()));
            prop_assert_eq!(&read[..], expected);
        }
    }
}
