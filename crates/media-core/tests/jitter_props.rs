//! Behaviour of `TimeJitter` over whole streams (SRS issues #1001 and #2776).

use media_core::jitter::{JitterMode, TimeJitter, MAX_JITTER_MS, MAX_TRACK_SKEW_MS};
use media_core::MediaKind;
use proptest::prelude::*;

fn kind(i: u8) -> MediaKind {
    match i % 3 {
        0 => MediaKind::Audio,
        1 => MediaKind::Video,
        _ => MediaKind::Data,
    }
}

/// Two tracks with independent cadences in the order an encoder sends them:
/// video is stamped `video_lead` ms ahead of audio sent at the same moment
/// (negative: behind). Messages go out in send order, audio first on ties.
fn interleave(
    audio_step: u64,
    video_step: u64,
    start: u64,
    video_lead: i64,
    n: u64,
) -> Vec<(MediaKind, u64)> {
    let mut sends: Vec<(i128, u8, MediaKind, u64)> = Vec::new();
    for i in 0..n {
        let ts = start + i * audio_step;
        sends.push((i128::from(ts), 0, MediaKind::Audio, ts));
    }
    for j in 0..n {
        let ts = start.checked_add_signed(video_lead).unwrap() + j * video_step;
        sends.push((
            i128::from(ts) - i128::from(video_lead),
            1,
            MediaKind::Video,
            ts,
        ));
    }
    sends.sort_by_key(|(send, tie, _, _)| (*send, *tie));
    sends.into_iter().map(|(_, _, k, t)| (k, t)).collect()
}

fn run(mode: JitterMode, input: &[(MediaKind, u64)]) -> Vec<u64> {
    let mut j = TimeJitter::new(mode);
    input.iter().map(|&(k, t)| j.correct(k, t)).collect()
}

/// SRS's algorithm (one state for all tracks), as a reference that shows the
/// inputs below really break a shared state.
fn srs_single_state(input: &[(MediaKind, u64)]) -> Vec<u64> {
    let (mut last_in, mut last_out) = (0i128, -1i128);
    input
        .iter()
        .map(|&(_, t)| {
            let mut delta = i128::from(t) - last_in;
            if !(-250..=250).contains(&delta) {
                delta = 10;
            }
            last_out = (last_out + delta).max(0);
            last_in = i128::from(t);
            last_out as u64
        })
        .collect()
}

fn deltas_kept(input: &[(MediaKind, u64)], output: &[u64]) -> bool {
    [MediaKind::Audio, MediaKind::Video].iter().all(|&k| {
        per_track(input, output, k).windows(2).all(|w| {
            i128::from(w[1].1) - i128::from(w[0].1) == i128::from(w[1].0) - i128::from(w[0].0)
        })
    })
}

fn assert_deltas_kept(input: &[(MediaKind, u64)], output: &[u64]) {
    for k in [MediaKind::Audio, MediaKind::Video] {
        let pairs = per_track(input, output, k);
        for w in pairs.windows(2) {
            assert_eq!(
                w[1].1 - w[0].1,
                w[1].0 - w[0].0,
                "{k:?} interval changed at {w:?}"
            );
        }
    }
}

/// True when every output is its input minus one stream-wide offset.
fn one_offset(input: &[(MediaKind, u64)], output: &[u64]) -> bool {
    let Some(((_, i0), o0)) = input.iter().zip(output).next() else {
        return true;
    };
    let offset = i128::from(*i0) - i128::from(*o0);
    input
        .iter()
        .zip(output)
        .all(|((_, i), o)| i128::from(*i) - i128::from(*o) == offset)
}

/// Per-track (input, output) pairs.
fn per_track(input: &[(MediaKind, u64)], output: &[u64], k: MediaKind) -> Vec<(u64, u64)> {
    input
        .iter()
        .zip(output)
        .filter(|((kk, _), _)| *kk == k)
        .map(|((_, i), o)| (*i, *o))
        .collect()
}

