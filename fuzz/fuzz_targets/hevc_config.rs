//! HEVCDecoderConfigurationRecord then Annex-B conversion: the first two
//! bytes give the record's length, the record comes next, the rest is a
//! frame. Nothing may panic; on error nothing is written.
#![no_main]
use libfuzzer_sys::fuzz_target;
use media_core::hevc::{self, HevcConfig, Sps};

fuzz_target!(|data: &[u8]| {
    let (len, rest) = match data {
        [a, b, rest @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), rest),
        _ => return,
    };
    let (record, frame) = rest.split_at(len.min(rest.len()));
    let Ok(config) = HevcConfig::parse(record) else {
        return;
    };
    for sps in &config.sps {
        let _ = Sps::parse(sps);
    }
    for keyframe in [false, true] {
        let mut out = vec![0xAA];
        match hevc::to_annexb(&config, frame, keyframe, &mut out) {
            Ok(()) => assert!(out.get(1..8) == Some(&[0, 0, 0, 1, 0x46, 0x01, 0x50][..])),
            Err(_) => assert_eq!(out, [0xAA]),
        }
    }
});
