//! Captured sessions, from packet captures (pcap, pcapng) or from raw
//! client byte streams, as the client flows to replay.
//!
//! A pcap's TCP connections are reassembled ([`crate::reassembly`]) and every
//! connection whose client speaks RTMP becomes a [`Flow`] with its capture
//! timing. Flows keep their relative timing, so a capture holding a publisher
//! and a player replays as a publisher and a player; only idle stretches when
//! no flow is open longer than [`MAX_IDLE_GAP`] are shortened (nDPI's sample
//! joins flows recorded 15 years apart). A raw client stream has no timing
//! and is replayed in lockstep ([`Timing::Lockstep`]).

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::{create_reader, PcapBlockOwned, PcapError};

use crate::packet::tcp_segment;
use crate::reassembly::{concat, Reassembler, TcpStream, TimedWrite};

/// Captures larger than this are refused: they are read into memory whole.
pub const MAX_CAPTURE_BYTES: usize = 256 << 20;

/// Idle time between flows (no flow open) longer than this is cut to this.
pub const MAX_IDLE_GAP: Duration = Duration::from_secs(5);

/// Byte C0 starts an RTMP connection with (3; 6 is RTMPE, encrypted).
const C0_VERSIONS: [u8; 2] = [3, 6];

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// Larger than [`MAX_CAPTURE_BYTES`].
    #[error("capture of {0} bytes is larger than {MAX_CAPTURE_BYTES}")]
    TooLarge(usize),
    /// Neither pcap, pcapng nor an RTMP client stream (first byte 3).
    #[error("not a pcap, pcapng or RTMP client stream (first bytes {0:02x?})")]
    UnknownFormat(Vec<u8>),
    /// The pcap framing is broken.
    #[error("pcap: {0}")]
    Pcap(String),
}

/// How the captured client closed its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientClose {
    /// It sent a FIN.
    Fin,
    /// It sent a RST.
    Reset,
    /// The capture does not show it closing (the server closed first, or the
    /// capture ends): the replay closes with a FIN at the last packet's time.
    NotCaptured,
}

/// When a flow's bytes are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timing {
    /// As captured, times relative to the replay's start (idle gaps cut).
    Captured {
        /// When the client connected.
        start: Duration,
        /// What it sent, and when each piece became readable.
        writes: Vec<TimedWrite>,
        /// When it closed (or the capture of it ended).
        close_at: Duration,
        /// How.
        close: ClientClose,
    },
    /// No timing: send C0C1, wait for S0S1S2, then each message, waiting up
    /// to a bound for the answer to every call, like a client library.
    Lockstep,
}

/// One client connection to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// Where it came from (endpoints and capture times, or a file name).
    pub label: String,
    /// Everything the client sent.
    pub client_bytes: Bytes,
    /// What the captured server answered, when the capture has it.
    pub captured_server_bytes: Option<Bytes>,
    /// When to send.
    pub timing: Timing,
    /// Offset at which the capture lost client bytes; the replay stops there.
    pub gap: Option<u64>,
}

/// A capture's flows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// Name shown in reports.
    pub name: String,
    /// RTMP client connections, in the order they started.
    pub flows: Vec<Flow>,
    /// What was skipped and why (non-RTMP connections, undecodable frames).
    pub notes: Vec<String>,
}

