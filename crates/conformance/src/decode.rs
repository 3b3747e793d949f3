//! A passive decoder for one direction of an RTMP connection: what a protocol
//! analyser sees, with no session state of its own.
//!
//! The handshake (C0+C1+C2, or S0+S1+S2: 1 + 2 x 1536 bytes either way, RTMP
//! spec 5.2) is kept aside for [`HandshakeSummary`]; everything after it goes
//! through `rtmp_proto`'s [`ChunkDecoder`], which applies the sender's own Set
//! Chunk Size and Abort messages as it meets them (spec 5.4.1, 5.4.2). That is
//! all a passive reader needs: the receiver's announcements (window size,
//! acknowledgements) do not change how the sender's bytes are framed.

use rtmp_proto::chunk::{ChunkDecoder, Limits};
use rtmp_proto::handshake::{validate_c1, validate_s1, DigestScheme, HANDSHAKE_SIZE, RTMP_VERSION};
use rtmp_proto::message::RawMessage;

/// Bytes of handshake before the chunk stream, in either direction:
/// C0 + C1 + C2 (or S0 + S1 + S2).
pub const HANDSHAKE_LEN: usize = 1 + 2 * HANDSHAKE_SIZE;

/// One message and where it ended in its direction's byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Offset just past the message's last byte (handshake included).
    pub end: u64,
    /// The message.
    pub msg: RawMessage,
}

/// Decodes one direction's bytes into messages, incrementally.
#[derive(Debug)]
pub struct PassiveDecoder {
    handshake: Vec<u8>,
    chunks: ChunkDecoder,
    pushed: u64,
    error: Option<String>,
}

impl Default for PassiveDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl PassiveDecoder {
    /// A decoder at the start of a connection.
    pub fn new() -> Self {
        Self {
            handshake: Vec::with_capacity(HANDSHAKE_LEN),
            chunks: ChunkDecoder::new(Limits::default()),
            pushed: 0,
            error: None,
        }
    }

    /// Feeds received bytes; returns the messages they completed. After a
    /// framing error nothing more is decoded (see [`error`](Self::error)).
    pub fn push(&mut self, data: &[u8]) -> Vec<Decoded> {
        let mut out = Vec::new();
        if self.error.is_some() {
            return out;
        }
        let need = HANDSHAKE_LEN.saturating_sub(self.handshake.len());
        let split = need.min(data.len());
        let (hs, rest) = data.split_at(split);
        self.handshake.extend_from_slice(hs);
        self.pushed = self.pushed.saturating_add(split as u64);
        if rest.is_empty() {
            return out;
        }
        if self.handshake.first() != Some(&RTMP_VERSION) {
            self.error = Some(format!(
                "version byte {:#04x} is not plain RTMP (3); not decoded",
                self.handshake.first().copied().unwrap_or(0)
            ));
            return out;
        }
        self.chunks.push(rest);
        self.pushed = self.pushed.saturating_add(rest.len() as u64);
        loop {
            match self.chunks.next_message() {
                Ok(Some(msg)) => {
                    let end = self.pushed.saturating_sub(self.chunks.buffered() as u64);
                    out.push(Decoded { end, msg });
                }
                Ok(None) => break,
                Err(e) => {
                    self.error = Some(e.to_string());
                    break;
                }
            }
        }
        out
    }

    /// The handshake bytes received so far (at most [`HANDSHAKE_LEN`]).
    pub fn handshake(&self) -> &[u8] {
        &self.handshake
    }

    /// Why decoding stopped, if it did.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Bytes received after the last complete message (a message cut short).
    pub fn pending(&self) -> usize {
        self.chunks.buffered()
    }
}

/// Decodes a whole direction at once.
pub fn decode_all(data: &[u8]) -> (Vec<Decoded>, PassiveDecoder) {
    let mut d = PassiveDecoder::new();
    let msgs = d.push(data);
    (msgs, d)
}

