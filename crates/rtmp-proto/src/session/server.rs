//! The server side of one RTMP connection.

use std::collections::VecDeque;

use bytes::Bytes;

use super::ack::AckWindow;
use super::outbox::Outbox;
use super::{media_csid, SessionError, CSID_COMMAND, CSID_DATA, CSID_STREAM_COMMAND};
use crate::aggregate::split_aggregate;
use crate::amf0::Amf0Value;
use crate::chunk::{ChunkDecoder, EncodedMessage, Limits};
use crate::command::status::{
    CONNECT_RECONNECT_REQUEST, CONNECT_REJECTED, CONNECT_SUCCESS, LEVEL_ERROR, LEVEL_STATUS,
    PAUSE_NOTIFY, PLAY_RESET, PLAY_START, PUBLISH_START, UNPAUSE_NOTIFY, UNPUBLISH_SUCCESS,
};
use crate::command::{
    CallResponse, Command, CommandError, Connect, DataMessage, Play, Publish, PublishType, Status,
    CAPS_EX_MOD_EX, CAPS_EX_MULTITRACK, CAPS_EX_RECONNECT,
};

/// The `connect` properties by which a client announces Enhanced RTMP.
const ENHANCED_CONNECT_PROPERTIES: [&str; 4] = [
    "fourCcList",
    "capsEx",
    "videoFourCcInfoMap",
    "audioFourCcInfoMap",
];

/// Enhanced RTMP v2 `FourCcInfoMask.CanForward`: the server passes the
/// codec on untouched.
const FOURCC_CAN_FORWARD: u32 = 0x04;
use crate::control::{BandwidthLimit, ControlMessage, UserControlEvent};
use crate::handshake::{HandshakeKind, HandshakeServer};
use crate::message::{MessageType, RawMessage};

/// The `clientid` SRS puts in its play statuses (`RTMP_SIG_CLIENT_ID`);
/// Flash Player only needs one to be there.
const CLIENT_ID: &str = "ASAICiss";

/// Most message streams one connection may hold at once. Real clients use
/// one or two; the cap bounds what a hostile `createStream` loop can make us
/// remember.
pub const MAX_STREAMS: usize = 32;

/// Most bytes the chunk decoder may hold while the application has not yet
/// answered a connect/publish/play event. Decoding pauses during a decision
/// so that what follows (media, `pause`...) is seen in the state the answer
/// creates; a well-behaved client waits for the answer and sends little.
pub const MAX_PENDING_INPUT: usize = 1 << 20;

/// What a [`ServerSession`] announces and how it cuts its output.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Limits of the chunk decoder (peer chunk size, message size, chunk
    /// streams) once `connect` is accepted. Until then the decoder runs
    /// with [`Limits::pre_connect`]: a socket that has not connected can
    /// make the server hold kilobytes, not the full reassembly cap.
    pub limits: Limits,
    /// The chunk size we switch to when accepting a connect (SRS: 60000).
    /// Larger chunks mean fewer headers and fewer writes per video frame.
    pub chunk_size: u32,
    /// Window Acknowledgement Size we announce (spec 5.4.4): the peer acks
    /// every this many bytes. Also our own ack window until the peer
    /// announces one.
    pub window_ack_size: u32,
    /// Set Peer Bandwidth window we announce (spec 5.4.5), limit type dynamic.
    pub peer_bandwidth: u32,
    /// `fmsVer` in the connect `_result`. Clients parse it to detect FMS features.
    pub fms_ver: String,
    /// `capabilities` in the connect `_result` (FMS and SRS send 127; nginx-rtmp 31).
    pub capabilities: f64,
    /// `data.version` in the connect `_result` information object.
    pub server_version: String,
}

impl Default for ServerConfig {
    /// SRS's defaults.
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            chunk_size: 60_000,
            window_ack_size: 2_500_000,
            peer_bandwidth: 2_500_000,
            fms_ver: "FMS/3,5,3,888".to_owned(),
            capabilities: 127.0,
            server_version: "3,5,3,888".to_owned(),
        }
    }
}

