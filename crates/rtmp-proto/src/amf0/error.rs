//! What can be wrong with AMF0 input.

use crate::reader::Truncated;

/// Why AMF0 bytes could not be decoded. Each variant names one failure so a
/// log line says exactly what the peer sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Amf0Error {
    /// A value, length or string ran past the end of the input.
    #[error("AMF0 value truncated: {0}")]
    Truncated(#[from] Truncated),
    /// A type marker outside the AMF0 specification (above 0x11).
    #[error("unknown AMF0 type marker 0x{0:02x}")]
    UnknownMarker(u8),
    /// Marker 0x11 switches to AMF3 (AMF0 spec 3.1); peers only do this when
    /// the connect negotiated objectEncoding 3, which we never accept.
    #[error("AMF0 marker 0x11 switches to AMF3: AMF3 is not supported")]
    Amf3NotSupported,
    /// A marker the spec reserves or declares unsupported: 0x04 movieclip,
    /// 0x0D unsupported, 0x0E recordset. None carries a decodable value.
    #[error("AMF0 type marker 0x{0:02x} is reserved/unsupported by the AMF0 spec")]
    UnsupportedMarker(u8),
    /// The object-end marker 0x09 appeared where a value was expected.
    #[error("AMF0 object-end marker 0x09 where a value was expected")]
    UnexpectedObjectEnd,
    /// Containers nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    #[error("AMF0 containers nested deeper than {limit}")]
    DepthExceeded {
        /// The limit that was hit.
        limit: usize,
    },
    /// One container held more than
    /// [`MAX_CONTAINER_ELEMENTS`](super::MAX_CONTAINER_ELEMENTS) elements,
    /// or one decode call more than [`MAX_VALUES`](super::MAX_VALUES) values.
    #[error("too many AMF0 elements (limit {limit})")]
    TooManyElements {
        /// The limit that was hit.
        limit: usize,
    },
    /// A strict array declared more elements than there are bytes left; every
    /// element takes at least one byte, so the count is a lie.
    #[error("AMF0 strict array declares {declared} elements but only {remaining} bytes remain")]
    ArrayCountExceedsInput {
        /// The count on the wire.
        declared: u32,
        /// Bytes left after the count.
        remaining: usize,
    },
    /// An object or typed object reached the end of the input without its
    /// object-end marker (only ECMA arrays are allowed to do that).
    #[error("AMF0 object ended without its object-end marker")]
    MissingObjectEnd,
}
