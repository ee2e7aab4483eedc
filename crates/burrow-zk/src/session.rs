//! ZooKeeper sessions: where and how to connect ([`ZkSettings`], TLS with [`ZkTls`]), paths.

use std::time::Duration;

use zookeeper_client as zk;

use crate::ZkError;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct ZkSettings {
    /// Ensemble, `host:port` each.
    pub servers: Vec<String>,
    /// Session timeout.
    pub session_timeout: Duration,
    /// TLS to every server of the ensemble, or plain TCP.
    pub tls: Option<ZkTls>,
}

/// TLS to ZooKeeper (its `secureClientPort`): the servers' certificates must chain to the given
/// CA and name the host dialled; a client certificate is presented when given (ZooKeeper asks
/// for one unless `ssl.clientAuth=none`). Built from Burrow's `[tls.X]` profile keys.
#[derive(Clone)]
pub struct ZkTls {
    ca_pem: String,
    identity: Option<(String, String)>,
}

impl std::fmt::Debug for ZkTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZkTls")
            .field("client_certificate", &self.identity.is_some())
            .finish_non_exhaustive()
    }
}

impl ZkTls {
    /// Reads a `[tls.X]` profile for ZooKeeper; `profile` (`tls.X`) prefixes the keys named in
    /// errors. `cafile` is required (as in Burrow); `certfile` and `keyfile` go together.
    /// `noverify` is refused: the client always verifies the servers' certificates.
    pub fn from_files(
        profile: &str,
        cafile: &str,
        certfile: &str,
        keyfile: &str,
        noverify: bool,
    ) -> Result<Self, ZkError> {
        let bad = |key: &str, message: String| ZkError::Config {
            key: format!("{profile}.{key}"),
            message,
        };
        if noverify {
            return Err(bad(
                "noverify",
                "not supported for ZooKeeper: the servers' certificates are always verified; \
                 put the CA that signed them (or a self-signed certificate itself) in cafile"
                    .into(),
            ));
        }
        if cafile.is_empty() {
            return Err(bad(
                "cafile",
                "required for TLS to ZooKeeper (the CA of the servers' certificates)".into(),
            ));
        }
        if certfile.is_empty() != keyfile.is_empty() {
            let missing = if certfile.is_empty() {
                "certfile"
            } else {
                "keyfile"
            };
            return Err(bad(missing, "certfile and keyfile go together".into()));
        }
        let read = |key: &str, path: &str| {
            std::fs::read_to_string(path).map_err(|e| bad(key, format!("{path}: {e}")))
        };
        let ca_pem = read("cafile", cafile)?;
        zk::TlsCa::from_pem(&ca_pem).map_err(|e| bad("cafile", format!("{cafile}: {e}")))?;
        let identity = if certfile.is_empty() {
            None
        } else {
            let (cert, key) = (read("certfile", certfile)?, read("keyfile", keyfile)?);
            zk::TlsIdentity::from_pem(&cert, &key)
                .map_err(|e| bad("certfile", format!("{certfile} with {keyfile}: {e}")))?;
            Some((cert, key))
        };
        Ok(ZkTls { ca_pem, identity })
    }

    fn options(&self) -> Result<zk::TlsOptions, zk::Error> {
        let options = zk::TlsOptions::new().with_pem_ca(&self.ca_pem)?;
        match &self.identity {
            Some((cert, key)) => options.with_pem_identity(cert, key),
            None => Ok(options),
        }
    }
}

