//! TLS to brokers on rustls, from Burrow's `[tls.X]` keys.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::config::TlsProfile;
use crate::error::{KafkaError, Result};

/// Builds a connector once per client: reads the CA file and client certificate, so that a bad
/// file is reported when the client is built, naming the key.
pub fn connector(name: &str, profile: &TlsProfile) -> Result<TlsConnector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| KafkaError::Tls(e.to_string()))?;
    let builder = if profile.noverify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
    } else {
        let mut roots = RootCertStore::empty();
        if profile.cafile.is_empty() {
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                let _ = roots.add(cert);
            }
        } else {
            let certs = read_certs(&format!("tls.{name}.cafile"), &profile.cafile)?;
            for cert in certs {
                roots.add(cert).map_err(|e| KafkaError::Config {
                    key: format!("tls.{name}.cafile"),
                    message: format!("{}: {e}", profile.cafile),
                })?;
            }
        }
        builder.with_root_certificates(roots)
    };
    let config = if profile.certfile.is_empty() {
        builder.with_no_client_auth()
    } else {
        let certs = read_certs(&format!("tls.{name}.certfile"), &profile.certfile)?;
        let key =
            PrivateKeyDer::from_pem_file(&profile.keyfile).map_err(|e| KafkaError::Config {
                key: format!("tls.{name}.keyfile"),
                message: format!("{}: {e}", profile.keyfile),
            })?;
        builder
            .with_client_auth_cert(certs, key)
            .map_err(|e| KafkaError::Config {
                key: format!("tls.{name}.certfile"),
                message: e.to_string(),
            })?
    };
    Ok(TlsConnector::from(Arc::new(config)))
}

fn read_certs(key: &str, path: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| KafkaError::Config {
            key: key.to_string(),
            message: format!("{path}: {e}"),
        })?;
    if certs.is_empty() {
        return Err(KafkaError::Config {
            key: key.to_string(),
            message: format!("{path}: no PEM certificate found"),
        });
    }
    Ok(certs)
}

pub(crate) async fn connect(
    connector: &TlsConnector,
    tcp: TcpStream,
    host: &str,
) -> Result<TlsStream<TcpStream>> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| KafkaError::Tls(format!("bad server name {host:?}: {e}")))?;
    connector
        .connect(name, tcp)
        .await
        .map_err(|e| KafkaError::Tls(format!("handshake with {host}: {e}")))
}

/// `noverify = true`: accept any certificate and name (signatures are still checked, so the
/// handshake itself is sound; only the peer's identity is not).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
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
