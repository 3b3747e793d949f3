//! E-AC-3 against ffmpeg's encoder: the `bsi` walk must reach `bsmod`
//! through the mixing metadata ffmpeg writes for 5.1 (ETSI TS 102 366
//! E.1.2.2), and every syncframe of the file must read the same, so the
//! `dec3` box (F.6) says what the encoder was told.

mod flv_support;

use flv_support::*;
use media_core::ac3::Eac3Header;

#[test]
fn ffmpeg_eac3_service_type_reaches_dec3() {
    if !have_ffmpeg("ffmpeg_eac3_service_type_reaches_dec3") {
        return;
    }
    let dir = temp_dir("eac3");
    let out = dir.join("vi.ec3");
    // audio_service_type "vi" is bsmod 2 (visually impaired, Table 4.1);
    // dmix_mode and copyright make ffmpeg send mixmdate and infomdate.
    if let Err(e) = ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=d=0.3:r=48000",
        "-ac",
        "6",
        "-c:a",
        "eac3",
        "-audio_service_type",
        "vi",
        "-dmix_mode",
        "ltrt",
        "-copyright",
        "1",
        "-f",
        "eac3",
        out.to_str().unwrap(),
    ]) {
        eprintln!("NOTICE: this ffmpeg cannot encode E-AC-3: {e}");
        return;
    }
    let file = std::fs::read(&out).unwrap();
    let mut at = 0;
    let mut frames = 0;
    while at + 4 < file.len() {
        let h = Eac3Header::parse(&file[at..]).unwrap();
        assert_eq!((h.sample_rate, h.channels, h.samples), (48_000, 6, 1536));
        assert_eq!((h.bsmod, h.num_dep_sub), (2, 0), "frame {frames}");
        // fscod 0, bsid 16, reserved, asvc 0, bsmod 010, acmod 111,
        // lfeon 1, reserved 000, num_dep_sub 0000, reserved 0.
        assert_eq!(&h.dec3()[2..], [0b0010_0000, 0b0010_1111, 0x00]);
        // frmsiz: the syncframe's 16-bit words minus one.
        at += (usize::from(file[at + 2] & 7) << 8 | usize::from(file[at + 3])) * 2 + 2;
        frames += 1;
    }
    assert!(frames >= 9, "{frames} frames");
    std::fs::remove_dir_all(&dir).ok();
}
