//! The packets of SRS's bandwidth check: AMF0 commands on message stream 0
//! with transaction id 0, a null command object and one object of figures
//! (SRS's `SrsBandwidthPacket`). Only the command name says what a packet
//! is; the names are SRS's so its clients (the Flash checker, srs-librtmp's
//! `srs_bandwidth_check`) and ours interoperate.

use crate::amf0::{encode, Amf0Value};
use crate::command::Command;

/// What a bandwidth-check packet is, by its command name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// Server: the play phase begins (`limit_kbps`, `duration_ms`, `interval_ms`).
    StartPlay,
    /// Client: ready to receive.
    StartingPlay,
    /// Server: filler data during the play phase.
    Playing,
    /// Server: the play phase is over (`duration_delta`, `bytes_delta`...).
    StopPlay,
    /// Client: acknowledges the end of the play phase.
    StoppedPlay,
    /// Server: the publish phase begins (`limit_kbps`, `duration_ms`, `interval_ms`).
    StartPublish,
    /// Client: starts sending.
    StartingPublish,
    /// Client: filler data during the publish phase.
    Publishing,
    /// Both ways: the publish phase is over (the client's after its
    /// duration, the server's with `duration_delta`, `bytes_delta`).
    StopPublish,
    /// Client: acknowledges the end of the publish phase (Flash never sends it).
    StoppedPublish,
    /// Server: the report (`play_kbps`, `publish_kbps`, `play_bytes`...).
    Finished,
    /// Client: the last packet, after the report (Flash never sends it).
    Final,
}

impl PacketKind {
    /// Every kind, in protocol order.
    pub const ALL: [Self; 12] = [
        Self::StartPlay,
        Self::StartingPlay,
        Self::Playing,
        Self::StopPlay,
        Self::StoppedPlay,
        Self::StartPublish,
        Self::StartingPublish,
        Self::Publishing,
        Self::StopPublish,
        Self::StoppedPublish,
        Self::Finished,
        Self::Final,
    ];

    /// The command name on the wire (SRS's `SRS_BW_CHECK_*`).
    pub fn name(self) -> &'static str {
        match self {
            Self::StartPlay => "onSrsBandCheckStartPlayBytes",
            Self::StartingPlay => "onSrsBandCheckStartingPlayBytes",
            Self::Playing => "onSrsBandCheckPlaying",
            Self::StopPlay => "onSrsBandCheckStopPlayBytes",
            Self::StoppedPlay => "onSrsBandCheckStoppedPlayBytes",
            Self::StartPublish => "onSrsBandCheckStartPublishBytes",
            Self::StartingPublish => "onSrsBandCheckStartingPublishBytes",
            Self::Publishing => "onSrsBandCheckPublishing",
            Self::StopPublish => "onSrsBandCheckStopPublishBytes",
            Self::StoppedPublish => "onSrsBandCheckStoppedPublishBytes",
            Self::Finished => "onSrsBandCheckFinished",
            Self::Final => "finalClientPacket",
        }
    }

    /// The kind a command name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind of `command`, if it is a bandwidth-check packet (they all
    /// decode as [`Command::Unknown`]).
    pub fn of(command: &Command) -> Option<Self> {
        match command {
            Command::Unknown { name, .. } => Self::from_name(name),
            _ => None,
        }
    }
}

/// The figures object of a bandwidth-check `command`: its first object (or
/// ECMA array) argument after the command object. Empty when there is none,
/// as SRS reads only the packets whose figures it needs.
pub fn figures(command: &Command) -> &[(String, Amf0Value)] {
    let Command::Unknown { args, .. } = command else {
        return &[];
    };
    args.iter()
        .skip(1)
        .find_map(Amf0Value::properties)
        .unwrap_or_default()
}

/// The number `key` in `command`'s figures, if present, finite and not
/// negative (a hostile peer's NaN or -1 reads as absent).
pub fn figure(command: &Command, key: &str) -> Option<f64> {
    figures(command)
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_f64())
        .filter(|n| n.is_finite() && *n >= 0.0)
}

