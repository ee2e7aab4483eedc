//! The server's settings: a checked [`Config`] converted, once, into what each module runs with
//! (client settings with their TLS files read, group filters, listener options with their TLS
//! acceptors, ZooKeeper sessions). Everything a start refuses is refused here, so
//! `serve --check-config` and a start agree: both go through [`Settings::check`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use burrow_http::ServeOptions;
use burrow_ingest::{ClusterSection, ConsumerClass};
use burrow_kafka::ClientConfig;
use burrow_storage::GroupFilter;
use burrow_zk::kafka_zk::ZkConsumerSettings;
use burrow_zk::ZkSettings;

use crate::config::{default_listener, Config};
use crate::notifiers::Extensions;

/// A cluster module to start.
#[derive(Debug, Clone)]
pub struct ClusterPlan {
    /// `[cluster.<name>]`.
    pub name: String,
    /// Its section.
    pub section: ClusterSection,
    /// Its client settings.
    pub client: ClientConfig,
}

/// A consumer module to start.
#[derive(Debug, Clone)]
// A handful per process, built once: boxing would only add noise.
#[allow(clippy::large_enum_variant)]
pub enum ConsumerPlan {
    /// Class `kafka`: reads the offsets topic.
    Kafka {
        /// `[consumer.<name>]`.
        name: String,
        /// Its section.
        section: burrow_ingest::ConsumerSection,
        /// Its client settings.
        client: ClientConfig,
        /// Its group lists.
        filter: GroupFilter,
    },
    /// Class `kafka_zk`: reads old consumers' offsets from ZooKeeper.
    KafkaZk(ZkConsumerSettings),
    /// Class `kafka_admin`: polls the group APIs.
    KafkaAdmin(burrow_ingest::group_api::GroupApiSettings),
}

impl ConsumerPlan {
    /// The cluster the module's offsets belong to.
    pub fn cluster(&self) -> &str {
        match self {
            ConsumerPlan::Kafka { section, .. } => &section.cluster,
            ConsumerPlan::KafkaZk(z) => &z.cluster,
            ConsumerPlan::KafkaAdmin(a) => &a.cluster,
        }
    }
}

/// An HTTP listener to bind.
#[derive(Clone)]
pub struct ListenerPlan {
    /// `[httpserver.<name>]`.
    pub name: String,
    /// The address to bind (`:8000` is every interface).
    pub address: String,
    /// Timeout and TLS.
    pub options: ServeOptions,
}

/// The notifier leader election.
#[derive(Debug, Clone)]
pub struct ElectionPlan {
    /// The ensemble and session.
    pub zk: ZkSettings,
    /// `[zookeeper] root-path`.
    pub root_path: String,
}

/// Everything the server runs with, checked and converted.
pub struct Settings {
    /// The file as read (the `/v3/config` view, `[general]`, `[logging]`, storage, evaluator).
    pub config: Config,
    /// Cluster modules, in file order.
    pub clusters: Vec<ClusterPlan>,
    /// Consumer modules, in file order.
    pub consumers: Vec<ConsumerPlan>,
    /// HTTP listeners (`serve`'s default one when the file has none).
    pub listeners: Vec<ListenerPlan>,
    /// The leader election, with a `[zookeeper]` section.
    pub election: Option<ElectionPlan>,
    /// The state file, with `[general] state-file`.
    pub state_file: Option<PathBuf>,
    /// Notifier modules, built-in classes and the program's, ready to run.
    pub notifiers: Vec<burrow_notify::Module>,
}

impl Settings {
    /// Reads the file `serve` was given (or its defaults without one) and checks everything a
    /// start would, notifiers included, without binding or starting anything. Call it within a
    /// tokio runtime (the notifiers' HTTP clients need one).
    pub fn check(path: Option<&Path>, extensions: &Extensions) -> Result<Settings> {
        let config = match path {
            Some(p) => Config::load(p)?,
            None => Config::serve_defaults(&crate::config::process_environment())?,
        };
        let warnings = config.warnings.clone();
        Settings::from_config(config, extensions)
            .map_err(|e| crate::config::annotate_renamed(e, &warnings))
    }

    /// Converts a checked configuration; `extensions` are the notifier classes the program
    /// added. Call it within a tokio runtime.
    pub fn from_config(mut config: Config, extensions: &Extensions) -> Result<Settings> {
        if config.httpservers.is_empty() {
            config
                .httpservers
                .push(("default".into(), default_listener()));
        }
        config.general.check_files()?;
        config.logging.check_files()?;
        let profiles = client_profiles(&config)?;
        let clusters = cluster_plans(&config, &profiles);
        let consumers = consumer_plans(&config, &profiles)?;
        let listeners = listener_plans(&config)?;
        let election = match &config.zookeeper {
            Some(zk) => Some(ElectionPlan {
                zk: zk.settings(config.zookeeper_tls()?),
                root_path: zk.root_path.clone(),
            }),
            None => None,
        };
        let state_file = (!config.general.state_file.is_empty())
            .then(|| PathBuf::from(&config.general.state_file));
        let notifiers = notifier_modules(&config, extensions)?;
        Ok(Settings {
            config,
            clusters,
            consumers,
            listeners,
            election,
            state_file,
            notifiers,
        })
    }

