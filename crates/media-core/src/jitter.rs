//! Timestamp correction for published streams (SRS `play.time_jitter`).
//!
//! RTMP says audio and video timestamps are each monotonic and, interleaved,
//! monotonic together (RTMP spec 5.3.1.2, and SRS `full.conf`, "about the stream
//! monotonically increasing"). Encoders break that: clocks restart at zero on
//! reconnect, jump forward after a stall, or step back a few milliseconds.
//! Players and the HLS muxer then stall or drop frames, so the server rewrites
//! the timestamps on the way in.
//!
//! SRS's `SrsRtmpJitter` keeps *one* `(last input, last output)` pair for the
//! whole stream and replaces any step larger than 250 ms by 10 ms. Encoders
//! that interleave audio and video loosely (audio sent in bursts, or one track
//! stamped ahead of the other) produce steps of hundreds of milliseconds back
//! and forth between the tracks, so a single shared pair rewrites nearly every
//! message and the tracks drift apart (SRS issue #1001; the "DTS out of order"
//! reports of #2776). Here every track ([`MediaKind`]) keeps its own state, so
//! a well-behaved track's intervals pass through exactly, and the other track
//! (audio for video, video for audio, the latest of both for data) is the
//! reference that keeps them on one clock:
//!
//! 1. A step of `0..=MAX_JITTER_MS` from the track's previous input is applied
//!    unchanged to the track's previous output.
//! 2. Otherwise, if the track's input stands where it usually stands relative
//!    to the reference track's latest input (within `MAX_JITTER_MS` of the
//!    previous message's lead), the track is re-aligned through the reference's
//!    mapping: video resuming after a gap while audio flowed, sparse data
//!    messages (`onCuePoint`), the second track of a clock restart. The result
//!    never goes below the track's previous output.
//! 3. Otherwise a forward step about equal to the track's previous step is a
//!    steady cadence (1 fps video) and is kept.
//! 4. Otherwise it is a jump (clock restart, big skip): the track advances by
//!    its last good step, or [`DEFAULT_FRAME_DELTA_MS`] before it has one.
//!
//! A track's first message is mapped through the reference track when within
//! [`MAX_TRACK_SKEW_MS`] of it, so the publisher's audio/video relation is kept
//! from the start; otherwise it starts where the stream is. In `full` mode the
//! stream starts at 0, like SRS; a track whose first timestamp lies before the
//! stream's start is clamped to 0. Output is never lower than the track's
//! previous output, whatever the input.

use std::fmt;
use std::str::FromStr;

use crate::message::MediaKind;

/// A step between two timestamps of one track larger than this (or any step
/// back) is a discontinuity, not jitter. SRS's `CONST_MAX_JITTER_MS`.
pub const MAX_JITTER_MS: u64 = 250;

/// The step substituted for a discontinuity before a track has shown a good
/// step of its own. SRS's `DEFAULT_FRAME_TIME_MS`.
pub const DEFAULT_FRAME_DELTA_MS: u64 = 10;

/// A track's first message is placed relative to the other track when their
/// inputs are at most this far apart; further apart, the timestamps cannot be
/// trusted to relate and the track starts where the stream is.
pub const MAX_TRACK_SKEW_MS: u64 = 10_000;

/// A forward step larger than [`MAX_JITTER_MS`] is still kept when it differs
/// from the track's previous step by at most `previous / CADENCE_TOLERANCE_DIV`
/// (+1 ms for rounding): a 1 fps stream is slow, not broken.
pub const CADENCE_TOLERANCE_DIV: u64 = 10;

/// How timestamps are corrected (SRS `time_jitter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum JitterMode {
    /// Start at zero and keep every track monotonic, smoothing jumps. SRS default.
    #[default]
    Full,
    /// Only shift the stream so its first message is at zero; the offset is
    /// shared by all tracks so audio and video stay aligned.
    Zero,
    /// Pass timestamps through untouched (what SRS's `atc on` implies).
    Off,
}

impl JitterMode {
    /// The SRS config word for this mode.
    pub fn as_str(self) -> &'static str {
        match self {
            JitterMode::Full => "full",
            JitterMode::Zero => "zero",
            JitterMode::Off => "off",
        }
    }
}

