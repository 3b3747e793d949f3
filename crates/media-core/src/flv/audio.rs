//! The audio tag header in its two forms: legacy `AUDIODATA` (FLV spec v10.1
//! E.4.2.1: `SoundFormat`, rate, size, type, then `AACPacketType` for AAC)
//! and the Enhanced RTMP `ExAudioTagHeader` (E-RTMP v2 "Enhanced Audio":
//! `SoundFormat` 9, `AudioPacketType`, optional `ModEx` prefixes,
//! multitrack, FourCC).

use rtmp_proto::reader::Reader;

use super::modex;
use super::video::MultitrackType;
use super::FlvError;

/// The `SoundFormat` value that switches to the E-RTMP FourCC form.
const EX_HEADER: u8 = 9;

/// Audio codec (FLV spec E.4.2.1 `SoundFormat`, plus E-RTMP `AudioFourCc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoundFormat {
    /// 0: linear PCM, platform endian.
    LinearPcmPlatformEndian,
    /// 1: ADPCM.
    Adpcm,
    /// 2, or E-RTMP `.mp3`: MP3.
    Mp3,
    /// 3: linear PCM, little endian.
    LinearPcmLittleEndian,
    /// 4: Nellymoser 16 kHz mono.
    Nellymoser16kMono,
    /// 5: Nellymoser 8 kHz mono.
    Nellymoser8kMono,
    /// 6: Nellymoser.
    Nellymoser,
    /// 7: G.711 A-law.
    G711ALaw,
    /// 8: G.711 mu-law.
    G711MuLaw,
    /// 10, or E-RTMP `mp4a`: AAC.
    Aac,
    /// 11: Speex.
    Speex,
    /// 14: MP3 8 kHz.
    Mp3_8k,
    /// 15: device-specific sound.
    DeviceSpecific,
    /// E-RTMP `Opus`.
    Opus,
    /// E-RTMP `fLaC`.
    Flac,
    /// E-RTMP `ac-3`.
    Ac3,
    /// E-RTMP `ec-3`.
    Eac3,
    /// A reserved legacy value (12, 13).
    Other(u8),
    /// An unknown FourCC.
    OtherFourCc([u8; 4]),
    /// The header names no codec: a multitrack message whose tracks each carry
    /// their own FourCC.
    Unspecified,
}

impl SoundFormat {
    fn from_legacy(v: u8) -> Self {
        match v {
            0 => Self::LinearPcmPlatformEndian,
            1 => Self::Adpcm,
            2 => Self::Mp3,
            3 => Self::LinearPcmLittleEndian,
            4 => Self::Nellymoser16kMono,
            5 => Self::Nellymoser8kMono,
            6 => Self::Nellymoser,
            7 => Self::G711ALaw,
            8 => Self::G711MuLaw,
            10 => Self::Aac,
            11 => Self::Speex,
            14 => Self::Mp3_8k,
            15 => Self::DeviceSpecific,
            o => Self::Other(o),
        }
    }

    fn from_fourcc(b: [u8; 4]) -> Self {
        match &b {
            b"mp4a" => Self::Aac,
            b"Opus" => Self::Opus,
            b".mp3" => Self::Mp3,
            b"fLaC" => Self::Flac,
            b"ac-3" => Self::Ac3,
            b"ec-3" => Self::Eac3,
            _ => Self::OtherFourCc(b),
        }
    }

    /// The name the HTTP API reports (SRS's names).
    pub fn name(self) -> &'static str {
        match self {
            Self::LinearPcmPlatformEndian | Self::LinearPcmLittleEndian => "PCM",
            Self::Adpcm => "ADPCM",
            Self::Mp3 | Self::Mp3_8k => "MP3",
            Self::Nellymoser16kMono | Self::Nellymoser8kMono | Self::Nellymoser => "Nellymoser",
            Self::G711ALaw => "G711A",
            Self::G711MuLaw => "G711U",
            Self::Aac => "AAC",
            Self::Speex => "Speex",
            Self::Opus => "Opus",
            Self::Flac => "FLAC",
            Self::Ac3 => "AC3",
            Self::Eac3 => "EAC3",
            Self::DeviceSpecific | Self::Other(_) | Self::OtherFourCc(_) | Self::Unspecified => {
                "Other"
            }
        }
    }
}

