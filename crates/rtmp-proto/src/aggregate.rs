//! Aggregate messages (RTMP spec 7.1.6, type 22): several audio, video or data
//! messages in one body, each an FLV-tag-shaped record.
//!
//! Record layout: type (1 byte), body size (3), timestamp (3, low bits) and
//! timestamp extension (1, high bits), stream id (3), body, back pointer (4,
//! the record size minus the back pointer; not checked, writers disagree).

use crate::message::{MessageType, RawMessage};
use crate::reader::{Reader, Truncated};

/// Bytes of a record besides its body: the 11-byte header and the back pointer.
pub const RECORD_OVERHEAD: usize = 15;

/// An aggregate message body that could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AggregateError {
    /// The message is not an aggregate (type 22).
    #[error("message type {0:?} is not an aggregate")]
    NotAggregate(MessageType),
    /// A record header or back pointer ran past the end of the body.
    #[error("aggregate record at offset {offset} truncated: {source}")]
    Truncated {
        /// Offset of the record in the aggregate body.
        offset: usize,
        /// What was missing.
        source: Truncated,
    },
    /// A record's body size ran past the end of the aggregate.
    #[error("aggregate record at offset {offset} claims {size} body bytes, {available} left")]
    BodyTooLong {
        /// Offset of the record in the aggregate body.
        offset: usize,
        /// Claimed body size.
        size: usize,
        /// Bytes left after the record header.
        available: usize,
    },
    /// A record is itself an aggregate; nesting is not allowed.
    #[error("aggregate record at offset {offset} is itself an aggregate")]
    Nested {
        /// Offset of the record in the aggregate body.
        offset: usize,
    },
}

/// Splits an aggregate message into its sub-messages.
///
/// Payloads are zero-copy slices of `msg.payload`. Timestamps are re-based: the
/// first sub-message gets the aggregate's timestamp and the others keep their
/// offset from the first (spec 7.1.6). Sub-messages take the aggregate's chunk
/// stream and message stream ids: the records' own stream ids are usually 0.
/// The number of records is bounded by the body size (each takes at least
/// [`RECORD_OVERHEAD`] bytes).
pub fn split_aggregate(msg: &RawMessage) -> Result<Vec<RawMessage>, AggregateError> {
    if msg.type_id != MessageType::Aggregate {
        return Err(AggregateError::NotAggregate(msg.type_id));
    }
    let mut r = Reader::new(&msg.payload);
    let mut out = Vec::new();
    let mut first_timestamp = None;
    while !r.is_empty() {
        let offset = r.position();
        let truncated = |source| AggregateError::Truncated { offset, source };
        let type_id = MessageType::from_id(r.u8().map_err(truncated)?);
        let size = r.u24().map_err(truncated)? as usize;
        let low = r.u24().map_err(truncated)?;
        let high = r.u8().map_err(truncated)?;
        r.skip(3).map_err(truncated)?; // stream id
        if type_id == MessageType::Aggregate {
            return Err(AggregateError::Nested { offset });
        }
        let start = r.position();
        if r.skip(size).is_err() {
            return Err(AggregateError::BodyTooLong {
                offset,
                size,
                available: r.remaining(),
            });
        }
        r.skip(4).map_err(truncated)?; // back pointer
        let timestamp = low | (u32::from(high) << 24);
        let first = *first_timestamp.get_or_insert(timestamp);
        let step = i64::from(timestamp.wrapping_sub(first) as i32);
        out.push(RawMessage {
            csid: msg.csid,
            timestamp: msg.timestamp.saturating_add_signed(step),
            type_id,
            stream_id: msg.stream_id,
            payload: msg.payload.slice(start..start + size),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn record(type_id: u8, timestamp: u32, body: &[u8]) -> Vec<u8> {
        let mut v = vec![type_id];
        v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        v.extend_from_slice(&timestamp.to_be_bytes()[1..]);
        v.push((timestamp >> 24) as u8);
        v.extend_from_slice(&[0, 0, 0]);
        v.extend_from_slice(body);
        v.extend_from_slice(&(body.len() as u32 + 11).to_be_bytes());
        v
    }

    fn aggregate(body: Vec<u8>, timestamp: u64) -> RawMessage {
        RawMessage {
            csid: 5,
            timestamp,
            type_id: MessageType::Aggregate,
            stream_id: 1,
            payload: Bytes::from(body),
        }
    }

    #[test]
    fn splits_and_rebases() {
        let mut body = record(9, 0x0100_0010, b"video");
        body.extend(record(8, 0x0100_0030, b"au"));
        body.extend(record(18, 0x0100_0030, b""));
        let msg = aggregate(body, 500);
        let subs = split_aggregate(&msg).unwrap();
        assert_eq!(subs.len(), 3);
        assert_eq!(subs[0].type_id, MessageType::Video);
        assert_eq!(&subs[0].payload[..], b"video");
        assert_eq!(subs[0].timestamp, 500);
        assert_eq!(subs[1].timestamp, 532);
        assert_eq!(subs[2].payload.len(), 0);
        assert!(subs.iter().all(|m| m.stream_id == 1 && m.csid == 5));
        let base = msg.payload.as_ptr() as usize;
        assert_eq!(subs[0].payload.as_ptr() as usize, base + 11);
    }

    #[test]
    fn rejects_malformed() {
        let mut body = record(9, 0, b"video");
        body.truncate(body.len() - 1);
        assert!(matches!(
            split_aggregate(&aggregate(body, 0)),
            Err(AggregateError::Truncated { offset: 0, .. })
        ));
        let mut body = record(9, 0, b"video");
        body[3] = 0xFF;
        assert!(matches!(
            split_aggregate(&aggregate(body, 0)),
            Err(AggregateError::BodyTooLong { .. })
        ));
        let body = record(22, 0, b"x");
        assert_eq!(
            split_aggregate(&aggregate(body, 0)),
            Err(AggregateError::Nested { offset: 0 })
        );
        let mut not = aggregate(Vec::new(), 0);
        not.type_id = MessageType::Audio;
        assert_eq!(
            split_aggregate(&not),
            Err(AggregateError::NotAggregate(MessageType::Audio))
        );
        assert_eq!(split_aggregate(&aggregate(Vec::new(), 0)).unwrap(), vec![]);
    }
}
