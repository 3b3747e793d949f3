//! Sans-IO media: what to write, never how.
//!
//! No I/O, no async, no clock reads. The runtime feeds [`MediaMessage`]s in and
//! executes what comes out (TS bytes to append, playlists to write, files to delete).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod aac;
pub mod ac3;
pub mod adts;
pub mod annexb;
pub mod av1;
pub mod avc;
pub mod bits;
pub mod config_record;
pub mod flac;
pub mod flv;
pub mod gop;
pub mod hevc;
pub mod hls;
pub mod jitter;
pub mod message;
pub mod metadata;
pub mod mp4;
pub mod mpeg_audio;
pub mod opus;
pub mod remux;
pub mod ts;
pub mod vod;
pub mod vp9;

pub use message::{MediaFlags, MediaKind, MediaMessage};
