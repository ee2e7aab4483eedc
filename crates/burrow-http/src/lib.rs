//! Burrow's HTTP API (v3), health endpoints and Prometheus `/metrics`, on hyper.
//!
//! [`Api`] answers every route of Burrow's HTTP server with the same paths, JSON field names and
//! order, messages and status codes ([`Api::respond`] needs no socket, so tests and embedders can
//! call it directly). [`serve`] runs it on a listener, optionally with TLS, until a shutdown
//! future resolves. [`MetricsExporter`] evaluates every group in the background and keeps the
//! exposition text ready, so a scrape never evaluates groups inline.
//!
//! ```
//! use std::sync::Arc;
//! use burrow_eval::{CachingEvaluator, EvaluatorConfig};
//! use burrow_http::{Api, ConfigView};
//! use burrow_storage::{Storage, StorageConfig};
//!
//! let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
//! let evaluator = Arc::new(CachingEvaluator::new(storage.clone(), EvaluatorConfig::default()).unwrap());
//! let api = Api::builder(storage, evaluator).host("burrow-01").build();
//! let resp = api.respond(&hyper::Method::GET, "/v3/kafka", b"");
//! assert_eq!(resp.status(), 200);
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use burrow_eval::CachingEvaluator;
use burrow_storage::Storage;

mod config;
mod metrics;
mod routes;
mod server;

pub use config::{overlapping, tls_acceptor, ListenerSection};
pub use metrics::{render_consumer_metrics, LagSeconds, MetricsExporter};
pub use server::{serve, ServeOptions};

/// The evaluator the API reads statuses from.
pub type Evaluator = CachingEvaluator<Arc<Storage>>;

/// Errors of the HTTP server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// Accepting connections failed.
    #[error("listener {addr}: {error}")]
    Io {
        /// Listen address.
        addr: String,
        /// The error (in the message, so not also a `source()`: a chain prints it once).
        error: std::io::Error,
    },
    /// A metric could not be registered or encoded.
    #[error("metrics: {0}")]
    Metrics(prometheus::Error),
}

impl From<prometheus::Error> for HttpError {
    fn from(e: prometheus::Error) -> Self {
        HttpError::Metrics(e)
    }
}

/// A log level as Burrow's `/v3/admin/loglevel` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// `debug` (also set by `trace`).
    Debug,
    /// `info`.
    Info,
    /// `warn` (also set by `warning`).
    Warn,
    /// `error`.
    Error,
    /// `fatal`: only errors are logged.
    Fatal,
}

impl LogLevel {
    /// Parses the names Burrow accepts, case-insensitively: debug, trace (→ debug), info,
    /// warning/warn, error, fatal.
    pub fn parse(name: &str) -> Option<LogLevel> {
        match name.to_ascii_lowercase().as_str() {
            "debug" | "trace" => Some(LogLevel::Debug),
            "info" => Some(LogLevel::Info),
            "warn" | "warning" => Some(LogLevel::Warn),
            "error" => Some(LogLevel::Error),
            "fatal" => Some(LogLevel::Fatal),
            _ => None,
        }
    }

    /// The name Burrow reports (zap's level names).
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Fatal => "fatal",
        }
    }
}

/// Reads and changes the process's log level (the CLI implements it on tracing-subscriber's
/// reload handle).
pub trait LogLevelControl: Send + Sync {
    /// The current level.
    fn level(&self) -> LogLevel;
    /// Sets the level.
    fn set_level(&self, level: LogLevel);
}

/// A log level that is only remembered (for tests and embedders without a logger).
#[derive(Debug)]
pub struct FixedLogLevel(std::sync::Mutex<LogLevel>);

impl FixedLogLevel {
    /// Starts at `level`.
    pub fn new(level: LogLevel) -> Self {
        FixedLogLevel(std::sync::Mutex::new(level))
    }
}

impl LogLevelControl for FixedLogLevel {
    fn level(&self) -> LogLevel {
        self.0.lock().map(|l| *l).unwrap_or(LogLevel::Info)
    }
    fn set_level(&self, level: LogLevel) {
        if let Ok(mut l) = self.0.lock() {
            *l = level;
        }
    }
}

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

/// Readiness: `/burrow/admin/ready` answers `READY` once this is set.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Not ready.
    pub fn new() -> Self {
        Self::default()
    }
    /// Marks the process ready (or not).
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::Release);
    }
    /// True once ready.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
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
