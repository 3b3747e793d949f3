//! Protocol control messages (RTMP spec 5.4, types 1-6) and User Control
//! messages (spec 6.2 and 7.1.7, type 4).
//!
//! They travel on chunk stream 2, message stream 0 (spec 5.4).

use bytes::{BufMut, Bytes, BytesMut};

use crate::message::{MessageType, RawMessage};
use crate::reader::{Reader, Truncated};

/// The chunk stream id reserved for protocol control messages (spec 5.4).
pub const CONTROL_CSID: u32 = 2;

/// A decoded protocol control or user control message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlMessage {
    /// Type 1: the maximum chunk size the sender uses from now on (spec 5.4.1).
    SetChunkSize(u32),
    /// Type 2: discard the partial message on this chunk stream (spec 5.4.2).
    Abort {
        /// Chunk stream whose partial message to drop.
        csid: u32,
    },
    /// Type 3: bytes received so far, modulo 2^32 (spec 5.4.3).
    Acknowledgement {
        /// Sequence number: total bytes received.
        sequence: u32,
    },
    /// Type 5: acknowledge every this many bytes (spec 5.4.4).
    WindowAckSize(u32),
    /// Type 6: limit the peer's output bandwidth (spec 5.4.5).
    SetPeerBandwidth {
        /// Window size in bytes.
        size: u32,
        /// How to apply it.
        limit: BandwidthLimit,
    },
    /// Type 4: a user control event (spec 6.2, 7.1.7).
    UserControl(UserControlEvent),
}

/// The limit type of Set Peer Bandwidth (spec 5.4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandwidthLimit {
    /// 0: limit output bandwidth to the window size.
    Hard,
    /// 1: limit to the window size or the current limit, whichever is smaller.
    Soft,
    /// 2: hard if the previous limit was hard, otherwise ignore.
    Dynamic,
}

impl BandwidthLimit {
    /// The wire byte.
    pub fn id(self) -> u8 {
        match self {
            Self::Hard => 0,
            Self::Soft => 1,
            Self::Dynamic => 2,
        }
    }
}

/// A user control event (spec 7.1.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserControlEvent {
    /// 0: a stream became functional (server to client).
    StreamBegin(u32),
    /// 1: playback of a stream ended.
    StreamEof(u32),
    /// 2: no more data on a stream for now.
    StreamDry(u32),
    /// 3: the client's buffer length for a stream, in milliseconds.
    SetBufferLength {
        /// Message stream id.
        stream_id: u32,
        /// Buffer length in milliseconds.
        buffer_ms: u32,
    },
    /// 4: the stream is a recorded stream.
    StreamIsRecorded(u32),
    /// 6: ping request carrying the sender's timestamp.
    PingRequest(u32),
    /// 7: ping response echoing the request's timestamp.
    PingResponse(u32),
    /// Any other event type (e.g. SWF verification 0x1A/0x1B), kept opaque.
    Unknown {
        /// Event type.
        event_type: u16,
        /// Event data after the type.
        data: Bytes,
    },
}

impl UserControlEvent {
    /// The event type on the wire.
    pub fn event_type(&self) -> u16 {
        match self {
            Self::StreamBegin(_) => 0,
            Self::StreamEof(_) => 1,
            Self::StreamDry(_) => 2,
            Self::SetBufferLength { .. } => 3,
            Self::StreamIsRecorded(_) => 4,
            Self::PingRequest(_) => 6,
            Self::PingResponse(_) => 7,
            Self::Unknown { event_type, .. } => *event_type,
        }
    }
}

