//! The video tag header: legacy (codec id) and Enhanced RTMP (FourCC) forms.

use rtmp_proto::reader::Reader;

use super::FlvError;

/// Video frame type (FLV spec E.4.3.1, E-RTMP `VideoFrameType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameType {
    /// 1: key frame (a random access point).
    Key,
    /// 2: inter frame.
    Inter,
    /// 3: disposable inter frame (H.263 only).
    Disposable,
    /// 4: generated key frame (server use).
    Generated,
    /// 5: video info / command frame (no picture).
    Command,
    /// Anything else.
    Other(u8),
}

impl FrameType {
    fn from_bits(v: u8) -> Self {
        match v {
            1 => Self::Key,
            2 => Self::Inter,
            3 => Self::Disposable,
            4 => Self::Generated,
            5 => Self::Command,
            o => Self::Other(o),
        }
    }
}

/// An Enhanced RTMP video FourCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FourCc {
    /// `avc1`: H.264.
    Avc1,
    /// `hvc1`: H.265.
    Hvc1,
    /// `av01`: AV1.
    Av01,
    /// `vp09`: VP9.
    Vp09,
    /// `vp08`: VP8.
    Vp08,
    /// Anything else, as sent.
    Other([u8; 4]),
}

impl FourCc {
    /// Maps the four bytes.
    pub fn from_bytes(b: [u8; 4]) -> Self {
        match &b {
            b"avc1" => Self::Avc1,
            b"hvc1" => Self::Hvc1,
            b"av01" => Self::Av01,
            b"vp09" => Self::Vp09,
            b"vp08" => Self::Vp08,
            _ => Self::Other(b),
        }
    }
}

/// The video codec, whichever header form named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    /// Legacy id 2: Sorenson H.263.
    H263,
    /// Legacy id 3: Screen video.
    ScreenVideo,
    /// Legacy id 4/5: On2 VP6 (with or without alpha).
    Vp6,
    /// Legacy id 7 or `avc1`: H.264.
    Avc,
    /// Legacy id 12 (the de-facto Chinese extension) or `hvc1`: H.265.
    Hevc,
    /// `av01`.
    Av1,
    /// `vp09`.
    Vp9,
    /// `vp08`.
    Vp8,
    /// Unknown legacy id.
    Other(u8),
    /// Unknown FourCC.
    OtherFourCc([u8; 4]),
}

impl VideoCodec {
    /// The name the HTTP API reports (SRS's names).
    pub fn name(self) -> &'static str {
        match self {
            Self::H263 => "H263",
            Self::ScreenVideo => "ScreenVideo",
            Self::Vp6 => "VP6",
            Self::Avc => "H264",
            Self::Hevc => "H265",
            Self::Av1 => "AV1",
            Self::Vp9 => "VP9",
            Self::Vp8 => "VP8",
            Self::Other(_) | Self::OtherFourCc(_) => "Other",
        }
    }
}

/// What a video message carries (legacy AVCPacketType, or E-RTMP `VideoPacketType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoPacketType {
    /// Decoder configuration (AVC packet type 0 / SequenceStart).
    SequenceStart,
    /// Coded frames with a composition time (AVC packet type 1 / CodedFrames).
    CodedFrames,
    /// End of sequence (AVC packet type 2 / SequenceEnd).
    SequenceEnd,
    /// Coded frames, composition time zero and absent (E-RTMP).
    CodedFramesX,
    /// AMF metadata such as HDR colour info (E-RTMP).
    Metadata,
    /// MPEG-2 TS sequence start (E-RTMP, AV1 in TS).
    Mpeg2TsSequenceStart,
    /// Several tracks in one message (E-RTMP v2); `inner` says what they carry.
    Multitrack {
        /// The packet type of the tracks.
        inner: u8,
    },
    /// A legacy codec without packet types (H.263, VP6...): the whole body is a frame.
    Raw,
    /// Unknown value.
    Other(u8),
}

/// A parsed video tag header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoTagHeader {
    /// Frame type.
    pub frame_type: FrameType,
    /// Codec.
    pub codec: VideoCodec,
    /// True for the Enhanced RTMP form.
    pub is_ex_header: bool,
    /// The FourCC of an ex header.
    pub fourcc: Option<FourCc>,
    /// Packet type.
    pub packet_type: VideoPacketType,
    /// Composition time offset in ms (PTS − DTS); 0 where absent.
    pub composition_time: i32,
}

/// E-RTMP modifier extensions (`ModEx`) allowed before the real packet type.
const MAX_MODEX: usize = 8;

impl VideoTagHeader {
    /// Parses the header at the start of a video tag body; returns it and its
    /// length (the codec payload starts there).
    pub fn parse(body: &[u8]) -> Result<(Self, usize), FlvError> {
        let mut r = Reader::new(body);
        let first = r.u8().map_err(|_| FlvError::Empty)?;
        if first & 0x80 != 0 {
            return Self::parse_ex(first, r);
        }
        let frame_type = FrameType::from_bits((first >> 4) & 0x0f);
        let codec_id = first & 0x0f;
        let codec = match codec_id {
            2 => VideoCodec::H263,
            3 | 6 => VideoCodec::ScreenVideo,
            4 | 5 => VideoCodec::Vp6,
            7 => VideoCodec::Avc,
            12 => VideoCodec::Hevc,
            o => VideoCodec::Other(o),
        };
        let mut header = Self {
            frame_type,
            codec,
            is_ex_header: false,
            fourcc: None,
            packet_type: VideoPacketType::Raw,
            composition_time: 0,
        };
        if matches!(codec, VideoCodec::Avc | VideoCodec::Hevc) && frame_type != FrameType::Command {
            header.packet_type = match r.u8()? {
                0 => VideoPacketType::SequenceStart,
                1 => VideoPacketType::CodedFrames,
                2 => VideoPacketType::SequenceEnd,
                o => VideoPacketType::Other(o),
            };
            header.composition_time = r.i24()?;
        }
        Ok((header, r.position()))
    }

