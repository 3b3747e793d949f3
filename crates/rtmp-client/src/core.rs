//! The runtime-neutral part of a client connection: a [`ClientSession`]
//! stepped through [`ClientSetup`], the media it received, the bytes it
//! wants sent. The blocking and async clients only move bytes in and out of
//! it and bound the time that takes.

use std::collections::VecDeque;

use bytes::Bytes;
use rtmp_proto::command::Command;
use rtmp_proto::session::{ClientConfig, ClientEvent, ClientSession, ClientSetup, SetupStep};
use rtmp_proto::url::RtmpUrl;

use crate::error::{ClientError, Result};
use crate::frames::{AacFormat, FramePackager, NalFormat, VideoCodec};
use crate::options::ClientOptions;
use crate::packet::Packet;

/// Packets received but not yet read before reading more from the socket
/// is refused: one read of the socket yields at most a few dozen.
const MAX_QUEUED_PACKETS: usize = 4096;

/// What a blocking or async driver waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// The handshake to complete.
    Handshake,
    /// `connect` to be answered.
    Connected,
    /// Publishing or playing to start.
    Ready,
    /// A received packet.
    Packet,
}

impl Want {
    /// What a timeout was waiting for, in words.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Want::Handshake => "handshake",
            Want::Connected => "connect answer",
            Want::Ready => "publish or play answer",
            Want::Packet => "media",
        }
    }
}

/// What the connection is doing on its message stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Idle,
    Publishing(u32),
    Playing(u32),
}

/// One client connection's protocol state.
#[derive(Debug)]
pub(crate) struct ClientCore {
    pub(crate) url: RtmpUrl,
    pub(crate) options: ClientOptions,
    session: ClientSession,
    setup: ClientSetup,
    connect_sent: bool,
    connected: bool,
    /// Whether `publish` (true) or `play` (false) was asked.
    publishing: Option<bool>,
    role: Role,
    refused: Option<String>,
    received: VecDeque<Packet>,
    /// Encoder frames to packets (sequence headers remembered).
    pub(crate) packager: FramePackager,
}

impl ClientCore {
    pub(crate) fn new(url: RtmpUrl, options: ClientOptions) -> Self {
        let config = ClientConfig {
            handshake: options.handshake,
            chunk_size: options.chunk_size,
            ..ClientConfig::default()
        };
        Self {
            session: ClientSession::new(config, 0, random_seed()),
            url,
            options,
            setup: ClientSetup::new(),
            connect_sent: false,
            connected: false,
            publishing: None,
            role: Role::Idle,
            refused: None,
            received: VecDeque::new(),
            packager: FramePackager::new(),
        }
    }

    /// Sends `connect` (once).
    pub(crate) fn connect_app(&mut self) {
        if !self.connect_sent {
            self.connect_sent = true;
            let properties = self.options.connect_properties.clone();
            let tc_url = if self.options.query_on_tc_url {
                self.url.tc_url_with_query()
            } else {
                self.url.tc_url()
            };
            self.setup
                .connect_with_tc_url(&mut self.session, &self.url, &tc_url, properties);
        }
    }

    /// Asks to publish the URL's stream (sending `connect` first if needed).
    pub(crate) fn publish(&mut self) -> Result<()> {
        self.start(true)
    }

    /// Asks to play the URL's stream (sending `connect` first if needed).
    pub(crate) fn play(&mut self) -> Result<()> {
        self.start(false)
    }

    fn start(&mut self, publish: bool) -> Result<()> {
        if self.publishing.is_some() {
            return Err(ClientError::State("publish or play already asked"));
        }
        self.connect_app();
        self.publishing = Some(publish);
        if publish {
            self.setup.publish(&mut self.session, &self.url);
        } else {
            self.setup.play(&mut self.session, &self.url);
        }
        Ok(())
    }

