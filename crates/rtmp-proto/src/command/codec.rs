//! Decoding and encoding of [`Command`]s (RTMP spec 7.1.1, 7.2).

use bytes::Bytes;

use super::args::Args;
use super::{CallResponse, Command, CommandError, Connect, Play, Publish, PublishType, Status};
use crate::amf0::{self, Amf0Value};
use crate::message::{MessageType, RawMessage};

/// The spec's default `play` start: live, then recorded (spec 7.2.2.1).
pub const PLAY_START_DEFAULT: f64 = -2.0;
/// The spec's default `play` duration: to the end (spec 7.2.2.1).
pub const PLAY_DURATION_DEFAULT: f64 = -1.0;

/// The AMF0 body of a type 20 message, or of a type 17/15 message after its
/// 0 format byte (the AMF3 command/data encoding that Flash Player uses when
/// `objectEncoding` is 3: the body is still AMF0 values, which may switch to
/// AMF3 inside, which we refuse).
pub(super) fn amf0_body(msg: &RawMessage) -> Result<&[u8], CommandError> {
    match msg.type_id {
        MessageType::CommandAmf0 | MessageType::DataAmf0 => Ok(&msg.payload),
        MessageType::CommandAmf3 | MessageType::DataAmf3 => match msg.payload.split_first() {
            Some((0, rest)) => Ok(rest),
            other => Err(CommandError::Amf3Format(other.map(|(b, _)| *b))),
        },
        other => Err(CommandError::NotCommand(other)),
    }
}

/// Splits off the leading name string.
pub(super) fn split_name(values: Vec<Amf0Value>) -> Result<(String, Vec<Amf0Value>), CommandError> {
    let mut it = values.into_iter();
    match it.next() {
        Some(Amf0Value::String(name) | Amf0Value::LongString(name)) => Ok((name, it.collect())),
        _ => Err(CommandError::MissingName),
    }
}

impl Command {
    /// Decodes a command message (type 20, or 17 with a 0 format byte).
    pub fn decode(msg: &RawMessage) -> Result<Self, CommandError> {
        match msg.type_id {
            MessageType::CommandAmf0 | MessageType::CommandAmf3 => {}
            other => return Err(CommandError::NotCommand(other)),
        }
        Self::from_values(amf0::decode(amf0_body(msg)?)?)
    }

