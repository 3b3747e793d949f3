//! E-RTMP v2 `ModEx` through the real server: a publisher sends every
//! video and audio message behind a `TimestampOffsetNano` modifier (29.97
//! fps H.264 and 22.05 kHz AAC, whose exact times fall between
//! milliseconds, as E-RTMP `avc1` / `mp4a`). Two players, one there before
//! the publish and one joining midway (its own timeline from 0, through the
//! GOP cache), get every message byte-identical to what was published,
//! ModEx prefix included; HLS slices the stream with each PES's time its
//! millisecond time at 90 kHz plus the offset's ticks, and segment
//! durations on whole milliseconds, as without the offsets.

mod scenario_support;

use std::collections::HashMap;
use std::net::Ipv4Addr;

use bytes::Bytes;
use rtmp_proto::message::{MessageType, RawMessage};
use scenario_support::{
    pes_times, secs, segments, start, AAC_SEQUENCE_HEADER, AVC_SEQUENCE_HEADER,
};
use sim::client::{digest, PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher};
use sim::Sim;

const PLAYLIST: &str = "objs/nginx/html/live/nano.m3u8";

fn message(type_id: MessageType, timestamp: u64, payload: Vec<u8>) -> RawMessage {
    RawMessage {
        csid: 0,
        timestamp,
        type_id,
        stream_id: 0,
        payload: Bytes::from(payload),
    }
}

/// `first` (a packet type of 7: ModEx), a 3-byte TimestampOffsetNano of
/// `nanos`, then `packet_type`.
fn modex(first: u8, nanos: u32, packet_type: u8) -> Vec<u8> {
    let [_, a, b, c] = nanos.to_be_bytes();
    vec![first, 2, a, b, c, packet_type]
}

/// 10 s of media in time order, with the ms timestamp and offset of each.
fn media() -> Vec<(RawMessage, u32)> {
    let mut video_header = modex(0x80 | (1 << 4) | 7, 0, 0);
    video_header.extend_from_slice(b"avc1");
    video_header.extend_from_slice(&AVC_SEQUENCE_HEADER[5..]);
    let mut audio_header = modex(0x97, 0, 0);
    audio_header.extend_from_slice(b"mp4a");
    audio_header.extend_from_slice(&AAC_SEQUENCE_HEADER[2..]);
    let mut out = vec![
        (message(MessageType::Video, 0, video_header), 0),
        (message(MessageType::Audio, 0, audio_header), 0),
    ];
    let end_ns = 10_000_000_000u64;
    let mut timed: Vec<(u64, MessageType, u64)> = Vec::new();
    let video = (0..).map(|n: u64| (n * 1_001_000_000_000 / 30_000, n));
    for (t, n) in video.take_while(|&(t, _)| t < end_ns) {
        timed.push((t, MessageType::Video, n));
    }
    let audio = (0..).map(|k: u64| (k * 1024 * 1_000_000_000 / 22_050, k));
    for (t, k) in audio.take_while(|&(t, _)| t < end_ns) {
        timed.push((t, MessageType::Audio, k));
    }
    timed.sort_by_key(|&(t, kind, _)| (t, kind == MessageType::Audio));
    for (t, kind, n) in timed {
        let (ms, nanos) = (t / 1_000_000, (t % 1_000_000) as u32);
        let payload = if kind == MessageType::Video {
            let key = n % 60 == 0;
            let frame_type: u8 = if key { 1 } else { 2 };
            let mut p = modex(0x80 | (frame_type << 4) | 7, nanos, 1);
            p.extend_from_slice(b"avc1");
            p.extend_from_slice(&[0, 0, 0]);
            let mut nal = vec![if key { 0x65 } else { 0x41 }];
            nal.extend_from_slice(&n.to_be_bytes());
            nal.resize(100, (n % 251) as u8);
            p.extend_from_slice(&(nal.len() as u32).to_be_bytes());
            p.extend_from_slice(&nal);
            p
        } else {
            let mut p = modex(0x97, nanos, 1);
            p.extend_from_slice(b"mp4a");
            p.extend_from_slice(&n.to_be_bytes());
            p.extend_from_slice(&[0x21, 0x10, 0x04]);
            p
        };
        out.push((message(kind, ms, payload), nanos));
    }
    out
}

