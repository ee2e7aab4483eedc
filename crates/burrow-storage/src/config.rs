//! The `[storage.<name>]` section of `burrow.toml`.

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::StorageError;

/// Settings of the `inmemory` storage module, with Burrow's keys and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Module class; only `inmemory` exists.
    pub class_name: String,
    /// Commits (and broker offsets) kept per partition.
    pub intervals: usize,
    /// Seconds without a commit after which a group is purged; older commits are dropped.
    pub expire_group: i64,
    /// Seconds: a commit closer than this to the previous stored one overwrites it.
    pub min_distance: i64,
    /// Burrow's worker count. Accepted for compatibility; this storage needs no workers.
    pub workers: usize,
    /// Burrow's channel depth. Accepted for compatibility; this storage has no queue.
    pub queue_depth: usize,
    /// Only groups matching this regex (unanchored) are stored; empty = all.
    pub group_allowlist: String,
    /// Groups matching this regex (unanchored) are not stored; empty = none.
    pub group_denylist: String,
    /// Burrow's old name for `group-allowlist`; rejected with a clear error, as Burrow does.
    #[serde(skip_serializing)]
    pub group_whitelist: Option<String>,
    /// Burrow's old name for `group-denylist`; rejected with a clear error, as Burrow does.
    #[serde(skip_serializing)]
    pub group_blacklist: Option<String>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            class_name: "inmemory".to_owned(),
            intervals: 10,
            expire_group: 604_800,
            min_distance: 0,
            workers: 20,
            queue_depth: 1,
            group_allowlist: String::new(),
            group_denylist: String::new(),
            group_whitelist: None,
            group_blacklist: None,
        }
    }
}

/// The group filter of storage (or of any module): allowlist and denylist regexes.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    allow: Option<Regex>,
    deny: Option<Regex>,
}

impl GroupFilter {
    /// Compiles the two lists; `key_prefix` names the section in errors (e.g. `storage.default`).
    pub fn new(allowlist: &str, denylist: &str, key_prefix: &str) -> Result<Self, StorageError> {
        let compile = |pattern: &str, key: &str| -> Result<Option<Regex>, StorageError> {
            if pattern.is_empty() {
                return Ok(None);
            }
            Regex::new(pattern)
                .map(Some)
                .map_err(|e| StorageError::Config {
                    key: format!("{key_prefix}.{key}"),
                    message: e.to_string(),
                })
        };
        Ok(GroupFilter {
            allow: compile(allowlist, "group-allowlist")?,
            deny: compile(denylist, "group-denylist")?,
        })
    }

    /// True when the group passes: it matches the allowlist (when set) and not the denylist (when
    /// set). Matching is a search, not a full match, like Go's `MatchString`.
    pub fn accepts(&self, group: &str) -> bool {
        self.allow.as_ref().is_none_or(|re| re.is_match(group))
            && !self.deny.as_ref().is_some_and(|re| re.is_match(group))
    }
}

impl StorageConfig {
    /// Checks every value; `key_prefix` names the section in errors (e.g. `storage.default`).
    pub fn validate(&self, key_prefix: &str) -> Result<GroupFilter, StorageError> {
        let err = |key: &str, message: String| StorageError::Config {
            key: format!("{key_prefix}.{key}"),
            message,
        };
        if self.class_name != "inmemory" {
            return Err(err(
                "class-name",
                format!(
                    "unknown storage class {:?} (expected \"inmemory\")",
                    self.class_name
                ),
            ));
        }
        burrow_core::config::refuse_renamed_lists(
            key_prefix,
            &self.group_whitelist,
            &self.group_blacklist,
        )?;
        if self.intervals == 0 || self.intervals > u16::MAX as usize {
            return Err(err(
                "intervals",
                format!("must be between 1 and 65535, got {}", self.intervals),
            ));
        }
        // Seconds, multiplied into milliseconds: ten years at most keeps every product far
        // from overflowing.
        let max = burrow_core::config::MAX_SECONDS as i64;
        for (key, value, min) in [
            ("expire-group", self.expire_group, 1),
            ("min-distance", self.min_distance, 0),
        ] {
            if !(min..=max).contains(&value) {
                return Err(err(
                    key,
                    format!("must be between {min} and {max} seconds (ten years), got {value}"),
                ));
            }
        }
        for (key, value, max) in [
            ("workers", self.workers, 1024),
            ("queue-depth", self.queue_depth, 1_000_000),
        ] {
            if !(1..=max).contains(&value) {
                return Err(err(
                    key,
                    format!("must be between 1 and {max}, got {value}"),
                ));
            }
        }
        GroupFilter::new(&self.group_allowlist, &self.group_denylist, key_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_burrows() {
        let c = StorageConfig::default();
        assert_eq!(
            (c.intervals, c.expire_group, c.min_distance, c.workers),
            (10, 604_800, 0, 20)
        );
        assert!(c.validate("storage.default").is_ok());
    }

    #[test]
    fn filter_is_unanchored_search() {
        let f = GroupFilter::new("^team-", "test", "s").unwrap();
        assert!(f.accepts("team-orders"));
        assert!(!f.accepts("orders-team-"));
        assert!(!f.accepts("team-orders-test"));
        let deny_only = GroupFilter::new("", "console-consumer", "s").unwrap();
        assert!(deny_only.accepts("orders"));
        assert!(!deny_only.accepts("console-consumer-123"));
        let allow_mid = GroupFilter::new("ord", "", "s").unwrap();
        assert!(allow_mid.accepts("my-orders"));
    }

    #[test]
    fn bad_values_name_the_key() {
        let c = StorageConfig {
            group_denylist: "(".into(),
            ..Default::default()
        };
        let e = c.validate("storage.default").unwrap_err().to_string();
        assert!(e.contains("storage.default.group-denylist"), "{e}");
        let c = StorageConfig {
            intervals: 0,
            ..Default::default()
        };
        assert!(c
            .validate("storage.x")
            .unwrap_err()
            .to_string()
            .contains("storage.x.intervals"));
        let c = StorageConfig {
            group_whitelist: Some("a".into()),
            ..Default::default()
        };
        assert!(c
            .validate("storage.x")
            .unwrap_err()
            .to_string()
            .contains("allowlist"));
        let c = StorageConfig {
            class_name: "redis".into(),
            ..Default::default()
        };
        assert!(c
            .validate("storage.x")
            .unwrap_err()
            .to_string()
            .contains("class-name"));
    }
}
