//! The video tag header in its two forms: legacy `VIDEODATA` (FLV spec v10.1
//! E.4.3.1: frame type, codec id, then `AVCPacketType` and `CompositionTime`
//! for AVC) and the Enhanced RTMP `ExVideoTagHeader` (E-RTMP v1/v2 "Enhanced
//! Video": `IsExHeader`, frame type, `VideoPacketType`, optional `ModEx`
//! prefixes, multitrack, FourCC, and a composition time only for `avc1`/`hvc1`
//! `CodedFrames`).
//!
//! Legacy codec id 12 is HEVC: not in any Adobe spec, but the de-facto
//! extension Chinese CDNs, SRS and ffmpeg forks shipped before E-RTMP.

use rtmp_proto::reader::Reader;

use super::modex;
use super::FlvError;

/// Video frame type (FLV spec E.4.3.1 `FrameType`, E-RTMP `VideoFrameType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// 1: key frame, a random access point.
    Key,
    /// 2: inter frame.
    Inter,
    /// 3: disposable inter frame (H.263 only).
    Disposable,
    /// 4: generated key frame (reserved for server use).
    GeneratedKey,
    /// 5: video info / command frame: no picture, a command byte instead.
    Command,
    /// 0, 6, 7 (and 8..=15 in the legacy form): reserved.
    Reserved(u8),
}

impl FrameType {
    fn from_bits(v: u8) -> Self {
        match v {
            1 => Self::Key,
            2 => Self::Inter,
            3 => Self::Disposable,
            4 => Self::GeneratedKey,
            5 => Self::Command,
            o => Self::Reserved(o),
        }
    }
}

/// The E-RTMP `VideoFourCc` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// Maps the four wire bytes.
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

    /// The four wire bytes.
    pub fn to_bytes(self) -> [u8; 4] {
        match self {
            Self::Avc1 => *b"avc1",
            Self::Hvc1 => *b"hvc1",
            Self::Av01 => *b"av01",
            Self::Vp09 => *b"vp09",
            Self::Vp08 => *b"vp08",
            Self::Other(b) => b,
        }
    }
}

/// The video codec, whichever header form named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    /// Legacy id 2: Sorenson H.263.
    H263,
    /// Legacy id 3: Screen video.
    ScreenVideo,
    /// Legacy id 4: On2 VP6.
    Vp6,
    /// Legacy id 5: On2 VP6 with alpha channel.
    Vp6Alpha,
    /// Legacy id 6: Screen video version 2.
    ScreenVideoV2,
    /// Legacy id 7 or `avc1`: H.264.
    Avc,
    /// Legacy id 12 or `hvc1`: H.265.
    Hevc,
    /// `av01`.
    Av1,
    /// `vp09`.
    Vp9,
    /// `vp08`.
    Vp8,
    /// An unknown legacy codec id.
    Other(u8),
    /// An unknown FourCC.
    OtherFourCc([u8; 4]),
    /// The header names no codec: an E-RTMP command frame, or a multitrack
    /// message whose tracks each carry their own FourCC.
    Unspecified,
}

impl VideoCodec {
    fn from_legacy_id(id: u8) -> Self {
        match id {
            2 => Self::H263,
            3 => Self::ScreenVideo,
            4 => Self::Vp6,
            5 => Self::Vp6Alpha,
            6 => Self::ScreenVideoV2,
            7 => Self::Avc,
            12 => Self::Hevc,
            o => Self::Other(o),
        }
    }

    fn from_fourcc(f: FourCc) -> Self {
        match f {
            FourCc::Avc1 => Self::Avc,
            FourCc::Hvc1 => Self::Hevc,
            FourCc::Av01 => Self::Av1,
            FourCc::Vp09 => Self::Vp9,
            FourCc::Vp08 => Self::Vp8,
            FourCc::Other(b) => Self::OtherFourCc(b),
        }
    }

