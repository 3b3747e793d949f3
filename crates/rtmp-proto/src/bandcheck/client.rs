//! The client side of the bandwidth check (srs-librtmp's
//! `SrsBandwidthClient`, which the `srs_bandwidth_check` tool runs).

use std::collections::VecDeque;

use super::pacer::{kbps, Pacer};
use super::packet::{body_size, figure, filler, packet, PacketKind};
use super::{filler_target, BandcheckError, Sample};
use crate::command::Command;

/// How long the client waits for each step of the server's, beyond the
/// phase durations the server announces.
pub const CLIENT_STEP_TIMEOUT_MS: u64 = 10_000;
/// The longest phase a server may ask for: a server announcing hours does
/// not keep the client for hours.
pub const MAX_PHASE_MS: u64 = 30_000;
/// The highest publish rate a server may ask for (10 Gbit/s): the client
/// sends no faster than its link anyway; this only bounds the filler size.
pub const MAX_LIMIT_KBPS: u64 = 10_000_000;

/// What a check found: the server's report (SRS's
/// `onSrsBandCheckFinished`, the figures SRS's tools print) and what this
/// side measured itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BandcheckReport {
    /// The server's `limit_kbps` (from its start-play packet).
    pub limit_kbps: u64,
    /// The server's `play_kbps`: the rate it sent at.
    pub play_kbps: u64,
    /// The server's `publish_kbps`: the rate it received at.
    pub publish_kbps: u64,
    /// The server's `play_bytes`.
    pub play_bytes: u64,
    /// The server's `publish_bytes`.
    pub publish_bytes: u64,
    /// The server's `play_time` (ms).
    pub play_time_ms: u64,
    /// The server's `publish_time` (ms).
    pub publish_time_ms: u64,
    /// The server's `start_time` (its clock, ms).
    pub server_start_ms: u64,
    /// The server's `end_time`.
    pub server_end_ms: u64,
    /// What this side received in the play phase, from the server's start
    /// to its stop packet.
    pub received: Sample,
    /// What this side sent in the publish phase.
    pub sent: Sample,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitStartPlay {
        deadline: u64,
    },
    ReceivePlay {
        start: u64,
        bytes: u64,
        deadline: u64,
    },
    AwaitStartPublish {
        deadline: u64,
    },
    Publish {
        pacer: Pacer,
        end_at: u64,
    },
    AwaitStopPublish {
        deadline: u64,
    },
    AwaitFinished {
        deadline: u64,
    },
    Done,
}

/// One bandwidth check, client side, sans-IO. Start it once `connect` to
/// the check's vhost succeeded: the server leads, this answers, sends
/// filler in the publish phase at the server's `limit_kbps`, and keeps the
/// report. Same driving as [`BandcheckServer`](super::BandcheckServer):
/// commands in, [`poll_transmit`](Self::poll_transmit) out (one at a time),
/// [`handle_timeout`](Self::handle_timeout) at
/// [`poll_timeout`](Self::poll_timeout), then [`report`](Self::report).
#[derive(Debug, Clone)]
pub struct BandcheckClient {
    state: State,
    out: VecDeque<Command>,
    filler: Option<(Command, usize)>,
    report: BandcheckReport,
    done: bool,
}

impl BandcheckClient {
    /// A check whose connect was answered at `now_ms`; it waits for the
    /// server's first packet.
    pub fn new(now_ms: u64) -> Self {
        Self {
            state: State::AwaitStartPlay {
                deadline: now_ms.saturating_add(CLIENT_STEP_TIMEOUT_MS),
            },
            out: VecDeque::new(),
            filler: None,
            report: BandcheckReport::default(),
            done: false,
        }
    }

    /// Takes a command the server sent at `now_ms`. Returns whether it was
    /// a bandwidth-check packet; packets the current step does not expect
    /// are skipped, as srs-librtmp skips them.
    pub fn handle_command(
        &mut self,
        now_ms: u64,
        command: &Command,
    ) -> Result<bool, BandcheckError> {
        let Some(kind) = PacketKind::of(command) else {
            return Ok(false);
        };
        let step_deadline = now_ms.saturating_add(CLIENT_STEP_TIMEOUT_MS);
        match (self.state, kind) {
            (State::AwaitStartPlay { .. }, PacketKind::StartPlay) => {
                self.report.limit_kbps = figure(command, "limit_kbps").unwrap_or(0.0) as u64;
                let duration = phase_ms(command).unwrap_or(MAX_PHASE_MS);
                self.out.push_back(packet(PacketKind::StartingPlay, &[]));
                self.state = State::ReceivePlay {
                    start: now_ms,
                    bytes: 0,
                    deadline: step_deadline.saturating_add(duration),
                };
            }
            (
                State::ReceivePlay {
                    start,
                    bytes,
                    deadline,
                },
                PacketKind::Playing,
            ) => {
                self.state = State::ReceivePlay {
                    start,
                    bytes: bytes.saturating_add(body_size(command) as u64),
                    deadline,
                };
            }
            (State::ReceivePlay { start, bytes, .. }, PacketKind::StopPlay) => {
                let duration_ms = now_ms.saturating_sub(start);
                self.report.received = Sample {
                    bytes,
                    duration_ms,
                    kbps: kbps(bytes, duration_ms),
                };
                self.out.push_back(packet(PacketKind::StoppedPlay, &[]));
                self.state = State::AwaitStartPublish {
                    deadline: step_deadline,
                };
            }
            (State::AwaitStartPublish { .. }, PacketKind::StartPublish) => {
                // srs-librtmp refuses a start without both figures.
                let duration = phase_ms(command).ok_or(BandcheckError::BadFigures {
                    packet: kind.name(),
                    figure: "duration_ms",
                })?;
                let limit = figure(command, "limit_kbps")
                    .map(|n| n as u64)
                    .filter(|n| *n > 0)
                    .ok_or(BandcheckError::BadFigures {
                        packet: kind.name(),
                        figure: "limit_kbps",
                    })?
                    .min(MAX_LIMIT_KBPS);
                self.filler = Some(filler(PacketKind::Publishing, filler_target(limit)));
                self.out.push_back(packet(PacketKind::StartingPublish, &[]));
                self.state = State::Publish {
                    pacer: Pacer::new(now_ms, limit),
                    end_at: now_ms.saturating_add(duration),
                };
            }
            // The server ended the phase first: stop, and answer at once.
            (State::Publish { pacer, .. }, PacketKind::StopPublish) => {
                self.end_publish(&pacer, now_ms);
                self.out.push_back(packet(PacketKind::StoppedPublish, &[]));
                self.state = State::AwaitFinished {
                    deadline: step_deadline,
                };
            }
            (State::AwaitStopPublish { .. }, PacketKind::StopPublish) => {
                self.out.push_back(packet(PacketKind::StoppedPublish, &[]));
                self.state = State::AwaitFinished {
                    deadline: step_deadline,
                };
            }
            (State::AwaitFinished { .. }, PacketKind::Finished) => {
                let n = |key| figure(command, key).unwrap_or(0.0) as u64;
                let r = &mut self.report;
                r.play_kbps = n("play_kbps");
                r.publish_kbps = n("publish_kbps");
                r.play_bytes = n("play_bytes");
                r.publish_bytes = n("publish_bytes");
                r.play_time_ms = n("play_time");
                r.publish_time_ms = n("publish_time");
                r.server_start_ms = n("start_time");
                r.server_end_ms = n("end_time");
                self.out.push_back(packet(PacketKind::Final, &[]));
                self.state = State::Done;
                self.done = true;
            }
            _ => {}
        }
        Ok(true)
    }

