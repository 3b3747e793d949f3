//! Video on demand: playing FLV and MP4 files as if they were streams.
//!
//! A file is first indexed ([`FileIndexer`]: FLV tag headers, or MP4 sample
//! tables and fragments through [`crate::mp4::Mp4Indexer`]) into a
//! [`MediaIndex`]: every frame's place, time and key-frame flag, and the
//! decoder configurations. From the index, [`VodPacer`] says when each
//! frame is due for an RTMP player (seek lands on the key frame before the
//! target; pause holds the clock), and [`segments`]/[`playlist`]/
//! [`mux_segment`] make an HLS VOD playlist whose MPEG-TS segments are cut
//! at key frames on request. Sans-IO: the caller reads the byte ranges the
//! indexer and the index name.

mod flv_index;
mod hls;
mod index;
mod pacer;

pub use flv_index::FlvIndexer;
pub use hls::{mux_segment, playlist, segments, VodSegment};
pub(crate) use index::sequence_header;
pub use index::{
    FileIndexer, IndexError, IndexedSample, MediaIndex, ReadRequest, SampleForm, INDEX_CHUNK_BYTES,
    MAX_SAMPLES,
};
pub use pacer::{PacerStep, VodPacer};
