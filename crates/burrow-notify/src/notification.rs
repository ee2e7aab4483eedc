//! What a notifier is given ([`Notification`]) and the trait it implements ([`Notifier`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use burrow_core::ConsumerGroupStatus;
use burrow_eval::timing::GroupTiming;

use crate::NotifyError;

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
    /// burrow-rs: the lag in time and drain of the group and of each partition of `result`
    /// (the templates' `LagSeconds`, `Drain`…), when the source gives them.
    pub timing: Option<Arc<GroupTiming>>,
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
