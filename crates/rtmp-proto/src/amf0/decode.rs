//! AMF0 decoding (AMF0 spec 2.2-2.18) of untrusted bytes.
//!
//! Recursion is bounded by [`MAX_DEPTH`]; memory by [`MAX_CONTAINER_ELEMENTS`]
//! and [`MAX_VALUES`], and no buffer is ever sized from a count on the wire.

use super::{marker, Amf0Error, Amf0Value};
use crate::reader::Reader;

/// Deepest nesting of containers (objects, ECMA/strict arrays, typed objects)
/// accepted. Real commands nest two or three levels; the bound keeps the
/// recursive decoder's stack use small whatever the peer sends.
pub const MAX_DEPTH: usize = 32;

/// Most elements (properties or array items) in one container. Generous for
/// `onMetaData` keyframe tables (hours of keyframes) and bounds a single
/// container's memory.
pub const MAX_CONTAINER_ELEMENTS: usize = 65_536;

/// Most values (of any type, at any depth) produced by one [`decode`] or
/// [`decode_value`] call. A value may be one byte on the wire but takes 48
/// bytes in memory (72 as an object property), so this caps what a hostile
/// body can make us allocate at roughly 20-40 MiB including vector slack,
/// whatever counts it declares.
pub const MAX_VALUES: usize = 262_144;

/// Whether a property list may end at the clean end of input without 0x09.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EndMarker {
    /// Objects and typed objects: the end marker is mandatory.
    Required,
    /// ECMA arrays: ffmpeg-style writers sometimes omit it at the end of a body.
    OptionalAtEndOfInput,
}

/// Decoding state shared across one call: the remaining value budget.
struct Decoder {
    values_left: usize,
}

/// Decodes every consecutive value in `buf` until the input is exhausted
/// (an RTMP command body is a sequence of AMF0 values, RTMP spec 7.1.1).
/// An empty `buf` gives an empty list.
pub fn decode(buf: &[u8]) -> Result<Vec<Amf0Value>, Amf0Error> {
    let mut r = Reader::new(buf);
    let mut d = Decoder::new();
    let mut out = Vec::new();
    // Terminates: every value consumes at least its one-byte marker.
    while !r.is_empty() {
        out.push(d.value(&mut r, 0)?);
    }
    Ok(out)
}

/// Decodes exactly one value from `r`, leaving the reader just after it.
pub fn decode_value(r: &mut Reader<'_>) -> Result<Amf0Value, Amf0Error> {
    Decoder::new().value(r, 0)
}

