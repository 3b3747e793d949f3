//! Enhanced RTMP v2 codecs end to end (both builds): the modern ffmpeg
//! publishes HEVC + Opus, AV1 + FLAC and VP9 + AC-3 (E-RTMP video and audio
//! FourCCs, `SoundFormat` 9 ex headers), and plays each back over RTMP and
//! HTTP-FLV with both tracks present and decoded without an error: the
//! server passes every E-RTMP header through untouched.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::*;

/// (video encoder and its fast options, audio encoder, the codec names
/// ffmpeg prints for them).
const PAIRS: &[(&[&str], &str, &str, &str)] = &[
    (
        &["libx265", "-preset", "ultrafast"],
        "libopus",
        "hevc",
        "opus",
    ),
    (&["libsvtav1", "-preset", "12"], "flac", "av1", "flac"),
    (
        &["libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"],
        "ac3",
        "vp9",
        "ac3",
    ),
];

/// An 8 s FLV of `video` + `audio` written by the modern ffmpeg.
fn clip(ffmpeg: &Path, dir: &Path, video: &[&str], audio: &str) -> std::path::PathBuf {
    let out = dir.join(format!("{}-{audio}.flv", video[0]));
    let (ok, _, err) = run(
        Command::new(ffmpeg)
            .args(["-v", "error", "-y"])
            .args(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25"])
            .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
            .args(["-t", "8", "-g", "25", "-pix_fmt", "yuv420p", "-c:v"])
            .args(video)
            .args(["-c:a", audio, "-f", "flv"])
            .arg(&out),
        Duration::from_secs(90),
    );
    assert!(
        ok,
        "the modern ffmpeg writes {video:?} + {audio} in FLV: {err}"
    );
    out
}

/// What an RTMP player passes to announce the E-RTMP codecs it takes.
const ENHANCED: [&str; 2] = ["-rtmp_enhanced_codecs", "hvc1,av01,vp09,Opus,fLaC,ac-3"];

/// Decodes 2 s of `url`; returns the codecs of the input streams and any
/// error lines.
fn play(ffmpeg: &Path, input_options: &[&str], url: &str) -> (String, String) {
    let (_, _, err) = run(
        Command::new(ffmpeg)
            .args(["-hide_banner", "-v", "info"])
            .args(input_options)
            .args(["-i", url, "-map", "0", "-t", "2", "-f", "null", "-"]),
        Duration::from_secs(30),
    );
    let streams: Vec<&str> = err
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("Input #0"))
        .take_while(|l| !l.starts_with("Output #") && !l.starts_with("Stream mapping"))
        .filter(|l| l.starts_with("Stream #0:"))
        .collect();
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("rror")).collect();
    (streams.join("\n"), errors.join("\n"))
}

#[test]
fn modern_codecs_pass_through_rtmp_and_http_flv() {
    let Some(modern) = modern_ffmpeg() else {
        return;
    };
    let media = TempDir::new("ercodecs");
    let clips: Vec<_> = PAIRS
        .iter()
        .map(|(video, audio, v, a)| (clip(&modern, media.path(), video, audio), *v, *a))
        .collect();
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        for (i, (file, vcodec, acodec)) in clips.iter().enumerate() {
            let name = format!("codecs{i}");
            let url = server.rtmp_url(&name);
            let mut publisher = Command::new(&modern)
                // Not looped: ffmpeg's own -stream_loop of some of these
                // codecs in FLV is not what this test is about.
                .args(["-v", "error", "-re", "-i"])
                .arg(file)
                .args(["-c", "copy", "-f", "flv", &url])
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("modern ffmpeg publishes");
            std::thread::sleep(Duration::from_millis(1500));
            let flv = server.http_url(&format!("/live/{name}.flv"));
            // Both players at once, while the 8 s clip is being published.
            let rtmp = std::thread::spawn({
                let (modern, url) = (modern.clone(), url.clone());
                move || play(&modern, &ENHANCED, &url)
            });
            let http = play(&modern, &[], &flv);
            let rtmp = rtmp.join().expect("RTMP player");
            for (what, (streams, errors)) in [("RTMP", rtmp), ("HTTP-FLV", http)] {
                assert!(
                    streams.contains(&format!("Video: {vcodec}")),
                    "{what} {vcodec}: {streams}"
                );
                assert!(
                    streams.contains(&format!("Audio: {acodec}")),
                    "{what} {acodec}: {streams}"
                );
                assert!(errors.is_empty(), "{what} {vcodec}+{acodec}: {errors}");
            }
            let _ = publisher.kill();
            let _ = publisher.wait();
        }
    });
}
