//! A connection's messages as readable text: the calls and their answers, the
//! timeline with media collapsed, and message counts per type.
//!
//! Answers are paired with calls the way a client library pairs them: a
//! `_result`/`_error` with the call of the same transaction id (RTMP spec
//! 7.2.1.2); an `onStatus` on message stream N with the latest command the
//! client sent on stream N (spec 7.2.2); `onFCPublish`/`onFCUnpublish` with
//! `FCPublish`/`FCUnpublish`. Anything else the server says unprompted is
//! listed as such.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use rtmp_proto::aggregate::split_aggregate;
use rtmp_proto::message::{MessageType, RawMessage};

use crate::describe::{describe, CommandInfo, Described};

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    /// The replayed client.
    Client,
    /// Our server.
    Server,
}

impl Side {
    fn tag(self) -> &'static str {
        match self {
            Side::Client => "C",
            Side::Server => "S",
        }
    }
}

/// One message in a connection's timeline.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Virtual time it was fully sent (client) or received (server's, by the client).
    pub at: Duration,
    /// Who sent it.
    pub side: Side,
    /// The message.
    pub msg: RawMessage,
}

/// Audio or video seen in one direction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackStats {
    /// Messages (aggregates counted by their sub-messages).
    pub count: u64,
    /// Payload bytes.
    pub bytes: u64,
    /// First and last timestamp, in ms.
    pub first_ts: Option<u64>,
    /// Last timestamp, in ms.
    pub last_ts: Option<u64>,
    /// Video key frames.
    pub keyframes: u64,
    /// Codec configuration messages (AVC/HEVC record, AAC config).
    pub sequence_headers: u64,
    /// Times a timestamp was lower than the one before it.
    pub backwards: u64,
    /// Messages per E-RTMP v2 track id, once a multitrack message was seen
    /// (messages that are not multitrack count as the default track, 0).
    pub tracks: BTreeMap<u8, u64>,
    /// Whether a multitrack message was seen.
    pub multitrack: bool,
}

impl TrackStats {
    fn add(&mut self, msg: &RawMessage) {
        let (key, seq) = sim::client::classify(msg.type_id, &msg.payload);
        self.count += 1;
        self.bytes += msg.payload.len() as u64;
        if self.last_ts.is_some_and(|last| msg.timestamp < last) {
            self.backwards += 1;
        }
        self.first_ts.get_or_insert(msg.timestamp);
        self.last_ts = Some(msg.timestamp);
        self.keyframes += u64::from(key && msg.type_id == MessageType::Video);
        self.sequence_headers += u64::from(seq);
        match sim::client::track_ids(msg.type_id, &msg.payload) {
            Some(ids) => {
                self.multitrack = true;
                for id in ids {
                    *self.tracks.entry(id).or_default() += 1;
                }
            }
            None => *self.tracks.entry(0).or_default() += 1,
        }
    }

    fn render(&self, name: &str) -> String {
        let mut s = format!(
            "{name} x{} (ts {}..{}",
            self.count,
            self.first_ts.unwrap_or(0),
            self.last_ts.unwrap_or(0)
        );
        if self.keyframes > 0 {
            let _ = write!(s, ", {} key", self.keyframes);
        }
        if self.sequence_headers > 0 {
            let _ = write!(s, ", {} seq hdr", self.sequence_headers);
        }
        if self.backwards > 0 {
            let _ = write!(s, ", {} BACKWARDS", self.backwards);
        }
        if self.multitrack {
            let tracks: Vec<String> = self
                .tracks
                .iter()
                .map(|(id, n)| format!("#{id} x{n}"))
                .collect();
            let _ = write!(s, ", tracks {}", tracks.join(" "));
        }
        s.push(')');
        s
    }
}

/// Media and other bulk messages between two listed lines.
#[derive(Debug, Default)]
struct Run {
    per_side: BTreeMap<Side, (TrackStats, TrackStats, BTreeMap<String, u64>)>,
}

