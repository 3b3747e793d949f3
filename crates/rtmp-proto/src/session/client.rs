//! The client side of one RTMP connection: what Flash Player, FMLE, OBS
//! and ffmpeg do, reduced to what a load tool and a simulator need.

use std::collections::VecDeque;

use bytes::Bytes;

use super::ack::AckWindow;
use super::outbox::Outbox;
use super::{media_csid, SessionError, CSID_COMMAND, CSID_STREAM_COMMAND};
use crate::aggregate::split_aggregate;
use crate::amf0::Amf0Value;
use crate::chunk::{ChunkDecoder, Limits, DEFAULT_CHUNK_SIZE, MAX_WIRE_CHUNK_SIZE};
use crate::command::{
    f64_to_u32, CallResponse, Command, CommandError, Connect, DataMessage, Play, Publish,
    PublishType, Status,
};
use crate::control::{ControlMessage, UserControlEvent};
use crate::handshake::{ClientMode, HandshakeClient, HandshakeKind};
use crate::message::{MessageType, RawMessage};

/// How a [`ClientSession`] presents itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// Limits of the chunk decoder.
    pub limits: Limits,
    /// The chunk size we send with; announced with Set Chunk Size before
    /// `connect` when it differs from 128.
    pub chunk_size: u32,
    /// Our acknowledgement window until the server announces one.
    pub window_ack_size: u32,
    /// Handshake form. Complex by default: Flash Player's, accepted by every
    /// server, and required by some.
    pub handshake: ClientMode,
    /// `flashVer` sent in `connect`.
    pub flash_ver: String,
    /// Buffer length announced (Set Buffer Length) after `play`, in ms.
    pub buffer_ms: u32,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            chunk_size: 4096,
            window_ack_size: 2_500_000,
            handshake: ClientMode::Complex,
            flash_ver: "LNX 9,0,124,2".to_owned(),
            buffer_ms: 3000,
        }
    }
}

/// What happened on a client connection.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// `connect` succeeded; `response` is the server's `_result`
    /// (`fmsVer`, `capabilities`; status information).
    Connected {
        /// The `_result`.
        response: CallResponse,
    },
    /// `connect` failed (`_error`, e.g. `NetConnection.Connect.Rejected`).
    ConnectFailed {
        /// The status information of the `_error`.
        status: Status,
    },
    /// `createStream` succeeded. After [`publish_fmle`](ClientSession::publish_fmle),
    /// `publish` has already been sent on the new stream.
    StreamCreated {
        /// The transaction id [`create_stream`](ClientSession::create_stream) returned.
        transaction_id: f64,
        /// The new message stream id.
        stream_id: u32,
    },
    /// An `onStatus` on a message stream.
    Status {
        /// Message stream id.
        stream_id: u32,
        /// Level (`status`, `error`, `warning`).
        level: String,
        /// Code (`NetStream.Publish.Start`...).
        code: String,
        /// Description.
        description: String,
    },
    /// Audio or video. Aggregates arrive already split.
    Media {
        /// Message stream id.
        stream_id: u32,
        /// The message.
        message: RawMessage,
    },
    /// A data message (type 18; type 15 converted to 18).
    Data {
        /// Message stream id.
        stream_id: u32,
        /// The message.
        message: RawMessage,
        /// Its decoded content.
        data: DataMessage,
    },
    /// A stream-related user control event (Stream Begin, Stream EOF...).
    /// Pings are answered by the session and not reported.
    UserControl(UserControlEvent),
    /// A call other than `connect` got an `_error`.
    CallFailed {
        /// The command that failed.
        command: String,
        /// Its transaction id.
        transaction_id: f64,
        /// The error information.
        info: Option<Amf0Value>,
    },
    /// Any other command from the server (`onBWDone`, `onFCPublish`,
    /// answers to calls made with [`send_command`](ClientSession::send_command)...).
    Command {
        /// Message stream id it arrived on.
        stream_id: u32,
        /// The command.
        command: Command,
    },
}

/// A call waiting for its `_result` / `_error`.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Connect,
    CreateStream {
        /// FMLE-style publish to send once the stream exists.
        then_publish: Option<(String, PublishType)>,
    },
    Other(String),
}

