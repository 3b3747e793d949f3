//! AMF0 decoding of hostile input: nesting bombs, lying lengths, junk.

use rtmp_proto::amf0::{decode, Amf0Error, Amf0Value, MAX_DEPTH};

/// `levels` objects nested in each other: `{ "a": { "a": ... null } }`.
fn nested_objects(levels: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for _ in 0..levels {
        bytes.extend_from_slice(&[0x03, 0, 1, b'a']);
    }
    bytes.push(0x05);
    for _ in 0..levels {
        bytes.extend_from_slice(&[0, 0, 0x09]);
    }
    bytes
}

fn depth_of(v: &Amf0Value) -> usize {
    match v {
        Amf0Value::Object(p) | Amf0Value::EcmaArray(p) => {
            1 + p.iter().map(|(_, v)| depth_of(v)).max().unwrap_or(0)
        }
        Amf0Value::TypedObject { properties, .. } => {
            1 + properties
                .iter()
                .map(|(_, v)| depth_of(v))
                .max()
                .unwrap_or(0)
        }
        Amf0Value::StrictArray(items) => 1 + items.iter().map(depth_of).max().unwrap_or(0),
        _ => 0,
    }
}

#[test]
fn nesting_up_to_max_depth_is_accepted() {
    let values = decode(&nested_objects(MAX_DEPTH)).unwrap();
    assert_eq!(depth_of(&values[0]), MAX_DEPTH);
}

#[test]
fn nesting_past_max_depth_errors() {
    assert_eq!(
        decode(&nested_objects(MAX_DEPTH + 1)),
        Err(Amf0Error::DepthExceeded { limit: MAX_DEPTH })
    );
    // A deep bomb of strict arrays, ECMA arrays and typed objects (no ends at all).
    let mut bomb = Vec::new();
    for i in 0..100_000 {
        match i % 3 {
            0 => bomb.extend_from_slice(&[0x0a, 0, 0, 0, 1]),
            1 => bomb.extend_from_slice(&[0x08, 0, 0, 0, 1, 0, 1, b'k']),
            _ => bomb.extend_from_slice(&[0x10, 0, 1, b'C', 0, 1, b'k']),
        }
    }
    assert_eq!(
        decode(&bomb),
        Err(Amf0Error::DepthExceeded { limit: MAX_DEPTH })
    );
}

#[test]
fn lying_lengths_error_out() {
    // String claiming 65535 bytes, 3 present.
    assert!(matches!(
        decode(&[0x02, 0xff, 0xff, b'a', b'b', b'c']),
        Err(Amf0Error::Truncated(_))
    ));
    // XML document claiming 4 GiB.
    assert!(matches!(
        decode(&[0x0f, 0xff, 0xff, 0xff, 0xff]),
        Err(Amf0Error::Truncated(_))
    ));
    // Property name claiming 65535 bytes inside an object.
    assert!(matches!(
        decode(&[0x03, 0xff, 0xff, b'a']),
        Err(Amf0Error::Truncated(_))
    ));
    // Strict array of 1000 declared elements with 999 bytes of elements.
    let mut arr = vec![0x0a, 0, 0, 0x03, 0xe8];
    arr.resize(5 + 999, 0x05);
    assert_eq!(
        decode(&arr),
        Err(Amf0Error::ArrayCountExceedsInput {
            declared: 1000,
            remaining: 999
        })
    );
    // Same array with enough bytes, but elements that are too short.
    let mut arr2 = vec![0x0a, 0, 0, 0x03, 0xe8];
    arr2.resize(5 + 1000, 0x00);
    assert!(matches!(decode(&arr2), Err(Amf0Error::Truncated(_))));
}

#[test]
fn garbage_after_valid_values_is_reported() {
    // A valid command followed by an AMF3 switch.
    let bytes = [0x02, 0, 4, b'p', b'l', b'a', b'y', 0x11, 0x02];
    assert_eq!(decode(&bytes), Err(Amf0Error::Amf3NotSupported));
}
