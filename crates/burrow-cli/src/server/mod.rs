//! Burrow's server as a value: [`Server::build`] assembles it from checked [`Settings`], and
//! [`Server::run`] runs it until a shutdown future resolves, then stops it in reverse order.
//!
//! Build, in order (each a function below): listeners bound, PID file, storage and evaluator,
//! the state file restored, metrics, the HTTP API. Nothing has started yet: a
//! failure leaves nothing running.
//!
//! Run, in order: cluster modules, consumer modules, the server's own tasks (listeners, the
//! metrics refresh, the expiry sweep, readiness, the state saver) in one [`JoinSet`] under one
//! [`CancellationToken`], then the notifier coordinator. Stop: notifiers, ZooKeeper consumers,
//! Kafka consumers, clusters, the last state save, then the listeners drain within their
//! `timeout`; whatever is still running after that grace is aborted.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use burrow_cli::{Extensions, Server, ServerOptions, Settings};
//! let file = std::path::Path::new("burrow.toml");
//! let settings = Settings::check(Some(file), &Extensions::default())?;
//! let server = Server::build(settings, ServerOptions::default()).await?;
//! server.run(async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use burrow_eval::CachingEvaluator;
use burrow_http::{Api, LogLevelControl, MetricsExporter, Readiness};
use burrow_ingest::time_lag::TimeLag;
use burrow_storage::Storage;

use crate::settings::{ListenerPlan, Settings};
use crate::state::{Restored, StateFile};

mod modules;
mod notify_source;
mod pidfile;
mod tasks;

pub use pidfile::PidFile;

/// What the embedding program gives the server besides its settings.
#[derive(Default, Clone)]
pub struct ServerOptions {
    /// The log level control behind `/v3/admin/loglevel` (a fixed `info` without one).
    pub log_level: Option<Arc<dyn LogLevelControl>>,
}

/// Storage and the evaluator, shared by every module.
#[derive(Clone)]
pub(crate) struct Core {
    pub storage: Arc<Storage>,
    pub evaluator: Arc<burrow_http::Evaluator>,
}

/// Each metric family's handle.
pub(crate) struct Metrics {
    pub ingest: burrow_ingest::IngestMetrics,
    pub notify: burrow_notify::NotifyMetrics,
    pub zk: burrow_zk::kafka_zk::ZkConsumerMetrics,
    pub exporter: Arc<MetricsExporter>,
    /// Lag in seconds and the clusters with `lag-seconds`, for `/metrics` and the API.
    pub lag_seconds: Option<(std::collections::BTreeSet<String>, burrow_http::LagSeconds)>,
    /// Requests the listeners refused for want of credentials.
    pub auth: burrow_http::AuthMetrics,
}

/// An assembled server, not yet running.
pub struct Server {
    settings: Settings,
    notifiers: Vec<burrow_notify::Module>,
    listeners: Vec<(ListenerPlan, TcpListener)>,
    pidfile: PidFile,
    core: Core,
    state: Option<Arc<StateFile>>,
    restored: Restored,
    metrics: Metrics,
    time_lags: BTreeMap<String, Arc<TimeLag>>,
    readiness: Readiness,
    api: Api,
}

impl Server {
    /// Assembles the server: everything that can fail on its input fails here, before any
    /// module starts.
    pub async fn build(mut settings: Settings, options: ServerOptions) -> Result<Server> {
        for (key, var) in &settings.config.env.keys {
            info!("environment override {var}={key}");
        }
        let notifiers = std::mem::take(&mut settings.notifiers);
        let listeners = bind_listeners(&settings.listeners).await?;
        let pidfile = PidFile::create(&settings.config.general.pidfile)?;
        let core = open_storage(&settings)?;
        let registry = prometheus::Registry::new();
        let state = state_file(&settings, &registry)?;
        let restored = restore_state(&state, &core).await?;
        let time_lags = time_lag_tables(&settings);
        let metrics = register_metrics(registry, &core, &time_lags)?;
        let readiness = Readiness::new();
        let api = http_api(&settings, &core, &metrics, &readiness, options);
        Ok(Server {
            settings,
            notifiers,
            listeners,
            pidfile,
            core,
            state,
            restored,
            metrics,
            time_lags,
            readiness,
            api,
        })
    }

