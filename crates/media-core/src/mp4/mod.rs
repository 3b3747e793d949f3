//! ISO base media files (ISO/IEC 14496-12) for recordings and HLS CMAF
//! segments: fragmented MP4 with H.264, H.265, AV1 or VP9 video and AAC,
//! MP3, Opus, FLAC, AC-3 or E-AC-3 audio (the sample entries and their
//! specs are listed in `entry.rs`); and reading any MP4's index for VOD
//! ([`Mp4Indexer`]).
//!
//! [`Fmp4Muxer`] turns the stream's [`MediaMessage`](crate::MediaMessage)s
//! into bytes to append to a file: an initialization part (`ftyp`, `moov`
//! with `mvex`), then one `moof`+`mdat` fragment per GOP, so a file cut off
//! anywhere (a crash, a full disk) plays up to its last whole fragment; and
//! at the end a `mfra` random-access index (8.8.9) pointing at every fragment.
//! Nothing is ever written twice, so the file can be appended to a disk
//! without seeking.

mod boxes;
mod demux;
mod entry;
mod fmp4;

pub use demux::{Mp4DemuxError, Mp4Indexer, MAX_MOOF_BYTES, MAX_MOOV_BYTES, MAX_TOP_LEVEL_BOXES};
pub use entry::{carries_audio, carries_video};
pub use fmp4::{Fmp4Muxer, Mp4Error, MAX_FRAGMENT_BYTES, MAX_FRAGMENT_MS, MAX_INDEX_ENTRIES};
