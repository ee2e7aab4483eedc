//! Burrow's configuration file (`burrow.toml`), read once into checked sections.
//!
//! Loading is all or nothing: the file is read (up to [`MAX_CONFIG_BYTES`]), environment
//! overrides are applied, every section is deserialized into the type of the crate that runs it
//! (unknown keys refused, numbers in their ranges, seconds as durations), every section's own
//! checks run, then the references between sections and the files and addresses they name. Each
//! error names the key (`cluster.local.offset-refresh`), the environment variable it came from,
//! or the file.
//!
//! The section types live with their crates: `[cluster]`/`[consumer]` in `burrow-ingest`,
//! `[httpserver]` in `burrow-http`, `[notifier]` in `burrow-notify`, `[zookeeper]` in
//! `burrow-zk`, `[storage]` and `[evaluator]` in theirs, the client profiles in `burrow-kafka`.
//! The command line owns `[general]`, `[logging]` and `[iam]` ([`sections`]).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use serde::de::DeserializeOwned;

use burrow_eval::EvaluatorConfig;
use burrow_http::ListenerSection;
use burrow_ingest::{ClusterSection, ConsumerClass, ConsumerSection};
use burrow_kafka::{ClientConfig, ClientProfile, SaslProfile, TlsProfile};
use burrow_notify::NotifierConfig;
use burrow_storage::StorageConfig;
use burrow_zk::ZookeeperSection;

mod compat;
mod env;
pub mod sections;
mod view;

pub use burrow_kafka::IamProfile;
pub use compat::{annotate_renamed, ConfigWarning};
pub use env::{process_environment, Applied, Environment};
pub use sections::{General, Logging};

/// Largest configuration file read: Burrow's files are a few kilobytes; a path such as
/// `/dev/zero` must not grow memory without bound.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The whole configuration, checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// `[general]`.
    pub general: General,
    /// `[logging]`.
    pub logging: Logging,
    /// `[zookeeper]`, when present.
    pub zookeeper: Option<ZookeeperSection>,
    /// `[client-profile.*]`.
    pub client_profiles: BTreeMap<String, ClientProfile>,
    /// `[tls.*]`.
    pub tls: BTreeMap<String, TlsProfile>,
    /// `[sasl.*]`.
    pub sasl: BTreeMap<String, SaslProfile>,
    /// `[iam.*]`.
    pub iam: BTreeMap<String, IamProfile>,
    /// `[cluster.*]`, in file order.
    pub cluster_modules: Vec<(String, ClusterSection)>,
    /// `[consumer.*]`, in file order.
    pub consumers: Vec<(String, ConsumerSection)>,
    /// `[httpserver.*]`, in file order.
    pub httpservers: Vec<(String, ListenerSection)>,
    /// `[notifier.*]`, in file order.
    pub notifiers: Vec<(String, NotifierConfig)>,
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
    /// What the environment overrode, and variables with the prefix that override nothing.
    pub env: Applied,
    /// What Burrow accepts and was ignored, renamed or adjusted here (docs/configuration.md,
    /// "Burrow's configurations"); errors with `serve --strict`.
    pub warnings: Vec<ConfigWarning>,
}

impl Config {
    /// Defaults, as Burrow runs with an empty file.
    pub fn defaults() -> Self {
        Config {
            general: General::default(),
            logging: Logging::default(),
            zookeeper: None,
            client_profiles: BTreeMap::new(),
            tls: BTreeMap::new(),
            sasl: BTreeMap::new(),
            iam: BTreeMap::new(),
            cluster_modules: Vec::new(),
            consumers: Vec::new(),
            httpservers: Vec::new(),
            notifiers: Vec::new(),
            storage: StorageConfig::default(),
            storage_name: "default".into(),
            storage_configured: false,
            evaluator: EvaluatorConfig::default(),
            evaluator_name: "default".into(),
            clusters: Vec::new(),
            env: Applied::default(),
            warnings: Vec::new(),
        }
    }