    /// The name the HTTP API reports (SRS's names).
    pub fn name(self) -> &'static str {
        match self {
            Self::H263 => "H263",
            Self::ScreenVideo | Self::ScreenVideoV2 => "ScreenVideo",
            Self::Vp6 | Self::Vp6Alpha => "VP6",
            Self::Avc => "H264",
            Self::Hevc => "H265",
            Self::Av1 => "AV1",
            Self::Vp9 => "VP9",
            Self::Vp8 => "VP8",
            Self::Other(_) | Self::OtherFourCc(_) | Self::Unspecified => "Other",
        }
    }
}

/// The legacy `AVCPacketType` (FLV spec E.4.3.1), also used by legacy HEVC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AvcPacketType {
    /// 0: AVCDecoderConfigurationRecord (or HEVC's record).
    SequenceHeader,
    /// 1: one or more length-prefixed NAL units.
    Nalu,
    /// 2: end of sequence (empty body).
    EndOfSequence,
    /// Anything else.
    Other(u8),
}

/// What a video message carries: E-RTMP `VideoPacketType`, with the legacy
/// AVC packet types mapped onto it and two values for legacy-only shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoPacketType {
    /// 0: decoder configuration (legacy AVC packet type 0).
    SequenceStart,
    /// 1: coded frames (legacy AVC packet type 1); AVC/HEVC carry a composition time.
    CodedFrames,
    /// 2: end of sequence (legacy AVC packet type 2).
    SequenceEnd,
    /// 3: coded frames whose composition time is zero and absent.
    CodedFramesX,
    /// 4: AMF metadata (e.g. HDR `colorInfo`); the frame type is meaningless.
    Metadata,
    /// 5: AV1 sequence start in MPEG-2 TS form.
    Mpeg2TsSequenceStart,
    /// 6: several tracks in one message; see [`VideoTagHeader::multitrack`].
    Multitrack,
    /// A legacy codec without packet types (H.263, VP6, ...): the body is a frame.
    Raw,
    /// A command frame ([`FrameType::Command`]): no picture.
    Command,
    /// A value the spec reserves.
    Other(u8),
}

impl VideoPacketType {
    fn from_ex(v: u8) -> Self {
        match v {
            0 => Self::SequenceStart,
            1 => Self::CodedFrames,
            2 => Self::SequenceEnd,
            3 => Self::CodedFramesX,
            4 => Self::Metadata,
            5 => Self::Mpeg2TsSequenceStart,
            6 => Self::Multitrack,
            o => Self::Other(o),
        }
    }
}

/// E-RTMP `AvMultitrackType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MultitrackType {
    /// 0: one track; the header's FourCC applies.
    OneTrack,
    /// 1: several tracks of the header's FourCC, each size-prefixed.
    ManyTracks,
    /// 2: several tracks, each with its own FourCC and size.
    ManyTracksManyCodecs,
}

impl MultitrackType {
    pub(crate) fn from_bits(v: u8) -> Result<Self, FlvError> {
        match v {
            0 => Ok(Self::OneTrack),
            1 => Ok(Self::ManyTracks),
            2 => Ok(Self::ManyTracksManyCodecs),
            _ => Err(FlvError::UnsupportedExHeader("reserved AvMultitrackType")),
        }
    }
}

/// The multitrack part of an E-RTMP video header. The track loop (track id,
/// optional FourCC and size per track) starts where the header ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Multitrack {
    /// How the tracks are laid out.
    pub kind: MultitrackType,
    /// What every track carries (never `Multitrack`).
    pub packet_type: VideoPacketType,
}

/// A parsed video tag header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VideoTagHeader {
    /// Frame type (3 bits in the ex form, 4 in the legacy form).
    pub frame_type: FrameType,
    /// Codec, from the legacy id or the FourCC.
    pub codec: VideoCodec,
    /// True for the Enhanced RTMP form (`IsExHeader`, bit 7 of the first byte).
    pub is_ex_header: bool,
    /// The FourCC of an ex header (absent for command frames and for
    /// multitrack messages with a codec per track).
    pub fourcc: Option<FourCc>,
    /// Packet type (the real one after any `ModEx` prefixes).
    pub packet_type: VideoPacketType,
    /// The raw legacy `AVCPacketType` of codec ids 7 and 12.
    pub avc_packet_type: Option<AvcPacketType>,
    /// Set when `packet_type` is [`VideoPacketType::Multitrack`].
    pub multitrack: Option<Multitrack>,
    /// The `VideoCommand` byte of a command frame (0 start seek, 1 end seek).
    pub command: Option<u8>,
    /// Composition time offset in ms (PTS − DTS), signed 24-bit; 0 where the
    /// header has none (CodedFramesX, sequence headers, non-AVC/HEVC codecs).
    pub composition_time: i32,
    /// E-RTMP v2 `ModEx` `TimestampOffsetNano`: nanoseconds (at most
    /// 999,999) to add to the message's millisecond timestamp; for a
    /// multitrack message, to every track's.
    pub timestamp_offset_nanos: Option<u32>,
}

