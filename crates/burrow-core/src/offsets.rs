//! Offsets as storage keeps them and as the API shows them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One stored consumer commit: Burrow's `ConsumerOffset`.
///
/// The JSON form is the API's (`offset`, `timestamp`, `observedAt`, `lag`); `order` (the position of
/// the commit record in its `__consumer_offsets` partition) orders commits inside storage and is never
/// part of the API JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConsumerOffset {
    /// The committed offset.
    pub offset: i64,
    /// Ordering key of the commit (record offset in `__consumer_offsets`, or ZooKeeper mzxid).
    #[serde(skip)]
    pub order: i64,
    /// Commit timestamp (ms), from the commit record itself.
    pub timestamp: i64,
    /// When storage took the commit (ms, whole seconds like Burrow).
    #[serde(rename = "observedAt")]
    pub observed_at: i64,
    /// Lag at commit time (newest broker offset minus offset, never negative), or `None` for commits
    /// that were inserted out of order (backfill).
    pub lag: Option<u64>,
}

/// One broker end offset sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BrokerOffset {
    /// The end offset (high watermark) of the partition.
    pub offset: i64,
    /// When it was fetched (ms).
    pub timestamp: i64,
}

/// One partition of a group as storage returns it (Burrow's `ConsumerPartition`).
///
/// The JSON form is the consumer-detail API's: `offsets`, `owner`, `client_id`, `current-lag`
/// (hyphenated, as Burrow writes it). `broker_offsets` is internal: the evaluator uses it for the
/// "recently caught up" check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConsumerPartition {
    /// The window, oldest first, exactly `intervals` long with `None` for empty slots; empty for a
    /// partition that was only created to pad the topic (no commit seen).
    pub offsets: Vec<Option<ConsumerOffset>>,
    /// Owner (client host) from group metadata, or empty.
    pub owner: String,
    /// Client id from group metadata, or empty.
    pub client_id: String,
    /// Newest broker offset minus newest commit (0 when either is missing).
    #[serde(rename = "current-lag")]
    pub current_lag: u64,
    /// Stored broker end offsets of this partition, oldest first.
    #[serde(skip)]
    pub broker_offsets: Vec<i64>,
}

/// A group's partitions by topic; the index in each list is the partition id.
pub type ConsumerTopics = BTreeMap<String, Vec<ConsumerPartition>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_offset_json_has_no_order() {
        let o = ConsumerOffset {
            offset: 2218,
            order: 77,
            timestamp: 1_700_000_400_000,
            observed_at: 1_700_000_400_000,
            lag: None,
        };
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            r#"{"offset":2218,"timestamp":1700000400000,"observedAt":1700000400000,"lag":null}"#
        );
    }

    #[test]
    fn partition_json_uses_hyphenated_current_lag() {
        let p = ConsumerPartition {
            current_lag: 9,
            broker_offsets: vec![1, 2],
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"offsets":[],"owner":"","client_id":"","current-lag":9}"#
        );
    }
}
