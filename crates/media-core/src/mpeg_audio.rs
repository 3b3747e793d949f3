//! MPEG audio frame headers (ISO/IEC 11172-3 2.4.1.3, ISO/IEC 13818-3
//! 2.4.1.3, and the unofficial MPEG-2.5 extension): what an `mp4a` sample
//! entry of MP3 needs (ISO/IEC 14496-14 with the `esds` object type of
//! 11172-3 or 13818-3 audio), since MP3 has no sequence header.

/// Why an MPEG audio frame header could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MpegAudioError {
    /// Fewer than 4 bytes, or no frame sync.
    #[error("no MPEG audio frame header")]
    NoHeader,
    /// The reserved version, layer or sample rate values.
    #[error("reserved MPEG audio {0}")]
    Reserved(&'static str),
}

/// The MPEG version of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MpegVersion {
    /// ISO/IEC 11172-3.
    Mpeg1,
    /// ISO/IEC 13818-3 (low sampling frequencies).
    Mpeg2,
    /// The unofficial MPEG-2.5 (quarter rates).
    Mpeg25,
}

/// A frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpegAudioHeader {
    /// Version.
    pub version: MpegVersion,
    /// Layer, 1..=3.
    pub layer: u8,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// 1 (mode 3, single channel) or 2.
    pub channels: u8,
}

impl MpegAudioHeader {
    /// Reads the header `frame` starts with.
    pub fn parse(frame: &[u8]) -> Result<Self, MpegAudioError> {
        let [0xFF, b1, b2, b3, ..] = *frame else {
            return Err(MpegAudioError::NoHeader);
        };
        if b1 & 0xE0 != 0xE0 {
            return Err(MpegAudioError::NoHeader);
        }
        let version = match (b1 >> 3) & 0x03 {
            0 => MpegVersion::Mpeg25,
            2 => MpegVersion::Mpeg2,
            3 => MpegVersion::Mpeg1,
            _ => return Err(MpegAudioError::Reserved("version")),
        };
        let layer = match (b1 >> 1) & 0x03 {
            1 => 3,
            2 => 2,
            3 => 1,
            _ => return Err(MpegAudioError::Reserved("layer")),
        };
        let base = match (b2 >> 2) & 0x03 {
            0 => 44_100,
            1 => 48_000,
            2 => 32_000,
            _ => return Err(MpegAudioError::Reserved("sampling frequency")),
        };
        let sample_rate = match version {
            MpegVersion::Mpeg1 => base,
            MpegVersion::Mpeg2 => base / 2,
            MpegVersion::Mpeg25 => base / 4,
        };
        Ok(Self {
            version,
            layer,
            sample_rate,
            channels: if b3 >> 6 == 3 { 1 } else { 2 },
        })
    }

    /// Samples per frame: 384 (Layer I), 1152 (Layer II, MPEG-1 Layer
    /// III), 576 (Layer III at the low rates, 13818-3 2.4.3.1).
    pub fn samples_per_frame(&self) -> u32 {
        match (self.layer, self.version) {
            (1, _) => 384,
            (3, MpegVersion::Mpeg2 | MpegVersion::Mpeg25) => 576,
            _ => 1152,
        }
    }

    /// The `esds` `objectTypeIndication` (the MP4 registration authority's
    /// list): 0x6B for 11172-3 audio, 0x69 for 13818-3 (MPEG-2.5 is
    /// decoded as its extension).
    pub fn object_type_indication(&self) -> u8 {
        match self.version {
            MpegVersion::Mpeg1 => 0x6B,
            MpegVersion::Mpeg2 | MpegVersion::Mpeg25 => 0x69,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lame_frames() {
        // ffmpeg 9's libmp3lame at 48 kHz mono: MPEG-1 Layer III.
        let h = MpegAudioHeader::parse(&[0xff, 0xfb, 0x54, 0xc4]).unwrap();
        assert_eq!(
            (h.version, h.layer, h.sample_rate, h.channels),
            (MpegVersion::Mpeg1, 3, 48_000, 1)
        );
        assert_eq!(
            (h.samples_per_frame(), h.object_type_indication()),
            (1152, 0x6B)
        );
        // MPEG-2 Layer III at 22.05 kHz, stereo.
        let h = MpegAudioHeader::parse(&[0xff, 0xf3, 0x80, 0x00]).unwrap();
        assert_eq!(
            (h.version, h.sample_rate, h.channels),
            (MpegVersion::Mpeg2, 22_050, 2)
        );
        assert_eq!(
            (h.samples_per_frame(), h.object_type_indication()),
            (576, 0x69)
        );
        // MPEG-2.5 at 8 kHz, Layer II at 32 kHz, Layer I.
        let h = MpegAudioHeader::parse(&[0xff, 0xe3, 0x08, 0xc0]).unwrap();
        assert_eq!(
            (h.version, h.sample_rate, h.samples_per_frame()),
            (MpegVersion::Mpeg25, 8_000, 576)
        );
        assert_eq!(
            MpegAudioHeader::parse(&[0xff, 0xfd, 0x08, 0])
                .unwrap()
                .samples_per_frame(),
            1152
        );
        assert_eq!(
            MpegAudioHeader::parse(&[0xff, 0xff, 0x08, 0])
                .unwrap()
                .samples_per_frame(),
            384
        );
    }

    #[test]
    fn hostile_headers() {
        assert_eq!(
            MpegAudioHeader::parse(&[0xff, 0xfb]),
            Err(MpegAudioError::NoHeader)
        );
        assert_eq!(
            MpegAudioHeader::parse(&[0xfe, 0xfb, 0x54, 0]),
            Err(MpegAudioError::NoHeader)
        );
        assert_eq!(
            MpegAudioHeader::parse(&[0xff, 0x1b, 0x54, 0]),
            Err(MpegAudioError::NoHeader)
        );
        assert_eq!(
            MpegAudioHeader::parse(&[0xff, 0xeb, 0x54, 0]),
            Err(MpegAudioError::Reserved("version"))
        );
        assert_eq!(
            MpegAudioHeader::parse(&[0xff, 0xf9, 0x54, 0]),
            Err(MpegAudioError::Reserved("layer"))
        );
        assert_eq!(
            MpegAudioHeader::parse(&[0xff, 0xfb, 0x5c, 0]),
            Err(MpegAudioError::Reserved("sampling frequency"))
        );
    }
}
