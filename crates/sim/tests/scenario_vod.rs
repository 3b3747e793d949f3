//! VOD over RTMP on virtual time: a file in the simulated file system is
//! played at its own pace (frames go out no more than the lead ahead of
//! their timestamps, and all of them arrive), through the runtime's
//! `FileSystem`, so the pacing is checked without a real clock.

mod scenario_support;

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use media_core::flv::FlvWriter;
use media_core::{MediaKind, MediaMessage};
use rtmp_proto::message::MessageType;
use scenario_support::{secs, start, AAC_SEQUENCE_HEADER, AVC_SEQUENCE_HEADER};
use sim::client::{PlayerOptions, SimPlayer};
use sim::Sim;

/// How far ahead of its time a frame may be sent (the playback's lead).
const LEAD: Duration = Duration::from_millis(1000);

/// 6 s of 25 fps video (a key frame a second) and AAC every 46 ms, as FLV.
fn file() -> Bytes {
    let mut w = FlvWriter::new(true, true);
    let mut push = |kind, ts, body: Vec<u8>| {
        w.write_message(&MediaMessage::new(kind, ts, Bytes::from(body)))
            .unwrap();
    };
    push(MediaKind::Video, 0, AVC_SEQUENCE_HEADER.to_vec());
    push(MediaKind::Audio, 0, AAC_SEQUENCE_HEADER.to_vec());
    let mut audio = 0;
    for i in 0..150u64 {
        let ts = i * 40;
        let key = i % 25 == 0;
        let nal = if key { 0x65 } else { 0x41 };
        let first = if key { 0x17 } else { 0x27 };
        push(
            MediaKind::Video,
            ts,
            vec![first, 1, 0, 0, 0, 0, 0, 0, 2, nal, i as u8],
        );
        while audio <= ts {
            push(MediaKind::Audio, audio, vec![0xaf, 1, 0x21, 0x10]);
            audio += 46;
        }
    }
    w.finish()
}

#[test]
fn a_file_plays_at_its_own_pace_to_the_end() {
    let mut sim = Sim::from_env(41);
    let (_server, rtmp) = start(&sim, Some("vod { enabled on; dir vod; }"));
    sim.fs()
        .write_file(Path::new("vod/live/rec.flv"), &[file()])
        .unwrap();
    let player = SimPlayer::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 2, 1)),
        rtmp,
        PlayerOptions::new("live", "rec.flv"),
    );
    sim.run_for(secs(3)).unwrap();
    // Three seconds in: what is due up to 3 s plus the lead, no more.
    let (first_at, latest) = player.with_log(|l| {
        assert!(l.is_clean(), "{:?}", l.first_problem);
        let first = l.first_frame.expect("frames");
        let latest = l.last_frame.expect("frames").timestamp;
        (first.at, latest)
    });
    let elapsed = sim.now().saturating_sub(first_at);
    let ahead = Duration::from_millis(latest).saturating_sub(elapsed);
    assert!(
        ahead <= LEAD + Duration::from_millis(100),
        "{ahead:?} ahead"
    );
    assert!(latest >= 2500, "only {latest} ms after {elapsed:?}");
    sim.run_for(secs(6)).unwrap();
    player.with_log(|l| {
        assert!(l.is_clean(), "{:?}", l.first_problem);
        let video: Vec<_> = l
            .records
            .iter()
            .filter(|r| r.kind == MessageType::Video && !r.sequence_header)
            .collect();
        assert_eq!(video.len(), 150, "every frame");
        // No frame before its time (minus the lead).
        for r in &video {
            let due = first_at + Duration::from_millis(r.timestamp);
            assert!(r.at + LEAD + Duration::from_millis(50) >= due, "{r:?}");
        }
        let stopped = l.statuses.iter().any(|(_, c)| c == "NetStream.Play.Stop");
        assert!(stopped, "{:?}", l.statuses);
    });
}
