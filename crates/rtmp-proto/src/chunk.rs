//! Chunk stream (RTMP spec 5.3). STUB: filled in by the chunk work.
