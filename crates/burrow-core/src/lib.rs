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
//! - [`throttle`]: rate-limited logging (the first occurrence, then one a period with a count).
//!
//! This crate does no I/O and has no async runtime.

mod clock;
pub mod config;
mod events;
mod offsets;
mod source;
mod status;
pub mod throttle;

pub use clock::now_ms;
pub use events::{
    is_poll_order, BrokerOffsetEvent, ClearOwnersEvent, ConsumerOffsetEvent, ConsumerOffsetRef,
    ConsumerOwnerEvent, DeleteGroupEvent, DeleteTopicEvent, OffsetTombstoneEvent, StorageEvent,
    TimedEvent, POLL_ORDERS,
};
pub use offsets::{BrokerOffset, ConsumerOffset, ConsumerPartition, ConsumerTopics};
pub use source::ConsumerSource;
pub use status::{
    serialize_go_f32, ConsumerGroupStatus, ParseStatusError, PartitionStatus, Status,
};
