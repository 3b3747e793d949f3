//! AV1 for ISO BMFF ("AV1 Codec ISO Media File Format Binding" v1.2.0,
//! AV1 Bitstream & Decoding Process Specification 5.3, 5.5): the
//! AV1CodecConfigurationRecord an E-RTMP `av01` SequenceStart carries (it
//! becomes the `av1C` box as is), the sequence header OBU (for the picture
//! size a sample entry states), and the sample form ISO BMFF wants
//! (temporal units without temporal delimiter OBUs).
//!
//! Every read is bounds-checked; a hostile record or OBU chain is an
//! [`Av1Error`], never a panic, and nothing here allocates more than its
//! input.

use bytes::{Bytes, BytesMut};

use crate::bits::{BitReader, BitsExhausted};

/// Longest AV1CodecConfigurationRecord taken: its `configOBUs` hold at most
/// a sequence header and metadata OBUs, a few dozen bytes in practice.
pub const MAX_CONFIG_BYTES: usize = 4096;

/// OBU types (AV1 6.2.2).
const OBU_SEQUENCE_HEADER: u8 = 1;
const OBU_TEMPORAL_DELIMITER: u8 = 2;

/// Why AV1 configuration or sample data could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Av1Error {
    /// The record is shorter than its 4 fixed bytes.
    #[error("AV1CodecConfigurationRecord shorter than 4 bytes")]
    Truncated,
    /// `marker` and `version` are not 1 and 1 (first byte 0x81).
    #[error("AV1CodecConfigurationRecord starts with {0:#04x}, not 0x81")]
    BadVersion(u8),
    /// Over [`MAX_CONFIG_BYTES`].
    #[error("AV1CodecConfigurationRecord of {0} bytes is over the limit")]
    TooLarge(usize),
    /// An OBU header or size that runs past the data, or a forbidden bit set.
    #[error("malformed OBU")]
    BadObu,
    /// A sequence header that ends early or holds an impossible value.
    #[error("sequence header: {0}")]
    Bits(#[from] BitsExhausted),
}

/// The fixed fields of an AV1CodecConfigurationRecord (AV1-ISOBMFF 2.3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Av1Config {
    /// `seq_profile` (0 Main, 1 High, 2 Professional).
    pub profile: u8,
    /// `seq_level_idx_0`.
    pub level: u8,
    /// `seq_tier_0` (false Main, true High).
    pub high_tier: bool,
    /// `high_bitdepth`.
    pub high_bitdepth: bool,
    /// `twelve_bit`.
    pub twelve_bit: bool,
    /// `monochrome`.
    pub monochrome: bool,
    /// The sequence header among the `configOBUs`, if there is one.
    pub sequence_header: Option<SequenceHeader>,
}

impl Av1Config {
    /// Parses a record (the body of an E-RTMP `av01` SequenceStart).
    pub fn parse(record: &[u8]) -> Result<Self, Av1Error> {
        if record.len() > MAX_CONFIG_BYTES {
            return Err(Av1Error::TooLarge(record.len()));
        }
        let [first, b1, b2, _b3, ..] = *record else {
            return Err(Av1Error::Truncated);
        };
        if first != 0x81 {
            return Err(Av1Error::BadVersion(first));
        }
        let config_obus = record.get(4..).unwrap_or_default();
        Ok(Self {
            profile: b1 >> 5,
            level: b1 & 0x1F,
            high_tier: b2 & 0x80 != 0,
            high_bitdepth: b2 & 0x40 != 0,
            twelve_bit: b2 & 0x20 != 0,
            monochrome: b2 & 0x10 != 0,
            // A record may carry no OBUs; the first key frame then does.
            sequence_header: sequence_header_in(config_obus).ok().flatten(),
        })
    }

    /// Bits per sample (AV1 5.5.2 `BitDepth`): 8, 10 or 12.
    pub fn bit_depth(&self) -> u8 {
        match (self.high_bitdepth, self.twelve_bit) {
            (false, _) => 8,
            (true, false) => 10,
            (true, true) => 12,
        }
    }

