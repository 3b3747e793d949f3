//! The stream hub: every live source and every connected client, by name and id.
//!
//! Publishers and players meet here by [`StreamKey`]. The hub is shared state
//! behind short mutexes; nothing here awaits, so it works the same on any runtime.

mod client;
mod consumer;
mod fanout;
mod frame;
mod info;
mod key;
mod rate;
mod source;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub use client::{ClientInfo, ClientKind, ClientOrder, ClientRegistration, ReconnectAsk};
pub use consumer::Consumer;
pub use fanout::{
    MergeRule, QueueItem, COUNT_WAIVER_SPAN_MS, MAX_BYTES, MAX_ENTRIES, MAX_MERGE_MSGS,
};
pub use frame::{split_tracks, Frame, SharedFrame, TrackFilter};
pub use info::{AudioInfo, StreamInfo, TrackInfo, TrackMedia, VideoInfo};
pub use key::{
    query_param, split_query, NameError, StreamKey, StreamRequest, TcUrl, MAX_NAME_BYTES,
};
pub use rate::{TrackId, Traffic, RATE_SAMPLE_MS, RATE_WINDOW_MS};
pub use source::{PublishError, Source, SourceOptions, SourceStats};

/// All sources and clients of one server.
#[derive(Debug, Default)]
pub struct Hub {
    sources: Mutex<HashMap<StreamKey, Arc<Source>>>,
    clients: Mutex<HashMap<u64, Arc<ClientInfo>>>,
    next_id: AtomicU64,
    clients_total: AtomicU64,
    clients_errs: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Hub {
    /// An empty hub.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            next_id: AtomicU64::new(1),
            ..Self::default()
        })
    }

    /// A fresh id for a client or a source (ids never repeat within a process).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The source for `key`, created with `options` if it doesn't exist.
    pub fn source(&self, key: &StreamKey, options: impl FnOnce() -> SourceOptions) -> Arc<Source> {
        let mut sources = lock(&self.sources);
        if let Some(s) = sources.get(key) {
            return s.clone();
        }
        let source = Arc::new(Source::new(self.next_id(), key.clone(), options()));
        sources.insert(key.clone(), source.clone());
        source
    }

    /// The source for `key`, if the hub has one.
    pub fn find(&self, key: &StreamKey) -> Option<Arc<Source>> {
        lock(&self.sources).get(key).cloned()
    }

    /// Claims `source` for a publisher. Dropping the returned guard unpublishes.
    ///
    /// Every way in for media passes here, so this is where a name that could
    /// not safely name files (HLS output) is refused; players of any name may
    /// still wait for a stream.
    pub fn publish(
        &self,
        source: &Arc<Source>,
        client_id: u64,
        now_ms: u64,
    ) -> Result<PublishGuard, PublishError> {
        source.key.check_names()?;
        source.start_publish(client_id, now_ms)?;
        Ok(PublishGuard {
            source: source.clone(),
            client_id,
        })
    }

    /// Subscribes a consumer. Dropping it unsubscribes.
    pub fn subscribe(&self, source: &Arc<Source>) -> Consumer {
        source.add_consumer(None)
    }

    /// Subscribes an internal consumer (a sink) with its own bound.
    pub fn subscribe_with_span(&self, source: &Arc<Source>, span_ms: u64) -> Consumer {
        source.add_consumer(Some(span_ms))
    }

    /// Every source, sorted by key for stable API output.
    pub fn sources(&self) -> Vec<Arc<Source>> {
        let mut v: Vec<_> = lock(&self.sources).values().cloned().collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }

    /// A source by its API id.
    pub fn source_by_id(&self, id: u64) -> Option<Arc<Source>> {
        lock(&self.sources).values().find(|s| s.id == id).cloned()
    }

    /// Forgets sources nobody publishes to or plays from (SRS issue #413: idle
    /// sources must not accumulate). Returns how many were removed.
    pub fn reap_idle(&self) -> usize {
        let mut sources = lock(&self.sources);
        let before = sources.len();
        sources.retain(|_, s| !s.is_idle());
        shrink_if_sparse(&mut sources);
        before - sources.len()
    }

    /// Registers a connected client for the API; dropping the registration removes it.
    pub fn register_client(self: &Arc<Self>, info: ClientInfo) -> ClientRegistration {
        let info = Arc::new(info);
        self.clients_total.fetch_add(1, Ordering::Relaxed);
        lock(&self.clients).insert(info.id, info.clone());
        ClientRegistration::new(self.clone(), info)
    }

    pub(crate) fn unregister_client(&self, id: u64) {
        let mut clients = lock(&self.clients);
        clients.remove(&id);
        shrink_if_sparse(&mut clients);
    }

    /// Clients ever registered (SRS's `srs_clients_total`).
    pub fn clients_total(&self) -> u64 {
        self.clients_total.load(Ordering::Relaxed)
    }

    /// Counts a client connection that ended in an error (SRS's
    /// `srs_clients_errs_total`: its `SrsStatistic::on_disconnect` counts
    /// every connection whose cycle ended with an error).
    pub fn count_client_error(&self) {
        self.clients_errs.fetch_add(1, Ordering::Relaxed);
    }

    /// Client connections that ended in an error since start.
    pub fn clients_errs(&self) -> u64 {
        self.clients_errs.load(Ordering::Relaxed)
    }

    /// Every connected client, by id.
    pub fn clients(&self) -> Vec<Arc<ClientInfo>> {
        let mut v: Vec<_> = lock(&self.clients).values().cloned().collect();
        v.sort_by_key(|c| c.id);
        v
    }

    /// Samples every client's byte counters, and every source's per-track
    /// ones (for recent rates in the API and metrics).
    pub fn sample_traffic(&self, now_ms: u64) {
        for client in lock(&self.clients).values() {
            client.sample_traffic(now_ms);
        }
        for source in lock(&self.sources).values() {
            source.sample_traffic(now_ms);
        }
    }

    /// One client by id.
    pub fn client(&self, id: u64) -> Option<Arc<ClientInfo>> {
        lock(&self.clients).get(&id).cloned()
    }

    /// Asks a client's connection to close (API `DELETE /api/v1/clients/ID`).
    pub fn kick(&self, id: u64) -> bool {
        match self.client(id) {
            Some(c) => {
                c.kick();
                true
            }
            None => false,
        }
    }
}

/// Held by a publishing connection; unpublishes on drop (even on a panic or error path).
#[derive(Debug)]
pub struct PublishGuard {
    source: Arc<Source>,
    client_id: u64,
}

impl PublishGuard {
    /// The source being published.
    pub fn source(&self) -> &Arc<Source> {
        &self.source
    }
}

impl Drop for PublishGuard {
    fn drop(&mut self) {
        self.source.stop_publish(self.client_id);
    }
}

/// Gives back a map's table once it is mostly empty. A crowd of names or
/// clients grows it, and a `HashMap` never shrinks by itself: after 1500
/// short publishes the sources' table alone held 166 KB (heaptrack, issue
/// 23 §4). A quarter full, so a steady load never rebuilds it twice in a row.
fn shrink_if_sparse<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>) {
    const KEEP: usize = 64;
    if map.capacity() > KEEP && map.len() * 4 < map.capacity() {
        map.shrink_to(KEEP.max(map.len() * 2));
    }
}

#[cfg(test)]
mod tests;