impl Capture {
    /// Reads a pcap, pcapng or raw client stream file. A raw `*client_stream*`
    /// file's `*server_stream*` sibling, when present, is kept as the
    /// captured server's side.
    pub fn load(path: &Path) -> Result<Capture, CaptureError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| CaptureError::Io {
                path: p.display().to_string(),
                source,
            })
        };
        let data = read(path)?;
        // The file name, not the path: reports (and their snapshots) must not
        // depend on where the checkout lives.
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let mut capture = Self::from_bytes(&name, &data)?;
        if let [flow] = capture.flows.as_mut_slice() {
            if flow.timing == Timing::Lockstep {
                let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
                if file.contains("client_stream") {
                    let sibling =
                        path.with_file_name(file.replace("client_stream", "server_stream"));
                    if sibling.is_file() {
                        flow.captured_server_bytes = Some(Bytes::from(read(&sibling)?));
                    }
                }
            }
        }
        Ok(capture)
    }

    /// Reads a capture held in memory, recognising the format by its first bytes.
    pub fn from_bytes(name: &str, data: &[u8]) -> Result<Capture, CaptureError> {
        if data.len() > MAX_CAPTURE_BYTES {
            return Err(CaptureError::TooLarge(data.len()));
        }
        let magic = data.get(..4).unwrap_or_default();
        let pcap = matches!(
            magic,
            [0xa1, 0xb2, 0xc3, 0xd4]
                | [0xd4, 0xc3, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0x3c, 0x4d]
                | [0x4d, 0x3c, 0xb2, 0xa1]
                | [0x0a, 0x0d, 0x0d, 0x0a]
        );
        if pcap {
            return Self::from_pcap(name, data);
        }
        match data.first() {
            Some(b) if C0_VERSIONS.contains(b) => Ok(Self::from_client_stream(
                name,
                Bytes::copy_from_slice(data),
                None,
            )),
            _ => Err(CaptureError::UnknownFormat(magic.to_vec())),
        }
    }

    /// A raw client byte stream (no timing), optionally with the captured
    /// server's side.
    pub fn from_client_stream(name: &str, client: Bytes, server: Option<Bytes>) -> Capture {
        Capture {
            name: name.to_owned(),
            flows: vec![Flow {
                label: format!("client stream {name} ({} bytes, no timing)", client.len()),
                client_bytes: client,
                captured_server_bytes: server,
                timing: Timing::Lockstep,
                gap: None,
            }],
            notes: Vec::new(),
        }
    }

    /// Reads a pcap or pcapng capture.
    pub fn from_pcap(name: &str, data: &[u8]) -> Result<Capture, CaptureError> {
        if data.len() > MAX_CAPTURE_BYTES {
            return Err(CaptureError::TooLarge(data.len()));
        }
        let mut notes = Vec::new();
        let mut reassembler = Reassembler::new();
        let mut frames = FrameStats::default();
        read_frames(data, &mut notes, |linktype, at, frame| {
            frames.total += 1;
            match tcp_segment(linktype, frame) {
                Ok(Some(seg)) => reassembler.add(at, &seg),
                Ok(None) => frames.other += 1,
                Err(e) => {
                    frames.bad += 1;
                    if frames.bad == 1 {
                        frames.first_error = Some(e.to_string());
                    }
                }
            }
        })?;
        if frames.bad > 0 {
            notes.push(format!(
                "{} of {} frames undecodable (first: {})",
                frames.bad,
                frames.total,
                frames.first_error.unwrap_or_default()
            ));
        }
        let streams = reassembler.finish();
        let timeline = IdleCut::new(&streams);
        let mut flows = Vec::new();
        for s in streams {
            let label = format!(
                "{} -> {} (capture +{:.3}..+{:.3} s)",
                s.client,
                s.server,
                s.first_at.as_secs_f64(),
                s.last_at.as_secs_f64()
            );
            match s.client_writes.first().and_then(|w| w.data.first()) {
                None => {
                    notes.push(format!("skipped {label}: the client sent nothing"));
                    continue;
                }
                Some(b) if !C0_VERSIONS.contains(b) => {
                    notes.push(format!("skipped {label}: not RTMP (first byte {b:#04x})"));
                    continue;
                }
                Some(_) => {}
            }
            let (close, close_at) = match (s.client_end.rst, s.client_end.fin) {
                (Some(t), _) => (ClientClose::Reset, t),
                (None, Some(t)) => (ClientClose::Fin, t),
                (None, None) => (ClientClose::NotCaptured, s.last_at),
            };
            let writes = s
                .client_writes
                .iter()
                .map(|w| TimedWrite {
                    at: timeline.map(w.at),
                    data: w.data.clone(),
                })
                .collect();
            flows.push(Flow {
                label,
                client_bytes: concat(&s.client_writes),
                captured_server_bytes: Some(concat(&s.server_writes)),
                timing: Timing::Captured {
                    start: timeline.map(s.first_at),
                    writes,
                    close_at: timeline.map(close_at),
                    close,
                },
                gap: s.client_gap,
            });
        }
        Ok(Capture {
            name: name.to_owned(),
            flows,
            notes,
        })
    }

    /// Keeps only flow `index` (0-based); `None` when there is no such flow.
    pub fn only_flow(mut self, index: usize) -> Option<Capture> {
        if index >= self.flows.len() {
            return None;
        }
        let flow = self.flows.swap_remove(index);
        if let Timing::Captured {
            start,
            writes,
            close_at,
            close,
        } = flow.timing
        {
            // Alone, the flow starts at once.
            let shift = |t: Duration| t.saturating_sub(start);
            self.flows = vec![Flow {
                timing: Timing::Captured {
                    start: Duration::ZERO,
                    writes: writes
                        .into_iter()
                        .map(|w| TimedWrite {
                            at: shift(w.at),
                            data: w.data,
                        })
                        .collect(),
                    close_at: shift(close_at),
                    close,
                },
                ..flow
            }];
        } else {
            self.flows = vec![flow];
        }
        Some(self)
    }
}

