//! Burrow's ZooKeeper uses, on the `zookeeper-client` crate:
//!
//! - [`leader`]: one notifier leader among several Burrow instances, with the standard ZooKeeper
//!   lock recipe under `<root-path>/notifier` (ephemeral sequential nodes, each contender watching
//!   its predecessor). A leader that loses its connection stops notifying at once.
//! - [`kafka_zk`]: the consumer module for old consumers that commit offsets to ZooKeeper
//!   (`/consumers/<group>/offsets/<topic>/<partition>`).
//!
//! ZooKeeper is needed only with notifiers (leader election) or a `kafka_zk` consumer; a single
//! instance with neither never connects to it.

use std::time::Duration;

use zookeeper_client as zk;

pub mod kafka_zk;
pub mod leader;

/// Errors of the ZooKeeper modules.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZkError {
    /// A setting is invalid; `key` names it.
    #[error("{key}: {message}")]
    Config {
        /// The key path (`zookeeper.root-path`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A ZooKeeper request failed.
    #[error("zookeeper {what}: {source}")]
    Request {
        /// What was being done.
        what: String,
        /// The client's error.
        #[source]
        source: zk::Error,
    },
}

impl ZkError {
    fn request(what: impl Into<String>) -> impl FnOnce(zk::Error) -> ZkError {
        let what = what.into();
        move |source| ZkError::Request { what, source }
    }
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct ZkSettings {
    /// Ensemble, `host:port` each.
    pub servers: Vec<String>,
    /// Session timeout.
    pub session_timeout: Duration,
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
    zk::Client::connector()
        .with_session_timeout(settings.session_timeout)
        .connect(&settings.servers.join(","))
        .await
        .map_err(ZkError::request(format!(
            "connecting to {}",
            settings.servers.join(",")
        )))
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
