//! RTMP handshake (spec 5.2) plus the complex digest form. STUB: filled in by the handshake work.
