//! The server side of the bandwidth check (SRS's `SrsBandwidth`).

use std::collections::VecDeque;

use super::pacer::{kbps, Pacer};
use super::packet::{body_size, filler, packet, PacketKind};
use super::{filler_target, BandcheckError, Sample, SAMPLE_DURATION_MS};
use crate::command::Command;

/// How long the server waits after its report for a client that never
/// answers it (Flash), so the report reaches it before the close (SRS's
/// `_SRS_BANDWIDTH_FINAL_WAIT`).
pub const FINAL_WAIT_MS: u64 = 600;

/// What a server check runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerParams {
    /// The most the play phase sends, and the rate the publish phase reads
    /// at, in kbps (the vhost's `bandcheck { limit_kbps }`, at least 1).
    pub limit_kbps: u32,
    /// How long each phase lasts (SRS: 3 s, not configurable).
    pub duration_ms: u64,
    /// How long the client may take to answer each step (SRS: twice the
    /// phase duration, its send and receive timeouts).
    pub reply_timeout_ms: u64,
    /// The client is Flash (its connect has a `swfUrl`): it never sends
    /// `onSrsBandCheckStoppedPublishBytes` or `finalClientPacket`, so they
    /// are not waited for, as in SRS.
    pub flash: bool,
    /// The most publish-phase bytes counted: past it the phase ends early,
    /// whatever the client keeps sending.
    pub max_publish_bytes: u64,
}

impl ServerParams {
    /// SRS's phases and timeouts at `limit_kbps`; publish bytes capped at
    /// twice what the limit allows in a phase (reading is paced to the
    /// limit anyway, see [`BandcheckServer::read_resume_at`]).
    pub fn new(limit_kbps: u32) -> Self {
        let limit_kbps = limit_kbps.max(1);
        let duration_ms = SAMPLE_DURATION_MS;
        Self {
            limit_kbps,
            duration_ms,
            reply_timeout_ms: 2 * duration_ms,
            flash: false,
            max_publish_bytes: (u64::from(limit_kbps) * duration_ms / 8 * 2).max(1 << 20),
        }
    }
}

/// What the server measured: SRS's `onSrsBandCheckFinished` figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerReport {
    /// When the check began (the caller's clock, ms).
    pub start_ms: u64,
    /// When the report was sent.
    pub end_ms: u64,
    /// The play phase: bytes the server sent, over the time from its start
    /// until the client confirmed the end (`onSrsBandCheckStoppedPlayBytes`),
    /// so bytes still in socket buffers when the phase ended count as late,
    /// not as sent.
    pub play: Sample,
    /// The publish phase: bytes the server received.
    pub publish: Sample,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitStartingPlay {
        deadline: u64,
    },
    Play {
        pacer: Pacer,
        end_at: u64,
    },
    /// `start`: when the play phase began.
    AwaitStoppedPlay {
        deadline: u64,
        start: u64,
    },
    AwaitStartingPublish {
        deadline: u64,
    },
    Publish {
        pacer: Pacer,
        end_at: u64,
    },
    AwaitStoppedPublish {
        deadline: u64,
    },
    AwaitFinal {
        deadline: u64,
    },
    Done,
}

/// One client's bandwidth check, server side, sans-IO: a play phase (the
/// server sends filler paced at `limit_kbps`), a publish phase (the client
/// sends, the server counts), then a report, each step answered by the
/// client in SRS's order.
///
/// Feed the client's commands to [`handle_command`](Self::handle_command);
/// send what [`poll_transmit`](Self::poll_transmit) gives (one at a time,
/// taking the next once the last is written, so the pacing is the socket's
/// too); call [`handle_timeout`](Self::handle_timeout) at
/// [`poll_timeout`](Self::poll_timeout); while
/// [`read_resume_at`](Self::read_resume_at) names a time, do not read. Done
/// when [`is_done`](Self::is_done): flush and close.
#[derive(Debug, Clone)]
pub struct BandcheckServer {
    params: ServerParams,
    state: State,
    start_ms: u64,
    out: VecDeque<Command>,
    /// The play phase's filler packet and its body size, made once.
    filler: (Command, usize),
    play: Sample,
    publish: Sample,
    report: Option<ServerReport>,
}

impl BandcheckServer {
    /// A check starting at `now_ms`: `onSrsBandCheckStartPlayBytes` is
    /// queued at once.
    pub fn new(params: ServerParams, now_ms: u64) -> Self {
        let limit = u64::from(params.limit_kbps.max(1));
        let mut out = VecDeque::new();
        out.push_back(packet(
            PacketKind::StartPlay,
            &[
                ("limit_kbps", limit as f64),
                ("duration_ms", params.duration_ms as f64),
                ("interval_ms", 0.0),
            ],
        ));
        Self {
            state: State::AwaitStartingPlay {
                deadline: now_ms.saturating_add(params.reply_timeout_ms),
            },
            filler: filler(PacketKind::Playing, filler_target(limit)),
            params,
            start_ms: now_ms,
            out,
            play: Sample::default(),
            publish: Sample::default(),
            report: None,
        }
    }

