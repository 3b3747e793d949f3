//! Media to publish: FLV tags with their timing, and what a recorded message was.

use std::time::Duration;

use bytes::Bytes;
use media_core::flv::{FlvError, FlvReader, TagType};
use rtmp_proto::message::{MessageType, RawMessage};

/// Key frame and sequence header flags of an audio or video payload.
///
/// Legacy FLV (spec E.4.2, E.4.3) and Enhanced RTMP (`IsExHeader` bit, packet
/// type 0 = SequenceStart) forms are both recognised; an E-RTMP v2
/// multitrack message (video packet type 6, audio 5: judged by what its
/// tracks carry) or one behind a `ModEx` prefix (packet type 7) is read with
/// media-core's header parsers.
pub fn classify(kind: MessageType, payload: &[u8]) -> (bool, bool) {
    use media_core::flv::{AudioTagHeader, VideoTagHeader};
    let first = payload.first().copied().unwrap_or(0);
    let second = payload.get(1).copied();
    match kind {
        MessageType::Video => {
            let keyframe = (first >> 4) & 0x07 == 1;
            let sequence_header = if first & 0x80 != 0 && matches!(first & 0x0f, 6 | 7) {
                VideoTagHeader::parse(payload).is_ok_and(|(h, _)| h.is_sequence_header())
            } else if first & 0x80 != 0 {
                first & 0x0f == 0
            } else {
                matches!(first & 0x0f, 7 | 12 | 13) && second == Some(0)
            };
            (keyframe, sequence_header)
        }
        MessageType::Audio => {
            let format = first >> 4;
            let sequence_header = match format {
                10 => second == Some(0),
                9 if matches!(first & 0x0f, 5 | 7) => {
                    AudioTagHeader::parse(payload).is_ok_and(|(h, _)| h.is_sequence_header())
                }
                9 => first & 0x0f == 0,
                _ => false,
            };
            (false, sequence_header)
        }
        _ => (false, false),
    }
}

/// The E-RTMP v2 track ids an audio or video payload carries, in message
/// order; `None` for a message that is not multitrack (or whose header does
/// not parse). A track loop that breaks gives the ids read before.
pub fn track_ids(kind: MessageType, payload: &[u8]) -> Option<Vec<u8>> {
    use media_core::flv::Tracks;
    let ids = |t: Tracks<'_>| t.map_while(Result::ok).map(|t| t.track_id).collect();
    match kind {
        MessageType::Video => Tracks::of_video(payload).ok()?.map(|(_, t)| ids(t)),
        MessageType::Audio => Tracks::of_audio(payload).ok()?.map(|(_, t)| ids(t)),
        _ => None,
    }
}

/// A stable 64-bit fingerprint of a payload, to compare what was sent with
/// what was received without keeping every byte. Not cryptographic: it mixes
/// eight bytes at a time (multiply-rotate, FxHash style) because players hash
/// every byte they receive.
pub fn digest(payload: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let mut h = mix(0xcbf2_9ce4_8422_2325, payload.len() as u64);
    let mut words = payload.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = mix(h, u64::from_le_bytes(b));
    }
    let mut tail = [0u8; 8];
    for (d, s) in tail.iter_mut().zip(words.remainder()) {
        *d = *s;
    }
    h = mix(h, u64::from_le_bytes(tail));
    h ^ (h >> 29)
}

/// One media message as a simulated client sent or received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaRecord {
    /// Virtual time it was sent / fully received.
    pub at: Duration,
    /// Audio, video or data.
    pub kind: MessageType,
    /// The RTMP timestamp, in milliseconds.
    pub timestamp: u64,
    /// A video key frame.
    pub keyframe: bool,
    /// A codec configuration (AVC/HEVC record, AAC config).
    pub sequence_header: bool,
    /// Payload length.
    pub len: usize,
    /// [`digest`] of the payload.
    pub digest: u64,
}

impl MediaRecord {
    /// Describes `msg` at virtual time `at`.
    pub fn of(msg: &RawMessage, at: Duration) -> Self {
        let (keyframe, sequence_header) = classify(msg.type_id, &msg.payload);
        Self {
            at,
            kind: msg.type_id,
            timestamp: msg.timestamp,
            keyframe,
            sequence_header,
            len: msg.payload.len(),
            digest: digest(&msg.payload),
        }
    }
}