/// The #1001 shape: audio every 23 ms, video every 40 ms, and the encoder
/// stamps video 600 ms ahead of the audio it sends alongside. Every switch
/// between tracks is then a 600 ms step back or forth, which a single shared
/// jitter state (SRS) replaces by 10 ms, rewriting nearly every message;
/// per-track state must leave every interval and the A/V relation untouched.
#[test]
fn issue_1001_skewed_interleave_passes_unchanged() {
    let input = interleave(23, 40, 123_456, 600, 500);
    assert!(!deltas_kept(&input, &srs_single_state(&input)));
    let output = run(JitterMode::Full, &input);
    assert_deltas_kept(&input, &output);
    assert!(one_offset(&input, &output));
    assert_eq!(output[0], 0);
}

/// Audio sent in bursts every 460 ms (20 AAC frames) while video flows.
#[test]
fn bursty_audio_passes_unchanged() {
    let mut sends = vec![];
    for j in 0..300u64 {
        sends.push((j * 40, MediaKind::Video, 5_000 + j * 40));
    }
    for i in 0..500u64 {
        let ts = i * 23;
        sends.push(((ts / 460 + 1) * 460, MediaKind::Audio, 5_000 + ts));
    }
    sends.sort_by_key(|(send, k, _)| (*send, *k == MediaKind::Audio));
    let input: Vec<(MediaKind, u64)> = sends.into_iter().map(|(_, k, t)| (k, t)).collect();
    assert!(!deltas_kept(&input, &srs_single_state(&input)));
    let output = run(JitterMode::Full, &input);
    assert_deltas_kept(&input, &output);
    assert!(one_offset(&input, &output));
}

proptest! {
    #[test]
    fn full_output_is_monotonic_per_track(input in prop::collection::vec((0u8..3, any::<u64>()), 0..300)) {
        let mut j = TimeJitter::new(JitterMode::Full);
        let mut last = [None::<u64>; 3];
        for (k, t) in input {
            let out = j.correct(kind(k), t);
            let slot = &mut last[usize::from(k % 3)];
            if let Some(prev) = *slot {
                prop_assert!(out >= prev, "track {k} went back: {prev} -> {out}");
            }
            *slot = Some(out);
        }
    }

    #[test]
    fn full_output_is_monotonic_for_small_jittery_input(
        input in prop::collection::vec((0u8..3, 0u64..2_000), 0..300)
    ) {
        let mut j = TimeJitter::new(JitterMode::Full);
        let mut last = [0u64; 3];
        for (k, t) in input {
            let out = j.correct(kind(k), t);
            let slot = &mut last[usize::from(k % 3)];
            prop_assert!(out >= *slot);
            *slot = out;
        }
    }

    #[test]
    fn well_behaved_av_keeps_deltas_and_sync(
        audio_step in 1u64..=MAX_JITTER_MS,
        video_step in 1u64..=MAX_JITTER_MS,
        start in 20_000u64..(1 << 40),
        video_lead in -(MAX_TRACK_SKEW_MS as i64)..=(MAX_TRACK_SKEW_MS as i64),
        n in 1u64..200,
    ) {
        let input = interleave(audio_step, video_step, start, video_lead, n);
        let output = run(JitterMode::Full, &input);
        assert_deltas_kept(&input, &output);
        // The A/V relation is kept too, unless the track sent second starts
        // before the stream's 0 and had to be clamped.
        let first_audio = input.iter().position(|(k, _)| *k == MediaKind::Audio);
        let first_video = input.iter().position(|(k, _)| *k == MediaKind::Video);
        let clamped = match (first_audio, first_video) {
            (Some(a), Some(v)) if a < v => video_lead < 0,
            (Some(_), Some(_)) => video_lead > 0,
            _ => false,
        };
        if !clamped {
            prop_assert!(one_offset(&input, &output));
        }
    }

    #[test]
    fn zero_mode_keeps_offsets(base in 0u64..(1 << 40), offsets in prop::collection::vec((0u8..3, 0u64..100_000), 1..100)) {
        let mut j = TimeJitter::new(JitterMode::Zero);
        let first = j.correct(kind(offsets[0].0), base);
        prop_assert_eq!(first, 0);
        for (k, off) in offsets {
            prop_assert_eq!(j.correct(kind(k), base + off), off);
        }
    }

    #[test]
    fn off_mode_is_identity(input in prop::collection::vec((0u8..3, any::<u64>()), 0..100)) {
        let mut j = TimeJitter::new(JitterMode::Off);
        for (k, t) in input {
            prop_assert_eq!(j.correct(kind(k), t), t);
        }
    }
}