    /// The RFC 6381 codec string (AV1-ISOBMFF "Codecs Parameter String"):
    /// `av01.P.LLT.DD`, the mandatory fields only.
    pub fn codec_string(&self) -> String {
        format!(
            "av01.{}.{:02}{}.{:02}",
            self.profile,
            self.level,
            if self.high_tier { 'H' } else { 'M' },
            self.bit_depth()
        )
    }
}

/// What a sample entry needs of a sequence header OBU (AV1 5.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceHeader {
    /// `seq_profile`.
    pub profile: u8,
    /// `seq_level_idx[0]`.
    pub level: u8,
    /// `max_frame_width_minus_1` + 1.
    pub width: u32,
    /// `max_frame_height_minus_1` + 1.
    pub height: u32,
}

impl SequenceHeader {
    /// Parses a sequence header OBU's payload up to the frame size fields.
    pub fn parse(payload: &[u8]) -> Result<Self, Av1Error> {
        let mut b = BitReader::new(payload);
        let profile = b.bits(3)? as u8;
        let _still_picture = b.bit()?;
        let reduced_still_picture_header = b.bit()?;
        let level;
        if reduced_still_picture_header {
            level = b.bits(5)? as u8;
        } else {
            let mut decoder_model_info_present = false;
            let mut buffer_delay_length = 0;
            if b.bit()? {
                // timing_info()
                b.skip(64)?;
                if b.bit()? {
                    uvlc(&mut b)?;
                }
                decoder_model_info_present = b.bit()?;
                if decoder_model_info_present {
                    buffer_delay_length = b.bits(5)? + 1;
                    b.skip(32 + 5 + 5)?;
                }
            }
            let initial_display_delay_present = b.bit()?;
            let operating_points = b.bits(5)? + 1;
            let mut first_level = None;
            for _ in 0..operating_points {
                b.skip(12)?; // operating_point_idc
                let seq_level_idx = b.bits(5)? as u8;
                if seq_level_idx > 7 {
                    b.skip(1)?; // seq_tier
                }
                if decoder_model_info_present && b.bit()? {
                    b.skip(2 * buffer_delay_length as usize + 1)?;
                }
                if initial_display_delay_present && b.bit()? {
                    b.skip(4)?;
                }
                first_level.get_or_insert(seq_level_idx);
            }
            level = first_level.unwrap_or(0);
        }
        let width_bits = b.bits(4)? + 1;
        let height_bits = b.bits(4)? + 1;
        let width = b.bits(width_bits)?.saturating_add(1);
        let height = b.bits(height_bits)?.saturating_add(1);
        Ok(Self {
            profile,
            level,
            width,
            height,
        })
    }
}

/// `uvlc()` (AV1 4.10.3): 32 leading zeros or more mean 2^32 − 1.
fn uvlc(b: &mut BitReader<'_>) -> Result<u32, BitsExhausted> {
    let mut zeros = 0u32;
    while !b.bit()? {
        zeros += 1;
        if zeros >= 32 {
            // The spec reads on to the 1 bit; a value this large is of no
            // use here, so the rest is not read.
            return Ok(u32::MAX);
        }
    }
    Ok(b.bits(zeros)?.saturating_add((1u32 << zeros) - 1))
}

/// One OBU of a low-overhead bitstream (AV1 5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Obu<'a> {
    /// `obu_type`.
    pub kind: u8,
    /// The whole OBU: header, size field, payload.
    pub bytes: &'a [u8],
    /// Its payload.
    pub payload: &'a [u8],
}

/// Walks the OBUs of `data` (each with `obu_has_size_field`, except that
/// the last may run to the end, as ISO BMFF samples allow).
pub fn obus(data: &[u8]) -> Obus<'_> {
    Obus { rest: data }
}

