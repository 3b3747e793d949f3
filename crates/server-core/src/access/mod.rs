//! Who may connect, publish or play, decided before any hook is asked: SRS's
//! `security` (by client address) and `refer` (by the page the client was
//! embedded in), and `max_connections_per_ip` (how many connections one
//! client may hold open).

pub mod budget;
pub mod memory;
pub mod per_ip;
pub mod refer;
pub mod security;

pub use per_ip::{PerIpGuard, PerIpLimit, PerIpRefused};
pub use refer::{ReferConfig, ReferDenied};
pub use security::{
    IpNet, IpNetError, RuleAction, RuleTarget, SecurityConfig, SecurityDenied, SecurityRule,
};

/// What a client asks to do with a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Publish.
    Publish,
    /// Play.
    Play,
}
