//! SRS's bandwidth check, client side (srs-librtmp's
//! `srs_rtmp_bandwidth_check`): connect to a vhost with
//! `bandcheck { enabled on; key K; }`, let the server send for its play
//! phase, send for its publish phase, and take its report.
//!
//! The protocol is [`rtmp_proto::bandcheck::BandcheckClient`]'s; this
//! module only moves its commands over a blocking socket (read timeouts
//! wake it for its pacing and deadlines), as [`Client`](crate::Client)
//! moves a publish or play.
//!
//! ```no_run
//! let report = rtmp_client::bandcheck::run(
//!     "rtmp://127.0.0.1/app?key=35c9b402c12a7246868752e2878f7e0e,vhost=bandcheck.srs.com",
//!     &rtmp_client::ClientOptions::default(),
//! )?;
//! println!("play {} kbps, publish {} kbps", report.play_kbps, report.publish_kbps);
//! # Ok::<(), rtmp_client::ClientError>(())
//! ```

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtmp_proto::bandcheck::BandcheckClient;
pub use rtmp_proto::bandcheck::{BandcheckReport, Sample};
use rtmp_proto::session::{ClientConfig, ClientEvent, ClientSession};
use rtmp_proto::url::{RtmpUrl, RtmpUrlError};

use crate::error::{ClientError, Result};
use crate::options::ClientOptions;

/// The stream name put on a check URL that has none (`rtmp://h/app?key=K`,
/// SRS's form); SRS's tool appends the same.
const PLACEHOLDER_STREAM: &str = "livestream";
/// Longest a whole check may take, whatever the server announces: two
/// phases of at most [`rtmp_proto::bandcheck::MAX_PHASE_MS`] and the steps
/// between them.
const MAX_CHECK: Duration = Duration::from_secs(120);
/// Bytes read per read.
const READ_BUF_LEN: usize = 64 * 1024;

/// Where a check goes: the server, the app, and the tcUrl to send, which
/// carries the URL's query (`key=`, `vhost=`), since that is where the
/// server looks for the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckTarget {
    /// The parsed URL (its stream is a placeholder when it had none).
    pub url: RtmpUrl,
    /// `connect`'s tcUrl: `rtmp://host:port/app?query`.
    pub tc_url: String,
}

impl CheckTarget {
    /// Reads `rtmp://host[:port]/app?key=K[,vhost=V]` (SRS's
    /// `srs_bandwidth_check` form) or `rtmp://host[:port]/app/stream?key=K`.
    pub fn parse(text: &str) -> Result<Self> {
        let url = match RtmpUrl::parse(text) {
            Err(RtmpUrlError::NoStream) => {
                let (base, query) = text.split_once('?').unwrap_or((text, ""));
                let base = base.trim_end_matches('/');
                let with_stream = if query.is_empty() {
                    format!("{base}/{PLACEHOLDER_STREAM}")
                } else {
                    format!("{base}/{PLACEHOLDER_STREAM}?{query}")
                };
                RtmpUrl::parse(&with_stream)?
            }
            other => other?,
        };
        if url.tls {
            return Err(ClientError::State("bandcheck over rtmps is not supported"));
        }
        let tc_url = if url.query.is_empty() {
            url.tc_url()
        } else {
            format!("{}?{}", url.tc_url(), url.query)
        };
        Ok(Self { url, tc_url })
    }
}

/// Runs a bandwidth check against `url` (see [`CheckTarget::parse`]) and
/// returns what the server reported and what this side measured. Every
/// wait is bounded: [`Timeouts`](crate::Timeouts) for connecting, the
/// handshake and `connect`, the check's own deadlines after that.
pub fn run(url: &str, options: &ClientOptions) -> Result<BandcheckReport> {
    let target = CheckTarget::parse(url)?;
    let mut link = Link::open(&target.url, options)?;
    let config = ClientConfig {
        handshake: options.handshake,
        chunk_size: options.chunk_size,
        ..ClientConfig::default()
    };
    let mut session = ClientSession::new(config, 0, seed());
    session.connect(
        &target.url.app,
        &target.tc_url,
        options.connect_properties.clone(),
    );
    let started = Instant::now();
    let now_ms = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let connect_deadline = started + options.timeouts.read;
    let mut check: Option<BandcheckClient> = None;
    loop {
        let now = now_ms();
        if let Some(c) = check.as_mut() {
            c.handle_timeout(now).map_err(bandcheck_error)?;
            // One packet per write: the next waits for the socket.
            if let Some(packet) = c.poll_transmit(now) {
                session.send_command(0, &packet);
            }
        }
        link.flush(&mut session)?;
        let wait = match &check {
            Some(c) if c.is_done() => break,
            Some(c) => c.poll_timeout().map_or(Duration::from_millis(100), |at| {
                Duration::from_millis(at.saturating_sub(now_ms()))
            }),
            None => {
                let left = connect_deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let what = if session.is_handshake_done() {
                        "connect answer"
                    } else {
                        "handshake"
                    };
                    return Err(ClientError::Timeout(what));
                }
                left
            }
        };
        if started.elapsed() > MAX_CHECK {
            return Err(ClientError::Timeout("the end of the bandwidth check"));
        }
        if wait.is_zero() {
            continue;
        }
        let Some(data) = link.read(wait)? else {
            continue;
        };
        let now = now_ms();
        session.handle_input(now, data)?;
        while let Some(event) = session.poll_event() {
            match event {
                ClientEvent::Connected { .. } if check.is_none() => {
                    check = Some(BandcheckClient::new(now));
                }
                ClientEvent::ConnectFailed { status } => {
                    return Err(ClientError::Refused(format!(
                        "{}: {}",
                        status.code, status.description
                    )));
                }
                ClientEvent::Command { command, .. } => {
                    if let Some(c) = check.as_mut() {
                        c.handle_command(now, &command).map_err(bandcheck_error)?;
                    }
                }
                _ => {}
            }
        }
    }
    let report = check
        .and_then(|c| c.report())
        .ok_or(ClientError::State("no report"))?;
    link.close();
    Ok(report)
}

