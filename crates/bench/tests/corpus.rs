//! The load tool's parsers on real files from the shared corpus (skipped,
//! with a notice, when the corpus is absent).

mod common;

use bench::playlist::{self, Playlist};
use bench::publisher::{self as publisher, Clip};
use bytes::Bytes;
use media_core::flv::{AudioTagHeader, TagScanner, VideoTagHeader};
use media_core::MediaKind;

fn is_picture(body: &[u8]) -> bool {
    VideoTagHeader::parse(body).is_ok_and(|(h, _)| h.is_picture())
}

#[test]
fn srs_bbb_flv_reads_as_published() {
    let Some(data) = common::corpus_file("media/srs_bbb.flv") else {
        return;
    };
    let file = Bytes::from(data);
    let tags = publisher::read_flv(file.clone()).unwrap();
    // PROVENANCE.md: 686 tags, H.264 + AAC, 10.0 s.
    assert_eq!(tags.len(), 686);
    assert_eq!(tags[0].kind, MediaKind::Data);
    let video: Vec<_> = tags.iter().filter(|t| t.kind == MediaKind::Video).collect();
    let audio: Vec<_> = tags.iter().filter(|t| t.kind == MediaKind::Audio).collect();
    assert!(VideoTagHeader::parse(&video[0].payload)
        .unwrap()
        .0
        .is_sequence_header());
    assert!(AudioTagHeader::parse(&audio[0].payload)
        .unwrap()
        .0
        .is_sequence_header());
    // Pictures between the sequence header and the closing AVC end of
    // sequence (packet type 2), which is no picture.
    let (last, pictures) = video[1..].split_last().unwrap();
    assert!(pictures.iter().all(|t| is_picture(&t.payload)));
    assert_eq!(last.payload.get(1), Some(&2));
    assert!(!is_picture(&last.payload));
    let clip = Clip::new(tags.clone());
    let loop_s = clip.loop_ms() as f64 / 1000.0;
    assert!((9.9..=10.2).contains(&loop_s), "loop of {loop_s} s");
    // The scanner, fed in odd pieces, finds the same tags and the same
    // pictures from the start of each body.
    let mut scanned = Vec::new();
    let mut scanner = TagScanner::new();
    for mut piece in file.chunks(1000) {
        while let Some(t) = scanner.scan(&mut piece).unwrap() {
            scanned.push((
                t.header.tag_type.media_kind(),
                u64::from(t.header.timestamp),
                is_picture(t.body_start()),
            ));
        }
    }
    let expected: Vec<_> = tags
        .iter()
        .map(|t| (Some(t.kind), t.timestamp, is_picture(&t.payload)))
        .collect();
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
