//! FLAC (RFC 9639): the STREAMINFO metadata block an E-RTMP `fLaC`
//! SequenceStart carries, and the block size a frame header states, for
//! the `fLaC` sample entry and its `dfLa` box ("Encapsulation of FLAC in
//! ISO Base Media File Format" 3.3) and each sample's duration (3.3.4).

use rtmp_proto::reader::Reader;

/// STREAMINFO's length (RFC 9639 8.2).
pub const STREAMINFO_LEN: usize = 34;
/// Metadata blocks walked at most looking for STREAMINFO.
const MAX_BLOCKS: usize = 64;

/// Why a FLAC sequence header could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FlacError {
    /// No STREAMINFO where the header should start with one.
    #[error("no STREAMINFO block")]
    NoStreamInfo,
    /// A metadata block that runs past the data.
    #[error("truncated metadata block")]
    Truncated,
    /// A sample rate of 0, or block sizes below 16 or inverted.
    #[error("impossible STREAMINFO")]
    BadStreamInfo,
}

/// STREAMINFO (RFC 9639 8.2), with its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// The 34 bytes as sent.
    pub raw: [u8; STREAMINFO_LEN],
    /// Minimum block size (samples).
    pub min_block_size: u16,
    /// Maximum block size (samples).
    pub max_block_size: u16,
    /// Sample rate in Hz (20 bits).
    pub sample_rate: u32,
    /// Channels (1..=8).
    pub channels: u8,
    /// Bits per sample (4..=32).
    pub bits_per_sample: u8,
}

impl StreamInfo {
    /// Reads STREAMINFO from a sequence header. The E-RTMP spec has the
    /// `fLaC` signature followed by metadata blocks, STREAMINFO first;
    /// ffmpeg sends the 34 STREAMINFO bytes alone (its extradata). Both,
    /// and metadata blocks without the signature, are taken.
    pub fn from_sequence_header(body: &[u8]) -> Result<Self, FlacError> {
        if body.len() == STREAMINFO_LEN {
            return Self::parse(body);
        }
        let blocks = body.strip_prefix(b"fLaC").unwrap_or(body);
        let mut r = Reader::new(blocks);
        for _ in 0..MAX_BLOCKS {
            let header = r.u32().map_err(|_| FlacError::NoStreamInfo)?;
            let kind = (header >> 24) & 0x7F;
            let len = (header & 0x00FF_FFFF) as usize;
            let data = r.take(len).map_err(|_| FlacError::Truncated)?;
            if kind == 0 && len == STREAMINFO_LEN {
                return Self::parse(data);
            }
            if header & 0x8000_0000 != 0 {
                break;
            }
        }
        Err(FlacError::NoStreamInfo)
    }

    fn parse(data: &[u8]) -> Result<Self, FlacError> {
        let raw: [u8; STREAMINFO_LEN] = data.try_into().map_err(|_| FlacError::NoStreamInfo)?;
        let min_block_size = u16::from_be_bytes([raw[0], raw[1]]);
        let max_block_size = u16::from_be_bytes([raw[2], raw[3]]);
        let packed = u32::from_be_bytes([raw[10], raw[11], raw[12], raw[13]]);
        let sample_rate = packed >> 12;
        let channels = ((packed >> 9) & 0x07) as u8 + 1;
        let bits_per_sample = ((packed >> 4) & 0x1F) as u8 + 1;
        if sample_rate == 0 || min_block_size < 16 || max_block_size < min_block_size {
            return Err(FlacError::BadStreamInfo);
        }
        Ok(Self {
            raw,
            min_block_size,
            max_block_size,
            sample_rate,
            channels,
            bits_per_sample,
        })
    }

    /// The `dfLa` box body after its FullBox header: STREAMINFO as the one
    /// (so last) metadata block. Other blocks (tags, pictures) are left out;
    /// a decoder needs STREAMINFO only.
    pub fn metadata_block(&self) -> [u8; 4 + STREAMINFO_LEN] {
        let mut out = [0u8; 4 + STREAMINFO_LEN];
        out[..4].copy_from_slice(&[0x80, 0, 0, STREAMINFO_LEN as u8]);
        out[4..].copy_from_slice(&self.raw);
        out
    }
}

