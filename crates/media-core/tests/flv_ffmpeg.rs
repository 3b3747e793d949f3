//! FLV, onMetaData, AVC and AAC parsing against ffmpeg: a file ffmpeg writes
//! is read tag by tag, every header is parsed, what we find is compared with
//! what ffprobe says, the frames we convert (Annex-B, ADTS) must decode
//! cleanly, and the file we write back must probe the same.

mod flv_support;

use bytes::Bytes;
use flv_support::*;
use media_core::aac::{adts_header, AudioSpecificConfig};
use media_core::avc::{self, AvcConfig, Sps};
use media_core::flv::{
    AudioTagHeader, FlvError, FlvReader, FlvWriter, SoundFormat, Tag, TagType, VideoCodec,
    VideoPacketType, VideoTagHeader,
};
use media_core::metadata::{CodecId, Metadata};
use media_core::{MediaKind, MediaMessage};

/// 4 s of 640x360 25 fps H.264 (GOP 50) and 44.1 kHz AAC, as the brief says.
fn make_flv(dir: &std::path::Path) -> std::path::PathBuf {
    let file = dir.join("out.flv");
    let path = file.to_str().unwrap();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-t",
        "4",
        "-c:v",
        "libx264",
        "-g",
        "50",
        "-c:a",
        "aac",
        "-f",
        "flv",
        path,
    ])
    .expect("ffmpeg writes the test FLV");
    file
}