#[derive(Debug, Default)]
struct FrameStats {
    total: u64,
    other: u64,
    bad: u64,
    first_error: Option<String>,
}

/// Calls `f(linktype, time since the first frame, frame)` for each captured frame.
fn read_frames(
    data: &[u8],
    notes: &mut Vec<String>,
    mut f: impl FnMut(i32, Duration, &[u8]),
) -> Result<(), CaptureError> {
    let capacity = data
        .len()
        .clamp(65_536, MAX_CAPTURE_BYTES)
        .saturating_add(64);
    let mut reader =
        create_reader(capacity, data).map_err(|e| CaptureError::Pcap(format!("{e:?}")))?;
    // Legacy pcap: one link type and resolution for the file.
    let mut legacy: Option<(i32, bool)> = None;
    // pcapng: per section, per interface (link type, units per second).
    let mut interfaces: Vec<(i32, u64)> = Vec::new();
    let mut first: Option<Duration> = None;
    let mut last = Duration::ZERO;
    let mut stalls = 0u32;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                stalls = 0;
                let frame: Option<(i32, Option<Duration>, &[u8])> = match &block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy = Some((h.network.0, h.is_nanosecond_precision()));
                        None
                    }
                    PcapBlockOwned::Legacy(b) => legacy.map(|(link, nanos)| {
                        let sub = if nanos {
                            Duration::from_nanos(u64::from(b.ts_usec))
                        } else {
                            Duration::from_micros(u64::from(b.ts_usec))
                        };
                        let at = Duration::from_secs(u64::from(b.ts_sec)).saturating_add(sub);
                        let caplen = usize::try_from(b.caplen).unwrap_or(usize::MAX);
                        (link, Some(at), b.data.get(..caplen).unwrap_or(b.data))
                    }),
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                        interfaces.clear();
                        None
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push((idb.linktype.0, idb.ts_resolution().unwrap_or(1_000_000)));
                        None
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => usize::try_from(epb.if_id)
                        .ok()
                        .and_then(|i| interfaces.get(i))
                        .map(|&(link, units)| {
                            let ticks = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                            let nanos =
                                u128::from(ticks) * 1_000_000_000 / u128::from(units.max(1));
                            let at = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
                            (link, Some(at), epb.packet_data())
                        }),
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => interfaces
                        .first()
                        .map(|&(link, _)| (link, None, spb.packet_data())),
                    PcapBlockOwned::NG(_) => None,
                };
                if let Some((link, at, bytes)) = frame {
                    let at = at.unwrap_or(last);
                    last = at;
                    let origin = *first.get_or_insert(at);
                    f(link, at.saturating_sub(origin), bytes);
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => return Ok(()),
            Err(PcapError::Incomplete(_)) => {
                stalls += 1;
                if stalls > 2 || reader.refill().is_err() {
                    notes.push("capture ends in the middle of a block".into());
                    return Ok(());
                }
            }
            Err(e) => return Err(CaptureError::Pcap(format!("{e:?}"))),
        }
    }
}