/// A check's protocol failure, as the crate's error.
fn bandcheck_error(e: rtmp_proto::bandcheck::BandcheckError) -> ClientError {
    match e {
        rtmp_proto::bandcheck::BandcheckError::Timeout { waiting_for } => {
            ClientError::Timeout(waiting_for)
        }
        other => ClientError::Refused(other.to_string()),
    }
}

/// The socket, bounded by the options' timeouts.
struct Link {
    stream: TcpStream,
    buf: Box<[u8]>,
    out: Vec<Bytes>,
}

impl Link {
    fn open(url: &RtmpUrl, options: &ClientOptions) -> Result<Self> {
        let timeouts = options.timeouts;
        let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
            .to_socket_addrs()
            .map_err(|error| ClientError::Resolve {
                host: url.host.clone(),
                error,
            })?
            .collect();
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, nonzero(timeouts.connect)) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    stream.set_write_timeout(Some(nonzero(timeouts.write)))?;
                    return Ok(Self {
                        stream,
                        buf: vec![0; READ_BUF_LEN].into_boxed_slice(),
                        out: Vec::new(),
                    });
                }
                Err(error) => {
                    last = Some(ClientError::Connect {
                        addr: addr.to_string(),
                        error,
                    })
                }
            }
        }
        Err(last.unwrap_or_else(|| ClientError::Resolve {
            host: url.host.clone(),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
        }))
    }

    /// Writes what the session queued (each write bounded by the write timeout).
    fn flush(&mut self, session: &mut ClientSession) -> Result<()> {
        session.poll_transmit(&mut self.out);
        for piece in self.out.drain(..) {
            self.stream
                .write_all(&piece)
                .map_err(|e| ClientError::from_io(e, "write"))?;
        }
        Ok(())
    }

    /// One read, waiting at most `wait`; `None` when nothing came.
    fn read(&mut self, wait: Duration) -> Result<Option<&[u8]>> {
        self.stream.set_read_timeout(Some(nonzero(wait)))?;
        match self.stream.read(&mut self.buf) {
            Ok(0) => Err(ClientError::Closed),
            Ok(n) => Ok(self.buf.get(..n)),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(ClientError::from_io(e, "read")),
        }
    }

    fn close(self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// A socket timeout of zero means "none" to `std::net`: never pass one.
fn nonzero(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}

/// Handshake filler: varied, not secret (RTMP's handshake protects nothing).
fn seed() -> [u8; 32] {
    use std::hash::{BuildHasher, Hasher};
    let mut seed = [0u8; 32];
    for (i, piece) in seed.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        piece.copy_from_slice(&h.finish().to_le_bytes());
    }
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srs_urls_and_urls_with_a_stream_keep_their_query_on_the_tc_url() {
        let t = CheckTarget::parse("rtmp://127.0.0.1:1935/app?key=K,vhost=bandcheck.srs.com")
            .expect("srs form");
        assert_eq!(t.url.app, "app");
        assert_eq!(
            t.tc_url,
            "rtmp://127.0.0.1:1935/app?key=K,vhost=bandcheck.srs.com"
        );
        let t = CheckTarget::parse("rtmp://h/live/s?key=K").expect("with a stream");
        assert_eq!(t.tc_url, "rtmp://h:1935/live?key=K");
        let t = CheckTarget::parse("rtmp://h/app").expect("no query");
        assert_eq!(t.tc_url, "rtmp://h:1935/app");
        assert!(CheckTarget::parse("http://h/app?key=K").is_err());
        assert!(CheckTarget::parse("rtmp://h").is_err());
        assert!(CheckTarget::parse("rtmps://h/app?key=K").is_err());
    }

    #[test]
    fn a_dead_address_fails_within_the_connect_timeout() {
        // A port nothing listens on (bound, then released).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let url = format!("rtmp://127.0.0.1:{port}/app?key=K");
        let started = Instant::now();
        let e = run(&url, &ClientOptions::default()).expect_err("refused");
        assert!(matches!(e, ClientError::Connect { .. }), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
