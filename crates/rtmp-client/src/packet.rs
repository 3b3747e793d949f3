//! What a client sends and receives: one FLV tag's worth of media (an RTMP
//! audio, video or data message body, FLV spec v10.1 E.4.1: a tag body is
//! a message body), with its timestamp.

use bytes::Bytes;
use media_core::flv::TagType;
use rtmp_proto::amf0::Amf0Value;
use rtmp_proto::command::DataMessage;
use rtmp_proto::{MessageType, RawMessage};

/// One audio, video or data (metadata) message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Audio (8), video (9) or script data (18): the FLV tag type and the
    /// RTMP message type are the same number.
    pub tag_type: TagType,
    /// Milliseconds (the low 32 bits of the stream's clock, as FLV and the
    /// RTMP wire carry it).
    pub timestamp: u32,
    /// The tag body / message payload.
    pub payload: Bytes,
}

impl Packet {
    /// A packet of `tag_type` at `timestamp` ms.
    pub fn new(tag_type: TagType, timestamp: u32, payload: impl Into<Bytes>) -> Self {
        Self {
            tag_type,
            timestamp,
            payload: payload.into(),
        }
    }

    /// Whether the packet is audio, video or data (the only kinds a stream
    /// carries).
    pub fn is_media(&self) -> bool {
        matches!(
            self.tag_type,
            TagType::Audio | TagType::Video | TagType::Script
        )
    }

    /// For a data packet: its decoded content (`onMetaData`,
    /// `@setDataFrame`...); `None` for audio, video or an undecodable body.
    pub fn data(&self) -> Option<DataMessage> {
        if self.tag_type != TagType::Script {
            return None;
        }
        DataMessage::decode(&self.to_message()).ok()
    }

    /// For an `onMetaData` (or `@setDataFrame onMetaData`) packet: the
    /// metadata object (width, height, codec ids...).
    pub fn metadata(&self) -> Option<Amf0Value> {
        self.data()?.metadata().cloned()
    }

    /// The RTMP message carrying this packet (chunk stream and message
    /// stream are chosen by the session when sending).
    pub fn to_message(&self) -> RawMessage {
        RawMessage {
            csid: 0,
            timestamp: u64::from(self.timestamp),
            type_id: MessageType::from_id(self.tag_type.id()),
            stream_id: 0,
            payload: self.payload.clone(),
        }
    }

    /// The packet a received message is (its clock cut to 32 bits).
    pub fn from_message(message: &RawMessage) -> Self {
        Self {
            tag_type: TagType::from_id(message.type_id.id()),
            timestamp: message.timestamp as u32,
            payload: message.payload.clone(),
        }
    }
}
