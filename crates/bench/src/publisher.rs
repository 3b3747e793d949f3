//! An RTMP publisher: connect, the FMLE publish preamble, then an FLV
//! file's tags at their own pace, looped, as `ffmpeg -re -stream_loop -1
//! -c copy` would send them.

use std::pin::pin;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use rtmp_proto::command::PublishType;
use rtmp_proto::session::{ClientConfig, ClientEvent};
use rtmp_proto::{MessageType, RawMessage};

use crate::client::{Arrival, Session};
use crate::flv::{is_video_frame, FlvTag};
use crate::rtmp_conn::{ConnError, RtmpConn, Wake};

/// Most tags sent in one go before reading again: a publisher that fell
/// behind (a slow server) catches up in bounded steps.
pub const MAX_TAGS_PER_WAKE: usize = 256;
/// Gap inserted between the last tag of the file and the first of the next
/// loop when the file gives no better estimate (one frame at 25 fps).
pub const DEFAULT_LOOP_GAP_MS: u64 = 40;
/// `onStatus` code of an accepted publish (RTMP spec 7.2.2.6).
const PUBLISH_START: &str = "NetStream.Publish.Start";

/// A file ready to publish in a loop: timestamps rebased to 0, metadata
/// wrapped in `@setDataFrame` as FMLE and ffmpeg send it.
#[derive(Debug, Clone)]
pub struct Clip {
    tags: Vec<FlvTag>,
    /// Duration of one loop: where the next loop's timestamps start.
    loop_ms: u64,
}

impl Clip {
    /// Prepares `tags` (from [`read_file`](crate::flv::read_file)).
    pub fn new(mut tags: Vec<FlvTag>) -> Self {
        let first = tags.iter().map(|t| t.timestamp).min().unwrap_or(0);
        for tag in &mut tags {
            tag.timestamp -= first;
            if tag.kind == MessageType::DataAmf0 {
                tag.data = set_data_frame(&tag.data);
            }
        }
        let last = tags.iter().map(|t| t.timestamp).max().unwrap_or(0);
        // One video frame interval past the last tag, so loops do not overlap.
        let mut video = tags
            .iter()
            .filter(|t| t.kind == MessageType::Video)
            .map(|t| t.timestamp)
            .rev();
        let gap = match (video.next(), video.next()) {
            (Some(a), Some(b)) if a > b => u64::from(a - b).min(1000),
            _ => DEFAULT_LOOP_GAP_MS,
        };
        Self {
            tags,
            loop_ms: u64::from(last) + gap,
        }
    }

    /// The tags, timestamps from 0.
    pub fn tags(&self) -> &[FlvTag] {
        &self.tags
    }

    /// Length of one loop in milliseconds.
    pub fn loop_ms(&self) -> u64 {
        self.loop_ms
    }

    /// Average bitrate of the tag bodies over one loop, in kbit/s.
    pub fn kbps(&self) -> f64 {
        let bytes: usize = self.tags.iter().map(|t| t.data.len()).sum();
        crate::stats::rate_kbps(bytes as u64, self.loop_ms)
    }
}

/// `onMetaData` as a publisher sends it: prefixed with the AMF0 string
/// `@setDataFrame`, which servers strip before storing it.
fn set_data_frame(data: &Bytes) -> Bytes {
    const NAME: &[u8] = b"@setDataFrame";
    if data.get(3..3 + NAME.len()) == Some(NAME) {
        return data.clone();
    }
    let mut b = BytesMut::with_capacity(3 + NAME.len() + data.len());
    b.put_u8(0x02);
    b.put_u16(NAME.len() as u16);
    b.put_slice(NAME);
    b.put_slice(data);
    b.freeze()
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
        Some(self.round * clip.loop_ms + u64::from(tag.timestamp))
    }

    fn advance(&mut self, clip: &Clip) {
        self.index += 1;
        if self.index >= clip.tags.len() {
            self.index = 0;
            self.round += 1;
        }
    }
}

/// Publishes the clip on `env.stream` (or `STREAM_id`) until `session.end`.
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
    let name = env.publish_name(id);
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
                if cursor.round == 0 || !tag.is_config() {
                    let msg = RawMessage {
                        csid: 0,
                        timestamp: due,
                        type_id: tag.kind,
                        stream_id: sid,
                        payload: tag.data.clone(),
                    };
                    conn.session.send_media(sid, &msg);
                    let arrival = if tag.kind == MessageType::Video {
                        Arrival::Video {
                            picture: is_video_frame(&tag.data),
                        }
                    } else {
                        Arrival::Audio
                    };
                    session.on_media(now, env.now_ms(), arrival, tag.data.len() as u64);
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

    fn tag(kind: MessageType, timestamp: u32, data: &'static [u8]) -> FlvTag {
        FlvTag {
            kind,
            timestamp,
            data: Bytes::from_static(data),
        }
    }

    #[test]
    fn clip_rebases_loops_and_wraps_metadata() {
        let clip = Clip::new(vec![
            tag(MessageType::DataAmf0, 1000, b"\x02\x00\x0aonMetaData"),
            tag(MessageType::Video, 1000, &[0x17, 0, 0]),
            tag(MessageType::Video, 1000, &[0x17, 1, 0]),
            tag(MessageType::Video, 1040, &[0x27, 1, 0]),
            tag(MessageType::Audio, 1050, &[0xaf, 1, 0]),
            tag(MessageType::Video, 1080, &[0x27, 1, 0]),
        ]);
        let ts: Vec<u32> = clip.tags().iter().map(|t| t.timestamp).collect();
        assert_eq!(ts, [0, 0, 0, 40, 50, 80]);
        // Last tag at 80 plus one 40 ms frame interval.
        assert_eq!(clip.loop_ms(), 120);
        assert!(clip.tags()[0]
            .data
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

    #[test]
    fn already_wrapped_metadata_is_kept() {
        let wrapped = Bytes::from_static(b"\x02\x00\x0d@setDataFrame\x02\x00\x0aonMetaData");
        assert_eq!(set_data_frame(&wrapped), wrapped);
    }
}
