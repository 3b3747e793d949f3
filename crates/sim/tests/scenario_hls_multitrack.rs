//! HLS of an E-RTMP v2 multitrack stream through the real server, in
//! virtual time: track 0 published in legacy form, track 1 (video and
//! audio) as OneTrack multitrack messages, as ffmpeg does.
//! - The stream's own playlist is track 0's, muxed; beside it a master
//!   playlist names a video-only playlist per track and an audio group of
//!   audio-only playlists; each rendition's segments hold its one track.
//! - A republish after the sink ended (parked) continues every rendition's
//!   numbering after a discontinuity.
//! - `hls_dispose` of the parked stream removes every file.

mod scenario_support;

use std::net::Ipv4Addr;

use bytes::Bytes;
use rtmp_proto::message::{MessageType, RawMessage};
use scenario_support::{pes_times, secs, segments, start, Synthetic};
use sim::client::{PublishEnd, PublisherOptions, SimPublisher};
use sim::Sim;

const CONFIG: &str =
    "hls { enabled on; hls_path /hls; hls_fragment 2; hls_window 60; hls_dispose 40; }";
const MASTER: &str = "/hls/live/cam_master.m3u8";

/// A legacy AVC/AAC message as the same message of track 1 in a OneTrack
/// multitrack message (`avc1`/`mp4a` bodies are the legacy ones after
/// their header bytes).
fn as_track_1(msg: &RawMessage) -> RawMessage {
    let p = &msg.payload;
    let mut out = Vec::with_capacity(p.len() + 8);
    if msg.type_id == MessageType::Video {
        let frame_type = p[0] >> 4;
        // AVCPacketType 0 -> SequenceStart, 1 -> CodedFrames (with its
        // composition time, as the legacy body has it).
        out.extend_from_slice(&[0x80 | (frame_type << 4) | 6, p[1]]);
        out.extend_from_slice(b"avc1");
        out.push(1);
        out.extend_from_slice(if p[1] == 0 { &p[5..] } else { &p[2..] });
    } else {
        out.extend_from_slice(&[0x90 | 5, p[1]]);
        out.extend_from_slice(b"mp4a");
        out.push(1);
        out.extend_from_slice(&p[2..]);
    }
    RawMessage {
        payload: Bytes::from(out),
        ..msg.clone()
    }
}

/// 9 s of track 0 (legacy) with track 1 after each of its messages.
fn media() -> Vec<RawMessage> {
    Synthetic::default()
        .messages(secs(9))
        .into_iter()
        .flat_map(|m| {
            let one = as_track_1(&m);
            [m, one]
        })
        .collect()
}

fn publish(sim: &Sim, host: u8, rtmp: std::net::SocketAddr) -> SimPublisher {
    SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 0, host)),
        rtmp,
        PublisherOptions::new("live", "cam").ending(PublishEnd::Unpublish),
        media(),
    )
}

fn text(sim: &Sim, path: &str) -> String {
    let bytes = sim.fs().read(path).unwrap_or_default();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn renditions_are_listed_parked_continued_and_disposed() {
    let mut sim = Sim::from_env(71);
    let (server, rtmp) = start(&sim, Some(CONFIG));
    let t0 = sim.now();
    let _first = publish(&sim, 2, rtmp);

    sim.run_until(t0 + secs(12)).unwrap();
    let master = text(&sim, MASTER);
    assert_eq!(master.matches("#EXT-X-STREAM-INF:").count(), 2, "{master}");
    assert_eq!(
        master
            .matches("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\"")
            .count(),
        2,
        "{master}"
    );
    assert!(master.contains("RESOLUTION=160x120,CODECS=\"avc1.42d00b,mp4a.40.2\""));
    for uri in ["cam_v0.m3u8", "cam_v1.m3u8", "cam_a0.m3u8", "cam_a1.m3u8"] {
        assert!(master.contains(uri), "{uri}: {master}");
    }

    let main = segments(&sim, "/hls/live/cam.m3u8");
    let v1 = segments(&sim, "/hls/live/cam_v1.m3u8");
    let a1 = segments(&sim, "/hls/live/cam_a1.m3u8");
    assert!(main.len() >= 4, "{} segments of track 0", main.len());
    assert!(
        v1.len() >= 4 && a1.len() >= 4,
        "{} and {}",
        v1.len(),
        a1.len()
    );
    assert!(v1[0].0.starts_with("cam_v1-") && a1[0].0.starts_with("cam_a1-"));
    // Track 0 muxed (two elementary streams); a rendition holds one.
    let streams = |ts: &Bytes| pes_times(ts).len();
    assert!(main.iter().all(|(_, ts)| streams(ts) == 2));
    assert!(v1.iter().chain(&a1).all(|(_, ts)| streams(ts) == 1));

    // Past the republish grace the sink ends; a republish continues every
    // playlist after a discontinuity.
    sim.run_until(t0 + secs(25)).unwrap();
    assert!(server.ctx().hls.active().is_empty(), "the sink still waits");
    let before = v1.len();
    let t1 = sim.now();
    let _second = publish(&sim, 3, rtmp);
    sim.run_until(t1 + secs(12)).unwrap();
    for name in ["cam_v1", "cam_a0"] {
        let playlist = text(&sim, &format!("/hls/live/{name}.m3u8"));
        assert_eq!(
            playlist.matches("#EXT-X-DISCONTINUITY\n").count(),
            1,
            "{playlist}"
        );
        assert!(playlist.contains("#EXT-X-MEDIA-SEQUENCE:0\n"), "{playlist}");
    }
    assert!(segments(&sim, "/hls/live/cam_v1.m3u8").len() > before);

    // hls_dispose, 40 s after the second unpublish and the sink parked:
    // every rendition's files and the master go with the stream's own.
    sim.run_until(t1 + secs(9 + 40 + 11)).unwrap();
    let left = sim.fs().files_under("/hls");
    assert!(left.is_empty(), "hls_dispose left {left:?}");
}
