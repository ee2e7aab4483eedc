//! The error type of the ZooKeeper modules.

use zookeeper_client as zk;

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
    #[error("zookeeper {what}: {error}")]
    Request {
        /// What was being done.
        what: String,
        /// The client's error (in the message, so not also a `source()`).
        error: zk::Error,
    },
}

impl ZkError {
    pub(crate) fn request(what: impl Into<String>) -> impl FnOnce(zk::Error) -> ZkError {
        let what = what.into();
        move |error| ZkError::Request { what, error }
    }
}

impl From<burrow_core::config::ConfigError> for ZkError {
    fn from(e: burrow_core::config::ConfigError) -> Self {
        ZkError::Config {
            key: e.key,
            message: e.message,
        }
    }
}