/// One outgoing RTMP connection, sans-IO.
///
/// C0C1 is ready in [`poll_transmit`](Self::poll_transmit) from the start.
/// Commands issued before the handshake completes are held and sent right
/// after C2.
#[derive(Debug)]
pub struct ClientSession {
    config: ClientConfig,
    handshake: HandshakeClient,
    decoder: ChunkDecoder,
    out: Outbox,
    ack: AckWindow,
    /// Messages issued before the handshake completed.
    deferred: Vec<RawMessage>,
    calls: Vec<(f64, Call)>,
    next_transaction: f64,
    /// The last Window Acknowledgement Size we announced.
    announced_window: Option<u32>,
    events: VecDeque<ClientEvent>,
    error: Option<SessionError>,
    /// The last `NetConnection.Connect.ReconnectRequest` received.
    reconnect_request: Option<Status>,
}

impl ClientSession {
    /// A client stamping `epoch` in C1 and deriving handshake filler from
    /// `seed`; C0C1 is queued at once.
    pub fn new(config: ClientConfig, epoch: u32, seed: [u8; 32]) -> Self {
        let mut handshake = HandshakeClient::new(epoch, seed, config.handshake);
        let mut out = Outbox::default();
        while let Some(bytes) = handshake.poll_transmit() {
            out.raw(bytes);
        }
        Self {
            decoder: ChunkDecoder::new(config.limits),
            ack: AckWindow::new(config.window_ack_size),
            config,
            handshake,
            out,
            deferred: Vec::new(),
            calls: Vec::new(),
            next_transaction: 1.0,
            announced_window: None,
            events: VecDeque::new(),
            error: None,
            reconnect_request: None,
        }
    }

    /// The last `NetConnection.Connect.ReconnectRequest` the server sent
    /// (Enhanced RTMP v2), with its `tcUrl` among `extra` when it named one.
    /// The application decides when to move (at its next key frame, the
    /// spec says); announce support with `capsEx` in
    /// [`connect`](Self::connect)'s properties.
    pub fn reconnect_request(&self) -> Option<&Status> {
        self.reconnect_request.as_ref()
    }

    /// Processes bytes received from the server at `now_ms` (reserved; not
    /// read yet). An error is fatal and returned again by every later call.
    pub fn handle_input(&mut self, now_ms: u64, data: &[u8]) -> Result<(), SessionError> {
        let _ = now_ms;
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let result = self.input(data);
        if let Err(e) = &result {
            self.error = Some(e.clone());
        }
        result
    }

    fn input(&mut self, data: &[u8]) -> Result<(), SessionError> {
        self.ack.received(data.len());
        let mut rest = data;
        if !self.handshake.is_done() {
            let used = self.handshake.handle_input(rest)?;
            rest = rest.get(used..).unwrap_or_default();
            if !self.handshake.is_done() {
                return Ok(());
            }
            while let Some(c2) = self.handshake.poll_transmit() {
                self.out.raw(c2);
            }
            for msg in std::mem::take(&mut self.deferred) {
                self.out.app_message(&msg);
            }
        }
        if !rest.is_empty() {
            self.decoder.push(rest);
        }
        if let Some(sequence) = self.ack.due() {
            self.out
                .control(&ControlMessage::Acknowledgement { sequence });
        }
        // Each message consumes input, so this ends with the buffer. The
        // reply cap is checked after each one so a burst stops at it.
        self.out.check_replies()?;
        while let Some(msg) = self.decoder.next_message()? {
            self.on_message(msg)?;
            self.out.check_replies()?;
        }
        Ok(())
    }

