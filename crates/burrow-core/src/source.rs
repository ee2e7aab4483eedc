//! What an evaluator reads groups from.

use crate::ConsumerTopics;

/// Where an evaluator reads a group's window from (Burrow's storage `FetchConsumer`).
///
/// Implemented by `burrow_storage::Storage`; implement it to evaluate data kept elsewhere.
pub trait ConsumerSource {
    /// The partitions of `group` in `cluster` as of `now_ms`, or `None` when the cluster or group is
    /// unknown (or the group has expired).
    fn fetch_consumer(&self, now_ms: i64, cluster: &str, group: &str) -> Option<ConsumerTopics>;
}

impl<T: ConsumerSource + ?Sized> ConsumerSource for &T {
    fn fetch_consumer(&self, now_ms: i64, cluster: &str, group: &str) -> Option<ConsumerTopics> {
        (**self).fetch_consumer(now_ms, cluster, group)
    }
}

impl<T: ConsumerSource + ?Sized> ConsumerSource for std::sync::Arc<T> {
    fn fetch_consumer(&self, now_ms: i64, cluster: &str, group: &str) -> Option<ConsumerTopics> {
        (**self).fetch_consumer(now_ms, cluster, group)
    }
}
