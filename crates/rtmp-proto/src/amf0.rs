//! AMF0 (Adobe AMF0 specification), the value encoding of RTMP commands and metadata.
//!
//! STUB: filled in by the amf0 work. The public shape below is fixed; other
//! modules build against it.

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
