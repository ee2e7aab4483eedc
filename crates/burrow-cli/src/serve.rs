//! `burrow-cli serve`: Burrow's server. Storage, evaluator, HTTP listeners, cluster modules and
//! consumer modules, started in Burrow's order and stopped in reverse.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::ValueEnum;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{debug, error, info, warn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{filter::LevelFilter, reload, Layer, Registry};

use burrow_eval::CachingEvaluator;
use burrow_http::{Api, LogLevel, LogLevelControl, MetricsExporter, Readiness, ServeOptions};
use burrow_ingest::cluster::{self, ClusterSettings};
use burrow_ingest::consumer::{self, ConsumerSettings};
use burrow_ingest::IngestMetrics;
use burrow_storage::{GroupFilter, Storage};

use crate::config::Config;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Text on a terminal, JSON otherwise.
    Auto,
    /// Human-readable lines.
    Text,
    /// One JSON object per line (like Burrow's zap logs).
    Json,
}

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Burrow configuration file (`burrow.toml`). Without one: a cluster `local` at
    /// localhost:9092 with its consumer module, HTTP on 127.0.0.1:8000.
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// Burrow's flag: the directory holding `burrow.toml`.
    #[arg(long, conflicts_with = "config")]
    pub config_dir: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value = "auto")]
    pub log_format: LogFormat,
    /// Check the configuration and exit (0 when it is valid).
    #[arg(long)]
    pub check_config: bool,
}

/// Exit code of a configuration or start failure (Burrow's).
const EXIT_FAILED: u8 = 1;

/// Runs the server until SIGINT, SIGTERM or SIGQUIT.
pub fn run(args: &Args) -> Result<ExitCode> {
    let path = match (&args.config, &args.config_dir) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(dir)) => Some(dir.join("burrow.toml")),
        (None, None) => None,
    };
    let config = match &path {
        Some(p) => Config::load(p),
        None => Ok(Config::serve_defaults()),
    };
    let mut config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("burrow-cli serve: {e:#}");
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    };
    if config.httpservers.is_empty() {
        config.httpservers = Config::serve_defaults().httpservers;
    }
    // Notifier modules: templates read and test-rendered, TLS files and addresses checked.
    let modules = {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let _entered = rt.enter();
        crate::notifiers::build(&config)
    };
    let modules = match modules {
        Ok(m) => m,
        Err(e) => {
            eprintln!("burrow-cli serve: {e:#}");
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    };
    if args.check_config {
        println!("configuration OK");
        return Ok(ExitCode::SUCCESS);
    }
    let level = match init_logging(&config, args.log_format) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("burrow-cli serve: {e:#}");
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("burrow")
        .build()?;
    let result = runtime.block_on(serve(config, modules, level));
    runtime.shutdown_timeout(Duration::from_secs(5));
    match result {
        Ok(()) => {
            eprintln!("Stopped Burrow at {}", now_text());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            error!(error = %format!("{e:#}"), "Burrow failed");
            eprintln!("Burrow failed at {}: {e:#}", now_text());
            Ok(ExitCode::from(EXIT_FAILED))
        }
    }
}

fn now_text() -> String {
    let ms = burrow_core::now_ms();
    format!("{}.{:03} (unix time)", ms / 1000, ms % 1000)
}

/// The log level, changeable at runtime through `/v3/admin/loglevel`.
struct TracingLevel {
    handle: reload::Handle<LevelFilter, Registry>,
    current: Mutex<LogLevel>,
}

impl LogLevelControl for TracingLevel {
    fn level(&self) -> LogLevel {
        self.current.lock().map(|l| *l).unwrap_or(LogLevel::Info)
    }
    fn set_level(&self, level: LogLevel) {
        let filter = match level {
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Error | LogLevel::Fatal => LevelFilter::ERROR,
        };
        if self.handle.reload(filter).is_ok() {
            if let Ok(mut l) = self.current.lock() {
                *l = level;
            }
        }
    }
}

