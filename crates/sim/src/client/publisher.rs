//! A publisher that sends media tags with their real timing, like an encoder.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::AsyncWriteExt;
use rtmp_proto::command::{Command, PublishType};
use rtmp_proto::message::RawMessage;
use rtmp_proto::session::{ClientConfig, ClientEvent};

use super::driver::{ClientError, Driver};
use super::media::MediaRecord;
use crate::executor::JoinHandle;
use crate::handle::Host;

/// What a publisher does after its last tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishEnd {
    /// `FCUnpublish` + `deleteStream`, then close: a clean stop.
    Unpublish,
    /// Close the connection without a word (encoder killed).
    Close,
    /// Reset the connection (network failure).
    Reset,
    /// Keep the connection open, sending nothing more.
    Hold,
}

/// How a [`SimPublisher`] publishes.
#[derive(Debug, Clone)]
pub struct PublisherOptions {
    /// Application (`live`).
    pub app: String,
    /// Stream name.
    pub stream: String,
    /// FMLE/OBS-style preamble (`releaseStream`, `FCPublish`) instead of Flash style.
    pub fmle: bool,
    /// What to do after the last tag.
    pub end: PublishEnd,
    /// Session settings.
    pub config: ClientConfig,
}

impl PublisherOptions {
    /// OBS-like publishing of `app/stream`, unpublishing at the end.
    pub fn new(app: &str, stream: &str) -> Self {
        Self {
            app: app.to_owned(),
            stream: stream.to_owned(),
            fmle: true,
            end: PublishEnd::Unpublish,
            config: ClientConfig::default(),
        }
    }

    /// The same, ending with `end` instead of an unpublish.
    pub fn ending(mut self, end: PublishEnd) -> Self {
        self.end = end;
        self
    }
}

/// What a publisher did.
#[derive(Debug, Clone, Default)]
pub struct PublisherLog {
    /// Every media message sent, in order.
    pub sent: Vec<MediaRecord>,
    /// `onStatus` codes received, with their virtual time.
    pub statuses: Vec<(Duration, String)>,
    /// Virtual time `NetStream.Publish.Start` arrived.
    pub started_at: Option<Duration>,
    /// Virtual time the last tag was sent.
    pub finished_at: Option<Duration>,
}

/// A running simulated publisher.
#[derive(Debug)]
pub struct SimPublisher {
    log: Arc<Mutex<PublisherLog>>,
    task: JoinHandle<Result<(), ClientError>>,
}

impl SimPublisher {
    /// Starts publishing `tags` (timestamps in ms, paced from the first one) to
    /// the RTMP server at `server`, from `host`.
    pub fn spawn(
        host: &Host,
        server: SocketAddr,
        options: PublisherOptions,
        tags: Vec<RawMessage>,
    ) -> Self {
        let log = Arc::new(Mutex::new(PublisherLog::default()));
        let task = host
            .sim()
            .spawn(run(host.clone(), server, options, tags, log.clone()));
        Self { log, task }
    }

    fn lock(&self) -> MutexGuard<'_, PublisherLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the log so far.
    pub fn log(&self) -> PublisherLog {
        self.lock().clone()
    }

    /// The shared log, for players that verify against it.
    pub fn shared_log(&self) -> Arc<Mutex<PublisherLog>> {
        self.log.clone()
    }

    /// Messages sent so far.
    pub fn sent_count(&self) -> usize {
        self.lock().sent.len()
    }

    /// Whether the publisher task ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// The task's outcome, once finished (taken once).
    pub fn result(&self) -> Option<Result<(), ClientError>> {
        self.task.try_take()
    }

    /// Stops the publisher task at once (its connection is dropped).
    pub fn abort(&self) {
        self.task.abort();
    }
}

fn note(log: &Mutex<PublisherLog>, at: Duration, event: ClientEvent) {
    if let ClientEvent::Status { code, .. } = event {
        log.lock()
            .unwrap_or_else(|e| e.into_inner())
            .statuses
            .push((at, code));
    }
}

