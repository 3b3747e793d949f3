//! AMF0 encoding (AMF0 spec 2.2-2.18).
//!
//! Two length normalisations keep every output decodable:
//! - a [`Amf0Value::String`] longer than 65535 bytes is written as a
//!   long string (marker 0x0C), so it decodes as [`Amf0Value::LongString`];
//! - property names and typed-object class names, whose wire length is 16
//!   bits, are truncated to 65535 bytes at a UTF-8 character boundary
//!   (no real peer uses such names; truncation keeps `encode` infallible).
//!
//! Lengths and counts beyond `u32::MAX` cannot occur in practice (no RTMP
//! message can carry them); they saturate and the data is cut to match, so
//! the output stays well-formed.
//!
//! Encoding recurses once per nesting level; values produced by [`decode`]
//! are at most [`MAX_DEPTH`] deep.
//!
//! [`decode`]: super::decode
//! [`MAX_DEPTH`]: super::MAX_DEPTH

use super::{marker, Amf0Value};

/// Appends every value in order (a command body, RTMP spec 7.1.1).
pub fn encode(values: &[Amf0Value], out: &mut Vec<u8>) {
    for v in values {
        encode_value(v, out);
    }
}

/// Appends one value, marker first.
pub fn encode_value(v: &Amf0Value, out: &mut Vec<u8>) {
    match v {
        Amf0Value::Number(n) => {
            out.push(marker::NUMBER);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Amf0Value::Boolean(b) => out.extend_from_slice(&[marker::BOOLEAN, u8::from(*b)]),
        Amf0Value::String(s) => {
            if s.len() <= usize::from(u16::MAX) {
                out.push(marker::STRING);
                short_string(s, out);
            } else {
                out.push(marker::LONG_STRING);
                long_string(s, out);
            }
        }
        Amf0Value::Object(props) => {
            out.push(marker::OBJECT);
            properties(props, out);
        }
        Amf0Value::Null => out.push(marker::NULL),
        Amf0Value::Undefined => out.push(marker::UNDEFINED),
        Amf0Value::Reference(i) => {
            out.push(marker::REFERENCE);
            out.extend_from_slice(&i.to_be_bytes());
        }
        Amf0Value::EcmaArray(props) => {
            out.push(marker::ECMA_ARRAY);
            out.extend_from_slice(&saturating_u32(props.len()).to_be_bytes());
            properties(props, out);
        }
        Amf0Value::StrictArray(items) => {
            out.push(marker::STRICT_ARRAY);
            let count = saturating_u32(items.len());
            out.extend_from_slice(&count.to_be_bytes());
            for item in items
                .iter()
                .take(usize::try_from(count).unwrap_or(usize::MAX))
            {
                encode_value(item, out);
            }
        }
        Amf0Value::Date { millis, timezone } => {
            out.push(marker::DATE);
            out.extend_from_slice(&millis.to_be_bytes());
            out.extend_from_slice(&timezone.to_be_bytes());
        }
        Amf0Value::LongString(s) => {
            out.push(marker::LONG_STRING);
            long_string(s, out);
        }
        Amf0Value::XmlDocument(s) => {
            out.push(marker::XML_DOCUMENT);
            long_string(s, out);
        }
        Amf0Value::TypedObject {
            class_name,
            properties: props,
        } => {
            out.push(marker::TYPED_OBJECT);
            short_string(class_name, out);
            properties(props, out);
        }
    }
}

/// Name/value pairs then the object-end sequence `00 00 09` (spec 2.5).
fn properties(props: &[(String, Amf0Value)], out: &mut Vec<u8>) {
    for (key, value) in props {
        short_string(key, out);
        encode_value(value, out);
    }
    out.extend_from_slice(&[0, 0, marker::OBJECT_END]);
}

/// 16-bit length then bytes, truncated at a char boundary to fit.
fn short_string(s: &str, out: &mut Vec<u8>) {
    let s = truncate_utf8(s, usize::from(u16::MAX));
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// 32-bit length then bytes, truncated at a char boundary to fit.
fn long_string(s: &str, out: &mut Vec<u8>) {
    let max = usize::try_from(u32::MAX).unwrap_or(usize::MAX);
    let s = truncate_utf8(s, max);
    out.extend_from_slice(&saturating_u32(s.len()).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    // A UTF-8 char is at most 4 bytes, so a boundary lies within 3 bytes of `max`.
    (max.saturating_sub(3)..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .and_then(|i| s.get(..i))
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::super::decode;
    use super::*;

    fn enc(v: &Amf0Value) -> Vec<u8> {
        let mut out = Vec::new();
        encode_value(v, &mut out);
        out
    }

    fn round_trip(v: Amf0Value) {
        let bytes = enc(&v);
        assert_eq!(decode(&bytes).unwrap(), vec![v], "bytes {bytes:02x?}");
    }

    #[test]
    fn each_type_round_trips() {
        round_trip(Amf0Value::Number(-0.5));
        round_trip(Amf0Value::Number(f64::INFINITY));
        round_trip(Amf0Value::Boolean(false));
        round_trip(Amf0Value::Boolean(true));
        round_trip(Amf0Value::String(String::new()));
        round_trip(Amf0Value::String("héllo".into()));
        round_trip(Amf0Value::Object(vec![]));
        round_trip(Amf0Value::Object(vec![
            ("a".into(), Amf0Value::Null),
            (
                "b".into(),
                Amf0Value::Object(vec![("c".into(), Amf0Value::Undefined)]),
            ),
        ]));
        round_trip(Amf0Value::Null);
        round_trip(Amf0Value::Undefined);
        round_trip(Amf0Value::Reference(65535));
        round_trip(Amf0Value::EcmaArray(vec![(
            "duration".into(),
            Amf0Value::Number(10.0),
        )]));
        round_trip(Amf0Value::StrictArray(vec![
            Amf0Value::Number(1.0),
            Amf0Value::StrictArray(vec![]),
        ]));
        round_trip(Amf0Value::Date {
            millis: 1.7e12,
            timezone: -480,
        });
        round_trip(Amf0Value::LongString("short but long".into()));
        round_trip(Amf0Value::XmlDocument("<a/>".into()));
        round_trip(Amf0Value::TypedObject {
            class_name: "flex.Msg".into(),
            properties: vec![("x".into(), Amf0Value::Boolean(true))],
        });
    }

    #[test]
    fn exact_bytes_of_simple_values() {
        assert_eq!(
            enc(&Amf0Value::Number(1.0)),
            [0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            enc(&Amf0Value::String("ab".into())),
            [0x02, 0, 2, b'a', b'b']
        );
        assert_eq!(
            enc(&Amf0Value::EcmaArray(vec![("k".into(), Amf0Value::Null)])),
            [0x08, 0, 0, 0, 1, 0, 1, b'k', 0x05, 0, 0, 0x09]
        );
        assert_eq!(
            enc(&Amf0Value::StrictArray(vec![
                Amf0Value::Null,
                Amf0Value::Undefined
            ])),
            [0x0a, 0, 0, 0, 2, 0x05, 0x06]
        );
    }

    #[test]
    fn strings_over_64k_become_long_strings() {
        let s = "x".repeat(65_535);
        round_trip(Amf0Value::String(s.clone()));
        let long = "y".repeat(65_536);
        let bytes = enc(&Amf0Value::String(long.clone()));
        assert_eq!(bytes[0], 0x0c);
        assert_eq!(decode(&bytes).unwrap(), vec![Amf0Value::LongString(long)]);
    }

    #[test]
    fn long_keys_are_truncated_at_a_char_boundary() {
        // 65534 ASCII bytes then a 2-byte char: 65536 bytes, cut before the char.
        let key = format!("{}é", "k".repeat(65_534));
        let bytes = enc(&Amf0Value::Object(vec![(key, Amf0Value::Null)]));
        let decoded = decode(&bytes).unwrap();
        let props = decoded[0].properties().unwrap();
        assert_eq!(props[0].0, "k".repeat(65_534));
        assert_eq!(truncate_utf8("aé", 2), "a");
        assert_eq!(truncate_utf8("aé", 3), "aé");
        assert_eq!(truncate_utf8("€", 2), "");
    }
}
