//! Burrow's configurations as Burrow starts with them (1.2.1 to 1.9.5 and its repository's
//! examples): what Burrow ignored or renamed is taken here with a warning naming the key, never
//! refused. `serve --strict` makes every warning an error.
//!
//! Applied to the parsed file (after the environment's overrides) before any section is read:
//! - a top-level section Burrow does not know: ignored;
//! - `group-whitelist` / `group-blacklist` (Burrow before 1.5): read as `group-allowlist` /
//!   `group-denylist` (both names set with different values is an error);
//! - `[logging] level` in any case (`"INFO"`); a level Burrow does not know: `info`, as Burrow's
//!   logger falls back;
//! - a consumer's `backfill-earliest` without `start-latest`: ignored, as Burrow ignores it;
//! - `noverify` on the `[tls.X]` profile `[zookeeper] tls` names: Burrow never reads it for
//!   ZooKeeper (the servers are verified); Kafka connections through the same profile still
//!   honour it.
//!
//! A key a section does not know is ignored by [`super::Sections`] the same way.

use std::fmt;

use anyhow::{bail, Result};

use super::env::{MODULES, SINGLE};
use super::sections::LEVELS;

/// Something in the file that Burrow accepts and burrow-rs takes differently from its text:
/// ignored, renamed or adjusted. Said at start, an error with `--strict`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The full key (`consumer.local.group-whitelist`).
    pub key: String,
    /// What was done with it.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

fn warn(warnings: &mut Vec<ConfigWarning>, key: impl Into<String>, message: impl Into<String>) {
    warnings.push(ConfigWarning {
        key: key.into(),
        message: message.into(),
    });
}

/// Applies Burrow's tolerance to the parsed file; the warnings say what was taken how.
pub fn migrate(table: &mut toml::Table, warnings: &mut Vec<ConfigWarning>) -> Result<()> {
    unknown_sections(table, warnings);
    for kind in ["consumer", "notifier", "storage"] {
        renamed_lists(table, kind, warnings)?;
    }
    logging_level(table, warnings);
    backfill_without_start_latest(table, warnings);
    zookeeper_noverify(table, warnings);
    Ok(())
}

fn unknown_sections(table: &mut toml::Table, warnings: &mut Vec<ConfigWarning>) {
    let unknown: Vec<String> = table
        .keys()
        .filter(|k| !SINGLE.contains(&k.as_str()) && !MODULES.contains(&k.as_str()))
        .cloned()
        .collect();
    for key in unknown {
        table.remove(&key);
        warn(
            warnings,
            &key,
            format!(
                "unknown section, ignored (Burrow's sections are {}, {})",
                SINGLE.join(", "),
                MODULES.join(", ")
            ),
        );
    }
}

