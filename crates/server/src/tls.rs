//! The HTTP listener's TLS identity: a certificate chain and its private key read from PEM
//! files at start, served with rustls (TLS 1.2 and 1.3, HTTP/1.1 by ALPN).

use crate::listen::TlsFiles;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;

/// The acceptor for `files`. The error names the file (or the pair) and the reason, in one
/// line: unreadable, not PEM, no certificate or key in it, or a key that is not the
/// certificate's.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, String> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| reason(&files.cert, "certificate", e))?;
    if certs.is_empty() {
        return Err(format!(
            "TLS certificate {}: holds no PEM certificate",
            files.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| reason(&files.key, "private key", e))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "TLS certificate {} and key {}: {e}",
                files.cert.display(),
                files.key.display()
            )
        })?;
    // HTTP/1.1 only: its header-read timeout is what bounds a slow or idle client.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn reason(path: &Path, what: &str, error: rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error;
    let why = match error {
        Error::Io(e) => e.to_string(),
        Error::NoItemsFound => format!("holds no PEM {what}"),
        other => format!("not a valid PEM {what}: {other}"),
    };
    format!("TLS {what} {}: {why}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn files(cert: &Path, key: &Path) -> TlsFiles {
        TlsFiles {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
        }
    }

    #[test]
    fn bad_files_are_named_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let missing = PathBuf::from("/nowhere/cert.pem");
        let error = acceptor(&files(&missing, &missing)).err().unwrap();
        assert!(
            error.starts_with("TLS certificate /nowhere/cert.pem: No such file"),
            "{error}"
        );
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not pem at all\n").unwrap();
        let error = acceptor(&files(&junk, &junk)).err().unwrap();
        assert_eq!(
            error,
            format!(
                "TLS certificate {}: holds no PEM certificate",
                junk.display()
            )
        );
    }
}
