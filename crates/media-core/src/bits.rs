//! A bounds-checked bit reader for codec headers (H.264/H.265 SPS, AAC ASC).
//!
//! Like [`rtmp_proto::reader::Reader`] it never indexes past the end: every read
//! returns [`BitsExhausted`] instead. Exp-Golomb codes are capped at 32 bits so
//! hostile input cannot make one read loop or overflow.

/// The bit string ended before a field was complete (or an Exp-Golomb code was too long).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bit string exhausted or malformed")]
pub struct BitsExhausted;

/// MSB-first bit cursor.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// Reads `data` from its first bit.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Bits left.
    pub fn remaining(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.pos)
    }

    /// One bit.
    pub fn bit(&mut self) -> Result<bool, BitsExhausted> {
        let byte = self.data.get(self.pos / 8).ok_or(BitsExhausted)?;
        let bit = (byte >> (7 - (self.pos % 8))) & 1;
        self.pos += 1;
        Ok(bit == 1)
    }

    /// `n` bits (n ≤ 32) as an unsigned integer.
    pub fn bits(&mut self, n: u32) -> Result<u32, BitsExhausted> {
        if n > 32 || (n as usize) > self.remaining() {
            return Err(BitsExhausted);
        }
        let mut v: u64 = 0;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.bit()?);
        }
        Ok(v as u32)
    }

    /// Skips `n` bits.
    pub fn skip(&mut self, n: usize) -> Result<(), BitsExhausted> {
        if n > self.remaining() {
            return Err(BitsExhausted);
        }
        self.pos += n;
        Ok(())
    }

    /// Unsigned Exp-Golomb `ue(v)` (H.264 9.1).
    pub fn ue(&mut self) -> Result<u32, BitsExhausted> {
        let mut zeros = 0u32;
        while !self.bit()? {
            zeros += 1;
            if zeros > 31 {
                return Err(BitsExhausted);
            }
        }
        if zeros == 0 {
            return Ok(0);
        }
        let rest = self.bits(zeros)?;
        Ok(((1u64 << zeros) - 1 + u64::from(rest)).min(u64::from(u32::MAX)) as u32)
    }

    /// Signed Exp-Golomb `se(v)` (H.264 9.1.1).
    pub fn se(&mut self) -> Result<i32, BitsExhausted> {
        let k = i64::from(self.ue()?);
        let v = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        Ok(v as i32)
    }
}

/// Removes emulation-prevention bytes (`00 00 03` → `00 00`, H.264 7.4.1) from a
/// NAL unit payload so its RBSP can be bit-parsed.
pub fn unescape_rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_codes() {
        // 1 | 010 | 011 | 00100 | 00101 -> ue 0,1,2,3,4
        let mut r = BitReader::new(&[0b1010_0110, 0b0100_0010, 0b1000_0000]);
        assert_eq!(r.ue().unwrap(), 0);
        assert_eq!(r.ue().unwrap(), 1);
        assert_eq!(r.ue().unwrap(), 2);
        assert_eq!(r.ue().unwrap(), 3);
        assert_eq!(r.se().unwrap(), -2);
        assert!(BitReader::new(&[0, 0, 0, 0, 0]).ue().is_err());
        assert!(BitReader::new(&[]).bit().is_err());
    }

    #[test]
    fn wide_reads_skips_and_limits() {
        let mut r = BitReader::new(&[0xDE, 0xAD, 0xBE, 0xEF, 0x80]);
        assert_eq!(r.bits(32).unwrap(), 0xDEAD_BEEF);
        assert_eq!(r.remaining(), 8);
        assert_eq!(r.bits(33), Err(BitsExhausted), "more than 32 bits at once");
        assert_eq!(r.bits(9), Err(BitsExhausted));
        assert_eq!(r.remaining(), 8, "a failed read consumes nothing");
        assert!(r.bit().unwrap());
        assert_eq!(r.skip(8), Err(BitsExhausted));
        r.skip(7).unwrap();
        assert_eq!(r.remaining(), 0);
        // The longest legal ue(v): 31 zeros, then 32 bits -> 2^32 - 2.
        let mut r = BitReader::new(&[0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE]);
        assert_eq!(r.ue().unwrap(), u32::MAX - 1);
        // 32 leading zeros: refused rather than overflowing.
        assert_eq!(BitReader::new(&[0, 0, 0, 0, 0xFF]).ue(), Err(BitsExhausted));
        // se(v) at both extremes of ue(v).
        let mut r = BitReader::new(&[0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE]);
        assert_eq!(r.se().unwrap(), -(i32::MAX));
    }

    #[test]
    fn emulation_prevention_is_removed() {
        assert_eq!(unescape_rbsp(&[0, 0, 3, 1, 0, 0, 3]), vec![0, 0, 1, 0, 0]);
    }
}
