//! H.265 against libx265. Debian's ffmpeg cannot put HEVC in FLV, so the test
//! encodes a raw Annex-B stream, builds the HEVCDecoderConfigurationRecord
//! itself from the VPS/SPS/PPS, and checks what we read against ffprobe:
//! profile, level, size after the conformance window. Access units stripped
//! of their parameter sets and rebuilt by `hevc::to_annexb` must decode
//! cleanly, frame for frame.

mod flv_support;

use flv_support::*;
use media_core::bits::unescape_rbsp;
use media_core::hevc::{self, HevcConfig, Sps};

/// An hvcC record (14496-15 8.3.3.1.2) whose general profile/tier/level
/// fields are copied from the SPS's profile_tier_level.
fn record(vps: &[u8], sps: &[u8], pps: &[u8], length_size: u8) -> Vec<u8> {
    let rbsp = unescape_rbsp(&sps[2..]);
    // rbsp[0] = vps id, sub layers, nesting; then 12 bytes of general PTL.
    let mut rec = vec![1];
    rec.extend_from_slice(&rbsp[1..13]);
    rec.extend_from_slice(&[0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0]);
    rec.push(0x0c | (length_size - 1));
    rec.push(3);
    for (t, nal) in [(32u8, vps), (33, sps), (34, pps)] {
        rec.extend_from_slice(&[0x80 | t, 0, 1]);
        rec.extend_from_slice(&(nal.len() as u16).to_be_bytes());
        rec.extend_from_slice(nal);
    }
    rec
}

fn nal_type(n: &[u8]) -> u8 {
    (n[0] >> 1) & 0x3f
}

#[test]
fn x265_sps_config_and_annexb_round_trip() {
    if !have_ffmpeg("x265_sps_config_and_annexb_round_trip") {
        return;
    }
    let dir = temp_dir("codec-hevc");
    let mut checked = 0;
    for (size, pix_fmt) in [
        ("1280x720", "yuv420p"),
        ("638x358", "yuv420p"),
        ("640x360", "yuv420p10le"),
        ("640x360", "yuv422p"),
    ] {
        let name = format!("{size}-{pix_fmt}");
        let file = dir.join(format!("{name}.hevc"));
        let src = format!("testsrc2=size={size}:rate=25");
        let args = [
            "-f",
            "lavfi",
            "-i",
            &src,
            "-t",
            "1",
            "-pix_fmt",
            pix_fmt,
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error:keyint=10",
            "-f",
            "hevc",
            file.to_str().unwrap(),
        ];
        if let Err(e) = ffmpeg(&args) {
            assert_ne!(size, "1280x720", "plain libx265 must work: {e}");
            eprintln!("NOTICE: this ffmpeg cannot encode HEVC {name}: {e}");
            continue;
        }
        let probe = ffprobe_streams(&file, Some("hevc"));
        let pv = stream(&probe, "video");
        let data = std::fs::read(&file).unwrap();
        let nals = split_annexb(&data);
        let find = |t: u8| *nals.iter().find(|n| nal_type(n) == t).unwrap();
        let (vps, sps_nal, pps) = (find(32), find(33), find(34));

        let sps = Sps::parse(sps_nal).unwrap();
        assert_eq!(
            (sps.width, sps.height),
            (num(pv, "width"), num(pv, "height")),
            "{name}"
        );
        assert_eq!(u32::from(sps.level_idc), num(pv, "level"), "{name}");
        let profile = match pv["profile"].as_str() {
            "Main" => 1,
            "Main 10" => 2,
            "Rext" => 4,
            other => panic!("{other}"),
        };
        assert_eq!(sps.profile_idc, profile, "{name}");
        let chroma = if pix_fmt.starts_with("yuv422") { 2 } else { 1 };
        let depth = if pix_fmt.ends_with("10le") { 10 } else { 8 };
        assert_eq!(
            (sps.chroma_format_idc, sps.bit_depth_luma),
            (chroma, depth),
            "{name}"
        );

        let units = hevc_access_units(&nals);
        assert_eq!(units.len(), 25, "{name}");
        for length_size in [2u8, 4] {
            let config = HevcConfig::parse(&record(vps, sps_nal, pps, length_size)).unwrap();
            assert_eq!(
                (config.profile_idc, config.level_idc, config.tier),
                (sps.profile_idc, sps.level_idc, sps.tier)
            );
            assert_eq!(
                (config.vps.len(), config.sps.len(), config.pps.len()),
                (1, 1, 1)
            );
            assert_eq!(Sps::parse(&config.sps[0]).unwrap(), sps);
            let mut out = Vec::new();
            let mut irap = 0;
            for au in &units {
                let coded: Vec<&[u8]> = au
                    .iter()
                    .copied()
                    .filter(|n| !(32..=35).contains(&nal_type(n)))
                    .collect();
                let key = au.iter().any(|n| (16..=23).contains(&nal_type(n)));
                irap += usize::from(key);
                let frame = length_prefixed(&coded, length_size.into());
                hevc::to_annexb(&config, &frame, key, &mut out).unwrap();
            }
            assert!(irap >= 3, "keyint 10 gives several IRAPs");
            let rebuilt = dir.join(format!("{name}-{length_size}.hevc"));
            std::fs::write(&rebuilt, &out).unwrap();
            let (errors, frames) = decode_errors(&rebuilt, Some("hevc"));
            assert_eq!(errors, "", "{name}");
            assert_eq!(frames, units.len(), "{name}");
            let again = ffprobe_streams(&rebuilt, Some("hevc"));
            assert_eq!(stream(&again, "video")["width"], pv["width"]);
            let rebuilt_nals = split_annexb(&out);
            let auds = rebuilt_nals.iter().filter(|n| nal_type(n) == 35).count();
            let spss = rebuilt_nals.iter().filter(|n| nal_type(n) == 33).count();
            assert_eq!((auds, spss), (units.len(), irap), "{name}");
        }
        checked += 1;
    }
    assert!(checked >= 2);
    std::fs::remove_dir_all(&dir).ok();
}