/// What happened on the connection. Events marked "decision" pause the
/// session until the application answers with the named methods.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    /// Decision: the client sent `connect`. Answer with
    /// [`accept_connect`](ServerSession::accept_connect) or
    /// [`reject_connect`](ServerSession::reject_connect).
    Connect {
        /// `app` (empty when absent).
        app: String,
        /// `tcUrl` (empty when absent).
        tc_url: String,
        /// The whole request: every command object property, in order, and
        /// the optional extra arguments.
        request: Connect,
    },
    /// Decision: the client wants to publish on `stream_id`. Answer with
    /// [`accept_publish`](ServerSession::accept_publish) or
    /// [`reject_publish`](ServerSession::reject_publish).
    Publish {
        /// Message stream id.
        stream_id: u32,
        /// Stream name, query string kept.
        name: String,
        /// Publishing type.
        publish_type: PublishType,
    },
    /// Decision: the client wants to play on `stream_id`. Answer with
    /// [`accept_play`](ServerSession::accept_play) or
    /// [`reject_play`](ServerSession::reject_play).
    Play {
        /// Message stream id: the stream id media sent to this player must carry.
        stream_id: u32,
        /// Stream name, query string kept.
        name: String,
        /// Start (see [`Play::start`]).
        start: f64,
        /// Duration (see [`Play::duration`]).
        duration: f64,
        /// Reset flag.
        reset: bool,
    },
    /// A playing client paused or resumed; the session already answered with
    /// `NetStream.Pause.Notify` / `NetStream.Unpause.Notify`.
    Pause {
        /// Message stream id.
        stream_id: u32,
        /// True when paused, false when resumed.
        paused: bool,
        /// Stream time of the pause, in milliseconds.
        position_ms: f64,
    },
    /// A publishing stream stopped publishing (`FCUnpublish`, or
    /// `closeStream` / `deleteStream` of a publishing stream). Sent before
    /// the [`CloseStream`](Self::CloseStream) / [`DeleteStream`](Self::DeleteStream)
    /// that caused it.
    Unpublish {
        /// Message stream id.
        stream_id: u32,
    },
    /// `closeStream`: the stream stopped playing or publishing; it still exists.
    CloseStream {
        /// Message stream id.
        stream_id: u32,
    },
    /// `deleteStream`: the stream is gone.
    DeleteStream {
        /// Message stream id.
        stream_id: u32,
    },
    /// Audio, video or data (type 18; type 15 is converted to 18) from a
    /// publishing stream. Aggregates arrive already split.
    Media {
        /// Message stream id.
        stream_id: u32,
        /// The message (its `stream_id` equals the one above).
        message: RawMessage,
    },
    /// Any other command: `_result`/`_error` answers from the client,
    /// `seek`, `onStatus`, unknown commands (`receiveVideo`, `_checkbw`...).
    /// An unknown command with a transaction id (a call) was answered with an
    /// empty `_result`, as SRS does; for anything else the session sent nothing
    /// back, and [`send_command`](ServerSession::send_command) can.
    Command {
        /// Message stream id it arrived on.
        stream_id: u32,
        /// The command.
        command: Command,
    },
    /// The session is over (after [`reject_connect`](ServerSession::reject_connect)):
    /// flush [`poll_transmit`](ServerSession::poll_transmit), then close.
    Closed,
}

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Handshake, then waiting for `connect`.
    AwaitConnect,
    /// `connect` received, waiting for the application.
    ConnectPending {
        transaction_id: f64,
        object_encoding: f64,
    },
    /// Connected.
    Connected,
    /// Rejected: input is ignored.
    Closed,
}

/// What a message stream is doing.
#[derive(Debug, Clone, PartialEq)]
enum StreamState {
    Idle,
    PublishPending { name: String },
    Publishing { name: String },
    PlayPending,
    Playing,
}

#[derive(Debug, Clone)]
struct Stream {
    id: u32,
    state: StreamState,
}

/// One accepted RTMP connection, sans-IO.
///
/// Feed received bytes to [`handle_input`](Self::handle_input), then drain
/// [`poll_event`](Self::poll_event) and [`poll_transmit`](Self::poll_transmit).
/// While a decision event (connect, publish, play) waits for its answer,
/// decoding pauses (received bytes are buffered, up to
/// [`MAX_PENDING_INPUT`]); the answering method resumes it, which is why it
/// can return the same errors as `handle_input`.
#[derive(Debug)]
pub struct ServerSession {
    config: ServerConfig,
    /// Until C2 arrives; then freed (it is most of a fresh session's size,
    /// and thousands of players each hold a session for hours).
    handshake: Option<Box<HandshakeServer>>,
    handshake_kind: Option<HandshakeKind>,
    decoder: ChunkDecoder,
    out: Outbox,
    ack: AckWindow,
    phase: Phase,
    /// The client used `releaseStream`/`FCPublish` (FMLE style), so publish
    /// answers start with `onFCPublish`.
    fmle: bool,
    streams: Vec<Stream>,
    /// The stream whose publish/play decision is pending.
    pending_stream: Option<u32>,
    events: VecDeque<ServerEvent>,
    peer_acked: Option<u32>,
    error: Option<SessionError>,
    /// The `capsEx` bits of the client's `connect` (Enhanced RTMP v2), and
    /// whether it sent the property at all.
    caps_ex: Option<u32>,
    /// The client's `connect` announced Enhanced RTMP (`fourCcList`,
    /// `capsEx` or a FourCC info map).
    enhanced: bool,
}

impl ServerSession {
    /// A session that will stamp `epoch` in S1 and derive handshake filler
    /// from `seed` (use a fresh seed per connection).
    pub fn new(config: ServerConfig, epoch: u32, seed: [u8; 32]) -> Self {
        Self {
            decoder: ChunkDecoder::new(config.limits.pre_connect()),
            ack: AckWindow::new(config.window_ack_size),
            config,
            handshake: Some(Box::new(HandshakeServer::new(epoch, seed))),
            handshake_kind: None,
            out: Outbox::default(),
            phase: Phase::AwaitConnect,
            fmle: false,
            streams: Vec::new(),
            pending_stream: None,
            events: VecDeque::new(),
            peer_acked: None,
            error: None,
            caps_ex: None,
            enhanced: false,
        }
    }

    /// Processes bytes received from the client at `now_ms` (reserved for
    /// time-driven behaviour; nothing in the session reads it yet). The
    /// handshake comes first; bytes after C2 feed the chunk decoder.
    ///
    /// An error is fatal: close the connection. It is returned again by
    /// every later call.
    pub fn handle_input(&mut self, now_ms: u64, data: &[u8]) -> Result<(), SessionError> {
        let _ = now_ms;
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let result = self.input(data);
        self.fail_on(result)
    }