impl fmt::Display for JitterMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `time_jitter` value other than `full`, `zero` or `off`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time_jitter '{0}': expected full, zero or off")]
pub struct ParseJitterModeError(pub String);

impl FromStr for JitterMode {
    type Err = ParseJitterModeError;

    /// Accepts SRS's words. SRS silently treats anything unknown as `off`; a
    /// typo here is an error instead.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(JitterMode::Full),
            "zero" => Ok(JitterMode::Zero),
            "off" => Ok(JitterMode::Off),
            other => Err(ParseJitterModeError(other.to_owned())),
        }
    }
}

/// One track's history in `full` mode.
#[derive(Debug, Clone, Copy)]
struct Track {
    last_in: u64,
    last_out: u64,
    /// The last step that was applied as-is (> 0); substituted on a jump.
    good_delta: u64,
    /// The last forward input step, accepted or not (cadence detection).
    raw_delta: u64,
    /// `last_in` minus the reference track's latest input at that moment.
    lead: i128,
    /// Arrival order, to find the most recent track.
    seq: u64,
}

/// Per-stream timestamp corrector. Create one per publish; feed every audio,
/// video and data message through [`TimeJitter::correct`] in arrival order.
#[derive(Debug, Clone)]
pub struct TimeJitter {
    mode: JitterMode,
    tracks: [Option<Track>; 3],
    /// Messages seen (arrival order).
    seq: u64,
    /// The highest output so far, of any track.
    stream_pos: u64,
    /// `zero` mode: the first input timestamp of the stream.
    base: Option<u64>,
}

fn track_index(kind: MediaKind) -> usize {
    match kind {
        MediaKind::Audio => 0,
        MediaKind::Video => 1,
        MediaKind::Data => 2,
    }
}

/// `to + (t - from)` clamped to `0..=u64::MAX`, without overflow.
fn shift(to: u64, t: u64, from: u64) -> u64 {
    let v = i128::from(to) + i128::from(t) - i128::from(from);
    u64::try_from(v.max(0)).unwrap_or(u64::MAX)
}

impl TimeJitter {
    /// A corrector in `mode`, with no history.
    pub fn new(mode: JitterMode) -> Self {
        Self {
            mode,
            tracks: [None; 3],
            seq: 0,
            stream_pos: 0,
            base: None,
        }
    }

    /// The mode this corrector applies.
    pub fn mode(&self) -> JitterMode {
        self.mode
    }

    /// Returns the corrected timestamp (ms) for a message of `kind` that
    /// arrived with `timestamp` (ms, already extended to 64 bits).
    pub fn correct(&mut self, kind: MediaKind, timestamp: u64) -> u64 {
        match self.mode {
            JitterMode::Off => timestamp,
            JitterMode::Zero => {
                let base = *self.base.get_or_insert(timestamp);
                timestamp.saturating_sub(base)
            }
            JitterMode::Full => self.correct_full(kind, timestamp),
        }
    }

    /// The track `idx` is corrected against: the other of audio and video, or
    /// for data the more recent of them.
    fn reference(&self, idx: usize) -> Option<Track> {
        let audio = self.tracks.first().copied().flatten();
        let video = self.tracks.get(1).copied().flatten();
        match idx {
            0 => video,
            1 => audio,
            _ => match (audio, video) {
                (Some(a), Some(v)) => Some(if a.seq > v.seq { a } else { v }),
                (a, v) => a.or(v),
            },
        }
    }

