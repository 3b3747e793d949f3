//! Writing boxes (ISO/IEC 14496-12 4.2): a 32-bit size, a type, the body.

use bytes::{BufMut, BytesMut};

/// Appends a box whose body `body` writes; the size is filled in after.
/// Bodies here are bounded well below 4 GiB (see the muxer's limits); a
/// larger one would get a wrong size, so it is clamped rather than wrapped.
pub(crate) fn write_box(out: &mut BytesMut, kind: &[u8; 4], body: impl FnOnce(&mut BytesMut)) {
    let start = out.len();
    out.put_u32(0);
    out.put_slice(kind);
    body(out);
    let size = u32::try_from(out.len() - start).unwrap_or(u32::MAX);
    if let Some(slot) = out.get_mut(start..start + 4) {
        slot.copy_from_slice(&size.to_be_bytes());
    }
}

/// Appends a full box (a box with a version and 24 bits of flags, 4.2).
pub(crate) fn write_full_box(
    out: &mut BytesMut,
    kind: &[u8; 4],
    version: u8,
    flags: u32,
    body: impl FnOnce(&mut BytesMut),
) {
    write_box(out, kind, |out| {
        out.put_u32((u32::from(version) << 24) | (flags & 0x00FF_FFFF));
        body(out);
    });
}

/// The unity transformation matrix of `mvhd` and `tkhd` (8.2.2.3).
pub(crate) fn put_matrix(out: &mut BytesMut) {
    for v in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        out.put_u32(v);
    }
}

/// An MPEG-4 descriptor (ISO/IEC 14496-1 7.2.2.1): a tag, its size in the
/// four-byte form, the body.
pub(crate) fn write_descriptor(out: &mut BytesMut, tag: u8, body: impl FnOnce(&mut BytesMut)) {
    out.put_u8(tag);
    let size_at = out.len();
    out.put_slice(&[0x80, 0x80, 0x80, 0]);
    let start = out.len();
    body(out);
    // Descriptors here are a few dozen bytes; 28 bits hold far more.
    let size = u32::try_from(out.len() - start).unwrap_or(0) & 0x0FFF_FFFF;
    let bytes = [
        0x80 | ((size >> 21) & 0x7F) as u8,
        0x80 | ((size >> 14) & 0x7F) as u8,
        0x80 | ((size >> 7) & 0x7F) as u8,
        (size & 0x7F) as u8,
    ];
    if let Some(slot) = out.get_mut(size_at..size_at + 4) {
        slot.copy_from_slice(&bytes);
    }
}
