//! Deterministic "random" filler for C1/S1/C2/S2, derived from a caller seed.
//!
//! The crate has no RNG (sans-IO, reproducible tests), so the caller passes a
//! 32-byte seed and the filler is SHA-256 in counter mode over it:
//! `block_i = SHA-256(DOMAIN | label | seed | i as u32 BE)`. Distinct labels
//! keep S1's and S2's (or C1's and C2's) filler independent.

use sha2::{Digest, Sha256};

const DOMAIN: &[u8] = b"rtmp-proto handshake filler";

/// Labels of the independent filler streams.
pub(super) const LABEL_C1: &[u8] = b"C1";
pub(super) const LABEL_C2: &[u8] = b"C2";
pub(super) const LABEL_S1: &[u8] = b"S1";
pub(super) const LABEL_S2: &[u8] = b"S2";

/// Overwrites `out` with the filler stream `label` of `seed`.
pub(super) fn fill(seed: &[u8; 32], label: &[u8], out: &mut [u8]) {
    for (counter, chunk) in (0u32..).zip(out.chunks_mut(32)) {
        let block = Sha256::new()
            .chain_update(DOMAIN)
            .chain_update(label)
            .chain_update(seed)
            .chain_update(counter.to_be_bytes())
            .finalize();
        for (dst, src) in chunk.iter_mut().zip(block.iter()) {
            *dst = *src;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filler_is_deterministic_and_label_and_seed_dependent() {
        let mut a = [0u8; 1528];
        let mut b = [0u8; 1528];
        fill(&[7; 32], LABEL_S1, &mut a);
        fill(&[7; 32], LABEL_S1, &mut b);
        assert_eq!(a, b);
        fill(&[7; 32], LABEL_S2, &mut b);
        assert_ne!(a[..32], b[..32]);
        fill(&[8; 32], LABEL_S1, &mut b);
        assert_ne!(a[..32], b[..32]);
        // Every 32-byte block differs (the counter is mixed in), including the
        // short last one.
        let blocks: Vec<&[u8]> = a.chunks(32).collect();
        for (i, x) in blocks.iter().enumerate() {
            for y in &blocks[i + 1..] {
                assert_ne!(&x[..y.len().min(x.len())], &y[..y.len().min(x.len())]);
            }
        }
    }
}
