//! Acknowledgement bookkeeping (RTMP spec 5.4.3, 5.4.4).
//!
//! The peer's Window Acknowledgement Size says how many bytes it lets us
//! receive before we must send an Acknowledgement carrying the number of
//! bytes received so far. Flash Player, FMS and SRS stall a sender that does
//! not hear back, so each session keeps this count itself.

/// Counts received bytes and says when an Acknowledgement is due.
#[derive(Debug, Clone)]
pub(super) struct AckWindow {
    /// Acknowledge every this many bytes; 0 disables acknowledgements.
    window: u32,
    /// Every byte received, handshake included.
    received: u64,
    /// `received` when the last Acknowledgement was sent.
    acked: u64,
}

impl AckWindow {
    /// A window of `window` bytes until the peer announces its own.
    pub(super) fn new(window: u32) -> Self {
        Self {
            window,
            received: 0,
            acked: 0,
        }
    }

    /// The peer announced its window size.
    pub(super) fn set_window(&mut self, window: u32) {
        self.window = window;
    }

    /// Counts `n` more received bytes.
    pub(super) fn received(&mut self, n: usize) {
        self.received = self.received.saturating_add(n as u64);
    }

    /// The sequence number to acknowledge, if a window's worth of bytes
    /// arrived since the last one: total bytes received, modulo 2^32 (the
    /// field is 32 bits and wraps, spec 5.4.3).
    pub(super) fn due(&mut self) -> Option<u32> {
        if self.window == 0 || self.received.saturating_sub(self.acked) < u64::from(self.window) {
            return None;
        }
        self.acked = self.received;
        Some(self.received as u32)
    }

    /// Bytes received so far.
    pub(super) fn total(&self) -> u64 {
        self.received
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_once_per_window_and_wraps() {
        let mut a = AckWindow::new(100);
        a.received(99);
        assert_eq!(a.due(), None);
        a.received(1);
        assert_eq!(a.due(), Some(100));
        assert_eq!(a.due(), None);
        a.received(250);
        assert_eq!(a.due(), Some(350));
        a.set_window(0);
        a.received(1000);
        assert_eq!(a.due(), None);
        let mut a = AckWindow::new(u32::MAX);
        a.received(u32::MAX as usize);
        a.received(10);
        assert_eq!(a.due(), Some(9));
        assert_eq!(a.total(), (1u64 << 32) + 9);
    }
}
