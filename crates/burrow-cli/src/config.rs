//! Burrow's configuration file (`burrow.toml`): every section and key Burrow reads, its defaults,
//! its environment overrides, and the checks it makes (plus the ones it forgets).
//!
//! Loading is all or nothing: the file is parsed, environment overrides are applied, every
//! section is deserialized (unknown keys rejected) and every cross-reference is checked before
//! anything starts. Each error names the full key path (`cluster.local.offset-refresh`) or the
//! environment variable it came from.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use burrow_eval::EvaluatorConfig;
use burrow_kafka::{ClientConfig, ClientProfile, SaslProfile, TlsProfile};
use burrow_storage::{GroupFilter, StorageConfig};

/// Type of a key, for converting environment overrides.
#[derive(Clone, Copy)]
enum Ty {
    Str,
    Int,
    Float,
    Bool,
    List,
}

/// Every key of every section, with its type: the keys environment variables can override.
fn schema(section: &str) -> &'static [(&'static str, Ty)] {
    use Ty::*;
    match section {
        "general" => &[
            ("pidfile", Str),
            ("stdout-logfile", Str),
            ("access-control-allow-origin", Str),
            ("env-var-prefix", Str),
            ("state-file", Str),
            ("state-interval", Int),
        ],
        "logging" => &[
            ("filename", Str),
            ("level", Str),
            ("maxsize", Int),
            ("maxbackups", Int),
            ("maxage", Int),
            ("use-localtime", Bool),
            ("use-compression", Bool),
        ],
        "zookeeper" => &[
            ("servers", List),
            ("timeout", Int),
            ("root-path", Str),
            ("tls", Str),
        ],
        "client-profile" => &[
            ("client-id", Str),
            ("kafka-version", Str),
            ("tls", Str),
            ("sasl", Str),
            ("iam", Str),
            ("dial-timeout", Int),
            ("read-timeout", Int),
            ("write-timeout", Int),
        ],
        "tls" => &[
            ("cafile", Str),
            ("certfile", Str),
            ("keyfile", Str),
            ("noverify", Bool),
        ],
        "sasl" => &[
            ("username", Str),
            ("password", Str),
            ("mechanism", Str),
            ("handshake-first", Bool),
        ],
        "iam" => &[("region", Str), ("role-arn", Str), ("profile", Str)],
        "cluster" => &[
            ("class-name", Str),
            ("servers", List),
            ("client-profile", Str),
            ("offset-refresh", Int),
            ("topic-refresh", Int),
            ("groups-reaper-refresh", Int),
            ("lag-seconds", Bool),
        ],
        "consumer" => &[
            ("class-name", Str),
            ("cluster", Str),
            ("servers", List),
            ("client-profile", Str),
            ("group-allowlist", Str),
            ("group-denylist", Str),
            ("offsets-topic", Str),
            ("start-latest", Bool),
            ("backfill-earliest", Bool),
            ("zookeeper-path", Str),
            ("zookeeper-timeout", Int),
        ],
        "storage" => &[
            ("class-name", Str),
            ("intervals", Int),
            ("expire-group", Int),
            ("workers", Int),
            ("queue-depth", Int),
            ("min-distance", Int),
            ("group-allowlist", Str),
            ("group-denylist", Str),
        ],
        "evaluator" => &[
            ("class-name", Str),
            ("expire-cache", Int),
            ("minimum-complete", Float),
            ("allowed-lag", Int),
        ],
        "httpserver" => &[("address", Str), ("timeout", Int), ("tls", Str)],
        "notifier" => &[
            ("class-name", Str),
            ("interval", Int),
            ("send-interval", Int),
            ("threshold", Int),
            ("group-allowlist", Str),
            ("group-denylist", Str),
            ("template-open", Str),
            ("template-close", Str),
            ("send-close", Bool),
            ("send-once", Bool),
            ("url-open", Str),
            ("url-close", Str),
            ("method-open", Str),
            ("method-close", Str),
            ("timeout", Int),
            ("keepalive", Int),
            ("disable-http-keepalive", Bool),
            ("username", Str),
            ("password", Str),
            ("extra-ca", Str),
            ("noverify", Bool),
            ("server", Str),
            ("port", Int),
            ("from", Str),
            ("to", Str),
            ("auth-type", Str),
        ],
        _ => &[],
    }
}

/// Sections that hold one table.
const SINGLE: &[&str] = &["general", "logging", "zookeeper"];
/// Sections that hold named modules (`[cluster.<name>]`).
const MODULES: &[&str] = &[
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

/// `[general]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct General {
    /// PID lock file.
    pub pidfile: String,
    /// File that receives the process's output (logs when `logging.filename` is not set).
    pub stdout_logfile: String,
    /// Sent as `Access-Control-Allow-Origin` when set.
    pub access_control_allow_origin: String,
    /// Prefix of environment overrides.
    pub env_var_prefix: String,
    /// burrow-rs: the file the server's state is saved to for warm restarts ("" = none).
    pub state_file: String,
    /// burrow-rs: seconds between two saves of the state file (it is also saved at shutdown).
    pub state_interval: i64,
}

impl Default for General {
    fn default() -> Self {
        General {
            pidfile: "burrow.pid".into(),
            stdout_logfile: String::new(),
            access_control_allow_origin: String::new(),
            env_var_prefix: "burrow".into(),
            state_file: String::new(),
            state_interval: 300,
        }
    }
}

