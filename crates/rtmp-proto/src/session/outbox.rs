//! The outgoing side of a session: its chunk encoder and the queue of
//! pieces waiting for the next vectored write.
//!
//! The queue counts apart what the session queues by itself in answer to
//! input (handshake replies, acknowledgements, ping responses, command
//! answers) from what the application queues (`send_*`: media, statuses).
//! The application bounds its own output; the session bounds its replies
//! with [`MAX_QUEUED_REPLY_BYTES`].

use bytes::Bytes;

use super::SessionError;
use crate::chunk::ChunkEncoder;
use crate::command::{Command, DataMessage};
use crate::control::ControlMessage;
use crate::message::RawMessage;

/// Room for queued pieces kept between bursts.
const KEEP_PIECES: usize = 32;

/// Most bytes of replies a session lets wait for the next write before it
/// fails with [`SessionError::PeerNotReading`](super::SessionError::PeerNotReading):
/// 1 MiB.
///
/// Every incoming message may queue an answer (a Ping Request its Ping
/// Response, spec 7.1.7; a call its `_result`; a Window Acknowledgement Size
/// of 1 an Acknowledgement per read, spec 5.4.3), often larger than the
/// request. A peer that sends them and never reads would make the session
/// queue without end. A peer that reads has its replies drained at every
/// write, and the largest burst a session answers with (connect: about
/// 0.5 KiB; S0S1S2: 3 KiB) is far below this, so only a peer that stopped
/// reading reaches it (about 58,000 unread Ping Responses).
pub const MAX_QUEUED_REPLY_BYTES: usize = 1 << 20;

/// One connection's chunk encoder and pending output, in wire order.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    encoder: ChunkEncoder,
    pieces: Vec<Bytes>,
    /// Bytes of `pieces`.
    queued: usize,
    /// Bytes of `pieces` the session queued by itself (replies).
    replies: usize,
}

impl Outbox {
    /// Queues bytes that are not chunked (handshake packets) as a reply.
    pub(super) fn raw(&mut self, bytes: Bytes) {
        let added = self.push_raw(bytes);
        self.replies = self.replies.saturating_add(added);
    }

    /// Queues bytes that are not chunked (shared chunks) for the application.
    pub(super) fn app_raw(&mut self, bytes: Bytes) {
        self.push_raw(bytes);
    }

    /// Chunks and queues one message as a reply.
    pub(super) fn message(&mut self, msg: &RawMessage) {
        let added = self.push_message(msg);
        self.replies = self.replies.saturating_add(added);
    }

    /// Chunks and queues one message for the application.
    pub(super) fn app_message(&mut self, msg: &RawMessage) {
        self.push_message(msg);
    }

    /// Queues `bytes`; returns how many.
    fn push_raw(&mut self, bytes: Bytes) -> usize {
        let added = bytes.len();
        if added > 0 {
            self.queued = self.queued.saturating_add(added);
            self.pieces.push(bytes);
        }
        added
    }

    /// Chunks and queues `msg`; returns the bytes queued.
    fn push_message(&mut self, msg: &RawMessage) -> usize {
        let start = self.pieces.len();
        self.encoder.encode(msg, &mut self.pieces);
        let added: usize = self.pieces.iter().skip(start).map(Bytes::len).sum();
        self.queued = self.queued.saturating_add(added);
        added
    }

    /// Queues a protocol control or user control message as a reply.
    pub(super) fn control(&mut self, msg: &ControlMessage) {
        self.message(&msg.to_message());
    }

    /// Queues a command on `csid`, message stream `stream_id`, as a reply.
    pub(super) fn command(&mut self, csid: u32, stream_id: u32, cmd: &Command) {
        self.message(&cmd.to_message(csid, stream_id));
    }

    /// Queues a data message on `csid`, message stream `stream_id`, time 0,
    /// as a reply.
    pub(super) fn data(&mut self, csid: u32, stream_id: u32, data: &DataMessage) {
        self.message(&data.to_message(csid, stream_id, 0));
    }

    /// Moves every queued piece to `out`, in order.
    pub(super) fn drain(&mut self, out: &mut Vec<Bytes>) {
        out.append(&mut self.pieces);
        self.queued = 0;
        self.replies = 0;
        if self.pieces.capacity() > KEEP_PIECES {
            // A burst (connect replies, a cache sent at once) must not leave
            // every idle connection holding room for it.
            self.pieces = Vec::new();
        }
    }

    /// Whether anything waits to be written.
    pub(super) fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Bytes waiting to be written.
    pub(super) fn queued(&self) -> usize {
        self.queued
    }

    /// Fails once more than [`MAX_QUEUED_REPLY_BYTES`] of replies wait: the
    /// peer does not read them.
    pub(super) fn check_replies(&self) -> Result<(), SessionError> {
        if self.replies > MAX_QUEUED_REPLY_BYTES {
            return Err(SessionError::PeerNotReading {
                queued: self.replies,
                limit: MAX_QUEUED_REPLY_BYTES,
            });
        }
        Ok(())
    }

    /// The chunk size outgoing messages are cut with.
    pub(super) fn chunk_size(&self) -> u32 {
        self.encoder.chunk_size()
    }
}
