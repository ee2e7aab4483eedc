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

use std::sync::Arc;

use burrow_eval::CachingEvaluator;
use burrow_storage::Storage;

mod api;
mod auth;
mod config;
mod dashboard;
mod error;
mod go_json;
mod log_level;
mod metrics;
mod router;
mod routes;
mod server;
mod timing;

pub use api::{Api, ApiBuilder, ConfigView, Readiness};
pub use auth::{
    changes_state, Auth, AuthMetrics, AuthScope, AuthSettings, CredentialFiles, Principal, Refusal,
};
pub use config::{overlapping, tls_acceptor, tls_acceptor_with_clients, ListenerSection};
pub use dashboard::DASHBOARD_PATH;
pub use error::HttpError;
pub use log_level::{FixedLogLevel, LogLevel, LogLevelControl};
pub use metrics::{render_consumer_metrics, LagSeconds, MetricsExporter};
pub use server::{serve, ServeOptions, DEFAULT_MAX_CONNECTIONS};

/// The evaluator the API reads statuses from.
pub type Evaluator = CachingEvaluator<Arc<Storage>>;
