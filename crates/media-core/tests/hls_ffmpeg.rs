//! The HLS segmenter end to end against real tools: an FLV made by ffmpeg
//! is fed tag by tag, the actions are carried out on a temporary directory,
//! and ffmpeg/ffprobe must agree with the playlist about every segment.

mod common;
mod hls_support;
mod ts_support;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use hls_support::{flv_messages, Executor};
use media_core::hls::{HlsConfig, HlsSegmenter};
use media_core::MediaMessage;
use ts_support::*;

struct Expect {
    video: Option<(&'static str, u32, u32)>,
    audio: Option<(&'static str, u32)>,
}

/// Runs `msgs` through a segmenter with a 2 s fragment and checks the result.
fn segment_and_check(name: &str, msgs: &[MediaMessage], expect: Expect) {
    let dir = temp_dir(name);
    let config = HlsConfig {
        fragment: Duration::from_secs(2),
        window: Duration::from_secs(3600),
        ..HlsConfig::default()
    };
    let mut seg = HlsSegmenter::new(config, "live", "test");
    let mut exec = Executor::new(dir.clone());
    for (i, m) in msgs.iter().enumerate() {
        seg.push(m, 1_700_000_000_000 + i as u64).unwrap();
        exec.run(&mut seg);
    }
    seg.on_unpublish();
    exec.run(&mut seg);
    assert_eq!(seg.skipped_frames(), 0);

    let m3u8 = dir.join("live/test.m3u8");
    let text = std::fs::read_to_string(&m3u8).unwrap();
    eprintln!("{name}:\n{text}");
    let playlist = match m3u8_rs::parse_playlist_res(text.as_bytes()) {
        Ok(m3u8_rs::Playlist::MediaPlaylist(p)) => p,
        other => panic!("not a media playlist: {other:?}\n{text}"),
    };
    assert_eq!(playlist.version, Some(3));
    assert!(playlist.segments.len() >= 2, "several segments:\n{text}");
    assert_eq!(playlist.media_sequence, 0);
    let longest = playlist
        .segments
        .iter()
        .map(|s| s.duration)
        .fold(0.0, f32::max);
    assert_eq!(playlist.target_duration, longest.ceil() as u64);

    // Continuity counters carry on from segment to segment.
    let mut cc = HashMap::new();
    let mut total_ms = 0u64;
    for (i, s) in playlist.segments.iter().enumerate() {
        let file = dir.join("live").join(&s.uri);
        let data = std::fs::read(&file).unwrap();
        let report = read_transport_stream(&data, &mut cc);
        assert!(
            report.cc_errors.is_empty(),
            "{}: {:?}",
            s.uri,
            report.cc_errors
        );
        assert!(report.psi_packets >= 2, "PAT/PMT at the start of {}", s.uri);
        assert!(
            report.pes.first().is_some_and(|p| p.random_access) || expect.video.is_none(),
            "{} starts with a key frame",
            s.uri
        );
        assert_eq!(
            ffmpeg_errors(&file, &[]),
            "",
            "{} alone decodes cleanly",
            s.uri
        );

        let streams = probe_streams(&file);
        let primary = if let Some((codec, w, h)) = expect.video {
            let v = streams
                .iter()
                .find(|s| s.codec_type == "video")
                .expect("video");
            assert_eq!(v.codec_name, codec);
            assert_eq!((v.width, v.height), (Some(w), Some(h)));
            v
        } else {
            streams
                .iter()
                .find(|s| s.codec_type == "audio")
                .expect("audio")
        };
        if let Some((codec, rate)) = expect.audio {
            let a = streams
                .iter()
                .find(|s| s.codec_type == "audio")
                .expect("audio");
            assert_eq!(a.codec_name, codec);
            assert_eq!(a.sample_rate, Some(rate));
        } else {
            assert!(streams.iter().all(|s| s.codec_type != "audio"));
        }
        let (_, _, listed_ms) = exec.closed[i];
        let extinf = f64::from(s.duration);
        assert!(
            (extinf * 1000.0 - listed_ms as f64).abs() < 0.5,
            "EXTINF has 3 decimals"
        );
        let probed = primary.duration.expect("ffprobe duration");
        assert!(
            (probed - listed_ms as f64 / 1000.0).abs() <= 0.001,
            "{}: ffprobe says {probed:.6} s, playlist says {extinf:.3} s",
            s.uri
        );
        total_ms += listed_ms;
    }
    assert!(
        total_ms > 9_000,
        "the whole stream is listed: {total_ms} ms"
    );

    assert_eq!(
        ffmpeg_errors(
            &m3u8,
            &["-live_start_index", "0", "-m3u8_hold_counters", "2"]
        ),
        "",
        "the playlist plays cleanly"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn generated_flv(name: &str, inputs: &[&str]) -> Vec<MediaMessage> {
    let dir = temp_dir(name);
    let mut args: Vec<&str> = inputs.to_vec();
    args.extend_from_slice(&["-t", "10", "-f", "flv", "x.flv"]);
    ffmpeg(&dir, &args);
    let msgs = flv_messages(&std::fs::read(dir.join("x.flv")).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
    msgs
}

const VIDEO_IN: &[&str] = &["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25"];
const AUDIO_IN: &[&str] = &["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"];
const H264: &[&str] = &["-c:v", "libx264", "-g", "50"];
const AAC: &[&str] = &["-c:a", "aac"];

#[test]
fn h264_and_aac() {
    if !have_ffmpeg() {
        return;
    }
    let inputs = [VIDEO_IN, AUDIO_IN, H264, AAC].concat();
    let msgs = generated_flv("hls-av", &inputs);
    segment_and_check(
        "hls-av",
        &msgs,
        Expect {
            video: Some(("h264", 640, 360)),
            audio: Some(("aac", 44100)),
        },
    );
}

#[test]
fn audio_only() {
    if !have_ffmpeg() {
        return;
    }
    let msgs = generated_flv("hls-a", &[AUDIO_IN, AAC].concat());
    segment_and_check(
        "hls-a",
        &msgs,
        Expect {
            video: None,
            audio: Some(("aac", 44100)),
        },
    );
}

#[test]
fn video_only() {
    if !have_ffmpeg() {
        return;
    }
    let msgs = generated_flv("hls-v", &[VIDEO_IN, H264].concat());
    segment_and_check(
        "hls-v",
        &msgs,
        Expect {
            video: Some(("h264", 640, 360)),
            audio: None,
        },
    );
}

#[test]
fn corpus_big_buck_bunny() {
    let Some(flv) = common::corpus_file("media/srs_bbb.flv") else {
        return;
    };
    if !have_ffmpeg() {
        return;
    }
    let dir = temp_dir("bbb-probe");
    let path = dir.join("bbb.flv");
    std::fs::write(&path, &flv).unwrap();
    let streams = probe_streams(Path::new(&path));
    std::fs::remove_dir_all(&dir).unwrap();
    let v = streams.iter().find(|s| s.codec_type == "video").unwrap();
    let a = streams.iter().find(|s| s.codec_type == "audio").unwrap();
    segment_and_check(
        "hls-bbb",
        &flv_messages(&flv),
        Expect {
            video: Some(("h264", v.width.unwrap(), v.height.unwrap())),
            audio: Some(("aac", a.sample_rate.unwrap())),
        },
    );
}

const MP3: &[&str] = &["-c:a", "libmp3lame", "-ar", "44100"];

#[test]
fn h264_and_mp3() {
    if !have_ffmpeg() {
        return;
    }
    let msgs = generated_flv("hls-av-mp3", &[VIDEO_IN, AUDIO_IN, H264, MP3].concat());
    segment_and_check(
        "hls-av-mp3",
        &msgs,
        Expect {
            video: Some(("h264", 640, 360)),
            audio: Some(("mp3", 44100)),
        },
    );
}

#[test]
fn mp3_only() {
    if !have_ffmpeg() {
        return;
    }
    let msgs = generated_flv("hls-mp3", &[AUDIO_IN, MP3].concat());
    segment_and_check(
        "hls-mp3",
        &msgs,
        Expect {
            video: None,
            audio: Some(("mp3", 44100)),
        },
    );
}