impl Run {
    fn add(&mut self, side: Side, msg: &RawMessage) {
        let (video, audio, other) = self.per_side.entry(side).or_default();
        match msg.type_id {
            MessageType::Video => video.add(msg),
            MessageType::Audio => audio.add(msg),
            MessageType::Aggregate => match split_aggregate(msg) {
                Ok(parts) => {
                    for p in &parts {
                        match p.type_id {
                            MessageType::Video => video.add(p),
                            MessageType::Audio => audio.add(p),
                            t => *other.entry(format!("{t:?} (in aggregate)")).or_default() += 1,
                        }
                    }
                }
                Err(_) => *other.entry("Aggregate (undecodable)".into()).or_default() += 1,
            },
            t => *other.entry(bulk_name(t, msg)).or_default() += 1,
        }
    }

    fn flush(&mut self, out: &mut String) {
        for (side, (video, audio, other)) in std::mem::take(&mut self.per_side) {
            let mut parts = Vec::new();
            if video.count > 0 {
                parts.push(video.render("video"));
            }
            if audio.count > 0 {
                parts.push(audio.render("audio"));
            }
            for (name, n) in other {
                parts.push(format!("{name} x{n}"));
            }
            let _ = writeln!(out, "  {}: ... {}", side.tag(), parts.join(", "));
        }
    }
}

fn bulk_name(t: MessageType, msg: &RawMessage) -> String {
    if t == MessageType::UserControl {
        match msg.payload.get(..2) {
            Some([0, 6]) => "PingRequest".into(),
            Some([0, 7]) => "PingResponse".into(),
            _ => "UserControl".into(),
        }
    } else {
        format!("{t:?}")
    }
}

/// A call and what it got.
#[derive(Debug)]
struct Call {
    info: CommandInfo,
    answers: Vec<String>,
}

/// The rendered parts of one connection's transcript.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    /// `call -> answer, answer` lines, plus what the server said unprompted.
    pub calls: String,
    /// Every listed message in order, media collapsed into runs.
    pub timeline: String,
    /// Messages per type, per direction.
    pub counts: String,
    /// Media the client received, per track.
    pub received_media: String,
}

/// Builds the transcript of `entries` (in time order; ties keep their order).
pub fn transcript(entries: &[Entry]) -> Transcript {
    let mut calls: Vec<Call> = Vec::new();
    let mut unprompted: Vec<String> = Vec::new();
    let mut timeline = String::new();
    let mut run = Run::default();
    let mut counts: BTreeMap<Side, BTreeMap<u8, (String, u64)>> = BTreeMap::new();
    let mut received = Run::default();
    for e in entries {
        let type_counts = counts.entry(e.side).or_default();
        type_counts
            .entry(e.msg.type_id.id())
            .or_insert_with(|| (format!("{:?}", e.msg.type_id), 0))
            .1 += 1;
        let d = describe(&e.msg);
        let media = matches!(
            e.msg.type_id,
            MessageType::Audio | MessageType::Video | MessageType::Aggregate
        );
        if e.side == Side::Server && media {
            received.add(Side::Server, &e.msg);
        }
        let line = match d {
            Described::Bulk => {
                run.add(e.side, &e.msg);
                continue;
            }
            Described::Line(l) => l,
            Described::Command(info) => {
                let line = info.line.clone();
                match e.side {
                    Side::Client => calls.push(Call {
                        info,
                        answers: Vec::new(),
                    }),
                    Side::Server => pair(&mut calls, &mut unprompted, info),
                }
                line
            }
        };
        run.flush(&mut timeline);
        let _ = writeln!(timeline, "  {}: {line}", e.side.tag());
    }
    run.flush(&mut timeline);

    let mut call_text = String::new();
    for c in &calls {
        if c.info.is_response() {
            // The client answering the original server's calls (onBWCheck...).
            let _ = writeln!(
                call_text,
                "  {} (client's answer to a call of the captured server)",
                c.info.line
            );
            continue;
        }
        let answers = if c.answers.is_empty() {
            "(no answer)".to_owned()
        } else {
            c.answers.join(", ")
        };
        let _ = writeln!(call_text, "  {} -> {answers}", c.info.line);
    }
    for u in unprompted {
        let _ = writeln!(call_text, "  server, unprompted: {u}");
    }

    let mut count_text = String::new();
    for (side, types) in counts {
        let list: Vec<String> = types.values().map(|(n, c)| format!("{n} {c}")).collect();
        let dir = match side {
            Side::Client => "client->server",
            Side::Server => "server->client",
        };
        let _ = writeln!(count_text, "  {dir}: {}", list.join(", "));
    }
    let mut received_text = String::new();
    if let Some((video, audio, _)) = received.per_side.get(&Side::Server) {
        for (name, t) in [("video", video), ("audio", audio)] {
            if t.count > 0 {
                let _ = writeln!(received_text, "  {}", t.render(name));
            }
        }
    }
    Transcript {
        calls: call_text,
        timeline,
        counts: count_text,
        received_media: received_text,
    }
}

