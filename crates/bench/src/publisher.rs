//! An RTMP publisher: connect, the FMLE publish preamble, then an FLV
//! file's tags at their own pace, looped, as `ffmpeg -re -stream_loop -1
//! -c copy` would send them.

use std::pin::pin;
use std::time::{Duration, Instant};

use bytes::Bytes;
use media_core::flv::{FlvError, FlvReader};
use media_core::metadata::add_set_data_frame;
use media_core::{MediaKind, MediaMessage};
use rtmp_proto::command::PublishType;
use rtmp_proto::session::{ClientConfig, ClientEvent};
use rtmp_proto::RawMessage;

use crate::client::{Arrival, Session};
use crate::rtmp_conn::{ConnError, RtmpConn, Wake};

/// Most tags sent in one go before reading again: a publisher that fell
/// behind (a slow server) catches up in bounded steps.
pub const MAX_TAGS_PER_WAKE: usize = 256;
/// Gap inserted between the last tag of the file and the first of the next
/// loop when the file gives no better estimate (one frame at 25 fps).
pub const DEFAULT_LOOP_GAP_MS: u64 = 40;
/// `onStatus` code of an accepted publish (RTMP spec 7.2.2.6).
const PUBLISH_START: &str = "NetStream.Publish.Start";
/// Tags a file may hold: a 10 s test clip has ~700; the cap bounds what a
/// broken file can make us index.
pub const MAX_CLIP_TAGS: usize = 10_000_000;

/// Why an FLV file cannot be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClipError {
    /// Not an FLV file (bad signature or header).
    #[error(transparent)]
    Flv(#[from] FlvError),
    /// A tag with the filter (encryption) bit, which we cannot publish.
    #[error("encrypted FLV tag at byte {0}")]
    Encrypted(usize),
    /// More than [`MAX_CLIP_TAGS`] tags.
    #[error("more than {MAX_CLIP_TAGS} tags")]
    TooManyTags,
    /// No audio or video tag at all.
    #[error("no audio or video tags")]
    NoMedia,
}

/// Every audio, video and data tag of an FLV file, as messages to publish
/// (media-core's [`FlvReader`]; bodies share the file's memory). A truncated
/// last tag (a file still being written) is dropped, not an error; other
/// tag types are skipped.
pub fn read_flv(file: Bytes) -> Result<Vec<MediaMessage>, ClipError> {
    let mut reader = FlvReader::new(file)?;
    let mut messages = Vec::new();
    loop {
        let at = reader.position();
        let tag = match reader.next() {
            None => break,
            Some(Ok(tag)) => tag,
            // The file is whole in memory: running out of it is its end.
            Some(Err(FlvError::Truncated(_) | FlvError::TagPastEnd { .. })) => break,
            Some(Err(e)) => return Err(e.into()),
        };
        if tag.filter {
            return Err(ClipError::Encrypted(at));
        }
        if let Some(kind) = tag.tag_type.media_kind() {
            if messages.len() >= MAX_CLIP_TAGS {
                return Err(ClipError::TooManyTags);
            }
            messages.push(MediaMessage::new(kind, u64::from(tag.timestamp), tag.body));
        }
    }
    if !messages.iter().any(|m| m.kind != MediaKind::Data) {
        return Err(ClipError::NoMedia);
    }
    Ok(messages)
}

/// Codec configuration or metadata: a sequence header (AVC/HEVC/AV1
/// record, AudioSpecificConfig, ...) or a data message. A publisher sends
/// these once, not on every loop of the file.
fn is_config(msg: &MediaMessage) -> bool {
    msg.kind == MediaKind::Data || msg.is_sequence_header()
}

/// A file ready to publish in a loop: timestamps rebased to 0, metadata
/// wrapped in `@setDataFrame` as FMLE and ffmpeg send it.
#[derive(Debug, Clone)]
pub struct Clip {
    tags: Vec<MediaMessage>,
    /// Duration of one loop: where the next loop's timestamps start.
    loop_ms: u64,
}

impl Clip {
    /// Prepares `tags` (from [`read_flv`]).
    pub fn new(mut tags: Vec<MediaMessage>) -> Self {
        let first = tags.iter().map(|t| t.timestamp).min().unwrap_or(0);
        for tag in &mut tags {
            tag.timestamp -= first;
            if tag.kind == MediaKind::Data {
                tag.payload = add_set_data_frame(&tag.payload);
            }
        }
        let last = tags.iter().map(|t| t.timestamp).max().unwrap_or(0);
        // One video frame interval past the last tag, so loops do not overlap.
        let mut video = tags
            .iter()
            .filter(|t| t.kind == MediaKind::Video)
            .map(|t| t.timestamp)
            .rev();
        let gap = match (video.next(), video.next()) {
            (Some(a), Some(b)) if a > b => (a - b).min(1000),
            _ => DEFAULT_LOOP_GAP_MS,
        };
        Self {
            tags,
            loop_ms: last + gap,
        }
    }