impl VideoTagHeader {
    /// Parses the header at the start of a video tag body. Returns it and its
    /// length in bytes: the codec payload (or, for multitrack, the track loop)
    /// starts there.
    pub fn parse(body: &[u8]) -> Result<(Self, usize), FlvError> {
        let mut r = Reader::new(body);
        let first = r.u8().map_err(|_| FlvError::Empty)?;
        let header = if first & 0x80 != 0 {
            Self::parse_ex(first, &mut r)?
        } else {
            Self::parse_legacy(first, &mut r)?
        };
        Ok((header, r.position()))
    }

    fn parse_legacy(first: u8, r: &mut Reader<'_>) -> Result<Self, FlvError> {
        let frame_type = FrameType::from_bits(first >> 4);
        let codec = VideoCodec::from_legacy_id(first & 0x0F);
        let mut h = Self {
            frame_type,
            codec,
            is_ex_header: false,
            fourcc: None,
            packet_type: VideoPacketType::Raw,
            avc_packet_type: None,
            multitrack: None,
            command: None,
            composition_time: 0,
            timestamp_offset_nanos: None,
        };
        if frame_type == FrameType::Command {
            // E-RTMP "Enhanced Video": a legacy command frame is followed by
            // one UI8 `VideoCommand` and no picture.
            h.packet_type = VideoPacketType::Command;
            h.command = Some(r.u8()?);
        } else if matches!(codec, VideoCodec::Avc | VideoCodec::Hevc) {
            let (avc, packet) = match r.u8()? {
                0 => (
                    AvcPacketType::SequenceHeader,
                    VideoPacketType::SequenceStart,
                ),
                1 => (AvcPacketType::Nalu, VideoPacketType::CodedFrames),
                2 => (AvcPacketType::EndOfSequence, VideoPacketType::SequenceEnd),
                o => (AvcPacketType::Other(o), VideoPacketType::Other(o)),
            };
            h.avc_packet_type = Some(avc);
            h.packet_type = packet;
            h.composition_time = r.i24()?;
        }
        Ok(h)
    }

    fn parse_ex(first: u8, r: &mut Reader<'_>) -> Result<Self, FlvError> {
        let frame_type = FrameType::from_bits((first >> 4) & 0x07);
        // ModEx (7): modifiers before the real packet type (see `modex`).
        let (raw_type, timestamp_offset_nanos) = modex::read_chain(first & 0x0F, r)?;
        let packet_type = VideoPacketType::from_ex(raw_type);
        let mut h = Self {
            frame_type,
            codec: VideoCodec::Unspecified,
            is_ex_header: true,
            fourcc: None,
            packet_type,
            avc_packet_type: None,
            multitrack: None,
            command: None,
            composition_time: 0,
            timestamp_offset_nanos,
        };
        if frame_type == FrameType::Command && packet_type != VideoPacketType::Metadata {
            h.packet_type = VideoPacketType::Command;
            h.command = Some(r.u8()?);
            return Ok(h);
        }
        if packet_type == VideoPacketType::Multitrack {
            let b = r.u8()?;
            let kind = MultitrackType::from_bits(b >> 4)?;
            let inner = VideoPacketType::from_ex(b & 0x0F);
            if matches!(
                inner,
                VideoPacketType::Multitrack | VideoPacketType::Other(7)
            ) {
                return Err(FlvError::UnsupportedExHeader("nested multitrack or ModEx"));
            }
            h.multitrack = Some(Multitrack {
                kind,
                packet_type: inner,
            });
            if kind == MultitrackType::ManyTracksManyCodecs {
                return Ok(h);
            }
        }
        let mut fourcc = [0u8; 4];
        fourcc.copy_from_slice(r.take(4)?);
        let fourcc = FourCc::from_bytes(fourcc);
        h.fourcc = Some(fourcc);
        h.codec = VideoCodec::from_fourcc(fourcc);
        // ExVideoTagBody: only avc1/hvc1 CodedFrames carry SI24 composition
        // time; multitrack puts it inside each track.
        if packet_type == VideoPacketType::CodedFrames
            && matches!(h.codec, VideoCodec::Avc | VideoCodec::Hevc)
        {
            h.composition_time = r.i24()?;
        }
        Ok(h)
    }

