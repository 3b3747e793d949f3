//! The blocking client on `std::net`: for C users (the C ABI wraps it),
//! command-line tools and anything without an async runtime. Every wait is
//! bounded by [`Timeouts`]: socket read and write timeouts, and a deadline
//! per setup step, so a server that accepts and then goes quiet, or trickles
//! a byte at a time, fails the call instead of hanging it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtmp_proto::handshake::ClientMode;
use rtmp_proto::url::{RtmpUrl, RtmpUrlError};

use crate::core::{ClientCore, Want};
use crate::error::{ClientError, Result};
use crate::frames::{AacFormat, NalFormat, VideoCodec};
use crate::options::{ClientOptions, Timeouts};
use crate::packet::Packet;

/// Bytes read from the server per read.
const READ_BUF_LEN: usize = 16 * 1024;

/// One blocking RTMP client connection.
///
/// The steps are srs-librtmp's: [`handshake`](Self::handshake),
/// [`connect_app`](Self::connect_app), then [`publish`](Self::publish) or
/// [`play`](Self::play); each takes the earlier ones if they were skipped,
/// so `Client::new(url)?.publish()?` is enough.
#[derive(Debug)]
pub struct Client {
    core: ClientCore,
    stream: Option<TcpStream>,
    read_buf: Box<[u8]>,
    out: Vec<Bytes>,
    started: Instant,
    bytes_in: u64,
    bytes_out: u64,
}

impl Client {
    /// A client for `url` (`rtmp://host[:port]/app/stream[?query]`), with
    /// default options. Nothing is connected yet.
    pub fn new(url: &str) -> Result<Self> {
        Self::with_options(url, ClientOptions::default())
    }

    /// A client for `url` with `options`.
    pub fn with_options(url: &str, options: ClientOptions) -> Result<Self> {
        let url = RtmpUrl::parse(url)?;
        if url.tls {
            // rtmps:// needs a TLS stack; the C library stays without one.
            return Err(ClientError::Url(RtmpUrlError::Scheme));
        }
        Ok(Self {
            core: ClientCore::new(url, options),
            stream: None,
            read_buf: vec![0; READ_BUF_LEN].into_boxed_slice(),
            out: Vec::new(),
            started: Instant::now(),
            bytes_in: 0,
            bytes_out: 0,
        })
    }

    /// The parsed URL.
    pub fn url(&self) -> &RtmpUrl {
        &self.core.url
    }

    /// Changes the timeouts (they apply to the next wait).
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.core.options.timeouts = timeouts;
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> Timeouts {
        self.core.options.timeouts
    }

    /// Chooses the handshake form; only before [`handshake`](Self::handshake).
    pub fn set_handshake(&mut self, mode: ClientMode) -> Result<()> {
        let mut options = self.core.options.clone();
        options.handshake = mode;
        self.reconfigure(options)
    }

    /// Announces Enhanced RTMP in `connect` ([`ClientOptions::enhanced_rtmp`]);
    /// only before [`handshake`](Self::handshake).
    pub fn enable_enhanced_rtmp(&mut self) -> Result<()> {
        let options = self.core.options.clone().enhanced_rtmp();
        self.reconfigure(options)
    }

    /// Sends the URL's query on the tcUrl too
    /// ([`ClientOptions::query_on_tc_url`]); only before `connect`.
    pub fn set_query_on_tc_url(&mut self, on: bool) -> Result<()> {
        let mut options = self.core.options.clone();
        options.query_on_tc_url = on;
        self.reconfigure(options)
    }

    /// The session is made with its options (C0C1 is queued at once), so
    /// changing them means a new one, before any byte went out.
    fn reconfigure(&mut self, options: ClientOptions) -> Result<()> {
        if self.stream.is_some() {
            return Err(ClientError::State(
                "options change after the handshake began",
            ));
        }
        self.core = ClientCore::new(self.core.url.clone(), options);
        Ok(())
    }

    /// Opens the TCP connection and runs the RTMP handshake.
    pub fn handshake(&mut self) -> Result<()> {
        if self.stream.is_none() {
            self.stream = Some(self.open()?);
        }
        self.wait(Want::Handshake)
    }

    /// Sends `connect` (tcUrl `rtmp://host:port/app`, the options'
    /// properties) and waits for its answer.
    pub fn connect_app(&mut self) -> Result<()> {
        self.handshake()?;
        self.core.connect_app();
        self.wait(Want::Connected)
    }

    /// Publishes the URL's stream (FMLE style) and waits for
    /// `NetStream.Publish.Start`; then [`write_packet`](Self::write_packet).
    pub fn publish(&mut self) -> Result<()> {
        self.handshake()?;
        self.core.publish()?;
        self.wait(Want::Ready)
    }

    /// Plays the URL's stream and waits for `NetStream.Play.Start`; then
    /// [`read_packet`](Self::read_packet) or [`packets`](Self::packets).
    pub fn play(&mut self) -> Result<()> {
        self.handshake()?;
        self.core.play()?;
        self.wait(Want::Ready)
    }

    /// Sends one packet on the published stream.
    pub fn write_packet(&mut self, packet: &Packet) -> Result<()> {
        self.core.send(packet)?;
        self.flush()
    }