    /// What `serve` runs without a file: one cluster `local` at `localhost:9092` with its
    /// consumer module, HTTP on `127.0.0.1:8000`, with the environment's overrides applied as to
    /// a file (`BURROW_CLUSTER_LOCAL_SERVERS=kafka:9092` points it elsewhere).
    pub fn serve_defaults(env: &Environment) -> Result<Self> {
        Self::parse_with_env(&serve_defaults_text(), env).context("serve's defaults (no --config)")
    }

    /// Reads and checks a file, with overrides from the process environment.
    pub fn load(path: &Path) -> Result<Self> {
        Self::load_with_env(path, &process_environment())
    }

    /// Reads and checks a file, with overrides from `env`.
    pub fn load_with_env(path: &Path, env: &Environment) -> Result<Self> {
        let text = read_limited(path)?;
        Self::parse_with_env(&text, env).with_context(|| format!("config {}", path.display()))
    }

    /// Parses and checks the text of a file, without environment overrides.
    #[cfg(test)]
    pub fn parse(text: &str) -> Result<Self> {
        Self::parse_with_env(text, &Environment::new())
    }

    /// Parses and checks the text of a file with overrides from `env`.
    pub fn parse_with_env(text: &str, env: &Environment) -> Result<Self> {
        let mut table: toml::Table = text.parse()?;
        check_section_shapes(&table)?;
        let applied = env::apply(&mut table, env)?;
        let mut warnings = Vec::new();
        compat::migrate(&mut table, &mut warnings)?;
        let sections = Sections {
            table: &table,
            env: &applied,
            warnings: std::cell::RefCell::new(warnings),
        };
        let mut config = Config::defaults();
        config.general = sections.single("general")?.unwrap_or_default();
        config.logging = sections.single("logging")?.unwrap_or_default();
        config.zookeeper = sections.single("zookeeper")?;
        config.client_profiles = sections.modules("client-profile")?.into_iter().collect();
        config.tls = sections.modules("tls")?.into_iter().collect();
        config.sasl = sections.modules("sasl")?.into_iter().collect();
        config.iam = sections.modules("iam")?.into_iter().collect();
        config.cluster_modules = sections.modules("cluster")?;
        config.consumers = sections.modules("consumer")?;
        config.httpservers = sections.modules("httpserver")?;
        config.notifiers = sections.modules("notifier")?;
        config.clusters = config
            .cluster_modules
            .iter()
            .map(|(n, _)| n.clone())
            .collect();
        if let Some((name, s)) = sections.the_one::<StorageConfig>("storage")? {
            (config.storage, config.storage_name) = (s, name);
            config.storage_configured = true;
        }
        if let Some((name, e)) = sections.the_one::<EvaluatorConfig>("evaluator")? {
            (config.evaluator, config.evaluator_name) = (e, name);
        }
        config.warnings = sections.warnings.take();
        config.env = applied;
        config
            .validate()
            .map_err(|e| compat::annotate_renamed(config.env.annotate(e), &config.warnings))?;
        Ok(config)
    }

    /// Every check after deserializing that converts nothing: each section's own, the references
    /// between sections, the listeners' addresses. Converting a section checks the rest once
    /// (client profiles, group lists, files, templates): the server's [`crate::Settings`] does,
    /// and `check` converts the one profile it uses.
    fn validate(&self) -> Result<()> {
        self.storage
            .validate(&format!("storage.{}", self.storage_name))?;
        self.evaluator
            .validate(&format!("evaluator.{}", self.evaluator_name))?;
        self.logging.validate()?;
        self.validate_zookeeper()?;
        self.validate_profiles()?;
        self.validate_clusters()?;
        self.validate_consumers()?;
        self.validate_listeners()?;
        for (name, n) in &self.notifiers {
            // The classes a program adds are known with its extensions, which the server's
            // settings check (crate::settings).
            n.validate(&format!("notifier.{name}"), n.may_be_custom())?;
        }
        Ok(())
    }

