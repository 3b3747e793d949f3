//! The rtmp-client library against the real server, as its users see it:
//! the C examples compiled with gcc against the static and shared library
//! and the generated header, publishing FLV tags or encoder frames and
//! recording; the Rust examples as built by cargo; the Rust API playing with
//! metadata and the C ABI's callback play loop; the C ABI's create/destroy
//! path under valgrind.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::*;

/// `crates/rtmp-client`.
fn client_crate() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rtmp-client")
}

/// Where cargo put `librtmp_client.a` / `.so` for this build: beside this
/// test binary (`target/<profile>/deps`), as rtmp-client is a dev-dependency.
fn library_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?.to_path_buf();
    [deps.clone(), deps.parent()?.to_path_buf()]
        .into_iter()
        .find(|d| d.join("librtmp_client.a").exists() && d.join("librtmp_client.so").exists())
}

/// Compiles `source` with gcc against the library: statically when
/// `static_link`, else against the .so (found at run time through rpath).
fn compile_c(source: &Path, out: &Path, lib: &Path, static_link: bool) {
    let mut cmd = Command::new("gcc");
    cmd.args([
        "-std=c99",
        "-D_POSIX_C_SOURCE=200809L",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-g",
    ])
    .arg("-I")
    .arg(client_crate().join("include"))
    .arg("-o")
    .arg(out)
    .arg(source);
    if static_link {
        cmd.arg(lib.join("librtmp_client.a"))
            .args(["-lpthread", "-ldl", "-lm"]);
    } else {
        cmd.arg(format!("-L{}", lib.display()))
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .arg("-lrtmp_client");
    }
    let (ok, out_text, err) = run(&mut cmd, Duration::from_secs(120));
    assert!(ok, "gcc {}: {out_text}{err}", source.display());
}

/// A 3 s H.264 + AAC FLV made by ffmpeg (2 key frames a second).
fn short_flv(dir: &Path) -> PathBuf {
    let path = dir.join("in.flv");
    let (ok, _, err) = run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg("testsrc2=size=320x240:rate=25")
            .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"])
            .args([
                "-t", "3", "-c:v", "libx264", "-preset", "veryfast", "-g", "12",
            ])
            .args([
                "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "flv",
            ])
            .arg(&path),
        Duration::from_secs(60),
    );
    assert!(ok, "ffmpeg: {err}");
    path
}

/// Codec names and frame counts of a file, from ffprobe.
fn probe(file: &Path) -> String {
    let (_, out, err) = run(
        Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-show_entries"])
            .args(["stream=codec_name,nb_read_frames", "-of", "compact"])
            .arg(file),
        Duration::from_secs(30),
    );
    format!("{out}{err}")
}