/// A UTF-8 string with a 16-bit length (AMF0 spec 1.3, "UTF-8"); lossy.
fn short_string(r: &mut Reader<'_>) -> Result<String, Amf0Error> {
    let len = r.u16()?;
    let bytes = r.take(usize::from(len))?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// A UTF-8 string with a 32-bit length ("UTF-8-long"); lossy. The length is
/// checked against the bytes present before anything is allocated.
fn long_string(r: &mut Reader<'_>) -> Result<String, Amf0Error> {
    let len = r.u32()?;
    let bytes = r.take(usize::try_from(len).unwrap_or(usize::MAX))?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

impl Decoder {
    fn new() -> Self {
        Self {
            values_left: MAX_VALUES,
        }
    }

    /// One value whose enclosing containers number `depth`.
    fn value(&mut self, r: &mut Reader<'_>, depth: usize) -> Result<Amf0Value, Amf0Error> {
        self.values_left = self
            .values_left
            .checked_sub(1)
            .ok_or(Amf0Error::TooManyElements { limit: MAX_VALUES })?;
        let value = match r.u8()? {
            marker::NUMBER => Amf0Value::Number(r.f64()?),
            // Spec 2.3: zero is false, anything else true.
            marker::BOOLEAN => Amf0Value::Boolean(r.u8()? != 0),
            marker::STRING => Amf0Value::String(short_string(r)?),
            marker::OBJECT => Amf0Value::Object(self.properties(r, depth, EndMarker::Required)?),
            marker::NULL => Amf0Value::Null,
            marker::UNDEFINED => Amf0Value::Undefined,
            marker::REFERENCE => Amf0Value::Reference(r.u16()?),
            marker::ECMA_ARRAY => {
                // Spec 2.10: the associative count is only a hint; the
                // properties run to the object-end marker.
                let _hint = r.u32()?;
                Amf0Value::EcmaArray(self.properties(r, depth, EndMarker::OptionalAtEndOfInput)?)
            }
            marker::OBJECT_END => return Err(Amf0Error::UnexpectedObjectEnd),
            marker::STRICT_ARRAY => Amf0Value::StrictArray(self.strict_array(r, depth)?),
            marker::DATE => Amf0Value::Date {
                millis: r.f64()?,
                timezone: i16::from_be_bytes(r.u16()?.to_be_bytes()),
            },
            marker::LONG_STRING => Amf0Value::LongString(long_string(r)?),
            marker::XML_DOCUMENT => Amf0Value::XmlDocument(long_string(r)?),
            marker::TYPED_OBJECT => {
                let class_name = short_string(r)?;
                let properties = self.properties(r, depth, EndMarker::Required)?;
                Amf0Value::TypedObject {
                    class_name,
                    properties,
                }
            }
            marker::AVMPLUS => return Err(Amf0Error::Amf3NotSupported),
            m @ (marker::MOVIECLIP | marker::UNSUPPORTED | marker::RECORDSET) => {
                return Err(Amf0Error::UnsupportedMarker(m))
            }
            m => return Err(Amf0Error::UnknownMarker(m)),
        };
        Ok(value)
    }

    /// Checks the nesting of a container opened inside `depth` containers.
    fn enter(depth: usize) -> Result<usize, Amf0Error> {
        let inner = depth.saturating_add(1);
        if inner > MAX_DEPTH {
            return Err(Amf0Error::DepthExceeded { limit: MAX_DEPTH });
        }
        Ok(inner)
    }

    /// Name/value pairs up to the object-end marker (spec 2.5: an empty name
    /// followed by 0x09).
    fn properties(
        &mut self,
        r: &mut Reader<'_>,
        depth: usize,
        end: EndMarker,
    ) -> Result<Vec<(String, Amf0Value)>, Amf0Error> {
        let inner = Self::enter(depth)?;
        let mut props = Vec::new();
        // One extra turn so the end marker after the last allowed element is read.
        for _ in 0..=MAX_CONTAINER_ELEMENTS {
            if r.is_empty() {
                return match end {
                    EndMarker::OptionalAtEndOfInput => Ok(props),
                    EndMarker::Required => Err(Amf0Error::MissingObjectEnd),
                };
            }
            let key = short_string(r)?;
            if key.is_empty() {
                match r.peek_u8() {
                    Some(marker::OBJECT_END) => {
                        r.skip(1)?;
                        return Ok(props);
                    }
                    None if end == EndMarker::OptionalAtEndOfInput => return Ok(props),
                    None => return Err(Amf0Error::MissingObjectEnd),
                    // Not the end after all: a property whose name is empty.
                    Some(_) => {}
                }
            }
            if props.len() >= MAX_CONTAINER_ELEMENTS {
                return Err(Amf0Error::TooManyElements {
                    limit: MAX_CONTAINER_ELEMENTS,
                });
            }
            let value = self.value(r, inner)?;
            props.push((key, value));
        }
        Err(Amf0Error::TooManyElements {
            limit: MAX_CONTAINER_ELEMENTS,
        })
    }

    /// A counted, dense array (spec 2.12). Every element takes at least one
    /// byte, so a count above the remaining bytes is rejected before any work.
    fn strict_array(
        &mut self,
        r: &mut Reader<'_>,
        depth: usize,
    ) -> Result<Vec<Amf0Value>, Amf0Error> {
        let inner = Self::enter(depth)?;
        let declared = r.u32()?;
        let count = usize::try_from(declared).unwrap_or(usize::MAX);
        if count > r.remaining() {
            return Err(Amf0Error::ArrayCountExceedsInput {
                declared,
                remaining: r.remaining(),
            });
        }
        if count > MAX_CONTAINER_ELEMENTS {
            return Err(Amf0Error::TooManyElements {
                limit: MAX_CONTAINER_ELEMENTS,
            });
        }
        let mut items = Vec::new();
        for _ in 0..count {
            items.push(self.value(r, inner)?);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_scalar_type() {
        let bytes = [
            0x00, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18, // Number(pi)
            0x01, 0x07, // Boolean(true): any non-zero byte
            0x02, 0x00, 0x02, b'h', b'i', // String
            0x05, 0x06, // Null, Undefined
            0x07, 0x01, 0x02, // Reference(0x0102)
            0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xc4, // Date(0, -60)
            0x0c, 0, 0, 0, 1, b'L', // LongString
            0x0f, 0, 0, 0, 2, b'<', b'>', // XmlDocument
        ];
        let values = decode(&bytes).unwrap();
        assert_eq!(
            values,
            vec![
                Amf0Value::Number(std::f64::consts::PI),
                Amf0Value::Boolean(true),
                Amf0Value::String("hi".into()),
                Amf0Value::Null,
                Amf0Value::Undefined,
                Amf0Value::Reference(0x0102),
                Amf0Value::Date {
                    millis: 0.0,
                    timezone: -60
                },
                Amf0Value::LongString("L".into()),
                Amf0Value::XmlDocument("<>".into()),
            ]
        );
    }

    #[test]
    fn decode_value_stops_after_one_value() {
        let bytes = [0x05, 0x01, 0x00];
        let mut r = Reader::new(&bytes);
        assert_eq!(decode_value(&mut r).unwrap(), Amf0Value::Null);
        assert_eq!(r.position(), 1);
        assert_eq!(decode_value(&mut r).unwrap(), Amf0Value::Boolean(false));
        assert!(r.is_empty());
        assert_eq!(decode(&[]).unwrap(), vec![]);
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily() {
        let v = decode(&[0x02, 0x00, 0x03, b'a', 0xff, b'b']).unwrap();
        assert_eq!(v, vec![Amf0Value::String("a\u{fffd}b".into())]);
    }

    #[test]
    fn ecma_array_may_end_at_end_of_input_without_end_marker() {
        // count hint 5 (wrong on purpose), one property, then the input ends.
        let bare = [0x08, 0, 0, 0, 5, 0, 1, b'k', 0x05];
        let expected = vec![Amf0Value::EcmaArray(vec![("k".into(), Amf0Value::Null)])];
        assert_eq!(decode(&bare).unwrap(), expected);
        // Also with a dangling empty name.
        let dangling = [0x08, 0, 0, 0, 1, 0, 1, b'k', 0x05, 0, 0];
        assert_eq!(decode(&dangling).unwrap(), expected);
        // An object may not do that.
        assert_eq!(
            decode(&[0x03, 0, 1, b'k', 0x05]),
            Err(Amf0Error::MissingObjectEnd)
        );
        assert_eq!(
            decode(&[0x03, 0, 1, b'k', 0x05, 0, 0]),
            Err(Amf0Error::MissingObjectEnd)
        );
    }

    #[test]
    fn empty_name_not_followed_by_end_marker_is_a_property() {
        let v = decode(&[0x03, 0, 0, 0x05, 0, 0, 0x09]).unwrap();
        assert_eq!(
            v,
            vec![Amf0Value::Object(vec![(String::new(), Amf0Value::Null)])]
        );
    }

    #[test]
    fn rejected_markers_are_named() {
        assert_eq!(decode(&[0x11, 0x01]), Err(Amf0Error::Amf3NotSupported));
        for m in [0x04, 0x0d, 0x0e] {
            assert_eq!(decode(&[m]), Err(Amf0Error::UnsupportedMarker(m)));
        }
        assert_eq!(decode(&[0x12]), Err(Amf0Error::UnknownMarker(0x12)));
        assert_eq!(decode(&[0xff]), Err(Amf0Error::UnknownMarker(0xff)));
        assert_eq!(decode(&[0x09]), Err(Amf0Error::UnexpectedObjectEnd));
        assert_eq!(
            decode(&[0x03, 0, 1, b'k', 0x09]),
            Err(Amf0Error::UnexpectedObjectEnd)
        );
        let err = decode(&[0x11]).unwrap_err().to_string();
        assert!(err.contains("AMF3 is not supported"), "{err}");
    }

    #[test]
    fn truncation_is_reported_at_every_cut() {
        let full = [
            0x03, 0, 1, b'a', 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0, 1, b's', 0x02, 0, 1, b'x', 0,
            0, 0x09,
        ];
        assert!(decode(&full).is_ok());
        for cut in 1..full.len() {
            let err = decode(&full[..cut]).unwrap_err();
            assert!(
                matches!(err, Amf0Error::Truncated(_) | Amf0Error::MissingObjectEnd),
                "cut {cut}: {err:?}"
            );
        }
    }

    #[test]
    fn huge_declared_lengths_fail_without_allocating() {
        // LongString claiming 4 GiB with 1 byte present.
        assert!(matches!(
            decode(&[0x0c, 0xff, 0xff, 0xff, 0xff, b'x']),
            Err(Amf0Error::Truncated(_))
        ));
        // Strict array claiming 4 billion elements.
        assert_eq!(
            decode(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0x05, 0x05]),
            Err(Amf0Error::ArrayCountExceedsInput {
                declared: u32::MAX,
                remaining: 2
            })
        );
        // ECMA count is a hint only: a huge one does not matter.
        assert_eq!(
            decode(&[0x08, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x09]).unwrap(),
            vec![Amf0Value::EcmaArray(vec![])]
        );
    }

    #[test]
    fn strict_array_element_limit() {
        let n = MAX_CONTAINER_ELEMENTS + 1;
        let mut bytes = vec![0x0a];
        bytes.extend_from_slice(&u32::try_from(n).unwrap().to_be_bytes());
        bytes.resize(5 + n, 0x05);
        assert_eq!(
            decode(&bytes),
            Err(Amf0Error::TooManyElements {
                limit: MAX_CONTAINER_ELEMENTS
            })
        );
        // Exactly at the limit is fine.
        let mut ok = vec![0x0a];
        ok.extend_from_slice(&u32::try_from(n - 1).unwrap().to_be_bytes());
        ok.resize(5 + n - 1, 0x05);
        assert_eq!(decode(&ok).unwrap()[0].as_array().unwrap().len(), n - 1);
    }

    #[test]
    fn object_property_limit() {
        let mut bytes = vec![0x03];
        for _ in 0..=MAX_CONTAINER_ELEMENTS {
            bytes.extend_from_slice(&[0, 1, b'k', 0x05]);
        }
        bytes.extend_from_slice(&[0, 0, 0x09]);
        assert_eq!(
            decode(&bytes),
            Err(Amf0Error::TooManyElements {
                limit: MAX_CONTAINER_ELEMENTS
            })
        );
    }

    #[test]
    fn total_value_budget_is_enforced() {
        let ok = vec![0x05; MAX_VALUES];
        assert_eq!(decode(&ok).unwrap().len(), MAX_VALUES);
        let too_many = vec![0x05; MAX_VALUES + 1];
        assert_eq!(
            decode(&too_many),
            Err(Amf0Error::TooManyElements { limit: MAX_VALUES })
        );
    }
}