/// Iterator over the OBUs of a buffer; stops after an error.
#[derive(Debug, Clone)]
pub struct Obus<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Obus<'a> {
    type Item = Result<Obu<'a>, Av1Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let item = next_obu(self.rest);
        match item {
            Ok((obu, rest)) => {
                self.rest = rest;
                Some(Ok(obu))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

fn next_obu(data: &[u8]) -> Result<(Obu<'_>, &[u8]), Av1Error> {
    let header = *data.first().ok_or(Av1Error::BadObu)?;
    // obu_forbidden_bit must be 0.
    if header & 0x80 != 0 {
        return Err(Av1Error::BadObu);
    }
    let kind = (header >> 3) & 0x0F;
    let extension = header & 0x04 != 0;
    let has_size = header & 0x02 != 0;
    let mut at = 1 + usize::from(extension);
    if at > data.len() {
        return Err(Av1Error::BadObu);
    }
    let size = if has_size {
        let (size, len) = leb128(data.get(at..).unwrap_or_default())?;
        at += len;
        usize::try_from(size).map_err(|_| Av1Error::BadObu)?
    } else {
        data.len() - at
    };
    let end = at.checked_add(size).ok_or(Av1Error::BadObu)?;
    let (bytes, rest) = (data.get(..end).ok_or(Av1Error::BadObu)?, &data[end..]);
    let payload = bytes.get(at..).unwrap_or_default();
    Ok((
        Obu {
            kind,
            bytes,
            payload,
        },
        rest,
    ))
}

/// `leb128()` (AV1 4.10.5): at most 8 bytes, a value below 2^32.
fn leb128(data: &[u8]) -> Result<(u64, usize), Av1Error> {
    let mut value = 0u64;
    for (i, &byte) in data.iter().take(8).enumerate() {
        value |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            if value > u64::from(u32::MAX) {
                return Err(Av1Error::BadObu);
            }
            return Ok((value, i + 1));
        }
    }
    Err(Av1Error::BadObu)
}

/// The first sequence header OBU of `data`, parsed; `None` if there is none.
pub fn sequence_header_in(data: &[u8]) -> Result<Option<SequenceHeader>, Av1Error> {
    for obu in obus(data) {
        let obu = obu?;
        if obu.kind == OBU_SEQUENCE_HEADER {
            return SequenceHeader::parse(obu.payload).map(Some);
        }
    }
    Ok(None)
}

/// A temporal unit as an ISO BMFF sample: AV1-ISOBMFF 2.4 says temporal
/// delimiter OBUs should not be in samples (the sample boundary is the
/// delimiter), while E-RTMP frames carry the encoder's temporal unit, which
/// starts with one. The common case (one leading delimiter) is a slice of
/// the input; others are copied without them. A chain that does not parse
/// is left as it is: it is the decoder's to judge, not a reason to drop the
/// frame.
pub fn strip_temporal_delimiters(sample: &Bytes) -> Bytes {
    let mut kept: Vec<(usize, usize)> = Vec::new();
    let mut dropped = false;
    let mut at = 0;
    for obu in obus(sample) {
        let Ok(obu) = obu else {
            return sample.clone();
        };
        let len = obu.bytes.len();
        if obu.kind == OBU_TEMPORAL_DELIMITER {
            dropped = true;
        } else if let Some(last) = kept.last_mut().filter(|(s, e)| *e == at && *s <= at) {
            last.1 = at + len;
        } else {
            kept.push((at, at + len));
        }
        at += len;
    }
    match kept.as_slice() {
        _ if !dropped => sample.clone(),
        [] => Bytes::new(),
        [(start, end)] => sample.slice(*start..*end),
        ranges => {
            let mut out = BytesMut::with_capacity(sample.len());
            for (start, end) in ranges {
                out.extend_from_slice(&sample[*start..*end]);
            }
            out.freeze()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What ffmpeg 9 (libsvtav1) sends as the `av01` SequenceStart of a
    /// 320x180 stream: the record with one sequence header OBU.
    const SVT_RECORD: &[u8] = &[
        0x81, 0x00, 0x0c, 0x00, 0x0a, 0x0b, 0x02, 0x00, 0x00, 0x05, 0x21, 0xe7, 0xf6, 0x60, 0x17,
        0xc0, 0x02,
    ];

    #[test]
    fn the_record_and_its_sequence_header() {
        let c = Av1Config::parse(SVT_RECORD).unwrap();
        assert_eq!((c.profile, c.level, c.high_tier), (0, 0, false));
        assert_eq!(c.bit_depth(), 8);
        assert_eq!(c.codec_string(), "av01.0.00M.08");
        let sh = c.sequence_header.expect("sequence header");
        assert_eq!((sh.width, sh.height), (320, 180));
        // No configOBUs is allowed.
        let bare = Av1Config::parse(&[0x81, 0x48, 0xe0, 0]).unwrap();
        assert_eq!(bare.codec_string(), "av01.2.08H.12");
        assert_eq!(bare.sequence_header, None);
    }

    #[test]
    fn hostile_records() {
        assert_eq!(Av1Config::parse(&[0x81, 0]), Err(Av1Error::Truncated));
        assert_eq!(
            Av1Config::parse(&[0x01, 0, 0, 0]),
            Err(Av1Error::BadVersion(1))
        );
        assert_eq!(
            Av1Config::parse(&vec![0x81; MAX_CONFIG_BYTES + 1]),
            Err(Av1Error::TooLarge(MAX_CONFIG_BYTES + 1))
        );
        // A sequence header OBU claiming more bytes than there are.
        assert_eq!(
            sequence_header_in(&[0x0a, 0x7f, 0, 0]),
            Err(Av1Error::BadObu)
        );
        // A leb128 that never ends, and one over 2^32.
        assert_eq!(
            sequence_header_in(&[0x0a, 0xff, 0xff]),
            Err(Av1Error::BadObu)
        );
        assert_eq!(
            sequence_header_in(&[0x0a, 0x80, 0x80, 0x80, 0x80, 0x10]),
            Err(Av1Error::BadObu)
        );
        assert_eq!(sequence_header_in(&[0x8a, 0]), Err(Av1Error::BadObu));
        // A truncated sequence header payload.
        assert!(matches!(
            sequence_header_in(&[0x0a, 0x01, 0x00]),
            Err(Av1Error::Bits(_))
        ));
    }

    #[test]
    fn temporal_delimiters_leave_samples() {
        // TD, sequence header, frame OBU (type 6) of 2 bytes.
        let mut tu = vec![0x12, 0x00];
        tu.extend_from_slice(&SVT_RECORD[4..]);
        tu.extend_from_slice(&[0x32, 0x02, 0xaa, 0xbb]);
        let tu = Bytes::from(tu);
        let sample = strip_temporal_delimiters(&tu);
        assert_eq!(&sample[..], &tu[2..]);
        let kinds: Vec<u8> = obus(&sample).map(|o| o.unwrap().kind).collect();
        assert_eq!(kinds, [1, 6]);
        assert_eq!(
            sequence_header_in(&sample).unwrap().map(|s| s.width),
            Some(320)
        );
        // One in the middle is cut out too; none leaves the sample alone.
        let mid = Bytes::from_static(&[0x32, 0x01, 0xaa, 0x12, 0x00, 0x32, 0x01, 0xbb]);
        assert_eq!(
            &strip_temporal_delimiters(&mid)[..],
            &[0x32, 0x01, 0xaa, 0x32, 0x01, 0xbb]
        );
        let plain = Bytes::from_static(&[0x32, 0x01, 0xaa]);
        assert_eq!(strip_temporal_delimiters(&plain), plain);
        // An OBU without a size field runs to the end.
        let last = Bytes::from_static(&[0x12, 0x00, 0x30, 0xaa, 0xbb]);
        assert_eq!(&strip_temporal_delimiters(&last)[..], &[0x30, 0xaa, 0xbb]);
        // Garbage is passed on for the decoder to judge.
        let junk = Bytes::from_static(&[0x12, 0x00, 0xff]);
        assert_eq!(strip_temporal_delimiters(&junk), junk);
    }
}