/// A control message body that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// The message type is not a control message (types 1-6).
    #[error("message type {0:?} is not a control message")]
    NotControl(MessageType),
    /// The body was shorter than the fields of its type.
    #[error("control message body truncated: {0}")]
    Truncated(#[from] Truncated),
    /// Set Chunk Size of 0 or with the reserved top bit set (spec 5.4.1).
    #[error("invalid chunk size {0} (must be 1..=0x7FFFFFFF)")]
    InvalidChunkSize(u32),
    /// Set Peer Bandwidth limit type other than 0, 1 or 2 (spec 5.4.5).
    #[error("invalid bandwidth limit type {0}")]
    InvalidLimitType(u8),
}

impl ControlMessage {
    /// Decodes the body of a type 1-6 message.
    ///
    /// Bytes after the fields are ignored: the fields are fixed-size, and a
    /// peer padding them is harmless.
    pub fn decode(type_id: MessageType, payload: &[u8]) -> Result<Self, ControlError> {
        let mut r = Reader::new(payload);
        Ok(match type_id {
            MessageType::SetChunkSize => {
                let size = r.u32()?;
                if size == 0 || size & 0x8000_0000 != 0 {
                    return Err(ControlError::InvalidChunkSize(size));
                }
                Self::SetChunkSize(size)
            }
            MessageType::Abort => Self::Abort { csid: r.u32()? },
            MessageType::Acknowledgement => Self::Acknowledgement { sequence: r.u32()? },
            MessageType::WindowAckSize => Self::WindowAckSize(r.u32()?),
            MessageType::SetPeerBandwidth => {
                let size = r.u32()?;
                let limit = match r.u8()? {
                    0 => BandwidthLimit::Hard,
                    1 => BandwidthLimit::Soft,
                    2 => BandwidthLimit::Dynamic,
                    other => return Err(ControlError::InvalidLimitType(other)),
                };
                Self::SetPeerBandwidth { size, limit }
            }
            MessageType::UserControl => Self::UserControl(decode_event(&mut r)?),
            other => return Err(ControlError::NotControl(other)),
        })
    }

    /// The message type id of this control message.
    pub fn type_id(&self) -> MessageType {
        match self {
            Self::SetChunkSize(_) => MessageType::SetChunkSize,
            Self::Abort { .. } => MessageType::Abort,
            Self::Acknowledgement { .. } => MessageType::Acknowledgement,
            Self::WindowAckSize(_) => MessageType::WindowAckSize,
            Self::SetPeerBandwidth { .. } => MessageType::SetPeerBandwidth,
            Self::UserControl(_) => MessageType::UserControl,
        }
    }

    /// The message to send: chunk stream 2, message stream 0, timestamp 0.
    pub fn to_message(&self) -> RawMessage {
        let mut body = BytesMut::with_capacity(10);
        match self {
            Self::SetChunkSize(v)
            | Self::Abort { csid: v }
            | Self::Acknowledgement { sequence: v }
            | Self::WindowAckSize(v) => body.put_u32(*v),
            Self::SetPeerBandwidth { size, limit } => {
                body.put_u32(*size);
                body.put_u8(limit.id());
            }
            Self::UserControl(event) => {
                body.put_u16(event.event_type());
                match event {
                    UserControlEvent::StreamBegin(v)
                    | UserControlEvent::StreamEof(v)
                    | UserControlEvent::StreamDry(v)
                    | UserControlEvent::StreamIsRecorded(v)
                    | UserControlEvent::PingRequest(v)
                    | UserControlEvent::PingResponse(v) => body.put_u32(*v),
                    UserControlEvent::SetBufferLength {
                        stream_id,
                        buffer_ms,
                    } => {
                        body.put_u32(*stream_id);
                        body.put_u32(*buffer_ms);
                    }
                    UserControlEvent::Unknown { data, .. } => body.put_slice(data),
                }
            }
        }
        RawMessage {
            csid: CONTROL_CSID,
            timestamp: 0,
            type_id: self.type_id(),
            stream_id: 0,
            payload: body.freeze(),
        }
    }
}

