//! What can be wrong with a handshake.

/// Why a handshake failed. Fatal for the connection: once returned, every
/// later `handle_input` call returns it again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// C0/S0 (spec 5.2.2) was not 3. Versions 6 and 8 announce encrypted
    /// RTMPE, which is not supported; anything else is not RTMP at all.
    #[error("unsupported RTMP version byte {0} in C0/S0 (only 3 is supported; 6/8 are RTMPE)")]
    UnsupportedVersion(u8),
}
