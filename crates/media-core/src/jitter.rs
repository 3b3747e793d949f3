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
