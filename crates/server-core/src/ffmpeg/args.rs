//! The ffmpeg command line SRS builds (`SrsFFMPEG::start`), argument for
//! argument and in its order:
//!
//! ```text
//! ffmpeg <iparams> <perfile> [-f <iformat>] -i <input> <vfilter>
//!        -vcodec <vcodec> | -vn
//!        [-b:v <vbitrate*1000>] [-r <vfps>] [-s <w>x<h>] [-aspect <w>:<h>]
//!        [-threads <vthreads>] [-profile:v <vprofile>] [-preset <vpreset>] <vparams>
//!        -acodec <acodec> | -an
//!        [-b:a <abitrate*1000>] [-ar <asample_rate>] [-ac <achannels>] <aparams>
//!        [-f <oformat>] -y <output>
//! ```
//!
//! The video options are left out when video is copied or dropped, the
//! audio ones when audio is (with `acodec copy`, only `-bsf:a
//! aac_adtstoasc` of `aparams` is kept). `iparams` are the ingest's
//! (`-loglevel`, `-re`, ...). SRS appends `1 > LOG 2 > LOG` for its own
//! spawner; here the log file is given to the runtime instead
//! ([`crate::process::ProcessLog`]).

use super::engine::{EngineConfig, CODEC_COPY, CODEC_NO_AUDIO, CODEC_NO_VIDEO};

/// The arguments (without the program) for `engine` reading `input`.
/// `engine.output` must already be expanded.
pub fn build(iparams: &[String], input: &str, engine: &EngineConfig) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let push = |a: &mut Vec<String>, items: &[String]| {
        a.extend(items.iter().filter(|p| !p.is_empty()).cloned());
    };
    push(&mut a, iparams);
    push(&mut a, &engine.perfile);
    // SRS: no input format for what is not RTMP (issue 290: `-f flv`
    // before `-i udp://...`).
    let iformat = if input.starts_with("rtmp://") {
        engine.iformat.as_str()
    } else {
        ""
    };
    if !iformat.is_empty() && iformat != "off" {
        a.extend(["-f".to_owned(), iformat.to_owned()]);
    }
    a.extend(["-i".to_owned(), input.to_owned()]);
    push(&mut a, &engine.vfilter);

    let (w, h) = (
        engine.vwidth - engine.vwidth % 2,
        engine.vheight - engine.vheight % 2,
    );
    if engine.vcodec == CODEC_NO_VIDEO {
        a.push("-vn".to_owned());
    } else {
        a.extend(["-vcodec".to_owned(), engine.vcodec.clone()]);
    }
    if engine.vcodec != CODEC_COPY && engine.vcodec != CODEC_NO_VIDEO {
        if engine.vbitrate > 0 {
            a.extend([
                "-b:v".to_owned(),
                (u64::from(engine.vbitrate) * 1000).to_string(),
            ]);
        }
        if engine.vfps > 0.0 {
            a.extend(["-r".to_owned(), format!("{:.2}", engine.vfps)]);
        }
        if w > 0 && h > 0 {
            a.extend(["-s".to_owned(), format!("{w}x{h}")]);
            a.extend(["-aspect".to_owned(), format!("{w}:{h}")]);
        }
        if engine.vthreads > 0 {
            a.extend(["-threads".to_owned(), engine.vthreads.to_string()]);
        }
        if !engine.vprofile.is_empty() {
            a.extend(["-profile:v".to_owned(), engine.vprofile.clone()]);
        }
        if !engine.vpreset.is_empty() {
            a.extend(["-preset".to_owned(), engine.vpreset.clone()]);
        }
        push(&mut a, &engine.vparams);
    }

    if engine.acodec == CODEC_NO_AUDIO {
        a.push("-an".to_owned());
    } else {
        a.extend(["-acodec".to_owned(), engine.acodec.clone()]);
        if engine.acodec != CODEC_COPY {
            if engine.abitrate > 0 {
                a.extend([
                    "-b:a".to_owned(),
                    (u64::from(engine.abitrate) * 1000).to_string(),
                ]);
            }
            if engine.asample_rate > 0 {
                a.extend(["-ar".to_owned(), engine.asample_rate.to_string()]);
            }
            if engine.achannels > 0 {
                a.extend(["-ac".to_owned(), engine.achannels.to_string()]);
            }
            push(&mut a, &engine.aparams);
        } else {
            let mut it = engine.aparams.iter();
            while let Some(name) = it.next() {
                if name == "-bsf:a" {
                    if let Some(value) = it.next() {
                        if value == "aac_adtstoasc" {
                            a.extend([name.clone(), value.clone()]);
                        }
                    }
                }
            }
        }
    }

    if !engine.oformat.is_empty() && engine.oformat != "off" {
        a.extend(["-f".to_owned(), engine.oformat.clone()]);
    }
    a.extend(["-y".to_owned(), engine.output.clone()]);
    a
}