async fn run(
    host: Host,
    server: SocketAddr,
    options: PublisherOptions,
    tags: Vec<RawMessage>,
    log: Arc<Mutex<PublisherLog>>,
) -> Result<(), ClientError> {
    let sim = host.sim().clone();
    let mut d = Driver::open(&host, server, options.config.clone()).await?;
    d.connect_app(&options.app, server, &mut |e| note(&log, sim.now(), e))
        .await?;
    let mut stream_id = None;
    if options.fmle {
        d.session.publish_fmle(&options.stream, PublishType::Live);
    } else {
        d.session.create_stream();
    }
    // Wait for the stream, then for NetStream.Publish.Start.
    loop {
        match d.next_event().await? {
            ClientEvent::StreamCreated { stream_id: id, .. } => {
                stream_id = Some(id);
                if !options.fmle {
                    d.session.publish(id, &options.stream, PublishType::Live);
                }
            }
            ClientEvent::Status { code, level, .. } => {
                log.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .statuses
                    .push((sim.now(), code.clone()));
                if code == rtmp_proto::command::status::PUBLISH_START {
                    break;
                }
                if level == rtmp_proto::command::status::LEVEL_ERROR {
                    return Err(ClientError::Refused(code));
                }
            }
            ClientEvent::CallFailed { command, .. } => return Err(ClientError::Refused(command)),
            _ => {}
        }
    }
    let stream_id = stream_id.unwrap_or(1);
    let start = sim.now();
    log.lock().unwrap_or_else(|e| e.into_inner()).started_at = Some(start);
    let first = tags.first().map_or(0, |t| t.timestamp);
    let mut index = 0;
    while let Some(tag) = tags.get(index) {
        let due = start.saturating_add(Duration::from_millis(tag.timestamp.saturating_sub(first)));
        if sim.now() < due {
            // Keep reading (acks, pings) while waiting for the next tag's time.
            let step = {
                let read = pin!(d.read_once());
                let wait = pin!(sim.sleep_until(due));
                match select(read, wait).await {
                    Either::Left((r, _)) => Some(r),
                    Either::Right(_) => None,
                }
            };
            match step {
                Some(Ok(true)) => {
                    while let Some(e) = d.session.poll_event() {
                        note(&log, sim.now(), e);
                    }
                    d.flush().await?;
                }
                Some(Ok(false)) => return Err(ClientError::Closed),
                Some(Err(e)) => return Err(e),
                None => {}
            }
            continue;
        }
        // Send every tag that is due now, then write them in one go.
        let now = sim.now();
        {
            let mut l = log.lock().unwrap_or_else(|e| e.into_inner());
            while let Some(tag) = tags.get(index) {
                let due = start
                    .saturating_add(Duration::from_millis(tag.timestamp.saturating_sub(first)));
                if due > now {
                    break;
                }
                d.session.send_media(stream_id, tag);
                l.sent.push(MediaRecord::of(tag, now));
                index += 1;
            }
        }
        d.flush().await?;
    }
    log.lock().unwrap_or_else(|e| e.into_inner()).finished_at = Some(sim.now());
    match options.end {
        PublishEnd::Unpublish => {
            d.session.send_command(
                0,
                &Command::FcUnpublish {
                    transaction_id: 0.0,
                    name: options.stream.clone(),
                },
            );
            d.session.delete_stream(stream_id);
            d.flush().await?;
            d.conn.close().await?;
            // Drain until the server closes, so the close is graceful.
            let drain = async { while let Ok(true) = d.read_once().await {} };
            sim.timeout(Duration::from_secs(5), drain).await;
        }
        PublishEnd::Close => d.conn.close().await?,
        PublishEnd::Reset => d.conn.reset(),
        PublishEnd::Hold => std::future::pending::<()>().await,
    }
    Ok(())
}