    /// Builds a command from its decoded AMF0 values.
    pub fn from_values(values: Vec<Amf0Value>) -> Result<Self, CommandError> {
        let (name, rest) = split_name(values)?;
        Ok(match name.as_str() {
            "connect" => {
                let mut a = Args::new("connect", rest);
                let transaction_id = a.transaction_id();
                let command_object = a.object("command object")?;
                Self::Connect(Connect {
                    transaction_id,
                    command_object,
                    extra: a.rest(),
                })
            }
            "_result" => Self::Result(response("_result", rest)),
            "_error" => Self::Error(response("_error", rest)),
            "createStream" => {
                let mut a = Args::new("createStream", rest);
                Self::CreateStream {
                    transaction_id: a.transaction_id(),
                }
            }
            "releaseStream" => {
                let (transaction_id, name) = named("releaseStream", rest)?;
                Self::ReleaseStream {
                    transaction_id,
                    name,
                }
            }
            "FCPublish" => {
                let (transaction_id, name) = named("FCPublish", rest)?;
                Self::FcPublish {
                    transaction_id,
                    name,
                }
            }
            "FCUnpublish" => {
                let (transaction_id, name) = named("FCUnpublish", rest)?;
                Self::FcUnpublish {
                    transaction_id,
                    name,
                }
            }
            "getStreamLength" => {
                let (transaction_id, name) = named("getStreamLength", rest)?;
                Self::GetStreamLength {
                    transaction_id,
                    name,
                }
            }
            "publish" => {
                let mut a = Args::new("publish", rest);
                let transaction_id = a.transaction_id();
                a.any();
                let name = a.string("publishing name")?;
                let publish_type = a
                    .opt_string("publishing type")?
                    .map_or(PublishType::Live, |t| PublishType::parse(&t));
                Self::Publish(Publish {
                    transaction_id,
                    name,
                    publish_type,
                })
            }
            "play" => {
                let mut a = Args::new("play", rest);
                let transaction_id = a.transaction_id();
                a.any();
                Self::Play(Play {
                    transaction_id,
                    name: a.string("stream name")?,
                    start: a.opt_number("start")?.unwrap_or(PLAY_START_DEFAULT),
                    duration: a.opt_number("duration")?.unwrap_or(PLAY_DURATION_DEFAULT),
                    reset: a.opt_bool("reset")?.unwrap_or(true),
                })
            }
            "pause" => {
                let mut a = Args::new("pause", rest);
                let transaction_id = a.transaction_id();
                a.any();
                let paused = a
                    .opt_bool("pause flag")?
                    .ok_or(CommandError::MissingArgument {
                        command: "pause",
                        index: 3,
                        what: "pause flag",
                    })?;
                Self::Pause {
                    transaction_id,
                    paused,
                    position_ms: a.opt_number("milliseconds")?.unwrap_or(0.0),
                }
            }
            "seek" => {
                let mut a = Args::new("seek", rest);
                let transaction_id = a.transaction_id();
                a.any();
                Self::Seek {
                    transaction_id,
                    position_ms: a.number("milliseconds")?,
                }
            }
            "deleteStream" => {
                // GStreamer's rtmp2sink sends the stream *name* where the id
                // belongs. The FCUnpublish before it already ended the publish,
                // so that form is kept as an unknown command rather than ending
                // the connection; a bad number is still an error.
                if let Some(Amf0Value::String(_)) = rest.get(2) {
                    let mut a = Args::new("", rest);
                    Self::Unknown {
                        name,
                        transaction_id: a.transaction_id(),
                        args: a.rest(),
                    }
                } else {
                    let mut a = Args::new("deleteStream", rest);
                    let transaction_id = a.transaction_id();
                    a.any();
                    Self::DeleteStream {
                        transaction_id,
                        stream_id: a.stream_id("stream id")?,
                    }
                }
            }
            "closeStream" => {
                let mut a = Args::new("closeStream", rest);
                Self::CloseStream {
                    transaction_id: a.transaction_id(),
                }
            }
            "onBWDone" => {
                let mut a = Args::new("onBWDone", rest);
                Self::OnBwDone {
                    transaction_id: a.transaction_id(),
                }
            }
            "onStatus" => {
                let mut a = Args::new("onStatus", rest);
                a.transaction_id();
                a.any();
                Self::OnStatus(Status::from_object(&a.object("info object")?))
            }
            _ => {
                let mut a = Args::new("", rest);
                Self::Unknown {
                    name,
                    transaction_id: a.transaction_id(),
                    args: a.rest(),
                }
            }
        })
    }

    /// The command name on the wire.
    pub fn name(&self) -> &str {
        match self {
            Self::Connect(_) => "connect",
            Self::Result(_) => "_result",
            Self::Error(_) => "_error",
            Self::CreateStream { .. } => "createStream",
            Self::ReleaseStream { .. } => "releaseStream",
            Self::FcPublish { .. } => "FCPublish",
            Self::FcUnpublish { .. } => "FCUnpublish",
            Self::Publish(_) => "publish",
            Self::Play(_) => "play",
            Self::Pause { .. } => "pause",
            Self::Seek { .. } => "seek",
            Self::DeleteStream { .. } => "deleteStream",
            Self::CloseStream { .. } => "closeStream",
            Self::GetStreamLength { .. } => "getStreamLength",
            Self::OnBwDone { .. } => "onBWDone",
            Self::OnStatus(_) => "onStatus",
            Self::Unknown { name, .. } => name,
        }
    }