#[test]
fn modex_frames_reach_players_byte_identical_and_refine_hls_times() {
    let mut sim = Sim::from_env(2024);
    sim.set_transcript(false);
    let (_server, rtmp) = start(&sim, Some("hls { enabled on; hls_fragment 2; }"));
    let plan = media();
    let messages: Vec<RawMessage> = plan.iter().map(|(m, _)| m.clone()).collect();
    let player_host = sim.host(Ipv4Addr::new(10, 0, 2, 1));
    let mut early = PlayerOptions::new("live", "nano");
    early.keep_records = true;
    early.stop_at = Some(secs(14));
    let early = SimPlayer::spawn(&player_host, rtmp, early);
    sim.run_for(secs(1)).unwrap();
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "nano").ending(PublishEnd::Hold),
        messages.clone(),
    );
    sim.run_for(secs(5)).unwrap();
    let mut late = PlayerOptions::new("live", "nano");
    late.expect = Some(publisher.shared_log());
    late.stop_at = Some(secs(14));
    let late = SimPlayer::spawn(&player_host, rtmp, late);
    sim.run_until(secs(14)).unwrap();

    // The early player: every message, in order, at its own timestamp
    // (the publish starts at 0), byte-identical (length and digest).
    let sent: Vec<(MessageType, u64, usize, u64)> = messages
        .iter()
        .map(|m| (m.type_id, m.timestamp, m.payload.len(), digest(&m.payload)))
        .collect();
    let got: Vec<(MessageType, u64, usize, u64)> = early
        .log()
        .records
        .iter()
        .filter(|r| r.kind != MessageType::DataAmf0)
        .map(|r| (r.kind, r.timestamp, r.len, r.digest))
        .collect();
    assert!(got.len() > 480, "{} messages", got.len());
    assert!(
        sent.starts_with(&got),
        "the early player's messages differ from the published ones"
    );
    // Only the newest merged write may still wait (the publisher holds).
    assert!(
        sent.len() - got.len() < 40,
        "{} of {}",
        got.len(),
        sent.len()
    );
    let log = early.log();
    assert!(log.is_clean(), "{:?}", log.first_problem);
    let headers = log.records.iter().filter(|r| r.sequence_header).count();
    assert_eq!(headers, 2, "the ModEx sequence headers are headers");
    let early_config = log.config_messages;

    // The late joiner: from a key frame, every frame matched to the
    // publisher's (digest, length, timestamp at its offset), nothing else.
    let log = late.log();
    assert!(log.is_clean(), "{:?}", log.first_problem);
    assert!(log.matched > 200, "{} matched", log.matched);
    assert_eq!(log.config_messages, early_config, "the same headers first");

    // HLS: every PES at its ms time at 90 kHz plus the offset's ticks.
    let mut offset_at: HashMap<(bool, u64), u32> = HashMap::new();
    for (m, nanos) in &plan {
        offset_at.insert((m.type_id == MessageType::Video, m.timestamp), *nanos);
    }
    let segs = segments(&sim, PLAYLIST);
    assert!(segs.len() >= 3, "{} segments", segs.len());
    let mut refined = 0;
    for (uri, data) in &segs {
        for pes in pes_times(data).values() {
            let video = pes.stream_id == 0xe0;
            for &(pts, dts) in &pes.times {
                let ms = dts / 90;
                let nanos = offset_at
                    .get(&(video, ms))
                    .unwrap_or_else(|| panic!("{uri}: PES at {dts} is no message's time"));
                let ticks = u64::from(*nanos) * 90 / 1_000_000;
                assert_eq!(dts, ms * 90 + ticks, "{uri}: video {video}, {ms} ms");
                assert_eq!(pts, dts, "no composition offset was sent");
                refined += usize::from(ticks > 0);
            }
        }
    }
    assert!(refined > 100, "{refined} PES refined");
    // Segment durations stay on the millisecond timestamps: each EXTINF
    // is a cut-to-cut span of whole key frame times (every 60 frames).
    let text = String::from_utf8(sim.fs().read(PLAYLIST).unwrap().to_vec()).unwrap();
    let durations: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .collect();
    assert!(
        durations.iter().take(3).all(|d| d.starts_with("2.002")),
        "{text}"
    );
}