    /// The tags, timestamps from 0.
    pub fn tags(&self) -> &[MediaMessage] {
        &self.tags
    }

    /// Length of one loop in milliseconds.
    pub fn loop_ms(&self) -> u64 {
        self.loop_ms
    }

    /// Average bitrate of the tag bodies over one loop, in kbit/s.
    pub fn kbps(&self) -> f64 {
        let bytes: usize = self.tags.iter().map(|t| t.payload.len()).sum();
        crate::stats::rate_kbps(bytes as u64, self.loop_ms)
    }
}

/// Where the publisher is in the clip.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    /// Next tag index.
    index: usize,
    /// Loop number (0 sends configuration tags; later loops skip them).
    round: u64,
}

impl Cursor {
    /// The stream time of the next tag, in ms since publishing started.
    fn due_ms(&self, clip: &Clip) -> Option<u64> {
        let tag = clip.tags.get(self.index)?;
        Some(self.round * clip.loop_ms + tag.timestamp)
    }

    fn advance(&mut self, clip: &Clip) {
        self.index += 1;
        if self.index >= clip.tags.len() {
            self.index = 0;
            self.round += 1;
        }
    }
}

/// Publishes the clip on [`crate::client::Env::publish_name`] until `session.end`.
pub async fn session(
    session: &mut Session<'_>,
    seed: [u8; 32],
    id: usize,
) -> Result<(), ConnError> {
    let env = session.env;
    let clip = env
        .clip
        .as_ref()
        .ok_or_else(|| ConnError::Refused("no clip to publish".to_owned()))?;
    let end = session.end;
    let mut timer = pin!(tokio::time::sleep_until(end.into()));
    let mut conn = tokio::time::timeout_at(
        end.into(),
        RtmpConn::connect(env.addr, ClientConfig::default(), seed),
    )
    .await
    .map_err(|_| ConnError::Timeout)??;
    let tc_url = env.opts.url.tc_url(&env.app);
    let name = env.publish_name(id, session.stats.sessions);
    conn.session.connect(&env.app, &tc_url, Vec::new());
    let mut stream_id = None;
    let mut publishing_since: Option<Instant> = None;
    let mut cursor = Cursor { index: 0, round: 0 };
    loop {
        if let (Some(sid), Some(since)) = (stream_id, publishing_since) {
            let now = Instant::now();
            let elapsed = now.saturating_duration_since(since).as_millis() as u64;
            for _ in 0..MAX_TAGS_PER_WAKE {
                let Some(due) = cursor.due_ms(clip) else {
                    break;
                };
                if due > elapsed {
                    break;
                }
                let Some(tag) = clip.tags.get(cursor.index) else {
                    break;
                };
                if cursor.round == 0 || !is_config(tag) {
                    let msg = RawMessage {
                        csid: 0,
                        timestamp: due,
                        type_id: tag.kind.message_type(),
                        stream_id: sid,
                        payload: tag.payload.clone(),
                    };
                    conn.session.send_media(sid, &msg);
                    let arrival = if tag.kind == MediaKind::Video {
                        Arrival::video(&tag.payload)
                    } else {
                        Arrival::Audio
                    };
                    session.on_media(now, env.now_ms(), arrival, tag.payload.len() as u64);
                }
                cursor.advance(clip);
            }
            let next = cursor
                .due_ms(clip)
                .map(|due| since + Duration::from_millis(due))
                .unwrap_or(end)
                .min(end);
            timer.as_mut().reset(next.into());
        }
        if conn.wants_flush() {
            let n = conn.flush().await?;
            session.add_bytes(n);
        }
        match conn.next(timer.as_mut(), None, || env.now_ms()).await? {
            Wake::Timer => {
                if Instant::now() >= end {
                    return Ok(());
                }
            }
            Wake::Data(_) => {
                while let Some(event) = conn.session.poll_event() {
                    match event {
                        ClientEvent::Connected { .. } => {
                            conn.session.publish_fmle(&name, PublishType::Live);
                        }
                        ClientEvent::StreamCreated { stream_id: sid, .. } => stream_id = Some(sid),
                        ClientEvent::ConnectFailed { status } => {
                            return Err(ConnError::Refused(format!("connect: {}", status.code)));
                        }
                        ClientEvent::CallFailed { command, .. } => {
                            return Err(ConnError::Refused(command));
                        }
                        ClientEvent::Status { level, code, .. } => {
                            if level == "error" {
                                return Err(ConnError::Refused(code));
                            }
                            if code == PUBLISH_START && publishing_since.is_none() {
                                session.established = true;
                                publishing_since = Some(Instant::now());
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(kind: MediaKind, timestamp: u64, data: &'static [u8]) -> MediaMessage {
        MediaMessage::new(kind, timestamp, Bytes::from_static(data))
    }

    /// An FLV file with the given (type, timestamp, body) tags.
    fn build(tags: &[(u8, u32, &[u8])]) -> Vec<u8> {
        let mut w = media_core::flv::FlvWriter::new(true, true);
        for (t, ts, body) in tags {
            w.write_tag(media_core::flv::TagType::from_id(*t), *ts, body)
                .unwrap();
        }
        w.finish().to_vec()
    }

    const AVC_SEQ: &[u8] = &[0x17, 0, 0, 0, 0, 1, 2];
    const AVC_KEY: &[u8] = &[0x17, 1, 0, 0, 0, 9, 9, 9];
    const AVC_INTER: &[u8] = &[0x27, 1, 0, 0, 0, 8];
    const AAC_SEQ: &[u8] = &[0xaf, 0, 0x12, 0x10];
    const AAC_RAW: &[u8] = &[0xaf, 1, 5, 5, 5];

    #[test]
    fn reads_tags_and_extended_timestamps() {
        let file = build(&[
            (18, 0, b"\x02\x00\x0aonMetaData\x05"),
            (9, 0, AVC_SEQ),
            (8, 0, AAC_SEQ),
            (9, 0, AVC_KEY),
            (8, 23, AAC_RAW),
            (9, 0x0100_0040, AVC_INTER),
            // Not media: skipped.
            (7, 50, b"x"),
        ]);
        let tags = read_flv(Bytes::from(file)).unwrap();
        assert_eq!(tags.len(), 6);
        assert_eq!(tags[0].kind, MediaKind::Data);
        assert_eq!(tags[3].payload.as_ref(), AVC_KEY);
        assert_eq!(tags[5].timestamp, 0x0100_0040);
        let config: Vec<bool> = tags.iter().map(is_config).collect();
        assert_eq!(config, [true, true, true, false, false, false]);
    }

    #[test]
    fn truncated_last_tag_is_dropped() {
        let mut file = build(&[(9, 0, AVC_KEY), (9, 40, AVC_INTER)]);
        file.truncate(file.len() - 6);
        let tags = read_flv(Bytes::from(file.clone())).unwrap();
        assert_eq!(tags.len(), 1);
        // Cut inside the last tag's header.
        file.truncate(13 + 11 + AVC_KEY.len() + 4 + 5);
        assert_eq!(read_flv(Bytes::from(file)).unwrap().len(), 1);
    }

    #[test]
    fn refuses_bad_files() {
        assert!(matches!(
            read_flv(Bytes::from_static(b"FLX\x01\x05\0\0\0\x09\0\0\0\0")),
            Err(ClipError::Flv(FlvError::BadSignature))
        ));
        assert!(matches!(
            read_flv(Bytes::from_static(b"FLV\x01\x05\xff\0\0\x09\0\0\0\0")),
            Err(ClipError::Flv(FlvError::BadHeaderSize(_)))
        ));
        let only_meta = build(&[(18, 0, b"\x02\x00\x01x")]);
        assert_eq!(read_flv(Bytes::from(only_meta)), Err(ClipError::NoMedia));
        let mut encrypted = build(&[(9, 0, AVC_KEY)]);
        encrypted[13] |= 0x20;
        assert_eq!(
            read_flv(Bytes::from(encrypted)),
            Err(ClipError::Encrypted(13))
        );
        assert!(matches!(
            read_flv(Bytes::from_static(b"FL")),
            Err(ClipError::Flv(FlvError::Truncated(_)))
        ));
    }

    #[test]
    fn clip_rebases_loops_and_wraps_metadata() {
        let clip = Clip::new(vec![
            tag(MediaKind::Data, 1000, b"\x02\x00\x0aonMetaData"),
            tag(MediaKind::Video, 1000, &[0x17, 0, 0]),
            tag(MediaKind::Video, 1000, &[0x17, 1, 0]),
            tag(MediaKind::Video, 1040, &[0x27, 1, 0]),
            tag(MediaKind::Audio, 1050, &[0xaf, 1, 0]),
            tag(MediaKind::Video, 1080, &[0x27, 1, 0]),
        ]);
        let ts: Vec<u64> = clip.tags().iter().map(|t| t.timestamp).collect();
        assert_eq!(ts, [0, 0, 0, 40, 50, 80]);
        // Last tag at 80 plus one 40 ms frame interval.
        assert_eq!(clip.loop_ms(), 120);
        assert!(clip.tags()[0]
            .payload
            .starts_with(b"\x02\x00\x0d@setDataFrame\x02"));
        let mut c = Cursor { index: 0, round: 0 };
        let mut dues = Vec::new();
        for _ in 0..8 {
            dues.push(c.due_ms(&clip).unwrap());
            c.advance(&clip);
        }
        assert_eq!(dues, [0, 0, 0, 40, 50, 80, 120, 120]);
        assert_eq!(c.round, 1);
        // 3 + 3 + 3 + 3 + 3 body bytes (metadata counted wrapped) over 120 ms.
        assert!(clip.kbps() > 0.0);
    }
}
