//! Shared by the session tests: an in-memory link between a ServerSession
//! and a ClientSession that cuts the byte streams at pseudo-random
//! boundaries, a wire tap that decodes what went over it, and a readable
//! transcript of events.
#![allow(dead_code)]

use std::fmt::Write as _;

use bytes::Bytes;
use rtmp_proto::chunk::{ChunkDecoder, Limits};
use rtmp_proto::command::{Command, DataMessage};
use rtmp_proto::control::ControlMessage;
use rtmp_proto::session::{ClientEvent, ClientSession, ServerEvent, ServerSession};
use rtmp_proto::{MessageType, RawMessage};

/// C0+C1+C2 or S0+S1+S2.
pub const HANDSHAKE_LEN: usize = 3073;

/// A tiny deterministic generator (xorshift64*) for split points.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A read size in 1..=max.
    pub fn size(&mut self, max: usize) -> usize {
        (self.next() % max as u64) as usize + 1
    }
}

/// Concatenates pieces.
pub fn concat(pieces: &[Bytes]) -> Vec<u8> {
    pieces.iter().flat_map(|p| p.iter().copied()).collect()
}

/// Feeds `bytes` to `feed` in random-sized reads.
pub fn feed_split(rng: &mut Rng, bytes: &[u8], max_read: usize, mut feed: impl FnMut(&[u8])) {
    let mut at = 0;
    while at < bytes.len() {
        let end = bytes.len().min(at + rng.size(max_read));
        feed(&bytes[at..end]);
        at = end;
    }
}

/// A server and a client joined by an in-memory link. Every byte that
/// crosses is also kept, so tests can decode the wire.
pub struct Link {
    pub server: ServerSession,
    pub client: ClientSession,
    pub rng: Rng,
    pub max_read: usize,
    /// Everything the server sent.
    pub to_client: Vec<u8>,
    /// Everything the client sent.
    pub to_server: Vec<u8>,
    pub server_events: Vec<ServerEvent>,
    pub client_events: Vec<ClientEvent>,
}

impl Link {
    pub fn new(server: ServerSession, client: ClientSession, seed: u64) -> Self {
        Self {
            server,
            client,
            rng: Rng::new(seed),
            max_read: 700,
            to_client: Vec::new(),
            to_server: Vec::new(),
            server_events: Vec::new(),
            client_events: Vec::new(),
        }
    }

    /// Moves bytes both ways until neither side has anything to send,
    /// answering server decisions with `app`. Returns the number of rounds.
    pub fn pump(&mut self, mut app: impl FnMut(&mut ServerSession, &ServerEvent)) -> usize {
        for round in 0..10_000 {
            let mut moved = false;
            let mut out = Vec::new();
            self.client.poll_transmit(&mut out);
            let bytes = concat(&out);
            if !bytes.is_empty() {
                moved = true;
                self.to_server.extend_from_slice(&bytes);
                let server = &mut self.server;
                let mut now = 0;
                feed_split(&mut self.rng, &bytes, self.max_read, |b| {
                    now += 1;
                    server.handle_input(now, b).expect("server input");
                });
            }
            while let Some(e) = self.server.poll_event() {
                app(&mut self.server, &e);
                self.server_events.push(e);
            }
            let mut out = Vec::new();
            self.server.poll_transmit(&mut out);
            let bytes = concat(&out);
            if !bytes.is_empty() {
                moved = true;
                self.to_client.extend_from_slice(&bytes);
                let client = &mut self.client;
                feed_split(&mut self.rng, &bytes, self.max_read, |b| {
                    client.handle_input(0, b).expect("client input");
                });
            }
            while let Some(e) = self.client.poll_event() {
                self.client_events.push(e);
            }
            if !moved {
                return round;
            }
        }
        panic!("link did not settle");
    }

    /// Takes the events collected so far.
    pub fn take_events(&mut self) -> (Vec<ServerEvent>, Vec<ClientEvent>) {
        (
            std::mem::take(&mut self.server_events),
            std::mem::take(&mut self.client_events),
        )
    }
}