/// The legacy `AACPacketType` (FLV spec E.4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AacPacketType {
    /// 0: AudioSpecificConfig.
    SequenceHeader,
    /// 1: one raw AAC frame.
    Raw,
    /// Anything else.
    Other(u8),
}

/// E-RTMP `AudioPacketType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioPacketType {
    /// 0: codec configuration (AAC AudioSpecificConfig, Opus header, FLAC STREAMINFO).
    SequenceStart,
    /// 1: coded frames.
    CodedFrames,
    /// 2: end of sequence.
    SequenceEnd,
    /// 4: channel order and count.
    MultichannelConfig,
    /// 5: several tracks in one message; see [`AudioTagHeader::multitrack`].
    Multitrack,
    /// A value the spec reserves.
    Other(u8),
}

impl AudioPacketType {
    fn from_bits(v: u8) -> Self {
        match v {
            0 => Self::SequenceStart,
            1 => Self::CodedFrames,
            2 => Self::SequenceEnd,
            4 => Self::MultichannelConfig,
            5 => Self::Multitrack,
            o => Self::Other(o),
        }
    }
}

/// A parsed audio tag header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AudioTagHeader {
    /// Codec.
    pub sound_format: SoundFormat,
    /// Legacy `SoundRate`: 0 = 5.5 kHz, 1 = 11 kHz, 2 = 22 kHz, 3 = 44 kHz
    /// (AAC always says 3; its real rate is in the AudioSpecificConfig). 0 in
    /// the ex form, which has no such field.
    pub rate_index: u8,
    /// Legacy `SoundSize`: true for 16-bit samples.
    pub size_16bit: bool,
    /// Legacy `SoundType`: true for stereo.
    pub stereo: bool,
    /// Legacy AAC `AACPacketType`.
    pub aac_packet_type: Option<AacPacketType>,
    /// True for the Enhanced RTMP form (`SoundFormat` 9).
    pub is_ex_header: bool,
    /// The ex header's FourCC (absent for multitrack with a codec per track).
    pub fourcc: Option<[u8; 4]>,
    /// The ex header's packet type (the real one after any `ModEx`).
    pub packet_type: Option<AudioPacketType>,
    /// Multitrack layout and the tracks' packet type, when `packet_type` is
    /// [`AudioPacketType::Multitrack`].
    pub multitrack: Option<(MultitrackType, AudioPacketType)>,
    /// E-RTMP v2 `ModEx` `TimestampOffsetNano`: nanoseconds (at most
    /// 999,999) to add to the message's millisecond timestamp.
    pub timestamp_offset_nanos: Option<u32>,
}

impl AudioTagHeader {
    /// Parses the header at the start of an audio tag body. Returns it and its
    /// length in bytes: the codec payload (or the multitrack loop) starts there.
    pub fn parse(body: &[u8]) -> Result<(Self, usize), FlvError> {
        let mut r = Reader::new(body);
        let first = r.u8().map_err(|_| FlvError::Empty)?;
        let format = first >> 4;
        let header = if format == EX_HEADER {
            Self::parse_ex(first & 0x0F, &mut r)?
        } else {
            let sound_format = SoundFormat::from_legacy(format);
            let aac_packet_type = if sound_format == SoundFormat::Aac {
                Some(match r.u8()? {
                    0 => AacPacketType::SequenceHeader,
                    1 => AacPacketType::Raw,
                    o => AacPacketType::Other(o),
                })
            } else {
                None
            };
            Self {
                sound_format,
                rate_index: (first >> 2) & 0x03,
                size_16bit: first & 0x02 != 0,
                stereo: first & 0x01 != 0,
                aac_packet_type,
                is_ex_header: false,
                fourcc: None,
                packet_type: None,
                multitrack: None,
                timestamp_offset_nanos: None,
            }
        };
        Ok((header, r.position()))
    }