    fn validate_zookeeper(&self) -> Result<()> {
        let Some(zk) = &self.zookeeper else {
            return Ok(());
        };
        zk.validate()?;
        self.check_tls_ref("zookeeper.tls", &zk.tls)
    }

    fn validate_profiles(&self) -> Result<()> {
        for (name, p) in &self.client_profiles {
            let key = format!("client-profile.{name}");
            self.check_tls_ref(&format!("{key}.tls"), &p.tls)?;
            if !p.sasl.is_empty() && !self.sasl.contains_key(&p.sasl) {
                bail!("{key}.sasl: no [sasl.{}] section", p.sasl);
            }
            if !p.iam.is_empty() && !self.iam.contains_key(&p.iam) {
                bail!("{key}.iam: no [iam.{}] section", p.iam);
            }
        }
        for (name, iam) in &self.iam {
            if iam.region.is_empty() {
                bail!("iam.{name}.region: required");
            }
        }
        Ok(())
    }

    fn validate_clusters(&self) -> Result<()> {
        for (name, c) in &self.cluster_modules {
            let key = format!("cluster.{name}");
            c.validate(&key)?;
            self.check_profile_ref(&format!("{key}.client-profile"), &c.client_profile)?;
        }
        Ok(())
    }

    fn validate_consumers(&self) -> Result<()> {
        for (name, c) in &self.consumers {
            let key = format!("consumer.{name}");
            c.validate(&key)?;
            if !self.clusters.contains(&c.cluster) {
                bail!(
                    "{key}.cluster: no [cluster.{}] section (cluster names are case-sensitive)",
                    c.cluster
                );
            }
            match c.class(&key)? {
                ConsumerClass::Kafka | ConsumerClass::KafkaAdmin => {
                    self.check_profile_ref(&format!("{key}.client-profile"), &c.client_profile)?
                }
                ConsumerClass::KafkaZk => burrow_zk::validate_path(
                    &format!("{key}.zookeeper-path"),
                    &format!("{}/consumers", c.zookeeper_path),
                )?,
            }
        }
        Ok(())
    }

    /// Each listener's address and TLS reference, and no two listeners on the same address.
    fn validate_listeners(&self) -> Result<()> {
        let mut bound: Vec<(String, Vec<std::net::SocketAddr>)> = Vec::new();
        for (name, h) in &self.httpservers {
            let key = format!("httpserver.{name}");
            h.validate(&key)?;
            self.check_tls_ref(&format!("{key}.tls"), &h.tls)?;
            let addrs = h.socket_addrs(&key)?;
            if let Some((other, _)) = bound
                .iter()
                .find(|(_, a)| burrow_http::overlapping(a, &addrs))
            {
                bail!(
                    "{key}.address: {:?} is also the address of [{other}]: two listeners cannot \
                     share a port",
                    h.address
                );
            }
            bound.push((key, addrs));
        }
        Ok(())
    }

    /// The TLS acceptor of a listener, its files read now.
    pub fn listener_tls(
        &self,
        name: &str,
        h: &ListenerSection,
    ) -> Result<Option<tokio_rustls::TlsAcceptor>> {
        if h.tls.is_empty() {
            return Ok(None);
        }
        let Some(t) = self.tls.get(&h.tls) else {
            bail!("httpserver.{name}.tls: no [tls.{}] section", h.tls);
        };
        let client_ca_key = format!("httpserver.{name}.client-cafile");
        let client_ca = (!h.client_cafile.is_empty())
            .then_some((client_ca_key.as_str(), h.client_cafile.as_str()));
        let acceptor = burrow_http::tls_acceptor_with_clients(
            &format!("tls.{}", h.tls),
            &t.certfile,
            &t.keyfile,
            client_ca,
        )?;
        Ok(Some(acceptor))
    }

