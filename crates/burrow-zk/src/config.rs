//! The `[zookeeper]` section of `burrow.toml`: the ensemble the notifier leader election runs on.

use serde::{Deserialize, Serialize};

use burrow_core::config::{check_servers, Seconds};

use crate::{validate_path, ZkError, ZkSettings, ZkTls};

/// `[zookeeper]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ZookeeperSection {
    /// Ensemble, `host:port` each.
    pub servers: Vec<String>,
    /// Session timeout (default 6 s, at most an hour).
    pub timeout: Seconds<1, 3600>,
    /// Root path of Burrow's nodes.
    pub root_path: String,
    /// `[tls.X]` profile; empty = plain TCP.
    pub tls: String,
}

impl Default for ZookeeperSection {
    fn default() -> Self {
        ZookeeperSection {
            servers: Vec::new(),
            timeout: Seconds::new(6),
            root_path: "/burrow".into(),
            tls: String::new(),
        }
    }
}

impl ZookeeperSection {
    /// The section's own checks.
    pub fn validate(&self) -> Result<(), ZkError> {
        check_servers("zookeeper.servers", &self.servers)?;
        validate_path("zookeeper.root-path", &self.root_path)
    }

    /// The session settings, with the TLS profile's files already read ([`ZkTls::from_files`]).
    pub fn settings(&self, tls: Option<ZkTls>) -> ZkSettings {
        ZkSettings {
            servers: self.servers.clone(),
            session_timeout: self.timeout.get(),
            tls,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_name_the_key() {
        let z = ZookeeperSection::default();
        assert!(
            matches!(z.validate(), Err(ZkError::Config { key, .. }) if key == "zookeeper.servers")
        );
        let z = ZookeeperSection {
            servers: vec!["z:2181".into()],
            root_path: "burrow".into(),
            ..ZookeeperSection::default()
        };
        assert!(
            matches!(z.validate(), Err(ZkError::Config { key, .. }) if key == "zookeeper.root-path")
        );
        let s = ZookeeperSection {
            servers: vec!["z:2181".into()],
            ..ZookeeperSection::default()
        }
        .settings(None);
        assert_eq!(s.session_timeout, std::time::Duration::from_secs(6));
    }
}
