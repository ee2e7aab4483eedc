//! The `[cluster.<name>]` and `[consumer.<name>]` sections of `burrow.toml`: their keys,
//! defaults and ranges, their own checks, and their conversion into the settings the modules run
//! with. References to other sections (a client profile, a cluster) are checked by the program
//! that holds the whole file.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use burrow_core::config::{check_servers, refuse_renamed_lists, ConfigError, Seconds, MAX_SECONDS};
use burrow_kafka::ClientConfig;
use burrow_storage::GroupFilter;

use crate::cluster::ClusterSettings;
use crate::consumer::ConsumerSettings;

/// `[cluster.X]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ClusterSection {
    /// `kafka`, the only cluster class.
    pub class_name: String,
    /// Bootstrap brokers, `host:port` each.
    pub servers: Vec<String>,
    /// `[client-profile.X]` name; empty = the default profile.
    pub client_profile: String,
    /// Time between broker end-offset rounds (default 10 s).
    pub offset_refresh: Seconds<1, MAX_SECONDS>,
    /// Time between metadata refreshes (default 60 s).
    pub topic_refresh: Seconds<1, MAX_SECONDS>,
    /// Time between groups-reaper sweeps; 0 = off (the default).
    pub groups_reaper_refresh: Seconds<0, MAX_SECONDS>,
    /// burrow-rs: lag in seconds in `/metrics` (the timestamps of the records lagging groups
    /// stand before, fetched every `offset-refresh`).
    pub lag_seconds: bool,
}

impl Default for ClusterSection {
    fn default() -> Self {
        ClusterSection {
            class_name: String::new(),
            servers: Vec::new(),
            client_profile: String::new(),
            offset_refresh: Seconds::new(10),
            topic_refresh: Seconds::new(60),
            groups_reaper_refresh: Seconds::new(0),
            lag_seconds: false,
        }
    }
}

impl ClusterSection {
    /// The section's own checks; `key` is `cluster.<name>`.
    pub fn validate(&self, key: &str) -> Result<(), ConfigError> {
        if self.class_name != "kafka" {
            return Err(ConfigError::new(
                format!("{key}.class-name"),
                format!(
                    "unknown cluster class {:?} (expected \"kafka\")",
                    self.class_name
                ),
            ));
        }
        check_servers(&format!("{key}.servers"), &self.servers)
    }

    /// The module's settings. `reaper_spares` are the groups the reaper never deletes (Burrow's
    /// `burrow-<consumer>` pseudo-groups); `time_lag` is the table of lag in seconds when the
    /// section asks for it.
    pub fn settings(
        &self,
        name: &str,
        client: ClientConfig,
        reaper_spares: Vec<String>,
        time_lag: Option<Arc<crate::time_lag::TimeLag>>,
    ) -> ClusterSettings {
        ClusterSettings {
            name: name.to_string(),
            servers: self.servers.clone(),
            client,
            offset_refresh: self.offset_refresh.get(),
            topic_refresh: self.topic_refresh.get(),
            groups_reaper_refresh: (!self.groups_reaper_refresh.is_zero())
                .then(|| self.groups_reaper_refresh.get()),
            reaper_spares,
            time_lag,
        }
    }
}

/// The consumer classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerClass {
    /// `kafka`: reads `__consumer_offsets`.
    Kafka,
    /// `kafka_zk`: reads old consumers' offsets from ZooKeeper.
    KafkaZk,
    /// `kafka_admin` (burrow-rs): polls the group APIs (ListGroups, OffsetFetch,
    /// DescribeGroups), for clusters whose `__consumer_offsets` cannot be read.
    KafkaAdmin,
}

/// `[consumer.X]`: every key of the `kafka` and `kafka_zk` classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ConsumerSection {
    /// `kafka` or `kafka_zk`.
    pub class_name: String,
    /// The `[cluster.Y]` the offsets belong to.
    pub cluster: String,
    /// Brokers (kafka) or ZooKeeper servers (kafka_zk).
    pub servers: Vec<String>,
    /// `[client-profile.X]` name (kafka).
    pub client_profile: String,
    /// Only groups matching this regex.
    pub group_allowlist: String,
    /// Not groups matching this regex.
    pub group_denylist: String,
    /// Topic to read (kafka).
    pub offsets_topic: String,
    /// Start at the end of each partition (kafka).
    pub start_latest: bool,
    /// With start-latest, also read the backlog (kafka).
    pub backfill_earliest: bool,
    /// Kafka chroot in ZooKeeper (kafka_zk).
    pub zookeeper_path: String,
    /// ZooKeeper session timeout (kafka_zk; default 30 s).
    pub zookeeper_timeout: Seconds<1, 3600>,
    /// Time between two polls of the group APIs (kafka_admin; default 10 s).
    pub poll_interval: Seconds<1, 3600>,
    /// Burrow's old key: rejected with the new name.
    #[serde(skip_serializing)]
    pub group_whitelist: Option<String>,
    /// Burrow's old key: rejected with the new name.
    #[serde(skip_serializing)]
    pub group_blacklist: Option<String>,
}

impl Default for ConsumerSection {
    fn default() -> Self {
        ConsumerSection {
            class_name: String::new(),
            cluster: String::new(),
            servers: Vec::new(),
            client_profile: String::new(),
            group_allowlist: String::new(),
            group_denylist: String::new(),
            offsets_topic: "__consumer_offsets".into(),
            start_latest: false,
            backfill_earliest: false,
            zookeeper_path: String::new(),
            zookeeper_timeout: Seconds::new(30),
            poll_interval: Seconds::new(10),
            group_whitelist: None,
            group_blacklist: None,
        }
    }
}

