//! Typed NetConnection and NetStream commands (RTMP spec 7.2) and data
//! messages (spec 7.1.2), over [`Amf0Value`].
//!
//! A command message (type 20, or type 17 whose first byte is the 0 format
//! marker followed by AMF0) is a list of AMF0 values: the command name, a
//! transaction id, a command object (usually null) and command-specific
//! arguments (spec 7.1.1). [`Command::decode`] turns one into a [`Command`]
//! and [`Command::to_message`] turns one back into a message.
//!
//! What real peers send, beyond the spec's list, is covered too: the FMLE/OBS
//! publish preamble (`releaseStream`, `FCPublish`, `FCUnpublish`), `closeStream`,
//! `getStreamLength` (ffmpeg), `onBWDone`, and the Enhanced RTMP connect
//! properties (`fourCcList`, `videoFourCcInfoMap`, `audioFourCcInfoMap`,
//! `capsEx`), which survive because [`Connect`] keeps the whole command object.
//! Commands we do not know (`_checkbw`, `receiveVideo`, `pauseRaw`...) decode
//! to [`Command::Unknown`], never to an error. Known commands whose arguments
//! have the wrong AMF0 type are errors ([`CommandError`]).
//!
//! Data messages (type 18, or 15 with a 0 format byte) are [`DataMessage`]s:
//! `@setDataFrame`, `onMetaData`, `|RtmpSampleAccess`.
//!
//! [`status`] holds the standard `onStatus` levels and codes.

mod args;
mod codec;
mod data;
mod error;
pub mod status;

pub(crate) use args::f64_to_u32;
pub use codec::{PLAY_DURATION_DEFAULT, PLAY_START_DEFAULT};
pub use data::{DataMessage, ON_META_DATA, SAMPLE_ACCESS, SET_DATA_FRAME};
pub use error::CommandError;

use crate::amf0::Amf0Value;

/// One decoded command (spec 7.2).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `connect` (spec 7.2.1.1).
    Connect(Connect),
    /// `_result`: the successful answer to a call.
    Result(CallResponse),
    /// `_error`: the failed answer to a call.
    Error(CallResponse),
    /// `createStream` (spec 7.2.1.3): asks for a new message stream id.
    CreateStream {
        /// Transaction id the `_result` must echo.
        transaction_id: f64,
    },
    /// `releaseStream` (FMLE, OBS, ffmpeg): "release" a stream name before
    /// publishing it. Answered with a `_result`.
    ReleaseStream {
        /// Transaction id.
        transaction_id: f64,
        /// Stream name.
        name: String,
    },
    /// `FCPublish` (FMLE, OBS, ffmpeg): announces a publish of `name`.
    FcPublish {
        /// Transaction id.
        transaction_id: f64,
        /// Stream name.
        name: String,
    },
    /// `FCUnpublish`: announces the end of a publish of `name`.
    FcUnpublish {
        /// Transaction id.
        transaction_id: f64,
        /// Stream name.
        name: String,
    },
    /// `publish` (spec 7.2.2.6).
    Publish(Publish),
    /// `play` (spec 7.2.2.1).
    Play(Play),
    /// `pause` (spec 7.2.2.8).
    Pause {
        /// Transaction id (0).
        transaction_id: f64,
        /// True to pause, false to resume.
        paused: bool,
        /// Stream time, in milliseconds, at which the stream was paused or resumed.
        position_ms: f64,
    },
    /// `seek` (spec 7.2.2.7).
    Seek {
        /// Transaction id (0).
        transaction_id: f64,
        /// Target position in milliseconds.
        position_ms: f64,
    },
    /// `deleteStream` (spec 7.2.2.3), sent on message stream 0.
    DeleteStream {
        /// Transaction id (0).
        transaction_id: f64,
        /// The message stream to delete.
        stream_id: u32,
    },
    /// `closeStream`: stops playing or publishing on the stream it is sent on.
    CloseStream {
        /// Transaction id (0).
        transaction_id: f64,
    },
    /// `getStreamLength` (ffmpeg, Flash VOD players): asks for a duration.
    GetStreamLength {
        /// Transaction id.
        transaction_id: f64,
        /// Stream name (empty when absent).
        name: String,
    },
    /// `onBWDone`: the server finished its (here: absent) bandwidth check.
    OnBwDone {
        /// Transaction id (0).
        transaction_id: f64,
    },
    /// `onStatus` (spec 7.2.2): a status report on a message stream.
    OnStatus(Status),
    /// Any other command, kept whole. Never an error.
    Unknown {
        /// The command name.
        name: String,
        /// Its transaction id (0 when absent or not a number).
        transaction_id: f64,
        /// Every value after the transaction id, command object included.
        args: Vec<Amf0Value>,
    },
}