    /// The next audio, video or data packet of the played stream. Fails
    /// with [`ClientError::Timeout`] after the read timeout without one,
    /// and with [`ClientError::Closed`] when the server hangs up.
    pub fn read_packet(&mut self) -> Result<Packet> {
        self.wait(Want::Packet)?;
        self.core
            .next_packet()
            .ok_or(ClientError::State("no packet"))
    }

    /// The played stream's packets until the server closes the connection
    /// (the iterator ends) or an error (yielded once, then the end).
    pub fn packets(&mut self) -> Packets<'_> {
        Packets {
            client: self,
            done: false,
        }
    }

    /// The played stream's packets handed to `on_packet` (srs-librtmp
    /// users' callback shape; [`packets`](Self::packets) is the iterator
    /// form) until it answers [`ControlFlow::Break`] or the server closes
    /// the connection, both `Ok`. A read timeout or any other failure ends
    /// the loop with that error. Call after [`play`](Self::play).
    pub fn play_loop(
        &mut self,
        mut on_packet: impl FnMut(&Packet) -> ControlFlow<()>,
    ) -> Result<()> {
        loop {
            match self.read_packet() {
                Ok(packet) => {
                    if on_packet(&packet).is_break() {
                        return Ok(());
                    }
                }
                Err(ClientError::Closed) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends one video access unit (H.264 or HEVC, Annex-B or AVCC)
    /// decoded at `dts_ms`, shown at `pts_ms`; in-band parameter sets become
    /// the sequence header (see [`FramePackager`](crate::FramePackager)).
    pub fn write_video_frame(
        &mut self,
        codec: VideoCodec,
        format: NalFormat,
        data: &[u8],
        dts_ms: u32,
        pts_ms: u32,
    ) -> Result<()> {
        self.core.send_video(codec, format, data, dts_ms, pts_ms)?;
        self.flush()
    }

    /// Sends AAC audio at `timestamp_ms`: ADTS frames, or one raw frame
    /// after [`set_aac_config`](Self::set_aac_config).
    pub fn write_aac_frame(
        &mut self,
        format: AacFormat,
        data: &[u8],
        timestamp_ms: u32,
    ) -> Result<()> {
        self.core.send_aac(format, data, timestamp_ms)?;
        self.flush()
    }

    /// The AudioSpecificConfig of raw AAC frames.
    pub fn set_aac_config(&mut self, asc: &[u8]) -> Result<()> {
        self.core.packager.set_aac_config(asc)
    }

    /// Ends cleanly: `FCUnpublish`/`deleteStream` (see the core), flushed
    /// within the write timeout, then the socket is shut down. Idempotent.
    pub fn close(&mut self) -> Result<()> {
        if self.stream.is_none() {
            return Ok(());
        }
        self.core.close();
        let flushed = self.flush();
        if let Some(stream) = self.stream.take() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        flushed
    }

    /// Bytes read from the server so far.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Bytes written to the server so far.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }

    fn open(&mut self) -> Result<TcpStream> {
        let url = &self.core.url;
        let timeouts = self.core.options.timeouts;
        // The system resolver has no timeout of its own; an IP literal
        // (the usual case for embedded users) never reaches it.
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
                    // Commands are small and latency-bound; media is
                    // written a message at a time.
                    let _ = stream.set_nodelay(true);
                    stream.set_write_timeout(Some(nonzero(timeouts.write)))?;
                    return Ok(stream);
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

    /// Flushes, then reads until `want` happened, all within the read
    /// timeout (one deadline for the whole wait).
    fn wait(&mut self, want: Want) -> Result<()> {
        self.flush()?;
        let deadline = Instant::now() + self.core.options.timeouts.read;
        while !self.core.done(want)? {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ClientError::Timeout(self.core.waiting_for(want)));
            }
            let waiting_for = self.core.waiting_for(want);
            let stream = self
                .stream
                .as_mut()
                .ok_or(ClientError::State("not connected"))?;
            stream.set_read_timeout(Some(nonzero(left)))?;
            let n = match stream.read(&mut self.read_buf) {
                Ok(0) => return Err(ClientError::Closed),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ClientError::from_io(e, waiting_for)),
            };
            self.bytes_in = self.bytes_in.saturating_add(n as u64);
            let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let data = self.read_buf.get(..n).unwrap_or_default();
            self.core.feed(now, data)?;
            // Acks, pings and the next setup command go out at once.
            self.flush()?;
        }
        Ok(())
    }

    /// Writes everything queued (each write bounded by the write timeout).
    fn flush(&mut self) -> Result<()> {
        self.core.poll_transmit(&mut self.out);
        if self.out.is_empty() {
            return Ok(());
        }
        let stream = self
            .stream
            .as_mut()
            .ok_or(ClientError::State("not connected"))?;
        for piece in self.out.drain(..) {
            stream
                .write_all(&piece)
                .map_err(|e| ClientError::from_io(e, "write"))?;
            self.bytes_out = self.bytes_out.saturating_add(piece.len() as u64);
        }
        Ok(())
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // Best effort; a caller who wants to know calls close().
        let _ = self.close();
    }
}

/// A socket timeout of zero means "none" to `std::net`: never pass one.
fn nonzero(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}

/// Iterator over a played stream's packets (see [`Client::packets`]).
#[derive(Debug)]
pub struct Packets<'a> {
    client: &'a mut Client,
    done: bool,
}

impl Iterator for Packets<'_> {
    type Item = Result<Packet>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.client.read_packet() {
            Ok(p) => Some(Ok(p)),
            Err(ClientError::Closed) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