/// A bandwidth-check packet of `kind` carrying `figures` (numbers by name).
pub fn packet(kind: PacketKind, figures: &[(&str, f64)]) -> Command {
    let object = figures
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Amf0Value::Number(*v)))
        .collect();
    Command::Unknown {
        name: kind.name().to_owned(),
        transaction_id: 0.0,
        args: vec![Amf0Value::Null, Amf0Value::Object(object)],
    }
}

/// Text of each filler entry. Peers ignore it; SRS fills its packets with
/// numbered strings like these, so a packet is made the same way.
const FILLER_TEXT: &str = "bandwidth check filler data..............";

/// A filler packet of `kind` ([`PacketKind::Playing`] or
/// [`PacketKind::Publishing`]) whose AMF0 body is about `target` bytes
/// (at least one entry), and its exact body size.
pub fn filler(kind: PacketKind, target: usize) -> (Command, usize) {
    // Each entry: a 2-byte key length, the decimal key, the string marker,
    // a 2-byte length and the text.
    let mut entries = Vec::new();
    let mut size = 0;
    while size < target || entries.is_empty() {
        let key = entries.len().to_string();
        size += 2 + key.len() + 3 + FILLER_TEXT.len();
        entries.push((key, Amf0Value::String(FILLER_TEXT.to_owned())));
    }
    let command = Command::Unknown {
        name: kind.name().to_owned(),
        transaction_id: 0.0,
        args: vec![Amf0Value::Null, Amf0Value::Object(entries)],
    };
    let size = body_size(&command);
    (command, size)
}

/// The size of `command`'s AMF0 body on the wire (name, transaction id and
/// arguments): what a bandwidth check counts as bytes moved. Chunk headers
/// are left out (under 1% at SRS's chunk sizes).
pub fn body_size(command: &Command) -> usize {
    match command {
        Command::Unknown { name, args, .. } => {
            let mut out = Vec::new();
            encode(args, &mut out);
            // String marker, 16-bit length, name; number marker, 8 bytes.
            3 + name.len() + 9 + out.len()
        }
        other => other.to_message(0, 0).payload.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_srs_and_round_trip() {
        for kind in PacketKind::ALL {
            assert_eq!(PacketKind::from_name(kind.name()), Some(kind));
            assert_eq!(PacketKind::of(&packet(kind, &[])), Some(kind));
        }
        assert_eq!(PacketKind::StartPlay.name(), "onSrsBandCheckStartPlayBytes");
        assert_eq!(PacketKind::Final.name(), "finalClientPacket");
        assert_eq!(PacketKind::from_name("onBWDone"), None);
    }

    #[test]
    fn packets_survive_the_wire_and_hostile_figures_read_as_absent() {
        let p = packet(PacketKind::Finished, &[("play_kbps", 812.0)]);
        let wire = Command::decode(&p.to_message(3, 0)).expect("decodes");
        assert_eq!(wire, p);
        assert_eq!(figure(&wire, "play_kbps"), Some(812.0));
        assert_eq!(figure(&wire, "publish_kbps"), None);
        let nan = packet(PacketKind::StartPublish, &[("limit_kbps", f64::NAN)]);
        assert_eq!(figure(&nan, "limit_kbps"), None);
        let negative = packet(PacketKind::StartPublish, &[("limit_kbps", -5.0)]);
        assert_eq!(figure(&negative, "limit_kbps"), None);
        let bare = Command::Unknown {
            name: PacketKind::StopPlay.name().into(),
            transaction_id: 0.0,
            args: vec![],
        };
        assert!(figures(&bare).is_empty());
    }

    #[test]
    fn filler_sizes_are_exact() {
        for target in [0, 1, 500, 4096, 65_536] {
            let (command, size) = filler(PacketKind::Playing, target);
            assert_eq!(size, command.to_message(3, 0).payload.len());
            assert!(size >= target, "{size} < {target}");
            assert!(size < target + 200, "{size} for {target}");
        }
    }
}
