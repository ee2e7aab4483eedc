//! Burrow's `inmemory` storage as a pure library: no I/O, no async runtime, the clock passed in.
//!
//! [`Storage`] keeps, per cluster, a window of broker end offsets per topic partition and a window
//! of commits per group partition, with every rule of Burrow's storage module: placement of commits
//! by their order (append, insert, overwrite, drop), `min-distance`, lag at commit time, owners,
//! padded partitions, topic and group deletion, offset tombstones, lazy `expire-group` and the
//! storage allowlist/denylist. Writes are [`burrow_core::StorageEvent`]s and report an [`Outcome`];
//! reads return `burrow-core` types. [`Snapshot`] exports and imports the whole state.
//!
//! Concurrency: groups and topics live in sharded maps ([`dashmap`]); a write locks one shard for
//! the time it touches one group, so many writers and readers proceed in parallel.

mod config;
mod error;
mod ring;
mod snapshot;
mod store;

pub use config::{GroupFilter, StorageConfig};
pub use error::StorageError;
pub use snapshot::{
    ClusterSnapshot, GroupSnapshot, PartitionSnapshot, RestoreReport, Snapshot, SnapshotOffset,
    SnapshotView, SNAPSHOT_FORMAT,
};
pub use store::{
    BrokerHistories, CommitWriter, DropReason, Freshness, Outcome, Storage, StorageStats,
};

/// Bytes of one stored commit slot (offset, order, timestamp, observedAt, lag).
pub const COMMIT_SLOT_BYTES: usize = std::mem::size_of::<ring::Slot>();