/// `[logging]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Logging {
    /// Log file; empty = standard output.
    pub filename: String,
    /// debug, info, warn, error, panic, fatal.
    pub level: String,
    /// MB before rotation.
    pub maxsize: i64,
    /// Rotated files kept.
    pub maxbackups: i64,
    /// Days rotated files are kept.
    pub maxage: i64,
    /// Rotated file names in local time.
    pub use_localtime: bool,
    /// Gzip rotated files.
    pub use_compression: bool,
}

impl Default for Logging {
    fn default() -> Self {
        Logging {
            filename: String::new(),
            level: "info".into(),
            maxsize: 100,
            maxbackups: 10,
            maxage: 30,
            use_localtime: false,
            use_compression: false,
        }
    }
}

/// `[zookeeper]`: notifier leader election among instances (only with notifiers).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Zookeeper {
    /// Ensemble, `host:port` each.
    pub servers: Vec<String>,
    /// Session timeout (s).
    pub timeout: i64,
    /// Root path of Burrow's nodes.
    pub root_path: String,
    /// `[tls.X]` profile.
    pub tls: String,
}

impl Default for Zookeeper {
    fn default() -> Self {
        Zookeeper {
            servers: Vec::new(),
            timeout: 6,
            root_path: "/burrow".into(),
            tls: String::new(),
        }
    }
}

/// `[iam.X]`: accepted and checked; the client refuses to use it (MSK IAM is not supported).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct IamProfile {
    /// AWS region.
    pub region: String,
    /// Role to assume.
    pub role_arn: String,
    /// Named AWS profile.
    pub profile: String,
}

/// `[cluster.X]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// `kafka`.
    pub class_name: String,
    /// Bootstrap brokers.
    pub servers: Vec<String>,
    /// `[client-profile.X]` name.
    pub client_profile: String,
    /// Seconds between broker end-offset rounds.
    pub offset_refresh: i64,
    /// Seconds between metadata refreshes.
    pub topic_refresh: i64,
    /// Seconds between groups-reaper sweeps; 0 = off.
    pub groups_reaper_refresh: i64,
    /// burrow-rs: lag in seconds in `/metrics` (the timestamps of the records lagging groups
    /// stand before, fetched every `offset-refresh`).
    pub lag_seconds: bool,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            class_name: String::new(),
            servers: Vec::new(),
            client_profile: String::new(),
            offset_refresh: 10,
            topic_refresh: 60,
            groups_reaper_refresh: 0,
            lag_seconds: false,
        }
    }
}

/// `[consumer.X]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ConsumerConfig {
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
    /// ZooKeeper session timeout (kafka_zk).
    pub zookeeper_timeout: i64,
    /// Burrow's old key: rejected.
    pub group_whitelist: Option<String>,
    /// Burrow's old key: rejected.
    pub group_blacklist: Option<String>,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
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
            zookeeper_timeout: 30,
            group_whitelist: None,
            group_blacklist: None,
        }
    }
}

/// `[httpserver.X]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct HttpServerConfig {
    /// `host:port`; the host may be blank (all interfaces).
    pub address: String,
    /// Seconds (header read timeout, shutdown grace).
    pub timeout: i64,
    /// `[tls.Y]` profile with certfile and keyfile.
    pub tls: String,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        HttpServerConfig {
            address: String::new(),
            timeout: 300,
            tls: String::new(),
        }
    }
}

/// `[notifier.X]`: every key of the `http`, `email` and `null` classes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct NotifierConfig {
    /// `http`, `email` or `null`.
    pub class_name: String,
    /// Seconds between evaluations of each group.
    pub interval: i64,
    /// Seconds between two open notifications (default: interval).
    pub send_interval: Option<i64>,
    /// Minimum status to notify (1 OK, 2 WARN, 3 ERR).
    pub threshold: i64,
    /// Only groups matching this regex.
    pub group_allowlist: String,
    /// Not groups matching this regex.
    pub group_denylist: String,
    /// Strings exposed to templates.
    pub extras: BTreeMap<String, String>,
    /// Template of open notifications.
    pub template_open: String,
    /// Template of close notifications.
    pub template_close: String,
    /// Send close notifications.
    pub send_close: bool,
    /// Send only the first open notification of an incident.
    pub send_once: bool,
    /// http: URL template of open notifications.
    pub url_open: String,
    /// http: URL template of close notifications.
    pub url_close: String,
    /// http: method of open notifications.
    pub method_open: String,
    /// http: method of close notifications.
    pub method_close: String,
    /// http: request timeout (s).
    pub timeout: i64,
    /// http: TCP keepalive (s).
    pub keepalive: i64,
    /// http: no connection reuse.
    pub disable_http_keepalive: bool,
    /// http: extra headers.
    pub headers: BTreeMap<String, String>,
    /// http/email: user name.
    pub username: String,
    /// http/email: password.
    pub password: String,
    /// http/email: extra CA file.
    pub extra_ca: String,
    /// http/email: skip certificate verification.
    pub noverify: Option<bool>,
    /// email: SMTP server.
    pub server: String,
    /// email: SMTP port.
    pub port: i64,
    /// email: sender.
    pub from: String,
    /// email: recipients, comma-separated.
    pub to: String,
    /// email: "", plain or crammd5.
    pub auth_type: String,
    /// Burrow's old key: rejected.
    pub group_whitelist: Option<String>,
    /// Burrow's old key: rejected.
    pub group_blacklist: Option<String>,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        NotifierConfig {
            class_name: String::new(),
            interval: 60,
            send_interval: None,
            threshold: 2,
            group_allowlist: String::new(),
            group_denylist: String::new(),
            extras: BTreeMap::new(),
            template_open: String::new(),
            template_close: String::new(),
            send_close: false,
            send_once: false,
            url_open: String::new(),
            url_close: String::new(),
            method_open: "POST".into(),
            method_close: "POST".into(),
            timeout: 5,
            keepalive: 300,
            disable_http_keepalive: false,
            headers: BTreeMap::new(),
            username: String::new(),
            password: String::new(),
            extra_ca: String::new(),
            noverify: None,
            server: String::new(),
            port: 0,
            from: String::new(),
            to: String::new(),
            auth_type: String::new(),
            group_whitelist: None,
            group_blacklist: None,
        }
    }
}

