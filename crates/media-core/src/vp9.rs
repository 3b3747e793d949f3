//! VP9 for ISO BMFF ("VP Codec ISO Media File Format Binding" v1.0): the
//! VPCodecConfigurationRecord an E-RTMP `vp09` SequenceStart carries (the
//! body of the `vpcC` box, a version 1 FullBox), and the picture size of a
//! key frame's uncompressed header (VP9 Bitstream Specification 6.2), which
//! the record does not hold but a sample entry states.

/// Why a VP9 configuration could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Vp9Error {
    /// Shorter than the record's 8 fixed bytes.
    #[error("VPCodecConfigurationRecord shorter than 8 bytes")]
    Truncated,
    /// A bit depth other than 8, 10 or 12.
    #[error("VPCodecConfigurationRecord bit depth {0}")]
    BadBitDepth(u8),
    /// A chroma subsampling value the binding reserves (over 3).
    #[error("VPCodecConfigurationRecord chroma subsampling {0}")]
    BadChroma(u8),
}

/// The fields of a VPCodecConfigurationRecord (VP-ISOBMFF 2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VpConfig {
    /// `profile` (0..=3).
    pub profile: u8,
    /// `level` (level × 10: 31 is level 3.1).
    pub level: u8,
    /// `bitDepth`: 8, 10 or 12.
    pub bit_depth: u8,
    /// `chromaSubsampling` (0 4:2:0 vertical, 1 4:2:0 colocated, 2 4:2:2, 3 4:4:4).
    pub chroma_subsampling: u8,
    /// `videoFullRangeFlag`.
    pub full_range: bool,
    /// `colourPrimaries` (ISO/IEC 23091-2).
    pub colour_primaries: u8,
    /// `transferCharacteristics`.
    pub transfer_characteristics: u8,
    /// `matrixCoefficients`.
    pub matrix_coefficients: u8,
}

impl VpConfig {
    /// Parses the record. Senders disagree on its framing: ffmpeg sends the
    /// `vpcC` box body (version 1 and flags first, as `vpcC` is a FullBox),
    /// the binding's record has no such prefix; both are taken. The
    /// prefixed form is told by its version byte 1 and zero flags, which
    /// in the bare form would be profile 1, level 0 and bit depth 0, which
    /// the record forbids.
    pub fn parse(body: &[u8]) -> Result<Self, Vp9Error> {
        let record = match body {
            [1, 0, 0, 0, rest @ ..] if rest.len() >= 8 => rest,
            _ => body,
        };
        let [profile, level, packed, colour_primaries, transfer_characteristics, matrix_coefficients, _, _, ..] =
            *record
        else {
            return Err(Vp9Error::Truncated);
        };
        let bit_depth = packed >> 4;
        if !matches!(bit_depth, 8 | 10 | 12) {
            return Err(Vp9Error::BadBitDepth(bit_depth));
        }
        let chroma_subsampling = (packed >> 1) & 0x07;
        if chroma_subsampling > 3 {
            return Err(Vp9Error::BadChroma(chroma_subsampling));
        }
        Ok(Self {
            profile,
            level,
            bit_depth,
            chroma_subsampling,
            full_range: packed & 1 == 1,
            colour_primaries,
            transfer_characteristics,
            matrix_coefficients,
        })
    }

    /// The record as the `vpcC` box holds it after its FullBox header
    /// (VP-ISOBMFF 2.2): the fixed fields and `codecInitializationDataSize`
    /// 0, since VP9 has no initialization data (the binding requires it).
    pub fn record(&self) -> [u8; 8] {
        [
            self.profile,
            self.level,
            (self.bit_depth << 4) | (self.chroma_subsampling << 1) | u8::from(self.full_range),
            self.colour_primaries,
            self.transfer_characteristics,
            self.matrix_coefficients,
            0,
            0,
        ]
    }

    /// The RFC 6381 codec string (VP-ISOBMFF "Codecs Parameter String"):
    /// `vp09.PP.LL.DD`, the mandatory fields only.
    pub fn codec_string(&self) -> String {
        format!(
            "vp09.{:02}.{:02}.{:02}",
            self.profile, self.level, self.bit_depth
        )
    }
}