fn open_log(path: &str, rotate_existing: bool) -> Result<std::fs::File> {
    let p = Path::new(path);
    if rotate_existing && p.exists() {
        // Burrow's stdout-logfile: the previous file is kept under a timestamped name.
        let stamp = burrow_core::now_ms() / 1000;
        let _ = std::fs::rename(p, format!("{path}.{stamp}"));
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .with_context(|| format!("cannot open log file {path}"))
}

fn init_logging(config: &Config, format: LogFormat) -> Result<Arc<TracingLevel>> {
    let level = match config.logging.level.as_str() {
        "debug" => LogLevel::Debug,
        "warn" => LogLevel::Warn,
        "error" => LogLevel::Error,
        "panic" | "fatal" => LogLevel::Fatal,
        _ => LogLevel::Info,
    };
    let (filter, handle) = reload::Layer::new(LevelFilter::INFO);
    let file = if !config.logging.filename.is_empty() {
        Some(open_log(&config.logging.filename, false).context("logging.filename")?)
    } else if !config.general.stdout_logfile.is_empty() {
        Some(open_log(&config.general.stdout_logfile, true).context("general.stdout-logfile")?)
    } else {
        None
    };
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => file.is_some() || !std::io::stdout().is_terminal(),
    };
    let fmt = tracing_subscriber::fmt::layer().with_target(false);
    let layer = match (file, json) {
        (Some(f), true) => fmt
            .json()
            .flatten_event(true)
            .with_writer(Mutex::new(f))
            .boxed(),
        (Some(f), false) => fmt.with_ansi(false).with_writer(Mutex::new(f)).boxed(),
        (None, true) => fmt
            .json()
            .flatten_event(true)
            .with_writer(std::io::stdout)
            .boxed(),
        (None, false) => fmt
            .with_ansi(std::io::stdout().is_terminal())
            .with_writer(std::io::stdout)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init()
        .map_err(|e| anyhow!("logging: {e}"))?;
    let control = Arc::new(TracingLevel {
        handle,
        current: Mutex::new(LogLevel::Info),
    });
    control.set_level(level);
    Ok(control)
}

/// Burrow's PID file: refuses to start when another live process holds it.
struct PidFile(Option<PathBuf>);

impl PidFile {
    fn create(path: &str) -> Result<PidFile> {
        if path.is_empty() {
            return Ok(PidFile(None));
        }
        let p = PathBuf::from(path);
        let own = std::process::id();
        if let Ok(text) = std::fs::read_to_string(&p) {
            if let Ok(pid) = text.trim().parse::<u32>() {
                if pid != own && Path::new(&format!("/proc/{pid}")).exists() {
                    bail!("general.pidfile: {path} names process {pid}, which is running (another Burrow?)");
                }
            }
        }
        std::fs::write(&p, format!("{own}\n"))
            .with_context(|| format!("general.pidfile: cannot write {path}"))?;
        Ok(PidFile(Some(p)))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn tls_acceptor(config: &Config, name: &str) -> Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let t = config
        .tls
        .get(name)
        .ok_or_else(|| anyhow!("no [tls.{name}] section"))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&t.certfile)
        .and_then(|i| i.collect())
        .map_err(|e| anyhow!("tls.{name}.certfile: {}: {e}", t.certfile))?;
    let key = PrivateKeyDer::from_pem_file(&t.keyfile)
        .map_err(|e| anyhow!("tls.{name}.keyfile: {}: {e}", t.keyfile))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| anyhow!("tls.{name}.certfile: {e}"))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(server)))
}

async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut quit)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::quit()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return "SIGINT";
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
        _ = quit.recv() => "SIGQUIT",
    }
}

