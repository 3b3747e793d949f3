//! Codec details of a live stream, learned from its sequence headers, for the API.
//!
//! An Enhanced RTMP v2 multitrack stream describes each track in its own
//! sequence header; the default track (0) fills SRS's `video` and `audio`
//! objects, the others [`StreamInfo::tracks`].

use media_core::flv::{single_track_audio, single_track_video, Tracks, MAX_TRACKS_PER_MESSAGE};
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
    /// The other tracks of an E-RTMP multitrack stream, by kind and track
    /// id, in the order first seen; at most [`MAX_TRACKS_PER_MESSAGE`].
    pub tracks: Vec<TrackInfo>,
}

/// One track of a multitrack stream other than the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInfo {
    /// The track id (1 and up).
    pub id: u8,
    /// Its codec details.
    pub media: TrackMedia,
}

/// What a [`TrackInfo`] carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackMedia {
    /// A video rendition.
    Video(VideoInfo),
    /// An audio track.
    Audio(AudioInfo),
}

impl StreamInfo {
    /// Learns from one message. Returns false when a header failed to parse (the
    /// caller counts it; the stream goes on).
    pub fn update(&mut self, msg: &MediaMessage) -> bool {
        if let Some(ok) = self.update_tracks(msg) {
            return ok;
        }
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

    /// Learns from a multitrack message's sequence headers, track by track;
    /// `None` when `msg` is not multitrack.
    fn update_tracks(&mut self, msg: &MediaMessage) -> Option<bool> {
        let mut ok = true;
        let headers = msg.flags.sequence_header;
        match msg.kind {
            MediaKind::Video => {
                let (h, tracks) = Tracks::of_video(&msg.payload).ok()??;
                for track in tracks.take_while(|_| headers) {
                    let Ok(track) = track else {
                        return Some(false);
                    };
                    let Some(single) = single_track_video(h.frame_type, h.payload_type(), &track)
                    else {
                        continue;
                    };
                    match crate::media::describe_video(&single) {
                        Ok(Some(v)) if track.track_id == 0 => self.video = Some(v),
                        Ok(Some(v)) => self.set_track(track.track_id, TrackMedia::Video(v)),
                        Ok(None) => {}
                        Err(_) => ok = false,
                    }
                }
            }
            MediaKind::Audio => {
                let (h, tracks) = Tracks::of_audio(&msg.payload).ok()??;
                let (_, packet) = h.multitrack?;
                for track in tracks.take_while(|_| headers) {
                    let Ok(track) = track else {
                        return Some(false);
                    };
                    let Some(single) = single_track_audio(packet, &track) else {
                        continue;
                    };
                    match crate::media::describe_audio(&single) {
                        Ok(Some(a)) if track.track_id == 0 => self.audio = Some(a),
                        Ok(Some(a)) => self.set_track(track.track_id, TrackMedia::Audio(a)),
                        Ok(None) => {}
                        Err(_) => ok = false,
                    }
                }
            }
            MediaKind::Data => return None,
        }
        Some(ok)
    }

    fn set_track(&mut self, id: u8, media: TrackMedia) {
        let same = |t: &TrackInfo| {
            t.id == id
                && matches!(
                    (&t.media, &media),
                    (TrackMedia::Video(_), TrackMedia::Video(_))
                        | (TrackMedia::Audio(_), TrackMedia::Audio(_))
                )
        };
        if let Some(t) = self.tracks.iter_mut().find(|t| same(t)) {
            t.media = media;
        } else if self.tracks.len() < MAX_TRACKS_PER_MESSAGE {
            self.tracks.push(TrackInfo { id, media });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// An AVCDecoderConfigurationRecord of a 160x120 baseline stream.
    const AVC_RECORD: &[u8] = &[
        0x01, 0x42, 0xd0, 0x0b, 0xff, 0xe1, 0x00, 0x18, 0x67, 0x42, 0xd0, 0x0b, 0xda, 0x0a, 0x11,
        0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x1e, 0x8f, 0x12,
        0x26, 0xa0, 0x01, 0x00, 0x04, 0x68, 0xce, 0x3c, 0x80,
    ];

    fn video(payload: Vec<u8>) -> MediaMessage {
        MediaMessage::new(MediaKind::Video, 0, Bytes::from(payload))
    }

    #[test]
    fn each_track_is_described_and_track_0_fills_video() {
        let mut info = StreamInfo::default();
        // Track 1's header (E-RTMP v2 OneTrack multitrack) first.
        let mut p = vec![0x80 | (1 << 4) | 6, 0x00];
        p.extend_from_slice(b"avc1");
        p.push(1);
        p.extend_from_slice(AVC_RECORD);
        assert!(info.update(&video(p)));
        assert!(info.video.is_none(), "track 1 is not the stream's video");
        // Track 0 as a legacy header.
        let mut legacy = vec![0x17, 0, 0, 0, 0];
        legacy.extend_from_slice(AVC_RECORD);
        assert!(info.update(&video(legacy)));
        assert_eq!(info.video.as_ref().map(|v| v.width), Some(160));
        assert_eq!(info.tracks.len(), 1);
        assert_eq!(info.tracks[0].id, 1);
        let TrackMedia::Video(v) = &info.tracks[0].media else {
            panic!("{:?}", info.tracks)
        };
        assert_eq!((v.codec.as_str(), v.width, v.height), ("H264", 160, 120));
        // A multitrack coded frame changes nothing.
        let mut frame = vec![0x80 | (2 << 4) | 6, 0x01];
        frame.extend_from_slice(b"avc1");
        frame.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 1, 0x41]);
        let before = info.clone();
        assert!(info.update(&video(frame)));
        assert_eq!(info, before);
    }
}
