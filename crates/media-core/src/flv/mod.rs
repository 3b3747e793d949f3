//! FLV (Adobe "Video File Format Specification" v10.1, annex E) and the
//! Enhanced RTMP extensions (E-RTMP v1/v2: `IsExHeader` video and audio
//! headers naming the codec by FourCC).
//!
//! RTMP audio and video messages carry exactly an FLV tag body, so the tag
//! header parsers ([`AudioTagHeader`], [`VideoTagHeader`]) serve the live path
//! (flag classification, codec info, remuxing) as well as FLV files
//! ([`FlvReader`], [`FlvWriter`], [`TagHeader`]) and live FLV streams
//! ([`TagScanner`] to read one, [`tag_prefix`] to write one).
//!
//! Every parser reads through [`rtmp_proto::reader::Reader`] and returns a
//! typed [`FlvError`]; nothing here panics or allocates on hostile input.

mod audio;
mod error;
mod modex;
mod multitrack;
mod reader;
mod scanner;
mod tag;
mod video;
mod writer;

pub use audio::{AacPacketType, AudioPacketType, AudioTagHeader, SoundFormat};
pub use error::FlvError;
pub use modex::{MAX_MODEX, MAX_TIMESTAMP_OFFSET_NANOS, TIMESTAMP_OFFSET_NANO_LEN};
pub use multitrack::{
    legacy_audio, legacy_video, single_track_audio, single_track_video, TrackData, Tracks,
    MAX_TRACKS_PER_MESSAGE,
};
pub use reader::{FlvHeader, FlvReader, Tag, MAX_HEADER_LEN};
pub use scanner::{ScannedTag, TagScanner, BODY_START_LEN};
pub use tag::{TagHeader, TagType, MAX_TAG_DATA_SIZE, TAG_HEADER_LEN};
pub use video::{
    AvcPacketType, FourCc, FrameType, Multitrack, MultitrackType, VideoCodec, VideoPacketType,
    VideoTagHeader,
};
pub use writer::{tag_prefix, FlvWriter, FLV_HEADER_LEN, TAG_PREFIX_LEN};
