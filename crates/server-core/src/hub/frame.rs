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
    /// The first caller's pair is cached and shared; a player with a different
    /// pair (rare: all players normally share the vhost chunk size and stream 1)
    /// gets a fresh encoding, which still shares the payload bytes.
    pub fn rtmp(&self, chunk_size: u32, stream_id: u32) -> EncodedMessage {
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
