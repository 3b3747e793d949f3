//! Server and client session state machines (quinn-proto shape): bytes in
//! with [`handle_input`](ServerSession::handle_input), events out with
//! `poll_event`, bytes out with `poll_transmit`. No I/O, no clock, no RNG.
//!
//! - [`ServerSession`]: one accepted connection. It runs the handshake,
//!   decodes the chunk stream, answers protocol-level messages by itself
//!   (acknowledgements, pings, `createStream`, the FMLE publish preamble,
//!   `getStreamLength`) and surfaces decisions (connect, publish, play) as
//!   [`ServerEvent`]s the application answers with `accept_*` / `reject_*`.
//! - [`ClientSession`]: the other side, for the load tool, the simulator and
//!   tests: connect, create streams, publish (Flash or FMLE style), play.
//!
//! # Chunk stream ids
//!
//! Each session writes through its own [`ChunkEncoder`](crate::chunk::ChunkEncoder),
//! whose header compression state must match the peer's decoder. Media
//! encoded once for many players with [`encode_shared`](crate::chunk::encode_shared)
//! bypasses that encoder, so it must travel on chunk stream ids the session
//! never uses itself: [`CSID_SHARED_AUDIO`], [`CSID_SHARED_VIDEO`] and
//! [`CSID_SHARED_DATA`]. [`encode_shared_media`] picks the right one.
//!
//! The message stream id is part of a chunk header, so one shared encoding
//! serves every player whose playing stream has the same id, at the same
//! chunk size. Stream ids are per connection; [`ServerSession`] hands out the
//! lowest free id from 1, so nearly every player plays on stream 1 and a
//! server encodes each message once per distinct (chunk size, stream id).

mod ack;
mod client;
mod client_setup;
mod error;
mod outbox;
mod publish_step;
mod server;

pub use client::{ClientConfig, ClientEvent, ClientSession};
pub use client_setup::{ClientSetup, SetupStage, SetupStep};
pub use error::SessionError;
pub use outbox::MAX_QUEUED_REPLY_BYTES;
pub use publish_step::{judge_publish, PublishStep};
pub use server::{ServerConfig, ServerEvent, ServerSession, MAX_PENDING_INPUT, MAX_STREAMS};

use crate::chunk::{encode_shared, EncodedMessage};
use crate::message::{MessageType, RawMessage};

/// Protocol control and user control messages (spec 5.4).
pub const CSID_CONTROL: u32 = crate::control::CONTROL_CSID;
/// NetConnection commands and their answers (`connect`, `createStream`,
/// `_result`...), on message stream 0. SRS and Flash Player use 3.
pub const CSID_COMMAND: u32 = 3;
/// Data messages a session sends itself or through `send_media`
/// (`onMetaData`, `|RtmpSampleAccess`...).
pub const CSID_DATA: u32 = 4;
/// NetStream commands and status reports (`publish`, `play`, `onStatus`...).
pub const CSID_STREAM_COMMAND: u32 = 5;
/// Video sent through a session's own encoder (`send_media`).
pub const CSID_VIDEO: u32 = 6;
/// Audio sent through a session's own encoder (`send_media`).
pub const CSID_AUDIO: u32 = 7;
/// Reserved for data messages encoded once for many players
/// ([`encode_shared_media`]); never written by a session's own encoder.
pub const CSID_SHARED_DATA: u32 = 20;
/// Reserved for audio encoded once for many players.
pub const CSID_SHARED_AUDIO: u32 = 21;
/// Reserved for video encoded once for many players.
pub const CSID_SHARED_VIDEO: u32 = 22;

/// The chunk stream a session's own encoder uses for a media message.
fn media_csid(type_id: MessageType) -> u32 {
    match type_id {
        MessageType::Audio => CSID_AUDIO,
        MessageType::Video => CSID_VIDEO,
        _ => CSID_DATA,
    }
}

/// The reserved shared chunk stream for a media message type.
pub fn shared_csid(type_id: MessageType) -> u32 {
    match type_id {
        MessageType::Audio => CSID_SHARED_AUDIO,
        MessageType::Video => CSID_SHARED_VIDEO,
        _ => CSID_SHARED_DATA,
    }
}

/// Encodes `msg` once for every player that plays on message stream
/// `stream_id` at chunk size `chunk_size` (see
/// [`ServerSession::out_chunk_size`]): the chunk stream id is replaced by the
/// reserved shared one for its type and the stream id by `stream_id`, then
/// [`encode_shared`] cuts it (payload not copied). Queue the result with
/// [`ServerSession::send_encoded`].
pub fn encode_shared_media(chunk_size: u32, stream_id: u32, msg: &RawMessage) -> EncodedMessage {
    let msg = RawMessage {
        csid: shared_csid(msg.type_id),
        stream_id,
        ..msg.clone()
    };
    encode_shared(chunk_size, &msg)
}