    fn fail_on(&mut self, result: Result<(), SessionError>) -> Result<(), SessionError> {
        if let Err(e) = &result {
            self.error = Some(e.clone());
        }
        result
    }

    fn input(&mut self, data: &[u8]) -> Result<(), SessionError> {
        if self.phase == Phase::Closed {
            return Ok(());
        }
        self.ack.received(data.len());
        let mut rest = data;
        if let Some(handshake) = self.handshake.as_mut() {
            let used = handshake.handle_input(rest)?;
            if let Some(reply) = handshake.poll_transmit() {
                self.out.raw(reply);
            }
            self.handshake_kind = handshake.kind();
            rest = rest.get(used..).unwrap_or_default();
            if !handshake.is_done() {
                return Ok(());
            }
            self.handshake = None;
        }
        if let Some(sequence) = self.ack.due() {
            self.out
                .control(&ControlMessage::Acknowledgement { sequence });
        }
        self.process_from(rest)
    }

    /// Decodes and handles buffered messages until the buffer is empty or a
    /// decision is pending.
    fn process(&mut self) -> Result<(), SessionError> {
        self.process_from(&[])
    }

    /// Decodes and handles the buffered messages, then those of `input`
    /// (read in place, see [`ChunkDecoder::decode_from`]), until both are
    /// used up or a decision is pending; what is left of `input` then waits
    /// in the decoder.
    /// Fails once the replies queued so far exceed
    /// [`MAX_QUEUED_REPLY_BYTES`](super::MAX_QUEUED_REPLY_BYTES), checked
    /// after each message so a burst of input stops at the cap.
    fn process_from(&mut self, mut input: &[u8]) -> Result<(), SessionError> {
        self.out.check_replies()?;
        // Each message consumes input, so this ends with the input.
        while !self.paused() {
            match self.decoder.decode_from(&mut input)? {
                Some(msg) => {
                    self.on_message(msg)?;
                    self.out.check_replies()?;
                }
                None => return Ok(()),
            }
        }
        if !input.is_empty() {
            self.decoder.push(input);
        }
        if self.phase != Phase::Closed && self.decoder.buffered() > MAX_PENDING_INPUT {
            return Err(SessionError::InputBacklog {
                buffered: self.decoder.buffered(),
                limit: MAX_PENDING_INPUT,
            });
        }
        Ok(())
    }

    fn paused(&self) -> bool {
        matches!(self.phase, Phase::ConnectPending { .. } | Phase::Closed)
            || self.pending_stream.is_some()
    }

    fn on_message(&mut self, msg: RawMessage) -> Result<(), SessionError> {
        match msg.type_id {
            // Applied by the decoder already.
            MessageType::SetChunkSize | MessageType::Abort => {}
            MessageType::Acknowledgement
            | MessageType::WindowAckSize
            | MessageType::SetPeerBandwidth
            | MessageType::UserControl => {
                match ControlMessage::decode(msg.type_id, &msg.payload)? {
                    ControlMessage::Acknowledgement { sequence } => {
                        self.peer_acked = Some(sequence)
                    }
                    ControlMessage::WindowAckSize(size) => self.ack.set_window(size),
                    ControlMessage::UserControl(UserControlEvent::PingRequest(t)) => {
                        self.out.control(&ControlMessage::UserControl(
                            UserControlEvent::PingResponse(t),
                        ))
                    }
                    // Set Peer Bandwidth limits what we send; the
                    // application paces output, so it is only validated.
                    // Other user control events (SetBufferLength,
                    // PingResponse) need no answer.
                    _ => {}
                }
            }
            MessageType::CommandAmf0 | MessageType::CommandAmf3 => {
                let command = Command::decode(&msg)?;
                self.on_command(msg.stream_id, command)?;
            }
            MessageType::Audio | MessageType::Video | MessageType::DataAmf0 => self.on_media(msg),
            MessageType::DataAmf3 => {
                // Type 15 is a 0 format byte then AMF0 (spec 7.1.2): pass
                // it on as type 18 so the application sees one data type.
                match msg.payload.first() {
                    Some(0) => self.on_media(RawMessage {
                        type_id: MessageType::DataAmf0,
                        payload: msg.payload.slice(1..),
                        ..msg
                    }),
                    other => return Err(CommandError::Amf3Format(other.copied()).into()),
                }
            }
            MessageType::Aggregate => {
                for sub in split_aggregate(&msg)? {
                    if matches!(
                        sub.type_id,
                        MessageType::Audio | MessageType::Video | MessageType::DataAmf0
                    ) {
                        self.on_media(sub);
                    }
                }
            }
            // Shared objects and unknown types are not supported: skipped.
            MessageType::SharedObjectAmf0
            | MessageType::SharedObjectAmf3
            | MessageType::Other(_) => {}
        }
        Ok(())
    }

    /// Media from a publishing stream becomes an event; anything else
    /// (a player sending media, a stream that stopped publishing) is dropped.
    fn on_media(&mut self, message: RawMessage) {
        let stream_id = message.stream_id;
        if self
            .stream(stream_id)
            .is_some_and(|s| matches!(s.state, StreamState::Publishing { .. }))
        {
            self.events
                .push_back(ServerEvent::Media { stream_id, message });
        }
    }

