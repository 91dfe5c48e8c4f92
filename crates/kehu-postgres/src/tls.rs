//! TLS for the connections, through rustls (no OpenSSL to install). As
//! libpq does: `sslmode=prefer` (the default) and `require` encrypt without
//! checking the server's certificate; `verify-ca` and `verify-full` check it
//! (chain and host name, both) against the system's roots and the file
//! `sslrootcert` or `PGSSLROOTCERT` names.

use std::path::Path;
use std::sync::Arc;

use kehu_store::{Error, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
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

/// The connector for connections that check the server as `verify` says.
pub fn connector(verify: &Verify) -> Result<MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Backend(format!("TLS: {e}")))?;
    let config = match verify {
        Verify::Encrypt => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
            .with_no_client_auth(),
        Verify::Full(extra) => builder
            .with_root_certificates(roots(extra.as_deref())?)
            .with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
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
