//! Hook calls counted per stream, for `/metrics`' per-stream series
//! (`srs_stream_hook_*`): which streams' hooks are slow or failing.
//!
//! Bounded: at most [`MAX_TRACKED`] streams are remembered; past that the
//! one updated longest ago is forgotten. The exporter also forgets streams
//! the hub no longer has at each scrape ([`StreamHookStats::retain`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::HookCallStats;
use crate::hub::StreamKey;

/// Most streams whose hook figures are kept (a few times the exporter's
/// per-stream series cap, so no live stream is forgotten for lack of room
/// in practice; each entry is about a hundred bytes).
pub const MAX_TRACKED: usize = 1024;

/// Hook calls per stream.
#[derive(Debug, Default)]
pub(crate) struct StreamHookStats {
    inner: Mutex<Tracked>,
}

#[derive(Debug, Default)]
struct Tracked {
    /// Figures and the tick of their last update.
    by_stream: HashMap<StreamKey, (HookCallStats, u64)>,
    tick: u64,
}

impl StreamHookStats {
    /// Counts one call for `key`: failed or not, and how long it took.
    pub(crate) fn record(&self, key: &StreamKey, failed: bool, took: Duration) {
        let mut t = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        t.tick += 1;
        let tick = t.tick;
        if !t.by_stream.contains_key(key) && t.by_stream.len() >= MAX_TRACKED {
            let oldest = t
                .by_stream
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                t.by_stream.remove(&oldest);
            }
        }
        let (stats, at) = t
            .by_stream
            .entry(key.clone())
            .or_insert((HookCallStats::default(), tick));
        *at = tick;
        stats.calls += 1;
        stats.failed += u64::from(failed);
        stats.latency = stats.latency.saturating_add(took);
    }

    /// A copy of every stream's figures.
    pub(crate) fn snapshot(&self) -> HashMap<StreamKey, HookCallStats> {
        let t = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        t.by_stream
            .iter()
            .map(|(k, (s, _))| (k.clone(), *s))
            .collect()
    }

    /// Forgets the streams `keep` says no.
    pub(crate) fn retain(&self, mut keep: impl FnMut(&StreamKey) -> bool) {
        let mut t = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        t.by_stream.retain(|k, _| keep(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: usize) -> StreamKey {
        StreamKey {
            vhost: "v".into(),
            app: "live".into(),
            stream: format!("s{n}"),
        }
    }

    #[test]
    fn counts_per_stream_and_stays_bounded() {
        let s = StreamHookStats::default();
        s.record(&key(0), false, Duration::from_millis(10));
        s.record(&key(0), true, Duration::from_millis(30));
        s.record(&key(1), false, Duration::from_millis(5));
        let snap = s.snapshot();
        assert_eq!(
            snap[&key(0)],
            HookCallStats {
                calls: 2,
                failed: 1,
                latency: Duration::from_millis(40)
            }
        );
        assert_eq!(snap[&key(1)].calls, 1);
        // Past the bound the stream updated longest ago goes: key(1), since
        // key(0) is touched again.
        for n in 2..=MAX_TRACKED {
            s.record(&key(0), false, Duration::ZERO);
            s.record(&key(n), false, Duration::ZERO);
        }
        let snap = s.snapshot();
        assert_eq!(snap.len(), MAX_TRACKED);
        assert!(snap.contains_key(&key(0)));
        assert!(!snap.contains_key(&key(1)));
        s.retain(|k| k == &key(0));
        assert_eq!(s.snapshot().len(), 1);
    }
}