    fn on_message(&mut self, msg: RawMessage) -> Result<(), SessionError> {
        match msg.type_id {
            MessageType::SetChunkSize | MessageType::Abort => {}
            MessageType::Acknowledgement
            | MessageType::WindowAckSize
            | MessageType::SetPeerBandwidth
            | MessageType::UserControl => {
                match ControlMessage::decode(msg.type_id, &msg.payload)? {
                    ControlMessage::WindowAckSize(size) => self.ack.set_window(size),
                    // Spec 5.4.5: answer with a Window Acknowledgement Size
                    // if it differs from the last one we sent.
                    ControlMessage::SetPeerBandwidth { size, .. }
                        if self.announced_window != Some(size) =>
                    {
                        self.announced_window = Some(size);
                        self.out.control(&ControlMessage::WindowAckSize(size));
                    }
                    ControlMessage::UserControl(UserControlEvent::PingRequest(t)) => {
                        self.out.control(&ControlMessage::UserControl(
                            UserControlEvent::PingResponse(t),
                        ))
                    }
                    ControlMessage::UserControl(UserControlEvent::PingResponse(_)) => {}
                    ControlMessage::UserControl(event) => {
                        self.events.push_back(ClientEvent::UserControl(event));
                    }
                    _ => {}
                }
            }
            MessageType::CommandAmf0 | MessageType::CommandAmf3 => {
                let command = Command::decode(&msg)?;
                self.on_command(msg.stream_id, command)?;
            }
            MessageType::Audio | MessageType::Video | MessageType::DataAmf0 => {
                self.on_media(msg)?
            }
            MessageType::DataAmf3 => match msg.payload.first() {
                Some(0) => self.on_media(RawMessage {
                    type_id: MessageType::DataAmf0,
                    payload: msg.payload.slice(1..),
                    ..msg
                })?,
                other => return Err(CommandError::Amf3Format(other.copied()).into()),
            },
            MessageType::Aggregate => {
                for sub in split_aggregate(&msg)? {
                    self.on_media(sub)?;
                }
            }
            MessageType::SharedObjectAmf0
            | MessageType::SharedObjectAmf3
            | MessageType::Other(_) => {}
        }
        Ok(())
    }

    fn on_media(&mut self, message: RawMessage) -> Result<(), SessionError> {
        let stream_id = message.stream_id;
        match message.type_id {
            MessageType::Audio | MessageType::Video => {
                self.events
                    .push_back(ClientEvent::Media { stream_id, message });
            }
            MessageType::DataAmf0 => {
                let data = DataMessage::decode(&message)?;
                self.events.push_back(ClientEvent::Data {
                    stream_id,
                    message,
                    data,
                });
            }
            // Anything else inside an aggregate is skipped.
            _ => {}
        }
        Ok(())
    }

    fn take_call(&mut self, transaction_id: f64) -> Option<Call> {
        let index = self.calls.iter().position(|(t, _)| *t == transaction_id)?;
        Some(self.calls.remove(index).1)
    }

    fn on_command(&mut self, stream_id: u32, command: Command) -> Result<(), SessionError> {
        match command {
            Command::Result(response) => match self.take_call(response.transaction_id) {
                Some(Call::Connect) => self.events.push_back(ClientEvent::Connected { response }),
                Some(Call::CreateStream { then_publish }) => {
                    let stream_id = response
                        .info
                        .as_ref()
                        .and_then(Amf0Value::as_f64)
                        .and_then(f64_to_u32)
                        .ok_or_else(|| SessionError::UnexpectedCommand {
                            command: "_result".to_owned(),
                            reason: "createStream answered without a valid stream id",
                        })?;
                    if let Some((name, publish_type)) = then_publish {
                        self.publish(stream_id, &name, publish_type);
                    }
                    self.events.push_back(ClientEvent::StreamCreated {
                        transaction_id: response.transaction_id,
                        stream_id,
                    });
                }
                Some(Call::Other(_)) | None => self.events.push_back(ClientEvent::Command {
                    stream_id,
                    command: Command::Result(response),
                }),
            },
            Command::Error(response) => match self.take_call(response.transaction_id) {
                Some(Call::Connect) => {
                    let status = response
                        .info
                        .as_ref()
                        .map(Status::from_object)
                        .unwrap_or_else(|| Status::new("", "", ""));
                    self.events.push_back(ClientEvent::ConnectFailed { status });
                }
                Some(call) => {
                    let command = match call {
                        Call::CreateStream { .. } => "createStream".to_owned(),
                        Call::Other(name) => name,
                        Call::Connect => "connect".to_owned(),
                    };
                    self.events.push_back(ClientEvent::CallFailed {
                        command,
                        transaction_id: response.transaction_id,
                        info: response.info,
                    });
                }
                None => self.events.push_back(ClientEvent::Command {
                    stream_id,
                    command: Command::Error(response),
                }),
            },
            Command::OnStatus(status) => {
                if stream_id == 0
                    && status.code == crate::command::status::CONNECT_RECONNECT_REQUEST
                {
                    self.reconnect_request = Some(status.clone());
                }
                self.events.push_back(ClientEvent::Status {
                    stream_id,
                    level: status.level,
                    code: status.code,
                    description: status.description,
                })
            }
            command => self
                .events
                .push_back(ClientEvent::Command { stream_id, command }),
        }
        Ok(())
    }

