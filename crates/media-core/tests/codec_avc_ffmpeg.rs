//! H.264 against libx264 in its many shapes: the SPS fields we read must
//! match ffprobe (cropping, interlace, 4:2:2/4:4:4, 10-bit, scaling
//! matrices), and access units stripped of their parameter sets and put back
//! by `avc::to_annexb` from an avcC record must decode cleanly, frame for frame.

mod flv_support;

use flv_support::*;
use media_core::avc::{self, AvcConfig, Sps};

struct Variant {
    name: &'static str,
    size: &'static str,
    args: &'static [&'static str],
    interlaced: bool,
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "high",
        size: "640x360",
        args: &[],
        interlaced: false,
    },
    Variant {
        name: "baseline-cropped",
        size: "638x358",
        args: &["-profile:v", "baseline"],
        interlaced: false,
    },
    Variant {
        name: "interlaced",
        size: "1920x1080",
        args: &["-flags", "+ildct+ilme"],
        interlaced: true,
    },
    Variant {
        name: "high444-cqm",
        size: "640x360",
        args: &["-pix_fmt", "yuv444p", "-x264-params", "cqm=jvt"],
        interlaced: false,
    },
    Variant {
        name: "high422-10bit",
        size: "640x360",
        args: &["-pix_fmt", "yuv422p10le"],
        interlaced: false,
    },
];

fn record(sps: &[u8], pps: &[u8], length_size: u8) -> Vec<u8> {
    let mut rec = vec![1, sps[1], sps[2], sps[3], 0xfc | (length_size - 1), 0xe1];
    rec.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    rec.extend_from_slice(sps);
    rec.push(1);
    rec.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    rec.extend_from_slice(pps);
    rec
}

#[test]
fn x264_sps_and_annexb_round_trip() {
    if !have_ffmpeg("x264_sps_and_annexb_round_trip") {
        return;
    }
    let dir = temp_dir("codec-avc");
    let mut checked = 0;
    for v in VARIANTS {
        let file = dir.join(format!("{}.h264", v.name));
        let src = format!("testsrc2=size={}:rate=25", v.size);
        let mut args = vec!["-f", "lavfi", "-i", &src, "-t", "1", "-c:v", "libx264"];
        args.extend_from_slice(v.args);
        args.extend_from_slice(&["-f", "h264", file.to_str().unwrap()]);
        if let Err(e) = ffmpeg(&args) {
            assert_ne!(v.name, "high", "plain libx264 must work: {e}");
            eprintln!("NOTICE: this ffmpeg cannot encode {}: {e}", v.name);
            continue;
        }
        let probe = ffprobe_streams(&file, Some("h264"));
        let pv = stream(&probe, "video");
        let data = std::fs::read(&file).unwrap();
        let nals = split_annexb(&data);
        let sps_nal = *nals.iter().find(|n| n[0] & 0x1f == 7).unwrap();
        let pps_nal = *nals.iter().find(|n| n[0] & 0x1f == 8).unwrap();
        let sps = Sps::parse(sps_nal).unwrap();
        assert_eq!(
            (sps.width, sps.height),
            (num(pv, "width"), num(pv, "height")),
            "{}",
            v.name
        );
        let pix_fmt = pv["pix_fmt"].as_str();
        let chroma = match &pix_fmt[..7] {
            "yuv420p" | "yuvj420" => 1,
            "yuv422p" => 2,
            "yuv444p" => 3,
            other => panic!("{other}"),
        };
        assert_eq!(sps.chroma_format_idc, chroma, "{}", v.name);
        let depth = if pix_fmt.ends_with("10le") { 10 } else { 8 };
        assert_eq!(
            (sps.bit_depth_luma, sps.bit_depth_chroma),
            (depth, depth),
            "{}",
            v.name
        );
        assert_eq!(sps.frame_mbs_only, !v.interlaced, "{}", v.name);
        assert_eq!(u32::from(sps.level_idc), num(pv, "level"), "{}", v.name);

        // Parameter sets out of band, then back in through to_annexb.
        let units = avc_access_units(&nals);
        let largest = nals.iter().map(|n| n.len()).max().unwrap();
        let sizes: &[u8] = if largest < 0x1_0000 {
            &[2, 3, 4]
        } else {
            &[3, 4]
        };
        for &size in sizes {
            let config = AvcConfig::parse(&record(sps_nal, pps_nal, size)).unwrap();
            assert_eq!(config.nal_length_size, size);
            let mut out = Vec::new();
            for au in &units {
                let coded: Vec<&[u8]> = au
                    .iter()
                    .copied()
                    .filter(|n| !matches!(n[0] & 0x1f, 7..=9))
                    .collect();
                let key = au.iter().any(|n| n[0] & 0x1f == 5);
                avc::to_annexb(
                    &config,
                    &length_prefixed(&coded, size.into()),
                    key,
                    &mut out,
                )
                .unwrap();
            }
            let rebuilt = dir.join(format!("{}-{size}.h264", v.name));
            std::fs::write(&rebuilt, &out).unwrap();
            let (errors, frames) = decode_errors(&rebuilt, Some("h264"));
            assert_eq!(errors, "", "{} size {size}", v.name);
            assert_eq!(frames, units.len(), "{} size {size}", v.name);
            assert_eq!(units.len(), 25);
        }
        checked += 1;
    }
    assert!(checked >= 3);
    std::fs::remove_dir_all(&dir).ok();
}