/// The whole configuration, checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// `[general]`.
    pub general: General,
    /// `[logging]`.
    pub logging: Logging,
    /// `[zookeeper]`, when present.
    pub zookeeper: Option<Zookeeper>,
    /// `[client-profile.*]`.
    pub client_profiles: BTreeMap<String, ClientProfile>,
    /// `[tls.*]`.
    pub tls: BTreeMap<String, TlsProfile>,
    /// `[sasl.*]`.
    pub sasl: BTreeMap<String, SaslProfile>,
    /// `[iam.*]`.
    pub iam: BTreeMap<String, IamProfile>,
    /// `[cluster.*]`, in file order.
    pub cluster_modules: Vec<(String, ClusterConfig)>,
    /// `[consumer.*]`, in file order.
    pub consumers: Vec<(String, ConsumerConfig)>,
    /// `[httpserver.*]`, in file order.
    pub httpservers: Vec<(String, HttpServerConfig)>,
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
    /// Environment variables that overrode a key (variable = key), for the startup log.
    pub env_applied: Vec<String>,
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
            env_applied: Vec::new(),
        }
    }

    /// What `serve` runs without a file: one cluster `local` at `localhost:9092` with its
    /// consumer module, HTTP on `127.0.0.1:8000`.
    pub fn serve_defaults() -> Self {
        let mut c = Self::defaults();
        c.cluster_modules.push((
            "local".into(),
            ClusterConfig {
                class_name: "kafka".into(),
                servers: vec!["localhost:9092".into()],
                ..ClusterConfig::default()
            },
        ));
        c.clusters.push("local".into());
        c.consumers.push((
            "local".into(),
            ConsumerConfig {
                class_name: "kafka".into(),
                cluster: "local".into(),
                servers: vec!["localhost:9092".into()],
                ..ConsumerConfig::default()
            },
        ));
        c.httpservers.push((
            "default".into(),
            HttpServerConfig {
                address: "127.0.0.1:8000".into(),
                ..HttpServerConfig::default()
            },
        ));
        c
    }

    /// Reads and checks a file, with overrides from the process environment.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Self::parse_with_env(&text, &|k| std::env::var(k).ok())
            .with_context(|| format!("config {}", path.display()))
    }

    /// Parses and checks the text of a file, without environment overrides.
    #[cfg(test)]
    pub fn parse(text: &str) -> Result<Self> {
        Self::parse_with_env(text, &|_| None)
    }

    /// Parses and checks the text of a file; `env` looks up environment variables.
    pub fn parse_with_env(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let mut table: toml::Table = text.parse()?;
        for (key, value) in &table {
            if !SINGLE.contains(&key.as_str()) && !MODULES.contains(&key.as_str()) {
                bail!(
                    "{key}: unknown section (Burrow's sections are {}, {})",
                    SINGLE.join(", "),
                    MODULES.join(", ")
                );
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
        let mut config = Config::defaults();
        config.env_applied = apply_env(&mut table, env)?;

        config.general = single(&table, "general")?.unwrap_or_default();
        config.logging = single(&table, "logging")?.unwrap_or_default();
        config.zookeeper = single(&table, "zookeeper")?;
        config.client_profiles = modules::<ClientProfile>(&table, "client-profile")?
            .into_iter()
            .collect();
        config.tls = modules::<TlsProfile>(&table, "tls")?.into_iter().collect();
        config.sasl = modules::<SaslProfile>(&table, "sasl")?
            .into_iter()
            .collect();
        config.iam = modules::<IamProfile>(&table, "iam")?.into_iter().collect();
        config.cluster_modules = modules(&table, "cluster")?;
        config.consumers = modules(&table, "consumer")?;
        config.httpservers = modules(&table, "httpserver")?;
        config.notifiers = modules(&table, "notifier")?;
        config.clusters = config
            .cluster_modules
            .iter()
            .map(|(n, _)| n.clone())
            .collect();

        let storage = modules::<StorageConfig>(&table, "storage")?;
        if storage.len() > 1 {
            let names: Vec<&str> = storage.iter().map(|(n, _)| n.as_str()).collect();
            bail!(
                "storage: only one storage module may be configured, found {}",
                names.join(", ")
            );
        }
        if let Some((name, s)) = storage.into_iter().next() {
            s.validate(&format!("storage.{name}"))?;
            config.storage = s;
            config.storage_name = name;
            config.storage_configured = true;
        }
        let evaluator = modules::<EvaluatorConfig>(&table, "evaluator")?;
        if evaluator.len() > 1 {
            let names: Vec<&str> = evaluator.iter().map(|(n, _)| n.as_str()).collect();
            bail!(
                "evaluator: only one evaluator module may be configured, found {}",
                names.join(", ")
            );
        }
        if let Some((name, e)) = evaluator.into_iter().next() {
            e.validate(&format!("evaluator.{name}"))?;
            config.evaluator = e;
            config.evaluator_name = name;
        }
        config.validate()?;
        Ok(config)
    }

    /// Cross-section checks: references, classes, ranges, addresses, regexes.
    fn validate(&self) -> Result<()> {
        const LEVELS: &[&str] = &["debug", "info", "warn", "error", "panic", "fatal"];
        if !LEVELS.contains(&self.logging.level.as_str()) {
            bail!(
                "logging.level: unknown level {:?} (expected one of {})",
                self.logging.level,
                LEVELS.join(", ")
            );
        }
        for (key, v) in [
            ("logging.maxsize", self.logging.maxsize),
            ("logging.maxbackups", self.logging.maxbackups),
            ("logging.maxage", self.logging.maxage),
        ] {
            if v < 0 {
                bail!("{key}: must not be negative, got {v}");
            }
        }
        if self.general.state_interval < 1 {
            bail!(
                "general.state-interval: must be at least 1 second, got {}",
                self.general.state_interval
            );
        }
        if !self.general.state_file.is_empty() {
            let file = Path::new(&self.general.state_file);
            let dir = match file.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            if !dir.is_dir() {
                bail!(
                    "general.state-file: {}: the directory {} does not exist",
                    self.general.state_file,
                    dir.display()
                );
            }
            if file.is_dir() {
                bail!(
                    "general.state-file: {} is a directory",
                    self.general.state_file
                );
            }
        }
        if let Some(zk) = &self.zookeeper {
            for s in &zk.servers {
                check_host_port("zookeeper.servers", s, false)?;
            }
            if zk.timeout <= 0 {
                bail!(
                    "zookeeper.timeout: must be at least 1 second, got {}",
                    zk.timeout
                );
            }
            if zk.servers.is_empty() {
                bail!("zookeeper.servers: required (host:port list)");
            }
            burrow_zk::validate_path("zookeeper.root-path", &zk.root_path)?;
            self.check_tls_ref("zookeeper.tls", &zk.tls)?;
            self.zookeeper_tls()?;
        }
        for (name, p) in &self.client_profiles {
            self.check_tls_ref(&format!("client-profile.{name}.tls"), &p.tls)?;
            if !p.sasl.is_empty() && !self.sasl.contains_key(&p.sasl) {
                bail!("client-profile.{name}.sasl: no [sasl.{}] section", p.sasl);
            }
            if !p.iam.is_empty() && !self.iam.contains_key(&p.iam) {
                bail!("client-profile.{name}.iam: no [iam.{}] section", p.iam);
            }
            self.client_config(&p_key(name), name)?;
        }
        for (name, iam) in &self.iam {
            if iam.region.is_empty() {
                bail!("iam.{name}.region: required");
            }
        }
        for (name, c) in &self.cluster_modules {
            let key = format!("cluster.{name}");
            if c.class_name != "kafka" {
                bail!(
                    "{key}.class-name: unknown cluster class {:?} (expected \"kafka\")",
                    c.class_name
                );
            }
            if c.servers.is_empty() {
                bail!("{key}.servers: at least one broker is required");
            }
            for s in &c.servers {
                check_host_port(&format!("{key}.servers"), s, false)?;
            }
            self.check_profile_ref(&format!("{key}.client-profile"), &c.client_profile)?;
            for (k, v) in [
                ("offset-refresh", c.offset_refresh),
                ("topic-refresh", c.topic_refresh),
            ] {
                if v <= 0 {
                    bail!("{key}.{k}: must be at least 1 second, got {v}");
                }
            }
            if c.groups_reaper_refresh < 0 {
                bail!(
                    "{key}.groups-reaper-refresh: must not be negative, got {}",
                    c.groups_reaper_refresh
                );
            }
        }
        for (name, c) in &self.consumers {
            let key = format!("consumer.{name}");
            legacy_lists(&key, &c.group_whitelist, &c.group_blacklist)?;
            match c.class_name.as_str() {
                "kafka" | "kafka_zk" => {}
                other => bail!("{key}.class-name: unknown consumer class {other:?} (expected \"kafka\" or \"kafka_zk\")"),
            }
            if c.cluster.is_empty() {
                bail!("{key}.cluster: required (the name of a [cluster.*] section)");
            }
            if !self.clusters.contains(&c.cluster) {
                bail!(
                    "{key}.cluster: no [cluster.{}] section (cluster names are case-sensitive)",
                    c.cluster
                );
            }
            if c.servers.is_empty() {
                bail!("{key}.servers: at least one server is required");
            }
            for s in &c.servers {
                check_host_port(&format!("{key}.servers"), s, false)?;
            }
            GroupFilter::new(&c.group_allowlist, &c.group_denylist, &key)?;
            if c.class_name == "kafka" {
                self.check_profile_ref(&format!("{key}.client-profile"), &c.client_profile)?;
                if c.offsets_topic.is_empty() {
                    bail!("{key}.offsets-topic: must not be empty");
                }
                if c.backfill_earliest && !c.start_latest {
                    bail!("{key}.backfill-earliest: only meaningful with start-latest = true");
                }
            } else {
                if c.zookeeper_timeout <= 0 {
                    bail!(
                        "{key}.zookeeper-timeout: must be at least 1 second, got {}",
                        c.zookeeper_timeout
                    );
                }
                burrow_zk::validate_path(
                    &format!("{key}.zookeeper-path"),
                    &format!("{}/consumers", c.zookeeper_path),
                )?;
            }
        }
        for (name, h) in &self.httpservers {
            let key = format!("httpserver.{name}");
            if h.address.is_empty() {
                bail!("{key}.address: required (host:port, the host may be blank)");
            }
            check_host_port(&format!("{key}.address"), &h.address, true)?;
            if h.timeout <= 0 {
                bail!(
                    "{key}.timeout: must be at least 1 second, got {}",
                    h.timeout
                );
            }
            if !h.tls.is_empty() {
                let Some(t) = self.tls.get(&h.tls) else {
                    bail!("{key}.tls: no [tls.{}] section", h.tls);
                };
                if t.certfile.is_empty() || t.keyfile.is_empty() {
                    bail!(
                        "tls.{}.certfile: an HTTPS listener needs certfile and keyfile",
                        h.tls
                    );
                }
            }
        }
        for (name, n) in &self.notifiers {
            let key = format!("notifier.{name}");
            legacy_lists(&key, &n.group_whitelist, &n.group_blacklist)?;
            let custom = crate::notifiers::is_custom_class(&n.class_name);
            match n.class_name.as_str() {
                "http" | "email" | "null" => {}
                _ if custom => {}
                "slack" => bail!("{key}.class-name: the slack class was removed from Burrow 1.x; use class-name = \"http\" with a Slack template"),
                other => bail!("{key}.class-name: unknown notifier class {other:?} (expected http, email or null)"),
            }
            if n.interval <= 0 {
                bail!(
                    "{key}.interval: must be at least 1 second, got {}",
                    n.interval
                );
            }
            if !(1..=3).contains(&n.threshold) {
                bail!(
                    "{key}.threshold: must be 1 (OK), 2 (WARN) or 3 (ERR), got {}",
                    n.threshold
                );
            }
            if n.template_open.is_empty() && !custom {
                bail!("{key}.template-open: required");
            }
            if n.send_close && n.template_close.is_empty() {
                bail!("{key}.template-close: required with send-close = true");
            }
            GroupFilter::new(&n.group_allowlist, &n.group_denylist, &key)?;
            // Burrow requires url-close with send-close, yet its own example config sets
            // send-close without url-close: close notifications then go to url-open.
            if n.class_name == "http" && n.url_open.is_empty() {
                bail!("{key}.url-open: required");
            }
            if n.class_name == "email" {
                if n.from.is_empty() {
                    bail!("{key}.from: required");
                }
                if n.to.is_empty() {
                    bail!("{key}.to: required");
                }
                check_host_port(
                    &format!("{key}.server"),
                    &format!("{}:{}", n.server, n.port),
                    false,
                )?;
                burrow_notify::SmtpAuth::parse(&format!("{key}.auth-type"), &n.auth_type)?;
            }
        }
        Ok(())
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
        let tls = burrow_zk::ZkTls::from_files(
            &format!("tls.{}", zk.tls),
            &t.cafile,
            &t.certfile,
            &t.keyfile,
            t.noverify,
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

    /// The Kafka client settings of a profile reference (empty = defaults).
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
        Ok(ClientConfig::from_profiles(&p_key(profile), p, tls, sasl)?)
    }

    /// The client-profile object of the config endpoints (no password).
    fn profile_view(&self, name: &str) -> Value {
        let default = ClientProfile::default();
        let p = self.client_profiles.get(name).unwrap_or(&default);
        let tls = self.tls.get(&p.tls).map_or(Value::Null, |t| {
            json!({"name": p.tls, "noverify": t.noverify, "certfile": t.certfile, "keyfile": t.keyfile, "cafile": t.cafile})
        });
        let sasl = self.sasl.get(&p.sasl).map_or(Value::Null, |s| {
            json!({"name": p.sasl, "handshake-first": s.handshake_first, "username": s.username})
        });
        json!({"name": name, "client-id": p.client_id, "kafka-version": p.kafka_version, "tls": tls, "sasl": sasl})
    }

    /// The configuration as the HTTP config endpoints show it.
    pub fn view(&self) -> burrow_http::ConfigView {
        let mut main = serde_json::Map::new();
        main.insert(
            "general".into(),
            json!({
                "pidfile": self.general.pidfile,
                "stdout-logfile": self.general.stdout_logfile,
                "access-control-allow-origin": self.general.access_control_allow_origin,
            }),
        );
        let l = &self.logging;
        main.insert("logging".into(), json!({
            "filename": l.filename, "max-size": l.maxsize, "max-backups": l.maxbackups, "max-age": l.maxage,
            "use-local-time": l.use_localtime, "use-compression": l.use_compression, "level": l.level,
        }));
        let zk = self.zookeeper.clone().unwrap_or_default();
        main.insert(
            "zookeeper".into(),
            json!({"servers": zk.servers, "timeout": zk.timeout, "root-path": zk.root_path}),
        );
        let mut http = serde_json::Map::new();
        for (name, h) in &self.httpservers {
            http.insert(
                name.clone(),
                json!({"address": h.address, "tls": h.tls, "timeout": h.timeout}),
            );
        }
        main.insert("httpserver".into(), Value::Object(http));
        burrow_http::ConfigView {
            main,
            storage: vec![(self.storage_name.clone(), json!({
                "class-name": self.storage.class_name, "intervals": self.storage.intervals,
                "min-distance": self.storage.min_distance, "group-allowlist": self.storage.group_allowlist,
                "expire-group": self.storage.expire_group,
            }))],
            evaluator: vec![(self.evaluator_name.clone(), json!({
                "class-name": self.evaluator.class_name, "expire-cache": self.evaluator.expire_cache,
            }))],
            cluster: self.cluster_modules.iter().map(|(name, c)| (name.clone(), json!({
                "class-name": c.class_name, "servers": c.servers, "client-profile": self.profile_view(&c.client_profile),
                "topic-refresh": c.topic_refresh, "offset-refresh": c.offset_refresh,
            }))).collect(),
            consumer: self.consumers.iter().map(|(name, c)| {
                let zk_timeout = if c.class_name == "kafka_zk" { c.zookeeper_timeout } else { 0 };
                (name.clone(), json!({
                    "class-name": c.class_name, "cluster": c.cluster, "servers": c.servers,
                    "group-allowlist": c.group_allowlist, "zookeeper-path": c.zookeeper_path,
                    "zookeeper-timeout": zk_timeout, "client-profile": self.profile_view(&c.client_profile),
                    "offsets-topic": c.offsets_topic, "start-latest": c.start_latest,
                }))
            }).collect(),
            notifier: self.notifiers.iter().map(|(name, n)| (name.clone(), notifier_view(n))).collect(),
        }
    }
}

fn notifier_view(n: &NotifierConfig) -> Value {
    let noverify = n.noverify.map(|b| b.to_string()).unwrap_or_default();
    let mut v = json!({
        "class-name": n.class_name, "group-allowlist": n.group_allowlist, "interval": n.interval,
        "threshold": n.threshold,
    });
    let Value::Object(m) = &mut v else { return v };
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    match n.class_name.as_str() {
        "http" => {
            put("timeout", json!(n.timeout));
            put("keepalive", json!(n.keepalive));
            put("url-open", json!(n.url_open));
            put("url-close", json!(n.url_close));
            put("method-open", json!(n.method_open));
            put("method-close", json!(n.method_close));
            put("template-open", json!(n.template_open));
            put("template-close", json!(n.template_close));
            put("extra", json!(n.extras));
            put("send-close", json!(n.send_close));
            put("extra-ca", json!(n.extra_ca));
            put("noverify", json!(noverify));
        }
        "email" => {
            put("template-open", json!(n.template_open));
            put("template-close", json!(n.template_close));
            put("extra", json!(n.extras));
            put("send-close", json!(n.send_close));
            put("server", json!(n.server));
            put("port", json!(n.port));
            put("auth-type", json!(n.auth_type));
            put("username", json!(n.username));
            put("from", json!(n.from));
            put("to", json!(n.to));
            put("extra-ca", json!(n.extra_ca));
            put("noverify", json!(noverify));
        }
        _ => {
            put("template-open", json!(n.template_open));
            put("template-close", json!(n.template_close));
            put("extra", json!(n.extras));
            put("send-close", json!(n.send_close));
        }
    }
    v
}

fn p_key(profile: &str) -> String {
    if profile.is_empty() {
        "client-profile".into()
    } else {
        format!("client-profile.{profile}")
    }
}

fn legacy_lists(key: &str, white: &Option<String>, black: &Option<String>) -> Result<()> {
    if white.is_some() {
        bail!("{key}.group-whitelist: please change configurations to allowlist and denylist (group-allowlist)");
    }
    if black.is_some() {
        bail!("{key}.group-blacklist: please change configurations to allowlist and denylist (group-denylist)");
    }
    Ok(())
}

/// Checks `host:port` (host may be blank when `blank_host`), as Burrow validates addresses.
fn check_host_port(key: &str, value: &str, blank_host: bool) -> Result<()> {
    let Some((host, port)) = value.rsplit_once(':') else {
        bail!("{key}: {value:?} is not host:port");
    };
    if port.parse::<u16>().is_err() {
        bail!("{key}: {value:?} has an invalid port");
    }
    if host.is_empty() && !blank_host {
        bail!("{key}: {value:?} has no host");
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.chars().any(|c| c.is_whitespace() || c == '/') {
        bail!("{key}: {value:?} has an invalid host");
    }
    Ok(())
}

/// Deserializes `[section]`, naming the key in errors.
fn single<T: DeserializeOwned>(table: &toml::Table, section: &str) -> Result<Option<T>> {
    table
        .get(section)
        .map(|v| deserialize(v, section))
        .transpose()
}

/// Deserializes every `[kind.<name>]`, in file order.
fn modules<T: DeserializeOwned>(table: &toml::Table, kind: &str) -> Result<Vec<(String, T)>> {
    let Some(t) = table.get(kind).and_then(toml::Value::as_table) else {
        return Ok(Vec::new());
    };
    t.iter()
        .map(|(name, v)| Ok((name.clone(), deserialize(v, &format!("{kind}.{name}"))?)))
        .collect()
}

fn deserialize<T: DeserializeOwned>(value: &toml::Value, prefix: &str) -> Result<T> {
    serde_path_to_error::deserialize(value.clone()).map_err(|e| {
        let path = e.path().to_string();
        let key = if path == "." {
            prefix.to_string()
        } else {
            format!("{prefix}.{path}")
        };
        anyhow!("{key}: {}", e.into_inner())
    })
}

/// The environment variable of a key path: prefix, then the path with `.` and `-` as `_`,
/// upper-cased (viper's rule).
fn env_name(prefix: &str, path: &str) -> String {
    format!("{prefix}_{path}")
        .replace(['.', '-'], "_")
        .to_ascii_uppercase()
}

/// Applies `BURROW_<SECTION>_<NAME>_<KEY>` overrides to every key of every section present (and
/// of `[general]` and `[logging]`, which always exist). Returns `VAR=key` for each override.
fn apply_env(table: &mut toml::Table, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<String>> {
    let prefix_key = "general.env-var-prefix";
    let mut prefix = table
        .get("general")
        .and_then(|g| g.get("env-var-prefix"))
        .and_then(toml::Value::as_str)
        .unwrap_or("burrow")
        .to_string();
    if let Some(p) = env(&env_name(&prefix, prefix_key)) {
        prefix = p;
    }
    let mut applied = Vec::new();
    let mut apply = |section: &mut toml::Table, path: &str, kind: &str| -> Result<()> {
        for (key, ty) in schema(kind) {
            let full = format!("{path}.{key}");
            let var = env_name(&prefix, &full);
            let Some(raw) = env(&var) else { continue };
            let value = convert(&raw, *ty)
                .map_err(|m| anyhow!("{full} (from environment variable {var}): {m}"))?;
            section.insert((*key).to_string(), value);
            applied.push(format!("{var}={full}"));
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
            apply(t, kind, kind)?;
        }
    }
    if table
        .get("general")
        .and_then(toml::Value::as_table)
        .is_some_and(|t| t.is_empty())
    {
        table.remove("general");
    }
    if table
        .get("logging")
        .and_then(toml::Value::as_table)
        .is_some_and(|t| t.is_empty())
    {
        table.remove("logging");
    }
    for kind in MODULES {
        let Some(t) = table.get_mut(*kind).and_then(toml::Value::as_table_mut) else {
            continue;
        };
        for (name, section) in t.iter_mut() {
            if let Some(s) = section.as_table_mut() {
                apply(s, &format!("{kind}.{name}"), kind)?;
            }
        }
    }
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
            [cluster.Remote]
            class-name = "kafka"
            servers = ["kafka01:9092"]
            offset-refresh = 30
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
        // Decision 1: names keep their case.
        assert_eq!(c.clusters, vec!["local", "Remote"]);
        assert_eq!(c.cluster_modules[1].1.offset_refresh, 30);
        assert_eq!(c.cluster_modules[0].1.topic_refresh, 60);
    }

    #[test]
    fn zookeeper_tls_profile_is_read_at_the_check() {
        let pki = burrow_testkit::TestPki::new("cli-zk-tls", &["127.0.0.1"]);
        let with = |tls: &str| {
            Config::parse(&format!(
                "[zookeeper]\nservers = [\"z:2281\"]\ntls = \"zk\"\n[tls.zk]\n{tls}"
            ))
        };
        let ca = pki.path("ca.pem").display().to_string();
        let c = with(&format!("cafile = \"{ca}\"")).unwrap();
        assert!(c.zookeeper_tls().unwrap().is_some());
        let err = |tls: &str| format!("{:#}", with(tls).unwrap_err());
        assert!(err("").contains("tls.zk.cafile: required"), "{}", err(""));
        let e = err(&format!("cafile = \"{ca}\"\nnoverify = true"));
        assert!(e.contains("tls.zk.noverify: not supported"), "{e}");
        let e = err("cafile = \"/nonexistent/ca.pem\"");
        assert!(e.contains("tls.zk.cafile: /nonexistent/ca.pem"), "{e}");
    }

    #[test]
    fn state_file_keys_are_checked() {
        let dir = std::env::temp_dir();
        let ok = format!(
            "[general]\nstate-file = \"{}/burrow-state.json\"",
            dir.display()
        );
        let c = Config::parse(&ok).unwrap();
        assert_eq!(c.general.state_interval, 300);
        let err = |text: &str| format!("{:#}", Config::parse(text).unwrap_err());
        assert!(
            err("[general]\nstate-file = \"/nonexistent-dir/state.json\"")
                .contains("general.state-file: /nonexistent-dir/state.json: the directory")
        );
        assert!(
            err(&format!("[general]\nstate-file = \"{}\"", dir.display()))
                .contains("is a directory")
        );
        assert!(err("[general]\nstate-interval = 0").contains("general.state-interval"));
    }

    #[test]
    fn email_auth_types_are_the_ones_the_notifier_speaks() {
        let email = |auth: &str| {
            Config::parse(&format!(
                "[zookeeper]\nservers = [\"z:2181\"]\n[notifier.m]\nclass-name = \"email\"\n\
                 template-open = \"open.tmpl\"\nserver = \"smtp\"\nport = 587\n\
                 from = \"a@example.com\"\nto = \"b@example.com\"\nauth-type = \"{auth}\""
            ))
        };
        for ok in ["", "plain", "PLAIN", "login", "Login"] {
            email(ok).unwrap_or_else(|e| panic!("{ok:?}: {e:#}"));
        }
        let err = format!("{:#}", email("crammd5").unwrap_err());
        assert!(err.contains("notifier.m.auth-type"), "{err}");
        assert!(err.contains("CRAM-MD5 is not supported"), "{err}");
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
        let cluster = "[cluster.local]\nclass-name = \"kafka\"\nservers = [\"k:9092\"]\n";
        assert!(err(&format!("{cluster}[consumer.c]\nclass-name = \"kafka\"\ncluster = \"Local\"\nservers = [\"k:9092\"]")).contains("consumer.c.cluster: no [cluster.Local] section"));
        assert!(err(&format!("{cluster}[consumer.c]\nclass-name = \"kafka\"\ncluster = \"local\"\nservers = [\"k:9092\"]\nclient-profile = \"nope\"")).contains("consumer.c.client-profile: no [client-profile.nope]"));
        assert!(
            err("[cluster.c]\nclass-name = \"kafka\"\nservers = [\"k\"]")
                .contains("cluster.c.servers")
        );
        assert!(err(
            "[cluster.c]\nclass-name = \"kafka\"\nservers = [\"k:1\"]\noffset-refresh = 0"
        )
        .contains("cluster.c.offset-refresh"));
        assert!(
            err("[cluster.c]\nclass-name = \"kafak\"\nservers = [\"k:1\"]")
                .contains("cluster.c.class-name")
        );
        assert!(err("[httpserver.h]\naddress = \"nope\"").contains("httpserver.h.address"));
        assert!(err("[httpserver.h]\naddress = \":80\"\ntls = \"t\"")
            .contains("httpserver.h.tls: no [tls.t]"));
        assert!(err("[logging]\nlevel = \"loud\"").contains("logging.level"));
        assert!(err("[client-profile.p]\nkafka-version = \"9.x\"")
            .contains("client-profile.p.kafka-version"));
        assert!(err("[notifier.n]\nclass-name = \"slack\"").contains("notifier.n.class-name"));
    }

    #[test]
    fn environment_overrides_keys_of_present_sections() {
        let text =
            "[cluster.local]\nclass-name = \"kafka\"\nservers = [\"k:9092\"]\n[storage.default]\n";
        let env = |k: &str| match k {
            "BURROW_CLUSTER_LOCAL_OFFSET_REFRESH" => Some("30".to_string()),
            "BURROW_CLUSTER_LOCAL_SERVERS" => Some("a:1 b:2".to_string()),
            "BURROW_STORAGE_DEFAULT_INTERVALS" => Some("20".to_string()),
            "BURROW_GENERAL_PIDFILE" => Some("/run/burrow.pid".to_string()),
            "BURROW_CLUSTER_OTHER_OFFSET_REFRESH" => Some("1".to_string()),
            _ => None,
        };
        let c = Config::parse_with_env(text, &env).unwrap();
        assert_eq!(c.cluster_modules[0].1.offset_refresh, 30);
        assert_eq!(c.cluster_modules[0].1.servers, vec!["a:1", "b:2"]);
        assert_eq!(c.storage.intervals, 20);
        assert_eq!(c.general.pidfile, "/run/burrow.pid");
        assert_eq!(c.clusters, vec!["local"], "overrides never create modules");
        let bad = |k: &str| (k == "BURROW_STORAGE_DEFAULT_INTERVALS").then(|| "many".to_string());
        let e = format!("{:#}", Config::parse_with_env(text, &bad).unwrap_err());
        assert!(
            e.contains("storage.default.intervals")
                && e.contains("BURROW_STORAGE_DEFAULT_INTERVALS"),
            "{e}"
        );
        let prefixed = "[general]\nenv-var-prefix = \"lag\"\n";
        let env = |k: &str| (k == "LAG_GENERAL_PIDFILE").then(|| "x.pid".to_string());
        assert_eq!(
            Config::parse_with_env(prefixed, &env)
                .unwrap()
                .general
                .pidfile,
            "x.pid"
        );
    }

    #[test]
    fn defaults_without_sections() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.storage.intervals, 10);
        assert!(!c.storage_configured);
        assert_eq!(c.evaluator.expire_cache, 10);
        assert!(c.clusters.is_empty());
        assert_eq!(c.general.pidfile, "burrow.pid");
        assert_eq!(c.logging.level, "info");
    }

    #[test]
    fn example_config_views_match_burrows_samples() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(dir.join("tests/fixtures/burrow-example.toml")).unwrap();
        let c = Config::parse(&text).unwrap();
        let view = c.view();
        let sample = |name: &str| -> Value {
            let p = dir.join("../burrow-http/tests/samples").join(name);
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        };
        let main = sample("get-v3-config.json");
        for k in ["general", "logging", "zookeeper", "httpserver"] {
            assert_eq!(view.main[k], main[k], "{k}");
        }
        let keys: Vec<&String> = view.main.keys().collect();
        assert_eq!(keys, ["general", "logging", "zookeeper", "httpserver"]);
        assert_eq!(
            view.storage[0].1,
            sample("get-v3-config-storage-detail.json")["module"]
        );
        assert_eq!(
            view.notifier[0].1,
            sample("get-v3-config-notifier-http-detail.json")["module"]
        );
        let mut cluster = sample("get-v3-kafka-cluster.json")["module"].clone();
        cluster["servers"] = json!(c.cluster_modules[0].1.servers);
        assert_eq!(view.cluster[0].1, cluster);
        let mut consumer = sample("get-v3-config-consumer-detail.json")["module"].clone();
        consumer["servers"] = json!(c.consumers[0].1.servers);
        consumer["group-allowlist"] = json!("");
        assert_eq!(view.consumer[0].1, consumer);
        let names: Vec<&str> = view.consumer.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["local", "local_zk"], "file order");
    }

    #[test]
    fn tls_and_sasl_profiles_show_without_password() {
        let c = Config::parse(
            r#"
            [tls.mytls]
            cafile = "/etc/burrow/ca.pem"
            certfile = "/etc/burrow/client.pem"
            keyfile = "/etc/burrow/client.key"
            [sasl.mysasl]
            username = "burrow"
            password = "hunter2"
            [client-profile.secure]
            client-id = "burrow"
            tls = "mytls"
            sasl = "mysasl"
            [cluster.local]
            class-name = "kafka"
            servers = ["k:9092"]
            client-profile = "secure"
            "#,
        )
        .unwrap();
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let p = dir.join(
            "../burrow-http/tests/samples/get-v3-kafka-cluster-tls-sasl-profile-fragment.json",
        );
        let want: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        let view = c.view();
        assert_eq!(view.cluster[0].1["client-profile"], want);
        assert!(!view.cluster[0].1.to_string().contains("hunter2"));
    }
}
