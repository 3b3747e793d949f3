//! The TS muxer against real tools: elementary streams made by ffmpeg are
//! muxed by `TsMuxer`, then ffmpeg must read the result without a word, see
//! the right codecs, and every byte of every frame must come back.

mod ts_support;

use std::collections::HashMap;

use bytes::BytesMut;
use media_core::ts::{
    AudioCodec, EsFrame, EsPayload, Track, TsMuxer, TsStreams, VideoCodec, PID_AUDIO, PID_VIDEO,
};
use ts_support::*;

/// Access units of an Annex-B stream that starts each one with an AUD.
fn access_units(data: &[u8], hevc: bool) -> Vec<(Vec<u8>, bool)> {
    let mut aus: Vec<(Vec<u8>, bool)> = Vec::new();
    for nal in nal_units(data) {
        let (is_aud, is_key) = if hevc {
            let t = (nal[0] >> 1) & 0x3F;
            (t == 35, (16..=23).contains(&t))
        } else {
            let t = nal[0] & 0x1F;
            (t == 9, t == 5)
        };
        if is_aud || aus.is_empty() {
            aus.push((Vec::new(), false));
        }
        let au = aus.last_mut().unwrap();
        au.0.extend_from_slice(&[0, 0, 0, 1]);
        au.0.extend_from_slice(nal);
        au.1 |= is_key;
    }
    aus
}

/// MPEG audio frames (layer III, constant bit rate) of a stream without tags.
fn mp3_frames(data: &[u8]) -> Vec<&[u8]> {
    const V1: [u32; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= data.len() {
        let h = &data[at..];
        assert!(
            h[0] == 0xFF && h[1] & 0xE0 == 0xE0,
            "MPEG audio sync at {at}"
        );
        let mpeg1 = h[1] & 0x18 == 0x18;
        let br = if mpeg1 { V1 } else { V2 }[usize::from(h[2] >> 4)];
        let sr = [[44100, 48000, 32000], [22050, 24000, 16000]][usize::from(!mpeg1)]
            [usize::from((h[2] >> 2) & 3)];
        let pad = u32::from((h[2] >> 1) & 1);
        let len = if mpeg1 {
            144 * br * 1000 / sr + pad
        } else {
            72 * br * 1000 / sr + pad
        } as usize;
        out.push(&data[at..(at + len).min(data.len())]);
        at += len;
    }
    out
}

struct Case {
    name: &'static str,
    video: Option<(VideoCodec, &'static [&'static str])>,
    audio: Option<(AudioCodec, &'static [&'static str], u32, u32)>,
    expect_video: Option<&'static str>,
    expect_audio: Option<&'static str>,
}