/// Accepts every decision.
pub fn accept_all(s: &mut ServerSession, e: &ServerEvent) {
    match e {
        ServerEvent::Connect { .. } => s.accept_connect().expect("accept connect"),
        ServerEvent::Publish { stream_id, .. } => {
            s.accept_publish(*stream_id).expect("accept publish")
        }
        ServerEvent::Play { stream_id, .. } => s.accept_play(*stream_id).expect("accept play"),
        _ => {}
    }
}

/// Decodes a captured direction after its handshake.
pub fn decode_wire(bytes: &[u8]) -> Vec<RawMessage> {
    let mut d = ChunkDecoder::new(Limits::default());
    d.push(bytes.get(HANDSHAKE_LEN..).unwrap_or_default());
    let mut out = Vec::new();
    while let Some(m) = d.next_message().expect("wire decodes") {
        out.push(m);
    }
    assert_eq!(d.buffered(), 0, "partial message left on the wire");
    out
}

/// One line per message: what it is, not its bytes.
pub fn describe_message(m: &RawMessage) -> String {
    let head = format!("csid={} sid={} ts={}", m.csid, m.stream_id, m.timestamp);
    match m.type_id {
        t if t.is_protocol_control() => match ControlMessage::decode(t, &m.payload) {
            Ok(c) => format!("{head} {c:?}"),
            Err(e) => format!("{head} bad control: {e}"),
        },
        MessageType::CommandAmf0 | MessageType::CommandAmf3 => match Command::decode(m) {
            Ok(c) => format!("{head} {c:?}"),
            Err(e) => format!("{head} bad command: {e}"),
        },
        MessageType::DataAmf0 | MessageType::DataAmf3 => match DataMessage::decode(m) {
            Ok(d) => format!("{head} {d:?}"),
            Err(e) => format!("{head} bad data: {e}"),
        },
        t => format!("{head} {t:?} len={}", m.payload.len()),
    }
}

fn media_line(kind: &str, stream_id: u32, m: &RawMessage) -> String {
    format!(
        "{kind} sid={stream_id} {:?} ts={} len={}",
        m.type_id,
        m.timestamp,
        m.payload.len()
    )
}

/// A readable transcript of server events; runs of media collapse to one line.
pub fn server_transcript(events: &[ServerEvent]) -> String {
    let lines = events.iter().map(|e| match e {
        ServerEvent::Media { stream_id, message } => media_line("Media", *stream_id, message),
        other => format!("{other:?}"),
    });
    collapse(lines)
}

/// A readable transcript of client events; runs of media collapse to one line.
pub fn client_transcript(events: &[ClientEvent]) -> String {
    let lines = events.iter().map(|e| match e {
        ClientEvent::Media { stream_id, message } => media_line("Media", *stream_id, message),
        ClientEvent::Data {
            stream_id, data, ..
        } => format!("Data sid={stream_id} {data:?}"),
        other => format!("{other:?}"),
    });
    collapse(lines)
}

/// Joins lines, replacing each run of 3+ media lines by first, count, last.
fn collapse(lines: impl Iterator<Item = String>) -> String {
    let mut out = String::new();
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, out: &mut String| {
        if run.len() >= 3 {
            let _ = writeln!(out, "{}", run[0]);
            let _ = writeln!(out, "  ... {} more media messages ...", run.len() - 2);
            let _ = writeln!(out, "{}", run[run.len() - 1]);
        } else {
            for l in run.iter() {
                let _ = writeln!(out, "{l}");
            }
        }
        run.clear();
    };
    for line in lines.map(shorten) {
        if line.starts_with("Media ") {
            run.push(line);
        } else {
            flush(&mut run, &mut out);
            let _ = writeln!(out, "{line}");
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Longest transcript line kept whole (FMS's onBWCheck carries kilobytes of
/// random numbers).
const MAX_LINE: usize = 600;

fn shorten(line: String) -> String {
    let chars = line.chars().count();
    if chars <= MAX_LINE {
        return line;
    }
    let kept: String = line.chars().take(MAX_LINE).collect();
    format!("{kept} ... [{} more chars]", chars - MAX_LINE)
}