/// Checks that `path` is an absolute ZooKeeper path without empty, `.` or `..` segments nor a
/// trailing slash (`/` itself is valid).
pub fn validate_path(key: &str, path: &str) -> Result<(), ZkError> {
    let bad = |message: &str| ZkError::Config {
        key: key.to_string(),
        message: format!("{path:?}: {message}"),
    };
    if !path.starts_with('/') {
        return Err(bad("must start with /"));
    }
    if path == "/" {
        return Ok(());
    }
    if path.ends_with('/') {
        return Err(bad("must not end with /"));
    }
    for segment in path[1..].split('/') {
        match segment {
            "" => return Err(bad("has an empty segment")),
            "." | ".." => return Err(bad("has a relative segment")),
            s if s.chars().any(|c| c == '\0' || c.is_control()) => {
                return Err(bad("has a control character"))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Connects a session (one attempt).
pub async fn connect(settings: &ZkSettings) -> Result<zk::Client, ZkError> {
    let servers = settings.servers.join(",");
    // A failed handshake shows only as a timeout: the client tries again until then.
    let what = || match settings.tls {
        None => format!("connecting to {servers}"),
        Some(_) => format!(
            "connecting with TLS to {servers} (a TLS port, secureClientPort? the servers' CA in \
             cafile? a client certificate the servers accept?)"
        ),
    };
    let connector = zk::Client::connector().with_session_timeout(settings.session_timeout);
    match &settings.tls {
        None => connector.connect(&servers).await,
        Some(tls) => {
            // The ZooKeeper client builds its TLS configuration with the process's default
            // crypto provider; the rest of Burrow names ring explicitly. Installing ring fails
            // harmlessly when a provider is already installed.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let options = tls.options().map_err(ZkError::request(what()))?;
            // Every server without a scheme is dialled with TLS.
            connector.with_tls(options).secure_connect(&servers).await
        }
    }
    .map_err(ZkError::request(what()))
}

/// Creates `path` and every missing parent (decision 16: Burrow stopped at the first prefix that
/// existed).
pub async fn ensure_path(client: &zk::Client, path: &str) -> Result<(), ZkError> {
    let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    let mut prefix = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        prefix.push('/');
        prefix.push_str(segment);
        match client.create(&prefix, &[], &options).await {
            Ok(_) | Err(zk::Error::NodeExists) => {}
            Err(e) => return Err(ZkError::request(format!("creating {prefix}"))(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_profile_errors_name_the_key() {
        let pki = burrow_testkit::TestPki::new("zk-tls-unit", &["127.0.0.1"]);
        let f = |name: &str| pki.path(name).display().to_string();
        let (ca, cert, key) = (f("ca.pem"), f("cert.pem"), f("key.pem"));
        std::fs::write(pki.path("junk.pem"), "not a certificate").unwrap();
        let err = |cafile: &str, certfile: &str, keyfile: &str, noverify: bool| {
            ZkTls::from_files("tls.zk", cafile, certfile, keyfile, noverify)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(ZkTls::from_files("tls.zk", &ca, &cert, &key, false).is_ok());
        assert!(ZkTls::from_files("tls.zk", &ca, "", "", false).is_ok());
        assert!(err(&ca, &cert, &key, true).starts_with("tls.zk.noverify: "));
        assert!(err("", "", "", false).starts_with("tls.zk.cafile: required"));
        assert!(err(&ca, &cert, "", false).starts_with("tls.zk.keyfile: "));
        assert!(err(&ca, "", &key, false).starts_with("tls.zk.certfile: "));
        assert!(err(&f("missing.pem"), "", "", false).starts_with("tls.zk.cafile: "));
        assert!(err(&f("junk.pem"), "", "", false).starts_with("tls.zk.cafile: "));
        assert!(err(&ca, &cert, &f("junk.pem"), false).starts_with("tls.zk.certfile: "));
        // The key stays out of debug output.
        let tls = ZkTls::from_files("tls.zk", &ca, &cert, &key, false).unwrap();
        assert!(!format!("{tls:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn paths() {
        for ok in ["/", "/burrow", "/a/b-c/d_e"] {
            assert!(validate_path("k", ok).is_ok(), "{ok}");
        }
        for bad in ["", "burrow", "/a/", "/a//b", "/a/./b", "/a/../b"] {
            let e = validate_path("zookeeper.root-path", bad)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.starts_with("zookeeper.root-path: "), "{bad}: {e}");
        }
    }
}