    /// Takes a command the client sent at `now_ms`. Returns whether it was
    /// a bandwidth-check packet; packets the current step does not expect
    /// are skipped, as SRS skips them.
    pub fn handle_command(&mut self, now_ms: u64, command: &Command) -> bool {
        let Some(kind) = PacketKind::of(command) else {
            return false;
        };
        self.advance(now_ms);
        let p = &self.params;
        let deadline = now_ms.saturating_add(p.reply_timeout_ms);
        match (self.state, kind) {
            (State::AwaitStartingPlay { .. }, PacketKind::StartingPlay) => {
                self.state = State::Play {
                    pacer: Pacer::new(now_ms, u64::from(p.limit_kbps)),
                    end_at: now_ms.saturating_add(p.duration_ms),
                };
            }
            (State::AwaitStoppedPlay { start, .. }, PacketKind::StoppedPlay) => {
                // The client answers once it has read up to our stop, so
                // the phase's bytes took until now (less a trip) to arrive.
                // Timed at our last write instead, the socket buffers'
                // backlog would count as sent (what SRS reports): on a link
                // slower than the limit the rate would be the buffer's.
                self.play.duration_ms = now_ms.saturating_sub(start);
                self.play.kbps = kbps(self.play.bytes, self.play.duration_ms);
                self.out.push_back(packet(
                    PacketKind::StartPublish,
                    &[
                        ("limit_kbps", f64::from(p.limit_kbps.max(1))),
                        ("duration_ms", p.duration_ms as f64),
                        ("interval_ms", 0.0),
                    ],
                ));
                self.state = State::AwaitStartingPublish { deadline };
            }
            (State::AwaitStartingPublish { .. }, PacketKind::StartingPublish) => {
                self.state = State::Publish {
                    pacer: Pacer::new(now_ms, u64::from(p.limit_kbps)),
                    end_at: now_ms.saturating_add(p.duration_ms),
                };
            }
            (State::Publish { mut pacer, end_at }, PacketKind::Publishing) => {
                pacer.add(body_size(command));
                self.state = State::Publish { pacer, end_at };
                if pacer.bytes() >= self.params.max_publish_bytes {
                    self.end_publish(now_ms);
                }
            }
            // The client's own end of the phase (srs-librtmp sends it
            // after its duration): SRS ends the phase there too.
            (State::Publish { .. }, PacketKind::StopPublish) => self.end_publish(now_ms),
            (State::AwaitStoppedPublish { .. }, PacketKind::StoppedPublish) => self.finish(now_ms),
            (State::AwaitFinal { .. }, PacketKind::Final) => self.state = State::Done,
            _ => {}
        }
        true
    }