    fn parse_ex(raw_type: u8, r: &mut Reader<'_>) -> Result<Self, FlvError> {
        // ModEx (7): modifiers before the real packet type (see `modex`).
        let (raw_type, timestamp_offset_nanos) = modex::read_chain(raw_type, r)?;
        let packet_type = AudioPacketType::from_bits(raw_type);
        let mut multitrack = None;
        if packet_type == AudioPacketType::Multitrack {
            let b = r.u8()?;
            let kind = MultitrackType::from_bits(b >> 4)?;
            let inner = AudioPacketType::from_bits(b & 0x0F);
            if matches!(
                inner,
                AudioPacketType::Multitrack | AudioPacketType::Other(7)
            ) {
                return Err(FlvError::UnsupportedExHeader("nested multitrack or ModEx"));
            }
            multitrack = Some((kind, inner));
        }
        let fourcc = match multitrack {
            Some((MultitrackType::ManyTracksManyCodecs, _)) => None,
            _ => {
                let mut b = [0u8; 4];
                b.copy_from_slice(r.take(4)?);
                Some(b)
            }
        };
        Ok(Self {
            sound_format: fourcc.map_or(SoundFormat::Unspecified, SoundFormat::from_fourcc),
            rate_index: 0,
            size_16bit: false,
            stereo: false,
            aac_packet_type: None,
            is_ex_header: true,
            fourcc,
            packet_type: Some(packet_type),
            multitrack,
            timestamp_offset_nanos,
        })
    }

    /// A codec configuration follows: AAC packet type 0, or E-RTMP
    /// SequenceStart (for every track of a multitrack message).
    pub fn is_sequence_header(&self) -> bool {
        self.aac_packet_type == Some(AacPacketType::SequenceHeader)
            || match self.multitrack {
                Some((_, inner)) => inner == AudioPacketType::SequenceStart,
                None => self.packet_type == Some(AudioPacketType::SequenceStart),
            }
    }

    /// The legacy header's sampling rate in Hz; 0 for the ex form, whose
    /// codecs describe their rate in their own configuration.
    pub fn sample_rate(&self) -> u32 {
        if self.is_ex_header {
            return 0;
        }
        match self.rate_index {
            0 => 5512,
            1 => 11025,
            2 => 22050,
            _ => 44100,
        }
    }