/// Decodes a user control event: 2-byte type then event data (spec 7.1.7).
fn decode_event(r: &mut Reader<'_>) -> Result<UserControlEvent, ControlError> {
    let event_type = r.u16()?;
    Ok(match event_type {
        0 => UserControlEvent::StreamBegin(r.u32()?),
        1 => UserControlEvent::StreamEof(r.u32()?),
        2 => UserControlEvent::StreamDry(r.u32()?),
        3 => UserControlEvent::SetBufferLength {
            stream_id: r.u32()?,
            buffer_ms: r.u32()?,
        },
        4 => UserControlEvent::StreamIsRecorded(r.u32()?),
        6 => UserControlEvent::PingRequest(r.u32()?),
        7 => UserControlEvent::PingResponse(r.u32()?),
        _ => UserControlEvent::Unknown {
            event_type,
            data: Bytes::copy_from_slice(r.rest()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<ControlMessage> {
        use UserControlEvent::*;
        let mut v = vec![
            ControlMessage::SetChunkSize(4096),
            ControlMessage::Abort { csid: 7 },
            ControlMessage::Acknowledgement {
                sequence: 0xDEAD_BEEF,
            },
            ControlMessage::WindowAckSize(2_500_000),
        ];
        for limit in [
            BandwidthLimit::Hard,
            BandwidthLimit::Soft,
            BandwidthLimit::Dynamic,
        ] {
            v.push(ControlMessage::SetPeerBandwidth { size: 1234, limit });
        }
        for e in [
            StreamBegin(1),
            StreamEof(2),
            StreamDry(3),
            SetBufferLength {
                stream_id: 1,
                buffer_ms: 3000,
            },
            StreamIsRecorded(4),
            PingRequest(99),
            PingResponse(100),
            Unknown {
                event_type: 0x1A,
                data: Bytes::from_static(&[0, 1]),
            },
        ] {
            v.push(ControlMessage::UserControl(e));
        }
        v
    }

    #[test]
    fn roundtrip_every_variant() {
        for m in all() {
            let raw = m.to_message();
            assert_eq!((raw.csid, raw.stream_id, raw.timestamp), (2, 0, 0));
            assert_eq!(
                ControlMessage::decode(raw.type_id, &raw.payload).unwrap(),
                m
            );
        }
    }

    #[test]
    fn wire_bytes_match_spec() {
        let raw = ControlMessage::SetPeerBandwidth {
            size: 2_500_000,
            limit: BandwidthLimit::Dynamic,
        }
        .to_message();
        assert_eq!(&raw.payload[..], &[0x00, 0x26, 0x25, 0xA0, 2]);
        let raw = ControlMessage::UserControl(UserControlEvent::SetBufferLength {
            stream_id: 1,
            buffer_ms: 0x0BB8,
        })
        .to_message();
        assert_eq!(&raw.payload[..], &[0, 3, 0, 0, 0, 1, 0, 0, 0x0B, 0xB8]);
    }

    #[test]
    fn rejects_bad_bodies() {
        use ControlError::*;
        let t = MessageType::SetChunkSize;
        assert_eq!(
            ControlMessage::decode(t, &[0, 0, 0, 0]),
            Err(InvalidChunkSize(0))
        );
        assert_eq!(
            ControlMessage::decode(t, &[0x80, 0, 0, 1]),
            Err(InvalidChunkSize(0x8000_0001))
        );
        assert!(matches!(
            ControlMessage::decode(t, &[0, 1]),
            Err(Truncated(_))
        ));
        assert_eq!(
            ControlMessage::decode(MessageType::SetPeerBandwidth, &[0, 0, 0, 1, 3]),
            Err(InvalidLimitType(3))
        );
        assert!(matches!(
            ControlMessage::decode(MessageType::UserControl, &[0, 3, 0, 0, 0, 1]),
            Err(Truncated(_))
        ));
        assert_eq!(
            ControlMessage::decode(MessageType::Video, &[]),
            Err(NotControl(MessageType::Video))
        );
    }
}
