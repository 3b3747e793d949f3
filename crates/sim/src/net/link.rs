//! How one simulated link behaves: delay, rate, segmentation, buffering.

use std::time::Duration;

/// Largest send/receive buffer a link may be given: a bound, so a misconfigured
/// test cannot make the simulator hold unbounded data per connection.
pub const MAX_LINK_BUFFER: usize = 64 << 20;

/// The properties of a link between two hosts (both directions alike).
///
/// Bytes written to a connection are cut into segments of a random size in
/// `min_segment..=max_segment` (seeded), serialised at `bandwidth` bytes per
/// second, and arrive `latency` (plus up to `jitter`, never reordering) later.
/// At most `buffer` bytes may be written and not yet read: beyond that the
/// writer's `poll_write` returns `Pending`, the back-pressure a stalled TCP reader
/// causes once both kernel buffers are full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    /// One-way propagation delay.
    pub latency: Duration,
    /// Extra random delay per segment, uniform in `0..=jitter`; order is preserved.
    pub jitter: Duration,
    /// Serialisation rate in bytes per second; `None` is infinitely fast.
    pub bandwidth: Option<u64>,
    /// Smallest segment a write is cut into (at least 1).
    pub min_segment: usize,
    /// Largest segment a write is cut into (an Ethernet MSS by default).
    pub max_segment: usize,
    /// Bytes written but not yet read that a direction may hold.
    pub buffer: usize,
    /// Let one read drain every segment that has arrived, as a TCP socket does.
    /// Off by default: each read returns at most one segment, so the reader sees
    /// the seeded segmentation even on an infinitely fast link.
    pub coalesce: bool,
    /// Let `poll_write` accept a random prefix of the buffer even when there is room,
    /// exercising callers' partial-write loops.
    pub short_writes: bool,
}

impl Default for LinkConfig {
    /// A LAN-like link: 1 ms each way, unlimited rate, 1460-byte segments, 256 KiB buffered.
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(1),
            jitter: Duration::ZERO,
            bandwidth: None,
            min_segment: 1,
            max_segment: 1460,
            buffer: 256 * 1024,
            coalesce: false,
            short_writes: false,
        }
    }
}

impl LinkConfig {
    /// Sets the one-way latency.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Sets the per-segment jitter bound.
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets the rate in bytes per second.
    pub fn with_bandwidth(mut self, bytes_per_second: u64) -> Self {
        self.bandwidth = Some(bytes_per_second);
        self
    }

    /// Sets the segment size range.
    pub fn with_segments(mut self, min: usize, max: usize) -> Self {
        self.min_segment = min;
        self.max_segment = max;
        self
    }

    /// Sets the buffered-bytes bound per direction.
    pub fn with_buffer(mut self, bytes: usize) -> Self {
        self.buffer = bytes;
        self
    }

    /// Enables or disables coalescing of arrived segments into one read.
    pub fn with_coalesce(mut self, on: bool) -> Self {
        self.coalesce = on;
        self
    }

    /// Enables or disables random short writes.
    pub fn with_short_writes(mut self, on: bool) -> Self {
        self.short_writes = on;
        self
    }

    /// The config with every field clamped into a usable range.
    pub(crate) fn sanitized(&self) -> Self {
        let min = self.min_segment.max(1);
        let max = self.max_segment.max(min);
        Self {
            min_segment: min,
            max_segment: max,
            buffer: self.buffer.clamp(1, MAX_LINK_BUFFER),
            bandwidth: self.bandwidth.filter(|b| *b > 0),
            ..self.clone()
        }
    }

    /// Time to put `bytes` on the wire at this link's rate.
    pub(crate) fn transmit_time(&self, bytes: usize) -> Duration {
        match self.bandwidth {
            None => Duration::ZERO,
            Some(rate) => {
                let nanos = (bytes as u128).saturating_mul(1_000_000_000) / u128::from(rate.max(1));
                Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transmit_time_follows_bandwidth() {
        let c = LinkConfig::default().with_bandwidth(1000);
        assert_eq!(c.transmit_time(500), Duration::from_millis(500));
        assert_eq!(LinkConfig::default().transmit_time(1 << 20), Duration::ZERO);
    }

    #[test]
    fn sanitize_fixes_nonsense() {
        let c = LinkConfig::default().with_segments(0, 0).with_buffer(0);
        let s = c.sanitized();
        assert_eq!((s.min_segment, s.max_segment, s.buffer), (1, 1, 1));
        let s = LinkConfig {
            bandwidth: Some(0),
            ..LinkConfig::default()
        }
        .sanitized();
        assert_eq!(s.bandwidth, None);
    }
}
