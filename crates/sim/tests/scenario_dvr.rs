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
