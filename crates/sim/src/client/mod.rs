//! Simulated RTMP clients built on `rtmp-proto`'s [`ClientSession`]: a publisher
//! that sends media with its real timing and players that record what they get.
//!
//! Each runs as a task on a simulated [`Host`](crate::Host); tests read their
//! logs while the world runs and after.
//!
//! [`ClientSession`]: rtmp_proto::session::ClientSession

mod driver;
mod media;
mod player;
mod publisher;

pub use driver::ClientError;
pub use media::{classify, digest, track_ids, MediaRecord, MediaTags};
pub use player::{PlayerLog, PlayerOptions, SimPlayer};
pub use publisher::{PublishEnd, PublisherLog, PublisherOptions, SimPublisher};