/// Attaches a server command to the call it answers.
fn pair(calls: &mut [Call], unprompted: &mut Vec<String>, info: CommandInfo) {
    let answer = info.answer.clone().unwrap_or_else(|| info.name.clone());
    let target = if info.is_response() {
        // Servers answer in order: the oldest call with this transaction id
        // that has no `_result`/`_error` yet (clients that number every call
        // 0, like GStreamer's rtmp2, are paired one by one).
        let answered = |c: &Call| {
            c.answers
                .iter()
                .any(|a| a.starts_with("_result") || a.starts_with("_error"))
        };
        let same = |c: &Call| !c.info.is_response() && c.info.transaction_id == info.transaction_id;
        match calls.iter().position(|c| same(c) && !answered(c)) {
            Some(i) => calls.get_mut(i),
            None => calls.iter_mut().rev().find(|c| same(c)),
        }
    } else if info.name == "onStatus" {
        calls
            .iter_mut()
            .rev()
            .find(|c| c.info.stream_id == info.stream_id && !c.info.is_response())
    } else if let Some(call) = info.name.strip_prefix("on").filter(|n| n.starts_with("FC")) {
        calls.iter_mut().rev().find(|c| c.info.name == call)
    } else {
        None
    };
    match target {
        Some(c) => c.answers.push(answer),
        None => unprompted.push(info.line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use rtmp_proto::amf0::Amf0Value;
    use rtmp_proto::command::{CallResponse, Command, Connect, Play, Status};

    fn e(side: Side, msg: RawMessage) -> Entry {
        Entry {
            at: Duration::ZERO,
            side,
            msg,
        }
    }

    fn video(ts: u64, key: bool) -> RawMessage {
        RawMessage {
            csid: 6,
            timestamp: ts,
            type_id: MessageType::Video,
            stream_id: 1,
            payload: Bytes::from(vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0, 9]),
        }
    }

    #[test]
    fn calls_are_paired_and_media_collapsed() {
        let connect = Command::Connect(Connect::new("live", "rtmp://h/live", Vec::new()));
        let result = Command::Result(CallResponse {
            transaction_id: 1.0,
            command_object: Amf0Value::Null,
            info: Some(Status::new("status", "NetConnection.Connect.Success", "").to_object()),
        });
        let play = Command::Play(Play {
            transaction_id: 0.0,
            name: "s".into(),
            start: -2.0,
            duration: -1.0,
            reset: true,
        });
        let start = Command::OnStatus(Status::new("status", "NetStream.Play.Start", ""));
        let entries = vec![
            e(Side::Client, connect.to_message(3, 0)),
            e(Side::Server, result.to_message(3, 0)),
            e(Side::Client, play.to_message(8, 1)),
            e(Side::Server, start.to_message(5, 1)),
            e(Side::Server, video(0, true)),
            e(Side::Server, video(40, false)),
            e(Side::Server, video(20, false)),
            e(
                Side::Server,
                Command::OnBwDone {
                    transaction_id: 0.0,
                }
                .to_message(3, 0),
            ),
        ];
        let t = transcript(&entries);
        assert!(t.calls.contains("connect #1 app=\"live\""), "{}", t.calls);
        assert!(t.calls.contains("-> _result NetConnection.Connect.Success"));
        assert!(t.calls.contains(
            "play #0 [stream 1] \"s\" start=-2 duration=-1 -> onStatus NetStream.Play.Start"
        ));
        assert!(
            t.calls.contains("server, unprompted: onBWDone #0"),
            "{}",
            t.calls
        );
        assert!(
            t.timeline
                .contains("S: ... video x3 (ts 0..20, 1 key, 1 BACKWARDS)"),
            "{}",
            t.timeline
        );
        assert!(
            t.counts.contains("server->client: Video 3, CommandAmf0 3"),
            "{}",
            t.counts
        );
        assert_eq!(
            t.received_media,
            "  video x3 (ts 0..20, 1 key, 1 BACKWARDS)\n"
        );
    }
}
