//! The audio tag header: legacy (sound format) and Enhanced RTMP (FourCC) forms.

use rtmp_proto::reader::Reader;

use super::FlvError;

/// Audio codec (FLV spec E.4.2.1 `SoundFormat`, plus E-RTMP FourCCs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoundFormat {
    /// 0: linear PCM, platform endian.
    PcmPlatform,
    /// 1: ADPCM.
    Adpcm,
    /// 2, or 14 (MP3 8 kHz), or E-RTMP `.mp3`.
    Mp3,
    /// 3: linear PCM, little endian.
    PcmLe,
    /// 4, 5, 6: Nellymoser.
    Nellymoser,
    /// 7: G.711 A-law.
    G711A,
    /// 8: G.711 mu-law.
    G711U,
    /// 10 or E-RTMP `mp4a`: AAC.
    Aac,
    /// 11: Speex.
    Speex,
    /// E-RTMP `Opus`.
    Opus,
    /// E-RTMP `ac-3` / `ec-3`.
    Ac3,
    /// E-RTMP `fLaC`.
    Flac,
    /// Anything else.
    Other(u8),
}

impl SoundFormat {
    /// The name the HTTP API reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::PcmPlatform | Self::PcmLe => "PCM",
            Self::Adpcm => "ADPCM",
            Self::Mp3 => "MP3",
            Self::Nellymoser => "Nellymoser",
            Self::G711A => "G711A",
            Self::G711U => "G711U",
            Self::Aac => "AAC",
            Self::Speex => "Speex",
            Self::Opus => "Opus",
            Self::Ac3 => "AC3",
            Self::Flac => "FLAC",
            Self::Other(_) => "Other",
        }
    }
}

/// A parsed audio tag header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioTagHeader {
    /// Codec.
    pub sound_format: SoundFormat,
    /// Legacy rate index: 0 = 5.5 kHz, 1 = 11 kHz, 2 = 22 kHz, 3 = 44 kHz.
    pub rate_index: u8,
    /// Legacy sample size: true for 16-bit.
    pub size_16bit: bool,
    /// Legacy channel flag: true for stereo.
    pub stereo: bool,
    /// AAC packet type (0 = AudioSpecificConfig, 1 = raw frame), or the E-RTMP
    /// audio packet type (0 = SequenceStart, 1 = CodedFrames, ...).
    pub packet_type: Option<u8>,
    /// True for the Enhanced RTMP form.
    pub is_ex_header: bool,
}

impl AudioTagHeader {
    /// Parses the header at the start of an audio tag body; returns it and its length.
    pub fn parse(body: &[u8]) -> Result<(Self, usize), FlvError> {
        let mut r = Reader::new(body);
        let first = r.u8().map_err(|_| FlvError::Empty)?;
        let format = first >> 4;
        if format == 9 {
            let packet_type = first & 0x0f;
            if packet_type == 5 || packet_type == 7 {
                return Err(FlvError::UnsupportedExHeader("audio multitrack/ModEx"));
            }
            let fourcc = r.take(4)?;
            let sound_format = match fourcc {
                b"mp4a" => SoundFormat::Aac,
                b"Opus" => SoundFormat::Opus,
                b".mp3" => SoundFormat::Mp3,
                b"ac-3" | b"ec-3" => SoundFormat::Ac3,
                b"fLaC" => SoundFormat::Flac,
                _ => SoundFormat::Other(9),
            };
            return Ok((
                Self {
                    sound_format,
                    rate_index: 3,
                    size_16bit: true,
                    stereo: true,
                    packet_type: Some(packet_type),
                    is_ex_header: true,
                },
                r.position(),
            ));
        }
        let sound_format = match format {
            0 => SoundFormat::PcmPlatform,
            1 => SoundFormat::Adpcm,
            2 | 14 => SoundFormat::Mp3,
            3 => SoundFormat::PcmLe,
            4..=6 => SoundFormat::Nellymoser,
            7 => SoundFormat::G711A,
            8 => SoundFormat::G711U,
            10 => SoundFormat::Aac,
            11 => SoundFormat::Speex,
            o => SoundFormat::Other(o),
        };
        let packet_type = if sound_format == SoundFormat::Aac {
            Some(r.u8()?)
        } else {
            None
        };
        Ok((
            Self {
                sound_format,
                rate_index: (first >> 2) & 3,
                size_16bit: first & 2 != 0,
                stereo: first & 1 != 0,
                packet_type,
                is_ex_header: false,
            },
            r.position(),
        ))
    }

    /// An AudioSpecificConfig (or E-RTMP SequenceStart) follows.
    pub fn is_sequence_header(&self) -> bool {
        self.packet_type == Some(0)
    }

    /// The legacy header's sampling rate in Hz (AAC's real rate is in its ASC).
    pub fn sample_rate(&self) -> u32 {
        match self.rate_index {
            0 => 5512,
            1 => 11025,
            2 => 22050,
            _ => 44100,
        }
    }

    /// The legacy header's channel count.
    pub fn channels(&self) -> u8 {
        if self.stereo {
            2
        } else {
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_and_enhanced_audio_headers() {
        let (h, len) = AudioTagHeader::parse(&[0xaf, 0x00, 0x12, 0x10]).unwrap();
        assert_eq!((h.sound_format, len, h.is_sequence_header()), (SoundFormat::Aac, 2, true));
        assert_eq!((h.sample_rate(), h.channels()), (44100, 2));
        let (h, len) = AudioTagHeader::parse(&[0x2e, 0xff]).unwrap();
        assert_eq!((h.sound_format, len, h.channels()), (SoundFormat::Mp3, 1, 1));
        let (h, len) = AudioTagHeader::parse(b"\x90Opus").unwrap();
        assert_eq!((h.sound_format, len, h.is_sequence_header()), (SoundFormat::Opus, 5, true));
        assert!(AudioTagHeader::parse(&[0xaf]).is_err());
        assert!(AudioTagHeader::parse(&[]).is_err());
    }
}
