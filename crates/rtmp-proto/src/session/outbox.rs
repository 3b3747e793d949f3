//! The outgoing side of a session: its chunk encoder and the queue of
//! pieces waiting for the next vectored write.

use bytes::Bytes;

use crate::chunk::ChunkEncoder;
use crate::command::{Command, DataMessage};
use crate::control::ControlMessage;
use crate::message::RawMessage;

/// Room for queued pieces kept between bursts.
const KEEP_PIECES: usize = 32;

/// One connection's chunk encoder and pending output, in wire order.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    encoder: ChunkEncoder,
    pieces: Vec<Bytes>,
    queued: usize,
}

impl Outbox {
    /// Queues bytes that are not chunked (handshake packets, shared chunks).
    pub(super) fn raw(&mut self, bytes: Bytes) {
        if !bytes.is_empty() {
            self.queued = self.queued.saturating_add(bytes.len());
            self.pieces.push(bytes);
        }
    }

    /// Chunks and queues one message.
    pub(super) fn message(&mut self, msg: &RawMessage) {
        let start = self.pieces.len();
        self.encoder.encode(msg, &mut self.pieces);
        let added: usize = self.pieces.iter().skip(start).map(Bytes::len).sum();
        self.queued = self.queued.saturating_add(added);
    }

    /// Queues a protocol control or user control message.
    pub(super) fn control(&mut self, msg: &ControlMessage) {
        self.message(&msg.to_message());
    }

    /// Queues a command on `csid`, message stream `stream_id`.
    pub(super) fn command(&mut self, csid: u32, stream_id: u32, cmd: &Command) {
        self.message(&cmd.to_message(csid, stream_id));
    }

    /// Queues a data message on `csid`, message stream `stream_id`, time 0.
    pub(super) fn data(&mut self, csid: u32, stream_id: u32, data: &DataMessage) {
        self.message(&data.to_message(csid, stream_id, 0));
    }

    /// Moves every queued piece to `out`, in order.
    pub(super) fn drain(&mut self, out: &mut Vec<Bytes>) {
        out.append(&mut self.pieces);
        self.queued = 0;
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

    /// The chunk size outgoing messages are cut with.
    pub(super) fn chunk_size(&self) -> u32 {
        self.encoder.chunk_size()
    }
}