/// A `vfilter`/`vparams`/`aparams`/`perfile` block's directive as ffmpeg
/// options: `-NAME` (a name already starting with `-` is kept) and its
/// value, if it has one (SRS's `srs_prefix_underscores_ifno`).
pub fn option(name: &str, value: Option<&str>) -> Vec<String> {
    let mut out = vec![if name.starts_with('-') {
        name.to_owned()
    } else {
        format!("-{name}")
    }];
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        out.push(v.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    /// full.conf's `example` engine: every option, in SRS's order.
    fn example() -> EngineConfig {
        let mut e = EngineConfig::srs_default("example");
        e.enabled = true;
        e.perfile = [option("re", None), option("rtsp_transport", Some("tcp"))].concat();
        e.vfilter = [
            option("i", Some("./doc/ffmpeg-logo.png")),
            option("filter_complex", Some("overlay=10:10")),
        ]
        .concat();
        e.vcodec = "libx264".into();
        e.vbitrate = 1500;
        e.vfps = 25.0;
        e.vwidth = 768;
        e.vheight = 320;
        e.vthreads = 12;
        e.vprofile = "main".into();
        e.vpreset = "medium".into();
        e.vparams = [
            option("t", Some("100")),
            option("coder", Some("1")),
            option("b_strategy", Some("2")),
            option("bf", Some("3")),
            option("refs", Some("10")),
        ]
        .concat();
        e.acodec = "libfdk_aac".into();
        e.abitrate = 70;
        e.asample_rate = 44100;
        e.achannels = 2;
        e.aparams = [
            option("profile:a", Some("aac_low")),
            option("bsf:a", Some("aac_adtstoasc")),
        ]
        .concat();
        e.output = "rtmp://127.0.0.1:1935/live/livestream_example?vhost=v".into();
        e
    }

    #[test]
    fn transcode_args_follow_srs_order() {
        let args = build(
            &[],
            "rtmp://127.0.0.1:1935/live/livestream?vhost=v",
            &example(),
        );
        assert_eq!(
            args,
            words(
                "-re -rtsp_transport tcp -f flv -i rtmp://127.0.0.1:1935/live/livestream?vhost=v \
                 -i ./doc/ffmpeg-logo.png -filter_complex overlay=10:10 \
                 -vcodec libx264 -b:v 1500000 -r 25.00 -s 768x320 -aspect 768:320 -threads 12 \
                 -profile:v main -preset medium -t 100 -coder 1 -b_strategy 2 -bf 3 -refs 10 \
                 -acodec libfdk_aac -b:a 70000 -ar 44100 -ac 2 -profile:a aac_low -bsf:a aac_adtstoasc \
                 -f flv -y rtmp://127.0.0.1:1935/live/livestream_example?vhost=v"
            )
        );
    }

    #[test]
    fn copy_drops_codec_options_and_keeps_only_the_adts_filter() {
        let mut e = example();
        e.vcodec = "copy".into();
        e.acodec = "copy".into();
        e.aparams = [
            option("profile:a", Some("aac_low")),
            option("-bsf:a", Some("aac_adtstoasc")),
        ]
        .concat();
        e.perfile.clear();
        e.vfilter.clear();
        let args = build(&[], "rtmp://h/a/s", &e);
        assert_eq!(
            args,
            words("-f flv -i rtmp://h/a/s -vcodec copy -acodec copy -bsf:a aac_adtstoasc -f flv -y rtmp://127.0.0.1:1935/live/livestream_example?vhost=v")
        );
    }

    #[test]
    fn audio_only_transcode_copies_video() {
        let mut e = EngineConfig::srs_default("aac");
        e.vcodec = "copy".into();
        e.acodec = "aac".into();
        e.abitrate = 64;
        e.output = "rtmp://o/live/s_aac".into();
        assert_eq!(
            build(&[], "rtmp://i/live/s", &e),
            words("-f flv -i rtmp://i/live/s -vcodec copy -acodec aac -b:a 64000 -f flv -y rtmp://o/live/s_aac")
        );
    }

    #[test]
    fn no_video_no_audio_and_odd_sizes() {
        let mut e = EngineConfig::srs_default("x");
        e.vcodec = "vn".into();
        e.acodec = "an".into();
        e.output = "o.flv".into();
        assert_eq!(
            build(&[], "i.flv", &e),
            words("-i i.flv -vn -an -f flv -y o.flv")
        );
        assert!(e.check().is_err());
        e.vcodec = "libx264".into();
        e.vwidth = 321;
        e.vheight = 181;
        e.vprofile = "baseline".into();
        e.vpreset = "veryfast".into();
        e.iformat = "off".into();
        e.oformat = "off".into();
        assert_eq!(
            build(&[], "rtmp://i/a/s", &e),
            words("-i rtmp://i/a/s -vcodec libx264 -s 320x180 -aspect 320:180 -threads 1 -profile:v baseline -preset veryfast -an -y o.flv")
        );
    }

    #[test]
    fn ingest_copy_of_a_file() {
        let iparams = words("-loglevel info -re -stream_loop -1");
        let e = EngineConfig::copy("rtmp://127.0.0.1:1935/live/livestream");
        assert_eq!(
            build(&iparams, "./doc/source.flv", &e),
            words("-loglevel info -re -stream_loop -1 -i ./doc/source.flv -vcodec copy -acodec copy -f flv -y rtmp://127.0.0.1:1935/live/livestream")
        );
    }

    #[test]
    fn logo_overlay_through_vfilter() {
        let mut e = EngineConfig::srs_default("logo");
        e.vfilter = [
            option("i", Some("/logo.png")),
            option("filter_complex", Some("overlay=10:10")),
        ]
        .concat();
        e.vcodec = "libx264".into();
        e.vprofile = "main".into();
        e.vpreset = "superfast".into();
        e.acodec = "copy".into();
        e.output = "rtmp://o/live/s_logo".into();
        let args = build(&[], "rtmp://i/live/s", &e);
        let i = args.iter().position(|a| a == "-filter_complex").unwrap();
        assert_eq!(
            args[i - 2..i + 2],
            words("-i /logo.png -filter_complex overlay=10:10")[..]
        );
        assert_eq!(args[i + 2], "-vcodec");
        assert_eq!(args.iter().filter(|a| *a == "-i").count(), 2);
    }

    #[test]
    fn options_get_one_dash() {
        assert_eq!(option("vf", Some("crop=1:2")), words("-vf crop=1:2"));
        assert_eq!(option("-re", None), words("-re"));
        assert_eq!(option("re", Some("")), words("-re"));
    }
}