    /// The next packet to send at `now_ms`: the step's own packets first,
    /// then, in the play phase, filler once the pacing allows.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Option<Command> {
        self.advance(now_ms);
        if let Some(command) = self.out.pop_front() {
            return Some(command);
        }
        if let State::Play { mut pacer, end_at } = self.state {
            if now_ms >= pacer.due_at() {
                pacer.add(self.filler.1);
                self.state = State::Play { pacer, end_at };
                return Some(self.filler.0.clone());
            }
        }
        None
    }

    /// When [`handle_timeout`](Self::handle_timeout) (or, in the play
    /// phase, [`poll_transmit`](Self::poll_transmit)) has something to do.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            State::Play { pacer, end_at } => Some(pacer.due_at().min(end_at)),
            State::Publish { end_at, .. } => Some(end_at),
            State::AwaitStartingPlay { deadline }
            | State::AwaitStoppedPlay { deadline, .. }
            | State::AwaitStartingPublish { deadline }
            | State::AwaitStoppedPublish { deadline }
            | State::AwaitFinal { deadline } => Some(deadline),
            State::Done => None,
        }
    }

    /// Ends a phase whose time is up, or fails a step the client did not
    /// answer in time. A report that goes unanswered is no failure: the
    /// check is done.
    pub fn handle_timeout(&mut self, now_ms: u64) -> Result<(), BandcheckError> {
        self.advance(now_ms);
        let (deadline, waiting_for) = match self.state {
            State::AwaitStartingPlay { deadline } => (deadline, PacketKind::StartingPlay),
            State::AwaitStoppedPlay { deadline, .. } => (deadline, PacketKind::StoppedPlay),
            State::AwaitStartingPublish { deadline } => (deadline, PacketKind::StartingPublish),
            State::AwaitStoppedPublish { deadline } => (deadline, PacketKind::StoppedPublish),
            State::AwaitFinal { deadline } => {
                if now_ms >= deadline {
                    self.state = State::Done;
                }
                return Ok(());
            }
            State::Play { .. } | State::Publish { .. } | State::Done => return Ok(()),
        };
        if now_ms >= deadline {
            self.state = State::Done;
            return Err(BandcheckError::Timeout {
                waiting_for: waiting_for.name(),
            });
        }
        Ok(())
    }

    /// In the publish phase, while the client has sent more than
    /// `limit_kbps` allows so far: the time reading may resume. Not reading
    /// is what holds a client to the limit (SRS's `recv_limit`).
    pub fn read_resume_at(&self, now_ms: u64) -> Option<u64> {
        match self.state {
            State::Publish { pacer, .. } if pacer.due_at() > now_ms => Some(pacer.due_at()),
            _ => None,
        }
    }

    /// The check is over: flush what was sent and close.
    pub fn is_done(&self) -> bool {
        self.state == State::Done && self.out.is_empty()
    }

    /// The figures, once the report went out.
    pub fn report(&self) -> Option<ServerReport> {
        self.report
    }

    /// The step the check is at, for logs.
    pub fn step(&self) -> &'static str {
        match self.state {
            State::AwaitStartingPlay { .. } => "start play",
            State::Play { .. } => "play",
            State::AwaitStoppedPlay { .. } => "stop play",
            State::AwaitStartingPublish { .. } => "start publish",
            State::Publish { .. } => "publish",
            State::AwaitStoppedPublish { .. } => "stop publish",
            State::AwaitFinal { .. } => "report",
            State::Done => "done",
        }
    }

    /// Ends a phase whose time is up.
    fn advance(&mut self, now_ms: u64) {
        match self.state {
            State::Play { pacer, end_at } if now_ms >= end_at => {
                self.play = sample(&pacer, now_ms);
                self.out
                    .push_back(stop_packet(PacketKind::StopPlay, &self.params, &self.play));
                // The answer comes after what socket buffers still hold (on
                // a link slower than the limit, seconds of it): more time
                // than for other steps.
                let wait = self.params.reply_timeout_ms + 2 * self.params.duration_ms;
                self.state = State::AwaitStoppedPlay {
                    deadline: now_ms.saturating_add(wait),
                    start: pacer.start_ms(),
                };
            }
            State::Publish { end_at, .. } if now_ms >= end_at => self.end_publish(now_ms),
            _ => {}
        }
    }

    fn end_publish(&mut self, now_ms: u64) {
        let State::Publish { pacer, .. } = self.state else {
            return;
        };
        self.publish = sample(&pacer, now_ms);
        self.out.push_back(stop_packet(
            PacketKind::StopPublish,
            &self.params,
            &self.publish,
        ));
        if self.params.flash {
            self.finish(now_ms);
        } else {
            self.state = State::AwaitStoppedPublish {
                deadline: now_ms.saturating_add(self.params.reply_timeout_ms),
            };
        }
    }

    fn finish(&mut self, now_ms: u64) {
        let report = ServerReport {
            start_ms: self.start_ms,
            end_ms: now_ms,
            play: self.play,
            publish: self.publish,
        };
        self.out.push_back(packet(
            PacketKind::Finished,
            &[
                ("start_time", report.start_ms as f64),
                ("end_time", report.end_ms as f64),
                ("play_kbps", report.play.kbps as f64),
                ("publish_kbps", report.publish.kbps as f64),
                ("play_bytes", report.play.bytes as f64),
                ("publish_bytes", report.publish.bytes as f64),
                ("play_time", report.play.duration_ms as f64),
                ("publish_time", report.publish.duration_ms as f64),
            ],
        ));
        self.report = Some(report);
        let wait = if self.params.flash {
            FINAL_WAIT_MS
        } else {
            self.params.reply_timeout_ms
        };
        self.state = State::AwaitFinal {
            deadline: now_ms.saturating_add(wait),
        };
    }
}

fn sample(pacer: &Pacer, now_ms: u64) -> Sample {
    let duration_ms = now_ms.saturating_sub(pacer.start_ms());
    Sample {
        bytes: pacer.bytes(),
        duration_ms,
        kbps: kbps(pacer.bytes(), duration_ms),
    }
}

/// `onSrsBandCheckStop{Play,Publish}Bytes` with SRS's figures.
fn stop_packet(kind: PacketKind, params: &ServerParams, sample: &Sample) -> Command {
    packet(
        kind,
        &[
            ("duration_ms", params.duration_ms as f64),
            ("interval_ms", 0.0),
            ("duration_delta", sample.duration_ms as f64),
            ("bytes_delta", sample.bytes as f64),
        ],
    )
}