    /// The TLS settings of the `[zookeeper]` connection, when it names a `[tls.X]` profile (its
    /// files read and checked).
    pub fn zookeeper_tls(&self) -> Result<Option<burrow_zk::ZkTls>> {
        let Some(zk) = self.zookeeper.as_ref().filter(|zk| !zk.tls.is_empty()) else {
            return Ok(None);
        };
        let Some(t) = self.tls.get(&zk.tls) else {
            bail!("zookeeper.tls: no [tls.{}] section", zk.tls);
        };
        // Burrow never reads noverify for ZooKeeper (a warning says so: compat).
        let tls = burrow_zk::ZkTls::from_files(
            &format!("tls.{}", zk.tls),
            &t.cafile,
            &t.certfile,
            &t.keyfile,
            false,
        )
        .with_context(|| format!("zookeeper.tls = {:?}", zk.tls))?;
        Ok(Some(tls))
    }

    fn check_tls_ref(&self, key: &str, name: &str) -> Result<()> {
        if !name.is_empty() && !self.tls.contains_key(name) {
            bail!("{key}: no [tls.{name}] section");
        }
        Ok(())
    }

    fn check_profile_ref(&self, key: &str, name: &str) -> Result<()> {
        if !name.is_empty() && !self.client_profiles.contains_key(name) {
            bail!("{key}: no [client-profile.{name}] section");
        }
        Ok(())
    }

    /// The Kafka client settings of a profile reference (empty = defaults). Its TLS files are
    /// read when a client connects, or by [`ClientConfig::check_tls_files`].
    pub fn client_config(&self, key: &str, profile: &str) -> Result<ClientConfig> {
        let default = ClientProfile::default();
        let p = if profile.is_empty() {
            &default
        } else {
            self.client_profiles
                .get(profile)
                .ok_or_else(|| anyhow!("{key}: no [client-profile.{profile}] section"))?
        };
        let tls = (!p.tls.is_empty()).then(|| self.tls.get(&p.tls)).flatten();
        let sasl = (!p.sasl.is_empty())
            .then(|| self.sasl.get(&p.sasl))
            .flatten();
        let iam = (!p.iam.is_empty()).then(|| self.iam.get(&p.iam)).flatten();
        Ok(ClientConfig::from_profiles(
            &p_key(profile),
            p,
            tls,
            sasl,
            iam,
        )?)
    }
}

/// `serve`'s listener address when the file names none (Burrow picked a random port).
const DEFAULT_ADDRESS: &str = "127.0.0.1:8000";

/// `serve`'s configuration without a file.
fn serve_defaults_text() -> String {
    format!(
        r#"
[cluster.local]
class-name = "kafka"
servers = ["localhost:9092"]

[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["localhost:9092"]

[httpserver.default]
address = "{DEFAULT_ADDRESS}"
"#
    )
}

/// `serve`'s listener when the file has none.
pub fn default_listener() -> ListenerSection {
    ListenerSection {
        address: DEFAULT_ADDRESS.into(),
        ..ListenerSection::default()
    }
}

fn p_key(profile: &str) -> String {
    if profile.is_empty() {
        "client-profile".into()
    } else {
        format!("client-profile.{profile}")
    }
}

/// Reads a configuration file of at most [`MAX_CONFIG_BYTES`].
fn read_limited(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read config {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read config {}", path.display()))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        bail!(
            "config {}: larger than {} KiB: not a Burrow configuration file",
            path.display(),
            MAX_CONFIG_BYTES / 1024
        );
    }
    String::from_utf8(bytes).map_err(|e| anyhow!("config {}: not UTF-8 text ({e})", path.display()))
}

/// Every top-level key is one of Burrow's sections and a table; module sections hold tables.
fn check_section_shapes(table: &toml::Table) -> Result<()> {
    use env::{MODULES, SINGLE};
    for (key, value) in table {
        if !SINGLE.contains(&key.as_str()) && !MODULES.contains(&key.as_str()) {
            // Ignored with a warning (compat).
            continue;
        }
        let Some(t) = value.as_table() else {
            bail!("{key}: must be a table ([{key}] or [{key}.<name>])");
        };
        if MODULES.contains(&key.as_str()) {
            for (name, section) in t {
                if !section.is_table() {
                    bail!("{key}.{name}: must be a table ([{key}.{name}])");
                }
            }
        }
    }
    Ok(())
}

