//! An RTMP client library: srs-librtmp's successor.
//!
//! Connect (simple or complex handshake, tcUrl with the URL's query, extra
//! or E-RTMP `connect` properties), publish FLV tags or encoder frames,
//! play a stream as an iterator of packets (audio, video, metadata) or
//! through a callback ([`Client::play_loop`]), close cleanly. Three faces
//! over one runtime-neutral core (`rtmp_proto`'s [`ClientSession`] stepped
//! by its [`ClientSetup`], the same sequencing the server's own forward and
//! edge connections use):
//! - [`Client`]: blocking, on `std::net`, every wait bounded by [`Timeouts`];
//! - `AsyncClient` (feature `tokio`): the same calls, async;
//! - the C ABI (`include/rtmp_client.h`, built as `librtmp_client.so` and
//!   `librtmp_client.a`), shaped like srs-librtmp's.
//!
//! ```no_run
//! use rtmp_client::{Client, Packet};
//! use media_core::flv::TagType;
//! let mut client = Client::new("rtmp://127.0.0.1/live/stream?token=x")?;
//! client.publish()?;
//! client.write_packet(&Packet::new(TagType::Video, 0, vec![0x17, 0, 0, 0, 0]))?;
//! client.close()?;
//! # Ok::<(), rtmp_client::ClientError>(())
//! ```
//!
//! [`ClientSession`]: rtmp_proto::session::ClientSession
//! [`ClientSetup`]: rtmp_proto::session::ClientSetup
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(feature = "tokio")]
mod async_client;
pub mod bandcheck;
mod blocking;
mod core;
mod error;
pub mod ffi;
mod frames;
mod options;
mod packet;

#[cfg(feature = "tokio")]
pub use async_client::AsyncClient;
pub use blocking::{Client, Packets};
pub use error::{ClientError, Result};
pub use frames::{AacFormat, FramePackager, NalFormat, VideoCodec};
pub use options::{ClientOptions, Timeouts, ENHANCED_RTMP_FOURCCS};
pub use packet::Packet;
pub use rtmp_proto::handshake::ClientMode;
pub use rtmp_proto::url::{RtmpUrl, RtmpUrlError};
