//! One RTMP message in words: what a transcript line says about it.
//!
//! Commands and data messages are decoded with `rtmp_proto`'s typed
//! [`Command`] and [`DataMessage`] (spec 7.1, 7.2), control messages with
//! [`ControlMessage`] (spec 5.4, 6.2). Media, acknowledgements and pings are
//! "bulk": a transcript counts them instead of listing them.

use rtmp_proto::amf0::Amf0Value;
use rtmp_proto::command::{Command, DataMessage, PublishType, Status};
use rtmp_proto::control::{ControlMessage, UserControlEvent};
use rtmp_proto::message::{MessageType, RawMessage};

/// What a message is, for transcripts.
#[derive(Debug, Clone, PartialEq)]
pub enum Described {
    /// Counted, not listed: audio, video, aggregates, acknowledgements, pings.
    Bulk,
    /// A command (type 20 or 17).
    Command(CommandInfo),
    /// Any other message worth a line of its own.
    Line(String),
}

/// A decoded command, with what pairing replies to calls needs.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandInfo {
    /// Command name (`connect`, `_result`, `onStatus`...).
    pub name: String,
    /// Transaction id.
    pub transaction_id: f64,
    /// Message stream id it travelled on.
    pub stream_id: u32,
    /// The whole line: name, transaction, salient arguments.
    pub line: String,
    /// For `_result`/`_error`/`onStatus`: the short answer (status code,
    /// new stream id), as shown after `->` in a call list.
    pub answer: Option<String>,
}

impl CommandInfo {
    /// An answer to a call (`_result` or `_error`).
    pub fn is_response(&self) -> bool {
        self.name == "_result" || self.name == "_error"
    }
}

fn quoted(v: Option<&Amf0Value>) -> String {
    match v {
        Some(Amf0Value::String(s)) | Some(Amf0Value::LongString(s)) => format!("{s:?}"),
        Some(Amf0Value::Number(n)) => format!("{n}"),
        Some(Amf0Value::Boolean(b)) => format!("{b}"),
        Some(Amf0Value::Null) => "null".into(),
        Some(other) => format!("{other:?}"),
        None => "-".into(),
    }
}

fn tid(t: f64) -> String {
    if t.fract() == 0.0 && t.abs() < 1e15 {
        format!("#{}", t as i64)
    } else {
        format!("#{t}")
    }
}

fn status_text(s: &Status) -> String {
    if s.level.is_empty() || s.level == "status" {
        s.code.clone()
    } else {
        format!("{} ({})", s.code, s.level)
    }
}

/// The short answer a `_result`/`_error` carries.
fn response_answer(name: &str, info: Option<&Amf0Value>) -> String {
    match info {
        Some(v @ (Amf0Value::Object(_) | Amf0Value::EcmaArray(_))) => {
            let s = Status::from_object(v);
            if s.code.is_empty() {
                name.to_owned()
            } else {
                format!("{name} {}", status_text(&s))
            }
        }
        Some(Amf0Value::Number(n)) => format!("{name} {n}"),
        Some(Amf0Value::Null) | Some(Amf0Value::Undefined) | None => name.to_owned(),
        Some(other) => format!("{name} {}", quoted(Some(other))),
    }
}

fn publish_type(t: PublishType) -> &'static str {
    t.as_str()
}

/// Describes a command message.
fn command(msg: &RawMessage) -> Described {
    let cmd = match Command::decode(msg) {
        Ok(c) => c,
        Err(e) => return Described::Line(format!("{:?} (undecodable: {e})", msg.type_id)),
    };
    let on = if msg.stream_id == 0 {
        String::new()
    } else {
        format!(" [stream {}]", msg.stream_id)
    };
    let name = cmd.name().to_owned();
    let t = cmd.transaction_id();
    let (args, answer) = match &cmd {
        Command::Connect(c) => {
            let mut a = format!(
                " app={} tcUrl={} flashVer={}",
                quoted(c.get("app")),
                quoted(c.get("tcUrl")),
                quoted(c.get("flashVer"))
            );
            if let Some(list) = c.four_cc_list() {
                a.push_str(&format!(" fourCcList={list:?}"));
            }
            (a, None)
        }
        Command::Result(r) | Command::Error(r) => {
            let answer = response_answer(&name, r.info.as_ref());
            let rest = answer.strip_prefix(name.as_str()).unwrap_or("").to_owned();
            (rest, Some(answer))
        }
        Command::ReleaseStream { name: n, .. }
        | Command::FcPublish { name: n, .. }
        | Command::FcUnpublish { name: n, .. }
        | Command::GetStreamLength { name: n, .. } => (format!(" {n:?}"), None),
        Command::Publish(p) => (
            format!(" {:?} {}", p.name, publish_type(p.publish_type)),
            None,
        ),
        Command::Play(p) => (
            format!(" {:?} start={} duration={}", p.name, p.start, p.duration),
            None,
        ),
        Command::Pause {
            paused,
            position_ms,
            ..
        } => (format!(" paused={paused} at={position_ms}ms"), None),
        Command::Seek { position_ms, .. } => (format!(" to={position_ms}ms"), None),
        Command::DeleteStream { stream_id, .. } => (format!(" stream {stream_id}"), None),
        Command::OnStatus(s) => {
            let text = status_text(s);
            (format!(" {text}"), Some(format!("onStatus {text}")))
        }
        Command::Unknown { args, .. } => {
            // onFCPublish and friends carry a status object; show its code.
            let status = args
                .iter()
                .find(|v| matches!(v, Amf0Value::Object(_) | Amf0Value::EcmaArray(_)))
                .map(Status::from_object)
                .filter(|s| !s.code.is_empty());
            match status {
                Some(s) => {
                    let text = status_text(&s);
                    (format!(" {text}"), Some(format!("{name} {text}")))
                }
                None => (String::new(), None),
            }
        }
        Command::CreateStream { .. } | Command::CloseStream { .. } | Command::OnBwDone { .. } => {
            (String::new(), None)
        }
    };
    Described::Command(CommandInfo {
        line: format!("{name} {}{on}{args}", tid(t)),
        name,
        transaction_id: t,
        stream_id: msg.stream_id,
        answer,
    })
}