    fn correct_full(&mut self, kind: MediaKind, t: u64) -> u64 {
        let idx = track_index(kind);
        let own = self.tracks.get(idx).copied().flatten();
        let reference = self.reference(idx);
        let lead = reference.map(|r| i128::from(t) - i128::from(r.last_in));
        let step = own.map(|o| i128::from(t) - i128::from(o.last_in));
        let forward = step
            .filter(|d| *d > 0)
            .map(|d| u64::try_from(d).unwrap_or(u64::MAX));
        let via_reference = reference.map(|r| shift(r.last_out, t, r.last_in));

        let mut good_delta = own.map_or(DEFAULT_FRAME_DELTA_MS, |o| o.good_delta);
        let raw_delta = forward.or(own.map(|o| o.raw_delta)).unwrap_or(0);
        let out = match own {
            // 1. In-range step of this track (0 included): keep it exactly.
            Some(o) if step.is_some_and(|d| (0..=i128::from(MAX_JITTER_MS)).contains(&d)) => {
                let d = forward.unwrap_or(0);
                if d > 0 {
                    good_delta = d;
                }
                o.last_out.saturating_add(d)
            }
            Some(o) => {
                let usual_lead =
                    lead.is_some_and(|l| (l - o.lead).unsigned_abs() <= u128::from(MAX_JITTER_MS));
                match (via_reference, forward) {
                    // 2. Where it usually stands relative to the reference: align.
                    (Some(aligned), _) if usual_lead => aligned.max(o.last_out),
                    // 3. A steady slow cadence.
                    (_, Some(d)) if is_cadence(d, o.raw_delta) => {
                        good_delta = d;
                        o.last_out.saturating_add(d)
                    }
                    // 4. A jump: advance by the last good step.
                    _ => o.last_out.saturating_add(o.good_delta),
                }
            }
            // A track's first message: keep its relation to the reference
            // when plausible, else start where the stream is (0 at first).
            None => match (via_reference, lead) {
                (Some(aligned), Some(l)) if l.unsigned_abs() <= u128::from(MAX_TRACK_SKEW_MS) => {
                    aligned
                }
                _ => self.stream_pos,
            },
        };

        self.seq = self.seq.wrapping_add(1);
        if let Some(slot) = self.tracks.get_mut(idx) {
            *slot = Some(Track {
                last_in: t,
                last_out: out,
                good_delta,
                raw_delta,
                lead: lead.unwrap_or(0),
                seq: self.seq,
            });
        }
        self.stream_pos = self.stream_pos.max(out);
        out
    }
}

/// How the timestamps a player receives relate to its stream's: SRS's `atc`
/// and the jitter every `SrsLiveConsumer` applies on its own
/// (`SrsLiveConsumer::enqueue`, `SrsRtmpJitter::correct`).
///
/// The stream's timestamps are corrected once, at the source ([`TimeJitter`]);
/// what differs per player is only where its timeline starts, so a player's
/// clock is an offset, not another corrector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayTimeline {
    /// `atc off`, `time_jitter full` (SRS's default): the player's timeline
    /// starts at 0 when it joins and goes on, without going back, across
    /// republishes; data messages (`onMetaData`...) are all at 0, as SRS's
    /// full jitter stamps everything but audio and video. ffmpeg takes only
    /// script data at time 0 for metadata: later, it becomes a subtitle track.
    FromJoin,
    /// `atc off`, `time_jitter zero`: as [`FromJoin`](Self::FromJoin), but
    /// data messages move with the media.
    FromJoinWithData,
    /// `atc off`, `time_jitter off`: the stream's timestamps as they are.
    Stream,
    /// `atc on`: the publisher's absolute timestamps, for every player. The
    /// metadata and sequence headers a joiner starts with are stamped with
    /// the time of the first frame it gets (SRS `consumer_dumps` stamps them
    /// with the GOP cache's start), so its timeline never starts backwards.
    Absolute,
}

impl PlayTimeline {
    /// The timeline SRS gives a player of a vhost with `atc` and `time_jitter`.
    pub fn for_vhost(atc: bool, jitter: JitterMode) -> Self {
        match (atc, jitter) {
            (true, _) => PlayTimeline::Absolute,
            (false, JitterMode::Full) => PlayTimeline::FromJoin,
            (false, JitterMode::Zero) => PlayTimeline::FromJoinWithData,
            (false, JitterMode::Off) => PlayTimeline::Stream,
        }
    }
}

