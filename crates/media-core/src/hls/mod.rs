//! HTTP Live Streaming output (RFC 8216): the segmenter, its playlist window
//! and path templates.
//!
//! [`HlsSegmenter`] takes the stream's [`MediaMessage`](crate::MediaMessage)s
//! and returns [`HlsAction`]s for the runtime to carry out: open a segment,
//! append TS bytes, close it, write the playlist, delete what left the window.
//! [`master_playlist`] writes the multivariant playlist of a stream with
//! several renditions (E-RTMP multitrack), naming codecs as [`video_codec`]
//! and [`audio_codec`] read them.

mod codecs;
mod config;
mod error;
mod low_latency;
mod master;
mod playlist;
mod segmenter;
mod template;

pub use codecs::{audio_codec, video_codec, AudioCodecInfo, VideoCodecInfo};
pub use config::HlsConfig;
pub use error::HlsError;
pub use low_latency::LL_SEGMENTS_WITH_PARTS;
pub use master::{master_path, master_playlist, AudioRendition, VariantStream, AUDIO_GROUP};
pub use playlist::MAX_WINDOW_SEGMENTS;
pub use segmenter::{
    HlsAction, HlsSegmenter, PlaylistShelf, ShelfId, SuspendedPlaylist, APPEND_MIN_BYTES,
    AUDIO_PES_MAX_BYTES, AUDIO_PES_MAX_FRAMES, AUDIO_PES_MAX_SPAN, MAX_SEGMENT_BYTES,
    MIN_SEGMENT_MS, PROBE_MAX_BYTES, PROBE_MAX_FRAMES, PROBE_MS,
};
pub use template::{entry_uri, Civil};