    /// The address each listener is bound to, by `[httpserver]` name (port 0 resolved).
    pub fn local_addrs(&self) -> Vec<(String, SocketAddr)> {
        self.listeners
            .iter()
            .filter_map(|(plan, l)| Some((plan.name.clone(), l.local_addr().ok()?)))
            .collect()
    }

    /// Runs until `shutdown` resolves (or a listener fails), then stops everything in reverse
    /// order. An error is the failure that stopped it.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let token = CancellationToken::new();
        let background = token.child_token();
        let mut tasks = JoinSet::new();
        let grace = self.drain_grace();
        let config = &self.settings.config;

        let mut ingest = modules::start_ingest(
            &self.settings,
            &self.core,
            &self.metrics,
            &self.restored,
            &self.time_lags,
        )?;
        tasks::spawn_listeners(
            &mut tasks,
            self.listeners,
            &self.api,
            &self.metrics.auth,
            &token,
        );
        let (ready_tx, ready_rx) = watch::channel(false);
        let flags = ingest.ready_flags();
        let watch = tasks::HealthWatch {
            clusters: ingest.cluster_health(),
            limit: config.general.unreachable_limit.get(),
            metrics: self.metrics.ingest.clone(),
        };
        tasks::spawn_readiness(
            &mut tasks,
            flags,
            self.readiness,
            watch,
            ready_tx,
            &background,
        );
        tasks::spawn_metrics_refresh(&mut tasks, &self.metrics.exporter, config, &background);
        tasks::spawn_expiry_sweep(&mut tasks, &self.core, &background);
        let notifiers = modules::start_notifiers(
            &self.settings,
            self.notifiers,
            &self.core,
            &self.metrics,
            self.restored.incidents,
            ready_rx,
        );
        let saver = self
            .state
            .map(|state| tasks::Saver::new(state, &self.core, &ingest, &notifiers));
        if let Some(saver) = &saver {
            let every = config.general.state_interval.get();
            tasks::spawn_periodic_save(&mut tasks, saver.clone(), every, &background);
        }
        info!("Started Burrow");

        let outcome = tasks::wait_for_stop(shutdown, &mut tasks).await;
        info!(reason = %outcome.reason(), "shutting down");
        background.cancel();
        let incidents = modules::stop_notifiers(notifiers, saver.is_some()).await;
        ingest.stop_zk_consumers().await;
        // Positions before the consumers stop (what they store meanwhile is in the snapshot
        // too, and dropped as duplicates when read again).
        let readers = saver.as_ref().map(tasks::Saver::readers);
        ingest.stop_kafka().await;
        if let (Some(saver), Some(readers)) = (saver, readers) {
            saver.final_save(readers, incidents).await;
        }
        token.cancel();
        tasks::drain(&mut tasks, grace).await;
        drop(self.pidfile);
        outcome.into_result()
    }

    /// How long the server's own tasks may take to finish at stop: the longest listener
    /// `timeout` (the HTTP drain), plus a little for the rest.
    fn drain_grace(&self) -> Duration {
        let longest = self
            .listeners
            .iter()
            .map(|(p, _)| p.options.timeout)
            .max()
            .unwrap_or_default();
        longest + Duration::from_secs(5)
    }
}

async fn bind_listeners(plans: &[ListenerPlan]) -> Result<Vec<(ListenerPlan, TcpListener)>> {
    let mut bound = Vec::new();
    for plan in plans {
        let listener = TcpListener::bind(&plan.address).await.with_context(|| {
            format!(
                "httpserver.{}.address: cannot listen on {}",
                plan.name, plan.address
            )
        })?;
        bound.push((plan.clone(), listener));
    }
    Ok(bound)
}