/// One player's clock: maps each message of its stream, in the order the
/// player receives them, to the timestamp the player gets it at.
///
/// On the [`FromJoin`](PlayTimeline::FromJoin) timelines the first audio or
/// video frame (not a sequence header) fixes the offset: it lands at the
/// timeline's start (0 for a new player). Metadata and sequence headers before
/// it land there too, so a joiner's first messages are all at 0 whatever the
/// stream's time. After a republish ([`on_publish`](Self::on_publish)) the
/// next frame lands [`DEFAULT_FRAME_DELTA_MS`] after the latest one sent, as
/// SRS's jitter turns the new stream's restart into one 10 ms step. A frame
/// is never stamped before its segment's start, and a header never before the
/// latest frame sent (a slow player skipping forward is sent the current
/// headers again, whose own timestamps may be old).
///
/// Pure arithmetic on 64-bit milliseconds: what goes on the wire (32 bits in
/// RTMP and FLV) is the caller's business.
#[derive(Debug, Clone)]
pub struct PlayClock {
    timeline: PlayTimeline,
    /// Output minus input, once a frame has fixed it.
    shift: Option<i128>,
    /// Where the current segment starts: 0, or after a republish just past
    /// what was sent before.
    base: u64,
    /// The latest frame timestamp sent, if any.
    last_out: Option<u64>,
    /// [`Absolute`](PlayTimeline::Absolute): what headers before the first
    /// frame are stamped with (the time the player starts at, when known).
    start: Option<u64>,
}

impl PlayClock {
    /// A player's clock. `start` is where its stream stands when it joins
    /// (the first frame it will get, or the newest), used by
    /// [`PlayTimeline::Absolute`] only.
    pub fn new(timeline: PlayTimeline, start: Option<u64>) -> Self {
        Self {
            timeline,
            shift: None,
            base: 0,
            last_out: None,
            start,
        }
    }

    /// The timeline this clock follows.
    pub fn timeline(&self) -> PlayTimeline {
        self.timeline
    }

    /// The stream was published again: its timestamps start over, so the
    /// next frame sets the offset anew.
    pub fn on_publish(&mut self) {
        self.start = None;
        if self.shift.take().is_some() {
            if let Some(last) = self.last_out {
                self.base = last.saturating_add(DEFAULT_FRAME_DELTA_MS);
            }
        }
    }

    /// The timestamp the player gets `msg` at. Call it for every message the
    /// player is sent, in order.
    pub fn stamp(&mut self, msg: &crate::MediaMessage) -> u64 {
        let header = msg.kind == MediaKind::Data || msg.flags.sequence_header;
        let t = msg.timestamp;
        match self.timeline {
            PlayTimeline::Stream => t,
            PlayTimeline::Absolute => match (header, self.shift) {
                (true, None) => self.start.unwrap_or(t),
                (true, Some(_)) => t.max(self.last_out.unwrap_or(0)),
                (false, _) => {
                    self.shift = Some(0);
                    self.last_out = Some(self.last_out.map_or(t, |l| l.max(t)));
                    t
                }
            },
            PlayTimeline::FromJoin if msg.kind == MediaKind::Data => 0,
            PlayTimeline::FromJoin | PlayTimeline::FromJoinWithData => {
                let floor = if header {
                    self.last_out.unwrap_or(self.base).max(self.base)
                } else {
                    self.base
                };
                let shift = match self.shift {
                    Some(s) => s,
                    None if header => return floor,
                    None => {
                        let s = i128::from(self.base) - i128::from(t);
                        self.shift = Some(s);
                        s
                    }
                };
                let mapped = i128::from(t) + shift;
                let out = u64::try_from(mapped.max(0)).unwrap_or(u64::MAX).max(floor);
                if !header {
                    self.last_out = Some(self.last_out.map_or(out, |l| l.max(out)));
                }
                out
            }
        }
    }
}

