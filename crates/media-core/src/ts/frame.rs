//! An elementary-stream frame on its way into the transport stream.

use bytes::Bytes;

/// Which elementary stream a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Track {
    /// The video stream (H.264 or HEVC Annex-B access units).
    Video,
    /// The audio stream (ADTS AAC frames or MPEG audio frames).
    Audio,
}

/// The bytes of one frame as a list of shared pieces.
///
/// Converting an FLV body to Annex-B (start codes instead of length prefixes,
/// parameter sets before an IDR) or to ADTS (a 7-byte header before each raw
/// AAC frame) only inserts small pieces between slices of the original body.
/// Keeping those pieces side by side, instead of concatenating them, means the
/// media bytes are copied exactly once: by the muxer, into TS packets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EsPayload {
    chunks: Vec<Bytes>,
    len: usize,
}

impl EsPayload {
    /// An empty payload.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one piece (empty pieces are dropped).
    pub fn push(&mut self, chunk: Bytes) {
        if !chunk.is_empty() {
            self.len = self.len.saturating_add(chunk.len());
            self.chunks.push(chunk);
        }
    }

    /// Appends every piece of `other`.
    pub fn append(&mut self, other: EsPayload) {
        self.len = self.len.saturating_add(other.len);
        self.chunks.extend(other.chunks);
    }

    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pieces, in order.
    pub fn chunks(&self) -> &[Bytes] {
        &self.chunks
    }

    /// The concatenated bytes (a copy; for tests and diagnostics).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len);
        for c in &self.chunks {
            v.extend_from_slice(c);
        }
        v
    }
}

impl From<Bytes> for EsPayload {
    fn from(b: Bytes) -> Self {
        let mut p = Self::new();
        p.push(b);
        p
    }
}

impl From<Vec<u8>> for EsPayload {
    fn from(v: Vec<u8>) -> Self {
        Bytes::from(v).into()
    }
}

impl From<&'static [u8]> for EsPayload {
    fn from(s: &'static [u8]) -> Self {
        Bytes::from_static(s).into()
    }
}

/// One access unit (video) or a run of audio frames (audio) with its timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsFrame {
    /// The elementary stream.
    pub track: Track,
    /// Presentation time, 90 kHz. Wrapped to 33 bits by the muxer.
    pub pts: u64,
    /// Decode time, 90 kHz. Wrapped to 33 bits by the muxer.
    pub dts: u64,
    /// A random access point (IDR/IRAP for video; every audio frame is one).
    pub keyframe: bool,
    /// Annex-B access unit (video) or ADTS / MPEG audio frames (audio).
    pub data: EsPayload,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_keeps_pieces_and_length() {
        let mut p = EsPayload::from(&b"ab"[..]);
        p.push(Bytes::new());
        p.push(Bytes::from_static(b"cde"));
        assert_eq!(p.len(), 5);
        assert_eq!(p.chunks().len(), 2);
        let mut q = EsPayload::from(vec![b'f']);
        q.append(p.clone());
        assert_eq!(q.to_vec(), b"fabcde");
        assert_eq!(q.len(), 6);
        assert!(EsPayload::new().is_empty());
    }
}