fn open_storage(settings: &Settings) -> Result<Core> {
    let config = &settings.config;
    let storage = Arc::new(Storage::with_key_prefix(
        config.storage.clone(),
        &config.clusters,
        &format!("storage.{}", config.storage_name),
    )?);
    let evaluator = Arc::new(CachingEvaluator::new(
        storage.clone(),
        config.evaluator.clone(),
    )?);
    Ok(Core { storage, evaluator })
}

fn state_file(
    settings: &Settings,
    registry: &prometheus::Registry,
) -> Result<Option<Arc<StateFile>>> {
    settings
        .state_file
        .as_deref()
        .map(|path| Ok(Arc::new(StateFile::new(Path::new(path), registry)?)))
        .transpose()
}

/// Warm restart: the saved windows, owners and broker offsets before any module starts, and
/// where each consumer had stored its offsets topic up to.
async fn restore_state(state: &Option<Arc<StateFile>>, core: &Core) -> Result<Restored> {
    let Some(state) = state else {
        return Ok(Restored::default());
    };
    let (state, storage) = (state.clone(), core.storage.clone());
    tokio::task::spawn_blocking(move || state.load(&storage))
        .await
        .map_err(|e| anyhow!("restoring the state file: {e}"))
}

/// Lag in seconds, for the clusters that ask for it.
fn time_lag_tables(settings: &Settings) -> BTreeMap<String, Arc<TimeLag>> {
    settings
        .clusters
        .iter()
        .filter(|c| c.section.lag_seconds)
        .map(|c| (c.name.clone(), Arc::new(TimeLag::new())))
        .collect()
}

fn register_metrics(
    registry: prometheus::Registry,
    core: &Core,
    time_lags: &BTreeMap<String, Arc<TimeLag>>,
) -> Result<Metrics> {
    #[cfg(target_os = "linux")]
    registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ))?;
    let ingest = burrow_ingest::IngestMetrics::new(&registry)?;
    let notify = burrow_notify::NotifyMetrics::new(&registry)?;
    let zk = burrow_zk::kafka_zk::ZkConsumerMetrics::new(&registry)?;
    let auth = burrow_http::AuthMetrics::new(&registry)?;
    let mut exporter = MetricsExporter::new(
        core.storage.clone(),
        core.evaluator.clone(),
        registry.clone(),
    );
    let lag_seconds = (!time_lags.is_empty()).then(|| {
        let tables = time_lags.clone();
        let seconds: burrow_http::LagSeconds =
            Arc::new(move |now, cluster, topic, partition, offset, lag| {
                tables
                    .get(cluster)?
                    .seconds(now, topic, partition, offset, lag)
            });
        let clusters: std::collections::BTreeSet<String> = time_lags.keys().cloned().collect();
        (clusters, seconds)
    });
    if let Some((_, seconds)) = &lag_seconds {
        exporter = exporter.with_lag_seconds(seconds.clone());
    }
    Ok(Metrics {
        ingest,
        notify,
        zk,
        exporter: Arc::new(exporter),
        lag_seconds,
        auth,
    })
}

fn http_api(
    settings: &Settings,
    core: &Core,
    metrics: &Metrics,
    readiness: &Readiness,
    options: ServerOptions,
) -> Api {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let origin = Some(settings.config.general.access_control_allow_origin.clone());
    let mut api = Api::builder(core.storage.clone(), core.evaluator.clone())
        .config(settings.config.view())
        .readiness(readiness.clone())
        .metrics(metrics.exporter.clone())
        .host(host)
        .allow_origin(origin);
    if let Some(level) = options.log_level {
        api = api.log_level(level);
    }
    if let Some((clusters, seconds)) = &metrics.lag_seconds {
        api = api.lag_seconds(clusters.clone(), seconds.clone());
    }
    api.build()
}

/// Logs a failure of the last phase of a stop (nothing is left to hand it to).
pub(crate) fn log_failure(what: &str, e: &anyhow::Error) {
    error!(error = %format!("{e:#}"), "{what} failed");
}
