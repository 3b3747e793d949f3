//! The TLS client side of `rtmps://` upstreams (forward destinations and
//! edge origins): the server's certificate is checked against the system's
//! roots (`rustls-native-certs`, which honours `SSL_CERT_FILE` and
//! `SSL_CERT_DIR`) plus the roots of `rtmps { upstream_ca FILE; }`.
//!
//! The system store is read on the first `rtmps://` connection, not at
//! start: a server with no such upstream never touches it.

use std::sync::{Arc, Mutex};

use futures_rustls::TlsConnector;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use super::stream::TlsConnection;
use crate::runtime::Connection;

/// The client config, built on first use and rebuilt when the extra roots
/// change (start, reload).
#[derive(Default)]
pub struct UpstreamTls {
    extra_roots: Mutex<Vec<CertificateDer<'static>>>,
    config: Mutex<Option<Arc<ClientConfig>>>,
}

impl std::fmt::Debug for UpstreamTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let extra = self.extra_roots.lock().map(|r| r.len()).unwrap_or(0);
        f.debug_struct("UpstreamTls")
            .field("extra_roots", &extra)
            .finish_non_exhaustive()
    }
}

impl UpstreamTls {
    /// Trusts exactly these roots besides the system's, from the next
    /// connection on (`upstream_ca`; empty: the system's only).
    pub fn set_extra_roots(&self, roots: Vec<CertificateDer<'static>>) {
        *self.extra_roots.lock().unwrap_or_else(|e| e.into_inner()) = roots;
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn config(&self) -> Result<Arc<ClientConfig>, String> {
        let mut cached = self.config.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(config) = cached.as_ref() {
            return Ok(config.clone());
        }
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        let (system, _unusable) = roots.add_parsable_certificates(native.certs);
        for e in native.errors.iter().take(3) {
            tracing::warn!("rtmps: reading system root certificates: {e}");
        }
        let extra = self.extra_roots.lock().unwrap_or_else(|e| e.into_inner());
        let (added, refused) = roots.add_parsable_certificates(extra.iter().cloned());
        if refused > 0 {
            tracing::warn!(refused, "rtmps: upstream_ca certificates unusable as roots");
        }
        tracing::debug!(system, upstream_ca = added, "rtmps: client roots loaded");
        if roots.is_empty() {
            return Err(
                "no root certificates (the system store is empty and no upstream_ca)".to_owned(),
            );
        }
        let config = ClientConfig::builder_with_provider(super::certs::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let config = Arc::new(config);
        *cached = Some(config.clone());
        Ok(config)
    }

    /// Runs the TLS handshake over `conn` as a client, checking the
    /// server's certificate against `host` (a name or an IP address). The
    /// caller bounds the wait.
    pub async fn connect(
        &self,
        host: &str,
        conn: Box<dyn Connection>,
    ) -> Result<Box<dyn Connection>, String> {
        let config = self.config()?;
        let name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
        let stream = TlsConnector::from(config)
            .connect(name, conn)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        Ok(Box::new(TlsConnection::new(stream)))
    }
}