fn run(case: Case) {
    if !have_ffmpeg() {
        return;
    }
    let dir = temp_dir(case.name);
    let mut frames: Vec<EsFrame> = Vec::new();
    let mut video_aus = Vec::new();
    let mut audio_bytes = Vec::new();
    if let Some((codec, args)) = case.video {
        let mut a = vec![
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-t",
            "3",
        ];
        a.extend_from_slice(args);
        a.push("v.es");
        ffmpeg(&dir, &a);
        let data = std::fs::read(dir.join("v.es")).unwrap();
        for (i, (au, key)) in access_units(&data, codec == VideoCodec::Hevc)
            .into_iter()
            .enumerate()
        {
            let dts = 3600 * i as u64 + 126_000;
            video_aus.extend_from_slice(&au);
            frames.push(EsFrame {
                track: Track::Video,
                pts: dts,
                dts,
                keyframe: key,
                data: EsPayload::from(au),
            });
        }
    }
    if let Some((codec, args, rate, samples)) = case.audio {
        let mut a = vec![
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=44100",
            "-t",
            "3",
        ];
        a.extend_from_slice(args);
        a.push("a.es");
        ffmpeg(&dir, &a);
        let data = std::fs::read(dir.join("a.es")).unwrap();
        let split = match codec {
            AudioCodec::Aac => adts_frames(&data),
            _ => mp3_frames(&data),
        };
        for (i, f) in split.into_iter().enumerate() {
            let dts = 126_000 + i as u64 * u64::from(samples) * 90_000 / u64::from(rate);
            audio_bytes.extend_from_slice(f);
            frames.push(EsFrame {
                track: Track::Audio,
                pts: dts,
                dts,
                keyframe: true,
                data: EsPayload::from(f.to_vec()),
            });
        }
    }
    frames.sort_by_key(|f| f.dts);
    let n_video = frames.iter().filter(|f| f.track == Track::Video).count() as u64;
    let n_audio_frames = frames.len() as u64 - n_video;

    let mut mux = TsMuxer::new(TsStreams {
        video: case.video.map(|v| v.0),
        audio: case.audio.map(|a| a.0),
    });
    let mut out = BytesMut::new();
    mux.write_psi(&mut out);
    for f in &frames {
        mux.write_frame(f, &mut out).unwrap();
    }
    let file = dir.join("out.ts");
    std::fs::write(&file, &out).unwrap();

    // Our own strict reading: sync bytes, counters, stuffing, bytes intact.
    let report = read_transport_stream(&out, &mut HashMap::new());
    assert!(report.cc_errors.is_empty(), "{:?}", report.cc_errors);
    let payload = |pid| -> Vec<u8> {
        report
            .pes
            .iter()
            .filter(|p| p.pid == pid)
            .flat_map(|p| p.payload.iter().copied())
            .collect()
    };
    assert_eq!(
        payload(PID_VIDEO),
        video_aus,
        "video bytes come back intact"
    );
    assert_eq!(
        payload(PID_AUDIO),
        audio_bytes,
        "audio bytes come back intact"
    );
    for p in &report.pes {
        if p.pid == PID_VIDEO {
            assert!(p.pcr.is_some(), "PCR on every video PES");
        }
    }

    // ffmpeg's reading.
    assert_eq!(
        ffmpeg_errors(&file, &[]),
        "",
        "ffmpeg complained about {}",
        case.name
    );
    let streams = probe_streams(&file);
    if let Some(name) = case.expect_video {
        let v = streams
            .iter()
            .find(|s| s.codec_type == "video")
            .expect("video stream");
        assert_eq!(v.codec_name, name);
        assert_eq!((v.width, v.height), (Some(320), Some(240)));
    }
    if let Some(name) = case.expect_audio {
        let a = streams
            .iter()
            .find(|s| s.codec_type == "audio")
            .expect("audio stream");
        assert_eq!(a.codec_name, name);
        assert_eq!(a.sample_rate, case.audio.map(|a| a.2));
    }
    assert_eq!(
        streams.len(),
        usize::from(case.video.is_some()) + usize::from(case.audio.is_some())
    );
    let counts = count_packets(&file);
    for (kind, n) in counts {
        match kind.as_str() {
            "video" => assert_eq!(n, n_video, "every video frame read"),
            "audio" => assert_eq!(n, n_audio_frames, "every audio frame read"),
            other => panic!("unexpected stream {other}"),
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

const H264: &[&str] = &[
    "-c:v",
    "libx264",
    "-bf",
    "0",
    "-g",
    "25",
    "-bsf:v",
    "h264_metadata=aud=insert",
    "-f",
    "h264",
];
const HEVC: &[&str] = &[
    "-c:v",
    "libx265",
    "-bf",
    "0",
    "-g",
    "25",
    "-x265-params",
    "log-level=error",
    "-bsf:v",
    "hevc_metadata=aud=insert",
    "-f",
    "hevc",
];
const AAC: &[&str] = &["-c:a", "aac", "-f", "adts"];
const MP3: &[&str] = &[
    "-c:a",
    "libmp3lame",
    "-b:a",
    "128k",
    "-write_xing",
    "0",
    "-id3v2_version",
    "0",
    "-f",
    "mp3",
];
const MP3_LSF: &[&str] = &[
    "-c:a",
    "libmp3lame",
    "-ar",
    "22050",
    "-b:a",
    "64k",
    "-write_xing",
    "0",
    "-id3v2_version",
    "0",
    "-f",
    "mp3",
];

#[test]
fn h264_and_aac() {
    run(Case {
        name: "h264-aac",
        video: Some((VideoCodec::H264, H264)),
        audio: Some((AudioCodec::Aac, AAC, 44100, 1024)),
        expect_video: Some("h264"),
        expect_audio: Some("aac"),
    });
}

#[test]
fn hevc_and_mp3() {
    run(Case {
        name: "hevc-mp3",
        video: Some((VideoCodec::Hevc, HEVC)),
        audio: Some((AudioCodec::Mp3, MP3, 44100, 1152)),
        expect_video: Some("hevc"),
        expect_audio: Some("mp3"),
    });
}

#[test]
fn mp3_low_sampling_frequency_alone() {
    run(Case {
        name: "mp3-lsf",
        video: None,
        audio: Some((AudioCodec::Mp3Lsf, MP3_LSF, 22050, 576)),
        expect_video: None,
        expect_audio: Some("mp3"),
    });
}

#[test]
fn aac_alone() {
    run(Case {
        name: "aac",
        video: None,
        audio: Some((AudioCodec::Aac, AAC, 44100, 1024)),
        expect_video: None,
        expect_audio: Some("aac"),
    });
}

#[test]
fn h264_alone() {
    run(Case {
        name: "h264",
        video: Some((VideoCodec::H264, H264)),
        audio: None,
        expect_video: Some("h264"),
        expect_audio: None,
    });
}