    fn on_command(&mut self, stream_id: u32, command: Command) -> Result<(), SessionError> {
        let unexpected = |command: &Command, reason| SessionError::UnexpectedCommand {
            command: command.name().to_owned(),
            reason,
        };
        match self.phase {
            Phase::Connected => {}
            Phase::AwaitConnect => {
                let Command::Connect(request) = command else {
                    return Err(unexpected(&command, "the first command must be connect"));
                };
                self.phase = Phase::ConnectPending {
                    transaction_id: request.transaction_id,
                    object_encoding: request.object_encoding().unwrap_or(0.0),
                };
                self.caps_ex = request.caps_ex().map(|_| request.caps_ex_flags());
                self.enhanced = ENHANCED_CONNECT_PROPERTIES
                    .iter()
                    .any(|p| request.get(p).is_some());
                self.events.push_back(ServerEvent::Connect {
                    app: request.app().unwrap_or_default().to_owned(),
                    tc_url: request.tc_url().unwrap_or_default().to_owned(),
                    request,
                });
                return Ok(());
            }
            // Decoding is paused in these phases.
            Phase::ConnectPending { .. } | Phase::Closed => return Ok(()),
        }
        match command {
            Command::Connect(_) => return Err(unexpected(&command, "already connected")),
            Command::CreateStream { transaction_id } => {
                let id = self.create_stream()?;
                self.result(transaction_id, Amf0Value::Number(f64::from(id)));
            }
            Command::ReleaseStream { transaction_id, .. }
            | Command::FcPublish { transaction_id, .. } => {
                // SRS answers both with `_result(undefined)`; onFCPublish
                // follows the publish itself.
                self.fmle = true;
                self.result(transaction_id, Amf0Value::Undefined);
            }
            Command::FcUnpublish {
                transaction_id,
                name,
            } => self.fc_unpublish(transaction_id, &name),
            Command::GetStreamLength { transaction_id, .. } => {
                // Live streams have no length.
                self.result(transaction_id, Amf0Value::Number(0.0));
            }
            Command::Publish(Publish {
                name, publish_type, ..
            }) => {
                self.begin_decision(stream_id, "publish")?;
                self.set_state(
                    stream_id,
                    StreamState::PublishPending { name: name.clone() },
                );
                self.events.push_back(ServerEvent::Publish {
                    stream_id,
                    name,
                    publish_type,
                });
            }
            Command::Play(Play {
                name,
                start,
                duration,
                reset,
                ..
            }) => {
                self.begin_decision(stream_id, "play")?;
                self.set_state(stream_id, StreamState::PlayPending);
                self.events.push_back(ServerEvent::Play {
                    stream_id,
                    name,
                    start,
                    duration,
                    reset,
                });
            }
            Command::Pause {
                paused,
                position_ms,
                ..
            } if self
                .stream(stream_id)
                .is_some_and(|s| s.state == StreamState::Playing) =>
            {
                // SRS: status, then Stream EOF on pause / Stream Begin on resume.
                let (code, description, event) = if paused {
                    (
                        PAUSE_NOTIFY,
                        "Paused stream.",
                        UserControlEvent::StreamEof(stream_id),
                    )
                } else {
                    (
                        UNPAUSE_NOTIFY,
                        "Unpaused stream.",
                        UserControlEvent::StreamBegin(stream_id),
                    )
                };
                self.status(stream_id, &Status::new(LEVEL_STATUS, code, description));
                self.out.control(&ControlMessage::UserControl(event));
                self.events.push_back(ServerEvent::Pause {
                    stream_id,
                    paused,
                    position_ms,
                });
            }
            Command::CloseStream { .. } => {
                if self.stream(stream_id).is_some() {
                    self.stop_publishing(stream_id);
                    self.set_state(stream_id, StreamState::Idle);
                    self.events
                        .push_back(ServerEvent::CloseStream { stream_id });
                }
            }
            Command::DeleteStream {
                stream_id: target, ..
            } => {
                if self.stream(target).is_some() {
                    self.stop_publishing(target);
                    self.streams.retain(|s| s.id != target);
                    self.events
                        .push_back(ServerEvent::DeleteStream { stream_id: target });
                }
            }
            command => {
                if let Command::Unknown { transaction_id, .. } = &command {
                    // A call that expects an answer (`_checkbw`, `FCSubscribe`...):
                    // an empty `_result`, as SRS gives, so a client that waits
                    // for one goes on.
                    if *transaction_id > 0.0 {
                        let transaction_id = *transaction_id;
                        self.out.command(
                            CSID_COMMAND,
                            0,
                            &Command::Result(CallResponse {
                                transaction_id,
                                command_object: Amf0Value::Null,
                                info: Some(Amf0Value::Null),
                            }),
                        );
                    }
                }
                self.events
                    .push_back(ServerEvent::Command { stream_id, command })
            }
        }
        Ok(())
    }

    fn stream(&self, id: u32) -> Option<&Stream> {
        self.streams.iter().find(|s| s.id == id)
    }

    fn set_state(&mut self, id: u32, state: StreamState) {
        if let Some(s) = self.streams.iter_mut().find(|s| s.id == id) {
            s.state = state;
        }
    }