/// The tags of a media file, in file order, timestamps as in the file.
#[derive(Debug, Clone, Default)]
pub struct MediaTags {
    tags: Vec<RawMessage>,
}

impl MediaTags {
    /// Messages to publish (timestamps in ms).
    pub fn new(tags: Vec<RawMessage>) -> Self {
        Self { tags }
    }

    /// Reads every audio, video and script tag of an FLV file (through
    /// `media_core::flv::FlvReader`; bodies share `data`'s memory).
    pub fn from_flv(data: impl Into<Bytes>) -> Result<Self, FlvError> {
        let mut tags = Vec::new();
        for tag in FlvReader::new(data)? {
            let tag = tag?;
            let type_id = match tag.tag_type {
                TagType::Audio => MessageType::Audio,
                TagType::Video => MessageType::Video,
                TagType::Script => MessageType::DataAmf0,
                TagType::Other(_) => continue,
            };
            tags.push(RawMessage {
                csid: 0,
                timestamp: u64::from(tag.timestamp),
                type_id,
                stream_id: 0,
                payload: tag.body,
            });
        }
        Ok(Self { tags })
    }

    /// The tags.
    pub fn tags(&self) -> &[RawMessage] {
        &self.tags
    }

    /// Time from the first tag to one frame after the last: the loop period.
    pub fn duration(&self) -> Duration {
        let first = self.tags.first().map_or(0, |t| t.timestamp);
        let last = self.tags.last().map_or(0, |t| t.timestamp);
        // One video frame interval after the last tag, estimated from the last two video tags.
        let mut video = self
            .tags
            .iter()
            .rev()
            .filter(|t| t.type_id == MessageType::Video);
        let gap = match (video.next(), video.next()) {
            (Some(a), Some(b)) => a.timestamp.saturating_sub(b.timestamp).max(1),
            _ => 40,
        };
        Duration::from_millis(last.saturating_sub(first).saturating_add(gap))
    }

