//! DVR's segment plan on the virtual clock: a 25 s publish with a key frame
//! every 2 s and `dvr_duration 5` becomes files cut at the key frames at 6,
//! 12, 18 and 24 s, each starting with the headers and a key frame at 0,
//! together holding every frame sent, none left as `.tmp`.

mod scenario_support;

use std::net::Ipv4Addr;

use media_core::flv::{FlvReader, TagType, VideoTagHeader};
use scenario_support::{secs, start, Synthetic};
use sim::client::{PublishEnd, PublisherOptions, SimPublisher};
use sim::Sim;

#[test]
fn segment_plan_cuts_files_at_key_frames_after_dvr_duration() {
    let mut sim = Sim::from_env(19);
    let (_server, rtmp) = start(
        &sim,
        Some(
            "dvr { enabled on; dvr_plan segment; dvr_duration 5; \
             dvr_path objs/dvr/[app]/[stream]-[timestamp].flv; }",
        ),
    );
    let media = Synthetic::default();
    let sent = media.messages(secs(25));
    let sent_video = sent
        .iter()
        .filter(|m| m.type_id == rtmp_proto::message::MessageType::Video)
        .count()
        - 1;
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "cam").ending(PublishEnd::Unpublish),
        sent,
    );
    sim.run_until(secs(40)).unwrap();
    assert!(publisher.is_finished());

    let mut files = sim.fs().files_under("objs/dvr");
    files.sort();
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("objs/dvr/live/cam-") && n.ends_with(".flv")),
        "{names:?}"
    );
    assert_eq!(files.len(), 5, "{names:?}");
    let mut video_frames = 0;
    for (i, file) in files.iter().enumerate() {
        let data = sim.fs().read(file).expect("file");
        let reader = FlvReader::new(data).expect("an FLV header");
        let tags: Vec<_> = reader.map(|t| t.expect("whole tags")).collect();
        let video: Vec<_> = tags
            .iter()
            .filter(|t| t.tag_type == TagType::Video)
            .map(|t| {
                (
                    t.timestamp,
                    VideoTagHeader::parse(&t.body).expect("video").0,
                )
            })
            .collect();
        // The sequence header first, then a key frame, both at 0.
        assert!(video[0].1.is_sequence_header(), "file {i}");
        assert!(video[1].1.is_keyframe(), "file {i}");
        assert_eq!((video[0].0, video[1].0), (0, 0), "file {i}");
        let pictures: Vec<_> = video.iter().filter(|(_, h)| h.is_picture()).collect();
        video_frames += pictures.len();
        let span = pictures.last().map(|(t, _)| *t).unwrap_or_default();
        if i < 4 {
            // 6 s of 25 fps video: 150 frames, the last at 5960 ms.
            assert_eq!((pictures.len(), span), (150, 5960), "file {i}");
        }
    }
    assert_eq!(video_frames, sent_video, "every frame sent is in a file");
}

fn vhost_config(dvr: &str) -> server_core::Config {
    server_core::config::parse_str(
        "scenario.conf",
        &format!("listen 1935;\nvhost __defaultVhost__ {{\n{dvr}\n}}\n"),
    )
    .expect("scenario config parses")
}

/// Reloads switch recording on and off for a stream being published: a
/// file from the reload that enabled it to the one that disabled it,
/// completed (renamed) at once.
#[test]
fn reloads_start_and_stop_recording_a_running_stream() {
    let mut sim = Sim::from_env(20);
    let path = "dvr_path objs/dvr/[stream]-[timestamp].flv;";
    let off = format!("dvr {{ enabled off; {path} }}");
    let on = format!("dvr {{ enabled on; {path} }}");
    let (server, rtmp) = start(&sim, Some(&off));
    let _publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "cam").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(30)),
    );
    sim.run_for(secs(3)).unwrap();
    assert!(sim.fs().files_under("objs/dvr").is_empty());
    let reload = |sim: &mut Sim, text: &str| {
        let ctx = server.ctx().clone();
        let config = vhost_config(text);
        let report = sim
            .block_on(async move { server_core::reload::apply(&ctx, config).await })
            .expect("reload runs");
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert!(
            report.changes.iter().any(|c| c.contains(" dvr: ")),
            "{:?}",
            report.changes
        );
    };
    reload(&mut sim, &on);
    sim.run_for(secs(6)).unwrap();
    let files = sim.fs().files_under("objs/dvr");
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].display().to_string().ends_with(".flv.tmp"),
        "{files:?}"
    );
    reload(&mut sim, &off);
    sim.run_for(secs(2)).unwrap();
    let files = sim.fs().files_under("objs/dvr");
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].display().to_string();
    assert!(
        name.starts_with("objs/dvr/cam-") && name.ends_with(".flv"),
        "{name}"
    );
    let tags: Vec<_> = FlvReader::new(sim.fs().read(&files[0]).unwrap())
        .unwrap()
        .map(|t| t.unwrap())
        .filter(|t| t.tag_type == TagType::Video)
        .collect();
    // A recorder joining a running stream starts, as a player does, at the
    // cached GOP's key frame (at 2 s), and ends at the second reload (9 s).
    let span = tags.last().unwrap().timestamp;
    assert!((6800..=7000).contains(&span), "{span} ms");
    sim.run_for(secs(3)).unwrap();
    assert_eq!(
        sim.fs().files_under("objs/dvr").len(),
        1,
        "no new file while off"
    );
}