    /// Allocates the lowest free stream id from 1 (see the module docs on
    /// why low, reused ids matter for shared encoding).
    fn create_stream(&mut self) -> Result<u32, SessionError> {
        if self.streams.len() >= MAX_STREAMS {
            return Err(SessionError::TooManyStreams { limit: MAX_STREAMS });
        }
        // At most MAX_STREAMS ids are taken, so one of 1..=MAX_STREAMS+1 is free.
        let id = (1u32..)
            .take(MAX_STREAMS + 1)
            .find(|id| self.stream(*id).is_none())
            .ok_or(SessionError::TooManyStreams { limit: MAX_STREAMS })?;
        self.streams.push(Stream {
            id,
            state: StreamState::Idle,
        });
        Ok(id)
    }

    /// Checks a publish/play may start on `stream_id`, creating the stream if
    /// the client never asked for it (some clients skip `createStream`), and
    /// marks the decision pending.
    fn begin_decision(&mut self, stream_id: u32, command: &str) -> Result<(), SessionError> {
        let unexpected = |reason| SessionError::UnexpectedCommand {
            command: command.to_owned(),
            reason,
        };
        if stream_id == 0 {
            return Err(unexpected("on message stream 0 (the NetConnection)"));
        }
        match self.stream(stream_id) {
            Some(s) if s.state != StreamState::Idle => {
                return Err(unexpected("on a stream already publishing or playing"));
            }
            Some(_) => {}
            None => {
                if self.streams.len() >= MAX_STREAMS {
                    return Err(SessionError::TooManyStreams { limit: MAX_STREAMS });
                }
                self.streams.push(Stream {
                    id: stream_id,
                    state: StreamState::Idle,
                });
            }
        }
        self.pending_stream = Some(stream_id);
        Ok(())
    }

    /// If `stream_id` is publishing: back to idle, and an Unpublish event.
    fn stop_publishing(&mut self, stream_id: u32) {
        if self
            .stream(stream_id)
            .is_some_and(|s| matches!(s.state, StreamState::Publishing { .. }))
        {
            self.set_state(stream_id, StreamState::Idle);
            self.events.push_back(ServerEvent::Unpublish { stream_id });
        }
    }

    /// `FCUnpublish(name)`: SRS sends `onFCUnpublish`, the `_result`, then
    /// `onStatus(NetStream.Unpublish.Success)` on the publishing stream.
    fn fc_unpublish(&mut self, transaction_id: f64, name: &str) {
        let base = |n: &str| n.split('?').next().unwrap_or_default().to_owned();
        let wanted = base(name);
        let publishing: Vec<(u32, String)> = self
            .streams
            .iter()
            .filter_map(|s| match &s.state {
                StreamState::Publishing { name } => Some((s.id, base(name))),
                _ => None,
            })
            .collect();
        let target = match publishing.iter().find(|(_, n)| *n == wanted) {
            Some((id, _)) => Some(*id),
            // FCUnpublish names vary (with or without the query string, or
            // empty); with a single publishing stream there is no ambiguity.
            None if publishing.len() == 1 => publishing.first().map(|(id, _)| *id),
            None => None,
        };
        let Some(stream_id) = target else {
            self.result(transaction_id, Amf0Value::Undefined);
            return;
        };
        let status = Status::new(LEVEL_STATUS, UNPUBLISH_SUCCESS, "Stop publishing stream.");
        self.status_call(stream_id, "onFCUnpublish", &status);
        self.out.command(
            CSID_STREAM_COMMAND,
            stream_id,
            &Command::Result(CallResponse {
                transaction_id,
                command_object: Amf0Value::Null,
                info: Some(Amf0Value::Undefined),
            }),
        );
        let status = Status::new(
            LEVEL_STATUS,
            UNPUBLISH_SUCCESS,
            "Stream is now unpublished.",
        );
        self.status(stream_id, &status);
        self.stop_publishing(stream_id);
    }

    /// `_result(tid, null, info)` on the NetConnection.
    fn result(&mut self, transaction_id: f64, info: Amf0Value) {
        self.out.command(
            CSID_COMMAND,
            0,
            &Command::Result(CallResponse {
                transaction_id,
                command_object: Amf0Value::Null,
                info: Some(info),
            }),
        );
    }

    /// `onStatus(0, null, status)` on `stream_id`.
    fn status(&mut self, stream_id: u32, status: &Status) {
        self.out.command(
            CSID_STREAM_COMMAND,
            stream_id,
            &Command::OnStatus(status.clone()),
        );
    }

    /// An `onStatus`-shaped call with another name (`onFCPublish`...).
    fn status_call(&mut self, stream_id: u32, name: &str, status: &Status) {
        self.out.command(
            CSID_STREAM_COMMAND,
            stream_id,
            &Command::Unknown {
                name: name.to_owned(),
                transaction_id: 0.0,
                args: vec![Amf0Value::Null, status.to_object()],
            },
        );
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        let event = self.events.pop_front();
        if event.is_none() && self.events.capacity() > 0 {
            // Events come in bursts at connect; an idle player keeps no room.
            self.events = VecDeque::new();
        }
        event
    }

    /// Moves every pending outgoing piece to `out`, in wire order, for one
    /// vectored write.
    pub fn poll_transmit(&mut self, out: &mut Vec<Bytes>) {
        self.out.drain(out);
    }

