//! FLV reader: iterate every tag of arbitrary bytes (with and without a valid
//! file header), parse each audio/video tag header, classify each message,
//! and parse script tags as onMetaData. Nothing may panic; the iteration must
//! end; a header's length never exceeds its body. The same bytes through the
//! live-stream `TagScanner`, whole and in pieces: it finds the same tags in
//! any split, and every tag the reader reads whole, in order.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use media_core::flv::{
    legacy_audio, legacy_video, single_track_audio, single_track_video, AudioTagHeader, FlvReader,
    FlvWriter, ScannedTag, TagScanner, TagType, Tracks, VideoTagHeader, BODY_START_LEN,
    MAX_TRACKS_PER_MESSAGE,
};
use media_core::metadata::Metadata;
use media_core::{MediaKind, MediaMessage};

/// Walks an E-RTMP multitrack message's tracks and rebuilds each in its
/// single-track and legacy forms: bounded, and every track inside the body.
fn check_tracks(tag_type: TagType, body: &[u8]) {
    if tag_type == TagType::Video {
        if let Ok(Some((h, tracks))) = Tracks::of_video(body) {
            let mut n = 0;
            for t in tracks {
                n += 1;
                assert!(n <= MAX_TRACKS_PER_MESSAGE + 1);
                let Ok(t) = t else { break };
                assert!(t.body.len() <= body.len());
                if let Some(single) = single_track_video(h.frame_type, h.payload_type(), &t) {
                    let _ = VideoTagHeader::parse(&single);
                }
                let _ = legacy_video(h.frame_type, h.payload_type(), t.fourcc, t.body);
            }
        }
    } else if let Ok(Some((h, tracks))) = Tracks::of_audio(body) {
        let inner = h.multitrack.map(|(_, inner)| inner);
        for t in tracks.take(MAX_TRACKS_PER_MESSAGE + 1) {
            let Ok(t) = t else { break };
            assert!(t.body.len() <= body.len());
            if let Some(inner) = inner {
                if let Some(single) = single_track_audio(inner, &t) {
                    let _ = AudioTagHeader::parse(&single);
                }
                let _ = legacy_audio(inner, t.fourcc, t.body);
            }
        }
    }
}

fn check_body(tag_type: TagType, body: Bytes) {
    check_tracks(tag_type, &body);
    match tag_type {
        TagType::Video => {
            if let Ok((h, len)) = VideoTagHeader::parse(&body) {
                assert!(len <= body.len());
                assert!(!(h.is_keyframe() && h.is_sequence_header()));
            }
            let _ = MediaMessage::new(MediaKind::Video, 0, body);
        }
        TagType::Audio => {
            if let Ok((_, len)) = AudioTagHeader::parse(&body) {
                assert!(len <= body.len());
            }
            let _ = MediaMessage::new(MediaKind::Audio, 0, body);
        }
        _ => {
            let _ = Metadata::parse(&body);
        }
    }
}

/// Every tag the scanner finds in `data` fed `piece` bytes at a time, and
/// whether it refused the stream.
fn scan(data: &[u8], piece: usize) -> (Vec<ScannedTag>, bool) {
    let mut scanner = TagScanner::new();
    let mut tags = Vec::new();
    for mut chunk in data.chunks(piece) {
        loop {
            match scanner.scan(&mut chunk) {
                Ok(Some(tag)) => {
                    assert!(tags.len() < data.len(), "every tag consumes bytes");
                    let start = tag.body_start();
                    assert_eq!(
                        start.len(),
                        BODY_START_LEN.min(tag.header.data_size as usize)
                    );
                    tags.push(tag);
                }
                Ok(None) => {
                    assert!(chunk.is_empty());
                    break;
                }
                Err(_) => return (tags, true),
            }
        }
    }
    (tags, false)
}

fuzz_target!(|data: &[u8]| {
    // The input as a whole file, and behind a valid header.
    let mut framed = FlvWriter::file_header(true, true).to_vec();
    framed.extend_from_slice(data);
    for file in [Bytes::copy_from_slice(data), Bytes::from(framed)] {
        let whole = scan(&file, file.len().max(1));
        let split = usize::from(file.first().copied().unwrap_or(0) % 16) + 1;
        assert_eq!(scan(&file, split), whole, "same tags in any split");
        let Ok(reader) = FlvReader::new(file.clone()) else {
            continue;
        };
        let mut tags = 0usize;
        for tag in reader {
            tags += 1;
            assert!(tags <= file.len() / 11 + 1, "every tag consumes bytes");
            let Ok(tag) = tag else { break };
            let scanned = whole.0.get(tags - 1).expect("the scanner found it too");
            assert_eq!(
                (scanned.header.tag_type, scanned.header.timestamp),
                (tag.tag_type, tag.timestamp)
            );
            assert!(tag.body.starts_with(scanned.body_start()));
            check_body(tag.tag_type, tag.body);
        }
    }
    // The input as a bare RTMP message body.
    check_body(TagType::Video, Bytes::copy_from_slice(data));
    check_body(TagType::Audio, Bytes::copy_from_slice(data));
});
