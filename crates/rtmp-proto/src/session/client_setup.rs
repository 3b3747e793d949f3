//! The order of a client's setup: `connect`, then either the FMLE publish
//! preamble (`releaseStream`, `FCPublish`, `createStream`, `publish`) or
//! `createStream` and `play`, judged one [`ClientEvent`] at a time until
//! `NetStream.Publish.Start` / `NetStream.Play.Start` (RTMP spec 7.2.1.1,
//! 7.2.2.1, 7.2.2.6).
//!
//! Pure and runtime-neutral, so the server's own upstream connections
//! (forward, edge) and the `rtmp-client` library (blocking and async) issue
//! the same commands in the same order and read the answers alike; each
//! driver only moves bytes and bounds the time the whole takes. Steps can be
//! taken one at a time (srs-librtmp's `connect_app`, then `publish_stream`)
//! or pipelined: a publish asked for before `connect` is answered is sent at
//! once behind it (as OBS and ffmpeg do); a play waits for the answer (as
//! Flash Player does), since some servers refuse `createStream` before it.

use super::{judge_publish, ClientEvent, ClientSession, PublishStep};
use crate::amf0::Amf0Value;
use crate::command::status::{LEVEL_ERROR, PLAY_START};
use crate::command::PublishType;
use crate::url::RtmpUrl;

/// What [`ClientSetup::on_event`] made of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupStep {
    /// Nothing decisive (or not a setup event at all: media, data...).
    Wait,
    /// `connect` succeeded (reported once).
    Connected,
    /// Publishing or playing started on this message stream: media may flow.
    Ready(u32),
    /// `connect`, `createStream`, `publish` or `play` failed; why.
    Refused(String),
}

/// Where a setup stands, named for timeout messages ("no connect answer
/// within the setup deadline").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupStage {
    /// Nothing asked yet.
    Idle,
    /// `connect` sent (or queued behind the handshake).
    Connect,
    /// `connect` answered; nothing more asked.
    Connected,
    /// Waiting for `createStream`'s answer.
    CreateStream,
    /// Waiting for `NetStream.Publish.Start`.
    Publish,
    /// Waiting for `NetStream.Play.Start`.
    Play,
    /// Publishing or playing.
    Ready,
    /// Refused.
    Failed,
}

/// What the setup is for once connected.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Goal {
    None,
    Publish,
    /// Play this name once `connect` is answered / the stream exists.
    Play(String),
}

/// A client's setup sequence over a [`ClientSession`].
#[derive(Debug, Clone)]
pub struct ClientSetup {
    stage: SetupStage,
    goal: Goal,
    connected: bool,
    stream_id: Option<u32>,
}

impl Default for ClientSetup {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientSetup {
    /// A setup that has asked nothing yet.
    pub fn new() -> Self {
        Self {
            stage: SetupStage::Idle,
            goal: Goal::None,
            connected: false,
            stream_id: None,
        }
    }

    /// Sends `connect` for `url`'s app with its tcUrl
    /// (`rtmp://host:port/app`); `properties` go into the command object
    /// (E-RTMP's `fourCcList`, a `swfUrl`...), replacing defaults of the
    /// same name.
    pub fn connect(
        &mut self,
        session: &mut ClientSession,
        url: &RtmpUrl,
        properties: Vec<(String, Amf0Value)>,
    ) {
        self.connect_with_tc_url(session, url, &url.tc_url(), properties);
    }

    /// [`connect`](Self::connect) with a tcUrl of the caller's (e.g.
    /// [`RtmpUrl::tc_url_with_query`], SRS's `?vhost=` form).
    pub fn connect_with_tc_url(
        &mut self,
        session: &mut ClientSession,
        url: &RtmpUrl,
        tc_url: &str,
        properties: Vec<(String, Amf0Value)>,
    ) {
        self.connect_with_args(session, url, tc_url, properties, Vec::new());
    }