    /// Whether [`poll_transmit`](Self::poll_transmit) has anything.
    pub fn has_transmit(&self) -> bool {
        !self.out.is_empty()
    }

    /// Bytes queued for sending. The session never drops output: pacing and
    /// dropping slow players is the application's job, and this is its gauge.
    /// What the session queues by itself in answer to input (not what the
    /// `send_*` methods queue) is capped: past
    /// [`MAX_QUEUED_REPLY_BYTES`](super::MAX_QUEUED_REPLY_BYTES) not yet
    /// taken by [`poll_transmit`](Self::poll_transmit), input fails with
    /// [`SessionError::PeerNotReading`].
    pub fn queued_bytes(&self) -> usize {
        self.out.queued()
    }

    /// The chunk size our output is cut with: 128 until
    /// [`accept_connect`](Self::accept_connect), then the configured size.
    /// Shared encodings for this player must use it.
    pub fn out_chunk_size(&self) -> u32 {
        self.out.chunk_size()
    }

    /// The handshake the client used, once its C1 arrived.
    pub fn handshake_kind(&self) -> Option<HandshakeKind> {
        self.handshake_kind
    }

    /// Bytes received so far, handshake included.
    pub fn bytes_received(&self) -> u64 {
        self.ack.total()
    }

    /// The last Acknowledgement sequence number the client sent: how many of
    /// our bytes it has received (modulo 2^32).
    pub fn peer_acked(&self) -> Option<u32> {
        self.peer_acked
    }

    /// True once the connection was rejected.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The chunk size [`accept_connect`](Self::accept_connect) announces and
    /// then cuts output with, in place of [`ServerConfig::chunk_size`]. A
    /// server learns which vhost (and so which `chunk_size`) applies from the
    /// connect request itself, so it sets this between that event and its
    /// answer; later calls change nothing already announced.
    pub fn set_chunk_size(&mut self, chunk_size: u32) {
        self.config.chunk_size = chunk_size;
    }

    /// Bytes the chunk decoder's partial messages hold now.
    pub fn reassembly_bytes(&self) -> usize {
        self.decoder.reassembly_bytes()
    }

    /// Sets the decoder limits [`accept_connect`](Self::accept_connect)
    /// switches to (a vhost's own message size cap, known only once the
    /// connect names it). Before the connect is accepted the pre-connect
    /// limits stay in force; after, these apply from the next chunk on.
    pub fn set_limits(&mut self, limits: Limits) {
        self.config.limits = limits;
        if matches!(self.phase, Phase::Connected) {
            self.decoder.set_limits(limits);
        }
    }

    /// Answers a [`ServerEvent::Connect`] with what SRS sends: Window
    /// Acknowledgement Size, Set Peer Bandwidth (dynamic), Set Chunk Size,
    /// the `_result` (`fmsVer`, `capabilities`, `mode` 1;
    /// `NetConnection.Connect.Success`, `objectEncoding` echoed, `data.version`),
    /// then `onBWDone`. Resumes decoding.
    pub fn accept_connect(&mut self) -> Result<(), SessionError> {
        let Phase::ConnectPending {
            transaction_id,
            object_encoding,
        } = self.phase
        else {
            return Err(SessionError::NotPending {
                decision: "connect",
            });
        };
        self.phase = Phase::Connected;
        self.decoder.set_limits(self.config.limits);
        let c = &self.config;
        let controls = [
            ControlMessage::WindowAckSize(c.window_ack_size),
            ControlMessage::SetPeerBandwidth {
                size: c.peer_bandwidth,
                limit: BandwidthLimit::Dynamic,
            },
            ControlMessage::SetChunkSize(c.chunk_size.clamp(1, crate::chunk::MAX_WIRE_CHUNK_SIZE)),
        ];
        let s = |v: &str| Amf0Value::String(v.to_owned());
        let mut properties = vec![
            ("fmsVer".to_owned(), s(&c.fms_ver)),
            ("capabilities".to_owned(), Amf0Value::Number(c.capabilities)),
            ("mode".to_owned(), Amf0Value::Number(1.0)),
        ];
        // Enhanced RTMP v2 ("Enhancing NetConnection connect Command"): the
        // server SHOULD state its extended capabilities; only to a client
        // that stated its own, so legacy clients see SRS's exact answer. A
        // server forwards every codec ("*": CanForward), takes reconnect
        // requests' part, multitrack and ModEx.
        if self.enhanced {
            let forward_any = || {
                Amf0Value::Object(vec![(
                    "*".to_owned(),
                    Amf0Value::Number(f64::from(FOURCC_CAN_FORWARD)),
                )])
            };
            properties.extend([
                ("videoFourCcInfoMap".to_owned(), forward_any()),
                ("audioFourCcInfoMap".to_owned(), forward_any()),
                (
                    "capsEx".to_owned(),
                    Amf0Value::Number(f64::from(
                        CAPS_EX_RECONNECT | CAPS_EX_MULTITRACK | CAPS_EX_MOD_EX,
                    )),
                ),
            ]);
        }
        let properties = Amf0Value::Object(properties);
        let info = Status::new(LEVEL_STATUS, CONNECT_SUCCESS, "Connection succeeded.")
            .with("objectEncoding", Amf0Value::Number(object_encoding))
            .with(
                "data",
                Amf0Value::EcmaArray(vec![("version".to_owned(), s(&c.server_version))]),
            );
        for control in &controls {
            self.out.control(control);
        }
        self.out.command(
            CSID_COMMAND,
            0,
            &Command::Result(CallResponse {
                transaction_id,
                command_object: properties,
                info: Some(info.to_object()),
            }),
        );
        self.out.command(
            CSID_COMMAND,
            0,
            &Command::OnBwDone {
                transaction_id: 0.0,
            },
        );
        let result = self.process();
        self.fail_on(result)
    }