    /// The tags repeated back to back until `total` of media time, timestamps
    /// continuing across loops and starting at 0. Sequence headers and metadata
    /// are sent only in the first loop, as a looping encoder would.
    pub fn looped(&self, total: Duration) -> Vec<RawMessage> {
        let period = u64::try_from(self.duration().as_millis()).unwrap_or(u64::MAX);
        let total = u64::try_from(total.as_millis()).unwrap_or(u64::MAX);
        let first = self.tags.first().map_or(0, |t| t.timestamp);
        let mut out = Vec::new();
        if period == 0 {
            return out;
        }
        let mut offset = 0u64;
        let mut first_loop = true;
        while offset < total {
            for tag in &self.tags {
                let (_, sequence_header) = classify(tag.type_id, &tag.payload);
                let config = sequence_header || tag.type_id == MessageType::DataAmf0;
                if config && !first_loop {
                    continue;
                }
                let timestamp = tag.timestamp.saturating_sub(first).saturating_add(offset);
                if timestamp >= total {
                    break;
                }
                out.push(RawMessage {
                    timestamp,
                    ..tag.clone()
                });
            }
            first_loop = false;
            offset = offset.saturating_add(period);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flv(tags: &[(u8, u32, &[u8])]) -> Vec<u8> {
        let mut v = b"FLV\x01\x05\x00\x00\x00\x09".to_vec();
        let mut prev = 0u32;
        for (t, ts, body) in tags {
            v.extend_from_slice(&prev.to_be_bytes());
            v.push(*t);
            v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
            v.extend_from_slice(&(ts & 0xff_ffff).to_be_bytes()[1..]);
            v.push((ts >> 24) as u8);
            v.extend_from_slice(&[0, 0, 0]);
            v.extend_from_slice(body);
            prev = 11 + body.len() as u32;
        }
        v.extend_from_slice(&prev.to_be_bytes());
        v
    }

    #[test]
    fn reads_tags_and_loops() {
        let data = flv(&[
            (18, 0, b"\x02\x00\x0aonMetaData"),
            (9, 0, &[0x17, 0, 0, 0, 0, 1]),
            (8, 0, &[0xaf, 0, 0x12, 0x10]),
            (9, 0, &[0x17, 1, 0, 0, 0, 9]),
            (8, 23, &[0xaf, 1, 5]),
            (9, 40, &[0x27, 1, 0, 0, 0, 8]),
        ]);
        let m = MediaTags::from_flv(data).unwrap();
        assert_eq!(m.tags().len(), 6);
        assert_eq!(m.duration(), Duration::from_millis(80));
        let looped = m.looped(Duration::from_millis(200));
        // First loop: 6 tags; then 3 media tags per loop at +80 and +160.
        let ts: Vec<u64> = looped.iter().map(|t| t.timestamp).collect();
        assert_eq!(ts, vec![0, 0, 0, 0, 23, 40, 80, 103, 120, 160, 183]);
        let rec = MediaRecord::of(&m.tags()[1], Duration::ZERO);
        assert!(rec.keyframe && rec.sequence_header);
        let rec = MediaRecord::of(&m.tags()[5], Duration::ZERO);
        assert!(!rec.keyframe && !rec.sequence_header);
        assert!(MediaRecord::of(&m.tags()[2], Duration::ZERO).sequence_header);
    }

    #[test]
    fn rejects_garbage_and_truncation() {
        assert_eq!(
            MediaTags::from_flv(&b"NOPE0000000"[..]).unwrap_err(),
            FlvError::BadSignature
        );
        let mut data = flv(&[(9, 0, &[0x17, 1, 0, 0, 0, 9])]);
        data.truncate(data.len() - 6);
        assert!(matches!(
            MediaTags::from_flv(data),
            Err(FlvError::TagPastEnd { .. })
        ));
        assert!(MediaTags::from_flv(&b"FL"[..]).is_err());
    }

    #[test]
    fn digest_tells_payloads_apart() {
        let a = digest(b"0123456789abcdef");
        assert_eq!(a, digest(b"0123456789abcdef"));
        assert_ne!(a, digest(b"0123456789abcdeg"));
        assert_ne!(digest(b"abc"), digest(b"abc\0"));
        assert_ne!(digest(b""), digest(b"\0"));
    }

    #[test]
    fn enhanced_rtmp_flags() {
        // IsExHeader | keyframe<<4 | SequenceStart.
        assert_eq!(
            classify(MessageType::Video, &[0x90, b'h', b'v', b'c', b'1']),
            (true, true)
        );
        assert_eq!(classify(MessageType::Video, &[0x91, b'h']), (true, false));
        assert_eq!(classify(MessageType::Video, &[]), (false, false));
        // E-RTMP v2 ModEx (a 3-byte TimestampOffsetNano) before the packet type.
        assert_eq!(
            classify(MessageType::Video, b"\x97\x02\x00\x00\x01\x00avc1"),
            (true, true)
        );
        assert_eq!(
            classify(MessageType::Video, b"\x97\x02\x00\x00\x01\x01avc1\0\0\0"),
            (true, false)
        );
        assert_eq!(
            classify(MessageType::Audio, b"\x97\x02\x00\x00\x01\x00mp4a"),
            (false, true)
        );
        assert_eq!(
            classify(MessageType::Audio, b"\x97\x02\x00\x00\x01\x01mp4a"),
            (false, false)
        );
        // Multitrack: a OneTrack sequence start of track 1, a ManyTracks
        // key frame of tracks 0 and 1.
        let seq = b"\x96\x00avc1\x01\x01\x42";
        assert_eq!(classify(MessageType::Video, seq), (true, true));
        assert_eq!(track_ids(MessageType::Video, seq), Some(vec![1]));
        let key = b"\x96\x11avc1\x00\x00\x00\x01\x65\x01\x00\x00\x01\x65";
        assert_eq!(classify(MessageType::Video, key), (true, false));
        assert_eq!(track_ids(MessageType::Video, key), Some(vec![0, 1]));
        let audio = b"\x95\x00mp4a\x01\x12\x10";
        assert_eq!(classify(MessageType::Audio, audio), (false, true));
        assert_eq!(track_ids(MessageType::Audio, audio), Some(vec![1]));
        assert_eq!(track_ids(MessageType::Audio, &[0xaf, 1, 0x21]), None);
        assert_eq!(track_ids(MessageType::Video, b"\x91hvc1\0\0\0"), None);
    }
}
