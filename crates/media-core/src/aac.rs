//! AAC: the AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1) an encoder sends as its
//! audio sequence header. ADTS framing for TS lives in [`crate::remux`].

use crate::bits::{BitReader, BitsExhausted};

/// Sampling frequencies by `samplingFrequencyIndex` (ISO/IEC 14496-3 table 1.18).
pub const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// Why an AudioSpecificConfig could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AacError {
    /// The config ended early.
    #[error("AudioSpecificConfig: {0}")]
    Bits(#[from] BitsExhausted),
    /// `samplingFrequencyIndex` 13 or 14 (reserved).
    #[error("reserved sampling frequency index {0}")]
    ReservedFrequencyIndex(u8),
    /// An explicit frequency of zero.
    #[error("zero sampling frequency")]
    ZeroFrequency,
}

/// The fields of an AudioSpecificConfig the server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioSpecificConfig {
    /// `audioObjectType` (2 = AAC LC, 5 = SBR/HE-AAC, 29 = PS/HE-AACv2); escape 31 resolved.
    pub object_type: u8,
    /// `samplingFrequencyIndex`; 15 means [`explicit_frequency`](Self::explicit_frequency) holds the rate.
    pub frequency_index: u8,
    /// The 24-bit explicit frequency when the index is 15.
    pub explicit_frequency: Option<u32>,
    /// `channelConfiguration` (0 = defined in-band, 1..=7).
    pub channel_configuration: u8,
}

fn object_type(b: &mut BitReader<'_>) -> Result<u8, AacError> {
    let t = b.bits(5)? as u8;
    Ok(if t == 31 { 32 + b.bits(6)? as u8 } else { t })
}

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

impl AudioSpecificConfig {
    /// Parses the config (the AAC sequence header body after its 2-byte tag header).
    pub fn parse(data: &[u8]) -> Result<Self, AacError> {
        let mut b = BitReader::new(data);
        let object_type = object_type(&mut b)?;
        let (frequency_index, explicit_frequency) = frequency(&mut b)?;
        let channel_configuration = b.bits(4)? as u8;
        Ok(Self {
            object_type,
            frequency_index,
            explicit_frequency,
            channel_configuration,
        })
    }

    /// The sampling rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.explicit_frequency
            .or_else(|| SAMPLE_RATES.get(usize::from(self.frequency_index)).copied())
            .unwrap_or(0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_configs() {
        // AAC LC, 44.1 kHz, stereo: 0x12 0x10.
        let asc = AudioSpecificConfig::parse(&[0x12, 0x10]).unwrap();
        assert_eq!((asc.object_type, asc.sample_rate(), asc.channel_configuration), (2, 44100, 2));
        assert_eq!(asc.profile_name(), "LC");
        // AAC LC, 48 kHz, mono: 0x11 0x88.
        let asc = AudioSpecificConfig::parse(&[0x11, 0x88]).unwrap();
        assert_eq!((asc.sample_rate(), asc.channel_configuration), (48000, 1));
        // Explicit frequency 12345 Hz.
        let asc = AudioSpecificConfig::parse(&[0x17, 0x80, 0x18, 0x1c, 0x90]).unwrap();
        assert_eq!(asc.sample_rate(), 12345);
        // Escape object type 31 -> 32 + 6 bits.
        let asc = AudioSpecificConfig::parse(&[0xf8, 0x08, 0x40]).unwrap();
        assert_eq!(asc.object_type, 32);
    }

    #[test]
    fn reserved_and_truncated() {
        assert_eq!(AudioSpecificConfig::parse(&[0x16, 0x90]), Err(AacError::ReservedFrequencyIndex(13)));
        assert!(AudioSpecificConfig::parse(&[0x12]).is_err());
        assert!(AudioSpecificConfig::parse(&[]).is_err());
    }
}