    /// Binds and releases every listener's address, so that an address in use or not local is
    /// reported by `--check-config` as a start would report it.
    pub fn probe_listeners(&self) -> Result<()> {
        for l in &self.listeners {
            std::net::TcpListener::bind(&l.address).with_context(|| {
                format!(
                    "httpserver.{}.address: cannot listen on {}",
                    l.name, l.address
                )
            })?;
        }
        Ok(())
    }
}

/// The notifier modules: templates read and test-rendered, URLs checked, TLS files read.
fn notifier_modules(
    config: &Config,
    extensions: &Extensions,
) -> Result<Vec<burrow_notify::Module>> {
    config
        .notifiers
        .iter()
        .map(|(name, n)| extensions.build_module(name, n))
        .collect()
}

/// Every client profile's settings (and the default profile's, under ""), converted once,
/// TLS files read.
fn client_profiles(config: &Config) -> Result<BTreeMap<String, ClientConfig>> {
    std::iter::once(String::new())
        .chain(config.client_profiles.keys().cloned())
        .map(|name| {
            let client = config.client_config("client-profile", &name)?;
            client.check_tls_files()?;
            Ok((name, client))
        })
        .collect()
}

/// The client of a profile reference (checked to exist when the file was read).
fn client(profiles: &BTreeMap<String, ClientConfig>, profile: &str) -> ClientConfig {
    profiles.get(profile).cloned().unwrap_or_default()
}

fn cluster_plans(config: &Config, profiles: &BTreeMap<String, ClientConfig>) -> Vec<ClusterPlan> {
    config
        .cluster_modules
        .iter()
        .map(|(name, section)| ClusterPlan {
            name: name.clone(),
            section: section.clone(),
            client: client(profiles, &section.client_profile),
        })
        .collect()
}

fn consumer_plans(
    config: &Config,
    profiles: &BTreeMap<String, ClientConfig>,
) -> Result<Vec<ConsumerPlan>> {
    let mut plans = Vec::new();
    for (name, c) in &config.consumers {
        let key = format!("consumer.{name}");
        let filter = c.filter(&key)?;
        plans.push(match c.class(&key)? {
            ConsumerClass::Kafka => ConsumerPlan::Kafka {
                name: name.clone(),
                section: c.clone(),
                client: client(profiles, &c.client_profile),
                filter,
            },
            ConsumerClass::KafkaZk => ConsumerPlan::KafkaZk(ZkConsumerSettings {
                name: name.clone(),
                cluster: c.cluster.clone(),
                zk: ZkSettings {
                    servers: c.servers.clone(),
                    session_timeout: c.zookeeper_timeout.get(),
                    // Burrow's kafka_zk module has no TLS setting.
                    tls: None,
                },
                base_path: format!("{}/consumers", c.zookeeper_path),
                filter,
            }),
            ConsumerClass::KafkaAdmin => ConsumerPlan::KafkaAdmin(c.group_api_settings(
                name,
                client(profiles, &c.client_profile),
                filter,
            )),
        });
    }
    Ok(plans)
}

fn listener_plans(config: &Config) -> Result<Vec<ListenerPlan>> {
    let mut plans = Vec::new();
    for (name, h) in &config.httpservers {
        let tls = config.listener_tls(name, h)?;
        let mut options = h.options(&format!("httpserver.{name}"), tls)?;
        options.name = name.clone();
        plans.push(ListenerPlan {
            name: name.clone(),
            address: h.bind_address(),
            options,
        });
    }
    Ok(plans)
}

impl Extensions {
    /// A notifier module of a `[notifier.<name>]` section, of a built-in class or one of
    /// these extensions.
    pub fn build_module(
        &self,
        name: &str,
        n: &burrow_notify::NotifierConfig,
    ) -> Result<burrow_notify::Module> {
        // The section's own checks ran when the file was read; a class that is neither built in
        // nor one of these extensions is refused by `build_custom`.
        let key = format!("notifier.{name}");
        let templates = n
            .templates(&key)
            .with_context(|| format!("{key}.template-open / template-close"))?;
        let notifier = if n.is_built_in() {
            n.build_built_in(&key, templates)?
        } else {
            self.build_custom(name, n, templates)?
        };
        Ok(burrow_notify::Module {
            name: name.to_string(),
            policy: n.policy(&key)?,
            extras: Arc::new(n.extras.clone()),
            notifier,
            retry: burrow_notify::RetryPolicy::default(),
        })
    }
}