#[test]
fn ffmpeg_flv_reads_writes_and_converts() {
    if !have_ffmpeg("ffmpeg_flv_reads_writes_and_converts") {
        return;
    }
    let dir = temp_dir("flv-ffmpeg");
    let file = make_flv(&dir);
    let original = Bytes::from(std::fs::read(&file).unwrap());
    let probe = ffprobe_streams(&file, None);
    let (pv, pa) = (stream(&probe, "video"), stream(&probe, "audio"));

    let reader = FlvReader::new(original.clone()).unwrap();
    let header = reader.header();
    assert!(header.has_audio && header.has_video && header.version == 1);
    let tags: Vec<Tag> = reader.map(|t| t.unwrap()).collect();
    for t in &tags {
        assert_eq!(t.previous_tag_size, Some(t.body.len() as u32 + 11));
        assert_eq!(t.stream_id, 0);
    }

    // onMetaData agrees with ffprobe.
    let script = tags.iter().find(|t| t.tag_type == TagType::Script).unwrap();
    let meta = Metadata::parse(&script.body).unwrap();
    assert_eq!(meta.width, Some(f64::from(num(pv, "width"))));
    assert_eq!(meta.height, Some(f64::from(num(pv, "height"))));
    assert_eq!(meta.framerate, Some(25.0));
    assert_eq!(meta.videocodecid, Some(CodecId::Id(7)));
    assert_eq!(meta.audiocodecid, Some(CodecId::Id(10)));
    assert_eq!(
        meta.audiosamplerate,
        Some(f64::from(num(pa, "sample_rate")))
    );
    assert_eq!(meta.stereo, Some(num(pa, "channels") == 2));
    assert!(meta.encoder.as_deref().unwrap().starts_with("Lavf"));
    assert!(meta.duration.unwrap() > 3.9);

    check_video(&dir, &tags, pv, &file);
    check_audio(&dir, &tags, pa);

    // Written back tag by tag, the file is the same bytes and probes the same.
    let mut w = FlvWriter::new(header.has_audio, header.has_video);
    for t in &tags {
        w.write_tag(t.tag_type, t.timestamp, &t.body).unwrap();
    }
    let rewritten = w.finish();
    assert_eq!(rewritten.len(), original.len());
    assert!(rewritten == original, "FlvWriter reproduces ffmpeg's file");
    let copy = dir.join("rewritten.flv");
    std::fs::write(&copy, &rewritten).unwrap();
    let again = ffprobe_streams(&copy, None);
    for (kind, keys) in [
        (
            "video",
            &["codec_name", "profile", "width", "height", "level"][..],
        ),
        (
            "audio",
            &["codec_name", "profile", "sample_rate", "channels"][..],
        ),
    ] {
        for k in keys {
            assert_eq!(
                stream(&again, kind).get(*k),
                stream(&probe, kind).get(*k),
                "{kind} {k}"
            );
        }
    }
    let (errors, frames) = decode_errors(&copy, None);
    assert_eq!(errors, "");
    assert_eq!(frames, 100);

    // Cut anywhere, the reader yields the tags before the cut and then at
    // most one typed error.
    for cut in (0..original.len())
        .step_by(997)
        .chain(original.len() - 3..original.len())
    {
        let Ok(reader) = FlvReader::new(original.slice(..cut)) else {
            assert!(cut < 13);
            continue;
        };
        let mut ok = 0;
        let mut errors = 0;
        for t in reader {
            match t {
                Ok(t) => {
                    assert_eq!(
                        t,
                        Tag {
                            previous_tag_size: t.previous_tag_size,
                            ..tags[ok].clone()
                        }
                    );
                    ok += 1;
                }
                Err(FlvError::TagPastEnd { .. } | FlvError::Truncated(_)) => errors += 1,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert!(errors <= 1 && ok <= tags.len(), "cut {cut}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

fn check_video(
    dir: &std::path::Path,
    tags: &[Tag],
    pv: &std::collections::HashMap<String, String>,
    file: &std::path::Path,
) {
    let videos: Vec<&Tag> = tags
        .iter()
        .filter(|t| t.tag_type == TagType::Video)
        .collect();
    let (sh, len) = VideoTagHeader::parse(&videos[0].body).unwrap();
    assert!(sh.is_sequence_header() && sh.codec == VideoCodec::Avc);
    assert!(MediaMessage::new(MediaKind::Video, 0, videos[0].body.clone()).is_sequence_header());
    let config = AvcConfig::parse(&videos[0].body[len..]).unwrap();
    assert_eq!((config.sps.len(), config.pps.len()), (1, 1));
    let sps = Sps::parse(&config.sps[0]).unwrap();
    assert_eq!(
        (sps.width, sps.height),
        (num(pv, "width"), num(pv, "height"))
    );
    assert_eq!(u32::from(sps.level_idc), num(pv, "level"));
    assert_eq!(pv["profile"], "High");
    assert_eq!((sps.profile_idc, config.profile), (100, 100));

    // Key frames and composition times agree with ffprobe's packets.
    let packets = ffprobe_video_packets(file);
    // ffmpeg ends the stream with an AVC end-of-sequence tag (frame type 1,
    // packet type 2): neither a key frame nor a sequence header.
    let (eos, _) = VideoTagHeader::parse(&videos[videos.len() - 1].body).unwrap();
    assert_eq!(eos.packet_type, VideoPacketType::SequenceEnd);
    assert!(!eos.is_keyframe() && !eos.is_sequence_header());
    let frames: Vec<&Tag> = videos[1..videos.len() - 1].to_vec();
    assert_eq!(frames.len(), packets.len());
    let mut keys = Vec::new();
    let mut annexb = Vec::new();
    for (i, (t, p)) in frames.iter().zip(&packets).enumerate() {
        let (h, len) = VideoTagHeader::parse(&t.body).unwrap();
        assert_eq!(h.is_keyframe(), p.key, "frame {i}");
        assert_eq!(i64::from(t.timestamp), p.dts, "frame {i}");
        assert_eq!(i64::from(h.composition_time), p.pts - p.dts, "frame {i}");
        let msg = MediaMessage::new(MediaKind::Video, u64::from(t.timestamp), t.body.clone());
        assert_eq!(
            (msg.is_keyframe(), msg.is_sequence_header()),
            (p.key, false)
        );
        if h.is_keyframe() {
            keys.push(i);
        }
        avc::to_annexb(&config, &t.body[len..], h.is_keyframe(), &mut annexb).unwrap();
    }
    assert_eq!(keys, [0, 50], "a key frame every 50 frames");
    assert_eq!(frames.len(), 100);

    // The Annex-B stream decodes cleanly, every frame.
    let h264 = dir.join("out.h264");
    std::fs::write(&h264, &annexb).unwrap();
    let (errors, decoded) = decode_errors(&h264, Some("h264"));
    assert_eq!(errors, "");
    assert_eq!(decoded, frames.len());
    // One AUD per access unit, parameter sets only before the two IDRs.
    let nals = split_annexb(&annexb);
    let count = |t: u8| nals.iter().filter(|n| n[0] & 0x1f == t).count();
    assert_eq!((count(9), count(7), count(8), count(5)), (100, 2, 2, 2));
}

fn check_audio(
    dir: &std::path::Path,
    tags: &[Tag],
    pa: &std::collections::HashMap<String, String>,
) {
    let audios: Vec<&Tag> = tags
        .iter()
        .filter(|t| t.tag_type == TagType::Audio)
        .collect();
    let (sh, len) = AudioTagHeader::parse(&audios[0].body).unwrap();
    assert!(sh.is_sequence_header() && sh.sound_format == SoundFormat::Aac);
    let asc = AudioSpecificConfig::parse(&audios[0].body[len..]).unwrap();
    assert_eq!(asc.sample_rate(), num(pa, "sample_rate"));
    assert_eq!(u32::from(asc.channels()), num(pa, "channels"));
    assert_eq!(
        (asc.object_type, asc.profile_name()),
        (2, pa["profile"].as_str())
    );

    let mut adts = Vec::new();
    let mut frames = 0;
    for t in &audios[1..] {
        let (h, len) = AudioTagHeader::parse(&t.body).unwrap();
        assert!(!h.is_sequence_header());
        let raw = &t.body[len..];
        adts.extend_from_slice(&adts_header(&asc, raw.len()).unwrap());
        adts.extend_from_slice(raw);
        frames += 1;
    }
    let aac = dir.join("out.aac");
    std::fs::write(&aac, &adts).unwrap();
    let probe = ffprobe_streams(&aac, Some("aac"));
    let s = stream(&probe, "audio");
    assert_eq!(num(s, "sample_rate"), num(pa, "sample_rate"));
    assert_eq!(num(s, "channels"), num(pa, "channels"));
    let (errors, decoded) = decode_errors(&aac, Some("aac"));
    assert_eq!(errors, "");
    assert_eq!(decoded, frames);
}
