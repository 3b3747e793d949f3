//! Recent traffic of a client, for the API's `recv_30s` / `send_30s`.
//!
//! An average since connect says little about a player that has been on for
//! hours, and a timer per client would cost the fan-out path. Instead the
//! server samples every client's byte counters on one housekeeping timer
//! (every [`RATE_SAMPLE_MS`]) and a rate is measured from the newest sample at
//! least [`RATE_WINDOW_MS`] old: a window of 30 to 40 s, as SRS's own sampled
//! `kbps`. A client younger than the window is measured since it connected.
//! Time is passed in, so the arithmetic is tested without clocks.
//!
//! An Enhanced RTMP v2 multitrack stream's publisher sends several
//! renditions in one connection; [`TrackRates`] counts each track's bytes
//! as they are published and samples them on the same timer, so a track's
//! rate is measured exactly as the stream's is.

use media_core::flv::{Tracks, MAX_TRACKS_PER_MESSAGE};
use media_core::{MediaKind, MediaMessage};

/// How often the server samples every client's counters, ms.
pub const RATE_SAMPLE_MS: u64 = 10_000;
/// The span a rate covers at least, ms.
pub const RATE_WINDOW_MS: u64 = 30_000;
/// Samples kept: enough that one is always at least a window old.
const KEPT: usize = (RATE_WINDOW_MS / RATE_SAMPLE_MS) as usize + 1;

/// Byte counters at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Runtime ms.
    pub at_ms: u64,
    /// Bytes read from the peer so far.
    pub bytes_in: u64,
    /// Bytes written to the peer so far.
    pub bytes_out: u64,
}

impl Traffic {
    /// Bytes moved since `base` and the ms between the two.
    pub fn since(&self, base: &Traffic) -> Traffic {
        Traffic {
            at_ms: self.at_ms.saturating_sub(base.at_ms),
            bytes_in: self.bytes_in.saturating_sub(base.bytes_in),
            bytes_out: self.bytes_out.saturating_sub(base.bytes_out),
        }
    }
}

/// The last few samples of one client's counters, in a fixed ring (no
/// allocation per client).
#[derive(Debug, Clone)]
pub struct RateWindow {
    /// The connect instant: zero bytes at connect time.
    origin: Traffic,
    ring: [Traffic; KEPT],
    len: usize,
    next: usize,
}

impl RateWindow {
    /// A window for a client that connected at `connected_ms`.
    pub fn new(connected_ms: u64) -> Self {
        let origin = Traffic {
            at_ms: connected_ms,
            ..Traffic::default()
        };
        Self {
            origin,
            ring: [origin; KEPT],
            len: 0,
            next: 0,
        }
    }

    /// Records the counters at one instant; the oldest sample goes.
    pub fn record(&mut self, now: Traffic) {
        if let Some(slot) = self.ring.get_mut(self.next) {
            *slot = now;
        }
        self.next = (self.next + 1) % KEPT;
        self.len = (self.len + 1).min(KEPT);
    }

    /// What moved between the newest sample at least a window before `now`
    /// (or the connect instant, for a younger client) and `now`.
    pub fn recent(&self, now: Traffic) -> Traffic {
        let old_enough = now.at_ms.saturating_sub(RATE_WINDOW_MS);
        let base = self.ring[..self.len]
            .iter()
            .filter(|s| s.at_ms <= old_enough)
            .max_by_key(|s| s.at_ms)
            .unwrap_or(&self.origin);
        now.since(base)
    }
}

/// One track of a stream: audio or video, and its E-RTMP track id (0 is
/// the default track, and every message that is not multitrack).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackId {
    /// Audio or video.
    pub kind: MediaKind,
    /// The track id.
    pub id: u8,
}

/// One track's bytes so far and their samples.
#[derive(Debug, Clone)]
struct TrackCounter {
    track: TrackId,
    bytes: u64,
    window: RateWindow,
}

/// Bytes received per track of one publish, each with a [`RateWindow`].
///
/// A multitrack message's bytes go to its tracks, each its track body (the
/// few header bytes the tracks share go to none); an audio or video message
/// that is not multitrack is the default track's (0). At most
/// [`MAX_TRACKS_PER_MESSAGE`] tracks are counted (the track loop's own bound;
/// a publisher sends a handful): bytes of further ones are not.
#[derive(Debug, Clone)]
pub struct TrackRates {
    /// When the publish started: a track's counters start there, as a
    /// client's start at its connect.
    origin_ms: u64,
    tracks: Vec<TrackCounter>,
}

impl TrackRates {
    /// No bytes yet, for a publish that started at `origin_ms`.
    pub fn new(origin_ms: u64) -> Self {
        Self {
            origin_ms,
            tracks: Vec::new(),
        }
    }

