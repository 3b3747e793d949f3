//! Property tests for FLV: what the writer writes the reader reads back
//! exactly, and no input makes a parser panic or loop.

use bytes::Bytes;
use media_core::flv::{
    AudioTagHeader, FlvError, FlvReader, FlvWriter, TagHeader, TagType, VideoTagHeader,
};
use media_core::{MediaKind, MediaMessage};
use proptest::prelude::*;

fn tag_type() -> impl Strategy<Value = TagType> {
    prop_oneof![
        Just(TagType::Audio),
        Just(TagType::Video),
        Just(TagType::Script),
        (0u8..32).prop_map(TagType::from_id),
    ]
}

proptest! {
    #[test]
    fn writer_then_reader_round_trips(
        has_audio: bool,
        has_video: bool,
        tags in prop::collection::vec(
            (tag_type(), any::<u32>(), prop::collection::vec(any::<u8>(), 0..300)),
            0..20,
        ),
    ) {
        let mut w = FlvWriter::new(has_audio, has_video);
        for (t, ts, body) in &tags {
            w.write_tag(*t, *ts, body).unwrap();
        }
        let data = w.finish();
        let reader = FlvReader::new(data).unwrap();
        prop_assert_eq!(reader.header().has_audio, has_audio);
        prop_assert_eq!(reader.header().has_video, has_video);
        let read: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(read.len(), tags.len());
        for (r, (t, ts, body)) in read.iter().zip(&tags) {
            prop_assert_eq!(r.tag_type, *t);
            prop_assert_eq!(r.timestamp, *ts);
            prop_assert_eq!(&r.body[..], &body[..]);
            prop_assert_eq!(r.previous_tag_size, Some(body.len() as u32 + 11));
        }
    }

    #[test]
    fn messages_round_trip_through_the_writer(
        msgs in prop::collection::vec(
            (0u8..3, any::<u64>(), prop::collection::vec(any::<u8>(), 0..64)),
            0..10,
        ),
    ) {
        let kinds = [MediaKind::Audio, MediaKind::Video, MediaKind::Data];
        let mut w = FlvWriter::new(true, true);
        let msgs: Vec<MediaMessage> = msgs
            .into_iter()
            .map(|(k, ts, p)| MediaMessage::new(kinds[usize::from(k)], ts, Bytes::from(p)))
            .collect();
        for m in &msgs {
            w.write_message(m).unwrap();
        }
        let read: Vec<_> = FlvReader::new(w.finish()).unwrap().collect::<Result<_, _>>().unwrap();
        for (r, m) in read.iter().zip(&msgs) {
            let kind = match r.tag_type {
                TagType::Audio => MediaKind::Audio,
                TagType::Video => MediaKind::Video,
                _ => MediaKind::Data,
            };
            let again = MediaMessage::new(kind, u64::from(r.timestamp), r.body.clone());
            prop_assert_eq!(again.kind, m.kind);
            prop_assert_eq!(again.timestamp, m.timestamp & 0xFFFF_FFFF);
            prop_assert_eq!(again.flags, m.flags);
            prop_assert_eq!(&again.payload, &m.payload);
        }
    }

    #[test]
    fn tag_headers_round_trip(
        t in tag_type(),
        filter: bool,
        data_size in 0u32..0x0100_0000,
        timestamp: u32,
        stream_id in 0u32..0x0100_0000,
    ) {
        let h = TagHeader { tag_type: t, filter, data_size, timestamp, stream_id };
        prop_assert_eq!(TagHeader::parse(&h.to_bytes().unwrap()).unwrap(), h);
    }

    #[test]
    fn reader_survives_arbitrary_bytes(
        valid_header: bool,
        rest in prop::collection::vec(any::<u8>(), 0..2000),
    ) {
        let mut data = if valid_header {
            FlvWriter::file_header(true, true).to_vec()
        } else {
            Vec::new()
        };
        data.extend_from_slice(&rest);
        let total = data.len();
        if let Ok(reader) = FlvReader::new(data) {
            let mut consumed = reader.position();
            let mut results = 0;
            for t in reader {
                results += 1;
                prop_assert!(results <= total / 11 + 1, "every tag consumes bytes");
                match t {
                    Ok(t) => {
                        consumed += 11 + t.body.len() + t.previous_tag_size.map_or(0, |_| 4);
                        prop_assert!(consumed <= total);
                    }
                    Err(e) => {
                        let truncation =
                            matches!(e, FlvError::TagPastEnd { .. } | FlvError::Truncated(_));
                        prop_assert!(truncation, "{:?}", e);
                    }
                }
            }
        }
    }

    #[test]
    fn tag_header_parsers_never_panic(body in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok((h, len)) = VideoTagHeader::parse(&body) {
            prop_assert!(len >= 1 && len <= body.len());
            prop_assert!(!(h.is_keyframe() && h.is_sequence_header()));
        }
        if let Ok((_, len)) = AudioTagHeader::parse(&body) {
            prop_assert!(len >= 1 && len <= body.len());
        }
        for kind in [MediaKind::Audio, MediaKind::Video, MediaKind::Data] {
            let m = MediaMessage::new(kind, 0, Bytes::from(body.clone()));
            prop_assert!(kind == MediaKind::Video || !m.is_keyframe());
        }
    }
}