fn frames(probe: &str, codec: &str) -> u64 {
    probe
        .lines()
        .find(|l| l.contains(&format!("codec_name={codec}")))
        .and_then(|l| l.rsplit("nb_read_frames=").next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

fn spawn(cmd: &mut Command) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"))
}

fn finish(child: Child, limit: Duration) -> (bool, String) {
    let pid = child.id();
    let waiter = std::thread::spawn(move || child.wait_with_output());
    let start = std::time::Instant::now();
    while !waiter.is_finished() && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(20));
    }
    if !waiter.is_finished() {
        // Our own child, by pid.
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
    let out = waiter.join().expect("join").expect("wait");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn c_examples_publish_to_the_server_and_record_what_ffmpeg_also_plays() {
    if !have("gcc") || !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let Some(lib) = library_dir() else {
        panic!("librtmp_client.a/.so not found beside the test binary");
    };
    let dir = TempDir::new("client-c");
    let publish = dir.path().join("publish_flv");
    let play = dir.path().join("play_flv");
    compile_c(
        &client_crate().join("examples/c/publish_flv.c"),
        &publish,
        &lib,
        true,
    );
    compile_c(
        &client_crate().join("examples/c/play_flv.c"),
        &play,
        &lib,
        false,
    );
    let input = short_flv(dir.path());
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rtmp-server"));
    let server = ServerProcess::start(&bin);
    let url = server.rtmp_url("clib");

    // Players first (each waits for the stream), then the C publisher.
    let recorded = dir.path().join("c_play.flv");
    let c_player = spawn(Command::new(&play).arg(&url).arg(&recorded).arg("6"));
    let by_ffmpeg = dir.path().join("ffmpeg_play.flv");
    let ffmpeg = spawn(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-rw_timeout", "8000000", "-i"])
            .arg(&url)
            .args(["-t", "2.5", "-c", "copy", "-f", "flv"])
            .arg(&by_ffmpeg),
    );
    std::thread::sleep(Duration::from_millis(500));
    let (ok, log) = finish(
        spawn(Command::new(&publish).arg(&input).arg(format!("{url}?k=v"))),
        Duration::from_secs(20),
    );
    assert!(ok, "C publisher failed: {log}");
    assert!(log.contains("published"), "{log}");

    let (ok, log) = finish(ffmpeg, Duration::from_secs(15));
    assert!(
        ok,
        "ffmpeg could not play what the C example published: {log}"
    );
    let p = probe(&by_ffmpeg);
    assert!(frames(&p, "h264") >= 25, "ffmpeg's copy: {p}");
    assert!(frames(&p, "aac") >= 25, "ffmpeg's copy: {p}");

    let (ok, log) = finish(c_player, Duration::from_secs(15));
    assert!(ok, "C player failed: {log}");
    let p = probe(&recorded);
    // The whole 3 s (75 frames) went by while it played.
    assert!(frames(&p, "h264") >= 60, "C recording: {p}\n{log}");
    assert!(frames(&p, "aac") >= 60, "C recording: {p}\n{log}");
}

#[test]
fn rust_client_publishes_a_file_and_plays_it_with_metadata() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let dir = TempDir::new("client-rust");
    let input = short_flv(dir.path());
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rtmp-server"));
    let server = ServerProcess::start(&bin);
    let url = server.rtmp_url("rlib");

    let player_url = url.clone();
    let player = std::thread::spawn(move || {
        let mut client = rtmp_client::Client::new(&player_url).expect("url");
        // RTMP spec 5.2's plain handshake (the publisher uses the complex one).
        client
            .set_handshake(rtmp_client::ClientMode::Simple)
            .unwrap();
        client.play().expect("play");
        let mut metadata = None;
        let (mut audio, mut video) = (0, 0);
        while let Some(packet) = client.packets().next() {
            let packet = packet.expect("packet");
            match packet.tag_type {
                media_core::flv::TagType::Audio => audio += 1,
                media_core::flv::TagType::Video => video += 1,
                _ => metadata = metadata.or(packet.metadata()),
            }
            if video >= 60 {
                break;
            }
        }
        client.close().expect("close");
        (metadata, audio, video)
    });
    std::thread::sleep(Duration::from_millis(300));
    // SRS's tools' form: the query on the tcUrl as well.
    let mut publisher = rtmp_client::Client::new(&format!("{url}?k=v")).expect("url");
    publisher.set_query_on_tc_url(true).unwrap();
    publisher.publish().expect("publish");
    let data = std::fs::read(&input).unwrap();
    let start = std::time::Instant::now();
    for tag in media_core::flv::FlvReader::new(data).unwrap() {
        let tag = tag.unwrap();
        let due = Duration::from_millis(u64::from(tag.timestamp));
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        publisher
            .write_packet(&rtmp_client::Packet::new(
                tag.tag_type,
                tag.timestamp,
                tag.body,
            ))
            .expect("write");
    }
    let (metadata, audio, video) = player.join().expect("player");
    publisher.close().expect("close");
    let metadata = format!("{metadata:?}");
    assert!(
        metadata.contains("width") && metadata.contains("320"),
        "{metadata}"
    );
    assert!(audio >= 50 && video >= 60, "audio {audio} video {video}");
}

