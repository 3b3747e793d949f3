//! What can go wrong with one message on its way into HLS.

use crate::mp4::Mp4Error;
use crate::remux::RemuxError;

/// A message the segmenter skipped. Never fatal: the stream carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HlsError {
    /// The FLV body could not be turned into an elementary-stream frame.
    #[error("remux: {0}")]
    Remux(#[from] RemuxError),
    /// The message could not go into an fMP4 segment (`hls_use_fmp4`).
    #[error("fMP4: {0}")]
    Mp4(#[from] Mp4Error),
}
