//! AMF0 (Adobe "Action Message Format -- AMF 0", 2006), the value encoding of
//! RTMP commands (spec 7.1.1, message type 20) and data messages such as
//! `@setDataFrame`/`onMetaData` (type 18).
//!
//! - [`decode`] / [`decode_value`] parse hostile bytes through the bounds-checked
//!   [`Reader`](crate::reader::Reader), with explicit limits ([`MAX_DEPTH`],
//!   [`MAX_CONTAINER_ELEMENTS`], [`MAX_VALUES`]) and typed errors ([`Amf0Error`]).
//! - [`encode`] / [`encode_value`] write values back; the output of the encoder
//!   always decodes to the same value (see the encoder for the two documented
//!   length normalisations).
//!
//! Deliberate leniencies, because real encoders are sloppy:
//! - strings (and keys, class names, XML) with invalid UTF-8 are decoded lossily
//!   (invalid sequences become U+FFFD) instead of failing the whole command;
//! - an ECMA array that runs to the clean end of the input without its
//!   object-end marker is accepted (ffmpeg-style metadata does this);
//! - the ECMA array count is only a hint and is ignored;
//! - an empty property name that is *not* followed by the object-end marker
//!   is kept as a property named `""`.
//!
//! AMF3 (marker 0x11, "avmplus-object") is not supported and fails with
//! [`Amf0Error::Amf3NotSupported`].

mod decode;
mod encode;
mod error;
mod marker;

pub use decode::{decode, decode_value, MAX_CONTAINER_ELEMENTS, MAX_DEPTH, MAX_VALUES};
pub use encode::{encode, encode_value};
pub use error::Amf0Error;

/// One AMF0 value. Object properties keep their wire order, since some peers
/// (and our snapshot tests) care about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Amf0Value {
    /// 0x00.
    Number(f64),
    /// 0x01.
    Boolean(bool),
    /// 0x02 (length < 65536).
    String(String),
    /// 0x03: anonymous object.
    Object(Vec<(String, Amf0Value)>),
    /// 0x05.
    Null,
    /// 0x06.
    Undefined,
    /// 0x07: index of an earlier complex value.
    Reference(u16),
    /// 0x08: associative array; the count on the wire is only a hint.
    EcmaArray(Vec<(String, Amf0Value)>),
    /// 0x0A: dense array.
    StrictArray(Vec<Amf0Value>),
    /// 0x0B: milliseconds since the Unix epoch plus a (reserved) time zone.
    Date {
        /// Milliseconds since 1970-01-01 UTC.
        millis: f64,
        /// Time zone offset in minutes; the spec says it should be 0.
        timezone: i16,
    },
    /// 0x0C.
    LongString(String),
    /// 0x0F.
    XmlDocument(String),
    /// 0x10.
    TypedObject {
        /// Registered class name.
        class_name: String,
        /// Properties in wire order.
        properties: Vec<(String, Amf0Value)>,
    },
}

