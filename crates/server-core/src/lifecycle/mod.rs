//! The stream lifecycle: how a client is admitted to connect, publish or
//! play, and what a stream's publish and unpublish start and stop, whatever
//! protocol carries it.
//!
//! SRS spreads this over `SrsRtmpConn` (vhost, security, refer, hooks) and
//! `SrsOriginHub` (HLS, DVR, forward on publish); here it is one place that
//! every way in or out of the hub goes through: RTMP and HTTP-FLV today, edge
//! pulls, forwards and ingests later. Each step is async (a hook is an HTTP
//! call), so the protocol side pauses its sans-IO session while a decision is
//! pending; other connections and streams never wait on it.
//!
//! - [`admission`]: [`connect`], [`publish`] and [`play`], in SRS's order:
//!   vhost, `security`, `refer`, hooks, then the hub. Each returns what the
//!   connection holds while it publishes or plays; dropping that ends the
//!   publish or play and tells the hooks (`on_unpublish`, `on_stop`).
//! - [`bandcheck`]: after `connect`, whether the client runs SRS's bandwidth
//!   check instead ([`crate::bandcheck`]).
//! - [`outputs`]: what a published stream feeds (HLS today), started by the
//!   stream's own publish.

mod admission;
pub mod outputs;

pub use admission::{
    bandcheck, connect, play, play_file, publish, publish_internal, Peer, Playing, Publishing,
    Refusal, Target, Ticket, MAX_PARAM_BYTES, PLAY_REJECTED, PUBLISH_REJECTED,
};
pub use outputs::{Output, OutputRegistry, PublishedStream};
