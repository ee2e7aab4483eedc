//! The error type of the notifiers.

fn line_suffix(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" line {line}")
    }
}

/// Why a notifier could not be set up or could not deliver.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// A setting is missing or invalid; `key` is its path (e.g. `notifier.ops.url-open`).
    #[error("{key}: {message}")]
    Config {
        /// The key path.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A template does not parse or does not render with sample data.
    #[error("template {file}{}: {message}", line_suffix(*.line))]
    Template {
        /// The template file (or key, for URL templates).
        file: String,
        /// The line of the error (0 when unknown).
        line: usize,
        /// The engine's message.
        message: String,
    },
    /// Rendering failed at send time.
    #[error("rendering {template}: {message}")]
    Render {
        /// Which template.
        template: String,
        /// The engine's message.
        message: String,
    },
    /// The receiver failed or could not be reached; worth retrying.
    #[error("delivery failed: {0}")]
    Delivery(String),
    /// A failure a retry cannot fix (e.g. a rejected address); not retried.
    #[error("delivery failed permanently: {0}")]
    Permanent(String),
}

impl From<burrow_storage::StorageError> for NotifyError {
    fn from(e: burrow_storage::StorageError) -> Self {
        match e {
            burrow_storage::StorageError::Config { key, message } => {
                NotifyError::Config { key, message }
            }
            other => NotifyError::Config {
                key: String::new(),
                message: other.to_string(),
            },
        }
    }
}

impl From<burrow_core::config::ConfigError> for NotifyError {
    fn from(e: burrow_core::config::ConfigError) -> Self {
        NotifyError::Config {
            key: e.key,
            message: e.message,
        }
    }
}
