//! AAC: the AudioSpecificConfig an encoder sends as its audio sequence header
//! (ISO/IEC 14496-3 1.6.2.1) and the ADTS header MPEG-TS needs in front of
//! every raw frame (ISO/IEC 13818-7 6.2, `adts_fixed_header` +
//! `adts_variable_header`).
//!
//! Only the leading fields are read: object type, sampling frequency,
//! channel configuration, and the explicit SBR/PS (HE-AAC) extension that
//! changes what they mean. `GASpecificConfig` and the backward-compatible
//! sync extension (0x2B7) after them are not parsed.

use crate::bits::{BitReader, BitsExhausted};

/// Sampling frequencies by `samplingFrequencyIndex` (14496-3 table 1.18).
/// Indexes 13 and 14 are reserved; 15 means an explicit 24-bit frequency.
pub const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// Largest ADTS frame: `aac_frame_length` is 13 bits and counts the header.
pub const MAX_ADTS_FRAME_LEN: usize = 0x1FFF;

/// Size of an ADTS header without CRC.
pub const ADTS_HEADER_LEN: usize = 7;

/// Object type of SBR (HE-AAC), 14496-3 table 1.1.
const AOT_SBR: u8 = 5;
/// Object type of PS (HE-AAC v2).
const AOT_PS: u8 = 29;
/// Object type of ER BSAC, whose explicit SBR signalling adds a channel field.
const AOT_ER_BSAC: u8 = 22;

/// Why an AudioSpecificConfig could not be read or framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AacError {
    /// The config ended inside a field.
    #[error("AudioSpecificConfig: {0}")]
    Bits(#[from] BitsExhausted),
    /// `audioObjectType` 0 (the null object).
    #[error("audio object type 0 (null)")]
    NullObjectType,
    /// `samplingFrequencyIndex` 13 or 14 (reserved).
    #[error("reserved sampling frequency index {0}")]
    ReservedFrequencyIndex(u8),
    /// An explicit sampling frequency of zero.
    #[error("explicit sampling frequency of zero")]
    ZeroFrequency,
    /// ADTS `profile` is 2 bits: only object types 1..=4 (Main, LC, SSR, LTP)
    /// fit.
    #[error("audio object type {0} cannot be carried in ADTS")]
    AdtsObjectType(u8),
    /// An explicit frequency with no ADTS `sampling_frequency_index`.
    #[error("sampling frequency {0} Hz has no ADTS frequency index")]
    AdtsFrequency(u32),
    /// ADTS `channel_configuration` is 3 bits.
    #[error("channel configuration {0} cannot be carried in ADTS")]
    AdtsChannels(u8),
    /// Payload plus header longer than [`MAX_ADTS_FRAME_LEN`].
    #[error("AAC frame of {0} bytes is too long for ADTS")]
    FrameTooLong(usize),
}

/// Explicit hierarchical SBR/PS signalling (14496-3 1.6.2.1, object types 5
/// and 29): the output rate doubles and the core codec is named separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SbrExtension {
    /// `extensionSamplingFrequencyIndex`.
    pub frequency_index: u8,
    /// The 24-bit frequency when the index is 15.
    pub explicit_frequency: Option<u32>,
    /// The core `audioObjectType` (usually 2, AAC LC).
    pub core_object_type: u8,
}

/// The leading fields of an AudioSpecificConfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioSpecificConfig {
    /// `audioObjectType` as signalled first, escape (31) resolved: 2 = AAC LC,
    /// 5 = SBR (HE-AAC), 29 = PS (HE-AAC v2).
    pub object_type: u8,
    /// `samplingFrequencyIndex` (of the core codec when SBR is signalled).
    pub frequency_index: u8,
    /// The 24-bit `samplingFrequency` when the index is 15.
    pub explicit_frequency: Option<u32>,
    /// `channelConfiguration`: 0 = defined by a program config element in the
    /// stream, 1..=6 = that many channels, 7 = 7.1 (8 channels).
    pub channel_configuration: u8,
    /// Present for object types 5 and 29.
    pub sbr: Option<SbrExtension>,
}

/// `GetAudioObjectType()` (14496-3 1.6.2.1.1): 5 bits, 31 escapes to 32 + 6 bits.
fn object_type(b: &mut BitReader<'_>) -> Result<u8, AacError> {
    let t = b.bits(5)? as u8;
    Ok(if t == 31 { 32 + b.bits(6)? as u8 } else { t })
}

/// A sampling frequency index and, for index 15, the explicit frequency.
fn frequency(b: &mut BitReader<'_>) -> Result<(u8, Option<u32>), AacError> {
    let index = b.bits(4)? as u8;
    match index {
        13 | 14 => Err(AacError::ReservedFrequencyIndex(index)),
        15 => match b.bits(24)? {
            0 => Err(AacError::ZeroFrequency),
            f => Ok((index, Some(f))),
        },
        _ => Ok((index, None)),
    }
}

fn rate(index: u8, explicit: Option<u32>) -> u32 {
    explicit
        .or_else(|| SAMPLE_RATES.get(usize::from(index)).copied())
        .unwrap_or(0)
}

