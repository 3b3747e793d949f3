//! An HLS player (RFC 8216 6.3): reload the playlist, fetch each new
//! segment once, and model the playback buffer to count stalls, over one
//! keep-alive connection.
//!
//! Segments are counted, not decoded. Byte ranges (`EXT-X-BYTERANGE`) are
//! not honoured: the whole resource is fetched. Segments on another host
//! are refused.

use std::pin::pin;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;

use crate::client::{Arrival, Session};
use crate::http::{read_body, HttpConn};
use crate::playlist::{self, Playlist, MAX_PLAYLIST_BYTES};
use crate::rtmp_conn::ConnError;
use crate::stats::STALL_GAP_MS;
use crate::url::Target;

/// Master playlists followed before giving up (a master pointing at a
/// master is a loop).
pub const MAX_MASTER_HOPS: usize = 2;

/// A virtual player's buffer: playback starts with the first segment and
/// consumes media in real time; when it catches up with what has been
/// downloaded, the picture freezes until the next segment arrives.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlaybackBuffer {
    /// When playback started, in ms.
    started_ms: Option<u64>,
    /// Media downloaded, in ms.
    buffered_ms: u64,
    /// Time spent frozen so far, in ms.
    frozen_ms: u64,
}

impl PlaybackBuffer {
    /// Catches the clock up to `now_ms`: returns how long playback was
    /// frozen if that exceeded [`STALL_GAP_MS`].
    fn catch_up(&mut self, now_ms: u64) -> Option<u64> {
        let started = self.started_ms?;
        let played = now_ms
            .saturating_sub(started)
            .saturating_sub(self.frozen_ms);
        let dry = played.saturating_sub(self.buffered_ms);
        self.frozen_ms += dry;
        (dry > STALL_GAP_MS).then_some(dry)
    }

    /// A segment of `duration_ms` finished downloading at `now_ms`; returns
    /// a stall that ended now, if any.
    pub fn on_segment(&mut self, now_ms: u64, duration_ms: u64) -> Option<u64> {
        if self.started_ms.is_none() {
            self.started_ms = Some(now_ms);
        }
        let stall = self.catch_up(now_ms);
        self.buffered_ms += duration_ms;
        stall
    }

    /// The session ends at `now_ms`: a player frozen for too long by then
    /// stalled too.
    pub fn finish(&mut self, now_ms: u64) -> Option<u64> {
        self.catch_up(now_ms)
    }
}

/// Plays the playlist URL until `session.end`.
pub async fn session(session: &mut Session<'_>) -> Result<(), ConnError> {
    let mut playback = PlaybackBuffer::default();
    let result = play(session, &mut playback).await;
    let stall = playback.finish(session.env.now_ms());
    session.record_stall(stall);
    result
}

