//! TLS for `https://` hooks: rustls (ring provider), server certificates
//! checked against the system's roots (`rustls-native-certs`, which also
//! honours `SSL_CERT_FILE` / `SSL_CERT_DIR`) plus any root added with
//! [`Hooks::add_root_certificates`](super::Hooks::add_root_certificates).
//!
//! The roots are read on the first `https` call, not at startup: a server
//! whose hooks are plain `http` (or that has none) never touches the store.

use std::sync::{Arc, Mutex};

use futures_rustls::client::TlsStream;
use futures_rustls::TlsConnector;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use crate::runtime::Connection;

/// The client config, built once and rebuilt when a root is added.
#[derive(Default)]
pub(crate) struct TlsClient {
    extra_roots: Mutex<Vec<CertificateDer<'static>>>,
    config: Mutex<Option<Arc<ClientConfig>>>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let extra = self.extra_roots.lock().map(|r| r.len()).unwrap_or(0);
        f.debug_struct("TlsClient")
            .field("extra_roots", &extra)
            .finish_non_exhaustive()
    }
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

impl TlsClient {
    /// Trusts these DER certificates too, from the next connection on.
    pub(crate) fn add_roots(&self, ders: &[Vec<u8>]) -> Result<(), RootCertError> {
        // Check them all before keeping any.
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
        let mut cached = self.config.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(config) = cached.as_ref() {
            return Ok(config.clone());
        }
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        for e in native.errors.iter().take(3) {
            tracing::warn!("hooks: reading system root certificates: {e}");
        }
        let extra = self.extra_roots.lock().unwrap_or_else(|e| e.into_inner());
        for cert in extra.iter() {
            // Checked in add_roots.
            let _ = roots.add(cert.clone());
        }
        tracing::debug!(
            system = added,
            unusable = ignored,
            extra = extra.len(),
            "hooks: TLS roots loaded"
        );
        if roots.is_empty() {
            return Err("no root certificates (the system store is empty)".to_owned());
        }
        // ring builds with a C compiler alone (aws-lc-rs wants more of the
        // box). rustls 0.23.48 deprecated it for lacking post-quantum key
        // exchange, which a callback to the operator's own server can do
        // without; aws-lc-rs is the switch if that changes.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let config = Arc::new(config);
        *cached = Some(config.clone());
        Ok(config)
    }

    /// Runs the TLS handshake over `conn`, checking the certificate against `host`.
    pub(crate) async fn connect(
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