#[test]
fn c_abi_create_destroy_has_no_definite_leaks_under_valgrind() {
    if !have("gcc") {
        return;
    }
    let valgrind_ok = Command::new("valgrind")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !valgrind_ok {
        eprintln!("NOTICE: valgrind not installed (scripts/test.sh installs it); skipping");
        return;
    }
    let Some(lib) = library_dir() else {
        panic!("librtmp_client.a not found beside the test binary");
    };
    let dir = TempDir::new("client-valgrind");
    let harness = dir.path().join("create_destroy");
    compile_c(
        &client_crate().join("tests/c/create_destroy.c"),
        &harness,
        &lib,
        true,
    );
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rtmp-server"));
    let server = ServerProcess::start(&bin);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (ok, out, err) = run(
        Command::new("valgrind")
            .args(["--leak-check=full", "--errors-for-leak-kinds=definite"])
            .args(["--error-exitcode=99", "--quiet"])
            .arg(&harness)
            .arg(format!("rtmp://127.0.0.1:{closed}/live/none"))
            .arg(server.rtmp_url("valgrind")),
        Duration::from_secs(120),
    );
    assert!(
        ok && out.contains("create/destroy ok"),
        "valgrind found leaks or errors:\n{out}\n{err}"
    );
    assert!(!err.contains("definitely lost"), "{err}");
}

/// Elementary streams as encoders emit them: `codec` ("libx264" or
/// "libx265") Annex-B with an access unit delimiter before each picture, no
/// B-frames, 2 s at 25 fps; and 2 s of ADTS AAC.
fn elementary_streams(ffmpeg: &Path, dir: &Path, codec: &str) -> (Vec<u8>, Vec<u8>) {
    let (video, audio) = (dir.join(format!("{codec}.es")), dir.join("audio.aac"));
    let params = if codec == "libx265" {
        ["-x265-params", "aud=1:bframes=0:log-level=error"]
    } else {
        ["-x264-params", "aud=1:bframes=0"]
    };
    let (ok, _, err) = run(
        Command::new(ffmpeg)
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg("testsrc2=size=320x240:rate=25")
            .args(["-t", "2", "-c:v", codec, "-g", "25", "-pix_fmt", "yuv420p"])
            .args(params)
            .args(["-f", if codec == "libx265" { "hevc" } else { "h264" }])
            .arg(&video)
            .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"])
            .args(["-t", "2", "-map", "1:a", "-c:a", "aac", "-f", "adts"])
            .arg(&audio),
        Duration::from_secs(60),
    );
    assert!(ok, "ffmpeg: {err}");
    (std::fs::read(video).unwrap(), std::fs::read(audio).unwrap())
}

/// Splits an Annex-B stream into access units at its delimiters.
fn access_units(stream: &[u8], hevc: bool) -> Vec<&[u8]> {
    let is_aud = |i: usize| {
        stream.get(i..i + 4) == Some(&[0, 0, 0, 1])
            && stream.get(i + 4).is_some_and(|h| {
                if hevc {
                    (h >> 1) & 0x3F == 35
                } else {
                    h & 0x1F == 9
                }
            })
    };
    let starts: Vec<usize> = (0..stream.len()).filter(|i| is_aud(*i)).collect();
    starts
        .iter()
        .zip(starts.iter().skip(1).chain(std::iter::once(&stream.len())))
        .map(|(a, b)| &stream[*a..*b])
        .collect()
}

