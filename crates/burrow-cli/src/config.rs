//! Reading Burrow's `burrow.toml`: the sections the offline commands use.
//!
//! `[storage.<name>]` and `[evaluator.<name>]` are read with Burrow's keys and defaults (at most one
//! section each); `[cluster.<name>]` names the clusters storage keeps. Every error names the key.
//! The other Burrow sections are accepted by name and left to the commands that use them.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;

use burrow_eval::EvaluatorConfig;
use burrow_storage::StorageConfig;

/// Top-level sections of Burrow's configuration.
const SECTIONS: &[&str] = &[
    "general",
    "logging",
    "zookeeper",
    "client-profile",
    "tls",
    "sasl",
    "iam",
    "cluster",
    "consumer",
    "storage",
    "evaluator",
    "httpserver",
    "notifier",
];

/// What the offline commands need from a configuration file.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `[storage.<name>]`, or the default when there is none.
    pub storage: StorageConfig,
    /// Section name of the storage module (`default` when there is none).
    pub storage_name: String,
    /// True when the file had a `[storage.*]` section.
    pub storage_configured: bool,
    /// `[evaluator.<name>]`, or the default.
    pub evaluator: EvaluatorConfig,
    /// Section name of the evaluator module.
    pub evaluator_name: String,
    /// Names of the `[cluster.*]` sections, in file order.
    pub clusters: Vec<String>,
}

impl Config {
    /// Defaults, as Burrow runs without storage/evaluator sections.
    pub fn defaults() -> Self {
        Config {
            storage_name: "default".into(),
            evaluator_name: "default".into(),
            ..Default::default()
        }
    }

    /// Reads and checks a file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("config {}", path.display()))
    }

    /// Parses and checks the text of a file.
    pub fn parse(text: &str) -> Result<Self> {
        let table: toml::Table = text.parse()?;
        let mut config = Config::defaults();
        for (key, value) in &table {
            if !SECTIONS.contains(&key.as_str()) {
                bail!(
                    "{key}: unknown section (Burrow's sections are {})",
                    SECTIONS.join(", ")
                );
            }
            if !value.is_table() {
                bail!("{key}: must be a table ([{key}] or [{key}.<name>])");
            }
        }
        if let Some((name, storage)) = single_module::<StorageConfig>(&table, "storage")? {
            storage.validate(&format!("storage.{name}"))?;
            config.storage = storage;
            config.storage_name = name;
            config.storage_configured = true;
        }
        if let Some((name, evaluator)) = single_module::<EvaluatorConfig>(&table, "evaluator")? {
            evaluator.validate(&format!("evaluator.{name}"))?;
            config.evaluator = evaluator;
            config.evaluator_name = name;
        }
        if let Some(clusters) = table.get("cluster").and_then(toml::Value::as_table) {
            for (name, section) in clusters {
                if !section.is_table() {
                    bail!("cluster.{name}: must be a table ([cluster.{name}])");
                }
                config.clusters.push(name.clone());
            }
        }
        Ok(config)
    }
}

/// The one `[<kind>.<name>]` section, deserialized with errors that name the full key path.
fn single_module<T: DeserializeOwned>(
    table: &toml::Table,
    kind: &str,
) -> Result<Option<(String, T)>> {
    let Some(modules) = table.get(kind).and_then(toml::Value::as_table) else {
        return Ok(None);
    };
    if modules.len() > 1 {
        let names: Vec<&str> = modules.keys().map(String::as_str).collect();
        bail!(
            "{kind}: only one {kind} module may be configured, found {}",
            names.join(", ")
        );
    }
    let Some((name, section)) = modules.iter().next() else {
        return Ok(None);
    };
    let value: T = serde_path_to_error::deserialize(section.clone()).map_err(|e| {
        let path = e.path().to_string();
        let key = if path == "." {
            format!("{kind}.{name}")
        } else {
            format!("{kind}.{name}.{path}")
        };
        anyhow::anyhow!("{key}: {}", e.into_inner())
    })?;
    Ok(Some((name.clone(), value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_burrow_sections() {
        let c = Config::parse(
            r#"
            [general]
            pidfile = "burrow.pid"
            [storage.mem]
            class-name = "inmemory"
            intervals = 15
            expire-group = 3600
            min-distance = 1
            workers = 4
            group-denylist = "^console-"
            [evaluator.default]
            class-name = "caching"
            expire-cache = 5
            minimum-complete = 0.5
            allowed-lag = 1
            [cluster.local]
            class-name = "kafka"
            servers = ["localhost:9092"]
            [cluster.remote]
            class-name = "kafka"
            "#,
        )
        .unwrap();
        assert_eq!(
            (
                c.storage.intervals,
                c.storage.expire_group,
                c.storage.min_distance
            ),
            (15, 3600, 1)
        );
        assert_eq!(c.storage_name, "mem");
        assert_eq!(
            (
                c.evaluator.expire_cache,
                c.evaluator.minimum_complete,
                c.evaluator.allowed_lag
            ),
            (5, 0.5, 1)
        );
        assert_eq!(c.clusters, vec!["local", "remote"]);
    }

    #[test]
    fn errors_name_the_key() {
        let err = |text: &str| format!("{:#}", Config::parse(text).unwrap_err());
        assert!(err("[storage.s]\nintervals = \"ten\"").contains("storage.s.intervals"));
        assert!(err("[storage.s]\nbogus = 1").contains("storage.s.bogus: unknown field `bogus`"));
        assert!(err("[evaluator.e]\nallowed-lag = -1").contains("evaluator.e.allowed-lag"));
        assert!(
            err("[evaluator.e]\nminimum-complete = 2.0").contains("evaluator.e.minimum-complete")
        );
        assert!(err("[storage.s]\ngroup-allowlist = \"(\"").contains("storage.s.group-allowlist"));
        assert!(err("[storage.s]\ngroup-whitelist = \"a\"").contains("storage.s.group-whitelist"));
        assert!(err("[storage.a]\n[storage.b]").contains("only one storage module"));
        assert!(err("[storagee.a]").contains("storagee: unknown section"));
        assert!(err("storage = 1").contains("storage: must be a table"));
    }

    #[test]
    fn defaults_without_sections() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.storage.intervals, 10);
        assert!(!c.storage_configured);
        assert_eq!(c.evaluator.expire_cache, 10);
        assert!(c.clusters.is_empty());
    }
}