    /// [`connect_with_tc_url`](Self::connect_with_tc_url) with user
    /// arguments after the command object
    /// ([`ClientSession::connect_with_args`]).
    pub fn connect_with_args(
        &mut self,
        session: &mut ClientSession,
        url: &RtmpUrl,
        tc_url: &str,
        properties: Vec<(String, Amf0Value)>,
        extra: Vec<Amf0Value>,
    ) {
        session.connect_with_args(&url.app, tc_url, properties, extra);
        self.stage = SetupStage::Connect;
    }

    /// Publishes `url`'s stream (with its query) FMLE style, live.
    pub fn publish(&mut self, session: &mut ClientSession, url: &RtmpUrl) {
        session.publish_fmle(&url.stream_with_query(), PublishType::Live);
        self.goal = Goal::Publish;
        if self.connected {
            self.stage = SetupStage::CreateStream;
        }
    }

    /// Plays `url`'s stream (with its query): `createStream` now if
    /// `connect` was answered, else as soon as it is.
    pub fn play(&mut self, session: &mut ClientSession, url: &RtmpUrl) {
        self.goal = Goal::Play(url.stream_with_query());
        if self.connected {
            session.create_stream();
            self.stage = SetupStage::CreateStream;
        }
    }

    /// Where the setup stands; [`SetupStage::Connect`] while the handshake
    /// runs is reported as such by [`stage_name`](Self::stage_name).
    pub fn stage(&self) -> SetupStage {
        self.stage
    }

    /// What the setup waits for, in words: `"handshake"`,
    /// `"connect answer"`, `"createStream answer"`...
    pub fn stage_name(&self, session: &ClientSession) -> &'static str {
        if !session.is_handshake_done() {
            return "handshake";
        }
        match self.stage {
            SetupStage::Idle | SetupStage::Connected => "command",
            SetupStage::Connect => "connect answer",
            SetupStage::CreateStream => "createStream answer",
            SetupStage::Publish => "publish answer",
            SetupStage::Play => "play answer",
            SetupStage::Ready => "media",
            SetupStage::Failed => "answer after a refusal",
        }
    }

    /// The message stream publishing or playing happens on, once created.
    pub fn stream_id(&self) -> Option<u32> {
        self.stream_id
    }

    /// Judges one event, issuing the next command on `session` when one is
    /// due (`createStream` after `connect` for a play, `play` once the
    /// stream exists).
    pub fn on_event(&mut self, session: &mut ClientSession, event: &ClientEvent) -> SetupStep {
        let step = self.judge(session, event);
        if let SetupStep::Refused(_) = step {
            self.stage = SetupStage::Failed;
        }
        step
    }

    fn judge(&mut self, session: &mut ClientSession, event: &ClientEvent) -> SetupStep {
        if matches!(self.stage, SetupStage::Ready | SetupStage::Failed) {
            return SetupStep::Wait;
        }
        if let ClientEvent::Connected { .. } = event {
            self.connected = true;
            self.stage = match &self.goal {
                Goal::None => SetupStage::Connected,
                Goal::Publish => SetupStage::CreateStream,
                Goal::Play(_) => {
                    session.create_stream();
                    SetupStage::CreateStream
                }
            };
            return SetupStep::Connected;
        }
        match &self.goal {
            Goal::Play(name) => match event {
                ClientEvent::StreamCreated { stream_id, .. } => {
                    self.stream_id = Some(*stream_id);
                    session.play(*stream_id, name);
                    self.stage = SetupStage::Play;
                    SetupStep::Wait
                }
                ClientEvent::Status { code, .. } if code == PLAY_START => {
                    self.stage = SetupStage::Ready;
                    SetupStep::Ready(self.stream_id.unwrap_or(0))
                }
                // Publish arms also judge connect refusals and error statuses.
                other => self.refusal(other),
            },
            Goal::Publish | Goal::None => match judge_publish(event) {
                PublishStep::StreamCreated(id) if self.goal == Goal::Publish => {
                    self.stream_id = Some(id);
                    self.stage = SetupStage::Publish;
                    SetupStep::Wait
                }
                PublishStep::Started if self.goal == Goal::Publish => {
                    self.stage = SetupStage::Ready;
                    SetupStep::Ready(self.stream_id.unwrap_or(0))
                }
                PublishStep::Refused(why) => SetupStep::Refused(why),
                _ => SetupStep::Wait,
            },
        }
    }

