//! RTMP message type ids and the raw message every layer passes around.

use bytes::Bytes;

/// Message type ids (RTMP spec 5.4, 6.2 and 7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// 1: Set Chunk Size.
    SetChunkSize,
    /// 2: Abort Message.
    Abort,
    /// 3: Acknowledgement.
    Acknowledgement,
    /// 4: User Control Message.
    UserControl,
    /// 5: Window Acknowledgement Size.
    WindowAckSize,
    /// 6: Set Peer Bandwidth.
    SetPeerBandwidth,
    /// 8: Audio.
    Audio,
    /// 9: Video.
    Video,
    /// 15: Data message, AMF3 encoded.
    DataAmf3,
    /// 16: Shared object, AMF3 encoded.
    SharedObjectAmf3,
    /// 17: Command, AMF3 encoded (first byte is a format marker, rest AMF0 in practice).
    CommandAmf3,
    /// 18: Data message, AMF0 encoded (`@setDataFrame`, `onMetaData`).
    DataAmf0,
    /// 19: Shared object, AMF0 encoded.
    SharedObjectAmf0,
    /// 20: Command, AMF0 encoded.
    CommandAmf0,
    /// 22: Aggregate message.
    Aggregate,
    /// Any other id; kept so unknown messages can be skipped, not rejected.
    Other(u8),
}

impl MessageType {
    /// The wire id.
    pub fn id(self) -> u8 {
        match self {
            Self::SetChunkSize => 1,
            Self::Abort => 2,
            Self::Acknowledgement => 3,
            Self::UserControl => 4,
            Self::WindowAckSize => 5,
            Self::SetPeerBandwidth => 6,
            Self::Audio => 8,
            Self::Video => 9,
            Self::DataAmf3 => 15,
            Self::SharedObjectAmf3 => 16,
            Self::CommandAmf3 => 17,
            Self::DataAmf0 => 18,
            Self::SharedObjectAmf0 => 19,
            Self::CommandAmf0 => 20,
            Self::Aggregate => 22,
            Self::Other(id) => id,
        }
    }

    /// Maps a wire id to its type.
    pub fn from_id(id: u8) -> Self {
        match id {
            1 => Self::SetChunkSize,
            2 => Self::Abort,
            3 => Self::Acknowledgement,
            4 => Self::UserControl,
            5 => Self::WindowAckSize,
            6 => Self::SetPeerBandwidth,
            8 => Self::Audio,
            9 => Self::Video,
            15 => Self::DataAmf3,
            16 => Self::SharedObjectAmf3,
            17 => Self::CommandAmf3,
            18 => Self::DataAmf0,
            19 => Self::SharedObjectAmf0,
            20 => Self::CommandAmf0,
            22 => Self::Aggregate,
            other => Self::Other(other),
        }
    }

    /// Protocol control messages (types 1-6) travel on chunk stream 2, message stream 0.
    pub fn is_protocol_control(self) -> bool {
        (1..=6).contains(&self.id())
    }
}

/// One complete RTMP message, reassembled from (or to be split into) chunks.
///
/// The payload is a [`Bytes`] so that the same media payload can be handed to
/// thousands of players without copying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// Chunk stream id the message arrived on, or should be sent on (2..=65599).
    pub csid: u32,
    /// Timestamp in milliseconds, extended to 64 bits by the decoder so that
    /// sessions longer than 2^32 ms stay monotonic. The wire carries the low 32 bits.
    pub timestamp: u64,
    /// Message type.
    pub type_id: MessageType,
    /// Message stream id (0 for NetConnection-level messages).
    pub stream_id: u32,
    /// The message body.
    pub payload: Bytes,
}