    /// The transaction id (0 for `onStatus`).
    pub fn transaction_id(&self) -> f64 {
        match self {
            Self::Connect(c) => c.transaction_id,
            Self::Result(r) | Self::Error(r) => r.transaction_id,
            Self::Publish(p) => p.transaction_id,
            Self::Play(p) => p.transaction_id,
            Self::OnStatus(_) => 0.0,
            Self::CreateStream { transaction_id }
            | Self::ReleaseStream { transaction_id, .. }
            | Self::FcPublish { transaction_id, .. }
            | Self::FcUnpublish { transaction_id, .. }
            | Self::Pause { transaction_id, .. }
            | Self::Seek { transaction_id, .. }
            | Self::DeleteStream { transaction_id, .. }
            | Self::CloseStream { transaction_id }
            | Self::GetStreamLength { transaction_id, .. }
            | Self::OnBwDone { transaction_id }
            | Self::Unknown { transaction_id, .. } => *transaction_id,
        }
    }

    /// The AMF0 values of the command body, in wire order.
    pub fn to_values(&self) -> Vec<Amf0Value> {
        let s = |v: &str| Amf0Value::String(v.to_owned());
        let mut out = vec![s(self.name()), Amf0Value::Number(self.transaction_id())];
        match self {
            Self::Connect(c) => {
                out.push(c.command_object.clone());
                out.extend(c.extra.iter().cloned());
            }
            Self::Result(r) | Self::Error(r) => {
                out.push(r.command_object.clone());
                out.extend(r.info.iter().cloned());
            }
            Self::CreateStream { .. } | Self::CloseStream { .. } | Self::OnBwDone { .. } => {
                out.push(Amf0Value::Null)
            }
            Self::ReleaseStream { name, .. }
            | Self::FcPublish { name, .. }
            | Self::FcUnpublish { name, .. }
            | Self::GetStreamLength { name, .. } => {
                out.extend([Amf0Value::Null, s(name)]);
            }
            Self::Publish(p) => {
                out.extend([Amf0Value::Null, s(&p.name), s(p.publish_type.as_str())]);
            }
            Self::Play(p) => out.extend([
                Amf0Value::Null,
                s(&p.name),
                Amf0Value::Number(p.start),
                Amf0Value::Number(p.duration),
                Amf0Value::Boolean(p.reset),
            ]),
            Self::Pause {
                paused,
                position_ms,
                ..
            } => out.extend([
                Amf0Value::Null,
                Amf0Value::Boolean(*paused),
                Amf0Value::Number(*position_ms),
            ]),
            Self::Seek { position_ms, .. } => {
                out.extend([Amf0Value::Null, Amf0Value::Number(*position_ms)]);
            }
            Self::DeleteStream { stream_id, .. } => {
                out.extend([Amf0Value::Null, Amf0Value::Number(f64::from(*stream_id))]);
            }
            Self::OnStatus(status) => out.extend([Amf0Value::Null, status.to_object()]),
            Self::Unknown { args, .. } => out.extend(args.iter().cloned()),
        }
        out
    }

    /// The AMF0 body (a type 20 payload).
    pub fn encode(&self) -> Bytes {
        let mut out = Vec::new();
        amf0::encode(&self.to_values(), &mut out);
        Bytes::from(out)
    }

    /// A type 20 message on chunk stream `csid`, message stream `stream_id`,
    /// timestamp 0.
    pub fn to_message(&self, csid: u32, stream_id: u32) -> RawMessage {
        RawMessage {
            csid,
            timestamp: 0,
            type_id: MessageType::CommandAmf0,
            stream_id,
            payload: self.encode(),
        }
    }
}

/// `_result` / `_error`: transaction id, command object, information.
fn response(command: &'static str, rest: Vec<Amf0Value>) -> CallResponse {
    let mut a = Args::new(command, rest);
    let transaction_id = a.transaction_id();
    let command_object = a.any().unwrap_or(Amf0Value::Null);
    CallResponse {
        transaction_id,
        command_object,
        info: a.any(),
    }
}