/// `dvr_wait_keyframe off`: a file ends at the first message past
/// `dvr_duration`, key frame or not (SRS's behaviour; the next file starts
/// with the headers, then mid-GOP).
#[test]
fn without_wait_keyframe_files_are_cut_at_dvr_duration() {
    let mut sim = Sim::from_env(21);
    let (_server, rtmp) = start(
        &sim,
        Some(
            "dvr { enabled on; dvr_plan segment; dvr_duration 5; dvr_wait_keyframe off; \
             dvr_path objs/dvr/[stream]-[timestamp].flv; }",
        ),
    );
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "cam").ending(PublishEnd::Unpublish),
        Synthetic::default().messages(secs(21)),
    );
    sim.run_until(secs(35)).unwrap();
    assert!(publisher.is_finished());
    let mut files = sim.fs().files_under("objs/dvr");
    files.sort();
    // 0-5, 5-10, 10-15, 15-20, 20-21.
    assert_eq!(files.len(), 5, "{files:?}");
    for (i, file) in files.iter().enumerate().take(4) {
        let tags: Vec<_> = FlvReader::new(sim.fs().read(file).unwrap())
            .unwrap()
            .map(|t| t.unwrap())
            .filter(|t| t.tag_type != TagType::Script)
            .collect();
        let last = tags.last().unwrap().timestamp;
        assert!((4950..=5000).contains(&last), "file {i}: {last} ms");
        let first_picture = tags
            .iter()
            .filter(|t| t.tag_type == TagType::Video)
            .map(|t| VideoTagHeader::parse(&t.body).unwrap().0)
            .find(|h| h.is_picture())
            .unwrap();
        // Only the first file starts at a key frame (5 s is mid-GOP).
        assert_eq!(first_picture.is_keyframe(), i == 0, "file {i}");
    }
}

/// An MP4 file declares its tracks' decoder configuration once: when the
/// publisher changes it (a new resolution), the recording goes on in a new
/// file; both are complete MP4 files.
#[test]
fn a_new_decoder_configuration_starts_a_new_mp4_file() {
    let mut sim = Sim::from_env(22);
    let (_server, rtmp) = start(
        &sim,
        Some("dvr { enabled on; dvr_path objs/dvr/[stream]-[timestamp].mp4; }"),
    );
    let media = Synthetic::default();
    let mut messages = media.messages(secs(10));
    let mut changed = scenario_support::AVC_SEQUENCE_HEADER.to_vec();
    changed[8] = 0x0c; // another level
    messages.push(rtmp_proto::message::RawMessage {
        csid: 0,
        timestamp: 10_000,
        type_id: rtmp_proto::message::MessageType::Video,
        stream_id: 0,
        payload: bytes::Bytes::from(changed),
    });
    messages.extend(media.frames(secs(10), secs(10)));
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "cam").ending(PublishEnd::Unpublish),
        messages,
    );
    sim.run_until(secs(30)).unwrap();
    assert!(publisher.is_finished());
    let files = sim.fs().files_under("objs/dvr");
    assert_eq!(files.len(), 2, "{files:?}");
    for file in &files {
        let name = file.display().to_string();
        assert!(name.ends_with(".mp4"), "{name}");
        let data = sim.fs().read(file).unwrap();
        assert_eq!(&data[4..8], b"ftyp", "{name}");
        // Completed: the mfra index closes it.
        let mfro_size = u32::from_be_bytes(data[data.len() - 4..].try_into().unwrap()) as usize;
        assert_eq!(&data[data.len() - mfro_size + 4..][..4], b"mfra", "{name}");
    }
}
