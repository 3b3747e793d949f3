//! `rtmp-load`: a load generator for live streaming servers, and the
//! library behind it.
//!
//! It opens N RTMP players, N RTMP publishers, N HTTP-FLV players or N HLS
//! players against one URL (or, in get mode, N keep-alive connections that
//! fetch one URL as fast as the server answers), at a ramp rate, for a duration (optionally in a
//! reconnect loop to hunt leaks), and measures each connection: bytes,
//! kbit/s, time to first video frame, stalls (gaps over one second),
//! disconnects and errors. It prints a live progress line, then a summary
//! (min / median / p95 / max) as a table or JSON, with its own CPU time so a
//! reader can tell whether the client was the bottleneck.
//!
//! RTMP runs on [`rtmp_proto::session::ClientSession`] (the same sans-IO
//! core the server uses) over tokio; HTTP on hyper. By default everything
//! runs on one thread (a current-thread runtime), because the point is to
//! load a server with one client core: see [`rtmp_conn`] for how a
//! connection stays cheap.
//!
//! Layout: [`options`] (command line) → [`run`] (runtime, ramp, progress) →
//! [`client`] (session loop, measurements) → one module per protocol
//! ([`player`], [`publisher`], [`http_flv`], [`hls`], [`get`]) over [`rtmp_conn`] and
//! [`http`]; [`stats`] and [`report`] do the arithmetic and the output.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod cpu;
pub mod get;
pub mod hls;
pub mod http;
pub mod http_flv;
pub mod json;
pub mod options;
pub mod player;
pub mod playlist;
pub mod progress;
pub mod publisher;
pub mod report;
pub mod rng;
pub mod rtmp_conn;
pub mod run;
pub mod stats;
pub mod url;
