//! Burrow's ZooKeeper uses, on the `zookeeper-client` crate:
//!
//! - [`leader`]: one notifier leader among several Burrow instances, with the standard ZooKeeper
//!   lock recipe under `<root-path>/notifier` (ephemeral sequential nodes, each contender watching
//!   its predecessor). A leader that loses its connection stops notifying at once.
//! - [`kafka_zk`]: the consumer module for old consumers that commit offsets to ZooKeeper
//!   (`/consumers/<group>/offsets/<topic>/<partition>`).
//!
//! ZooKeeper is needed only with notifiers (leader election) or a `kafka_zk` consumer; a single
//! instance with neither never connects to it. Connections can be TLS ([`ZkTls`], Burrow's
//! `[zookeeper] tls`).

mod config;
mod error;
pub mod kafka_zk;
pub mod leader;
mod session;

pub use config::ZookeeperSection;
pub use error::ZkError;
pub use session::{connect, ensure_path, validate_path, ZkSettings, ZkTls};
