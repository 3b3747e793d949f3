//! What can go wrong with one message on its way into HLS.

use crate::remux::RemuxError;

/// A message the segmenter skipped. Never fatal: the stream carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HlsError {
    /// The FLV body could not be turned into an elementary-stream frame.
    #[error("remux: {0}")]
    Remux(#[from] RemuxError),
}