impl Amf0Value {
    /// The text of a `String` or `LongString`; `None` for any other type.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) | Self::LongString(s) => Some(s),
            _ => None,
        }
    }

    /// The value of a `Number`; `None` for any other type (no coercion).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The value of a `Boolean`; `None` for any other type (no coercion).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The properties, in wire order, of an `Object`, `EcmaArray` or
    /// `TypedObject`; `None` for any other type.
    pub fn properties(&self) -> Option<&[(String, Amf0Value)]> {
        match self {
            Self::Object(p) | Self::EcmaArray(p) => Some(p),
            Self::TypedObject { properties, .. } => Some(properties),
            _ => None,
        }
    }

    /// The elements of a `StrictArray`; `None` for any other type.
    pub fn as_array(&self) -> Option<&[Amf0Value]> {
        match self {
            Self::StrictArray(items) => Some(items),
            _ => None,
        }
    }

    /// The first property named `key` (exact, case-sensitive match) of an
    /// object-like value (see [`properties`](Self::properties)).
    pub fn get(&self, key: &str) -> Option<&Amf0Value> {
        self.properties()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// True when both encode to the same bytes: like `==`, except that
    /// numbers and dates compare by their IEEE-754 bits, so a NaN equals the
    /// same NaN and `0.0` differs from `-0.0`. The codec keeps exact bits;
    /// this is how round trips (tests, fuzzing) check that it does.
    pub fn bitwise_eq(&self, other: &Amf0Value) -> bool {
        use Amf0Value as V;
        fn props(x: &[(String, V)], y: &[(String, V)]) -> bool {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && va.bitwise_eq(vb))
        }
        match (self, other) {
            (V::Number(x), V::Number(y)) => x.to_bits() == y.to_bits(),
            (
                V::Date {
                    millis: x,
                    timezone: tx,
                },
                V::Date {
                    millis: y,
                    timezone: ty,
                },
            ) => x.to_bits() == y.to_bits() && tx == ty,
            (V::Object(x), V::Object(y)) | (V::EcmaArray(x), V::EcmaArray(y)) => props(x, y),
            (
                V::TypedObject {
                    class_name: cx,
                    properties: px,
                },
                V::TypedObject {
                    class_name: cy,
                    properties: py,
                },
            ) => cx == cy && props(px, py),
            (V::StrictArray(x), V::StrictArray(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| a.bitwise_eq(b))
            }
            (V::Object(_) | V::EcmaArray(_) | V::TypedObject { .. } | V::StrictArray(_), _)
            | (V::Number(_) | V::Date { .. }, _) => false,
            _ => self == other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj() -> Amf0Value {
        Amf0Value::Object(vec![
            ("app".into(), Amf0Value::String("live".into())),
            ("fpad".into(), Amf0Value::Boolean(false)),
            ("audioCodecs".into(), Amf0Value::Number(3191.0)),
            ("app".into(), Amf0Value::String("shadowed".into())),
        ])
    }

    #[test]
    fn bitwise_eq_compares_number_bits_not_values() {
        let nan = Amf0Value::Number(f64::NAN);
        assert!(nan.bitwise_eq(&nan.clone()));
        assert_ne!(nan, nan.clone());
        assert!(!Amf0Value::Number(0.0).bitwise_eq(&Amf0Value::Number(-0.0)));
        let date = |millis: f64| Amf0Value::Date {
            millis,
            timezone: 0,
        };
        assert!(date(f64::NAN).bitwise_eq(&date(f64::NAN)));
        assert!(!date(0.0).bitwise_eq(&date(-0.0)));
        let nested = |n: f64| {
            Amf0Value::EcmaArray(vec![(
                "a".into(),
                Amf0Value::StrictArray(vec![Amf0Value::Null, Amf0Value::Number(n)]),
            )])
        };
        assert!(nested(f64::NAN).bitwise_eq(&nested(f64::NAN)));
        assert!(!nested(1.0).bitwise_eq(&nested(2.0)));
        // Same contents, different container type: different bytes.
        let props = vec![("k".to_string(), Amf0Value::Boolean(true))];
        assert!(!Amf0Value::Object(props.clone()).bitwise_eq(&Amf0Value::EcmaArray(props)));
        assert!(obj().bitwise_eq(&obj()));
        assert!(!obj().bitwise_eq(&Amf0Value::Null));
    }

    #[test]
    fn accessors_match_only_their_type() {
        assert_eq!(Amf0Value::String("a".into()).as_str(), Some("a"));
        assert_eq!(Amf0Value::LongString("b".into()).as_str(), Some("b"));
        assert_eq!(Amf0Value::XmlDocument("c".into()).as_str(), None);
        assert_eq!(Amf0Value::Number(2.5).as_f64(), Some(2.5));
        assert_eq!(Amf0Value::String("2.5".into()).as_f64(), None);
        assert_eq!(Amf0Value::Boolean(true).as_bool(), Some(true));
        assert_eq!(Amf0Value::Number(1.0).as_bool(), None);
        assert_eq!(
            Amf0Value::StrictArray(vec![Amf0Value::Null]).as_array(),
            Some(&[Amf0Value::Null][..])
        );
        assert_eq!(Amf0Value::Null.properties(), None);
    }

    #[test]
    fn get_finds_the_first_property_of_object_like_values() {
        let o = obj();
        assert_eq!(o.get("app").and_then(Amf0Value::as_str), Some("live"));
        assert_eq!(
            o.get("audioCodecs").and_then(Amf0Value::as_f64),
            Some(3191.0)
        );
        assert_eq!(o.get("App"), None);
        let Amf0Value::Object(props) = o else {
            unreachable!()
        };
        let ecma = Amf0Value::EcmaArray(props.clone());
        assert_eq!(ecma.get("fpad"), Some(&Amf0Value::Boolean(false)));
        let typed = Amf0Value::TypedObject {
            class_name: "C".into(),
            properties: props,
        };
        assert_eq!(typed.properties().map(<[_]>::len), Some(4));
        assert_eq!(Amf0Value::String("app".into()).get("app"), None);
    }
}