impl AudioSpecificConfig {
    /// Parses the config: the body of an AAC sequence header after its
    /// 2-byte FLV audio tag header.
    pub fn parse(data: &[u8]) -> Result<Self, AacError> {
        let mut b = BitReader::new(data);
        let object_type = object_type(&mut b)?;
        if object_type == 0 {
            return Err(AacError::NullObjectType);
        }
        let (frequency_index, explicit_frequency) = frequency(&mut b)?;
        let channel_configuration = b.bits(4)? as u8;
        let sbr = if object_type == AOT_SBR || object_type == AOT_PS {
            let (index, explicit) = frequency(&mut b)?;
            let core = object_type_nonzero(&mut b)?;
            if core == AOT_ER_BSAC {
                b.bits(4)?; // extensionChannelConfiguration
            }
            Some(SbrExtension {
                frequency_index: index,
                explicit_frequency: explicit,
                core_object_type: core,
            })
        } else {
            None
        };
        Ok(Self {
            object_type,
            frequency_index,
            explicit_frequency,
            channel_configuration,
            sbr,
        })
    }

    /// The output sampling rate in Hz (the SBR rate for HE-AAC).
    pub fn sample_rate(&self) -> u32 {
        match self.sbr {
            Some(s) => rate(s.frequency_index, s.explicit_frequency),
            None => self.core_sample_rate(),
        }
    }

    /// The core codec's sampling rate in Hz (what ADTS carries).
    pub fn core_sample_rate(&self) -> u32 {
        rate(self.frequency_index, self.explicit_frequency)
    }

    /// The core codec's object type (the one ADTS `profile` describes).
    pub fn core_object_type(&self) -> u8 {
        self.sbr.map_or(self.object_type, |s| s.core_object_type)
    }

    /// Channels implied by the channel configuration (14496-3 table 1.19);
    /// 0 when a program config element in the stream says.
    pub fn channels(&self) -> u8 {
        match self.channel_configuration {
            1..=6 => self.channel_configuration,
            7 => 8,
            _ => 0,
        }
    }

    /// The profile name the HTTP API reports.
    pub fn profile_name(&self) -> &'static str {
        match self.object_type {
            1 => "Main",
            2 => "LC",
            3 => "SSR",
            4 => "LTP",
            5 => "HE",
            29 => "HEv2",
            _ => "Other",
        }
    }
}

fn object_type_nonzero(b: &mut BitReader<'_>) -> Result<u8, AacError> {
    match object_type(b)? {
        0 => Err(AacError::NullObjectType),
        t => Ok(t),
    }
}