/// The block size (samples) a frame header states (RFC 9639 9.1: sync
/// code, block size bits, the coded number, then the uncommon block size
/// when the bits say it follows). `None` when `frame` does not start with
/// a frame header.
pub fn frame_block_size(frame: &[u8]) -> Option<u32> {
    let [0xFF, b1, b2, _b3, coded, ..] = *frame else {
        return None;
    };
    if b1 & 0xFE != 0xF8 {
        return None;
    }
    let code = b2 >> 4;
    // The coded number: UTF-8-like, 1 to 7 bytes.
    let number_len = match coded.leading_ones() {
        0 => 1,
        n @ 2..=7 => n as usize,
        _ => return None,
    };
    let after = 4 + number_len;
    match code {
        1 => Some(192),
        2..=5 => Some(576 << (code - 2)),
        6 => frame.get(after).map(|&b| u32::from(b) + 1),
        7 => {
            let hi = *frame.get(after)?;
            let lo = *frame.get(after + 1)?;
            Some(u32::from(u16::from_be_bytes([hi, lo])) + 1)
        }
        8..=15 => Some(256 << (code - 8)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ffmpeg 9's flac encoder at 48 kHz mono 16-bit: 1024-sample blocks.
    const FFMPEG_STREAMINFO: [u8; 34] = [
        0x04, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x15, 0x0b, 0xb8, 0x00, 0xf0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    #[test]
    fn the_three_sequence_header_forms() {
        let si = StreamInfo::from_sequence_header(&FFMPEG_STREAMINFO).unwrap();
        assert_eq!(
            (si.sample_rate, si.channels, si.bits_per_sample),
            (48_000, 1, 16)
        );
        assert_eq!((si.min_block_size, si.max_block_size), (1024, 1024));
        // The spec's form: signature, a VORBIS_COMMENT first (not allowed,
        // but walked past), then STREAMINFO as the last block.
        let mut spec = b"fLaC".to_vec();
        spec.extend_from_slice(&[4, 0, 0, 2, 0xaa, 0xbb]);
        spec.extend_from_slice(&[0x80, 0, 0, 34]);
        spec.extend_from_slice(&FFMPEG_STREAMINFO);
        assert_eq!(StreamInfo::from_sequence_header(&spec).unwrap(), si);
        assert_eq!(StreamInfo::from_sequence_header(&spec[4..]).unwrap(), si);
        let block = si.metadata_block();
        assert_eq!(&block[..4], &[0x80, 0, 0, 34]);
        assert_eq!(&block[4..], &FFMPEG_STREAMINFO);
    }

    #[test]
    fn hostile_sequence_headers() {
        assert_eq!(
            StreamInfo::from_sequence_header(b""),
            Err(FlacError::NoStreamInfo)
        );
        assert_eq!(
            StreamInfo::from_sequence_header(b"fLaC\x00\x00\x00\x22\x00"),
            Err(FlacError::Truncated)
        );
        // Only a last PADDING block.
        assert_eq!(
            StreamInfo::from_sequence_header(b"fLaC\x81\x00\x00\x01\x00"),
            Err(FlacError::NoStreamInfo)
        );
        let mut zero_rate = FFMPEG_STREAMINFO;
        zero_rate[10] = 0;
        zero_rate[11] = 0;
        zero_rate[12] &= 0x0f;
        assert_eq!(
            StreamInfo::from_sequence_header(&zero_rate),
            Err(FlacError::BadStreamInfo)
        );
        let mut tiny = FFMPEG_STREAMINFO;
        tiny[0] = 0;
        tiny[1] = 8;
        assert_eq!(
            StreamInfo::from_sequence_header(&tiny),
            Err(FlacError::BadStreamInfo)
        );
    }

    #[test]
    fn frame_block_sizes() {
        // ffmpeg's first frame: block size code 10 (1024), 48 kHz.
        assert_eq!(
            frame_block_size(&[0xff, 0xf8, 0xaa, 0x08, 0x00, 0xed]),
            Some(1024)
        );
        // Code 1, variable blocking (0xf9), a two-byte coded number.
        assert_eq!(
            frame_block_size(&[0xff, 0xf9, 0x19, 0x08, 0xc2, 0x80]),
            Some(192)
        );
        assert_eq!(
            frame_block_size(&[0xff, 0xf8, 0x39, 0x08, 0x00]),
            Some(1152)
        );
        // Code 6 and 7: the size follows the coded number.
        assert_eq!(
            frame_block_size(&[0xff, 0xf8, 0x69, 0x08, 0x05, 0x3f]),
            Some(64)
        );
        assert_eq!(
            frame_block_size(&[0xff, 0xf8, 0x79, 0x08, 0xc2, 0x80, 0x10, 0x00]),
            Some(4097)
        );
        assert_eq!(
            frame_block_size(&[0xff, 0xf8, 0x79, 0x08, 0x05, 0x10]),
            None
        );
        // Reserved code 0, a bad coded number, no sync.
        assert_eq!(frame_block_size(&[0xff, 0xf8, 0x09, 0x08, 0x00]), None);
        assert_eq!(frame_block_size(&[0xff, 0xf8, 0xa9, 0x08, 0x80]), None);
        assert_eq!(frame_block_size(&[0xff, 0xf0, 0xa9, 0x08, 0x00]), None);
        assert_eq!(frame_block_size(&[0xff]), None);
    }
}