/// Publishes `video` (Annex-B access units at 25 fps) and `audio` (ADTS)
/// interleaved in time order, paced like a live encoder.
fn publish_frames(url: &str, codec: rtmp_client::VideoCodec, video: &[u8], audio: &[u8]) {
    use rtmp_client::{AacFormat, NalFormat};
    let hevc = codec == rtmp_client::VideoCodec::Hevc;
    let mut items: Vec<(u32, bool, &[u8])> = access_units(video, hevc)
        .into_iter()
        .enumerate()
        .map(|(i, au)| (i as u32 * 40, true, au))
        .collect();
    let mut rest = audio;
    let mut n = 0u32;
    while let Ok(frame) = media_core::adts::parse_adts(rest) {
        let whole = &rest[..frame.frame_len];
        items.push((n * 1024 * 1000 / 44100, false, whole));
        rest = &rest[frame.frame_len..];
        n += 1;
    }
    assert!(items.len() > 80, "{} frames", items.len());
    items.sort_by_key(|(ts, video, _)| (*ts, !*video));
    let mut client = rtmp_client::Client::new(url).expect("url");
    if hevc {
        client.enable_enhanced_rtmp().unwrap();
    }
    client.publish().expect("publish");
    let start = std::time::Instant::now();
    for (ts, is_video, data) in items {
        if let Some(wait) = Duration::from_millis(u64::from(ts)).checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        if is_video {
            client
                .write_video_frame(codec, NalFormat::AnnexB, data, ts, ts)
                .expect("video frame");
        } else {
            client
                .write_aac_frame(AacFormat::Adts, data, ts)
                .expect("aac frame");
        }
    }
    client.close().expect("close");
}

#[test]
fn annexb_and_adts_frames_publish_and_an_async_player_reads_them() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let Some(modern) = modern_ffmpeg() else {
        return;
    };
    let dir = TempDir::new("client-frames");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rtmp-server"));
    let server = ServerProcess::start(&bin);
    for (encoder, codec, name) in [
        ("libx264", rtmp_client::VideoCodec::H264, "h264"),
        ("libx265", rtmp_client::VideoCodec::Hevc, "hevc"),
    ] {
        let (video, audio) = elementary_streams(&modern, dir.path(), encoder);
        let url = server.rtmp_url(&format!("frames_{name}"));
        // The async client plays: the first video packet must be the
        // sequence header the packager built from the in-band SPS/PPS.
        let play_url = url.clone();
        let player = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut client = rtmp_client::AsyncClient::new(&play_url).unwrap();
                client.play().await.expect("async play");
                let (mut first_video, mut videos, mut audios) = (None, 0, 0);
                while videos < 40 {
                    let p = client.read_packet().await.expect("async read");
                    match p.tag_type {
                        media_core::flv::TagType::Video => {
                            first_video.get_or_insert(p.payload.clone());
                            videos += 1;
                        }
                        media_core::flv::TagType::Audio => audios += 1,
                        _ => {}
                    }
                }
                client.close().await.expect("async close");
                (first_video.unwrap_or_default(), audios)
            })
        });
        let recorded = dir.path().join(format!("{name}.flv"));
        let recorder = spawn(
            Command::new(&modern)
                .args(["-v", "error", "-y", "-rw_timeout", "8000000", "-i"])
                .arg(&url)
                .args(["-t", "1.5", "-c", "copy", "-f", "flv"])
                .arg(&recorded),
        );
        std::thread::sleep(Duration::from_millis(400));
        publish_frames(&url, codec, &video, &audio);

        let (header, audios) = player.join().expect("player");
        let (h, _) = media_core::flv::VideoTagHeader::parse(&header).expect("video tag");
        assert!(h.is_sequence_header(), "{name}: first video packet {h:?}");
        assert!(audios >= 20, "{name}: {audios} audio packets");
        let (ok, log) = finish(recorder, Duration::from_secs(15));
        assert!(ok, "{name}: ffmpeg could not play the frames: {log}");
        // The recording decodes: its codec and frames, through the modern
        // ffmpeg (HEVC in Enhanced RTMP FLV needs ffmpeg 6.1+).
        let (ok, _, err) = run(
            Command::new(&modern)
                .args(["-v", "error", "-i"])
                .arg(&recorded)
                .args(["-f", "null", "-"]),
            Duration::from_secs(30),
        );
        assert!(ok && err.trim().is_empty(), "{name}: decode errors: {err}");
        let (_, _, info) = run(
            Command::new(&modern).arg("-i").arg(&recorded),
            Duration::from_secs(30),
        );
        assert!(info.contains(&format!("Video: {name}")), "{name}: {info}");
        assert!(
            info.contains("320x240") && info.contains("Audio: aac"),
            "{info}"
        );
    }
}

