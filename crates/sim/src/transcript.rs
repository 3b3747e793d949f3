//! The determinism witness: a running SHA-256 over everything the simulation delivered.
//!
//! Every read on every simulated connection is hashed with its connection id,
//! direction, virtual time and bytes, in the order reads happen; so are file
//! system writes. Two runs with the same seed must give the same [`TranscriptHash`];
//! a different seed usually changes the timing part but not the content part
//! ([`crate::SimHandle::content_hash`]), which hashes each byte stream on its own.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// A SHA-256 digest of a run, printed as hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TranscriptHash(pub [u8; 32]);

impl fmt::Display for TranscriptHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TranscriptHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TranscriptHash({self})")
    }
}

/// Which way bytes travelled on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    /// From the connecting side to the accepting side.
    ToServer,
    /// From the accepting side to the connecting side.
    ToClient,
}

/// Accumulates the hashes.
#[derive(Debug)]
pub(crate) struct Transcript {
    enabled: bool,
    timeline: Sha256,
    streams: BTreeMap<(u64, Direction), Sha256>,
    events: u64,
    bytes: u64,
}

impl Default for Transcript {
    fn default() -> Self {
        Self {
            enabled: true,
            timeline: Sha256::new(),
            streams: BTreeMap::new(),
            events: 0,
            bytes: 0,
        }
    }
}

impl Transcript {
    /// Turns hashing on or off (off saves time in long benchmarks).
    pub(crate) fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    /// Records one read of `data` on connection `conn`.
    pub(crate) fn read(&mut self, conn: u64, dir: Direction, at: Duration, data: &[u8]) {
        self.bytes = self.bytes.saturating_add(data.len() as u64);
        if !self.enabled {
            return;
        }
        self.events = self.events.saturating_add(1);
        self.timeline.update(b"R");
        self.timeline.update(conn.to_be_bytes());
        self.timeline.update([dir as u8]);
        self.timeline.update(at.as_nanos().to_be_bytes());
        self.timeline.update((data.len() as u64).to_be_bytes());
        self.timeline.update(data);
        self.streams.entry((conn, dir)).or_default().update(data);
    }

    /// Records a file system event (`op` names it; `data` is what was written, if anything).
    pub(crate) fn fs(&mut self, op: &str, path: &str, at: Duration, data: &[u8]) {
        if !self.enabled {
            return;
        }
        self.events = self.events.saturating_add(1);
        self.timeline.update(b"F");
        self.timeline.update((op.len() as u64).to_be_bytes());
        self.timeline.update(op.as_bytes());
        self.timeline.update((path.len() as u64).to_be_bytes());
        self.timeline.update(path.as_bytes());
        self.timeline.update(at.as_nanos().to_be_bytes());
        self.timeline.update((data.len() as u64).to_be_bytes());
        self.timeline.update(data);
    }

    /// Hash of the whole timeline so far.
    pub(crate) fn hash(&self) -> TranscriptHash {
        TranscriptHash(self.timeline.clone().finalize().into())
    }

    /// Hash of each connection's byte streams, timing and segmentation ignored.
    pub(crate) fn content_hash(&self) -> TranscriptHash {
        let mut all = Sha256::new();
        for ((conn, dir), h) in &self.streams {
            all.update(conn.to_be_bytes());
            all.update([*dir as u8]);
            all.update(h.clone().finalize());
        }
        TranscriptHash(all.finalize().into())
    }

    /// Number of recorded events.
    pub(crate) fn events(&self) -> u64 {
        self.events
    }

    /// Bytes read over every connection (counted even when hashing is off).
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_changes_timeline_not_content() {
        let mut a = Transcript::default();
        let mut b = Transcript::default();
        a.read(
            1,
            Direction::ToServer,
            Duration::from_millis(1),
            b"hello world",
        );
        b.read(1, Direction::ToServer, Duration::from_millis(1), b"hello ");
        b.read(1, Direction::ToServer, Duration::from_millis(2), b"world");
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.content_hash(), b.content_hash());
        let mut c = Transcript::default();
        c.read(
            1,
            Direction::ToServer,
            Duration::from_millis(1),
            b"hello world",
        );
        assert_eq!(a.hash(), c.hash());
        c.read(2, Direction::ToClient, Duration::from_millis(1), b"x");
        assert_ne!(a.content_hash(), c.content_hash());
    }

    #[test]
    fn hash_displays_as_hex() {
        let h = Transcript::default().hash();
        let s = h.to_string();
        assert_eq!(s.len(), 64);
        // SHA-256 of the empty string.
        assert!(s.starts_with("e3b0c442"));
    }
}
