//! What a client library is handed by its user: an RTMP URL, and encoder
//! output (Annex-B video, ADTS audio) it packages. Nothing may panic; a URL
//! that parses prints back to one that parses the same; every NAL unit
//! split from Annex-B lies inside the input; an ADTS frame never claims
//! bytes past the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use media_core::adts::{audio_specific_config, parse_adts};
use media_core::annexb::{split_annexb, to_length_prefixed};
use media_core::config_record::{avc_record, hevc_record};
use rtmp_proto::url::RtmpUrl;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            if let Ok(url) = RtmpUrl::parse(text) {
                let (_, _) = (url.tc_url_with_query(), url.stream_with_query());
                let again = RtmpUrl::parse(&url.to_string()).expect("a printed URL parses");
                assert_eq!(again, url);
            }
        }
        1 => {
            let units = split_annexb(rest);
            let total: usize = units.iter().map(|u| u.len()).sum();
            assert!(total <= rest.len());
            if let Some(avcc) = to_length_prefixed(&units) {
                assert_eq!(avcc.len(), total + 4 * units.len());
            }
            let of = |t: u8, hevc: bool| -> Vec<&[u8]> {
                units
                    .iter()
                    .copied()
                    .filter(|u| {
                        u.first().is_some_and(|h| {
                            if hevc {
                                (h >> 1) & 0x3F == t
                            } else {
                                h & 0x1F == t
                            }
                        })
                    })
                    .collect()
            };
            if let Ok(record) = avc_record(&of(7, false), &of(8, false)) {
                let _ = media_core::avc::AvcConfig::parse(&record);
            }
            if let Ok(record) = hevc_record(&of(32, true), &of(33, true), &of(34, true)) {
                let _ = media_core::hevc::HevcConfig::parse(&record);
            }
        }
        _ => {
            let mut input = rest;
            while let Ok(frame) = parse_adts(input) {
                assert!(frame.frame_len <= input.len() && frame.frame_len >= 7);
                let _ = audio_specific_config(&frame.config);
                input = input.get(frame.frame_len..).unwrap_or_default();
            }
        }
    }
});