    fn parse_ex(first: u8, mut r: Reader<'_>) -> Result<(Self, usize), FlvError> {
        let frame_type = FrameType::from_bits((first >> 4) & 0x07);
        let mut packet_type = first & 0x0f;
        let mut modex = 0;
        // ModEx (7): size-prefixed modifier data, then a byte whose low nibble is
        // the real packet type (E-RTMP v2). Skipped, bounded.
        while packet_type == 7 {
            modex += 1;
            if modex > MAX_MODEX {
                return Err(FlvError::UnsupportedExHeader("too many ModEx modifiers"));
            }
            let mut size = usize::from(r.u8()?) + 1;
            if size == 256 {
                size = usize::from(r.u16()?) + 1;
            }
            r.skip(size)?;
            packet_type = r.u8()? & 0x0f;
        }
        let mut fourcc_bytes = [0u8; 4];
        let packet_type = if packet_type == 6 {
            // Multitrack: [multitrack type:4 | packet type:4], then a FourCC unless
            // the tracks use different codecs.
            let b = r.u8()?;
            let multitrack_type = b >> 4;
            let inner = b & 0x0f;
            if multitrack_type != 2 {
                fourcc_bytes.copy_from_slice(r.take(4)?);
            }
            VideoPacketType::Multitrack { inner }
        } else {
            fourcc_bytes.copy_from_slice(r.take(4)?);
            match packet_type {
                0 => VideoPacketType::SequenceStart,
                1 => VideoPacketType::CodedFrames,
                2 => VideoPacketType::SequenceEnd,
                3 => VideoPacketType::CodedFramesX,
                4 => VideoPacketType::Metadata,
                5 => VideoPacketType::Mpeg2TsSequenceStart,
                o => VideoPacketType::Other(o),
            }
        };
        let fourcc = FourCc::from_bytes(fourcc_bytes);
        let codec = match fourcc {
            FourCc::Avc1 => VideoCodec::Avc,
            FourCc::Hvc1 => VideoCodec::Hevc,
            FourCc::Av01 => VideoCodec::Av1,
            FourCc::Vp09 => VideoCodec::Vp9,
            FourCc::Vp08 => VideoCodec::Vp8,
            FourCc::Other(b) => VideoCodec::OtherFourCc(b),
        };
        // CodedFrames of AVC and HEVC carry a composition time; nothing else does.
        let composition_time = if packet_type == VideoPacketType::CodedFrames
            && matches!(codec, VideoCodec::Avc | VideoCodec::Hevc)
        {
            r.i24()?
        } else {
            0
        };
        Ok((
            Self {
                frame_type,
                codec,
                is_ex_header: true,
                fourcc: Some(fourcc),
                packet_type,
                composition_time,
            },
            r.position(),
        ))
    }

    /// The codec.
    pub fn codec(&self) -> VideoCodec {
        self.codec
    }

    /// A decoder configuration record follows.
    pub fn is_sequence_header(&self) -> bool {
        self.packet_type == VideoPacketType::SequenceStart
    }

    /// A key frame carrying a picture (not a sequence header or command).
    pub fn is_keyframe(&self) -> bool {
        self.frame_type == FrameType::Key
            && matches!(
                self.packet_type,
                VideoPacketType::CodedFrames
                    | VideoPacketType::CodedFramesX
                    | VideoPacketType::Raw
                    | VideoPacketType::Multitrack { .. }
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_avc_headers() {
        let (h, len) = VideoTagHeader::parse(&[0x17, 0, 0, 0, 0, 0x01]).unwrap();
        assert_eq!(len, 5);
        assert!(h.is_sequence_header() && !h.is_keyframe());
        assert_eq!(h.codec, VideoCodec::Avc);
        let (h, _) = VideoTagHeader::parse(&[0x27, 1, 0xff, 0xff, 0xfe, 9]).unwrap();
        assert_eq!(h.frame_type, FrameType::Inter);
        assert_eq!(h.composition_time, -2);
        let (h, _) = VideoTagHeader::parse(&[0x1c, 1, 0, 0, 40]).unwrap();
        assert_eq!(h.codec, VideoCodec::Hevc);
        assert!(h.is_keyframe());
        assert_eq!(h.composition_time, 40);
    }

    #[test]
    fn enhanced_rtmp_headers() {
        // Key frame, SequenceStart, hvc1.
        let (h, len) = VideoTagHeader::parse(b"\x90hvc1\x01").unwrap();
        assert_eq!(len, 5);
        assert!(h.is_ex_header && h.is_sequence_header());
        assert_eq!(h.codec, VideoCodec::Hevc);
        // Key frame, CodedFrames, hvc1 with composition time 66.
        let (h, len) = VideoTagHeader::parse(b"\x91hvc1\x00\x00\x42rest").unwrap();
        assert_eq!((len, h.composition_time), (8, 66));
        assert!(h.is_keyframe());
        // Inter frame, CodedFramesX, av01.
        let (h, len) = VideoTagHeader::parse(b"\xa3av01data").unwrap();
        assert_eq!((len, h.codec, h.is_keyframe()), (5, VideoCodec::Av1, false));
        // Multitrack, one track type, CodedFramesX inner, avc1.
        let (h, _) = VideoTagHeader::parse(b"\x96\x03avc1").unwrap();
        assert_eq!(h.packet_type, VideoPacketType::Multitrack { inner: 3 });
        assert!(VideoTagHeader::parse(b"\x90hv").is_err());
        assert!(VideoTagHeader::parse(&[]).is_err());
    }
}
