//! The `[httpserver.<name>]` section of `burrow.toml`: a listener's address, timeout and TLS
//! profile, its checks, and its conversion into [`ServeOptions`].

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

use burrow_core::config::{check_host_port, Bounded, ConfigError, Seconds};

use std::collections::BTreeMap;

use crate::auth::{Auth, AuthScope, AuthSettings, CredentialFiles};
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
    /// burrow-rs: the routes that need credentials: `none` (default, as Burrow), `mutating`
    /// (DELETE and POST), `all` (every route but `/burrow/admin` and its `/ready`).
    pub auth: AuthScope,
    /// burrow-rs: HTTP Basic users and their password hashes (argon2 or bcrypt).
    pub basic_auth_users: BTreeMap<String, String>,
    /// burrow-rs: a file of `user:hash` lines (`#` comments), read at start and again when
    /// it changes.
    pub basic_auth_file: String,
    /// burrow-rs: a file of bearer tokens, one per line, each `TOKEN` or `NAME TOKEN` (`#`
    /// comments), read at start and again when it changes.
    pub bearer_tokens_file: String,
    /// burrow-rs: a PEM CA file: clients may present certificates it issued (needs `tls`).
    pub client_cafile: String,
    /// burrow-rs: the client certificate subjects let in (RFC 4514, `CN=ops,O=Example`); empty
    /// lets in every certificate `client-cafile` verifies.
    pub client_subjects: Vec<String>,
    /// burrow-rs: who may change state (DELETE, POST): `user:NAME`, `token:NAME`,
    /// `subject:DN`; empty lets everyone `auth` lets in.
    pub admins: Vec<String>,
}

impl Default for ListenerSection {
    fn default() -> Self {
        ListenerSection {
            address: String::new(),
            timeout: Seconds::new(300),
            tls: String::new(),
            max_connections: Bounded::new(DEFAULT_MAX_CONNECTIONS as i64),
            dashboard: true,
            auth: AuthScope::None,
            basic_auth_users: BTreeMap::new(),
            basic_auth_file: String::new(),
            bearer_tokens_file: String::new(),
            client_cafile: String::new(),
            client_subjects: Vec::new(),
            admins: Vec::new(),
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

    /// How the listener serves, with its TLS acceptor when it has one and its credentials
    /// (files read now). `key` is `httpserver.<name>`.
    pub fn options(
        &self,
        key: &str,
        tls: Option<TlsAcceptor>,
    ) -> Result<ServeOptions, ConfigError> {
        if !self.client_cafile.is_empty() && tls.is_none() {
            return Err(ConfigError::new(
                format!("{key}.client-cafile"),
                "client certificates need TLS on this listener (tls = \"<profile>\")",
            ));
        }
        let mut auth = Auth::new(key, self.auth_settings(key)?)?;
        let files: Vec<PathBuf> = [&self.basic_auth_file, &self.bearer_tokens_file]
            .into_iter()
            .filter(|f| !f.is_empty())
            .map(PathBuf::from)
            .collect();
        if !files.is_empty() && auth.scope() != AuthScope::None {
            let (section, key) = (self.clone(), key.to_string());
            auth = auth.with_files(CredentialFiles::new(files, move || {
                section.auth_settings(&key)
            }));
        }
        Ok(ServeOptions {
            tls,
            timeout: self.timeout.get(),
            max_connections: self.max_connections.get() as usize,
            dashboard: self.dashboard,
            auth: (auth.scope() != AuthScope::None).then(|| Arc::new(auth)),
            ..ServeOptions::default()
        })
    }

    /// The credentials of the section and of the files it names.
    fn auth_settings(&self, key: &str) -> Result<AuthSettings, ConfigError> {
        let mut users: Vec<(String, String, String)> = self
            .basic_auth_users
            .iter()
            .map(|(u, h)| (format!("{key}.basic-auth-users.{u}"), u.clone(), h.clone()))
            .collect();
        let file_key = format!("{key}.basic-auth-file");
        for (line, text) in read_lines(&file_key, &self.basic_auth_file)? {
            let Some((user, hash)) = text.split_once(':') else {
                return Err(ConfigError::new(
                    &file_key,
                    format!("{}:{line}: not a user:hash line", self.basic_auth_file),
                ));
            };
            let from = format!("{file_key} ({}:{line})", self.basic_auth_file);
            users.push((from, user.trim().to_string(), hash.trim().to_string()));
        }
        let tokens_key = format!("{key}.bearer-tokens-file");
        let mut tokens = Vec::new();
        for (line, text) in read_lines(&tokens_key, &self.bearer_tokens_file)? {
            let from = format!("{tokens_key} ({}:{line})", self.bearer_tokens_file);
            let fields: Vec<&str> = text.split_whitespace().collect();
            let (name, token) = match fields[..] {
                [token] => (None, token),
                [name, token] => (Some(name.to_string()), token),
                _ => {
                    return Err(ConfigError::new(
                        &tokens_key,
                        format!(
                            "{}:{line}: not a TOKEN or NAME TOKEN line",
                            self.bearer_tokens_file
                        ),
                    ))
                }
            };
            tokens.push((from, name, token.to_string()));
        }
        Ok(AuthSettings {
            scope: self.auth,
            users,
            tokens,
            subjects: (!self.client_cafile.is_empty()).then(|| self.client_subjects.clone()),
            admins: self.admins.clone(),
        })
    }
}

/// The non-blank, non-comment lines of `path` (none when `path` is empty), numbered from 1.
/// Errors name `key` and never quote a line (it may hold a secret).
fn read_lines(key: &str, path: &str) -> Result<Vec<(usize, String)>, ConfigError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| ConfigError::new(key, format!("{path}: {e}")))?;
    Ok(text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim().to_string()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect())
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
    tls_acceptor_with_clients(section, certfile, keyfile, None)
}

/// [`tls_acceptor`] that also asks clients for a certificate issued by the CA of
/// `client_ca` (`(key, PEM file)`), and verifies the ones presented; clients without one are
/// still served (the listener's `auth` decides).
pub fn tls_acceptor_with_clients(
    section: &str,
    certfile: &str,
    keyfile: &str,
    client_ca: Option<(&str, &str)>,
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
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::new(&cert_key, e.to_string()))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some((ca_key, ca_file)) => {
            let mut roots = rustls::RootCertStore::empty();
            let cas: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca_file)
                .and_then(|i| i.collect())
                .map_err(|e| ConfigError::new(ca_key, format!("{ca_file}: {e}")))?;
            for ca in cas {
                roots
                    .add(ca)
                    .map_err(|e| ConfigError::new(ca_key, format!("{ca_file}: {e}")))?;
            }
            if roots.is_empty() {
                return Err(ConfigError::new(
                    ca_key,
                    format!("{ca_file}: no PEM certificate found"),
                ));
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .allow_unauthenticated()
            .build()
            .map_err(|e| ConfigError::new(ca_key, e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let server = builder
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
