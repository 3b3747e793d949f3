//! AudioSpecificConfig parsing and ADTS headers: nothing may panic, and an
//! ADTS header always carries the sync word and the frame length asked for.
#![no_main]
use libfuzzer_sys::fuzz_target;
use media_core::aac::{adts_header, AudioSpecificConfig, MAX_ADTS_FRAME_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(asc) = AudioSpecificConfig::parse(data) else {
        return;
    };
    let _ = (asc.sample_rate(), asc.channels(), asc.profile_name());
    let payload_len = data.len() * 37;
    if let Ok(h) = adts_header(&asc, payload_len) {
        assert_eq!((h[0], h[1] & 0xF6), (0xFF, 0xF0));
        let len = (usize::from(h[3] & 3) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
        assert_eq!(len, payload_len + 7);
        assert!(len <= MAX_ADTS_FRAME_LEN);
    }
});
