//! AVCDecoderConfigurationRecord then Annex-B conversion: the first two bytes
//! give the record's length, the record comes next, the rest is a frame.
//! Nothing may panic; on error nothing is written; on success the output
//! starts with an access unit delimiter.
#![no_main]
use libfuzzer_sys::fuzz_target;
use media_core::avc::{self, AvcConfig, Sps};

fuzz_target!(|data: &[u8]| {
    let (len, rest) = match data {
        [a, b, rest @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), rest),
        _ => return,
    };
    let (record, frame) = rest.split_at(len.min(rest.len()));
    let Ok(config) = AvcConfig::parse(record) else {
        return;
    };
    assert!((1..=4).contains(&config.nal_length_size));
    for sps in &config.sps {
        let _ = Sps::parse(sps);
    }
    for keyframe in [false, true] {
        let mut out = vec![0xAA];
        match avc::to_annexb(&config, frame, keyframe, &mut out) {
            Ok(()) => assert!(out.get(1..7) == Some(&[0, 0, 0, 1, 9, 0xF0][..])),
            Err(_) => assert_eq!(out, [0xAA]),
        }
    }
});
