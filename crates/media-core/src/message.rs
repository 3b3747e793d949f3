//! The media message that fans out from one publisher to every consumer.

use bytes::Bytes;

/// Which track a message belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// RTMP message type 8; payload is an FLV audio tag body.
    Audio,
    /// RTMP message type 9; payload is an FLV video tag body.
    Video,
    /// RTMP message type 18 (AMF0 data, e.g. onMetaData).
    Data,
}

/// What a consumer needs to know without parsing the payload again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct MediaFlags {
    /// A video key frame (a point a new player can start from).
    pub keyframe: bool,
    /// An AVC/HEVC decoder configuration or AAC AudioSpecificConfig.
    pub sequence_header: bool,
}

/// One audio, video or data message. Cloning is cheap: the payload is shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaMessage {
    /// Decode timestamp in milliseconds, 64-bit so it never wraps in practice.
    pub timestamp: u64,
    /// The track.
    pub kind: MediaKind,
    /// Key frame / sequence header flags.
    pub flags: MediaFlags,
    /// The FLV tag body exactly as RTMP carries it.
    pub payload: Bytes,
}