/// `connect` (spec 7.2.1.1). The command object is kept whole, property
/// order included, so nothing a client announces is lost (E-RTMP capability
/// properties in particular); typed accessors read the common ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Connect {
    /// Transaction id (always 1 in practice).
    pub transaction_id: f64,
    /// The command object: an object (or ECMA array) of name-value pairs.
    pub command_object: Amf0Value,
    /// Optional user arguments after the command object (Flash Player's
    /// `NetConnection.connect(url, ...args)`).
    pub extra: Vec<Amf0Value>,
}

/// The answer to a call: `_result` or `_error` (spec 7.2.1.2, 7.2.1.3).
#[derive(Debug, Clone, PartialEq)]
pub struct CallResponse {
    /// The transaction id of the call it answers.
    pub transaction_id: f64,
    /// Properties (connect: `fmsVer`, `capabilities`...), or null.
    pub command_object: Amf0Value,
    /// The information: a status object, or the new stream id for
    /// `createStream`. `None` when the body ends after the command object.
    pub info: Option<Amf0Value>,
}

/// `publish` (spec 7.2.2.6).
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    /// Transaction id (0).
    pub transaction_id: f64,
    /// Stream name, query string (`?key=...`) kept.
    pub name: String,
    /// Publishing type.
    pub publish_type: PublishType,
}

/// The publishing type argument of `publish` (spec 7.2.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublishType {
    /// `"live"`: live data, not recorded. The default when absent, and what
    /// any unrecognised value is taken as.
    Live,
    /// `"record"`: record to a new file.
    Record,
    /// `"append"`: record, appending to an existing file.
    Append,
}

/// `play` (spec 7.2.2.1).
#[derive(Debug, Clone, PartialEq)]
pub struct Play {
    /// Transaction id (0).
    pub transaction_id: f64,
    /// Stream name, query string kept.
    pub name: String,
    /// Start: -2 (the default) live then recorded, -1 live only, >= 0 a
    /// position (seconds per spec; ffmpeg sends milliseconds, -2000 for live).
    pub start: f64,
    /// Duration: -1 (the default) until the end, 0 a single frame, > 0 a length.
    pub duration: f64,
    /// Whether to flush any previous playlist (default true).
    pub reset: bool,
}

/// An `onStatus` information object (spec 7.2.2): level, code, description,
/// and whatever else the sender added (`details`, `clientid`...), in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// `"status"`, `"warning"` or `"error"` (see [`status`]).
    pub level: String,
    /// E.g. `NetStream.Play.Start` (see [`status`]).
    pub code: String,
    /// Human-readable text (empty when absent).
    pub description: String,
    /// Every other property of the information object, in wire order.
    pub extra: Vec<(String, Amf0Value)>,
}

/// Enhanced RTMP v2 `CapsExMask.Reconnect` (connect's `capsEx`): the client
/// handles `NetConnection.Connect.ReconnectRequest`
/// ([`status::CONNECT_RECONNECT_REQUEST`]).
pub const CAPS_EX_RECONNECT: u32 = 0x01;
/// Enhanced RTMP v2 `CapsExMask.Multitrack`.
pub const CAPS_EX_MULTITRACK: u32 = 0x02;
/// Enhanced RTMP v2 `CapsExMask.ModEx`: the client parses ModEx signals.
pub const CAPS_EX_MOD_EX: u32 = 0x04;
/// Enhanced RTMP v2 `CapsExMask.TimestampNanoOffset`.
pub const CAPS_EX_TIMESTAMP_NANO_OFFSET: u32 = 0x08;

impl Connect {
    /// A `connect` with transaction id 1 and a command object holding `app`
    /// and `tcUrl`, then `properties` in order.
    pub fn new(app: &str, tc_url: &str, properties: Vec<(String, Amf0Value)>) -> Self {
        let mut object = vec![
            ("app".to_owned(), Amf0Value::String(app.to_owned())),
            ("tcUrl".to_owned(), Amf0Value::String(tc_url.to_owned())),
        ];
        object.extend(properties);
        Self {
            transaction_id: 1.0,
            command_object: Amf0Value::Object(object),
            extra: Vec::new(),
        }
    }

