//! One published message as it fans out: shared by every consumer's queue.
//!
//! A [`Frame`] wraps the [`MediaMessage`] and caches its RTMP chunk encoding, so a
//! message is chunk-encoded once per distinct (chunk size, message stream id) and
//! the resulting pieces (small header bytes plus slices of the payload) are shared
//! by every RTMP player. Payload bytes are never copied per player.

use std::sync::{Arc, OnceLock};

use media_core::{MediaKind, MediaMessage};
use rtmp_proto::chunk::EncodedMessage;
use rtmp_proto::session::encode_shared_media;
use rtmp_proto::{MessageType, RawMessage};

/// A message in flight from a publisher to its consumers.
#[derive(Debug)]
pub struct Frame {
    /// The media message (timestamps already jitter-corrected).
    pub msg: MediaMessage,
    /// The encoding for the most common (chunk size, stream id) pair.
    rtmp: OnceLock<((u32, u32), EncodedMessage)>,
}

/// The message stream id whose encodings are cached: the one `createStream`
/// gives every client first. A player may play on an id of its own choosing
/// (some skip `createStream`); such a player gets encodings of its own rather
/// than deciding, by draining a frame first, which one everybody shares.
pub const CACHED_STREAM_ID: u32 = 1;

/// Frames travel in `Arc`s: a queue entry is one pointer.
pub type SharedFrame = Arc<Frame>;

impl Frame {
    /// Wraps a message for fan-out.
    pub fn new(msg: MediaMessage) -> SharedFrame {
        Arc::new(Self {
            msg,
            rtmp: OnceLock::new(),
        })
    }

    /// The RTMP message this frame becomes on a player's message stream.
    pub fn raw(&self, stream_id: u32) -> RawMessage {
        let type_id = match self.msg.kind {
            MediaKind::Audio => MessageType::Audio,
            MediaKind::Video => MessageType::Video,
            MediaKind::Data => MessageType::DataAmf0,
        };
        let csid = rtmp_proto::session::shared_csid(type_id);
        RawMessage {
            csid,
            timestamp: self.msg.timestamp,
            type_id,
            stream_id,
            payload: self.msg.payload.clone(),
        }
    }

    /// The chunk encoding for a player with `chunk_size` and `stream_id`.
    ///
    /// The encoding on [`CACHED_STREAM_ID`] with the first caller's chunk size
    /// (players of a source share its vhost's) is cached and shared; other
    /// pairs get a fresh encoding, which still shares the payload bytes.
    pub fn rtmp(&self, chunk_size: u32, stream_id: u32) -> EncodedMessage {
        if stream_id != CACHED_STREAM_ID {
            return encode_shared_media(chunk_size, stream_id, &self.raw(stream_id));
        }
        let key = (chunk_size, stream_id);
        let (cached_key, encoded) = self.rtmp.get_or_init(|| {
            (
                key,
                encode_shared_media(chunk_size, stream_id, &self.raw(stream_id)),
            )
        });
        if *cached_key == key {
            encoded.clone()
        } else {
            encode_shared_media(chunk_size, stream_id, &self.raw(stream_id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn shared(a: &EncodedMessage, b: &EncodedMessage) -> bool {
        a.pieces()
            .iter()
            .zip(b.pieces())
            .all(|(x, y)| x.as_ptr() == y.as_ptr())
    }

    #[test]
    fn a_player_on_its_own_stream_id_does_not_decide_the_shared_encoding() {
        let frame = Frame::new(MediaMessage::new(
            MediaKind::Video,
            40,
            Bytes::from_static(&[0x17, 1, 0, 0, 0, 9, 9, 9]),
        ));
        // The first to drain plays on stream 7.
        let odd = frame.rtmp(60000, 7);
        let a = frame.rtmp(60000, 1);
        let b = frame.rtmp(60000, 1);
        assert!(shared(&a, &b), "stream-1 players share one encoding");
        assert!(!shared(&odd, &a));
        assert_eq!(odd.len(), a.len());
    }
}