    /// The codec.
    pub fn codec(&self) -> VideoCodec {
        self.codec
    }

    /// What the payload carries: the tracks' packet type for a multitrack
    /// message, the packet type otherwise.
    pub fn payload_type(&self) -> VideoPacketType {
        self.multitrack.map_or(self.packet_type, |m| m.packet_type)
    }

    /// A decoder configuration follows (legacy AVC packet type 0, E-RTMP
    /// SequenceStart or MPEG2TSSequenceStart).
    pub fn is_sequence_header(&self) -> bool {
        matches!(
            self.payload_type(),
            VideoPacketType::SequenceStart | VideoPacketType::Mpeg2TsSequenceStart
        )
    }

    /// Coded picture data follows, whatever the frame type: legacy AVC/HEVC
    /// NALUs, E-RTMP `CodedFrames`/`CodedFramesX`, or a legacy codec's frame.
    /// What a viewer sees; a sequence header, end of sequence, metadata or
    /// command is not one.
    pub fn is_picture(&self) -> bool {
        matches!(
            self.payload_type(),
            VideoPacketType::CodedFrames | VideoPacketType::CodedFramesX | VideoPacketType::Raw
        )
    }

    /// A key frame carrying a picture (frame type 1 and [`Self::is_picture`]).
    pub fn is_keyframe(&self) -> bool {
        self.frame_type == FrameType::Key && self.is_picture()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_avc_and_hevc() {
        let (h, len) = VideoTagHeader::parse(&[0x17, 0, 0, 0, 0, 0x01]).unwrap();
        assert_eq!(len, 5);
        assert_eq!(h.avc_packet_type, Some(AvcPacketType::SequenceHeader));
        assert!(h.is_sequence_header() && !h.is_keyframe());
        assert_eq!((h.codec, h.is_ex_header), (VideoCodec::Avc, false));

        let (h, len) = VideoTagHeader::parse(&[0x27, 1, 0xff, 0xff, 0xfe, 9]).unwrap();
        assert_eq!((len, h.frame_type), (5, FrameType::Inter));
        assert_eq!(h.composition_time, -2);
        assert!(!h.is_keyframe());

        let (h, _) = VideoTagHeader::parse(&[0x1c, 1, 0, 0, 40]).unwrap();
        assert_eq!(h.codec, VideoCodec::Hevc);
        assert!(h.is_keyframe());
        assert_eq!(h.composition_time, 40);

        let (h, _) = VideoTagHeader::parse(&[0x17, 2, 0, 0, 0]).unwrap();
        assert_eq!(h.packet_type, VideoPacketType::SequenceEnd);
        assert!(!h.is_keyframe());
    }

    #[test]
    fn legacy_other_codecs_and_commands() {
        // Sorenson H.263 key frame: one header byte.
        let (h, len) = VideoTagHeader::parse(&[0x12, 0, 0]).unwrap();
        assert_eq!(
            (len, h.codec, h.packet_type),
            (1, VideoCodec::H263, VideoPacketType::Raw)
        );
        assert!(h.is_keyframe());
        // Command frame: a command byte, no picture.
        let (h, len) = VideoTagHeader::parse(&[0x57, 1]).unwrap();
        assert_eq!(
            (len, h.command, h.packet_type),
            (2, Some(1), VideoPacketType::Command)
        );
        assert!(!h.is_keyframe() && !h.is_sequence_header());
        assert_eq!(
            VideoTagHeader::parse(&[0x0f]).unwrap().0.codec,
            VideoCodec::Other(15)
        );
    }

    #[test]
    fn enhanced_rtmp() {
        let (h, len) = VideoTagHeader::parse(b"\x90hvc1\x01").unwrap();
        assert_eq!(len, 5);
        assert!(h.is_ex_header && h.is_sequence_header() && !h.is_keyframe());
        assert_eq!((h.codec, h.fourcc), (VideoCodec::Hevc, Some(FourCc::Hvc1)));

        let (h, len) = VideoTagHeader::parse(b"\x91hvc1\x00\x00\x42rest").unwrap();
        assert_eq!((len, h.composition_time), (8, 66));
        assert!(h.is_keyframe());

        // CodedFramesX: no composition time.
        let (h, len) = VideoTagHeader::parse(b"\x93avc1\x00\x00\x00\x05").unwrap();
        assert_eq!((len, h.composition_time, h.codec), (5, 0, VideoCodec::Avc));
        assert!(h.is_keyframe());

        // AV1 CodedFrames: no composition time either.
        let (h, len) = VideoTagHeader::parse(b"\xa1av01data").unwrap();
        assert_eq!((len, h.codec, h.is_keyframe()), (5, VideoCodec::Av1, false));

        let (h, _) = VideoTagHeader::parse(b"\x95av01").unwrap();
        assert!(h.is_sequence_header());
        let (h, _) = VideoTagHeader::parse(b"\x94hvc1\x02").unwrap();
        assert_eq!(h.packet_type, VideoPacketType::Metadata);
        assert!(!h.is_keyframe());
        let (h, _) = VideoTagHeader::parse(b"\x92vp09").unwrap();
        assert_eq!(
            (h.packet_type, h.codec),
            (VideoPacketType::SequenceEnd, VideoCodec::Vp9)
        );
        let (h, _) = VideoTagHeader::parse(b"\x93XYZW").unwrap();
        assert_eq!(h.codec, VideoCodec::OtherFourCc(*b"XYZW"));
        assert_eq!(h.fourcc.unwrap().to_bytes(), *b"XYZW");
    }

    #[test]
    fn enhanced_command_multitrack_and_modex() {
        // Ex command frame: command byte, no FourCC.
        let (h, len) = VideoTagHeader::parse(&[0xd1, 0]).unwrap();
        assert_eq!(
            (len, h.command, h.codec),
            (2, Some(0), VideoCodec::Unspecified)
        );

        // Multitrack, OneTrack of CodedFramesX, avc1.
        let (h, len) = VideoTagHeader::parse(b"\x96\x03avc1\x00data").unwrap();
        assert_eq!(len, 6);
        assert_eq!(h.packet_type, VideoPacketType::Multitrack);
        assert_eq!(
            h.multitrack,
            Some(Multitrack {
                kind: MultitrackType::OneTrack,
                packet_type: VideoPacketType::CodedFramesX
            })
        );
        assert!(h.is_keyframe());
        // ManyTracksManyCodecs of SequenceStart: no FourCC in the header.
        let (h, len) = VideoTagHeader::parse(b"\x96\x20\x00hvc1").unwrap();
        assert_eq!((len, h.codec, h.fourcc), (2, VideoCodec::Unspecified, None));
        assert!(h.is_sequence_header());
        assert!(VideoTagHeader::parse(b"\x96\x36avc1").is_err());
        assert!(VideoTagHeader::parse(b"\x96\x06avc1").is_err());

        // ModEx: 3 bytes of TimestampOffsetNano, then CodedFrames hvc1 + cts.
        let (h, len) = VideoTagHeader::parse(b"\x97\x02\x00\x01\x00\x01hvc1\x00\x00\x01").unwrap();
        assert_eq!((len, h.timestamp_offset_nanos), (13, Some(256)));
        assert_eq!(
            (h.packet_type, h.composition_time),
            (VideoPacketType::CodedFrames, 1)
        );
        // Two modifiers: an unknown one (type 5, 2 bytes), then the offset
        // (999,999 ns), wrapping a ManyTracks multitrack of CodedFrames avc1:
        // the offset applies to every track, the loop starts after the FourCC.
        let (h, len) =
            VideoTagHeader::parse(b"\x97\x01\xca\xfe\x57\x02\x0f\x42\x3f\x06\x11avc1\x00").unwrap();
        assert_eq!((len, h.timestamp_offset_nanos), (15, Some(999_999)));
        assert_eq!(
            h.multitrack,
            Some(Multitrack {
                kind: MultitrackType::ManyTracks,
                packet_type: VideoPacketType::CodedFrames
            })
        );
        assert!(h.is_keyframe());
        // A sequence header behind an offset is still one.
        let (h, _) = VideoTagHeader::parse(b"\x97\x02\x00\x00\x05\x00av01\x81").unwrap();
        assert!(h.is_sequence_header() && h.timestamp_offset_nanos == Some(5));
        // Hostile offsets are typed errors.
        assert_eq!(
            VideoTagHeader::parse(b"\x97\x00\x01\x01hvc1"),
            Err(FlvError::TimestampOffsetNanoTooShort(1))
        );
        assert_eq!(
            VideoTagHeader::parse(b"\x97\x02\xff\xff\xff\x01hvc1"),
            Err(FlvError::TimestampOffsetNanoTooLarge(0xff_ffff))
        );
        assert!(matches!(
            VideoTagHeader::parse(b"\x97\xff\x00\x10\x00"),
            Err(FlvError::Truncated(_))
        ));
        // An endless ModEx chain is cut off.
        let chain: Vec<u8> = std::iter::once(0x97)
            .chain((0..=crate::flv::MAX_MODEX).flat_map(|_| [0u8, 0, 0x17]))
            .collect();
        assert_eq!(
            VideoTagHeader::parse(&chain),
            Err(FlvError::UnsupportedExHeader("too many ModEx modifiers"))
        );
    }

    /// What the load tool counts as a frame a viewer sees (time to first
    /// frame, stalls): pictures of any frame type, nothing else.
    #[test]
    fn pictures_are_coded_frames_of_any_frame_type() {
        let picture = |b: &[u8]| VideoTagHeader::parse(b).is_ok_and(|(h, _)| h.is_picture());
        let sequence_header =
            |b: &[u8]| VideoTagHeader::parse(b).is_ok_and(|(h, _)| h.is_sequence_header());
        let avc_seq = [0x17, 0, 0, 0, 0, 1, 2];
        assert!(sequence_header(&avc_seq) && !picture(&avc_seq));
        assert!(picture(&[0x17, 1, 0, 0, 0, 9, 9, 9]));
        assert!(picture(&[0x27, 1, 0, 0, 0, 8]));
        // AVC end of sequence (packet type 2).
        assert!(!picture(&[0x17, 2, 0, 0, 0]));
        // Video info / command frame.
        assert!(!picture(&[0x57, 0]));
        // Enhanced RTMP: SequenceStart, CodedFrames (hvc1 carries a
        // composition time), CodedFramesX of an inter frame.
        assert!(sequence_header(b"\x90hvc1"));
        assert!(picture(b"\x91hvc1\0\0\0"));
        assert!(picture(b"\xa3av01"));
        // A header cut short tells nothing.
        assert!(!picture(b"\x91hvc1"));
        assert!(!picture(&[]));
        // Multitrack: judged by what the tracks carry.
        assert!(picture(b"\xa6\x03avc1"));
        assert!(!picture(b"\x96\x00avc1"));
    }

    #[test]
    fn truncated_headers_are_errors() {
        assert_eq!(VideoTagHeader::parse(&[]), Err(FlvError::Empty));
        for bad in [
            &b"\x90hv"[..],
            b"\x17\x01\x00",
            b"\x17",
            b"\x91hvc1\x00",
            b"\x57",
            b"\x96",
            b"\x97\xff\x00",
        ] {
            assert!(
                matches!(VideoTagHeader::parse(bad), Err(FlvError::Truncated(_))),
                "{bad:02x?}"
            );
        }
    }
}