    /// Answers a [`ServerEvent::Connect`] with `_error`
    /// (`NetConnection.Connect.Rejected`, `description`). The session is then
    /// over: a [`ServerEvent::Closed`] follows and further input is ignored.
    pub fn reject_connect(&mut self, description: &str) -> Result<(), SessionError> {
        let Phase::ConnectPending { transaction_id, .. } = self.phase else {
            return Err(SessionError::NotPending {
                decision: "connect",
            });
        };
        self.phase = Phase::Closed;
        let info = Status::new(LEVEL_ERROR, CONNECT_REJECTED, description);
        self.out.command(
            CSID_COMMAND,
            0,
            &Command::Error(CallResponse {
                transaction_id,
                command_object: Amf0Value::Null,
                info: Some(info.to_object()),
            }),
        );
        self.events.push_back(ServerEvent::Closed);
        Ok(())
    }

    /// Takes the pending publish/play decision on `stream_id`.
    fn take_decision(
        &mut self,
        stream_id: u32,
        decision: &'static str,
    ) -> Result<StreamState, SessionError> {
        let state = match self.stream(stream_id) {
            Some(s) if self.pending_stream == Some(stream_id) => s.state.clone(),
            _ => return Err(SessionError::NotPending { decision }),
        };
        let matches = match state {
            StreamState::PublishPending { .. } => decision == "publish",
            StreamState::PlayPending => decision == "play",
            _ => false,
        };
        if !matches {
            return Err(SessionError::NotPending { decision });
        }
        self.pending_stream = None;
        Ok(state)
    }

    /// Answers a [`ServerEvent::Publish`]: `onFCPublish` (if the client used
    /// the FMLE preamble) then `onStatus(NetStream.Publish.Start)`, as SRS
    /// does. Media from the stream then arrives as [`ServerEvent::Media`].
    /// Resumes decoding.
    pub fn accept_publish(&mut self, stream_id: u32) -> Result<(), SessionError> {
        let StreamState::PublishPending { name } = self.take_decision(stream_id, "publish")? else {
            return Err(SessionError::NotPending {
                decision: "publish",
            });
        };
        let status = Status::new(LEVEL_STATUS, PUBLISH_START, "Started publishing stream.");
        if self.fmle {
            self.status_call(stream_id, "onFCPublish", &status);
        }
        self.status(stream_id, &status);
        self.set_state(stream_id, StreamState::Publishing { name });
        let result = self.process();
        self.fail_on(result)
    }

    /// Answers a [`ServerEvent::Publish`] with an error status (`code`, e.g.
    /// [`PUBLISH_BAD_NAME`](crate::command::status::PUBLISH_BAD_NAME)). The
    /// stream stays, idle. Resumes decoding.
    pub fn reject_publish(
        &mut self,
        stream_id: u32,
        code: &str,
        description: &str,
    ) -> Result<(), SessionError> {
        self.take_decision(stream_id, "publish")?;
        self.set_state(stream_id, StreamState::Idle);
        self.status(stream_id, &Status::new(LEVEL_ERROR, code, description));
        let result = self.process();
        self.fail_on(result)
    }

    /// Answers a [`ServerEvent::Play`] with what SRS sends
    /// (`SrsRtmpServer::start_play`), all at time 0: Stream Begin (on the
    /// control stream), then on the play's message stream
    /// `onStatus(NetStream.Play.Reset)` and `onStatus(NetStream.Play.Start)`
    /// (each with `details` and `clientid`, as SRS fills them) and
    /// `|RtmpSampleAccess(true, true)`. Reset goes out whatever the request's
    /// `reset` flag, as in SRS.
    ///
    /// No `onStatus(NetStream.Data.Start)` data message: SRS stopped sending
    /// it because ffmpeg's FLV demuxer turns any data message it does not know
    /// into a data track, which never gets another packet, so `-map 0` with
    /// `-t` never ends.
    ///
    /// Then send media with [`send_media`](Self::send_media) or
    /// [`send_encoded`](Self::send_encoded), carrying this stream id.
    /// Resumes decoding.
    pub fn accept_play(&mut self, stream_id: u32) -> Result<(), SessionError> {
        let StreamState::PlayPending = self.take_decision(stream_id, "play")? else {
            return Err(SessionError::NotPending { decision: "play" });
        };
        self.out
            .control(&ControlMessage::UserControl(UserControlEvent::StreamBegin(
                stream_id,
            )));
        let srs_status = |code, description| {
            Status::new(LEVEL_STATUS, code, description)
                .with("details", Amf0Value::String("stream".to_owned()))
                .with("clientid", Amf0Value::String(CLIENT_ID.to_owned()))
        };
        self.status(
            stream_id,
            &srs_status(PLAY_RESET, "Playing and resetting stream."),
        );
        self.status(
            stream_id,
            &srs_status(PLAY_START, "Started playing stream."),
        );
        let access = DataMessage::SampleAccess {
            audio: true,
            video: true,
        };
        self.out.data(CSID_STREAM_COMMAND, stream_id, &access);
        self.set_state(stream_id, StreamState::Playing);
        let result = self.process();
        self.fail_on(result)
    }

