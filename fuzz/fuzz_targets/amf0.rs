//! AMF0: decode arbitrary bytes; whatever decodes must re-encode to bytes that
//! decode to the same values (NaN-aware), and re-encoding is idempotent.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_proto::amf0::{decode, encode, Amf0Value};

/// Structural equality where numbers compare by bit pattern (so NaN == NaN).
fn same(a: &Amf0Value, b: &Amf0Value) -> bool {
    a.bitwise_eq(b)
}

fuzz_target!(|data: &[u8]| {
    let Ok(values) = decode(data) else {
        return;
    };
    let mut bytes = Vec::new();
    encode(&values, &mut bytes);
    let again = decode(&bytes).expect("our own encoding decodes");
    let mut bytes2 = Vec::new();
    encode(&again, &mut bytes2);
    assert_eq!(bytes, bytes2, "re-encoding is idempotent");
    // Lossy UTF-8 decoding can grow a string up to 3x; only past the 16-bit
    // length limits does the encoder then normalise it (String -> LongString,
    // truncated keys). Below 21846 input bytes that cannot happen, so the
    // values must survive exactly.
    if data.len() < 21_846 {
        assert_eq!(values.len(), again.len());
        for (a, b) in values.iter().zip(&again) {
            assert!(same(a, b), "{a:?} != {b:?}");
        }
    }
});