/// The file's sections, deserialized with errors that name the key (and the environment
/// variable when one set it).
struct Sections<'a> {
    table: &'a toml::Table,
    env: &'a Applied,
    /// Keys a section does not know are ignored with a warning, as Burrow ignores them.
    warnings: std::cell::RefCell<Vec<ConfigWarning>>,
}

impl Sections<'_> {
    /// `[section]`.
    fn single<T: DeserializeOwned>(&self, section: &str) -> Result<Option<T>> {
        self.table
            .get(section)
            .map(|v| self.deserialize(v, section))
            .transpose()
    }

    /// Every `[kind.<name>]`, in file order.
    fn modules<T: DeserializeOwned>(&self, kind: &str) -> Result<Vec<(String, T)>> {
        let Some(t) = self.table.get(kind).and_then(toml::Value::as_table) else {
            return Ok(Vec::new());
        };
        t.iter()
            .map(|(name, v)| {
                Ok((
                    name.clone(),
                    self.deserialize(v, &format!("{kind}.{name}"))?,
                ))
            })
            .collect()
    }

    /// The single `[kind.<name>]` of a kind there may be only one of.
    fn the_one<T: DeserializeOwned>(&self, kind: &str) -> Result<Option<(String, T)>> {
        let mut all = self.modules::<T>(kind)?;
        if all.len() > 1 {
            let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
            bail!(
                "{kind}: only one {kind} module may be configured, found {}",
                names.join(", ")
            );
        }
        Ok(all.pop())
    }

    /// Deserializes a section; a key it does not know is removed with a warning (Burrow
    /// ignores it) and the section read again.
    fn deserialize<T: DeserializeOwned>(&self, value: &toml::Value, prefix: &str) -> Result<T> {
        let mut value = value.clone();
        loop {
            let e = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
                Ok(t) => return Ok(t),
                Err(e) => e,
            };
            let path = e.path().to_string();
            let key = if path == "." {
                prefix.to_string()
            } else {
                format!("{prefix}.{path}")
            };
            let message = e.into_inner().to_string().trim_end().to_string();
            if message.starts_with("unknown field") && remove_path(&mut value, &path) {
                self.warnings.borrow_mut().push(ConfigWarning {
                    key,
                    message: format!("{message}; ignored, as Burrow ignores it"),
                });
                continue;
            }
            return Err(anyhow!("{}: {}", self.env.describe(&key), message));
        }
    }
}

/// Removes the key at a `serde_path_to_error` path (`a.b`, `a[0].b`); false when there is none.
fn remove_path(value: &mut toml::Value, path: &str) -> bool {
    let mut segments: Vec<String> = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        while let Some(i) = rest.find('[') {
            if i > 0 {
                segments.push(rest[..i].to_string());
            }
            let end = rest[i..].find(']').map_or(rest.len(), |j| i + j);
            segments.push(rest[i..=end.min(rest.len() - 1)].to_string());
            rest = &rest[(end + 1).min(rest.len())..];
        }
        if !rest.is_empty() {
            segments.push(rest.to_string());
        }
    }
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut at = value;
    for seg in parents {
        let next = match seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            Some(i) => i
                .parse::<usize>()
                .ok()
                .and_then(|i| at.as_array_mut().and_then(|a| a.get_mut(i))),
            None => at.as_table_mut().and_then(|t| t.get_mut(seg.as_str())),
        };
        match next {
            Some(n) => at = n,
            None => return false,
        }
    }
    at.as_table_mut()
        .is_some_and(|t| t.remove(last.as_str()).is_some())
}

#[cfg(test)]
mod tests;
