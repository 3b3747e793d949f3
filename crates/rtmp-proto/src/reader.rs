//! A bounds-checked cursor over a byte slice, shared by every parser in the crate.
//!
//! Parsers never index network data directly: every read goes through [`Reader`],
//! which returns [`Truncated`] instead of panicking when the input runs out.

/// The input ended before a complete field could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("input truncated: needed {needed} more bytes, {available} available")]
pub struct Truncated {
    /// Bytes the read asked for.
    pub needed: usize,
    /// Bytes that were left.
    pub available: usize,
}

/// Cursor over borrowed bytes. All multi-byte reads are big-endian unless named `_le`.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left to read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when every byte has been consumed.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Looks at the next byte without consuming it.
    pub fn peek_u8(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Consumes exactly `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Truncated> {
        let available = self.remaining();
        if n > available {
            return Err(Truncated {
                needed: n,
                available,
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<(), Truncated> {
        self.take(n).map(|_| ())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Truncated> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, Truncated> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a big-endian u16.
    pub fn u16(&mut self) -> Result<u16, Truncated> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian 24-bit unsigned integer.
    pub fn u24(&mut self) -> Result<u32, Truncated> {
        let [a, b, c] = self.array()?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// Reads a big-endian 24-bit signed integer (FLV composition time).
    pub fn i24(&mut self) -> Result<i32, Truncated> {
        let v = self.u24()?;
        Ok(((v << 8) as i32) >> 8)
    }

    /// Reads a big-endian u32.
    pub fn u32(&mut self) -> Result<u32, Truncated> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads a little-endian u32 (the message stream id in a type 0 chunk header).
    pub fn u32_le(&mut self) -> Result<u32, Truncated> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Reads a big-endian u64.
    pub fn u64(&mut self) -> Result<u64, Truncated> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian IEEE-754 double (AMF0 number).
    pub fn f64(&mut self) -> Result<f64, Truncated> {
        Ok(f64::from_be_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_reports_truncation() {
        let mut r = Reader::new(&[0x01, 0x02, 0x03, 0xff, 0xff, 0xfe]);
        assert_eq!(r.u16().unwrap(), 0x0102);
        assert_eq!(r.u8().unwrap(), 3);
        assert_eq!(r.i24().unwrap(), -2);
        assert!(r.is_empty());
        assert_eq!(
            r.u32(),
            Err(Truncated {
                needed: 4,
                available: 0
            })
        );
    }
}