    /// Counts one published message.
    pub fn count(&mut self, msg: &MediaMessage) {
        let Some(&first) = msg.payload.first() else {
            return;
        };
        // Only an ex header whose packet type is Multitrack or ModEx can
        // be multitrack (E-RTMP v2 "Enhanced Video"/"Enhanced Audio"); the
        // first byte settles every other message without a parse.
        let multitrack = match msg.kind {
            MediaKind::Video if first & 0x80 != 0 && matches!(first & 0x0f, 6 | 7) => {
                Tracks::of_video(&msg.payload)
                    .ok()
                    .flatten()
                    .map(|(_, t)| t)
            }
            MediaKind::Audio if first >> 4 == 9 && matches!(first & 0x0f, 5 | 7) => {
                Tracks::of_audio(&msg.payload)
                    .ok()
                    .flatten()
                    .map(|(_, t)| t)
            }
            MediaKind::Data => return,
            _ => None,
        };
        match multitrack {
            Some(tracks) => {
                for track in tracks.map_while(Result::ok) {
                    self.add(msg.kind, track.track_id, track.body.len());
                }
            }
            None => self.add(msg.kind, 0, msg.payload.len()),
        }
    }

    fn add(&mut self, kind: MediaKind, id: u8, bytes: usize) {
        let track = TrackId { kind, id };
        let bytes = bytes as u64;
        if let Some(c) = self.tracks.iter_mut().find(|c| c.track == track) {
            c.bytes = c.bytes.saturating_add(bytes);
        } else if self.tracks.len() < MAX_TRACKS_PER_MESSAGE {
            self.tracks.push(TrackCounter {
                track,
                bytes,
                window: RateWindow::new(self.origin_ms),
            });
        }
    }

    /// Records every track's counter at `now_ms` (the housekeeping timer,
    /// with the clients').
    pub fn sample(&mut self, now_ms: u64) {
        for c in &mut self.tracks {
            c.window.record(Self::traffic(c, now_ms));
        }
    }

    fn traffic(c: &TrackCounter, now_ms: u64) -> Traffic {
        Traffic {
            at_ms: now_ms,
            bytes_in: c.bytes,
            bytes_out: 0,
        }
    }

    /// Every track's bytes over the last 30 to 40 s (since the publish
    /// started, for a younger one; see [`RateWindow::recent`]), in the
    /// order first seen.
    pub fn recent(&self, now_ms: u64) -> Vec<(TrackId, Traffic)> {
        self.tracks
            .iter()
            .map(|c| (c.track, c.window.recent(Self::traffic(c, now_ms))))
            .collect()
    }