/// Where cargo put the rtmp-client example `name`: `target/<profile>/examples`,
/// beside this test binary's `deps`. `cargo test --workspace` (and
/// `cargo build -p rtmp-client --examples`) builds them; `cargo test -p
/// server-tokio` alone does not.
fn built_example(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile = exe.parent()?.parent()?;
    let path = profile.join("examples").join(name);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "NOTICE: {} not built (cargo build -p rtmp-client --examples); skipping",
            path.display()
        );
        None
    }
}

#[test]
fn rust_examples_publish_a_file_and_play_it_back_into_a_file() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let (Some(publish), Some(play)) = (built_example("publish_flv"), built_example("play_flv"))
    else {
        return;
    };
    let dir = TempDir::new("client-examples");
    let input = short_flv(dir.path());
    let sent = probe(&input);
    let (sent_video, sent_audio) = (frames(&sent, "h264"), frames(&sent, "aac"));
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rtmp-server"));
    let server = ServerProcess::start(&bin);
    let url = server.rtmp_url("rexamples");

    // The player first (it waits for the stream), then the publisher.
    let recorded = dir.path().join("played.flv");
    let player = spawn(Command::new(&play).arg(&url).arg(&recorded).arg("4"));
    std::thread::sleep(Duration::from_millis(500));
    let (ok, log) = finish(
        spawn(Command::new(&publish).arg(&input).arg(&url)),
        Duration::from_secs(20),
    );
    assert!(ok && log.contains("published"), "publish_flv: {log}");
    let (ok, log) = finish(player, Duration::from_secs(15));
    assert!(ok && log.contains("recorded"), "play_flv: {log}");
    assert!(
        log.contains("metadata"),
        "play_flv saw no onMetaData: {log}"
    );

    // The published codecs, and about every frame (the player joined
    // before the first one; the last may still be in flight at close).
    let got = probe(&recorded);
    let (video, audio) = (frames(&got, "h264"), frames(&got, "aac"));
    assert!(
        sent_video >= 70 && video + 5 >= sent_video && video <= sent_video,
        "sent {sent}\nrecorded {got}"
    );
    assert!(
        audio + 8 >= sent_audio && audio <= sent_audio,
        "sent {sent}\nrecorded {got}"
    );
}

/// What the `rtmp_client_play_loop` callback saw.
#[derive(Default)]
struct LoopSeen {
    videos: u32,
    audios: u32,
    first_video: Vec<u8>,
    first_audio: Vec<u8>,
}

/// The C callback: counts packets, keeps the first body of each kind, and
/// stops the loop after 30 video packets.
unsafe extern "C" fn count_packets(
    user_data: *mut std::ffi::c_void,
    packet_type: u8,
    _timestamp: u32,
    data: *const u8,
    size: u32,
) -> std::ffi::c_int {
    // SAFETY: user_data is the &mut LoopSeen the test passed; data is
    // `size` bytes lent for this call.
    let (seen, body) = unsafe {
        (
            &mut *user_data.cast::<LoopSeen>(),
            std::slice::from_raw_parts(data, size as usize),
        )
    };
    if packet_type == rtmp_client::ffi::RTMP_CLIENT_TYPE_VIDEO {
        if seen.videos == 0 {
            seen.first_video = body.to_vec();
        }
        seen.videos += 1;
    } else if packet_type == rtmp_client::ffi::RTMP_CLIENT_TYPE_AUDIO {
        if seen.audios == 0 {
            seen.first_audio = body.to_vec();
        }
        seen.audios += 1;
    }
    std::ffi::c_int::from(seen.videos >= 30)
}

