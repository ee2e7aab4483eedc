//! The API value every listener shares: storage, evaluator, and what the admin and config
//! routes show ([`ConfigView`], [`Readiness`], the log level).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::{Evaluator, FixedLogLevel, LagSeconds, LogLevel, LogLevelControl, MetricsExporter};
use burrow_storage::Storage;

/// The configuration as the config endpoints show it, already shaped as Burrow's JSON (the CLI
/// builds it from the parsed file, with passwords left out).
#[derive(Debug, Clone, Default)]
pub struct ConfigView {
    /// `/v3/config`: the `general`, `logging`, `zookeeper` and `httpserver` objects, in order.
    pub main: serde_json::Map<String, serde_json::Value>,
    /// `[storage.*]` modules: name and detail object, in file order.
    pub storage: Vec<(String, serde_json::Value)>,
    /// `[evaluator.*]` modules.
    pub evaluator: Vec<(String, serde_json::Value)>,
    /// `[cluster.*]` modules (also served at `/v3/kafka/<cluster>`).
    pub cluster: Vec<(String, serde_json::Value)>,
    /// `[consumer.*]` modules.
    pub consumer: Vec<(String, serde_json::Value)>,
    /// `[notifier.*]` modules.
    pub notifier: Vec<(String, serde_json::Value)>,
}

/// Readiness: `/burrow/admin/ready` answers `READY` once set, `STARTING` before, and
/// `UNAVAILABLE: <reason>` (503) while [`Readiness::set_unavailable`] holds a reason.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<ReadinessState>);

#[derive(Debug, Default)]
struct ReadinessState {
    ready: AtomicBool,
    unavailable: std::sync::RwLock<Option<String>>,
}

impl Readiness {
    /// Not ready.
    pub fn new() -> Self {
        Self::default()
    }
    /// Marks the process ready (or not).
    pub fn set(&self, ready: bool) {
        self.0.ready.store(ready, Ordering::Release);
    }
    /// True once ready (and not unavailable).
    pub fn is_ready(&self) -> bool {
        self.0.ready.load(Ordering::Acquire) && self.unavailable().is_none()
    }
    /// Says why a ready process cannot serve the truth now (every cluster unreachable), or
    /// clears it with `None`.
    pub fn set_unavailable(&self, reason: Option<String>) {
        *self
            .0
            .unavailable
            .write()
            .unwrap_or_else(|e| e.into_inner()) = reason;
    }
    /// Why the process is unavailable, when it is.
    pub fn unavailable(&self) -> Option<String> {
        self.0
            .unavailable
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

pub(crate) struct Inner {
    pub(crate) storage: Arc<Storage>,
    pub(crate) evaluator: Arc<Evaluator>,
    pub(crate) config: ConfigView,
    pub(crate) readiness: Readiness,
    pub(crate) log_level: Arc<dyn LogLevelControl>,
    pub(crate) metrics: Option<Arc<MetricsExporter>>,
    pub(crate) host: String,
    pub(crate) allow_origin: Option<String>,
    pub(crate) clock: fn() -> i64,
    /// Lag in seconds, and the clusters whose status bodies carry it (`lag-seconds`).
    pub(crate) lag_seconds: Option<(LagSeconds, Arc<BTreeSet<String>>)>,
}

/// The HTTP API: cheap to clone, shared by every listener.
#[derive(Clone)]
pub struct Api {
    pub(crate) inner: Arc<Inner>,
}

/// Builds an [`Api`].
pub struct ApiBuilder {
    inner: Inner,
}

impl Api {
    /// Starts a builder over the shared storage and evaluator.
    pub fn builder(storage: Arc<Storage>, evaluator: Arc<Evaluator>) -> ApiBuilder {
        ApiBuilder {
            inner: Inner {
                storage,
                evaluator,
                config: ConfigView::default(),
                readiness: Readiness::new(),
                log_level: Arc::new(FixedLogLevel::new(LogLevel::Info)),
                metrics: None,
                host: String::new(),
                allow_origin: None,
                clock: burrow_core::now_ms,
                lag_seconds: None,
            },
        }
    }
}

impl ApiBuilder {
    /// The configuration shown by the config endpoints.
    pub fn config(mut self, config: ConfigView) -> Self {
        self.inner.config = config;
        self
    }
    /// The readiness flag of `/burrow/admin/ready`.
    pub fn readiness(mut self, readiness: Readiness) -> Self {
        self.inner.readiness = readiness;
        self
    }
    /// The log level control of `/v3/admin/loglevel`.
    pub fn log_level(mut self, control: Arc<dyn LogLevelControl>) -> Self {
        self.inner.log_level = control;
        self
    }
    /// The exporter behind `/metrics` (without one, `/metrics` answers 404).
    pub fn metrics(mut self, exporter: Arc<MetricsExporter>) -> Self {
        self.inner.metrics = Some(exporter);
        self
    }
    /// The host name reported in every response's `request.host`.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.inner.host = host.into();
        self
    }
    /// `general.access-control-allow-origin`: sent as `Access-Control-Allow-Origin` when set.
    pub fn allow_origin(mut self, origin: Option<String>) -> Self {
        self.inner.allow_origin = origin.filter(|o| !o.is_empty());
        self
    }
    /// Lag in seconds in the status and lag bodies of `clusters` (their `lag-seconds`): each
    /// partition and the group get a `lag_seconds` field, from `lag_seconds` (the same source
    /// as `/metrics`). Other clusters' bodies stay byte for byte Burrow's.
    pub fn lag_seconds(mut self, clusters: BTreeSet<String>, lag_seconds: LagSeconds) -> Self {
        self.inner.lag_seconds = Some((lag_seconds, Arc::new(clusters)));
        self
    }
    /// The clock (ms since the epoch); tests pin it.
    pub fn clock(mut self, clock: fn() -> i64) -> Self {
        self.inner.clock = clock;
        self
    }
    /// The API.
    pub fn build(self) -> Api {
        Api {
            inner: Arc::new(self.inner),
        }
    }
}