    /// Feeds bytes from the server at `now_ms` and digests the events.
    pub(crate) fn feed(&mut self, now_ms: u64, data: &[u8]) -> Result<()> {
        self.session.handle_input(now_ms, data)?;
        while let Some(event) = self.session.poll_event() {
            match self.setup.on_event(&mut self.session, &event) {
                SetupStep::Connected => self.connected = true,
                SetupStep::Ready(id) => {
                    self.role = if self.publishing == Some(true) {
                        Role::Publishing(id)
                    } else {
                        Role::Playing(id)
                    }
                }
                SetupStep::Refused(why) => self.refused = Some(why),
                SetupStep::Wait => {}
            }
            if let ClientEvent::Media { message, .. } | ClientEvent::Data { message, .. } = event {
                if self.received.len() < MAX_QUEUED_PACKETS {
                    self.received.push_back(Packet::from_message(&message));
                }
            }
        }
        Ok(())
    }

    /// Whether `want` has happened; a refusal is an error.
    pub(crate) fn done(&self, want: Want) -> Result<bool> {
        if let Some(why) = &self.refused {
            return Err(ClientError::Refused(why.clone()));
        }
        Ok(match want {
            Want::Handshake => self.session.is_handshake_done(),
            Want::Connected => self.connected,
            Want::Ready => self.role != Role::Idle,
            Want::Packet => !self.received.is_empty(),
        })
    }

    /// What a setup step that timed out was waiting for.
    pub(crate) fn waiting_for(&self, want: Want) -> &'static str {
        match want {
            Want::Packet => want.name(),
            _ => self.setup.stage_name(&self.session),
        }
    }

    /// The next received packet.
    pub(crate) fn next_packet(&mut self) -> Option<Packet> {
        self.received.pop_front()
    }

    /// Queues `packet` on the published stream.
    pub(crate) fn send(&mut self, packet: &Packet) -> Result<()> {
        let Role::Publishing(stream_id) = self.role else {
            return Err(ClientError::State("write before publish started"));
        };
        if !packet.is_media() {
            return Err(ClientError::Media(format!(
                "tag type {} is not audio, video or data",
                packet.tag_type.id()
            )));
        }
        self.session.send_media(stream_id, &packet.to_message());
        Ok(())
    }

    /// Queues one video access unit (and its sequence header when new).
    pub(crate) fn send_video(
        &mut self,
        codec: VideoCodec,
        format: NalFormat,
        data: &[u8],
        dts_ms: u32,
        pts_ms: u32,
    ) -> Result<()> {
        if !matches!(self.role, Role::Publishing(_)) {
            return Err(ClientError::State("write before publish started"));
        }
        for packet in self.packager.video(codec, format, data, dts_ms, pts_ms)? {
            self.send(&packet)?;
        }
        Ok(())
    }

    /// Queues AAC audio (and its sequence header when new).
    pub(crate) fn send_aac(&mut self, format: AacFormat, data: &[u8], ts_ms: u32) -> Result<()> {
        if !matches!(self.role, Role::Publishing(_)) {
            return Err(ClientError::State("write before publish started"));
        }
        for packet in self.packager.aac(format, data, ts_ms)? {
            self.send(&packet)?;
        }
        Ok(())
    }

    /// Queues what a clean close says: `FCUnpublish` and `deleteStream` for
    /// a publisher (as OBS and ffmpeg do, so the server ends the stream at
    /// once rather than at the socket's close), `deleteStream` for a player.
    pub(crate) fn close(&mut self) {
        match self.role {
            Role::Publishing(id) => {
                let name = self.url.stream_with_query();
                self.session.send_command(
                    0,
                    &Command::FcUnpublish {
                        transaction_id: 0.0,
                        name,
                    },
                );
                self.session.delete_stream(id);
            }
            Role::Playing(id) => self.session.delete_stream(id),
            Role::Idle => {}
        }
        self.role = Role::Idle;
    }

    /// Moves the bytes to send into `out`.
    pub(crate) fn poll_transmit(&mut self, out: &mut Vec<Bytes>) {
        self.session.poll_transmit(out);
    }
}

/// 32 bytes for the handshake's filler: not secret (RTMP's handshake
/// protects nothing), only varied, so std's randomly keyed hasher is enough
/// and no RNG crate is needed.
fn random_seed() -> [u8; 32] {
    use std::hash::{BuildHasher, Hasher};
    let mut seed = [0u8; 32];
    for (i, piece) in seed.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            h.write_u128(t.as_nanos());
        }
        piece.copy_from_slice(&h.finish().to_le_bytes());
    }
    seed
}