    /// The legacy header's channel count; 0 for the ex form.
    pub fn channels(&self) -> u8 {
        match (self.is_ex_header, self.stereo) {
            (true, _) => 0,
            (false, true) => 2,
            (false, false) => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_headers() {
        let (h, len) = AudioTagHeader::parse(&[0xaf, 0x00, 0x12, 0x10]).unwrap();
        assert_eq!((h.sound_format, len), (SoundFormat::Aac, 2));
        assert_eq!(h.aac_packet_type, Some(AacPacketType::SequenceHeader));
        assert!(h.is_sequence_header());
        assert_eq!(
            (h.sample_rate(), h.channels(), h.size_16bit),
            (44100, 2, true)
        );
        let (h, _) = AudioTagHeader::parse(&[0xaf, 0x01, 0x21]).unwrap();
        assert!(!h.is_sequence_header());
        let (h, len) = AudioTagHeader::parse(&[0x2a, 0xff]).unwrap();
        assert_eq!((h.sound_format, len), (SoundFormat::Mp3, 1));
        assert_eq!(
            (h.sample_rate(), h.channels(), h.size_16bit),
            (22050, 1, true)
        );
        assert_eq!(
            AudioTagHeader::parse(&[0xe0]).unwrap().0.sound_format,
            SoundFormat::Mp3_8k
        );
        assert_eq!(
            AudioTagHeader::parse(&[0xc0]).unwrap().0.sound_format,
            SoundFormat::Other(12)
        );
        assert_eq!(
            AudioTagHeader::parse(&[0x70])
                .unwrap()
                .0
                .sound_format
                .name(),
            "G711A"
        );
    }

    #[test]
    fn enhanced_headers() {
        let (h, len) = AudioTagHeader::parse(b"\x90Opus\x01").unwrap();
        assert_eq!((h.sound_format, len), (SoundFormat::Opus, 5));
        assert!(h.is_ex_header && h.is_sequence_header());
        assert_eq!((h.sample_rate(), h.channels()), (0, 0));
        let (h, _) = AudioTagHeader::parse(b"\x91mp4a").unwrap();
        assert_eq!(h.sound_format, SoundFormat::Aac);
        assert_eq!(h.packet_type, Some(AudioPacketType::CodedFrames));
        assert!(!h.is_sequence_header());
        let (h, _) = AudioTagHeader::parse(b"\x90abcd").unwrap();
        assert_eq!(h.sound_format, SoundFormat::OtherFourCc(*b"abcd"));
        // Multitrack (ManyTracks of SequenceStart, fLaC).
        let (h, len) = AudioTagHeader::parse(b"\x95\x10fLaC\x00").unwrap();
        assert_eq!((len, h.sound_format), (6, SoundFormat::Flac));
        assert_eq!(
            h.multitrack,
            Some((MultitrackType::ManyTracks, AudioPacketType::SequenceStart))
        );
        assert!(h.is_sequence_header());
        // ManyTracksManyCodecs: no FourCC in the header.
        let (h, len) = AudioTagHeader::parse(b"\x95\x21Opus").unwrap();
        assert_eq!(
            (len, h.sound_format, h.fourcc),
            (2, SoundFormat::Unspecified, None)
        );
        // ModEx of an unknown modifier type (1), then SequenceStart ec-3.
        let (h, len) = AudioTagHeader::parse(b"\x97\x00\x09\x10ec-3").unwrap();
        assert_eq!((len, h.sound_format), (8, SoundFormat::Eac3));
        assert!(h.is_sequence_header());
        assert_eq!(h.timestamp_offset_nanos, None);
    }

    #[test]
    fn modex_timestamp_offset_nano() {
        // TimestampOffsetNano 500,000 ns (0x07a120), then CodedFrames mp4a.
        let (h, len) = AudioTagHeader::parse(b"\x97\x02\x07\xa1\x20\x01mp4a\x21").unwrap();
        assert_eq!((len, h.timestamp_offset_nanos), (10, Some(500_000)));
        assert_eq!(
            (h.sound_format, h.packet_type),
            (SoundFormat::Aac, Some(AudioPacketType::CodedFrames))
        );
        assert!(!h.is_sequence_header());
        // Two modifiers (unknown type 3, then the offset) wrapping a
        // ManyTracks multitrack of SequenceStart Opus.
        let (h, len) =
            AudioTagHeader::parse(b"\x97\x01\xaa\xbb\x37\x02\x00\x00\x01\x05\x10Opus\x00").unwrap();
        assert_eq!((len, h.timestamp_offset_nanos), (15, Some(1)));
        assert_eq!(
            h.multitrack,
            Some((MultitrackType::ManyTracks, AudioPacketType::SequenceStart))
        );
        assert!(h.is_sequence_header());
        // Legacy headers have no offset.
        let (h, _) = AudioTagHeader::parse(&[0xaf, 1, 0x21]).unwrap();
        assert_eq!(h.timestamp_offset_nanos, None);
        // Hostile offsets: too short, a whole millisecond, past the end.
        assert_eq!(
            AudioTagHeader::parse(b"\x97\x01\x00\x01\x01mp4a"),
            Err(FlvError::TimestampOffsetNanoTooShort(2))
        );
        assert_eq!(
            AudioTagHeader::parse(b"\x97\x02\x0f\x42\x40\x01mp4a"),
            Err(FlvError::TimestampOffsetNanoTooLarge(1_000_000))
        );
        assert!(matches!(
            AudioTagHeader::parse(b"\x97\x09\x00\x01"),
            Err(FlvError::Truncated(_))
        ));
    }

    #[test]
    fn hostile_headers() {
        assert_eq!(AudioTagHeader::parse(&[]), Err(FlvError::Empty));
        assert!(matches!(
            AudioTagHeader::parse(&[0xaf]),
            Err(FlvError::Truncated(_))
        ));
        assert!(matches!(
            AudioTagHeader::parse(b"\x90Op"),
            Err(FlvError::Truncated(_))
        ));
        assert!(AudioTagHeader::parse(b"\x95\x30Opus").is_err());
        assert!(AudioTagHeader::parse(b"\x95\x05Opus").is_err());
        let chain: Vec<u8> = std::iter::once(0x97)
            .chain((0..=crate::flv::MAX_MODEX).flat_map(|_| [0u8, 0, 0x17]))
            .collect();
        assert!(matches!(
            AudioTagHeader::parse(&chain),
            Err(FlvError::UnsupportedExHeader(_))
        ));
    }
}
