//! H.264 and H.265 sequence parameter sets: the input as is, and behind a
//! valid NAL header so the fuzzer reaches the fields. Nothing may panic; a
//! parsed size is never zero and never above the limits.
#![no_main]
use libfuzzer_sys::fuzz_target;
use media_core::{avc, hevc};

fuzz_target!(|data: &[u8]| {
    let with_avc_header = [&[0x67][..], data].concat();
    for nal in [data, &with_avc_header[..]] {
        if let Ok(s) = avc::Sps::parse(nal) {
            assert!(s.width > 0 && s.width <= avc::MAX_DIMENSION);
            assert!(s.height > 0 && s.height <= avc::MAX_DIMENSION);
        }
    }
    let with_hevc_header = [&[0x42, 0x01][..], data].concat();
    for nal in [data, &with_hevc_header[..]] {
        if let Ok(s) = hevc::Sps::parse(nal) {
            assert!(s.width > 0 && s.width <= hevc::MAX_DIMENSION);
            assert!(s.height > 0 && s.height <= hevc::MAX_DIMENSION);
        }
    }
});
