//! The `[evaluator.<name>]` section of `burrow.toml`.

use serde::{Deserialize, Serialize};

use crate::EvalError;

/// Settings of the `caching` evaluator, with Burrow's keys and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct EvaluatorConfig {
    /// Module class; only `caching` exists.
    pub class_name: String,
    /// Seconds a group's evaluation (or a not-found) is reused.
    pub expire_cache: i64,
    /// Partitions whose window is less complete than this are reported OK without running the
    /// rules.
    pub minimum_complete: f32,
    /// Lags at or below this count as zero (e.g. 1 for transactional control records).
    pub allowed_lag: u64,
}

impl Default for EvaluatorConfig {
    fn default() -> Self {
        EvaluatorConfig {
            class_name: "caching".to_owned(),
            expire_cache: 10,
            minimum_complete: 0.0,
            allowed_lag: 0,
        }
    }
}

impl EvaluatorConfig {
    /// Checks every value; `key_prefix` names the section in errors (e.g. `evaluator.default`).
    pub fn validate(&self, key_prefix: &str) -> Result<(), EvalError> {
        let err = |key: &str, message: String| EvalError::Config {
            key: format!("{key_prefix}.{key}"),
            message,
        };
        if self.class_name != "caching" {
            return Err(err(
                "class-name",
                format!(
                    "unknown evaluator class {:?} (expected \"caching\")",
                    self.class_name
                ),
            ));
        }
        let max = burrow_core::config::MAX_SECONDS as i64;
        if !(0..=max).contains(&self.expire_cache) {
            return Err(err(
                "expire-cache",
                format!(
                    "must be between 0 and {max} seconds (ten years), got {}",
                    self.expire_cache
                ),
            ));
        }
        if !(0.0..=1.0).contains(&self.minimum_complete) {
            return Err(err(
                "minimum-complete",
                format!("must be between 0 and 1, got {}", self.minimum_complete),
            ));
        }
        Ok(())
    }
}
