//! VOD indexing and HLS segmenting against files ffmpeg wrote: MP4 with a
//! `moov` at the end and at the front (`+faststart`), fragmented MP4
//! (`frag_keyframe`), FLV, and our own DVR's fragmented MP4. The index must
//! count the frames ffprobe counts, and the HLS segments muxed from it must
//! decode cleanly with the file's duration.

mod flv_support;

use std::path::Path;

use bytes::Bytes;
use flv_support::*;
use media_core::mp4::Fmp4Muxer;
use media_core::vod::{mux_segment, segments, FileIndexer, MediaIndex};
use media_core::{MediaKind, MediaMessage};

/// 4 s of 25 fps H.264 (a key frame every second, B-frames) and AAC.
fn source(dir: &Path, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-t",
        "4",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
    ];
    args.extend_from_slice(extra);
    let out = path.to_str().unwrap().to_owned();
    args.push(&out);
    ffmpeg(&args).expect("ffmpeg");
    path
}

/// Packets per stream type as ffprobe counts them.
fn packets(file: &Path) -> (usize, usize) {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "packet=codec_type",
            "-of",
            "csv=p=0",
        ])
        .arg(file)
        .output()
        .expect("ffprobe");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        text.lines().filter(|l| l.starts_with("video")).count(),
        text.lines().filter(|l| l.starts_with("audio")).count(),
    )
}

/// The duration ffprobe reads, ms.
fn probed_ms(file: &Path) -> u64 {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(file)
        .output()
        .expect("ffprobe");
    let secs: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0.0);
    (secs * 1000.0).round() as u64
}

fn count(index: &MediaIndex, kind: MediaKind) -> usize {
    index.samples.iter().filter(|s| s.kind == kind).count()
}

/// Muxes every segment of `index` to one TS file and checks it.
fn segments_decode(index: &MediaIndex, file: &[u8], dir: &Path, name: &str, expect_ms: u64) {
    let segs = segments(index, 2000);
    assert!(segs.len() >= 2, "{segs:?}");
    let mut ts = Vec::new();
    for seg in &segs {
        let frames: Vec<MediaMessage> = (seg.first..seg.end)
            .map(|i| {
                let s = index.samples[i];
                let at = s.offset as usize;
                let data = Bytes::copy_from_slice(&file[at..at + s.size as usize]);
                index.message(i, data).unwrap()
            })
            .collect();
        ts.extend_from_slice(&mux_segment(&index.headers, &frames));
    }
    let path = dir.join(format!("{name}.ts"));
    std::fs::write(&path, &ts).unwrap();
    let (errors, frames) = decode_errors(&path, None);
    assert!(errors.trim().is_empty(), "{name}: {errors}");
    let (video, _) = packets(&path);
    assert_eq!(video, count(index, MediaKind::Video), "{name}");
    assert!(frames > 0);
    let total: u64 = segs.iter().map(|s| s.duration_ms).sum();
    // Within a frame of what ffprobe says of the source (it counts edit
    // lists and priming a little differently).
    assert!(
        total.abs_diff(expect_ms) <= 50,
        "{name}: {total} of {expect_ms} ms"
    );
}

#[test]
fn files_ffmpeg_writes_index_and_segment() {
    if !have_ffmpeg("files_ffmpeg_writes_index_and_segment") {
        return;
    }
    let dir = temp_dir("vod");
    let files = [
        ("plain.mp4", vec![]),
        ("faststart.mp4", vec!["-movflags", "+faststart"]),
        (
            "fragmented.mp4",
            vec!["-movflags", "+frag_keyframe+empty_moov+default_base_moof"],
        ),
        ("file.flv", vec![]),
    ];
    for (name, extra) in files {
        let path = source(&dir, name, &extra);
        let data = std::fs::read(&path).unwrap();
        let ext = name.rsplit('.').next().unwrap();
        let index = FileIndexer::index_bytes(ext, &data).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (video, audio) = packets(&path);
        assert_eq!(count(&index, MediaKind::Video), video, "{name}");
        // ffmpeg's MP4 edit list hides the AAC encoder's priming frame,
        // which the index keeps.
        assert!(
            count(&index, MediaKind::Audio).abs_diff(audio) <= 1,
            "{name}"
        );
        let keys = index.samples.iter().filter(|s| s.keyframe).count();
        assert_eq!(keys, 4, "{name}: one key frame a second");
        let expect_ms = probed_ms(&path);
        assert!(
            index.duration_ms().abs_diff(expect_ms) <= 50,
            "{name}: {} of {expect_ms} ms",
            index.duration_ms()
        );
        // Decoder configurations come first: video and audio.
        let configs = index
            .headers
            .iter()
            .filter(|h| h.is_sequence_header())
            .count();
        assert_eq!(configs, 2, "{name}");
        segments_decode(&index, &data, &dir, name, expect_ms);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn our_dvr_recordings_index_and_segment() {
    if !have_ffmpeg("our_dvr_recordings_index_and_segment") {
        return;
    }
    let dir = temp_dir("vod-dvr");
    let flv = source(&dir, "src.flv", &[]);
    let data = std::fs::read(&flv).unwrap();
    let mut muxer = Fmp4Muxer::new();
    let mut file = Vec::new();
    for tag in read_tags(Bytes::from(data)) {
        let Some(kind) = tag.tag_type.media_kind() else {
            continue;
        };
        let _ = muxer.push(&MediaMessage::new(kind, u64::from(tag.timestamp), tag.body));
        file.extend_from_slice(&muxer.take());
    }
    file.extend_from_slice(&muxer.finish());
    let path = dir.join("dvr.mp4");
    std::fs::write(&path, &file).unwrap();
    let index = FileIndexer::index_bytes("mp4", &file).unwrap();
    let (video, audio) = packets(&path);
    assert_eq!(count(&index, MediaKind::Video), video);
    assert_eq!(count(&index, MediaKind::Audio), audio);
    segments_decode(&index, &file, &dir, "dvr", probed_ms(&path));
    let _ = std::fs::remove_dir_all(&dir);
}
