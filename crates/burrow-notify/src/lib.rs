//! Burrow's notifiers: turn group evaluations into alerts.
//!
//! - [`Notifier`]: the delivery trait. The crate ships [`HttpNotifier`] (webhooks, Slack),
//!   [`EmailNotifier`] (SMTP on lettre) and [`NullNotifier`] (records what it is given); your own
//!   crate can implement it and register it beside them.
//! - [`policy`]: Burrow's alert policy as a pure state machine — incidents with ids and start
//!   times, `threshold`, `send-interval`, `send-once`, `send-close`, per-notifier group filters.
//! - [`Templates`]: the notification templates: Burrow's Go `text/template` files as they are
//!   ([`GoTemplate`]), or minijinja templates with the same data and helpers.
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

pub use async_trait::async_trait;

mod config;
mod coordinator;
mod email;
mod error;
mod gotemplate;
mod http;
mod metrics;
mod notification;
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

pub use config::NotifierConfig;
pub use coordinator::{
    timing_from_storage, Coordinator, CoordinatorHandle, GroupSource, IncidentsReader, Module,
    NullNotifier, RetryPolicy, Role, SavedIncident, SavedIncidents,
};
pub use email::{EmailNotifier, EmailSettings, SmtpAuth};
pub use error::NotifyError;
pub use gotemplate::GoTemplate;
pub use http::{HttpNotifier, HttpSettings};
pub use metrics::NotifyMetrics;
pub use notification::{Notification, NotificationKind, Notifier};
pub use policy::{GroupFilter, Policy};
pub use template::{format_timestamp, Templates};