/// Transaction id, null, then an optional stream name (empty when absent).
fn named(command: &'static str, rest: Vec<Amf0Value>) -> Result<(f64, String), CommandError> {
    let mut a = Args::new(command, rest);
    let transaction_id = a.transaction_id();
    a.any();
    Ok((
        transaction_id,
        a.opt_string("stream name")?.unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn delete_stream_with_a_name_instead_of_an_id_is_not_an_error() {
        // What GStreamer's rtmp2sink sends when it stops publishing.
        let values = vec![
            Amf0Value::String("deleteStream".into()),
            Amf0Value::Number(6.0),
            Amf0Value::Null,
            Amf0Value::String("mystream".into()),
        ];
        match Command::from_values(values).expect("decodes") {
            Command::Unknown { name, args, .. } => {
                assert_eq!(name, "deleteStream");
                assert_eq!(args.last(), Some(&Amf0Value::String("mystream".into())));
            }
            other => panic!("unexpected {other:?}"),
        }
        let ok = vec![
            Amf0Value::String("deleteStream".into()),
            Amf0Value::Number(6.0),
            Amf0Value::Null,
            Amf0Value::Number(1.0),
        ];
        assert!(matches!(
            Command::from_values(ok),
            Ok(Command::DeleteStream { stream_id: 1, .. })
        ));
    }

    use super::*;

    fn msg(values: &[Amf0Value]) -> RawMessage {
        let mut out = Vec::new();
        amf0::encode(values, &mut out);
        RawMessage {
            csid: 3,
            timestamp: 0,
            type_id: MessageType::CommandAmf0,
            stream_id: 0,
            payload: Bytes::from(out),
        }
    }

    fn s(v: &str) -> Amf0Value {
        Amf0Value::String(v.to_owned())
    }

    fn n(v: f64) -> Amf0Value {
        Amf0Value::Number(v)
    }

    #[test]
    fn every_variant_roundtrips() {
        let all = vec![
            Command::Connect(Connect::new("live", "rtmp://h/live", vec![])),
            Command::Result(CallResponse {
                transaction_id: 2.0,
                command_object: Amf0Value::Null,
                info: Some(n(1.0)),
            }),
            Command::Error(CallResponse {
                transaction_id: 1.0,
                command_object: Amf0Value::Null,
                info: None,
            }),
            Command::CreateStream {
                transaction_id: 2.0,
            },
            Command::ReleaseStream {
                transaction_id: 2.0,
                name: "a".into(),
            },
            Command::FcPublish {
                transaction_id: 3.0,
                name: "a".into(),
            },
            Command::FcUnpublish {
                transaction_id: 6.0,
                name: "a".into(),
            },
            Command::Publish(Publish {
                transaction_id: 5.0,
                name: "a?k=v".into(),
                publish_type: PublishType::Append,
            }),
            Command::Play(Play {
                transaction_id: 0.0,
                name: "b".into(),
                start: -1.0,
                duration: 10.0,
                reset: false,
            }),
            Command::Pause {
                transaction_id: 0.0,
                paused: true,
                position_ms: 1234.0,
            },
            Command::Seek {
                transaction_id: 0.0,
                position_ms: 5.0,
            },
            Command::DeleteStream {
                transaction_id: 0.0,
                stream_id: 7,
            },
            Command::CloseStream {
                transaction_id: 0.0,
            },
            Command::GetStreamLength {
                transaction_id: 4.0,
                name: "c".into(),
            },
            Command::OnBwDone {
                transaction_id: 0.0,
            },
            Command::OnStatus(
                Status::new("status", "NetStream.Play.Start", "go").with("clientid", s("x")),
            ),
            Command::Unknown {
                name: "_checkbw".into(),
                transaction_id: 3.0,
                args: vec![Amf0Value::Null, s("x")],
            },
        ];
        for cmd in all {
            let m = cmd.to_message(3, 1);
            assert_eq!(Command::decode(&m).unwrap(), cmd, "{}", cmd.name());
        }
    }

    #[test]
    fn optional_arguments_take_their_defaults() {
        let cmd = Command::decode(&msg(&[s("play"), n(0.0), Amf0Value::Null, s("x")])).unwrap();
        assert_eq!(
            cmd,
            Command::Play(Play {
                transaction_id: 0.0,
                name: "x".into(),
                start: -2.0,
                duration: -1.0,
                reset: true
            })
        );
        let cmd = Command::decode(&msg(&[s("publish"), n(5.0), Amf0Value::Null, s("x")])).unwrap();
        assert!(matches!(
            cmd,
            Command::Publish(Publish {
                publish_type: PublishType::Live,
                ..
            })
        ));
        let cmd = Command::decode(&msg(&[s("FCUnpublish")])).unwrap();
        assert_eq!(
            cmd,
            Command::FcUnpublish {
                transaction_id: 0.0,
                name: String::new()
            }
        );
    }

    #[test]
    fn wrong_types_are_errors_unknown_names_are_not() {
        let bad = [
            vec![s("connect"), n(1.0), s("not an object")],
            vec![s("connect"), n(1.0)],
            vec![s("publish"), n(0.0), Amf0Value::Null, n(3.0)],
            vec![s("play"), n(0.0), Amf0Value::Null, s("x"), s("soon")],
            vec![s("deleteStream"), n(0.0), Amf0Value::Null, n(-1.0)],
            vec![s("deleteStream"), n(0.0), Amf0Value::Null, n(1.5)],
            vec![s("pause"), n(0.0), Amf0Value::Null],
            vec![s("onStatus"), n(0.0), Amf0Value::Null, Amf0Value::Null],
            vec![n(1.0)],
            vec![],
        ];
        for values in bad {
            assert!(Command::decode(&msg(&values)).is_err(), "{values:?}");
        }
        let cmd = Command::decode(&msg(&[
            s("receiveVideo"),
            n(0.0),
            Amf0Value::Null,
            Amf0Value::Boolean(true),
        ]))
        .unwrap();
        assert_eq!(cmd.name(), "receiveVideo");
    }

    #[test]
    fn amf3_commands_skip_their_format_byte() {
        let mut m = msg(&[s("createStream"), n(2.0), Amf0Value::Null]);
        let mut payload = vec![0u8];
        payload.extend_from_slice(&m.payload);
        m.payload = Bytes::from(payload);
        m.type_id = MessageType::CommandAmf3;
        assert_eq!(
            Command::decode(&m).unwrap(),
            Command::CreateStream {
                transaction_id: 2.0
            }
        );
        m.payload = Bytes::from_static(&[1, 2]);
        assert_eq!(Command::decode(&m), Err(CommandError::Amf3Format(Some(1))));
        m.payload = Bytes::new();
        assert_eq!(Command::decode(&m), Err(CommandError::Amf3Format(None)));
        m.type_id = MessageType::Video;
        assert_eq!(
            Command::decode(&m),
            Err(CommandError::NotCommand(MessageType::Video))
        );
    }

    #[test]
    fn connect_keeps_every_property_in_order() {
        let values = vec![
            s("connect"),
            n(1.0),
            Amf0Value::Object(vec![
                ("app".into(), s("live")),
                ("type".into(), s("nonprivate")),
                ("flashVer".into(), s("FMLE/3.0 (compatible; FMSc/1.0)")),
                ("tcUrl".into(), s("rtmp://h/live")),
                (
                    "fourCcList".into(),
                    Amf0Value::StrictArray(vec![s("av01"), s("vp09"), s("hvc1"), s("avc1")]),
                ),
                ("capsEx".into(), n(1.0)),
            ]),
            Amf0Value::Object(vec![("user".into(), s("u"))]),
        ];
        let Command::Connect(c) = Command::decode(&msg(&values)).unwrap() else {
            panic!("not a connect")
        };
        assert_eq!(c.app(), Some("live"));
        assert_eq!(c.tc_url(), Some("rtmp://h/live"));
        assert_eq!(c.flash_ver(), Some("FMLE/3.0 (compatible; FMSc/1.0)"));
        assert_eq!(c.four_cc_list(), Some(vec!["av01", "vp09", "hvc1", "avc1"]));
        assert_eq!(c.caps_ex(), Some(1.0));
        assert_eq!(c.swf_url(), None);
        let keys: Vec<_> = c.properties().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["app", "type", "flashVer", "tcUrl", "fourCcList", "capsEx"]
        );
        assert_eq!(c.extra.len(), 1);
        assert_eq!(Command::Connect(c).to_values(), values);
    }
}