    /// The next packet to send at `now_ms`: answers first, then, in the
    /// publish phase, filler once the pacing allows.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Option<Command> {
        if let State::Publish { pacer, end_at } = self.state {
            if now_ms >= end_at {
                self.end_publish(&pacer, now_ms);
                self.out.push_back(packet(PacketKind::StopPublish, &[]));
                self.state = State::AwaitStopPublish {
                    deadline: now_ms.saturating_add(CLIENT_STEP_TIMEOUT_MS),
                };
            }
        }
        if let Some(command) = self.out.pop_front() {
            return Some(command);
        }
        if let (State::Publish { mut pacer, end_at }, Some((command, size))) =
            (self.state, &self.filler)
        {
            if now_ms >= pacer.due_at() {
                pacer.add(*size);
                self.state = State::Publish { pacer, end_at };
                return Some(command.clone());
            }
        }
        None
    }

    /// When [`handle_timeout`](Self::handle_timeout) or
    /// [`poll_transmit`](Self::poll_transmit) has something to do.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            State::Publish { pacer, end_at } => Some(pacer.due_at().min(end_at)),
            State::AwaitStartPlay { deadline }
            | State::ReceivePlay { deadline, .. }
            | State::AwaitStartPublish { deadline }
            | State::AwaitStopPublish { deadline }
            | State::AwaitFinished { deadline } => Some(deadline),
            State::Done => None,
        }
    }

    /// Fails a step the server did not take in time.
    pub fn handle_timeout(&mut self, now_ms: u64) -> Result<(), BandcheckError> {
        let (deadline, waiting_for) = match self.state {
            State::AwaitStartPlay { deadline } => (deadline, PacketKind::StartPlay),
            State::ReceivePlay { deadline, .. } => (deadline, PacketKind::StopPlay),
            State::AwaitStartPublish { deadline } => (deadline, PacketKind::StartPublish),
            State::AwaitStopPublish { deadline } => (deadline, PacketKind::StopPublish),
            State::AwaitFinished { deadline } => (deadline, PacketKind::Finished),
            State::Publish { .. } | State::Done => return Ok(()),
        };
        if now_ms >= deadline {
            self.state = State::Done;
            return Err(BandcheckError::Timeout {
                waiting_for: waiting_for.name(),
            });
        }
        Ok(())
    }

    /// The report, once the server's arrived.
    pub fn report(&self) -> Option<BandcheckReport> {
        self.done.then_some(self.report)
    }

    /// The report arrived and the last answer was taken: close.
    pub fn is_done(&self) -> bool {
        self.done && self.out.is_empty()
    }

    /// The step the check is at, for messages.
    pub fn step(&self) -> &'static str {
        match self.state {
            State::AwaitStartPlay { .. } => "waiting for the play phase",
            State::ReceivePlay { .. } => "play phase",
            State::AwaitStartPublish { .. } => "waiting for the publish phase",
            State::Publish { .. } => "publish phase",
            State::AwaitStopPublish { .. } => "ending the publish phase",
            State::AwaitFinished { .. } => "waiting for the report",
            State::Done => "done",
        }
    }

    fn end_publish(&mut self, pacer: &Pacer, now_ms: u64) {
        let duration_ms = now_ms.saturating_sub(pacer.start_ms());
        self.report.sent = Sample {
            bytes: pacer.bytes(),
            duration_ms,
            kbps: pacer.kbps_at(now_ms),
        };
    }
}

/// A start packet's `duration_ms`, bounded by [`MAX_PHASE_MS`].
fn phase_ms(command: &Command) -> Option<u64> {
    figure(command, "duration_ms")
        .map(|n| n as u64)
        .filter(|n| *n > 0)
        .map(|n| n.min(MAX_PHASE_MS))
}
