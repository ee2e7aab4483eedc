//! The `[httpserver.<name>]` section of `burrow.toml`: a listener's address, timeout and TLS
//! profile, its checks, and its conversion into [`ServeOptions`].

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

use burrow_core::config::{check_host_port, Bounded, ConfigError, Seconds};

use crate::server::DEFAULT_MAX_CONNECTIONS;
use crate::ServeOptions;

/// `[httpserver.X]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ListenerSection {
    /// `host:port`; the host may be blank (all interfaces).
    pub address: String,
    /// Time allowed to read a request and to finish open connections at shutdown (default
    /// 300 s, at most a day).
    pub timeout: Seconds<1, 86_400>,
    /// `[tls.Y]` profile with certfile and keyfile; empty = plain HTTP.
    pub tls: String,
    /// burrow-rs: open connections served at once; more are answered 503 and closed, not
    /// queued (default 1024).
    pub max_connections: Bounded<1, 1_000_000>,
    /// burrow-rs: serve the web dashboard under `/ui/` (default on).
    pub dashboard: bool,
}

impl Default for ListenerSection {
    fn default() -> Self {
        ListenerSection {
            address: String::new(),
            timeout: Seconds::new(300),
            tls: String::new(),
            max_connections: Bounded::new(DEFAULT_MAX_CONNECTIONS as i64),
            dashboard: true,
        }
    }
}

impl ListenerSection {
    /// The section's own checks; `key` is `httpserver.<name>`.
    pub fn validate(&self, key: &str) -> Result<(), ConfigError> {
        if self.address.is_empty() {
            return Err(ConfigError::new(
                format!("{key}.address"),
                "required (host:port, the host may be blank)",
            ));
        }
        check_host_port(&format!("{key}.address"), &self.address, true)
    }

    /// The address to bind: a blank host is every interface, as in Go.
    pub fn bind_address(&self) -> String {
        if self.address.starts_with(':') {
            format!("0.0.0.0{}", self.address)
        } else {
            self.address.clone()
        }
    }

    /// The socket addresses the address resolves to (a host name may give several).
    pub fn socket_addrs(&self, key: &str) -> Result<Vec<SocketAddr>, ConfigError> {
        let addrs: Vec<SocketAddr> = self
            .bind_address()
            .to_socket_addrs()
            .map_err(|e| {
                ConfigError::new(
                    format!("{key}.address"),
                    format!("{:?} cannot be resolved: {e}", self.address),
                )
            })?
            .collect();
        if addrs.is_empty() {
            return Err(ConfigError::new(
                format!("{key}.address"),
                format!("{:?} resolves to no address", self.address),
            ));
        }
        Ok(addrs)
    }

    /// How the listener serves, with its TLS acceptor when it has one.
    pub fn options(&self, tls: Option<TlsAcceptor>) -> ServeOptions {
        ServeOptions {
            tls,
            timeout: self.timeout.get(),
            max_connections: self.max_connections.get() as usize,
            dashboard: self.dashboard,
        }
    }
}

/// Two listeners that would bind the same port on overlapping addresses (the same address, or one
/// of them on every interface): the second could never start.
pub fn overlapping(a: &[SocketAddr], b: &[SocketAddr]) -> bool {
    a.iter().any(|x| {
        b.iter().any(|y| {
            x.port() == y.port()
                && (x.ip() == y.ip() || x.ip().is_unspecified() || y.ip().is_unspecified())
        })
    })
}

/// A TLS acceptor from a PEM certificate chain and key (`tls.<name>.certfile` / `keyfile`),
/// the files read now so that a bad one is reported with its key before anything starts.
pub fn tls_acceptor(
    section: &str,
    certfile: &str,
    keyfile: &str,
) -> Result<TlsAcceptor, ConfigError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let cert_key = format!("{section}.certfile");
    if certfile.is_empty() || keyfile.is_empty() {
        return Err(ConfigError::new(
            cert_key,
            "an HTTPS listener needs certfile and keyfile",
        ));
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certfile)
        .and_then(|i| i.collect())
        .map_err(|e| ConfigError::new(&cert_key, format!("{certfile}: {e}")))?;
    if certs.is_empty() {
        return Err(ConfigError::new(
            &cert_key,
            format!("{certfile}: no PEM certificate found"),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(keyfile)
        .map_err(|e| ConfigError::new(format!("{section}.keyfile"), format!("{keyfile}: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::new(&cert_key, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ConfigError::new(&cert_key, e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(server)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_overlap_on_the_same_port() {
        let l = |a: &str| ListenerSection {
            address: a.into(),
            ..ListenerSection::default()
        };
        let addrs = |a: &str| l(a).socket_addrs("h").unwrap();
        assert!(overlapping(
            &addrs("127.0.0.1:8000"),
            &addrs("127.0.0.1:8000")
        ));
        assert!(overlapping(&addrs(":8000"), &addrs("127.0.0.1:8000")));
        assert!(!overlapping(
            &addrs("127.0.0.1:8000"),
            &addrs("127.0.0.2:8000")
        ));
        assert!(!overlapping(
            &addrs("127.0.0.1:8000"),
            &addrs("127.0.0.1:8001")
        ));
        assert_eq!(l("").validate("h").unwrap_err().key, "h.address");
        assert_eq!(l("nope").validate("h").unwrap_err().key, "h.address");
    }

    #[test]
    fn tls_files_are_read_and_named() {
        let e = tls_acceptor("tls.web", "/nonexistent.pem", "/nonexistent.key")
            .err()
            .unwrap();
        assert_eq!(e.key, "tls.web.certfile");
        assert!(e.message.contains("/nonexistent.pem"), "{e}");
        let e = tls_acceptor("tls.web", "", "k").err().unwrap();
        assert!(e.message.contains("needs certfile and keyfile"), "{e}");
    }
}
