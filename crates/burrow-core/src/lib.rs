//! The shared vocabulary of burrow-rs, a Rust reimplementation of LinkedIn's Burrow.
//!
//! - [`Status`] and the status objects the evaluator returns ([`ConsumerGroupStatus`],
//!   [`PartitionStatus`]), whose serde form is Burrow's JSON.
//! - Offsets as storage keeps them ([`ConsumerOffset`], [`BrokerOffset`]) and as storage returns a
//!   group ([`ConsumerPartition`], [`ConsumerTopics`]).
//! - The events that change storage ([`StorageEvent`]), produced by the cluster and consumer
//!   modules and read by `burrow-cli replay`.
//! - [`ConsumerSource`], the one thing an evaluator needs from a store.
//! - [`config`]: value types of configuration sections (seconds and integers with their range).
//! - [`now_ms`]: the one wall clock of the I/O crates.
//!
//! This crate does no I/O and has no async runtime.

pub mod config;
mod events;
mod offsets;
mod status;

pub use events::{
    BrokerOffsetEvent, ClearOwnersEvent, ConsumerOffsetEvent, ConsumerOffsetRef,
    ConsumerOwnerEvent, DeleteGroupEvent, DeleteTopicEvent, OffsetTombstoneEvent, StorageEvent,
    TimedEvent,
};
pub use offsets::{BrokerOffset, ConsumerOffset, ConsumerPartition, ConsumerTopics};
pub use status::{serialize_go_f32, ConsumerGroupStatus, PartitionStatus, Status};

/// A string that is not one of Burrow's status names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?} (expected NOTFOUND, OK, WARN, ERR, STOP, STALL or REWIND)")]
pub struct ParseStatusError(pub String);

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

/// Wall-clock milliseconds since the Unix epoch (0 if the clock is before it). For the I/O
/// crates; storage and the evaluator always take the time as an argument.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
