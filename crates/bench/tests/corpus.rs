//! The load tool's parsers on real files from the shared corpus (skipped,
//! with a notice, when the corpus is absent).

mod common;

use bench::flv::{self, TagScanner};
use bench::playlist::{self, Playlist};
use bench::publisher::Clip;
use bytes::Bytes;
use rtmp_proto::MessageType;

#[test]
fn srs_bbb_flv_reads_as_published() {
    let Some(data) = common::corpus_file("media/srs_bbb.flv") else {
        return;
    };
    let file = Bytes::from(data);
    let tags = flv::read_file(&file).unwrap();
    // PROVENANCE.md: 686 tags, H.264 + AAC, 10.0 s.
    assert_eq!(tags.len(), 686);
    assert_eq!(tags[0].kind, MessageType::DataAmf0);
    let video: Vec<_> = tags
        .iter()
        .filter(|t| t.kind == MessageType::Video)
        .collect();
    let audio: Vec<_> = tags
        .iter()
        .filter(|t| t.kind == MessageType::Audio)
        .collect();
    assert!(flv::is_video_sequence_header(&video[0].data));
    assert!(flv::is_aac_sequence_header(&audio[0].data));
    // Pictures between the sequence header and the closing AVC end of
    // sequence (packet type 2), which is no picture.
    let (last, pictures) = video[1..].split_last().unwrap();
    assert!(pictures.iter().all(|t| flv::is_video_frame(&t.data)));
    assert_eq!(last.data.get(1), Some(&2));
    assert!(!flv::is_video_frame(&last.data));
    let clip = Clip::new(tags.clone());
    let loop_s = clip.loop_ms() as f64 / 1000.0;
    assert!((9.9..=10.2).contains(&loop_s), "loop of {loop_s} s");
    // The scanner, fed in odd pieces, finds the same tags.
    let mut scanned = Vec::new();
    let mut scanner = TagScanner::new();
    for piece in file.chunks(1000) {
        scanner
            .push(piece, |t| {
                scanned.push((t.header.tag_type, t.header.timestamp))
            })
            .unwrap();
    }
    let expected: Vec<(u8, u32)> = tags.iter().map(|t| (t.kind.id(), t.timestamp)).collect();
    assert_eq!(scanned, expected);
}

#[test]
fn corpus_playlists_parse() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let mut seen = 0;
    for sub in ["m3u8-rs", "ireader"] {
        for entry in std::fs::read_dir(dir.join("hls_playlists").join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let parsed = playlist::parse(&text)
                .unwrap_or_else(|| panic!("{} does not parse", path.display()));
            let variants = text.matches("#EXT-X-STREAM-INF").count();
            let segments = text.matches("#EXTINF").count();
            match parsed {
                Playlist::Master(v) => assert_eq!(v.len(), variants, "{}", path.display()),
                Playlist::Media(m) => {
                    assert_eq!(variants, 0, "{}", path.display());
                    assert_eq!(m.segments.len(), segments, "{}", path.display());
                }
            }
            seen += 1;
        }
    }
    assert!(seen >= 27, "only {seen} playlists");
}
