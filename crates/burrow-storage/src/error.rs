//! Errors of the storage crate.

/// What can go wrong configuring storage or restoring a snapshot. Writes never fail: a write storage
/// cannot take is dropped with a [`crate::DropReason`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// A configuration value is invalid; `key` is its full path (e.g. `storage.default.intervals`).
    #[error("{key}: {message}")]
    Config {
        /// Full key path.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The snapshot's `format` is not one this build reads.
    #[error("snapshot format {0} is not supported (this build reads format {current})", current = crate::SNAPSHOT_FORMAT)]
    UnsupportedSnapshotFormat(u32),
    /// The snapshot is well-formed JSON but does not describe a valid state.
    #[error("snapshot {location}: {message}")]
    InvalidSnapshot {
        /// Where in the snapshot (e.g. `clusters.local.groups.g.topics.t[3].offsets[2]`).
        location: String,
        /// What is wrong there.
        message: String,
    },
}

impl From<burrow_core::config::ConfigError> for StorageError {
    fn from(e: burrow_core::config::ConfigError) -> Self {
        StorageError::Config {
            key: e.key,
            message: e.message,
        }
    }
}