/// Maps capture times to replay times, cutting idle stretches between flows.
#[derive(Debug)]
struct IdleCut {
    /// (capture time a busy stretch starts, replay time it starts at).
    stretches: Vec<(Duration, Duration)>,
}

impl IdleCut {
    fn new(streams: &[TcpStream]) -> Self {
        let mut spans: Vec<(Duration, Duration)> =
            streams.iter().map(|s| (s.first_at, s.last_at)).collect();
        spans.sort();
        let mut stretches: Vec<(Duration, Duration)> = Vec::new();
        let mut busy_until = Duration::ZERO;
        for (from, to) in spans {
            let new_stretch = match stretches.last() {
                None => Some((from, Duration::ZERO)),
                // A short pause keeps its length.
                Some(_) if from <= busy_until.saturating_add(MAX_IDLE_GAP) => None,
                Some(&(start, mapped)) => {
                    let end_mapped = mapped.saturating_add(busy_until.saturating_sub(start));
                    Some((from, end_mapped.saturating_add(MAX_IDLE_GAP)))
                }
            };
            stretches.extend(new_stretch);
            busy_until = busy_until.max(to);
        }
        Self { stretches }
    }

    fn map(&self, t: Duration) -> Duration {
        let index = self.stretches.partition_point(|&(start, _)| start <= t);
        match index.checked_sub(1).and_then(|i| self.stretches.get(i)) {
            Some(&(start, mapped)) => mapped.saturating_add(t.saturating_sub(start)),
            None => Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reassembly::DirectionEnd;

    fn stream(from: u64, to: u64) -> TcpStream {
        TcpStream {
            client: "1.1.1.1:1".parse().unwrap(),
            server: "2.2.2.2:2".parse().unwrap(),
            client_writes: Vec::new(),
            server_writes: Vec::new(),
            client_gap: None,
            client_end: DirectionEnd::default(),
            server_end: DirectionEnd::default(),
            first_at: Duration::from_secs(from),
            last_at: Duration::from_secs(to),
        }
    }

    #[test]
    fn idle_stretches_between_flows_are_cut() {
        let s = |n| Duration::from_secs(n);
        // Two overlapping flows, then one starting a year later, then one 3 s after that.
        let cut = IdleCut::new(&[
            stream(10, 20),
            stream(15, 30),
            stream(400_000, 400_010),
            stream(400_013, 400_014),
        ]);
        assert_eq!(cut.map(s(10)), s(0));
        assert_eq!(cut.map(s(30)), s(20));
        assert_eq!(cut.map(s(400_000)), s(25));
        assert_eq!(cut.map(s(400_013)), s(38));
    }

    #[test]
    fn raw_streams_and_garbage_are_told_apart() {
        let c = Capture::from_bytes("x", &[3, 0, 0, 0, 0]).unwrap();
        assert_eq!(c.flows.len(), 1);
        assert_eq!(c.flows[0].timing, Timing::Lockstep);
        assert!(matches!(
            Capture::from_bytes("x", b"GET / HTTP/1.1"),
            Err(CaptureError::UnknownFormat(_))
        ));
        assert!(matches!(
            Capture::from_bytes("x", &[0xd4, 0xc3, 0xb2, 0xa1, 0, 0]),
            Err(CaptureError::Pcap(_)) | Ok(_)
        ));
    }
}