/// True when forward step `d` repeats the previous forward step `prev`
/// within the cadence tolerance.
fn is_cadence(d: u64, prev: u64) -> bool {
    prev > MAX_JITTER_MS && d.abs_diff(prev) <= prev / CADENCE_TOLERANCE_DIV + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use MediaKind::{Audio, Data, Video};

    fn run(j: &mut TimeJitter, input: &[(MediaKind, u64)]) -> Vec<u64> {
        input.iter().map(|&(k, t)| j.correct(k, t)).collect()
    }

    #[test]
    fn parses_srs_words() {
        assert_eq!("full".parse::<JitterMode>(), Ok(JitterMode::Full));
        assert_eq!("zero".parse::<JitterMode>(), Ok(JitterMode::Zero));
        assert_eq!("off".parse::<JitterMode>(), Ok(JitterMode::Off));
        assert!("Full".parse::<JitterMode>().is_err());
        assert!("".parse::<JitterMode>().is_err());
        for m in [JitterMode::Full, JitterMode::Zero, JitterMode::Off] {
            assert_eq!(m.to_string().parse::<JitterMode>(), Ok(m));
        }
    }

    #[test]
    fn off_passes_through() {
        let mut j = TimeJitter::new(JitterMode::Off);
        let out = run(&mut j, &[(Video, 5000), (Audio, 10), (Video, 0)]);
        assert_eq!(out, vec![5000, 10, 0]);
    }

    #[test]
    fn zero_shares_base_across_tracks() {
        let mut j = TimeJitter::new(JitterMode::Zero);
        let out = run(
            &mut j,
            &[
                (Audio, 1000),
                (Video, 1040),
                (Audio, 1023),
                (Video, 990),
                (Data, 500),
            ],
        );
        assert_eq!(out, vec![0, 40, 23, 0, 0]);
    }

    #[test]
    fn full_starts_at_zero_and_keeps_offsets_between_tracks() {
        let mut j = TimeJitter::new(JitterMode::Full);
        let out = run(
            &mut j,
            &[
                (Audio, 1000),
                (Video, 1040),
                (Audio, 1023),
                (Video, 1080),
                (Audio, 1046),
            ],
        );
        assert_eq!(out, vec![0, 40, 23, 80, 46]);
    }

    #[test]
    fn full_smooths_jump_back_with_last_good_delta() {
        let mut j = TimeJitter::new(JitterMode::Full);
        let out = run(
            &mut j,
            &[
                (Video, 0),
                (Video, 40),
                (Video, 80),
                (Video, 5),
                (Video, 45),
            ],
        );
        assert_eq!(out, vec![0, 40, 80, 120, 160]);
    }

    #[test]
    fn full_smooths_forward_jump() {
        let mut j = TimeJitter::new(JitterMode::Full);
        let out = run(
            &mut j,
            &[(Audio, 0), (Audio, 23), (Audio, 900_000), (Audio, 900_023)],
        );
        assert_eq!(out, vec![0, 23, 46, 69]);
    }

    #[test]
    fn first_jump_uses_srs_default_delta() {
        let mut j = TimeJitter::new(JitterMode::Full);
        let out = run(&mut j, &[(Video, 100), (Video, 50)]);
        assert_eq!(out, vec![0, DEFAULT_FRAME_DELTA_MS]);
    }

    #[test]
    fn publisher_clock_restart_keeps_tracks_aligned() {
        let mut j = TimeJitter::new(JitterMode::Full);
        let mut input = vec![];
        for i in 0..50u64 {
            input.push((Audio, 10_000 + i * 20));
            input.push((Video, 10_000 + i * 20));
        }
        // Restart both clocks at 0.
        for i in 0..50u64 {
            input.push((Audio, i * 20));
            input.push((Video, i * 20));
        }
        let out = run(&mut j, &input);
        let a: Vec<u64> = out.iter().step_by(2).copied().collect();
        let v: Vec<u64> = out.iter().skip(1).step_by(2).copied().collect();
        for (x, y) in a.iter().zip(&v) {
            assert!(x.abs_diff(*y) <= 20, "audio {x} video {y} drifted apart");
        }
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn video_gap_while_audio_flows_stays_in_sync() {
        let mut j = TimeJitter::new(JitterMode::Full);
        let mut input = vec![(Video, 0), (Audio, 0)];
        for i in 1..=100u64 {
            input.push((Audio, i * 20));
        }
        input.push((Video, 2000)); // 2 s without video
        let out = run(&mut j, &input);
        assert_eq!(out.last(), Some(&2000));
    }

    #[test]
    fn sparse_data_follows_stream_clock() {
        let mut j = TimeJitter::new(JitterMode::Full);
        let mut out = vec![];
        for i in 0..1000u64 {
            out.push((j.correct(Audio, 5000 + i * 23), 5000 + i * 23));
            if i % 400 == 0 {
                let t = 5000 + i * 23;
                assert_eq!(j.correct(Data, t), t - 5000);
            }
        }
        assert!(out.iter().all(|(o, i)| *o == i - 5000));
    }

    #[test]
    fn first_message_keeps_skew_within_window() {
        let mut j = TimeJitter::new(JitterMode::Full);
        // Video stamped 3 s ahead of the audio sent with it: kept.
        let out = run(
            &mut j,
            &[(Audio, 1000), (Video, 4000), (Audio, 1023), (Video, 4040)],
        );
        assert_eq!(out, vec![0, 3000, 23, 3040]);
        // Beyond MAX_TRACK_SKEW_MS the relation is not trusted.
        let mut j = TimeJitter::new(JitterMode::Full);
        let far = 1023 + MAX_TRACK_SKEW_MS + 1;
        let out = run(
            &mut j,
            &[
                (Audio, 1000),
                (Audio, 1023),
                (Video, far),
                (Video, far + 40),
            ],
        );
        assert_eq!(out, vec![0, 23, 23, 63]);
    }

    #[test]
    fn one_track_jumping_alone_is_smoothed_not_followed() {
        let mut j = TimeJitter::new(JitterMode::Full);
        let mut input = vec![];
        for i in 0..20u64 {
            input.push((Audio, i * 20));
            input.push((Video, i * 20));
        }
        // Video alone jumps 5 s ahead; audio keeps its clock.
        input.push((Video, 5_400));
        input.push((Audio, 400));
        let out = run(&mut j, &input);
        let n = out.len();
        assert_eq!(out[n - 2], 380 + 20, "video smoothed by its last good step");
        assert_eq!(out[n - 1], 400);
    }

    #[test]
    fn slow_cadence_survives() {
        let mut j = TimeJitter::new(JitterMode::Full);
        let out = run(
            &mut j,
            &[(Video, 0), (Video, 1000), (Video, 2000), (Video, 3000)],
        );
        // The first 1 s step cannot be told from a jump; the rest are a cadence.
        assert_eq!(out, vec![0, 10, 1010, 2010]);
    }

    /// A message of `kind` at `t`; `header` marks a sequence header.
    fn msg(kind: MediaKind, t: u64, header: bool) -> crate::MediaMessage {
        let mut m = crate::MediaMessage::new(kind, t, bytes::Bytes::new());
        m.flags.sequence_header = header;
        m
    }

    fn stamps(clock: &mut PlayClock, input: &[(MediaKind, u64, bool)]) -> Vec<u64> {
        input
            .iter()
            .map(|&(k, t, h)| clock.stamp(&msg(k, t, h)))
            .collect()
    }

    /// What a late joiner is sent: metadata and sequence headers from the
    /// stream's start, then the cached GOP from its key frame at 4000.
    const JOIN: [(MediaKind, u64, bool); 6] = [
        (Data, 0, false),
        (Audio, 0, true),
        (Video, 0, true),
        (Video, 4000, false),
        (Audio, 4010, false),
        (Video, 4040, false),
    ];

    #[test]
    fn a_joiner_starts_at_zero() {
        let mut c = PlayClock::new(PlayTimeline::FromJoin, Some(4000));
        assert_eq!(stamps(&mut c, &JOIN), vec![0, 0, 0, 0, 10, 40]);
        // Metadata later in the stream stays at 0 (SRS's full jitter).
        assert_eq!(c.stamp(&msg(Data, 5000, false)), 0);
        // With time_jitter zero it moves with the media instead.
        let mut c = PlayClock::new(PlayTimeline::FromJoinWithData, None);
        assert_eq!(stamps(&mut c, &JOIN), vec![0, 0, 0, 0, 10, 40]);
        assert_eq!(c.stamp(&msg(Data, 5000, false)), 1000);
    }

    #[test]
    fn headers_in_a_gop_taken_late_are_not_stamped_after_its_key_frame() {
        // Metadata re-sent mid-GOP (GStreamer's flvmux) is newer than the key
        // frame a joiner starts at: it still goes out at the start.
        let mut c = PlayClock::new(PlayTimeline::FromJoinWithData, None);
        let out = stamps(
            &mut c,
            &[
                (Data, 4500, false),
                (Video, 4000, false),
                (Video, 4040, false),
            ],
        );
        assert_eq!(out, vec![0, 0, 40]);
    }

    #[test]
    fn frames_before_the_first_one_are_clamped_to_the_start() {
        // Audio stamped a little before the key frame that follows it in the log.
        let mut c = PlayClock::new(PlayTimeline::FromJoin, None);
        let out = stamps(
            &mut c,
            &[
                (Video, 4000, false),
                (Audio, 3990, false),
                (Audio, 4013, false),
            ],
        );
        assert_eq!(out, vec![0, 0, 13]);
    }

    #[test]
    fn a_republish_continues_the_timeline() {
        let mut c = PlayClock::new(PlayTimeline::FromJoin, None);
        stamps(&mut c, &JOIN);
        c.on_publish();
        // The new publisher starts over at 0 with new headers.
        let out = stamps(
            &mut c,
            &[
                (Data, 0, false),
                (Audio, 0, true),
                (Video, 0, true),
                (Video, 0, false),
                (Audio, 5, false),
                (Video, 40, false),
            ],
        );
        let next = 40 + DEFAULT_FRAME_DELTA_MS;
        assert_eq!(out, vec![0, next, next, next, next + 5, next + 40]);
        // A publish before any frame was sent changes nothing.
        let mut c = PlayClock::new(PlayTimeline::FromJoin, None);
        c.on_publish();
        assert_eq!(stamps(&mut c, &JOIN), vec![0, 0, 0, 0, 10, 40]);
    }

    #[test]
    fn headers_sent_again_after_a_skip_are_not_stamped_in_the_past() {
        let mut c = PlayClock::new(PlayTimeline::FromJoin, None);
        stamps(&mut c, &JOIN);
        // A slow player skips to a key frame at 60000 and is sent the
        // (old) sequence headers again first.
        let out = stamps(
            &mut c,
            &[(Video, 0, true), (Audio, 0, true), (Video, 60_000, false)],
        );
        assert_eq!(out, vec![40, 40, 56_000]);
    }

    #[test]
    fn atc_keeps_the_publishers_time() {
        let base = 1_700_000_000_000;
        let join: Vec<_> = JOIN.iter().map(|&(k, t, h)| (k, base + t, h)).collect();
        let mut c = PlayClock::new(PlayTimeline::Absolute, Some(base + 4000));
        let out = stamps(&mut c, &join);
        // Headers at the time the player starts at, then the frames as they are.
        assert_eq!(
            out,
            vec![
                base + 4000,
                base + 4000,
                base + 4000,
                base + 4000,
                base + 4010,
                base + 4040
            ]
        );
        // A header later on is not stamped before the frames already sent.
        assert_eq!(c.stamp(&msg(Video, base, true)), base + 4040);
        c.on_publish();
        assert_eq!(c.stamp(&msg(Video, 7, false)), 7);
        // time_jitter off without atc: the stream's time, headers included.
        let mut c = PlayClock::new(PlayTimeline::Stream, Some(4000));
        assert_eq!(stamps(&mut c, &JOIN), vec![0, 0, 0, 4000, 4010, 4040]);
    }

    #[test]
    fn timelines_follow_srs_settings() {
        use JitterMode::{Full, Off, Zero};
        assert_eq!(PlayTimeline::for_vhost(false, Full), PlayTimeline::FromJoin);
        assert_eq!(
            PlayTimeline::for_vhost(false, Zero),
            PlayTimeline::FromJoinWithData
        );
        assert_eq!(PlayTimeline::for_vhost(false, Off), PlayTimeline::Stream);
        for j in [Full, Zero, Off] {
            assert_eq!(PlayTimeline::for_vhost(true, j), PlayTimeline::Absolute);
        }
    }

    #[test]
    fn extreme_inputs_do_not_overflow() {
        let mut j = TimeJitter::new(JitterMode::Full);
        let out = run(
            &mut j,
            &[
                (Video, u64::MAX),
                (Audio, 0),
                (Video, u64::MAX - 1),
                (Video, u64::MAX),
                (Audio, u64::MAX),
            ],
        );
        assert_eq!(out[0], 0);
        assert!(out[0] <= out[2] && out[2] <= out[3], "{out:?}");
        assert!(out[1] <= out[4], "{out:?}");
        let mut z = TimeJitter::new(JitterMode::Zero);
        assert_eq!(z.correct(Video, u64::MAX), 0);
        assert_eq!(z.correct(Video, 0), 0);
    }
}