fn renamed_lists(
    table: &mut toml::Table,
    kind: &str,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<()> {
    let Some(modules) = table.get_mut(kind).and_then(toml::Value::as_table_mut) else {
        return Ok(());
    };
    for (name, section) in modules.iter_mut() {
        let Some(section) = section.as_table_mut() else {
            continue;
        };
        for (old, new) in [
            ("group-whitelist", "group-allowlist"),
            ("group-blacklist", "group-denylist"),
        ] {
            let Some(value) = section.remove(old) else {
                continue;
            };
            let key = format!("{kind}.{name}.{old}");
            match section.get(new) {
                Some(current) if current != &value && current.as_str() != Some("") => bail!(
                    "{key}: set beside {new} with another value; keep {new} (the name since Burrow 1.5)"
                ),
                _ => {
                    section.insert(new.to_string(), value);
                    warn(
                        warnings,
                        key,
                        format!("renamed in Burrow 1.5; read as {new}"),
                    );
                }
            }
        }
    }
    Ok(())
}

/// An error about a key the file wrote under its old name says so (`consumer.x.group-denylist
/// (group-blacklist in the file)`).
pub fn annotate_renamed(e: anyhow::Error, warnings: &[ConfigWarning]) -> anyhow::Error {
    let text = format!("{e:#}");
    for w in warnings {
        let Some(new) = w.message.strip_prefix("renamed in Burrow 1.5; read as ") else {
            continue;
        };
        let Some((section, old)) = w.key.rsplit_once('.') else {
            continue;
        };
        if text.starts_with(&format!("{section}.{new}")) {
            return e.context(format!("{section}.{new} is written {old} in the file"));
        }
    }
    e
}

fn logging_level(table: &mut toml::Table, warnings: &mut Vec<ConfigWarning>) {
    let Some(level) = table
        .get_mut("logging")
        .and_then(toml::Value::as_table_mut)
        .and_then(|t| t.get_mut("level"))
    else {
        return;
    };
    let Some(text) = level.as_str() else { return };
    let lower = text.to_ascii_lowercase();
    if LEVELS.contains(&lower.as_str()) {
        if lower != text {
            *level = toml::Value::String(lower);
        }
        return;
    }
    warn(
        warnings,
        "logging.level",
        format!(
            "unknown level {text:?}; info, as Burrow falls back (levels: {})",
            LEVELS.join(", ")
        ),
    );
    *level = toml::Value::String("info".into());
}

fn backfill_without_start_latest(table: &mut toml::Table, warnings: &mut Vec<ConfigWarning>) {
    let Some(consumers) = table
        .get_mut("consumer")
        .and_then(toml::Value::as_table_mut)
    else {
        return;
    };
    for (name, section) in consumers.iter_mut() {
        let Some(section) = section.as_table_mut() else {
            continue;
        };
        let backfill = section
            .get("backfill-earliest")
            .and_then(toml::Value::as_bool);
        let start_latest = section.get("start-latest").and_then(toml::Value::as_bool);
        if backfill == Some(true) && start_latest != Some(true) {
            section.remove("backfill-earliest");
            warn(
                warnings,
                format!("consumer.{name}.backfill-earliest"),
                "ignored without start-latest = true, as Burrow ignores it",
            );
        }
    }
}

fn zookeeper_noverify(table: &mut toml::Table, warnings: &mut Vec<ConfigWarning>) {
    let Some(profile) = table
        .get("zookeeper")
        .and_then(|z| z.get("tls"))
        .and_then(toml::Value::as_str)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
    else {
        return;
    };
    let noverify = table
        .get("tls")
        .and_then(|t| t.get(&profile))
        .and_then(|p| p.get("noverify"))
        .and_then(toml::Value::as_bool);
    if noverify == Some(true) {
        warn(
            warnings,
            format!("tls.{profile}.noverify"),
            "not applied to ZooKeeper (Burrow never reads it there): the ZooKeeper servers are verified",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrated(text: &str) -> (toml::Table, Vec<String>) {
        let mut table: toml::Table = text.parse().unwrap();
        let mut w = Vec::new();
        migrate(&mut table, &mut w).unwrap();
        (table, w.iter().map(|w| w.to_string()).collect())
    }

    #[test]
    fn old_list_names_are_read_as_the_new_ones() {
        let (t, w) = migrated("[consumer.a]\ngroup-whitelist = \"^x\"\ngroup-allowlist = \"\"\n[storage.s]\ngroup-blacklist = \"^y\"");
        assert_eq!(t["consumer"]["a"]["group-allowlist"].as_str(), Some("^x"));
        assert!(t["consumer"]["a"].get("group-whitelist").is_none());
        assert_eq!(t["storage"]["s"]["group-denylist"].as_str(), Some("^y"));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("consumer.a.group-whitelist: renamed"));
        let mut conflict: toml::Table =
            "[notifier.n]\ngroup-whitelist = \"a\"\ngroup-allowlist = \"b\""
                .parse()
                .unwrap();
        let e = migrate(&mut conflict, &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("notifier.n.group-whitelist"), "{e}");
    }

    #[test]
    fn levels_in_any_case_and_unknown_ones_as_info() {
        let (t, w) = migrated("[logging]\nlevel = \"INFO\"");
        assert_eq!(t["logging"]["level"].as_str(), Some("info"));
        assert!(w.is_empty());
        let (t, w) = migrated("[logging]\nlevel = \"verbose\"");
        assert_eq!(t["logging"]["level"].as_str(), Some("info"));
        assert!(w[0].starts_with("logging.level: unknown level"));
    }

    #[test]
    fn what_burrow_ignores_is_ignored_with_a_warning() {
        let (t, w) = migrated(
            "[clusters.x]\na = 1\n[consumer.c]\nbackfill-earliest = true\n[zookeeper]\ntls = \"z\"\n[tls.z]\nnoverify = true",
        );
        assert!(t.get("clusters").is_none());
        assert!(t["consumer"]["c"].get("backfill-earliest").is_none());
        assert_eq!(t["tls"]["z"]["noverify"].as_bool(), Some(true));
        let keys: Vec<&str> = w.iter().map(|w| w.split(':').next().unwrap()).collect();
        assert_eq!(
            keys,
            ["clusters", "consumer.c.backfill-earliest", "tls.z.noverify"]
        );
    }
}