/// The frame size of a VP9 key frame (uncompressed header, VP9 6.2:
/// frame marker, profile, `show_existing_frame`, `frame_type`, sync code,
/// `color_config()`, `frame_size()`). `None` for anything else: an inter
/// frame, a shown existing frame, or bytes that are not a VP9 key frame.
/// In a superframe the first frame comes first, so its header is read.
pub fn key_frame_size(frame: &[u8]) -> Option<(u32, u32)> {
    let mut b = crate::bits::BitReader::new(frame);
    if b.bits(2).ok()? != 2 {
        return None;
    }
    let low = b.bits(1).ok()?;
    let high = b.bits(1).ok()?;
    let profile = (high << 1) | low;
    if profile == 3 {
        b.skip(1).ok()?;
    }
    if b.bit().ok()? {
        return None; // show_existing_frame
    }
    if b.bit().ok()? {
        return None; // frame_type 1: not a key frame
    }
    b.skip(2).ok()?; // show_frame, error_resilient_mode
    if b.bits(24).ok()? != 0x49_83_42 {
        return None;
    }
    if profile >= 2 {
        b.skip(1).ok()?; // ten_or_twelve_bit
    }
    let color_space = b.bits(3).ok()?;
    if color_space != 7 {
        b.skip(1).ok()?; // color_range
        if profile == 1 || profile == 3 {
            b.skip(3).ok()?; // subsampling_x, subsampling_y, reserved_zero
        }
    } else if profile == 1 || profile == 3 {
        b.skip(1).ok()?;
    }
    let width = b.bits(16).ok()? + 1;
    let height = b.bits(16).ok()? + 1;
    Some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_framings_of_the_record() {
        // ffmpeg 9's vp09 SequenceStart: version 1, flags 0, then the record.
        let boxed = [1, 0, 0, 0, 0, 11, 0x82, 2, 2, 2, 0, 0];
        let c = VpConfig::parse(&boxed).unwrap();
        assert_eq!((c.profile, c.level, c.bit_depth), (0, 11, 8));
        assert_eq!((c.chroma_subsampling, c.full_range), (1, false));
        assert_eq!(c.record(), [0, 11, 0x82, 2, 2, 2, 0, 0]);
        assert_eq!(c.codec_string(), "vp09.00.11.08");
        // The bare record, profile 2 at 10 bits, full range, with
        // initialization data (dropped: VP9 has none).
        let bare = [2, 31, 0xa5, 9, 16, 9, 0, 1, 0xff];
        let c = VpConfig::parse(&bare).unwrap();
        assert_eq!((c.profile, c.level, c.bit_depth), (2, 31, 10));
        assert_eq!((c.chroma_subsampling, c.full_range), (2, true));
        assert_eq!(c.record(), [2, 31, 0xa5, 9, 16, 9, 0, 0]);
        assert_eq!(c.codec_string(), "vp09.02.31.10");
    }

    #[test]
    fn hostile_records() {
        assert_eq!(VpConfig::parse(&[0, 10, 0x82]), Err(Vp9Error::Truncated));
        assert_eq!(VpConfig::parse(&[]), Err(Vp9Error::Truncated));
        assert_eq!(
            VpConfig::parse(&[0, 10, 0x42, 2, 2, 2, 0, 0]),
            Err(Vp9Error::BadBitDepth(4))
        );
        assert_eq!(
            VpConfig::parse(&[0, 10, 0x8e, 2, 2, 2, 0, 0]),
            Err(Vp9Error::BadChroma(7))
        );
        // The prefix alone is not a record.
        assert_eq!(VpConfig::parse(&[1, 0, 0, 0]), Err(Vp9Error::Truncated));
    }

    #[test]
    fn key_frame_sizes() {
        // libvpx-vp9's first key frame of a 320x180 profile 0 stream.
        let key = [
            0x82, 0x49, 0x83, 0x42, 0x00, 0x13, 0xf0, 0x0b, 0x36, 0x06, 0x38,
        ];
        assert_eq!(key_frame_size(&key), Some((320, 180)));
        // An inter frame (frame_type 1), and a shown existing frame.
        assert_eq!(key_frame_size(&[0x86, 0x00, 0x40]), None);
        assert_eq!(key_frame_size(&[0x88]), None);
        // No sync code, truncated, not VP9 at all.
        assert_eq!(key_frame_size(&[0x82, 0x49, 0x83, 0x43, 0, 0, 0, 0]), None);
        assert_eq!(key_frame_size(&key[..6]), None);
        assert_eq!(key_frame_size(&[0x00; 11]), None);
        assert_eq!(key_frame_size(&[]), None);
    }
}