    /// Queues `msg` for the application (not counted as a reply) now, or
    /// after the handshake if it is still running. Answers to input go
    /// through `self.out` directly: messages are only decoded after the
    /// handshake.
    fn send(&mut self, msg: RawMessage) {
        if self.handshake.is_done() {
            self.out.app_message(&msg);
        } else {
            self.deferred.push(msg);
        }
    }

    fn next_transaction(&mut self) -> f64 {
        let t = self.next_transaction;
        self.next_transaction += 1.0;
        t
    }

    /// Sends a call expecting an answer on message stream 0; returns its
    /// transaction id.
    fn call(&mut self, call: Call, command: impl FnOnce(f64) -> Command) -> f64 {
        let transaction_id = self.next_transaction();
        let command = command(transaction_id);
        self.send(command.to_message(CSID_COMMAND, 0));
        self.calls.push((transaction_id, call));
        transaction_id
    }

    /// Sends `connect` for `app` at `tc_url`, with Flash-Player-like
    /// properties (`flashVer` from the config, `capabilities`, codecs...)
    /// followed by `properties` (which replace defaults of the same name).
    /// Announces our chunk size first. Answered by
    /// [`ClientEvent::Connected`] or [`ClientEvent::ConnectFailed`].
    pub fn connect(&mut self, app: &str, tc_url: &str, properties: Vec<(String, Amf0Value)>) {
        self.connect_with_args(app, tc_url, properties, Vec::new());
    }

    /// [`connect`](Self::connect) with user arguments after the command
    /// object (Flash's `NetConnection.connect(url, ...args)`; SRS's edge
    /// sends its identity there, `debug_srs_upnode`).
    pub fn connect_with_args(
        &mut self,
        app: &str,
        tc_url: &str,
        properties: Vec<(String, Amf0Value)>,
        extra: Vec<Amf0Value>,
    ) {
        let chunk_size = self.config.chunk_size.clamp(1, MAX_WIRE_CHUNK_SIZE);
        if chunk_size != DEFAULT_CHUNK_SIZE {
            self.send(ControlMessage::SetChunkSize(chunk_size).to_message());
        }
        let defaults = [
            ("flashVer", Amf0Value::String(self.config.flash_ver.clone())),
            ("fpad", Amf0Value::Boolean(false)),
            ("capabilities", Amf0Value::Number(15.0)),
            ("audioCodecs", Amf0Value::Number(4071.0)),
            ("videoCodecs", Amf0Value::Number(252.0)),
            ("videoFunction", Amf0Value::Number(1.0)),
        ];
        let mut all: Vec<(String, Amf0Value)> = defaults
            .into_iter()
            .filter(|(k, _)| !properties.iter().any(|(p, _)| p == k))
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        all.extend(properties);
        let mut request = Connect::new(app, tc_url, all);
        request.extra = extra;
        self.call(Call::Connect, |transaction_id| {
            request.transaction_id = transaction_id;
            Command::Connect(request)
        });
    }

    /// Sends `createStream`; returns its transaction id, which the
    /// [`ClientEvent::StreamCreated`] answering it carries.
    pub fn create_stream(&mut self) -> f64 {
        self.call(
            Call::CreateStream { then_publish: None },
            |transaction_id| Command::CreateStream { transaction_id },
        )
    }

