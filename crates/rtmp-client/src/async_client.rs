//! The async client on tokio (feature `tokio`): the same steps and
//! guarantees as the blocking [`Client`](crate::Client), over the same
//! runtime-neutral core, with every wait under `tokio::time::timeout`.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use rtmp_proto::handshake::ClientMode;
use rtmp_proto::url::{RtmpUrl, RtmpUrlError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::core::{ClientCore, Want};
use crate::error::{ClientError, Result};
use crate::frames::{AacFormat, NalFormat, VideoCodec};
use crate::options::{ClientOptions, Timeouts};
use crate::packet::Packet;

/// Bytes read from the server per read.
const READ_BUF_LEN: usize = 16 * 1024;

/// One async RTMP client connection; see [`Client`](crate::Client) for the
/// steps (each takes the earlier ones when skipped).
#[derive(Debug)]
pub struct AsyncClient {
    core: ClientCore,
    stream: Option<TcpStream>,
    read_buf: Box<[u8]>,
    out: Vec<Bytes>,
    started: Instant,
}

impl AsyncClient {
    /// A client for `url` with default options; nothing connected yet.
    pub fn new(url: &str) -> Result<Self> {
        Self::with_options(url, ClientOptions::default())
    }

    /// A client for `url` with `options`.
    pub fn with_options(url: &str, options: ClientOptions) -> Result<Self> {
        let url = RtmpUrl::parse(url)?;
        if url.tls {
            return Err(ClientError::Url(RtmpUrlError::Scheme));
        }
        Ok(Self {
            core: ClientCore::new(url, options),
            stream: None,
            read_buf: vec![0; READ_BUF_LEN].into_boxed_slice(),
            out: Vec::new(),
            started: Instant::now(),
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

    /// Chooses the handshake form; only before [`handshake`](Self::handshake).
    pub fn set_handshake(&mut self, mode: ClientMode) -> Result<()> {
        if self.stream.is_some() {
            return Err(ClientError::State(
                "options change after the handshake began",
            ));
        }
        let mut options = self.core.options.clone();
        options.handshake = mode;
        self.core = ClientCore::new(self.core.url.clone(), options);
        Ok(())
    }

    /// Opens the TCP connection and runs the RTMP handshake.
    pub async fn handshake(&mut self) -> Result<()> {
        if self.stream.is_none() {
            self.stream = Some(self.open().await?);
        }
        self.wait(Want::Handshake).await
    }

    /// Sends `connect` and waits for its answer.
    pub async fn connect_app(&mut self) -> Result<()> {
        self.handshake().await?;
        self.core.connect_app();
        self.wait(Want::Connected).await
    }

    /// Publishes the URL's stream and waits for `NetStream.Publish.Start`.
    pub async fn publish(&mut self) -> Result<()> {
        self.handshake().await?;
        self.core.publish()?;
        self.wait(Want::Ready).await
    }

    /// Plays the URL's stream and waits for `NetStream.Play.Start`.
    pub async fn play(&mut self) -> Result<()> {
        self.handshake().await?;
        self.core.play()?;
        self.wait(Want::Ready).await
    }

    /// Sends one packet on the published stream.
    pub async fn write_packet(&mut self, packet: &Packet) -> Result<()> {
        self.core.send(packet)?;
        self.flush().await
    }

    /// The next packet of the played stream ([`ClientError::Closed`] at
    /// the server's hang-up, [`ClientError::Timeout`] after the read
    /// timeout). Not cancel-safe: a dropped call may lose what it read.
    pub async fn read_packet(&mut self) -> Result<Packet> {
        self.wait(Want::Packet).await?;
        self.core
            .next_packet()
            .ok_or(ClientError::State("no packet"))
    }

    /// Sends one video access unit (H.264 or HEVC, Annex-B or AVCC)
    /// decoded at `dts_ms`, shown at `pts_ms`; in-band parameter sets become
    /// the sequence header (see [`FramePackager`](crate::FramePackager)).
    pub async fn write_video_frame(
        &mut self,
        codec: VideoCodec,
        format: NalFormat,
        data: &[u8],
        dts_ms: u32,
        pts_ms: u32,
    ) -> Result<()> {
        self.core.send_video(codec, format, data, dts_ms, pts_ms)?;
        self.flush().await
    }

    /// Sends AAC audio at `timestamp_ms`: ADTS frames, or one raw frame
    /// after [`set_aac_config`](Self::set_aac_config).
    pub async fn write_aac_frame(
        &mut self,
        format: AacFormat,
        data: &[u8],
        timestamp_ms: u32,
    ) -> Result<()> {
        self.core.send_aac(format, data, timestamp_ms)?;
        self.flush().await
    }

    /// The AudioSpecificConfig of raw AAC frames.
    pub fn set_aac_config(&mut self, asc: &[u8]) -> Result<()> {
        self.core.packager.set_aac_config(asc)
    }

    /// Ends cleanly (`FCUnpublish`/`deleteStream`) and shuts the socket.
    pub async fn close(&mut self) -> Result<()> {
        if self.stream.is_none() {
            return Ok(());
        }
        self.core.close();
        let flushed = self.flush().await;
        if let Some(mut stream) = self.stream.take() {
            let write = self.core.options.timeouts.write;
            let _ = timeout(write, stream.shutdown()).await;
        }
        flushed
    }

    async fn open(&mut self) -> Result<TcpStream> {
        let url = &self.core.url;
        let timeouts = self.core.options.timeouts;
        let lookup = tokio::net::lookup_host((url.host.as_str(), url.port));
        let addrs: Vec<SocketAddr> = match timeout(timeouts.connect, lookup).await {
            Ok(Ok(addrs)) => addrs.collect(),
            Ok(Err(error)) => {
                return Err(ClientError::Resolve {
                    host: url.host.clone(),
                    error,
                })
            }
            Err(_) => return Err(ClientError::Timeout("name resolution")),
        };
        let mut last = None;
        for addr in addrs {
            match timeout(timeouts.connect, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Ok(Err(error)) => {
                    last = Some(ClientError::Connect {
                        addr: addr.to_string(),
                        error,
                    })
                }
                Err(_) => last = Some(ClientError::Timeout("tcp connect")),
            }
        }
        Err(last.unwrap_or_else(|| ClientError::Resolve {
            host: url.host.clone(),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
        }))
    }

    /// Flushes, then reads until `want` happened, within one read timeout.
    async fn wait(&mut self, want: Want) -> Result<()> {
        self.flush().await?;
        let deadline = tokio::time::Instant::now() + self.core.options.timeouts.read;
        while !self.core.done(want)? {
            let waiting_for = self.core.waiting_for(want);
            let stream = self
                .stream
                .as_mut()
                .ok_or(ClientError::State("not connected"))?;
            let n = match tokio::time::timeout_at(deadline, stream.read(&mut self.read_buf)).await {
                Err(_) => return Err(ClientError::Timeout(waiting_for)),
                Ok(Ok(0)) => return Err(ClientError::Closed),
                Ok(Ok(n)) => n,
                Ok(Err(e)) => return Err(ClientError::from_io(e, waiting_for)),
            };
            let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let data = self.read_buf.get(..n).unwrap_or_default();
            self.core.feed(now, data)?;
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes everything queued; a write making no progress for the write
    /// timeout fails.
    async fn flush(&mut self) -> Result<()> {
        self.core.poll_transmit(&mut self.out);
        if self.out.is_empty() {
            return Ok(());
        }
        let limit = self.core.options.timeouts.write;
        let stream = self
            .stream
            .as_mut()
            .ok_or(ClientError::State("not connected"))?;
        for piece in self.out.drain(..) {
            match timeout(limit, stream.write_all(&piece)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(ClientError::from_io(e, "write")),
                Err(_) => return Err(ClientError::Timeout("write")),
            }
        }
        Ok(())
    }
}
