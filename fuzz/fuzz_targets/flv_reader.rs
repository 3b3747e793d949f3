//! FLV reader: iterate every tag of arbitrary bytes (with and without a valid
//! file header), parse each audio/video tag header, classify each message,
//! and parse script tags as onMetaData. Nothing may panic; the iteration must
//! end; a header's length never exceeds its body.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use media_core::flv::{AudioTagHeader, FlvReader, FlvWriter, TagType, VideoTagHeader};
use media_core::metadata::Metadata;
use media_core::{MediaKind, MediaMessage};

fn check_body(tag_type: TagType, body: Bytes) {
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

fuzz_target!(|data: &[u8]| {
    // The input as a whole file, and behind a valid header.
    let mut framed = FlvWriter::file_header(true, true).to_vec();
    framed.extend_from_slice(data);
    for file in [Bytes::copy_from_slice(data), Bytes::from(framed)] {
        let Ok(reader) = FlvReader::new(file.clone()) else {
            continue;
        };
        let mut tags = 0usize;
        for tag in reader {
            tags += 1;
            assert!(tags <= file.len() / 11 + 1, "every tag consumes bytes");
            let Ok(tag) = tag else { break };
            check_body(tag.tag_type, tag.body);
        }
    }
    // The input as a bare RTMP message body.
    check_body(TagType::Video, Bytes::copy_from_slice(data));
    check_body(TagType::Audio, Bytes::copy_from_slice(data));
});
