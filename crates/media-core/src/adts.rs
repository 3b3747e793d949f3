//! Reading ADTS (13818-7 6.2, 14496-3 1.A.2): the framing AAC encoders
//! emit as a byte stream. RTMP and FLV carry raw AAC frames plus, once, an
//! AudioSpecificConfig (14496-3 1.6.2.1) in a sequence header; this turns
//! one into the other. (Writing ADTS, for TS, is [`crate::aac::adts_header`].)

use crate::aac::{AudioSpecificConfig, ADTS_HEADER_LEN};

/// Why an ADTS frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdtsError {
    /// Fewer bytes than a header.
    #[error("ADTS frame shorter than its header")]
    Short,
    /// No `0xFFF` syncword.
    #[error("no ADTS syncword")]
    NoSync,
    /// A reserved sampling frequency index (13..=15).
    #[error("reserved ADTS sampling frequency index {0}")]
    Frequency(u8),
    /// `frame_length` shorter than the header or past the buffer.
    #[error("ADTS frame_length {length} does not fit the {available} bytes given")]
    Length {
        /// The header's `frame_length`.
        length: usize,
        /// Bytes available.
        available: usize,
    },
}

/// One ADTS frame, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdtsFrame<'a> {
    /// The config the header describes (object type = `profile` + 1).
    pub config: AudioSpecificConfig,
    /// The raw AAC frame after the header (and its CRC, when present).
    pub raw: &'a [u8],
    /// Bytes this frame took (`frame_length`): the next frame starts there.
    pub frame_len: usize,
}

/// Parses the ADTS frame at the start of `data`.
pub fn parse_adts(data: &[u8]) -> Result<AdtsFrame<'_>, AdtsError> {
    let h = data.get(..ADTS_HEADER_LEN).ok_or(AdtsError::Short)?;
    let byte = |i: usize| h.get(i).copied().unwrap_or(0);
    if byte(0) != 0xFF || byte(1) & 0xF0 != 0xF0 {
        return Err(AdtsError::NoSync);
    }
    let protection_absent = byte(1) & 0x01 == 1;
    let profile = byte(2) >> 6;
    let frequency_index = (byte(2) >> 2) & 0x0F;
    if frequency_index > 12 {
        return Err(AdtsError::Frequency(frequency_index));
    }
    let channels = ((byte(2) & 0x01) << 2) | (byte(3) >> 6);
    let length = (usize::from(byte(3) & 0x03) << 11)
        | (usize::from(byte(4)) << 3)
        | usize::from(byte(5) >> 5);
    let header_len = if protection_absent {
        ADTS_HEADER_LEN
    } else {
        ADTS_HEADER_LEN + 2
    };
    if length < header_len || length > data.len() {
        return Err(AdtsError::Length {
            length,
            available: data.len(),
        });
    }
    Ok(AdtsFrame {
        config: AudioSpecificConfig {
            object_type: profile + 1,
            frequency_index,
            explicit_frequency: None,
            channel_configuration: channels,
            sbr: None,
        },
        raw: data.get(header_len..length).unwrap_or_default(),
        frame_len: length,
    })
}

/// The 2-byte AudioSpecificConfig of an ADTS stream (object type < 31,
/// frequency by index): what an AAC sequence header carries.
pub fn audio_specific_config(config: &AudioSpecificConfig) -> [u8; 2] {
    let ot = config.object_type & 0x1F;
    let fi = config.frequency_index & 0x0F;
    let ch = config.channel_configuration & 0x0F;
    [(ot << 3) | (fi >> 1), ((fi & 1) << 7) | (ch << 3)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aac::adts_header;

    #[test]
    fn adts_round_trips_through_the_writer() {
        // AAC LC, 44.1 kHz, stereo.
        let asc = AudioSpecificConfig::parse(&[0x12, 0x10]).unwrap();
        let mut frame = adts_header(&asc, 3).unwrap().to_vec();
        frame.extend_from_slice(&[1, 2, 3, 0xFF]);
        let f = parse_adts(&frame).unwrap();
        assert_eq!(f.raw, [1, 2, 3]);
        assert_eq!(f.frame_len, 10);
        assert_eq!(audio_specific_config(&f.config), [0x12, 0x10]);
        assert_eq!(f.config.sample_rate(), 44100);
        assert_eq!(
            parse_adts(&frame[..8]),
            Err(AdtsError::Length {
                length: 10,
                available: 8
            })
        );
        assert_eq!(parse_adts(&[0; 7]), Err(AdtsError::NoSync));
        assert_eq!(parse_adts(&[0xFF]), Err(AdtsError::Short));
    }
}