impl ConsumerSection {
    /// The section's class.
    pub fn class(&self, key: &str) -> Result<ConsumerClass, ConfigError> {
        match self.class_name.as_str() {
            "kafka" => Ok(ConsumerClass::Kafka),
            "kafka_zk" => Ok(ConsumerClass::KafkaZk),
            "kafka_admin" => Ok(ConsumerClass::KafkaAdmin),
            other => Err(ConfigError::new(
                format!("{key}.class-name"),
                format!(
                    "unknown consumer class {other:?} (expected \"kafka\", \"kafka_zk\" or \"kafka_admin\")"
                ),
            )),
        }
    }

    /// The section's own checks (`key` is `consumer.<name>`); its group lists are checked when
    /// they are compiled ([`ConsumerSection::filter`]).
    pub fn validate(&self, key: &str) -> Result<(), ConfigError> {
        refuse_renamed_lists(key, &self.group_whitelist, &self.group_blacklist)?;
        let class = self.class(key)?;
        if self.cluster.is_empty() {
            return Err(ConfigError::new(
                format!("{key}.cluster"),
                "required (the name of a [cluster.*] section)",
            ));
        }
        check_servers(&format!("{key}.servers"), &self.servers)?;
        if class == ConsumerClass::Kafka {
            if self.offsets_topic.is_empty() {
                return Err(ConfigError::new(
                    format!("{key}.offsets-topic"),
                    "must not be empty",
                ));
            }
            if self.backfill_earliest && !self.start_latest {
                return Err(ConfigError::new(
                    format!("{key}.backfill-earliest"),
                    "only meaningful with start-latest = true",
                ));
            }
        }
        Ok(())
    }

    /// The group allow/deny lists, compiled (a bad pattern names its key).
    pub fn filter(&self, key: &str) -> Result<GroupFilter, ConfigError> {
        GroupFilter::new(&self.group_allowlist, &self.group_denylist, key).map_err(|e| match e {
            burrow_storage::StorageError::Config { key, message } => ConfigError::new(key, message),
            other => ConfigError::new(key, other.to_string()),
        })
    }

    /// The settings of a `kafka_admin` consumer module.
    pub fn group_api_settings(
        &self,
        name: &str,
        client: ClientConfig,
        filter: GroupFilter,
    ) -> crate::group_api::GroupApiSettings {
        crate::group_api::GroupApiSettings {
            name: name.to_string(),
            cluster: self.cluster.clone(),
            servers: self.servers.clone(),
            client,
            filter,
            poll_interval: self.poll_interval.get(),
        }
    }

    /// The settings of a `kafka` consumer module; `resume` holds the saved read positions of an
    /// earlier run (empty for a cold start).
    pub fn kafka_settings(
        &self,
        name: &str,
        client: ClientConfig,
        filter: GroupFilter,
        resume: BTreeMap<i32, i64>,
        position_check: Duration,
    ) -> ConsumerSettings {
        ConsumerSettings {
            name: name.to_string(),
            cluster: self.cluster.clone(),
            servers: self.servers.clone(),
            client,
            offsets_topic: self.offsets_topic.clone(),
            start_latest: self.start_latest,
            backfill_earliest: self.backfill_earliest,
            resume,
            filter,
            position_check,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_checks_name_the_key() {
        let c = ClusterSection {
            class_name: "kafak".into(),
            servers: vec!["k:1".into()],
            ..ClusterSection::default()
        };
        assert_eq!(
            c.validate("cluster.c").unwrap_err().key,
            "cluster.c.class-name"
        );
        let c = ClusterSection {
            class_name: "kafka".into(),
            ..ClusterSection::default()
        };
        assert_eq!(
            c.validate("cluster.c").unwrap_err().key,
            "cluster.c.servers"
        );
        let s = ClusterSection {
            class_name: "kafka".into(),
            servers: vec!["k:1".into()],
            groups_reaper_refresh: Seconds::new(5),
            ..ClusterSection::default()
        }
        .settings("c", ClientConfig::default(), vec![], None);
        assert_eq!(s.offset_refresh, std::time::Duration::from_secs(10));
        assert_eq!(
            s.groups_reaper_refresh,
            Some(std::time::Duration::from_secs(5))
        );
    }

    #[test]
    fn consumer_checks_name_the_key() {
        let base = ConsumerSection {
            class_name: "kafka".into(),
            cluster: "c".into(),
            servers: vec!["k:1".into()],
            ..ConsumerSection::default()
        };
        assert!(base.validate("consumer.k").is_ok());
        let e = ConsumerSection {
            backfill_earliest: true,
            ..base.clone()
        }
        .validate("consumer.k")
        .unwrap_err();
        assert_eq!(e.key, "consumer.k.backfill-earliest");
        let e = ConsumerSection {
            group_allowlist: "(".into(),
            ..base.clone()
        }
        .filter("consumer.k")
        .unwrap_err();
        assert_eq!(e.key, "consumer.k.group-allowlist");
        let e = ConsumerSection {
            group_whitelist: Some("a".into()),
            ..base
        }
        .validate("consumer.k")
        .unwrap_err();
        assert_eq!(e.key, "consumer.k.group-whitelist");
    }
}
