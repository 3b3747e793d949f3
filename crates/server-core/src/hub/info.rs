//! Codec details of a live stream, learned from its sequence headers, for the API.

use media_core::{MediaKind, MediaMessage};

/// Video track details (SRS API `video` object).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VideoInfo {
    /// `H264`, `H265`, `AV1`, ...
    pub codec: String,
    /// Profile name, e.g. `High`.
    pub profile: String,
    /// Level, e.g. `3.1`.
    pub level: String,
    /// Coded width after cropping.
    pub width: u32,
    /// Coded height after cropping.
    pub height: u32,
}

/// Audio track details (SRS API `audio` object).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudioInfo {
    /// `AAC`, `MP3`, ...
    pub codec: String,
    /// Sampling rate in Hz.
    pub sample_rate: u32,
    /// Channel count.
    pub channels: u8,
    /// AAC profile name, e.g. `LC`.
    pub profile: String,
}

/// What the API reports about a stream's media.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamInfo {
    /// Video, once a sequence header (or frame) was seen.
    pub video: Option<VideoInfo>,
    /// Audio, once a sequence header (or frame) was seen.
    pub audio: Option<AudioInfo>,
}

impl StreamInfo {
    /// Learns from one message. Returns false when a header failed to parse (the
    /// caller counts it; the stream goes on).
    pub fn update(&mut self, msg: &MediaMessage) -> bool {
        match msg.kind {
            MediaKind::Video if msg.flags.sequence_header || self.video.is_none() => {
                match crate::media::describe_video(&msg.payload) {
                    Ok(Some(v)) => {
                        self.video = Some(v);
                        true
                    }
                    Ok(None) => true,
                    Err(_) => false,
                }
            }
            MediaKind::Audio if msg.flags.sequence_header || self.audio.is_none() => {
                match crate::media::describe_audio(&msg.payload) {
                    Ok(Some(a)) => {
                        self.audio = Some(a);
                        true
                    }
                    Ok(None) => true,
                    Err(_) => false,
                }
            }
            _ => true,
        }
    }
}
