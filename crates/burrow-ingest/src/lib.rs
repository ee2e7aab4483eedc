//! Burrow's ingestion modules: where storage's data comes from.
//!
//! - [`cluster`]: the cluster module (`[cluster.<name>]`, class `kafka`). Reads topic metadata
//!   every `topic-refresh` and every partition's end offset every `offset-refresh` (ListOffsets,
//!   one request per leader broker, all at once), removes deleted topics, and optionally reaps
//!   groups Kafka no longer lists.
//! - [`consumer`]: the consumer module of class `kafka` (`[consumer.<name>]`). Reads every
//!   partition of `__consumer_offsets` concurrently (read committed), decodes each record and
//!   writes commits, owners, tombstones and Burrow's own progress to storage.
//!
//! - [`group_api`]: the consumer module of class `kafka_admin` (`[consumer.<name>]`): committed
//!   offsets and members through the group APIs (ListGroups, OffsetFetch, DescribeGroups), for
//!   clusters whose `__consumer_offsets` cannot be read; each poll becomes window entries.
//!
//! - [`kip848`]: owners of Kafka 4's KIP-848 consumer groups, from their member records.
//! - [`mapping`]: the one mapping from an offsets-topic record to storage, used by both.
//! - [`check`]: a one-shot evaluation of one group straight from the cluster (`burrow-cli check`).
//! - [`config`]: the `[cluster.*]` and `[consumer.*]` sections and their conversion to settings.
//! - [`health`]: when each cluster last answered and last failed (readiness, `burrow_cluster_up`).
//! - [`time_lag`]: lag in seconds, from the timestamps of the records groups stand before (run by
//!   the cluster module when its `lag-seconds` is on).
//!
//! Both modules run as tokio tasks and write straight into a shared [`burrow_storage::Storage`].
//! [`IngestMetrics`] counts what they read, skip and fail at.

pub mod check;
pub mod cluster;
pub mod config;
mod connect;
pub mod consumer;
mod error;
pub mod group_api;
pub mod health;
pub mod kip848;
pub mod mapping;
mod metrics;
pub mod time_lag;

pub use config::{ClusterSection, ConsumerClass, ConsumerSection};
pub use error::IngestError;
pub use metrics::IngestMetrics;
