//! The error type of the HTTP server.

/// Errors of the HTTP server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// Accepting connections failed.
    #[error("listener {addr}: {error}")]
    Io {
        /// Listen address.
        addr: String,
        /// The error (in the message, so not also a `source()`: a chain prints it once).
        error: std::io::Error,
    },
    /// A metric could not be registered or encoded.
    #[error("metrics: {0}")]
    Metrics(prometheus::Error),
}

impl From<prometheus::Error> for HttpError {
    fn from(e: prometheus::Error) -> Self {
        HttpError::Metrics(e)
    }
}
