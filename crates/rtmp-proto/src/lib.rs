//! A sans-IO RTMP protocol core.
//!
//! Nothing in this crate touches a socket, a clock or a random number generator:
//! bytes and time come in as values, events and bytes go out. That keeps every
//! behaviour testable byte for byte and lets the same code run on tokio, smol and
//! the deterministic simulator (see the workspace README).
//!
//! Layout, bottom up:
//! - [`handshake`]: C0/C1/C2 and S0/S1/S2, simple and complex (digest) forms.
//! - [`chunk`]: the chunk stream decoder and encoder (RTMP spec 5.3).
//! - [`amf0`]: the AMF0 value codec used by commands and metadata.
//! - [`message`]: message type ids and the raw message shared by all layers.
//! - [`control`]: protocol control (spec 5.4) and user control (spec 6.2) messages.
//! - [`command`]: typed NetConnection / NetStream commands (spec 7.2).
//! - [`session`]: the server and client session state machines.
//! - [`bandcheck`]: SRS's bandwidth check, server and client sides.
//! - [`url`]: `rtmp://host:port/app/stream?query`, shared by every client.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod aggregate;
pub mod amf0;
pub mod bandcheck;
pub mod chunk;
pub mod command;
pub mod control;
pub mod error;
pub mod handshake;
pub mod message;
pub mod reader;
pub mod session;
pub mod url;

pub use error::Error;
pub use message::{MessageType, RawMessage};
pub use session::{ClientSession, ServerSession};
