//! The error type of the evaluator.

/// What can go wrong configuring the evaluator. Evaluation itself never fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A configuration value is invalid; `key` is its full path (e.g. `evaluator.default.allowed-lag`).
    #[error("{key}: {message}")]
    Config {
        /// Full key path.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}
