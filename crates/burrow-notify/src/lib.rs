//! Burrow's notifiers: turn group evaluations into alerts.
//!
//! - [`Notifier`]: the delivery trait. The crate ships [`HttpNotifier`] (webhooks, Slack),
//!   [`EmailNotifier`] (SMTP on lettre) and [`NullNotifier`] (records what it is given); your own
//!   crate can implement it and register it beside them.
//! - [`policy`]: Burrow's alert policy as a pure state machine — incidents with ids and start
//!   times, `threshold`, `send-interval`, `send-once`, `send-close`, per-notifier group filters.
//! - [`Templates`]: minijinja templates with the data and helpers Burrow's templates get.
//! - [`Coordinator`]: evaluates every group once per `interval` (spread over the interval), runs
//!   the policy, and hands notifications to each notifier's delivery queue, which retries with
//!   backoff and never blocks evaluation.
//!
//! ```no_run
//! use std::sync::Arc;
//! use burrow_notify::{async_trait, Notification, Notifier, NotifyError};
//!
//! struct Pager;
//!
//! #[async_trait]
//! impl Notifier for Pager {
//!     async fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
//!         println!("{:?} {}/{}: {}", n.kind, n.cluster, n.group, n.result.status);
//!         Ok(())
//!     }
//! }
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use burrow_core::ConsumerGroupStatus;

pub use async_trait::async_trait;

mod coordinator;
mod email;
mod http;
mod metrics;
pub mod policy;
mod template;

/// The default templates, equivalent to Burrow's shipped ones (with a working close template
/// for webhooks: decision 15). The files are in this crate's `templates/` folder.
pub mod defaults {
    /// JSON webhook, open (`default-http-post.tmpl`).
    pub const HTTP_POST: &str = include_str!("../templates/default-http-post.tmpl");
    /// JSON webhook, close (`default-http-delete.tmpl`).
    pub const HTTP_DELETE: &str = include_str!("../templates/default-http-delete.tmpl");
    /// Slack incoming webhook, open (`default-slack-post.tmpl`).
    pub const SLACK_POST: &str = include_str!("../templates/default-slack-post.tmpl");
    /// Slack incoming webhook, close (`default-slack-delete.tmpl`).
    pub const SLACK_DELETE: &str = include_str!("../templates/default-slack-delete.tmpl");
    /// Email, open (`default-email.tmpl`).
    pub const EMAIL: &str = include_str!("../templates/default-email.tmpl");
    /// Email, close (`default-email-close.tmpl`).
    pub const EMAIL_CLOSE: &str = include_str!("../templates/default-email-close.tmpl");
}

pub use coordinator::{
    Coordinator, CoordinatorHandle, GroupSource, IncidentsReader, Module, NullNotifier,
    RetryPolicy, Role, SavedIncident, SavedIncidents,
};
pub use email::{EmailNotifier, EmailSettings, SmtpAuth};
pub use http::{HttpNotifier, HttpSettings};
pub use metrics::NotifyMetrics;
pub use policy::{GroupFilter, Policy};
pub use template::{format_timestamp, Templates};

fn line_suffix(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" line {line}")
    }
}

/// Whether a notification opens (or repeats) an incident or closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// The group is at or above the notifier's threshold.
    Open,
    /// The group is back to OK after an incident (`send-close`).
    Close,
}

impl NotificationKind {
    /// `open` or `close`, as in metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Open => "open",
            NotificationKind::Close => "close",
        }
    }
}

/// One alert, with everything Burrow's templates see.
#[derive(Debug, Clone)]
pub struct Notification {
    /// Open or close.
    pub kind: NotificationKind,
    /// Cluster name.
    pub cluster: String,
    /// Group name.
    pub group: String,
    /// Incident id (a UUID v4), or empty when there is no incident (threshold 1 on an OK group).
    pub id: String,
    /// Incident start (ms since the epoch), or 0 when there is no incident.
    pub start_ms: i64,
    /// The notifier's `extras`.
    pub extras: Arc<BTreeMap<String, String>>,
    /// The evaluation: only the partitions worse than OK, as Burrow's notifiers get it.
    pub result: Arc<ConsumerGroupStatus>,
}

/// Delivers notifications. Implement it for your own notifier and register it with a
/// [`Coordinator`] (or with `burrow-cli`'s server builder) beside the built-in ones.
///
/// `notify` may be called concurrently for different groups. An error is retried with backoff
/// by the caller (see [`RetryPolicy`]); return [`NotifyError::Permanent`] for failures a retry
/// cannot fix.
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// Sends one notification.
    async fn notify(&self, notification: &Notification) -> Result<(), NotifyError>;
}

/// Why a notifier could not be set up or could not deliver.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// A setting is missing or invalid; `key` is its path (e.g. `notifier.ops.url-open`).
    #[error("{key}: {message}")]
    Config {
        /// The key path.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A template does not parse or does not render with sample data.
    #[error("template {file}{}: {message}", line_suffix(*.line))]
    Template {
        /// The template file (or key, for URL templates).
        file: String,
        /// The line of the error (0 when unknown).
        line: usize,
        /// The engine's message.
        message: String,
    },
    /// Rendering failed at send time.
    #[error("rendering {template}: {message}")]
    Render {
        /// Which template.
        template: String,
        /// The engine's message.
        message: String,
    },
    /// The receiver failed or could not be reached; worth retrying.
    #[error("delivery failed: {0}")]
    Delivery(String),
    /// A failure a retry cannot fix (e.g. a rejected address); not retried.
    #[error("delivery failed permanently: {0}")]
    Permanent(String),
}

impl From<burrow_storage::StorageError> for NotifyError {
    fn from(e: burrow_storage::StorageError) -> Self {
        match e {
            burrow_storage::StorageError::Config { key, message } => {
                NotifyError::Config { key, message }
            }
            other => NotifyError::Config {
                key: String::new(),
                message: other.to_string(),
            },
        }
    }
}
