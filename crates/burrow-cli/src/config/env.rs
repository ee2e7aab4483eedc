//! Burrow's environment overrides: `BURROW_<SECTION>_<NAME>_<KEY>` sets a key of a section the
//! file has (viper's `AutomaticEnv` with `.` and `-` as `_`). Which keys exist, and of what type,
//! is read from the section types themselves: each one's defaults, serialized, name every key
//! with a value of its type, so a key added to a section is overridable without a list to keep.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{anyhow, Result};
use serde::Serialize;

use burrow_eval::EvaluatorConfig;
use burrow_http::ListenerSection;
use burrow_ingest::{ClusterSection, ConsumerSection};
use burrow_kafka::{ClientProfile, SaslProfile, TlsProfile};
use burrow_notify::NotifierConfig;
use burrow_storage::StorageConfig;
use burrow_zk::ZookeeperSection;

use super::sections::{General, Logging};
use burrow_kafka::IamProfile;

/// The process environment, or a test's.
pub type Environment = BTreeMap<String, String>;

/// The process environment (variables whose name or value is not UTF-8 cannot be overrides and
/// are left out).
pub fn process_environment() -> Environment {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Sections that hold one table.
pub const SINGLE: &[&str] = &["general", "logging", "zookeeper"];
/// Sections that hold named modules (`[cluster.<name>]`).
pub const MODULES: &[&str] = &[
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

/// Type of a key, for converting an override's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Int,
    Float,
    Bool,
    List,
}

/// Every key of a section type with its type, from its serialized defaults. Tables (`extras`,
/// `headers`) are not overridable, as in Burrow.
fn keys_of<T: Serialize + Default>() -> Vec<(String, Ty)> {
    let Ok(toml::Value::Table(table)) = toml::Value::try_from(T::default()) else {
        return Vec::new();
    };
    table
        .into_iter()
        .filter_map(|(key, value)| {
            let ty = match value {
                toml::Value::String(_) | toml::Value::Datetime(_) => Ty::Str,
                toml::Value::Integer(_) => Ty::Int,
                toml::Value::Float(_) => Ty::Float,
                toml::Value::Boolean(_) => Ty::Bool,
                toml::Value::Array(_) => Ty::List,
                toml::Value::Table(_) => return None,
            };
            Some((key, ty))
        })
        .collect()
}

/// The keys of a section kind.
fn schema(kind: &str) -> Vec<(String, Ty)> {
    match kind {
        "general" => keys_of::<General>(),
        "logging" => keys_of::<Logging>(),
        "zookeeper" => keys_of::<ZookeeperSection>(),
        "client-profile" => keys_of::<ClientProfile>(),
        "tls" => keys_of::<TlsProfile>(),
        "sasl" => keys_of::<SaslProfile>(),
        "iam" => keys_of::<IamProfile>(),
        "cluster" => keys_of::<ClusterSection>(),
        "consumer" => keys_of::<ConsumerSection>(),
        "storage" => keys_of::<StorageConfig>(),
        "evaluator" => keys_of::<EvaluatorConfig>(),
        "httpserver" => keys_of::<ListenerSection>(),
        "notifier" => keys_of::<NotifierConfig>(),
        _ => Vec::new(),
    }
}

/// What the environment changed.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// key path → the variable that set it.
    pub keys: BTreeMap<String, String>,
    /// Variables with the prefix that name no key of a section the file has (ignored).
    pub unknown: Vec<String>,
}

impl Applied {
    /// `key` with the variable that set it, when one did: errors name both.
    pub fn describe(&self, key: &str) -> String {
        match self.keys.get(key) {
            Some(var) => format!("{var} (environment override of {key})"),
            None => key.to_string(),
        }
    }

    /// An error about a key the environment set, reworded to name the variable first.
    pub fn annotate(&self, e: anyhow::Error) -> anyhow::Error {
        let text = format!("{e:#}");
        let Some((key, rest)) = text.split_once(": ") else {
            return e;
        };
        if self.keys.contains_key(key) {
            anyhow::anyhow!("{}: {rest}", self.describe(key))
        } else {
            e
        }
    }
}

/// The environment variable of a key path: prefix, then the path with `.` and `-` as `_`,
/// upper-cased (viper's rule).
pub fn env_name(prefix: &str, path: &str) -> String {
    format!("{prefix}_{path}")
        .replace(['.', '-'], "_")
        .to_ascii_uppercase()
}

