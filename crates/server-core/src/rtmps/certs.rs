//! PEM files to rustls configs: the listener's certificate chain and key,
//! and the extra roots trusted for `rtmps://` upstreams.
//!
//! Parsing is `rustls-pki-types`' PEM reader (RFC 7468); a file is read
//! whole, at most [`MAX_PEM_BYTES`], before it is parsed.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

/// Largest certificate, key or CA file read: a chain of a few certificates
/// is a few KiB; a CA bundle (Mozilla's) is about 250 KiB.
pub const MAX_PEM_BYTES: u64 = 4 * 1024 * 1024;
/// Most certificates taken from one file.
pub const MAX_CERTS_PER_FILE: usize = 1024;

/// Why a certificate, key or CA file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsFileError {
    /// The file could not be read (or is larger than [`MAX_PEM_BYTES`]).
    #[error("{path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// No `CERTIFICATE` section, or one that does not decode.
    #[error("{path}: no PEM certificate in it ({reason})")]
    Certificate {
        /// The file.
        path: String,
        /// What the PEM reader said.
        reason: String,
    },
    /// No private key section (PKCS#8, PKCS#1 or SEC1), or one that does
    /// not decode.
    #[error("{path}: no PEM private key in it ({reason})")]
    Key {
        /// The file.
        path: String,
        /// What the PEM reader said.
        reason: String,
    },
    /// rustls refused the pair (a key that does not match the certificate,
    /// an unsupported algorithm...).
    #[error("certificate and key refused: {0}")]
    Refused(String),
}

/// The certificates in a PEM text, in order.
pub fn certificates(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsFileError> {
    let fail = |reason: String| TlsFileError::Certificate {
        path: path.display().to_string(),
        reason,
    };
    let mut out = Vec::new();
    for cert in CertificateDer::pem_slice_iter(pem) {
        if out.len() == MAX_CERTS_PER_FILE {
            return Err(fail(format!("more than {MAX_CERTS_PER_FILE}")));
        }
        out.push(cert.map_err(|e| fail(e.to_string()))?);
    }
    if out.is_empty() {
        return Err(fail("none found".to_owned()));
    }
    Ok(out)
}

/// The TLS server config for a certificate chain and its key (PEM texts;
/// the paths are for messages).
pub fn server_config(
    cert_path: &Path,
    cert_pem: &[u8],
    key_path: &Path,
    key_pem: &[u8],
) -> Result<Arc<ServerConfig>, TlsFileError> {
    let chain = certificates(cert_path, cert_pem)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsFileError::Key {
        path: key_path.display().to_string(),
        reason: e.to_string(),
    })?;
    let config = ServerConfig::builder_with_provider(crate::tls_client::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsFileError::Refused(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsFileError::Refused(e.to_string()))?;
    Ok(Arc::new(config))
}

/// Reads a PEM file with the standard library, at most [`MAX_PEM_BYTES`]:
/// for start-up, before the runtime serves anything (as the config file
/// itself is read). Reloads read through the runtime instead.
pub fn read_at_start(path: &Path) -> Result<Vec<u8>, TlsFileError> {
    use std::io::Read;
    let fail = |reason: String| TlsFileError::Read {
        path: path.display().to_string(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let mut data = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(|e| fail(e.to_string()))?;
    if data.len() as u64 > MAX_PEM_BYTES {
        return Err(fail(format!("larger than {MAX_PEM_BYTES} bytes")));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (String, String) {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        (cert.cert.pem(), cert.key_pair.serialize_pem())
    }

    #[test]
    fn builds_a_server_config_from_a_pair() {
        let (cert, key) = pair();
        let p = Path::new("x.pem");
        server_config(p, cert.as_bytes(), p, key.as_bytes()).unwrap();
    }

    #[test]
    fn names_what_is_wrong() {
        let (cert, key) = pair();
        let p = Path::new("x.pem");
        assert!(matches!(
            server_config(p, b"junk", p, key.as_bytes()),
            Err(TlsFileError::Certificate { .. })
        ));
        assert!(matches!(
            server_config(p, cert.as_bytes(), p, cert.as_bytes()),
            Err(TlsFileError::Key { .. })
        ));
        let (_, other_key) = pair();
        assert!(matches!(
            server_config(p, cert.as_bytes(), p, other_key.as_bytes()),
            Err(TlsFileError::Refused(_))
        ));
    }
}
