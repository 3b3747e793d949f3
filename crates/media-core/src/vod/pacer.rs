//! Playing an indexed file in real time: which frame is due, when the next
//! one will be, and what seek and pause do. Time is an argument (ms on any
//! monotonic clock), so the same logic runs under the simulator.

use super::index::MediaIndex;

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacerStep {
    /// Send frame `i` of the index now.
    Send(usize),
    /// Nothing is due before this time (ms on the caller's clock).
    WaitUntil(u64),
    /// Paused: nothing until [`VodPacer::resume`] or a seek.
    Paused,
    /// Every frame was sent.
    End,
}

/// Paces a file's frames to the clock, a little ahead of it (`lead_ms`) so
/// the player's buffer stays filled, as FMS and nginx-rtmp send a file
/// slightly faster than real time.
#[derive(Debug, Clone)]
pub struct VodPacer {
    next: usize,
    lead_ms: u64,
    /// (clock, media time) that play started from (or resumed at).
    origin: Option<(u64, u64)>,
    paused_at: Option<u64>,
}

impl VodPacer {
    /// A pacer at the start of the file, sending up to `lead_ms` ahead.
    pub fn new(lead_ms: u64) -> Self {
        Self {
            next: 0,
            lead_ms,
            origin: None,
            paused_at: None,
        }
    }

    /// The next frame to send.
    pub fn position(&self) -> usize {
        self.next
    }

    /// Moves to the key frame at or before `target_ms` (see
    /// [`MediaIndex::seek_position`]) and restarts the clock there. Returns
    /// the time landed on, ms. A paused player stays paused.
    pub fn seek(&mut self, index: &MediaIndex, target_ms: u64, now: u64) -> u64 {
        self.next = index.seek_position(target_ms);
        let landed = index.samples.get(self.next).map_or(0, |s| s.dts);
        self.origin = Some((now, landed));
        if self.paused_at.is_some() {
            self.paused_at = Some(now);
        }
        landed
    }

    /// Stops sending.
    pub fn pause(&mut self, now: u64) {
        if self.paused_at.is_none() {
            self.paused_at = Some(now);
        }
    }

    /// Goes on from where it paused: the clock moves on by the pause.
    pub fn resume(&mut self, now: u64) {
        if let Some(at) = self.paused_at.take() {
            if let Some((clock, media)) = self.origin {
                self.origin = Some((clock.saturating_add(now.saturating_sub(at)), media));
            }
        }
    }

    /// True while paused.
    pub fn is_paused(&self) -> bool {
        self.paused_at.is_some()
    }

    /// What to do at `now`. A `Send` advances to the next frame.
    pub fn step(&mut self, index: &MediaIndex, now: u64) -> PacerStep {
        if self.paused_at.is_some() {
            return PacerStep::Paused;
        }
        let Some(sample) = index.samples.get(self.next) else {
            return PacerStep::End;
        };
        let (clock, media) = *self.origin.get_or_insert((now, sample.dts));
        // Frames whose time went backwards are sent at once.
        let due = clock
            .saturating_add(sample.dts.saturating_sub(media))
            .saturating_sub(self.lead_ms);
        if due <= now {
            self.next += 1;
            PacerStep::Send(self.next - 1)
        } else {
            PacerStep::WaitUntil(due)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::MediaKind;
    use crate::vod::{IndexedSample, SampleForm};

    fn index() -> MediaIndex {
        let mut index = MediaIndex::default();
        for i in 0..100u64 {
            index.samples.push(IndexedSample {
                offset: i,
                size: 1,
                dts: 1000 + i * 40,
                cts: 0,
                kind: MediaKind::Video,
                keyframe: i % 25 == 0,
                form: SampleForm::FlvTag,
            });
        }
        index.end_ms = 5000;
        index
    }

    /// Runs the pacer from `from` to `to` ms, returning (time, frame) sent.
    fn run(p: &mut VodPacer, index: &MediaIndex, from: u64, to: u64) -> Vec<(u64, usize)> {
        let mut out = Vec::new();
        let mut now = from;
        while now <= to {
            match p.step(index, now) {
                PacerStep::Send(i) => out.push((now, i)),
                PacerStep::WaitUntil(t) => {
                    assert!(t > now);
                    now = t;
                }
                PacerStep::Paused => now += 10,
                PacerStep::End => break,
            }
        }
        out
    }

    #[test]
    fn frames_go_out_at_their_time_a_lead_ahead() {
        let index = index();
        let mut p = VodPacer::new(200);
        let sent = run(&mut p, &index, 50_000, 51_000);
        // At start the first 200 ms (6 frames: 0..=200 ms) go at once.
        assert_eq!(sent.iter().filter(|(t, _)| *t == 50_000).count(), 6);
        // After 1 s: everything up to 1.2 s of media.
        assert_eq!(sent.last().unwrap().1, 30);
        assert!(sent.windows(2).all(|w| w[1].1 == w[0].1 + 1));
    }

    #[test]
    fn a_seek_restarts_at_the_key_frame_before_and_pause_holds_the_clock() {
        let index = index();
        let mut p = VodPacer::new(0);
        run(&mut p, &index, 0, 100);
        assert_eq!(p.seek(&index, 2900, 1000), 2000);
        assert_eq!(p.step(&index, 1000), PacerStep::Send(25));
        p.pause(1000);
        assert_eq!(p.step(&index, 5000), PacerStep::Paused);
        p.resume(5000);
        // 40 ms of media after the resume, not at once.
        assert_eq!(p.step(&index, 5000), PacerStep::WaitUntil(5040));
        assert_eq!(p.step(&index, 5040), PacerStep::Send(26));
        let rest = run(&mut p, &index, 5040, 100_000);
        assert_eq!(rest.last().unwrap().1, 99);
        assert_eq!(p.step(&index, 200_000), PacerStep::End);
    }
}