/// Plays `url` through the C ABI's callback loop.
fn play_with_c_loop(url: &str) -> (std::ffi::c_int, LoopSeen) {
    use rtmp_client::ffi::*;
    let url = std::ffi::CString::new(url).unwrap();
    let mut seen = LoopSeen::default();
    // SAFETY: the C ABI used as documented: a live client, one thread, a
    // callback matching rtmp_client_packet_callback_t and its user data.
    unsafe {
        let client = rtmp_client_create(url.as_ptr());
        assert!(!client.is_null());
        assert_eq!(rtmp_client_set_timeout(client, 5000, 5000), RTMP_CLIENT_OK);
        assert_eq!(rtmp_client_play_stream(client), RTMP_CLIENT_OK);
        let rc = rtmp_client_play_loop(
            client,
            Some(count_packets),
            std::ptr::addr_of_mut!(seen).cast(),
        );
        rtmp_client_close(client);
        rtmp_client_destroy(client);
        (rc, seen)
    }
}

#[test]
fn c_frames_example_publishes_h264_and_raw_aac_and_a_c_play_loop_reads_them() {
    if !have("gcc") || !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let Some(lib) = library_dir() else {
        panic!("librtmp_client.a not found beside the test binary");
    };
    let dir = TempDir::new("client-c-frames");
    let publish = dir.path().join("publish_frames");
    compile_c(
        &client_crate().join("examples/c/publish_frames.c"),
        &publish,
        &lib,
        true,
    );
    let (video, audio) = elementary_streams(Path::new("ffmpeg"), dir.path(), "libx264");
    let (h264, aac) = (dir.path().join("in.h264"), dir.path().join("in.aac"));
    std::fs::write(&h264, video).unwrap();
    std::fs::write(&aac, audio).unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rtmp-server"));
    let server = ServerProcess::start(&bin);
    let url = server.rtmp_url("cframes");

    let loop_url = url.clone();
    let player = std::thread::spawn(move || play_with_c_loop(&loop_url));
    let recorded = dir.path().join("recorded.flv");
    let recorder = spawn(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-rw_timeout", "8000000", "-i"])
            .arg(&url)
            .args(["-t", "1.5", "-c", "copy", "-f", "flv"])
            .arg(&recorded),
    );
    std::thread::sleep(Duration::from_millis(400));
    let (ok, log) = finish(
        spawn(Command::new(&publish).arg(&h264).arg(&aac).arg(&url)),
        Duration::from_secs(20),
    );
    assert!(
        ok && log.contains("published 50 video"),
        "publish_frames: {log}"
    );

    let (rc, seen) = player.join().expect("play loop");
    // Stopped by the callback (RTMP_CLIENT_OK) after 30 pictures; the first
    // of each kind is the sequence header the library built: AVC (7, key
    // frame, packet type 0) and AAC (10, packet type 0) from the config.
    assert_eq!(rc, rtmp_client::ffi::RTMP_CLIENT_OK);
    assert_eq!(seen.videos, 30);
    assert!(seen.audios >= 20, "{} audio packets", seen.audios);
    assert_eq!(seen.first_video.get(..2), Some(&[0x17, 0][..]));
    assert_eq!(seen.first_audio.get(..2), Some(&[0xAF, 0][..]));

    let (ok, log) = finish(recorder, Duration::from_secs(15));
    assert!(ok, "ffmpeg could not play the C frames: {log}");
    let (ok, _, err) = run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&recorded)
            .args(["-f", "null", "-"]),
        Duration::from_secs(30),
    );
    assert!(ok && err.trim().is_empty(), "decode errors: {err}");
    let p = probe(&recorded);
    assert!(frames(&p, "h264") >= 25, "{p}");
    assert!(frames(&p, "aac") >= 40, "{p}");
}