    /// Answers a [`ServerEvent::Play`] with an error status (`code`, e.g.
    /// [`PLAY_STREAM_NOT_FOUND`](crate::command::status::PLAY_STREAM_NOT_FOUND)).
    /// The stream stays, idle. Resumes decoding.
    pub fn reject_play(
        &mut self,
        stream_id: u32,
        code: &str,
        description: &str,
    ) -> Result<(), SessionError> {
        self.take_decision(stream_id, "play")?;
        self.set_state(stream_id, StreamState::Idle);
        self.status(stream_id, &Status::new(LEVEL_ERROR, code, description));
        let result = self.process();
        self.fail_on(result)
    }

    /// Queues one media message (audio, video or data) for this player
    /// through the session's own encoder, on message stream `stream_id`
    /// (the one its `play` was accepted on). The chunk stream id is chosen
    /// by type ([`CSID_AUDIO`](super::CSID_AUDIO), [`CSID_VIDEO`](super::CSID_VIDEO),
    /// [`CSID_DATA`](super::CSID_DATA)); the payload is not copied.
    pub fn send_media(&mut self, stream_id: u32, msg: &RawMessage) {
        self.out.app_message(&RawMessage {
            csid: media_csid(msg.type_id),
            stream_id,
            ..msg.clone()
        });
    }

    /// Queues a message encoded once for many players (see
    /// [`encode_shared_media`](super::encode_shared_media)): its pieces are
    /// queued as they are. It must use a reserved shared chunk stream id,
    /// this player's stream id and [`out_chunk_size`](Self::out_chunk_size).
    pub fn send_encoded(&mut self, encoded: &EncodedMessage) {
        for piece in encoded.pieces() {
            self.out.app_raw(piece.clone());
        }
    }

    /// The `capsEx` flags the client's `connect` announced (Enhanced RTMP
    /// v2 `CapsExMask`), 0 before `connect` or when it sent none.
    pub fn peer_caps_ex(&self) -> u32 {
        self.caps_ex.unwrap_or(0)
    }

    /// Whether the client announced `CapsExMask.Reconnect`: it understands
    /// [`request_reconnect`](Self::request_reconnect).
    pub fn peer_supports_reconnect(&self) -> bool {
        self.peer_caps_ex() & CAPS_EX_RECONNECT != 0
    }

    /// Enhanced RTMP v2 "Reconnect Request": queues the NetConnection
    /// `onStatus` (transaction 0, null command object, on message stream 0)
    /// with level `status`, code `NetConnection.Connect.ReconnectRequest`,
    /// `description` and, when given, `tcUrl` (absolute, or relative to the
    /// client's own; the spec requires it when the client should move to
    /// another server). The client then moves at its next media boundary;
    /// the spec asks the server to keep serving until the client leaves.
    ///
    /// Queues nothing and returns false unless the session is connected and
    /// the client announced [`CAPS_EX_RECONNECT`]: to any other client the
    /// status is an unknown code.
    pub fn request_reconnect(&mut self, tc_url: Option<&str>, description: &str) -> bool {
        if self.phase != Phase::Connected || !self.peer_supports_reconnect() {
            return false;
        }
        let mut status = Status::new(LEVEL_STATUS, CONNECT_RECONNECT_REQUEST, description);
        if let Some(url) = tc_url {
            status = status.with("tcUrl", Amf0Value::String(url.to_owned()));
        }
        let command = Command::OnStatus(status);
        self.out.app_message(&command.to_message(CSID_COMMAND, 0));
        true
    }

    /// Queues `onStatus(level, code, description)` on `stream_id` (e.g.
    /// `NetStream.Play.UnpublishNotify` when a played stream's publisher leaves).
    pub fn send_status(&mut self, stream_id: u32, level: &str, code: &str, description: &str) {
        let status = Command::OnStatus(Status::new(level, code, description));
        self.out
            .app_message(&status.to_message(CSID_STREAM_COMMAND, stream_id));
    }

    /// Queues a user control event (e.g. Stream EOF, Ping Request).
    pub fn send_user_control(&mut self, event: UserControlEvent) {
        self.out
            .app_message(&ControlMessage::UserControl(event).to_message());
    }

    /// Queues any command on `stream_id` (NetConnection commands on stream 0).
    pub fn send_command(&mut self, stream_id: u32, command: &Command) {
        let csid = if stream_id == 0 {
            CSID_COMMAND
        } else {
            CSID_STREAM_COMMAND
        };
        self.out.app_message(&command.to_message(csid, stream_id));
    }

    /// Queues a data message on `stream_id` at `timestamp` through the
    /// session's own encoder.
    pub fn send_data(&mut self, stream_id: u32, timestamp: u64, data: &DataMessage) {
        self.out
            .app_message(&data.to_message(CSID_DATA, stream_id, timestamp));
    }
}