/// The 7-byte ADTS header (no CRC) for one raw AAC frame of `payload_len`
/// bytes (13818-7 6.2.1, 6.2.2): MPEG-4 ID, `profile` = core object type − 1,
/// the core frequency index (an explicit frequency must be one of the table's),
/// channel configuration, frame length including the header, buffer fullness
/// 0x7FF (variable rate), one raw data block.
pub fn adts_header(
    asc: &AudioSpecificConfig,
    payload_len: usize,
) -> Result<[u8; ADTS_HEADER_LEN], AacError> {
    let aot = asc.core_object_type();
    if !(1..=4).contains(&aot) {
        return Err(AacError::AdtsObjectType(aot));
    }
    let profile = aot - 1;
    let index = match asc.explicit_frequency {
        None => asc.frequency_index,
        Some(f) => SAMPLE_RATES
            .iter()
            .position(|r| *r == f)
            .map(|i| i as u8)
            .ok_or(AacError::AdtsFrequency(f))?,
    };
    let channels = asc.channel_configuration;
    if channels > 7 {
        return Err(AacError::AdtsChannels(channels));
    }
    let len = payload_len
        .checked_add(ADTS_HEADER_LEN)
        .filter(|l| *l <= MAX_ADTS_FRAME_LEN)
        .ok_or(AacError::FrameTooLong(payload_len))?;
    // len < 2^13, so the shifts below keep only real bits.
    Ok([
        0xFF,
        0xF1, // syncword, ID 0 (MPEG-4), layer 0, protection_absent 1
        (profile << 6) | (index << 2) | (channels >> 2),
        ((channels & 0x03) << 6) | ((len >> 11) as u8 & 0x03),
        (len >> 3) as u8,
        (((len & 0x07) as u8) << 5) | 0x1F,
        0xFC,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_configs() {
        // AAC LC, 44.1 kHz, stereo.
        let asc = AudioSpecificConfig::parse(&[0x12, 0x10]).unwrap();
        assert_eq!(
            (asc.object_type, asc.sample_rate(), asc.channels()),
            (2, 44100, 2)
        );
        assert_eq!(asc.profile_name(), "LC");
        // What ffmpeg's aac encoder writes for 44.1 kHz mono (with the
        // backward-compatible SBR sync extension after it).
        let asc = AudioSpecificConfig::parse(&[0x12, 0x08, 0x56, 0xe5, 0x00]).unwrap();
        assert_eq!(
            (asc.sample_rate(), asc.channel_configuration, asc.sbr),
            (44100, 1, None)
        );
        // 48 kHz, 7.1.
        let asc = AudioSpecificConfig::parse(&[0x11, 0xb8]).unwrap();
        assert_eq!((asc.sample_rate(), asc.channels()), (48000, 8));
    }

    #[test]
    fn explicit_frequency_and_escape() {
        // LC, index 15, 12345 Hz, stereo.
        let asc = AudioSpecificConfig::parse(&[0x17, 0x80, 0x18, 0x1c, 0x90]).unwrap();
        assert_eq!(
            (asc.frequency_index, asc.explicit_frequency),
            (15, Some(12345))
        );
        assert_eq!((asc.sample_rate(), asc.channel_configuration), (12345, 2));
        // Escape: 31 then 6 bits (000001) = object type 33; 44.1 kHz; 4 channels.
        let asc = AudioSpecificConfig::parse(&[0xf8, 0x28, 0x80]).unwrap();
        assert_eq!(
            (asc.object_type, asc.sample_rate(), asc.channels()),
            (33, 44100, 4)
        );
    }

    #[test]
    fn explicit_he_aac() {
        // SBR (5), core 24 kHz (6), stereo, extension 48 kHz (3), core LC (2).
        let asc = AudioSpecificConfig::parse(&[0x2b, 0x11, 0x88, 0x00]).unwrap();
        assert_eq!(asc.object_type, 5);
        assert_eq!((asc.core_sample_rate(), asc.sample_rate()), (24000, 48000));
        assert_eq!((asc.core_object_type(), asc.profile_name()), (2, "HE"));
        let h = adts_header(&asc, 100).unwrap();
        assert_eq!(h[2] >> 6, 1, "LC profile");
        assert_eq!((h[2] >> 2) & 0x0f, 6, "core 24 kHz index");
    }

    #[test]
    fn reserved_null_and_truncated() {
        assert_eq!(
            AudioSpecificConfig::parse(&[0x16, 0x90]),
            Err(AacError::ReservedFrequencyIndex(13))
        );
        assert_eq!(
            AudioSpecificConfig::parse(&[0x17, 0x10]),
            Err(AacError::ReservedFrequencyIndex(14))
        );
        assert_eq!(
            AudioSpecificConfig::parse(&[0x17, 0x80, 0, 0, 0x10]),
            Err(AacError::ZeroFrequency)
        );
        assert_eq!(
            AudioSpecificConfig::parse(&[0x02, 0x10]),
            Err(AacError::NullObjectType)
        );
        assert!(matches!(
            AudioSpecificConfig::parse(&[0x12]),
            Err(AacError::Bits(_))
        ));
        assert!(matches!(
            AudioSpecificConfig::parse(&[]),
            Err(AacError::Bits(_))
        ));
        // SBR signalled but the extension is missing.
        assert!(matches!(
            AudioSpecificConfig::parse(&[0x2b, 0x10]),
            Err(AacError::Bits(_))
        ));
    }

    #[test]
    fn adts_headers() {
        let lc = AudioSpecificConfig::parse(&[0x12, 0x10]).unwrap();
        // 13818-7 6.2: sync, MPEG-4, no CRC, LC, index 4, 2 channels, 27 bytes.
        assert_eq!(
            adts_header(&lc, 20).unwrap(),
            [0xFF, 0xF1, 0x50, 0x80, 0x03, 0x7F, 0xFC]
        );
        let h = adts_header(&lc, MAX_ADTS_FRAME_LEN - 7).unwrap();
        let len = (usize::from(h[3] & 3) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
        assert_eq!(len, MAX_ADTS_FRAME_LEN);
        assert_eq!(
            adts_header(&lc, MAX_ADTS_FRAME_LEN - 6),
            Err(AacError::FrameTooLong(MAX_ADTS_FRAME_LEN - 6))
        );
        assert_eq!(
            adts_header(&lc, usize::MAX),
            Err(AacError::FrameTooLong(usize::MAX))
        );
        // Main profile, 7.1: channel bit 2 lands in byte 2.
        let main = AudioSpecificConfig::parse(&[0x0a, 0x38]).unwrap();
        let h = adts_header(&main, 0).unwrap();
        assert_eq!((h[2] >> 6, h[2] & 1, h[3] >> 6), (0, 1, 3));
        // An explicit frequency that matches the table maps to its index.
        let mut explicit = lc;
        explicit.frequency_index = 15;
        explicit.explicit_frequency = Some(48000);
        assert_eq!((adts_header(&explicit, 0).unwrap()[2] >> 2) & 0x0f, 3);
        explicit.explicit_frequency = Some(12345);
        assert_eq!(
            adts_header(&explicit, 0),
            Err(AacError::AdtsFrequency(12345))
        );
        let mut other = lc;
        other.object_type = 42;
        assert_eq!(adts_header(&other, 0), Err(AacError::AdtsObjectType(42)));
        let mut wide = lc;
        wide.channel_configuration = 13;
        assert_eq!(adts_header(&wide, 0), Err(AacError::AdtsChannels(13)));
    }
}