    /// Whether any track but the default one was seen: a multitrack stream.
    pub fn is_multitrack(&self) -> bool {
        self.tracks.iter().any(|c| c.track.id != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn at(at_ms: u64, bytes_in: u64, bytes_out: u64) -> Traffic {
        Traffic {
            at_ms,
            bytes_in,
            bytes_out,
        }
    }

    #[test]
    fn a_young_client_is_measured_since_it_connected() {
        let mut w = RateWindow::new(1_000);
        w.record(at(11_000, 50, 500));
        assert_eq!(w.recent(at(21_000, 100, 1_000)), at(20_000, 100, 1_000));
    }

    #[test]
    fn an_old_client_is_measured_over_the_last_window_only() {
        let mut w = RateWindow::new(0);
        // Fast for the first minute, then slow: 10 kB/s, then 1 kB/s.
        let mut out = 0;
        for t in 1..=12 {
            out += if t <= 6 { 100_000 } else { 10_000 };
            w.record(at(t * RATE_SAMPLE_MS, 0, out));
        }
        let now = at(12 * RATE_SAMPLE_MS + 5_000, 0, out + 5_000);
        let recent = w.recent(now);
        // The base is the sample 35 s before: three slow samples plus 5 s.
        assert_eq!(recent.at_ms, 35_000);
        assert_eq!(recent.bytes_out, 35_000);
        // An average since connect would have said about 5.2 kB/s.
        assert!(now.bytes_out / (now.at_ms / 1_000) > 5_000);
    }

    #[test]
    fn a_counter_that_went_backwards_or_a_clock_that_stood_still_gives_zero() {
        let mut w = RateWindow::new(0);
        w.record(at(10_000, 10, 10));
        assert_eq!(w.recent(at(40_000, 5, 5)), at(30_000, 0, 0));
        assert_eq!(RateWindow::new(7).recent(at(7, 0, 0)), at(0, 0, 0));
    }

    /// A ManyTracks avc1 CodedFrames message with tracks of `sizes` bytes
    /// (ids 0, 1, ...), behind a ModEx prefix when `modex`.
    fn many_tracks(sizes: &[usize], modex: bool) -> MediaMessage {
        let mut p = if modex {
            vec![0x80 | (2 << 4) | 7, 2, 0, 0, 9, 0x06]
        } else {
            vec![0x80 | (2 << 4) | 6]
        };
        p.push((1 << 4) | 1);
        p.extend_from_slice(b"avc1");
        for (id, &size) in sizes.iter().enumerate() {
            p.push(id as u8);
            p.extend_from_slice(&(size as u32).to_be_bytes()[1..]);
            p.resize(p.len() + size, 0x41);
        }
        MediaMessage::new(MediaKind::Video, 0, Bytes::from(p))
    }

    fn bytes_of(rates: &TrackRates, kind: MediaKind, id: u8, now_ms: u64) -> u64 {
        rates
            .recent(now_ms)
            .iter()
            .find(|(t, _)| *t == TrackId { kind, id })
            .map_or(0, |(_, traffic)| traffic.bytes_in)
    }

    #[test]
    fn each_track_counts_its_own_bytes() {
        let mut r = TrackRates::new(1_000);
        r.count(&many_tracks(&[1000, 250], false));
        r.count(&many_tracks(&[500, 125], true));
        // Audio: a legacy AAC frame is track 0's; OneTrack mp4a of track 2.
        r.count(&MediaMessage::new(
            MediaKind::Audio,
            0,
            Bytes::from_static(&[0xaf, 1, 9, 9, 9, 9]),
        ));
        r.count(&MediaMessage::new(
            MediaKind::Audio,
            0,
            Bytes::from_static(b"\x95\x01mp4a\x02abcdefgh"),
        ));
        // Data messages are no track's; an empty payload is nothing.
        r.count(&MediaMessage::new(
            MediaKind::Data,
            0,
            Bytes::from_static(b"\x02\x00\x0aonMetaData"),
        ));
        r.count(&MediaMessage::new(MediaKind::Video, 0, Bytes::new()));
        assert!(r.is_multitrack());
        assert_eq!(bytes_of(&r, MediaKind::Video, 0, 5_000), 1500);
        assert_eq!(bytes_of(&r, MediaKind::Video, 1, 5_000), 375);
        assert_eq!(bytes_of(&r, MediaKind::Audio, 0, 5_000), 6);
        assert_eq!(bytes_of(&r, MediaKind::Audio, 2, 5_000), 8);
        assert_eq!(r.recent(5_000).len(), 4);
        // Measured since the publish started, 4 s before.
        assert_eq!(r.recent(5_000)[0].1.at_ms, 4_000);

        // A legacy stream is one track per kind.
        let mut legacy = TrackRates::new(0);
        legacy.count(&MediaMessage::new(
            MediaKind::Video,
            0,
            Bytes::from_static(&[0x17, 1, 0, 0, 0, 7]),
        ));
        assert!(!legacy.is_multitrack());
        assert_eq!(bytes_of(&legacy, MediaKind::Video, 0, 10), 6);
    }

    #[test]
    fn track_rates_cover_the_last_window_and_are_bounded() {
        let mut r = TrackRates::new(0);
        // A minute of track 1 at 10 kB per 10 s, then 40 s at 1 kB.
        for t in 1..=10 {
            let size = if t <= 6 { 10_000 } else { 1_000 };
            r.count(&many_tracks(&[0, size], false));
            r.sample(t * RATE_SAMPLE_MS);
        }
        let now = 10 * RATE_SAMPLE_MS + 5_000;
        let (_, recent) = r.recent(now)[1];
        // From the sample 35 s before: three slow samples and nothing since.
        assert_eq!((recent.at_ms, recent.bytes_in), (35_000, 3_000));

        // Hostile: hundreds of track ids count no more than the bound.
        let mut r = TrackRates::new(0);
        for id in 0..=255u8 {
            let mut p = vec![0x80 | (2 << 4) | 6, 1];
            p.extend_from_slice(b"avc1");
            p.extend_from_slice(&[id, 0x41]);
            r.count(&MediaMessage::new(MediaKind::Video, 0, Bytes::from(p)));
        }
        assert_eq!(r.recent(1).len(), MAX_TRACKS_PER_MESSAGE);
        // A broken loop counts the tracks read before it broke.
        let mut broken = many_tracks(&[10, 20], false).payload.to_vec();
        broken.truncate(broken.len() - 5);
        let mut r = TrackRates::new(0);
        r.count(&MediaMessage::new(MediaKind::Video, 0, Bytes::from(broken)));
        assert_eq!(r.recent(1).len(), 1);
        assert_eq!(bytes_of(&r, MediaKind::Video, 0, 1), 10);
    }
}