    /// The command object's properties, in wire order.
    pub fn properties(&self) -> &[(String, Amf0Value)] {
        self.command_object.properties().unwrap_or_default()
    }

    /// The first command object property named `key`.
    pub fn get(&self, key: &str) -> Option<&Amf0Value> {
        self.command_object.get(key)
    }

    fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Amf0Value::as_str)
    }

    /// `app`: the application name the client connects to.
    pub fn app(&self) -> Option<&str> {
        self.get_str("app")
    }

    /// `tcUrl`: the URL the client connected to.
    pub fn tc_url(&self) -> Option<&str> {
        self.get_str("tcUrl")
    }

    /// `flashVer`: the client's version string (`FMLE/3.0 ...`, `LNX 9,0,124,2`).
    pub fn flash_ver(&self) -> Option<&str> {
        self.get_str("flashVer")
    }

    /// `swfUrl`: the URL of the SWF that made the connection.
    pub fn swf_url(&self) -> Option<&str> {
        self.get_str("swfUrl")
    }

    /// `pageUrl`: the URL of the web page the SWF was loaded from.
    pub fn page_url(&self) -> Option<&str> {
        self.get_str("pageUrl")
    }

    /// `objectEncoding`: 0 for AMF0, 3 for AMF3.
    pub fn object_encoding(&self) -> Option<f64> {
        self.get("objectEncoding").and_then(Amf0Value::as_f64)
    }

    /// Enhanced RTMP `fourCcList`: the codecs (`"av01"`, `"hvc1"`...) the
    /// client supports, when sent as a strict array of strings. Non-string
    /// elements are skipped.
    pub fn four_cc_list(&self) -> Option<Vec<&str>> {
        let items = self.get("fourCcList")?.as_array()?;
        Some(items.iter().filter_map(Amf0Value::as_str).collect())
    }

    /// Enhanced RTMP `capsEx`: extended capability flags.
    pub fn caps_ex(&self) -> Option<f64> {
        self.get("capsEx").and_then(Amf0Value::as_f64)
    }

    /// `capsEx` as the bit set Enhanced RTMP v2 defines (`CapsExMask`); 0
    /// when absent or not a number that fits one (negative, fractional,
    /// NaN: a hostile value announces nothing).
    pub fn caps_ex_flags(&self) -> u32 {
        match self.caps_ex() {
            Some(v)
                if v.is_finite() && v >= 0.0 && v <= f64::from(u32::MAX) && v.fract() == 0.0 =>
            {
                v as u32
            }
            _ => 0,
        }
    }
}

impl Status {
    /// A status with no extra properties.
    pub fn new(level: &str, code: &str, description: &str) -> Self {
        Self {
            level: level.to_owned(),
            code: code.to_owned(),
            description: description.to_owned(),
            extra: Vec::new(),
        }
    }

    /// Adds an extra property after the standard ones.
    pub fn with(mut self, key: &str, value: Amf0Value) -> Self {
        self.extra.push((key.to_owned(), value));
        self
    }

    /// Reads a status from an information object. Missing standard fields
    /// read as empty strings; other properties go to `extra`.
    pub fn from_object(object: &Amf0Value) -> Self {
        let mut status = Self::new("", "", "");
        for (key, value) in object.properties().unwrap_or_default() {
            let slot = match key.as_str() {
                "level" => &mut status.level,
                "code" => &mut status.code,
                "description" => &mut status.description,
                _ => {
                    status.extra.push((key.clone(), value.clone()));
                    continue;
                }
            };
            match value.as_str() {
                Some(s) => *slot = s.to_owned(),
                None => status.extra.push((key.clone(), value.clone())),
            }
        }
        status
    }

    /// The information object: level, code, description, then `extra`.
    pub fn to_object(&self) -> Amf0Value {
        let mut props = vec![
            ("level".to_owned(), Amf0Value::String(self.level.clone())),
            ("code".to_owned(), Amf0Value::String(self.code.clone())),
            (
                "description".to_owned(),
                Amf0Value::String(self.description.clone()),
            ),
        ];
        props.extend(self.extra.iter().cloned());
        Amf0Value::Object(props)
    }
}

impl PublishType {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Record => "record",
            Self::Append => "append",
        }
    }

    /// Parses the wire string; anything unrecognised is [`Live`](Self::Live),
    /// the only type a live server honours anyway.
    pub fn parse(s: &str) -> Self {
        match s {
            "record" => Self::Record,
            "append" => Self::Append,
            _ => Self::Live,
        }
    }
}