/// Applies the overrides to every key of every section present (and of `[general]` and
/// `[logging]`, which always exist).
pub fn apply(table: &mut toml::Table, env: &Environment) -> Result<Applied> {
    let prefix_key = "general.env-var-prefix";
    let mut prefix = table
        .get("general")
        .and_then(|g| g.get("env-var-prefix"))
        .and_then(toml::Value::as_str)
        .unwrap_or("burrow")
        .to_string();
    let mut consumed = BTreeSet::new();
    let prefix_var = env_name(&prefix, prefix_key);
    if let Some(p) = env.get(&prefix_var) {
        consumed.insert(prefix_var);
        prefix = p.clone();
    }
    let mut applied = Applied::default();
    let mut apply_section = |section: &mut toml::Table, path: &str, kind: &str| -> Result<()> {
        for (key, ty) in schema(kind) {
            let full = format!("{path}.{key}");
            let var = env_name(&prefix, &full);
            let Some(raw) = env.get(&var) else { continue };
            let value = convert(raw, ty)
                .map_err(|m| anyhow!("{var} (environment override of {full}): {m}"))?;
            section.insert(key, value);
            consumed.insert(var.clone());
            applied.keys.insert(full, var);
        }
        Ok(())
    };
    for kind in SINGLE {
        if *kind == "zookeeper" && !table.contains_key("zookeeper") {
            continue;
        }
        let entry = table
            .entry(kind.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(t) = entry.as_table_mut() {
            apply_section(t, kind, kind)?;
        }
    }
    for kind in ["general", "logging"] {
        if table
            .get(kind)
            .and_then(toml::Value::as_table)
            .is_some_and(|t| t.is_empty())
        {
            table.remove(kind);
        }
    }
    for kind in MODULES {
        let Some(t) = table.get_mut(*kind).and_then(toml::Value::as_table_mut) else {
            continue;
        };
        for (name, section) in t.iter_mut() {
            if let Some(s) = section.as_table_mut() {
                apply_section(s, &format!("{kind}.{name}"), kind)?;
            }
        }
    }
    let start = format!("{}_", prefix.to_ascii_uppercase());
    applied.unknown = env
        .keys()
        .filter(|k| k.starts_with(&start) && !consumed.contains(*k))
        .cloned()
        .collect();
    Ok(applied)
}

fn convert(raw: &str, ty: Ty) -> std::result::Result<toml::Value, String> {
    Ok(match ty {
        Ty::Str => toml::Value::String(raw.to_string()),
        Ty::Int => toml::Value::Integer(
            raw.trim()
                .parse()
                .map_err(|_| format!("{raw:?} is not an integer"))?,
        ),
        Ty::Float => toml::Value::Float(
            raw.trim()
                .parse()
                .map_err(|_| format!("{raw:?} is not a number"))?,
        ),
        // Go's strconv.ParseBool.
        Ty::Bool => toml::Value::Boolean(match raw.trim() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
            "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
            _ => return Err(format!("{raw:?} is not a boolean")),
        }),
        // viper splits a string on whitespace for a list; commas are accepted too.
        Ty::List => toml::Value::Array(
            raw.split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_section_types() {
        let keys = |kind: &str| -> Vec<(String, Ty)> { schema(kind) };
        let cluster = keys("cluster");
        assert!(cluster.contains(&("offset-refresh".into(), Ty::Int)));
        assert!(cluster.contains(&("servers".into(), Ty::List)));
        assert!(cluster.contains(&("lag-seconds".into(), Ty::Bool)));
        let notifier = keys("notifier");
        // Optional keys are typed by their default, tables are left out.
        assert!(notifier.contains(&("send-interval".into(), Ty::Int)));
        assert!(notifier.contains(&("noverify".into(), Ty::Bool)));
        assert!(!notifier
            .iter()
            .any(|(k, _)| k == "extras" || k == "headers"));
        // Renamed keys are not overridable.
        assert!(!keys("consumer").iter().any(|(k, _)| k == "group-whitelist"));
        assert!(keys("evaluator").contains(&("minimum-complete".into(), Ty::Float)));
        for kind in SINGLE.iter().chain(MODULES) {
            assert!(!keys(kind).is_empty(), "{kind} has no keys");
        }
    }
}