async fn serve(
    config: Config,
    modules: Vec<burrow_notify::Module>,
    level: Arc<TracingLevel>,
) -> Result<()> {
    for applied in &config.env_applied {
        info!("environment override {applied}");
    }
    // Everything that can fail on bad input is checked before anything starts.
    // The client settings of a module, with its TLS files read now so that a bad file stops the
    // start instead of failing every reconnect.
    let client = |key: String, profile: &str| -> Result<burrow_kafka::ClientConfig> {
        let client = config.client_config(&key, profile)?;
        if let Some(t) = &client.tls {
            burrow_kafka::tls::connector(profile, t)?;
        }
        Ok(client)
    };
    let cluster_clients = config
        .cluster_modules
        .iter()
        .map(|(name, c)| client(format!("cluster.{name}.client-profile"), &c.client_profile))
        .collect::<Result<Vec<_>>>()?;
    let consumer_clients = config
        .consumers
        .iter()
        .map(|(name, c)| client(format!("consumer.{name}.client-profile"), &c.client_profile))
        .collect::<Result<Vec<_>>>()?;
    let mut listeners = Vec::new();
    for (name, h) in &config.httpservers {
        let tls = if h.tls.is_empty() {
            None
        } else {
            Some(tls_acceptor(&config, &h.tls)?)
        };
        let addr = if h.address.starts_with(':') {
            format!("0.0.0.0{}", h.address)
        } else {
            h.address.clone()
        };
        let listener = TcpListener::bind(&addr)
            .await
            .with_context(|| format!("httpserver.{name}.address: cannot listen on {addr}"))?;
        let timeout = Duration::from_secs(h.timeout.max(1) as u64);
        listeners.push((name.clone(), listener, ServeOptions { tls, timeout }));
    }
    let pidfile = PidFile::create(&config.general.pidfile)?;

    // Storage and evaluator.
    let storage = Arc::new(Storage::with_key_prefix(
        config.storage.clone(),
        &config.clusters,
        &format!("storage.{}", config.storage_name),
    )?);
    let evaluator = Arc::new(CachingEvaluator::new(
        storage.clone(),
        config.evaluator.clone(),
    )?);

    // HTTP.
    let health = prometheus::Registry::new();
    #[cfg(target_os = "linux")]
    health.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ))?;

    // Warm restart: the saved windows, owners and broker offsets before any module starts, and
    // where each consumer had stored its offsets topic up to.
    let state = match config.general.state_file.as_str() {
        "" => None,
        path => Some(Arc::new(crate::state::StateFile::new(
            Path::new(path),
            &health,
        )?)),
    };
    let restored = match &state {
        Some(state) => {
            let (state, storage) = (state.clone(), storage.clone());
            tokio::task::spawn_blocking(move || state.load(&storage)).await?
        }
        None => Default::default(),
    };
    let resume = restored.readers;
    let metrics = IngestMetrics::new(&health)?;
    let notify_metrics = burrow_notify::NotifyMetrics::new(&health)?;
    let zk_registry = health.clone();
    // Lag in seconds, for the clusters that ask for it.
    let time_lags: std::collections::BTreeMap<String, Arc<burrow_ingest::time_lag::TimeLag>> =
        config
            .cluster_modules
            .iter()
            .filter(|(_, c)| c.lag_seconds)
            .map(|(name, _)| {
                (
                    name.clone(),
                    Arc::new(burrow_ingest::time_lag::TimeLag::new()),
                )
            })
            .collect();
    let mut exporter = MetricsExporter::new(storage.clone(), evaluator.clone(), health);
    if !time_lags.is_empty() {
        let time_lags = time_lags.clone();
        exporter = exporter.with_lag_seconds(Arc::new(
            move |now, cluster, topic, partition, offset, lag| {
                time_lags
                    .get(cluster)?
                    .seconds(now, topic, partition, offset, lag)
            },
        ));
    }
    let exporter = Arc::new(exporter);
    let readiness = Readiness::new();
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let origin = Some(config.general.access_control_allow_origin.clone());
    let api = Api::builder(storage.clone(), evaluator.clone())
        .config(config.view())
        .readiness(readiness.clone())
        .log_level(level)
        .metrics(exporter.clone())
        .host(host)
        .allow_origin(origin)
        .build();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut servers = tokio::task::JoinSet::new();
    for (name, listener, options) in listeners {
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        info!(listener = %name, %addr, tls = options.tls.is_some(), "HTTP server listening");
        let mut stop = stop_rx.clone();
        let api = api.clone();
        servers.spawn(async move {
            let shutdown = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            burrow_http::serve(listener, api, options, shutdown).await
        });
    }
    let every = Duration::from_secs(config.evaluator.expire_cache.max(1) as u64);
    let metrics_task = tokio::spawn(exporter.clone().run(every));
    // Burrow expires groups only when they are read; purge the ones nobody reads.
    let purge_task = {
        let (storage, evaluator) = (storage.clone(), evaluator.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let now = burrow_core::now_ms();
                let purged = storage.purge_expired(now);
                evaluator.purge_expired(now);
                if !purged.is_empty() {
                    info!(groups = purged.len(), "expired groups purged");
                }
            }
        })
    };

    // Cluster modules, then consumer modules.
    let mut clusters = Vec::new();
    for ((name, c), client) in config.cluster_modules.iter().zip(cluster_clients) {
        let spares = config
            .consumers
            .iter()
            .filter(|(_, k)| k.cluster == *name)
            .map(|(n, _)| format!("burrow-{n}"))
            .collect();
        let settings = ClusterSettings {
            name: name.clone(),
            servers: c.servers.clone(),
            client,
            offset_refresh: Duration::from_secs(c.offset_refresh as u64),
            topic_refresh: Duration::from_secs(c.topic_refresh as u64),
            groups_reaper_refresh: (c.groups_reaper_refresh > 0)
                .then(|| Duration::from_secs(c.groups_reaper_refresh as u64)),
            reaper_spares: spares,
            time_lag: time_lags.get(name).cloned(),
        };
        info!(cluster = %name, servers = %c.servers.join(","), "starting cluster module");
        clusters.push(cluster::start(settings, storage.clone(), metrics.clone()));
    }
    let mut consumers = Vec::new();
    let mut zk_consumers = Vec::new();
    let mut zk_ready = Vec::new();
    let zk_metrics = burrow_zk::kafka_zk::ZkConsumerMetrics::new(&zk_registry)?;
    for ((name, c), client) in config.consumers.iter().zip(consumer_clients) {
        if c.class_name == "kafka_zk" {
            let settings = burrow_zk::kafka_zk::ZkConsumerSettings {
                name: name.clone(),
                cluster: c.cluster.clone(),
                zk: burrow_zk::ZkSettings {
                    servers: c.servers.clone(),
                    session_timeout: Duration::from_secs(c.zookeeper_timeout as u64),
                    // Burrow's kafka_zk module has no TLS setting.
                    tls: None,
                },
                base_path: format!("{}/consumers", c.zookeeper_path),
                filter: GroupFilter::new(
                    &c.group_allowlist,
                    &c.group_denylist,
                    &format!("consumer.{name}"),
                )?,
            };
            info!(consumer = %name, path = %settings.base_path, "starting kafka_zk consumer module");
            let Some(cluster) = clusters.iter().find(|h| h.name() == c.cluster) else {
                bail!("consumer.{name}.cluster: no cluster module {}", c.cluster);
            };
            let h = burrow_zk::kafka_zk::start(
                settings,
                storage.clone(),
                zk_metrics.clone(),
                cluster.first_round(),
            );
            zk_ready.push(h.ready());
            zk_consumers.push(h);
            continue;
        }
        let Some(cluster) = clusters.iter().find(|h| h.name() == c.cluster) else {
            bail!("consumer.{name}.cluster: no cluster module {}", c.cluster);
        };
        let settings = ConsumerSettings {
            name: name.clone(),
            cluster: c.cluster.clone(),
            servers: c.servers.clone(),
            client,
            offsets_topic: c.offsets_topic.clone(),
            start_latest: c.start_latest,
            backfill_earliest: c.backfill_earliest,
            resume: resume.get(name).cloned().unwrap_or_default(),
            filter: GroupFilter::new(
                &c.group_allowlist,
                &c.group_denylist,
                &format!("consumer.{name}"),
            )?,
        };
        info!(consumer = %name, topic = %c.offsets_topic, "starting consumer module");
        consumers.push(consumer::start(
            settings,
            storage.clone(),
            metrics.clone(),
            Some(cluster.refresher()),
            cluster.first_round(),
        ));
    }
    let (ready_tx, ready_rx) = watch::channel(false);
    let ready_task = {
        let mut flags: Vec<watch::Receiver<bool>> = consumers.iter().map(|c| c.ready()).collect();
        flags.extend(zk_ready);
        let readiness = readiness.clone();
        tokio::spawn(async move {
            for f in &mut flags {
                let _ = f.wait_for(|r| *r).await;
            }
            readiness.set(true);
            let _ = ready_tx.send(true);
            info!("ready: every consumer module has read the backlog of its offsets topic");
        })
    };

    // Notifiers: evaluations start once the backlog is read; a single instance always leads.
    let coordinator = if modules.is_empty() {
        None
    } else {
        // Incidents open before a restart go on (same id, send-interval counted from before).
        let mut c = burrow_notify::Coordinator::new(evaluator.clone(), notify_metrics)
            .restore(restored.incidents);
        for m in modules {
            info!(notifier = %m.name, interval = m.policy.interval, threshold = m.policy.threshold, "starting notifier module");
            c = c.module(m);
        }
        // Several instances elect one sender through ZooKeeper; without a [zookeeper] section
        // this instance is the only one and always sends (decision 20).
        let (fixed_tx, fixed_rx) = watch::channel(burrow_notify::Role::Leader);
        let (election, role) = match &config.zookeeper {
            Some(zk) => {
                let settings = burrow_zk::ZkSettings {
                    servers: zk.servers.clone(),
                    session_timeout: Duration::from_secs(zk.timeout as u64),
                    tls: config.zookeeper_tls()?,
                };
                info!(servers = %zk.servers.join(","), root = %zk.root_path, "joining the notifier leader election");
                let e = burrow_zk::leader::start(settings, zk.root_path.clone());
                let role = e.role();
                // A leader cut off from ZooKeeper holds what falls due and loses it if its
                // session expires; the instance taking over sends again what fell due within
                // two session timeouts (a pause before the expiry, and the session re-armed
                // by a restarting ZooKeeper).
                c = c.handover_window(Duration::from_secs(2 * zk.timeout.max(1) as u64));
                (Some(e), role)
            }
            None => (None, fixed_rx),
        };
        Some((c.start(ready_rx, role), election, fixed_tx))
    };
    let incidents_reader = coordinator.as_ref().map(|(c, _, _)| c.incidents_reader());

    // The state file, saved every `state-interval` (and at shutdown, below).
    let positions: Vec<_> = consumers.iter().map(|c| c.positions_handle()).collect();
    let save_task = state.as_ref().map(|state| {
        let (state, storage) = (state.clone(), storage.clone());
        let (positions, resume) = (positions.clone(), resume.clone());
        let every = Duration::from_secs(config.general.state_interval as u64);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let incidents = match &incidents_reader {
                    Some(r) => r.get().await,
                    None => Default::default(),
                };
                let readers = crate::state::readers(&positions, &resume);
                let saved = state
                    .clone()
                    .save_blocking(storage.clone(), readers, incidents)
                    .await;
                match saved {
                    Ok(()) => debug!("state saved"),
                    Err(e) => warn!(error = %format!("{e:#}"), "saving the state failed"),
                }
            }
        })
    });

    info!("Started Burrow");
    let signal = tokio::select! {
        s = shutdown_signal() => s,
        Some(r) = servers.join_next() => {
            // A listener stopped on its own: an error.
            match r {
                Ok(Err(e)) => return Err(e.into()),
                Ok(Ok(())) => "listener stopped",
                Err(e) => return Err(anyhow!("listener task: {e}")),
            }
        }
    };
    info!(signal, "shutting down");
    ready_task.abort();
    if let Some(t) = &save_task {
        t.abort();
    }
    let mut incidents = burrow_notify::SavedIncidents::new();
    if let Some((c, election, _fixed)) = coordinator {
        if state.is_some() {
            incidents = c.incidents().await;
        }
        c.stop(Duration::from_secs(5)).await;
        if let Some(e) = election {
            e.stop().await;
        }
    }
    for z in zk_consumers {
        z.stop().await;
    }
    if let Some(t) = save_task {
        let _ = t.await;
    }
    // Positions before the consumers stop (what they store meanwhile is in the snapshot too,
    // and dropped as duplicates when read again).
    let readers = crate::state::readers(&positions, &resume);
    for c in consumers {
        c.stop().await;
    }
    for c in clusters {
        c.stop().await;
    }
    if let Some(state) = state {
        let started = std::time::Instant::now();
        match state
            .save_blocking(storage.clone(), readers, incidents)
            .await
        {
            Ok(()) => info!(
                took_ms = started.elapsed().as_millis() as u64,
                "state saved"
            ),
            Err(e) => error!(error = %format!("{e:#}"), "saving the state failed"),
        }
    }
    let _ = stop_tx.send(true);
    while servers.join_next().await.is_some() {}
    metrics_task.abort();
    purge_task.abort();
    drop(pidfile);
    Ok(())
}
