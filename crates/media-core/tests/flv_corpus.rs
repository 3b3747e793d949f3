//! The corpus FLV `media/srs_bbb.flv` (real encoder output shipped with SRS's
//! srs-bench; Big Buck Bunny, (c) Blender Foundation, CC-BY 3.0): every tag,
//! the AVC and AAC configurations, onMetaData, and conversion of every frame.

mod common;
mod flv_support;

use bytes::Bytes;
use flv_support::*;
use media_core::aac::{adts_header, AudioSpecificConfig};
use media_core::avc::{self, AvcConfig, Sps};
use media_core::flv::{
    AudioTagHeader, FlvReader, FlvWriter, SoundFormat, TagType, VideoCodec, VideoPacketType,
    VideoTagHeader,
};
use media_core::metadata::{CodecId, Metadata};
use media_core::{MediaKind, MediaMessage};

#[test]
fn srs_bbb_flv() {
    let Some(data) = common::corpus_file("media/srs_bbb.flv") else {
        return;
    };
    let data = Bytes::from(data);
    let reader = FlvReader::new(data.clone()).unwrap();
    assert!(reader.header().has_audio && reader.header().has_video);
    let tags = read_tags(data.clone());
    assert_eq!(tags.len(), 686);
    let count = |t: TagType| tags.iter().filter(|x| x.tag_type == t).count();
    assert_eq!(
        (
            count(TagType::Script),
            count(TagType::Video),
            count(TagType::Audio)
        ),
        (1, 252, 433)
    );
    let mut last = [0u32; 2];
    for t in &tags {
        assert_eq!(t.previous_tag_size, Some(t.body.len() as u32 + 11));
        let slot = usize::from(t.tag_type == TagType::Video);
        assert!(
            t.timestamp >= last[slot],
            "timestamps never go back per track"
        );
        last[slot] = t.timestamp;
    }
    assert!((10_000..10_200).contains(&last[1].max(last[0])));

    let meta = Metadata::parse(&tags[0].body).unwrap();
    assert_eq!((meta.width, meta.height), (Some(640.0), Some(360.0)));
    assert_eq!(meta.videocodecid, Some(CodecId::Id(7)));
    assert_eq!(meta.audiocodecid, Some(CodecId::Id(10)));
    assert_eq!(
        (meta.audiosamplerate, meta.stereo),
        (Some(44100.0), Some(true))
    );
    assert_eq!(meta.framerate, Some(25.0));
    assert!((meta.duration.unwrap() - 10.08).abs() < 0.01);
    assert_eq!(
        meta.get("major_brand").and_then(|v| v.as_str()),
        Some("isom")
    );

    // Video: Constrained Baseline 3.0, 640x360, every frame converts.
    let mut config = None;
    let mut annexb = Vec::new();
    let (mut frames, mut keys, mut ends) = (0, 0, 0);
    for t in tags.iter().filter(|t| t.tag_type == TagType::Video) {
        let (h, len) = VideoTagHeader::parse(&t.body).unwrap();
        assert_eq!(h.codec, VideoCodec::Avc);
        let msg = MediaMessage::new(MediaKind::Video, 0, t.body.clone());
        assert_eq!(msg.is_keyframe(), h.is_keyframe());
        assert_eq!(msg.is_sequence_header(), h.is_sequence_header());
        match h.packet_type {
            VideoPacketType::SequenceStart => {
                let c = AvcConfig::parse(&t.body[len..]).unwrap();
                assert_eq!((c.profile, c.level, c.nal_length_size), (66, 30, 4));
                let sps = Sps::parse(&c.sps[0]).unwrap();
                assert_eq!((sps.width, sps.height, sps.profile_idc), (640, 360, 66));
                config = Some(c);
            }
            VideoPacketType::CodedFrames => {
                let c = config.as_ref().expect("sequence header first");
                avc::to_annexb(c, &t.body[len..], h.is_keyframe(), &mut annexb).unwrap();
                frames += 1;
                keys += usize::from(h.is_keyframe());
            }
            VideoPacketType::SequenceEnd => ends += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((frames, ends), (250, 1));
    assert!(keys >= 1);

    // Audio: AAC LC 44.1 kHz stereo; every frame gets an ADTS header.
    let mut asc = None;
    let mut adts = Vec::new();
    for t in tags.iter().filter(|t| t.tag_type == TagType::Audio) {
        let (h, len) = AudioTagHeader::parse(&t.body).unwrap();
        assert_eq!(
            (h.sound_format, h.sample_rate(), h.channels()),
            (SoundFormat::Aac, 44100, 2)
        );
        if h.is_sequence_header() {
            let a = AudioSpecificConfig::parse(&t.body[len..]).unwrap();
            assert_eq!(
                (a.object_type, a.sample_rate(), a.channels()),
                (2, 44100, 2)
            );
            asc = Some(a);
        } else {
            let raw = &t.body[len..];
            adts.extend_from_slice(&adts_header(asc.as_ref().unwrap(), raw.len()).unwrap());
            adts.extend_from_slice(raw);
        }
    }

    // Written back, the file is byte for byte the same.
    let mut w = FlvWriter::new(true, true);
    for t in &tags {
        w.write_tag(t.tag_type, t.timestamp, &t.body).unwrap();
    }
    assert!(w.finish() == data);

    if !have_ffmpeg("srs_bbb_flv decoding checks") {
        return;
    }
    let dir = temp_dir("flv-corpus");
    let h264 = dir.join("bbb.h264");
    std::fs::write(&h264, &annexb).unwrap();
    let (errors, decoded) = decode_errors(&h264, Some("h264"));
    assert_eq!(errors, "");
    assert_eq!(decoded, frames);
    let aac = dir.join("bbb.aac");
    std::fs::write(&aac, &adts).unwrap();
    let (errors, decoded) = decode_errors(&aac, Some("aac"));
    assert_eq!(errors, "");
    assert_eq!(decoded, 432);
    std::fs::remove_dir_all(&dir).ok();
}
