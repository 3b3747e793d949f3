//! How a client's publish negotiation stands, judged one [`ClientEvent`] at
//! a time: `connect`, then `releaseStream`/`FCPublish`/`createStream`
//! ([`ClientSession::publish_fmle`](super::ClientSession::publish_fmle)),
//! then `NetStream.Publish.Start`. Pure, so every driver of a
//! [`ClientSession`](super::ClientSession) (the server's forwards, the
//! load tool, the simulator's and the tests' publishers) reads the answers
//! the same way.

use super::ClientEvent;
use crate::command::status::PUBLISH_START;

/// Where a publish negotiation stands after one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishStep {
    /// Nothing decisive.
    Wait,
    /// `connect` succeeded.
    Connected,
    /// `createStream` gave this message stream.
    StreamCreated(u32),
    /// `NetStream.Publish.Start`: media may flow.
    Started,
    /// `connect`, `createStream` or `publish` failed; why.
    Refused(String),
}

/// Judges one event of an FMLE-style publish.
pub fn judge_publish(event: &ClientEvent) -> PublishStep {
    match event {
        ClientEvent::Connected { .. } => PublishStep::Connected,
        ClientEvent::ConnectFailed { status } => {
            PublishStep::Refused(format!("connect: {} {}", status.code, status.description))
        }
        ClientEvent::StreamCreated { stream_id, .. } => PublishStep::StreamCreated(*stream_id),
        ClientEvent::Status { code, .. } if code == PUBLISH_START => PublishStep::Started,
        ClientEvent::Status {
            level,
            code,
            description,
            ..
        } if level == "error" => PublishStep::Refused(format!("{code} {description}")),
        // releaseStream and FCPublish may fail on servers without them
        // (SRS answers them, nginx-rtmp does not): only createStream matters.
        ClientEvent::CallFailed { command, .. } if command == "createStream" => {
            PublishStep::Refused("createStream failed".to_owned())
        }
        _ => PublishStep::Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Status;

    fn status(level: &str, code: &str) -> ClientEvent {
        ClientEvent::Status {
            stream_id: 1,
            level: level.into(),
            code: code.into(),
            description: "d".into(),
        }
    }

    #[test]
    fn each_answer_is_judged() {
        assert_eq!(
            judge_publish(&status("status", PUBLISH_START)),
            PublishStep::Started
        );
        assert_eq!(
            judge_publish(&status("error", "NetStream.Publish.BadName")),
            PublishStep::Refused("NetStream.Publish.BadName d".into())
        );
        assert_eq!(
            judge_publish(&status("status", "NetStream.Other")),
            PublishStep::Wait
        );
        assert!(matches!(
            judge_publish(&ClientEvent::ConnectFailed {
                status: Status {
                    level: "error".into(),
                    code: "NetConnection.Connect.Rejected".into(),
                    description: String::new(),
                    extra: Vec::new(),
                }
            }),
            PublishStep::Refused(_)
        ));
        assert_eq!(
            judge_publish(&ClientEvent::StreamCreated {
                transaction_id: 4.0,
                stream_id: 3
            }),
            PublishStep::StreamCreated(3)
        );
        assert_eq!(
            judge_publish(&ClientEvent::CallFailed {
                command: "FCPublish".into(),
                transaction_id: 3.0,
                info: None
            }),
            PublishStep::Wait
        );
        assert!(matches!(
            judge_publish(&ClientEvent::CallFailed {
                command: "createStream".into(),
                transaction_id: 4.0,
                info: None
            }),
            PublishStep::Refused(_)
        ));
    }
}