/// What one side's handshake packets say (RTMP spec 5.2.3; the digest forms
/// are the de facto "complex" handshake every Flash-era peer uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeSummary {
    /// C0/S0: the protocol version.
    pub version: Option<u8>,
    /// C1/S1 bytes 4..8: zero for the simple handshake, else the peer's version.
    pub peer_version: Option<u32>,
    /// Where a valid digest was found in C1 (Flash Player key) or S1 (FMS key).
    pub digest: Option<DigestScheme>,
    /// All 3073 bytes were there.
    pub complete: bool,
}

impl HandshakeSummary {
    /// Reads a client's C0+C1(+C2) (`client = true`) or a server's S0+S1(+S2).
    pub fn read(handshake: &[u8], client: bool) -> Self {
        let version = handshake.first().copied();
        let first = handshake.get(1..1 + HANDSHAKE_SIZE);
        let peer_version = first
            .and_then(|p| p.get(4..8))
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes);
        let digest = first.and_then(|p| {
            if client {
                validate_c1(p)
            } else {
                validate_s1(p)
            }
        });
        Self {
            version,
            peer_version,
            digest,
            complete: handshake.len() >= HANDSHAKE_LEN,
        }
    }

    /// "simple" or "complex (digest scheme N)".
    pub fn kind(&self) -> String {
        match (self.digest, self.peer_version) {
            (Some(DigestScheme::Scheme0), _) => "complex, digest scheme 0".into(),
            (Some(DigestScheme::Scheme1), _) => "complex, digest scheme 1".into(),
            (None, Some(0)) => "simple".into(),
            (None, Some(v)) => format!("simple (version {v:08x} set, no valid digest)"),
            (None, None) => "incomplete".into(),
        }
    }
}

/// Whether S2 echoes C1's time and random bytes (spec 5.2.4), the simple
/// handshake's answer; a complex S2 is signed instead.
pub fn s2_echoes_c1(client: &[u8], server: &[u8]) -> bool {
    let c1 = client.get(1 + 8..1 + HANDSHAKE_SIZE);
    let s2 = server.get(1 + HANDSHAKE_SIZE + 8..HANDSHAKE_LEN);
    matches!((c1, s2), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtmp_proto::chunk::ChunkEncoder;
    use rtmp_proto::command::{Command, Connect};
    use rtmp_proto::control::ControlMessage;

    #[test]
    fn skips_the_handshake_and_reports_message_ends() {
        let mut enc = ChunkEncoder::new();
        let mut wire = vec![RTMP_VERSION];
        wire.extend_from_slice(&[0u8; 2 * HANDSHAKE_SIZE]);
        let chunk = ControlMessage::SetChunkSize(4096).to_message();
        wire.extend_from_slice(&enc.encode_to_vec(&chunk));
        let after_first = wire.len() as u64;
        enc.set_chunk_size(4096);
        let connect = Command::Connect(Connect::new("live", "rtmp://h/live", Vec::new()));
        wire.extend_from_slice(&enc.encode_to_vec(&connect.to_message(3, 0)));
        // Fed one byte at a time, the result is the same.
        let mut d = PassiveDecoder::new();
        let mut got = Vec::new();
        for b in &wire {
            got.extend(d.push(std::slice::from_ref(b)));
        }
        assert_eq!(got.len(), 2, "{:?}", d.error());
        assert_eq!(got[0].end, after_first);
        assert_eq!(got[1].end, wire.len() as u64);
        assert!(matches!(
            Command::decode(&got[1].msg),
            Ok(Command::Connect(_))
        ));
        assert_eq!(d.handshake().len(), HANDSHAKE_LEN);
        assert_eq!(HandshakeSummary::read(d.handshake(), true).kind(), "simple");
    }

    #[test]
    fn rtmpe_is_reported_not_decoded() {
        let mut wire = vec![6u8];
        wire.extend_from_slice(&[1u8; 4000]);
        let (msgs, d) = decode_all(&wire);
        assert!(msgs.is_empty());
        assert!(d.error().unwrap().contains("0x06"));
    }
}