    /// Flash style: sends `publish(name, type)` on a stream from
    /// [`create_stream`](Self::create_stream). Answered by a
    /// [`ClientEvent::Status`] `NetStream.Publish.Start` (or an error status).
    pub fn publish(&mut self, stream_id: u32, name: &str, publish_type: PublishType) {
        let command = Command::Publish(Publish {
            transaction_id: 0.0,
            name: name.to_owned(),
            publish_type,
        });
        self.send(command.to_message(CSID_STREAM_COMMAND, stream_id));
    }

    /// FMLE/OBS style: sends `releaseStream(name)`, `FCPublish(name)` and
    /// `createStream`, then `publish` as soon as the stream is created.
    /// Returns the `createStream` transaction id.
    pub fn publish_fmle(&mut self, name: &str, publish_type: PublishType) -> f64 {
        let owned = name.to_owned();
        self.call(Call::Other("releaseStream".to_owned()), |transaction_id| {
            Command::ReleaseStream {
                transaction_id,
                name: owned,
            }
        });
        let owned = name.to_owned();
        self.call(Call::Other("FCPublish".to_owned()), |transaction_id| {
            Command::FcPublish {
                transaction_id,
                name: owned,
            }
        });
        self.call(
            Call::CreateStream {
                then_publish: Some((name.to_owned(), publish_type)),
            },
            |transaction_id| Command::CreateStream { transaction_id },
        )
    }

    /// Sends `play(name)` (live then recorded, to the end, reset) on
    /// `stream_id`, then Set Buffer Length as Flash Player and ffmpeg do.
    pub fn play(&mut self, stream_id: u32, name: &str) {
        let command = Command::Play(Play {
            transaction_id: 0.0,
            name: name.to_owned(),
            start: -2.0,
            duration: -1.0,
            reset: true,
        });
        self.send(command.to_message(CSID_STREAM_COMMAND, stream_id));
        let buffer = UserControlEvent::SetBufferLength {
            stream_id,
            buffer_ms: self.config.buffer_ms,
        };
        self.send(ControlMessage::UserControl(buffer).to_message());
    }

    /// Sends one media message (audio, video, data) on `stream_id`; the
    /// chunk stream id is chosen by type, the payload is not copied.
    pub fn send_media(&mut self, stream_id: u32, msg: &RawMessage) {
        self.send(RawMessage {
            csid: media_csid(msg.type_id),
            stream_id,
            ..msg.clone()
        });
    }

    /// Sends `deleteStream(stream_id)` on the NetConnection.
    pub fn delete_stream(&mut self, stream_id: u32) {
        let command = Command::DeleteStream {
            transaction_id: 0.0,
            stream_id,
        };
        self.send(command.to_message(CSID_COMMAND, 0));
    }

    /// Sends any command on `stream_id` (e.g. `FCUnpublish`, `closeStream`,
    /// `pause`). Answers arrive as [`ClientEvent::Command`].
    pub fn send_command(&mut self, stream_id: u32, command: &Command) {
        let csid = if stream_id == 0 {
            CSID_COMMAND
        } else {
            CSID_STREAM_COMMAND
        };
        self.send(command.to_message(csid, stream_id));
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Moves every pending outgoing piece to `out`, in wire order.
    pub fn poll_transmit(&mut self, out: &mut Vec<Bytes>) {
        self.out.drain(out);
    }

    /// Whether [`poll_transmit`](Self::poll_transmit) has anything.
    pub fn has_transmit(&self) -> bool {
        !self.out.is_empty()
    }

    /// Bytes queued for sending (not counting messages held until the
    /// handshake completes). What the session queues by itself in answer to
    /// input (C2, acknowledgements, ping responses) is capped: past
    /// [`MAX_QUEUED_REPLY_BYTES`](super::MAX_QUEUED_REPLY_BYTES) not yet
    /// taken by [`poll_transmit`](Self::poll_transmit), input fails with
    /// [`SessionError::PeerNotReading`].
    pub fn queued_bytes(&self) -> usize {
        self.out.queued()
    }

    /// The handshake the server answered with, once S1 arrived.
    pub fn handshake_kind(&self) -> Option<HandshakeKind> {
        self.handshake.kind()
    }

    /// Whether the handshake has completed.
    pub fn is_handshake_done(&self) -> bool {
        self.handshake.is_done()
    }
}