    /// A refusal of `connect`, `createStream` or an error status.
    fn refusal(&self, event: &ClientEvent) -> SetupStep {
        match event {
            ClientEvent::ConnectFailed { status } => {
                SetupStep::Refused(format!("connect: {} {}", status.code, status.description))
            }
            ClientEvent::CallFailed { command, .. } if command == "createStream" => {
                SetupStep::Refused("createStream failed".to_owned())
            }
            ClientEvent::Status {
                level,
                code,
                description,
                ..
            } if level == LEVEL_ERROR => SetupStep::Refused(format!("{code} {description}")),
            _ => SetupStep::Wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{CallResponse, Status};

    fn url() -> RtmpUrl {
        RtmpUrl::parse("rtmp://127.0.0.1/live/cam?k=v").unwrap()
    }

    fn session() -> ClientSession {
        ClientSession::new(super::super::ClientConfig::default(), 0, [7; 32])
    }

    fn connected() -> ClientEvent {
        ClientEvent::Connected {
            response: CallResponse {
                transaction_id: 1.0,
                command_object: Amf0Value::Null,
                info: None,
            },
        }
    }

    fn status(level: &str, code: &str) -> ClientEvent {
        ClientEvent::Status {
            stream_id: 1,
            level: level.into(),
            code: code.into(),
            description: "d".into(),
        }
    }

    #[test]
    fn play_waits_for_connect_then_stream_then_start() {
        let (mut s, mut setup) = (session(), ClientSetup::new());
        setup.connect(&mut s, &url(), Vec::new());
        setup.play(&mut s, &url());
        assert_eq!(setup.stage(), SetupStage::Connect);
        assert_eq!(setup.stage_name(&s), "handshake");
        assert_eq!(setup.on_event(&mut s, &connected()), SetupStep::Connected);
        assert_eq!(setup.stage(), SetupStage::CreateStream);
        let created = ClientEvent::StreamCreated {
            transaction_id: 2.0,
            stream_id: 1,
        };
        assert_eq!(setup.on_event(&mut s, &created), SetupStep::Wait);
        assert_eq!(setup.stage(), SetupStage::Play);
        assert_eq!(
            setup.on_event(&mut s, &status("status", PLAY_START)),
            SetupStep::Ready(1)
        );
        // Later statuses are the application's business.
        assert_eq!(
            setup.on_event(&mut s, &status("error", "NetStream.Play.Failed")),
            SetupStep::Wait
        );
    }

    #[test]
    fn publish_is_pipelined_and_refusals_are_named() {
        let (mut s, mut setup) = (session(), ClientSetup::new());
        setup.connect(&mut s, &url(), Vec::new());
        setup.publish(&mut s, &url());
        assert_eq!(setup.on_event(&mut s, &connected()), SetupStep::Connected);
        let created = ClientEvent::StreamCreated {
            transaction_id: 4.0,
            stream_id: 3,
        };
        assert_eq!(setup.on_event(&mut s, &created), SetupStep::Wait);
        assert_eq!(
            setup.on_event(&mut s, &status("error", "NetStream.Publish.BadName")),
            SetupStep::Refused("NetStream.Publish.BadName d".into())
        );
        assert_eq!(setup.stage(), SetupStage::Failed);

        let (mut s, mut setup) = (session(), ClientSetup::new());
        setup.connect(&mut s, &url(), Vec::new());
        let refused = ClientEvent::ConnectFailed {
            status: Status::new("error", "NetConnection.Connect.Rejected", "no"),
        };
        assert!(matches!(
            setup.on_event(&mut s, &refused),
            SetupStep::Refused(_)
        ));
    }
}
