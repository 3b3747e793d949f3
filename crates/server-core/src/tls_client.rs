//! The server's TLS client: `https://` hooks and `rtmps://` upstreams
//! (forward destinations, edge origins) check the peer's certificate
//! against the system's roots (`rustls-native-certs`, which honours
//! `SSL_CERT_FILE` and `SSL_CERT_DIR`) plus roots the operator adds
//! (`rtmps { upstream_ca FILE; }`, or
//! [`Hooks::add_root_certificates`](crate::hooks::Hooks::add_root_certificates)).
//!
//! The system store is read on the first TLS connection, not at start: a
//! server that never dials TLS never touches it. The config is built then
//! and kept until the extra roots change (start, reload).

use std::sync::{Arc, Mutex};

use futures_rustls::client::TlsStream;
use futures_rustls::TlsConnector;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use crate::runtime::Connection;

/// The crypto provider of every TLS config of the server, client and
/// listener. ring builds with a C compiler alone (aws-lc-rs wants more of
/// the box). rustls 0.23.48 deprecated it for lacking post-quantum key
/// exchange, which a link to the operator's own hook server or origin can
/// do without; aws-lc-rs is the switch if that changes.
#[allow(deprecated)]
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Why an extra root certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("root certificate {index} refused: {reason}")]
pub struct RootCertError {
    /// Its position in the list given.
    pub index: usize,
    /// What rustls said.
    pub reason: String,
}

/// One feature's TLS client config: built on first use, rebuilt after the
/// extra roots change.
pub struct TlsClient {
    /// The feature whose log lines these are ("hooks", "rtmps").
    label: &'static str,
    extra_roots: Mutex<Vec<CertificateDer<'static>>>,
    config: Mutex<Option<Arc<ClientConfig>>>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let extra = self.extra_roots.lock().map(|r| r.len()).unwrap_or(0);
        f.debug_struct("TlsClient")
            .field("label", &self.label)
            .field("extra_roots", &extra)
            .finish_non_exhaustive()
    }
}

impl TlsClient {
    /// The system's roots only, for now; `label` names the feature in logs.
    pub fn new(label: &'static str) -> Self {
        Self {
            label,
            extra_roots: Mutex::new(Vec::new()),
            config: Mutex::new(None),
        }
    }

    /// Trusts exactly these roots besides the system's, from the next
    /// connection on (empty: the system's only).
    pub fn set_extra_roots(&self, roots: Vec<CertificateDer<'static>>) {
        *self.extra_roots.lock().unwrap_or_else(|e| e.into_inner()) = roots;
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Trusts these DER certificates too, from the next connection on. All
    /// are checked before any is kept.
    pub fn add_roots(&self, ders: &[Vec<u8>]) -> Result<(), RootCertError> {
        let mut check = RootCertStore::empty();
        for (index, der) in ders.iter().enumerate() {
            check
                .add(CertificateDer::from(der.clone()))
                .map_err(|e| RootCertError {
                    index,
                    reason: e.to_string(),
                })?;
        }
        let mut extra = self.extra_roots.lock().unwrap_or_else(|e| e.into_inner());
        extra.extend(ders.iter().map(|d| CertificateDer::from(d.clone())));
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    fn config(&self) -> Result<Arc<ClientConfig>, String> {
        let label = self.label;
        let mut cached = self.config.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(config) = cached.as_ref() {
            return Ok(config.clone());
        }
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        let (system, unusable) = roots.add_parsable_certificates(native.certs);
        for e in native.errors.iter().take(3) {
            tracing::warn!("{label}: reading system root certificates: {e}");
        }
        let extra = self.extra_roots.lock().unwrap_or_else(|e| e.into_inner());
        let (added, refused) = roots.add_parsable_certificates(extra.iter().cloned());
        if refused > 0 {
            tracing::warn!(refused, "{label}: extra root certificates unusable");
        }
        tracing::debug!(system, unusable, extra = added, "{label}: TLS roots loaded");
        if roots.is_empty() {
            return Err(
                "no root certificates (the system store is empty and none was added)".to_owned(),
            );
        }
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let config = Arc::new(config);
        *cached = Some(config.clone());
        Ok(config)
    }

    /// Runs the TLS handshake over `conn` as a client, checking the peer's
    /// certificate against `host` (a name or an IP address). The caller
    /// bounds the wait.
    pub async fn connect(
        &self,
        host: &str,
        conn: Box<dyn Connection>,
    ) -> Result<TlsStream<Box<dyn Connection>>, String> {
        let config = self.config()?;
        let name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
        TlsConnector::from(config)
            .connect(name, conn)
            .await
            .map_err(|e| format!("TLS: {e}"))
    }
}
