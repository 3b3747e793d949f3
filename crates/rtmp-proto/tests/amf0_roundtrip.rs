//! Property test: any AMF0 value tree survives encode then decode.

use proptest::prelude::*;
use rtmp_proto::amf0::{decode, decode_value, encode, encode_value, Amf0Value};
use rtmp_proto::reader::Reader;

/// Structural equality where numbers compare by bit pattern (so NaN == NaN).
fn same(a: &Amf0Value, b: &Amf0Value) -> bool {
    a.bitwise_eq(b)
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        any::<u64>().prop_map(f64::from_bits), // includes NaNs with payloads
        Just(f64::NAN),
        Just(-0.0),
    ]
}

fn leaf() -> impl Strategy<Value = Amf0Value> {
    prop_oneof![
        any_f64().prop_map(Amf0Value::Number),
        any::<bool>().prop_map(Amf0Value::Boolean),
        ".{0,20}".prop_map(Amf0Value::String),
        Just(Amf0Value::Null),
        Just(Amf0Value::Undefined),
        any::<u16>().prop_map(Amf0Value::Reference),
        (any_f64(), any::<i16>())
            .prop_map(|(millis, timezone)| Amf0Value::Date { millis, timezone }),
        ".{0,20}".prop_map(Amf0Value::LongString),
        ".{0,20}".prop_map(Amf0Value::XmlDocument),
    ]
}

fn value() -> impl Strategy<Value = Amf0Value> {
    // Depth is bounded well under MAX_DEPTH.
    leaf().prop_recursive(6, 64, 6, |inner| {
        let props = prop::collection::vec((".{0,8}", inner.clone()), 0..6);
        prop_oneof![
            props.clone().prop_map(Amf0Value::Object),
            props.clone().prop_map(Amf0Value::EcmaArray),
            prop::collection::vec(inner, 0..6).prop_map(Amf0Value::StrictArray),
            ("[A-Za-z.]{0,12}", props).prop_map(|(class_name, properties)| {
                Amf0Value::TypedObject {
                    class_name,
                    properties,
                }
            }),
        ]
    })
}

proptest! {
    #[test]
    fn value_trees_round_trip(values in prop::collection::vec(value(), 0..5)) {
        let mut bytes = Vec::new();
        encode(&values, &mut bytes);
        let decoded = decode(&bytes).unwrap();
        prop_assert_eq!(decoded.len(), values.len());
        for (a, b) in values.iter().zip(&decoded) {
            prop_assert!(same(a, b), "{:?} != {:?}", a, b);
        }
        // Value by value through a shared reader gives the same result.
        let mut r = Reader::new(&bytes);
        for v in &values {
            let got = decode_value(&mut r).unwrap();
            prop_assert!(same(v, &got));
            let mut one = Vec::new();
            encode_value(&got, &mut one);
            let mut again = Vec::new();
            encode_value(v, &mut again);
            prop_assert_eq!(one, again);
        }
        prop_assert!(r.is_empty());
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics_and_is_stable(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(values) = decode(&bytes) {
            let mut out = Vec::new();
            encode(&values, &mut out);
            let again = decode(&out).unwrap();
            prop_assert_eq!(values.len(), again.len());
            for (a, b) in values.iter().zip(&again) {
                prop_assert!(same(a, b));
            }
        }
    }
}
