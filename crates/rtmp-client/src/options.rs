//! How a client connects: timeouts, handshake form, `connect` properties.

use std::time::Duration;

use rtmp_proto::amf0::Amf0Value;
use rtmp_proto::handshake::ClientMode;

/// How long each kind of wait may last. srs-librtmp's `srs_rtmp_set_timeout`
/// took a receive and a send timeout; connecting has its own here because a
/// dead address should fail sooner than a quiet stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect to one address.
    pub connect: Duration,
    /// Longest wait for data from the server: each setup step (handshake,
    /// `connect`, `publish`/`play` answer) as a whole, and each read of a
    /// playing stream.
    pub read: Duration,
    /// Longest a write may make no progress.
    pub write: Duration,
}

impl Default for Timeouts {
    /// 10 s to connect, 30 s to read or write (srs-librtmp's default socket
    /// timeout, `SRS_SOCKET_DEFAULT_TMMS`, is 30 s).
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            read: Duration::from_secs(30),
            write: Duration::from_secs(30),
        }
    }
}

/// Everything about a connection but its URL.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientOptions {
    /// See [`Timeouts`].
    pub timeouts: Timeouts,
    /// Simple (RTMP spec 5.2) or complex (Flash Player's digest) handshake.
    /// Complex by default: every server takes it and some require it.
    pub handshake: ClientMode,
    /// Extra properties of the `connect` command object; they replace the
    /// Flash-Player-like defaults of the same name.
    pub connect_properties: Vec<(String, Amf0Value)>,
    /// Chunk size we send with (announced before `connect`).
    pub chunk_size: u32,
    /// Send the URL's query on the tcUrl too (`rtmp://host:port/app?query`,
    /// as SRS's tools do), not only with the stream name. Off by default,
    /// like ffmpeg and OBS.
    pub query_on_tc_url: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeouts: Timeouts::default(),
            handshake: ClientMode::Complex,
            connect_properties: Vec::new(),
            chunk_size: 4096,
            query_on_tc_url: false,
        }
    }
}

/// The codecs Enhanced RTMP v1 lets a client announce in `connect`'s
/// `fourCcList` (enhanced-rtmp-v1.pdf, "Enhancing NetConnection connect
/// Command"): HEVC, AV1, VP9.
pub const ENHANCED_RTMP_FOURCCS: [&str; 3] = ["hvc1", "av01", "vp09"];

impl ClientOptions {
    /// Adds E-RTMP's `fourCcList` to `connect`, telling the server this
    /// client takes (or sends) HEVC, AV1 and VP9 in enhanced FLV tags.
    pub fn enhanced_rtmp(mut self) -> Self {
        let list = ENHANCED_RTMP_FOURCCS
            .iter()
            .map(|f| Amf0Value::String((*f).to_owned()))
            .collect();
        self.connect_properties
            .retain(|(name, _)| name != "fourCcList");
        self.connect_properties
            .push(("fourCcList".to_owned(), Amf0Value::StrictArray(list)));
        self
    }
}
