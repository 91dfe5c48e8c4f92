//! TLS for the connections, through rustls (no OpenSSL to install). As
//! libpq does: `sslmode=prefer` (the default) and `require` encrypt without
//! checking the server's certificate; `verify-ca` and `verify-full` check it
//! (chain and host name, both) against the system's roots and the file
//! `sslrootcert` or `PGSSLROOTCERT` names. A client certificate (`sslcert`
//! and `sslkey`, `PGSSLCERT` and `PGSSLKEY`, else
//! `~/.postgresql/postgresql.crt` and `.key` when both are there) is shown
//! to a server that asks for one (`cert` authentication).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kehu_store::{Error, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// How much of the server a connection checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verify {
    /// Encrypted when the server offers it (`prefer`) or must (`require`);
    /// the certificate is not checked.
    Encrypt,
    /// The certificate is checked, with these extra roots (a PEM file).
    Full(Option<std::path::PathBuf>),
}

/// A connection's TLS: how much of the server it checks, and the
/// certificate it shows the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How much of the server it checks.
    pub verify: Verify,
    /// The client certificate (a PEM file) and its private key (PEM: PKCS#8,
    /// PKCS#1 or SEC1).
    pub client: Option<(PathBuf, PathBuf)>,
}

impl Settings {
    /// Encrypted, the server unchecked, no client certificate.
    pub fn encrypt() -> Self {
        Self {
            verify: Verify::Encrypt,
            client: None,
        }
    }
}

/// The connector for connections with these settings.
pub fn connector(settings: &Settings) -> Result<MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Backend(format!("TLS: {e}")))?;
    let builder = match &settings.verify {
        Verify::Encrypt => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unchecked(provider))),
        Verify::Full(extra) => builder.with_root_certificates(roots(extra.as_deref())?),
    };
    let config = match &settings.client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let (chain, key) = client_identity(cert, key)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| Error::Backend(format!("TLS: the client certificate: {e}")))?
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// A client certificate's chain and private key, read from PEM files.
fn client_identity(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| {
            Error::Backend(format!(
                "TLS: the client certificate in {}: {e}",
                cert.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(Error::Backend(format!(
            "TLS: no certificate in {} (sslcert)",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        Error::Backend(format!(
            "TLS: the client certificate's key in {}: {e}",
            key.display()
        ))
    })?;
    Ok((chain, key))
}

/// The system's roots, and the certificates of `extra`.
fn roots(extra: Option<&Path>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(file) = extra {
        let certs = CertificateDer::pem_file_iter(file)
            .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| {
                Error::Backend(format!(
                    "TLS: the root certificates in {}: {e}",
                    file.display()
                ))
            })?;
        roots.add_parsable_certificates(certs);
    }
    if roots.is_empty() {
        return Err(Error::Backend(
            "TLS: no root certificate to check the server with (give sslrootcert=FILE or PGSSLROOTCERT)"
                .into(),
        ));
    }
    Ok(roots)
}

/// Accepts any certificate (libpq's `prefer` and `require`); the handshake's
/// signatures are still verified.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
