//! The error type of ingestion.

/// Errors setting up ingestion.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// A metric could not be registered (a name registered twice).
    #[error("metrics: {0}")]
    Metrics(prometheus::Error),
    /// A `[cluster.*]` or `[consumer.*]` value that cannot be used.
    #[error(transparent)]
    Config(#[from] burrow_core::config::ConfigError),
}

impl From<prometheus::Error> for IngestError {
    fn from(e: prometheus::Error) -> Self {
        IngestError::Metrics(e)
    }
}