fn data(msg: &RawMessage) -> String {
    let on = if msg.stream_id == 0 {
        String::new()
    } else {
        format!(" [stream {}]", msg.stream_id)
    };
    let keys = |v: Option<&Amf0Value>| v.and_then(Amf0Value::properties).map_or(0, <[_]>::len);
    match DataMessage::decode(msg) {
        Ok(DataMessage::SetDataFrame { handler, args }) => {
            format!("@setDataFrame {handler}{on} ({} keys)", keys(args.first()))
        }
        Ok(DataMessage::OnMetaData(v)) => format!("onMetaData{on} ({} keys)", keys(Some(&v))),
        Ok(DataMessage::SampleAccess { audio, video }) => {
            format!("|RtmpSampleAccess{on} audio={audio} video={video}")
        }
        Ok(DataMessage::Unknown { name, args }) => {
            // `onStatus` data messages (NetStream.Data.Start) carry a status object.
            let code = args
                .iter()
                .filter(|v| v.properties().is_some())
                .map(Status::from_object)
                .find(|s| !s.code.is_empty())
                .map(|s| format!(" {}", status_text(&s)))
                .unwrap_or_default();
            format!("data {name}{on}{code}")
        }
        Err(e) => format!("data{on} (undecodable: {e})"),
    }
}

fn control(msg: &RawMessage) -> Described {
    let c = match ControlMessage::decode(msg.type_id, &msg.payload) {
        Ok(c) => c,
        Err(e) => return Described::Line(format!("{:?} (undecodable: {e})", msg.type_id)),
    };
    Described::Line(match c {
        ControlMessage::Acknowledgement { .. } => return Described::Bulk,
        ControlMessage::UserControl(
            UserControlEvent::PingRequest(_) | UserControlEvent::PingResponse(_),
        ) => return Described::Bulk,
        ControlMessage::SetChunkSize(n) => format!("SetChunkSize {n}"),
        ControlMessage::Abort { csid } => format!("Abort csid {csid}"),
        ControlMessage::WindowAckSize(n) => format!("WindowAckSize {n}"),
        ControlMessage::SetPeerBandwidth { size, limit } => {
            format!("SetPeerBandwidth {size} {limit:?}")
        }
        ControlMessage::UserControl(e) => match e {
            UserControlEvent::StreamBegin(s) => format!("StreamBegin {s}"),
            UserControlEvent::StreamEof(s) => format!("StreamEOF {s}"),
            UserControlEvent::StreamDry(s) => format!("StreamDry {s}"),
            UserControlEvent::SetBufferLength {
                stream_id,
                buffer_ms,
            } => format!("SetBufferLength stream {stream_id} {buffer_ms}ms"),
            UserControlEvent::StreamIsRecorded(s) => format!("StreamIsRecorded {s}"),
            UserControlEvent::Unknown { event_type, data } => {
                format!("UserControl type {event_type} ({} bytes)", data.len())
            }
            UserControlEvent::PingRequest(_) | UserControlEvent::PingResponse(_) => {
                return Described::Bulk
            }
        },
    })
}

/// Describes one message.
pub fn describe(msg: &RawMessage) -> Described {
    match msg.type_id {
        MessageType::Audio | MessageType::Video | MessageType::Aggregate => Described::Bulk,
        MessageType::CommandAmf0 | MessageType::CommandAmf3 => command(msg),
        MessageType::DataAmf0 | MessageType::DataAmf3 => Described::Line(data(msg)),
        t if t.is_protocol_control() => control(msg),
        other => Described::Line(format!("{other:?} ({} bytes)", msg.payload.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtmp_proto::command::{CallResponse, Connect};

    #[test]
    fn commands_and_answers() {
        let c = Command::Connect(Connect::new("live", "rtmp://h/live", Vec::new()));
        let Described::Command(info) = describe(&c.to_message(3, 0)) else {
            panic!()
        };
        assert_eq!(
            info.line,
            "connect #1 app=\"live\" tcUrl=\"rtmp://h/live\" flashVer=-"
        );
        let r = Command::Result(CallResponse {
            transaction_id: 1.0,
            command_object: Amf0Value::Null,
            info: Some(Status::new("status", "NetConnection.Connect.Success", "ok").to_object()),
        });
        let Described::Command(info) = describe(&r.to_message(3, 0)) else {
            panic!()
        };
        assert!(info.is_response());
        assert_eq!(
            info.answer.as_deref(),
            Some("_result NetConnection.Connect.Success")
        );
        let s = Command::OnStatus(Status::new("error", "NetStream.Play.StreamNotFound", ""));
        let Described::Command(info) = describe(&s.to_message(5, 1)) else {
            panic!()
        };
        assert_eq!(
            info.line,
            "onStatus #0 [stream 1] NetStream.Play.StreamNotFound (error)"
        );
        let ack = ControlMessage::Acknowledgement { sequence: 5 }.to_message();
        assert_eq!(describe(&ack), Described::Bulk);
        let win = ControlMessage::WindowAckSize(2_500_000).to_message();
        assert_eq!(
            describe(&win),
            Described::Line("WindowAckSize 2500000".into())
        );
    }
}