async fn play(session: &mut Session<'_>, playback: &mut PlaybackBuffer) -> Result<(), ConnError> {
    let env = session.env;
    let end = session.end;
    let mut timer = pin!(tokio::time::sleep_until(end.into()));
    let mut conn = open(env.addr, end).await?;
    let mut playlist_url = env.opts.url.clone();
    let mut next_seq: Option<u64> = None;
    let mut hops = 0;
    loop {
        if Instant::now() >= end {
            return Ok(());
        }
        if !conn.is_open() {
            conn = open(env.addr, end).await?;
        }
        let Some(text) = fetch_text(&mut conn, &playlist_url, end).await? else {
            return Ok(());
        };
        session.add_bytes(text.len() as u64);
        let media = match playlist::parse(&text) {
            Some(Playlist::Media(m)) => m,
            Some(Playlist::Master(variants)) => {
                hops += 1;
                let Some(first) = variants.first() else {
                    return Err(ConnError::Hls("master playlist without variants".into()));
                };
                if hops > MAX_MASTER_HOPS {
                    return Err(ConnError::Hls("too many master playlists".into()));
                }
                playlist_url = playlist_url
                    .join(first)
                    .map_err(|e| ConnError::Hls(e.to_string()))?;
                continue;
            }
            None => return Err(ConnError::Hls("not a playlist".into())),
        };
        session.established = true;
        let mut fetched = 0;
        let wanted: Vec<(u64, u64, String)> = media
            .segments_from(next_seq)
            .map(|(seq, s)| (seq, s.duration_ms, s.uri.clone()))
            .collect();
        for (seq, duration_ms, uri) in wanted {
            let target = playlist_url
                .join(&uri)
                .map_err(|e| ConnError::Hls(e.to_string()))?;
            if target.host != playlist_url.host || target.port != playlist_url.port {
                return Err(ConnError::Hls(format!("segment on another host: {target}")));
            }
            if !conn.is_open() {
                conn = open(env.addr, end).await?;
            }
            let response = match tokio::time::timeout_at(end.into(), conn.get(&target)).await {
                Ok(r) => r?,
                Err(_) => return Ok(()),
            };
            let mut body = response.into_body();
            // Segments are counted, never kept: no cap needed.
            let read = read_body(&mut body, timer.as_mut(), u64::MAX, |n| {
                session.add_bytes(n as u64)
            });
            let Some(len) = read.await? else {
                return Ok(());
            };
            let now = Instant::now();
            session.on_media(now, env.now_ms(), Arrival::Segment, len);
            let stall = playback.on_segment(env.now_ms(), duration_ms);
            session.record_stall(stall);
            next_seq = Some(seq.saturating_add(1));
            fetched += 1;
        }
        if media.ended && fetched == 0 {
            // Nothing will change: idle until the end.
            tokio::time::sleep_until(end.into()).await;
            return Ok(());
        }
        // RFC 8216 6.3.4: reload after a target duration when the playlist
        // changed, after half of one when it did not.
        let wait = if fetched > 0 {
            media.target_duration_ms
        } else {
            media.target_duration_ms / 2
        };
        let at = (Instant::now() + Duration::from_millis(wait)).min(end);
        tokio::time::sleep_until(at.into()).await;
    }
}

async fn open(addr: std::net::SocketAddr, end: Instant) -> Result<HttpConn, ConnError> {
    tokio::time::timeout_at(end.into(), HttpConn::open(addr))
        .await
        .map_err(|_| ConnError::Timeout)?
}

/// Fetches a playlist body (at most [`MAX_PLAYLIST_BYTES`]); `None` when
/// the session ended first.
async fn fetch_text(
    conn: &mut HttpConn,
    url: &Target,
    end: Instant,
) -> Result<Option<String>, ConnError> {
    let fetch = async {
        let response = conn.get(url).await?;
        let limited = http_body_util::Limited::new(response.into_body(), MAX_PLAYLIST_BYTES);
        let body = limited
            .collect()
            .await
            .map_err(|e| ConnError::Hls(format!("playlist body: {e}")))?
            .to_bytes();
        String::from_utf8(body.to_vec()).map_err(|_| ConnError::Hls("playlist not UTF-8".into()))
    };
    match tokio::time::timeout_at(end.into(), fetch).await {
        Ok(r) => r.map(Some),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playback_buffer_counts_freezes_over_a_second() {
        let mut p = PlaybackBuffer::default();
        // 4 s segment at t=0: plays until t=4000.
        assert_eq!(p.on_segment(0, 4000), None);
        // Next one at t=3000: in time; buffer now 8 s.
        assert_eq!(p.on_segment(3000, 4000), None);
        // Next at t=8500: ran dry at 8000, 500 ms frozen: not a stall.
        assert_eq!(p.on_segment(8500, 4000), None);
        // Buffer ends at 12 s of media + 0.5 s frozen = t=12500. Next at
        // t=14000: 1500 ms frozen, a stall.
        assert_eq!(p.on_segment(14_000, 4000), Some(1500));
        // Ends at t=17_000 with 16 s of media, 2 s frozen: plays to t=18_000.
        assert_eq!(p.finish(17_000), None);
        assert_eq!(p.finish(19_500), Some(1500));
        // Never started: nothing to measure.
        assert_eq!(PlaybackBuffer::default().finish(100_000), None);
    }
}
