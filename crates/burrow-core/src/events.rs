//! Storage events: every change the cluster and consumer modules make to storage.
//!
//! The serde form (`{"type": "consumer_offset", ...}`) is the line format of `burrow-cli replay`.

use serde::{Deserialize, Serialize};

/// A broker end offset fetched for one partition (Burrow's `SetBrokerOffset`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerOffsetEvent {
    /// Cluster name.
    pub cluster: String,
    /// Topic name.
    pub topic: String,
    /// Partition id.
    pub partition: i32,
    /// Number of partitions of the topic (leaderless ones included).
    pub partition_count: i32,
    /// End offset.
    pub offset: i64,
    /// When it was fetched (ms).
    pub timestamp: i64,
}

/// Where the orders of entries made from polls of the group APIs start
/// ([`ConsumerOffsetEvent::order`]). Orders below it are log positions: record offsets of
/// `__consumer_offsets` and ZooKeeper mzxids. From it on they are poll times: this plus
/// milliseconds since the epoch, written by `kafka_admin` modules.
///
/// A window holds entries of one kind, and the offsets topic wins: storage drops poll entries
/// for a window holding log entries, and the first log entry for a window of poll entries
/// replaces them (docs/configuration.md, "one cluster, both sources").
pub const POLL_ORDERS: i64 = 1 << 62;

/// Whether `order` is a poll time ([`POLL_ORDERS`]) rather than a log position.
pub fn is_poll_order(order: i64) -> bool {
    order >= POLL_ORDERS
}

/// A committed offset (Burrow's `SetConsumerOffset`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerOffsetEvent {
    /// Cluster name.
    pub cluster: String,
    /// Group name.
    pub group: String,
    /// Topic name.
    pub topic: String,
    /// Partition id.
    pub partition: i32,
    /// Committed offset.
    pub offset: i64,
    /// Ordering key: record offset in `__consumer_offsets` (or ZooKeeper mzxid), or a poll time
    /// from [`POLL_ORDERS`] on.
    pub order: i64,
    /// Commit timestamp (ms).
    pub timestamp: i64,
}

impl ConsumerOffsetEvent {
    /// The event as borrowed fields.
    pub fn as_ref(&self) -> ConsumerOffsetRef<'_> {
        ConsumerOffsetRef {
            cluster: &self.cluster,
            group: &self.group,
            topic: &self.topic,
            partition: self.partition,
            offset: self.offset,
            order: self.order,
            timestamp: self.timestamp,
        }
    }
}

/// A [`ConsumerOffsetEvent`] that borrows its names: what an ingest path that decodes records
/// in place writes, without allocating per commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerOffsetRef<'a> {
    /// Cluster name.
    pub cluster: &'a str,
    /// Group name.
    pub group: &'a str,
    /// Topic name.
    pub topic: &'a str,
    /// Partition id.
    pub partition: i32,
    /// Committed offset.
    pub offset: i64,
    /// Ordering key.
    pub order: i64,
    /// Commit timestamp (ms).
    pub timestamp: i64,
}

/// The owner of a group partition, from group metadata (Burrow's `SetConsumerOwner`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerOwnerEvent {
    /// Cluster name.
    pub cluster: String,
    /// Group name.
    pub group: String,
    /// Topic name.
    pub topic: String,
    /// Partition id.
    pub partition: i32,
    /// Owner: the member's client host.
    pub owner: String,
    /// The member's client id.
    pub client_id: String,
}

/// A group whose members all left (Burrow's `ClearConsumerOwners`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearOwnersEvent {
    /// Cluster name.
    pub cluster: String,
    /// Group name.
    pub group: String,
}

/// A topic that disappeared from the cluster (Burrow's `SetDeleteTopic`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteTopicEvent {
    /// Cluster name.
    pub cluster: String,
    /// Topic name.
    pub topic: String,
}

/// A group (or one topic of it) to forget (Burrow's `SetDeleteGroup`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteGroupEvent {
    /// Cluster name.
    pub cluster: String,
    /// Group name.
    pub group: String,
    /// Only this topic of the group, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
}

/// A deleted committed offset: an offset-commit record with an empty value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffsetTombstoneEvent {
    /// Cluster name.
    pub cluster: String,
    /// Group name.
    pub group: String,
    /// Topic name.
    pub topic: String,
    /// Partition id.
    pub partition: i32,
}

/// Every write storage accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StorageEvent {
    /// See [`BrokerOffsetEvent`].
    BrokerOffset(BrokerOffsetEvent),
    /// See [`ConsumerOffsetEvent`].
    ConsumerOffset(ConsumerOffsetEvent),
    /// See [`ConsumerOwnerEvent`].
    ConsumerOwner(ConsumerOwnerEvent),
    /// See [`ClearOwnersEvent`].
    ClearOwners(ClearOwnersEvent),
    /// See [`DeleteTopicEvent`].
    DeleteTopic(DeleteTopicEvent),
    /// See [`DeleteGroupEvent`].
    DeleteGroup(DeleteGroupEvent),
    /// See [`OffsetTombstoneEvent`].
    OffsetTombstone(OffsetTombstoneEvent),
}

impl StorageEvent {
    /// The cluster the event is about.
    pub fn cluster(&self) -> &str {
        match self {
            StorageEvent::BrokerOffset(e) => &e.cluster,
            StorageEvent::ConsumerOffset(e) => &e.cluster,
            StorageEvent::ConsumerOwner(e) => &e.cluster,
            StorageEvent::ClearOwners(e) => &e.cluster,
            StorageEvent::DeleteTopic(e) => &e.cluster,
            StorageEvent::DeleteGroup(e) => &e.cluster,
            StorageEvent::OffsetTombstone(e) => &e.cluster,
        }
    }
}

/// A storage event with the storage clock at which it is applied: one line of a replay file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedEvent {
    /// Storage clock (ms since the epoch) when the event is applied.
    pub now: i64,
    /// The event.
    #[serde(flatten)]
    pub event: StorageEvent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_line_round_trip() {
        let line = r#"{"now":1700000000000,"type":"consumer_offset","cluster":"local","group":"g","topic":"t","partition":0,"offset":10,"order":3,"timestamp":1699999999000}"#;
        let ev: TimedEvent = serde_json::from_str(line).unwrap();
        assert_eq!(ev.now, 1_700_000_000_000);
        assert!(matches!(&ev.event, StorageEvent::ConsumerOffset(c) if c.order == 3));
        assert_eq!(ev.event.cluster(), "local");
        let back: TimedEvent = serde_json::from_str(&serde_json::to_string(&ev).unwrap()).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn delete_group_topic_is_optional() {
        let ev: TimedEvent =
            serde_json::from_str(r#"{"now":1,"type":"delete_group","cluster":"c","group":"g"}"#)
                .unwrap();
        assert!(matches!(
            ev.event,
            StorageEvent::DeleteGroup(DeleteGroupEvent { topic: None, .. })
        ));
    }

    #[test]
    fn malformed_lines_are_rejected() {
        for bad in [
            r#"{"type":"delete_topic","cluster":"c","topic":"t"}"#,
            r#"{"now":1,"type":"nope","cluster":"c"}"#,
            r#"{"now":1,"type":"delete_topic","cluster":"c"}"#,
            r#"{"now":1,"type":"delete_topic","cluster":"c","topic":"t","extra":1}"#,
            r#"{"now":1,"type":"broker_offset","cluster":"c","topic":"t","partition":"0","partition_count":1,"offset":1,"timestamp":1}"#,
        ] {
            assert!(serde_json::from_str::<TimedEvent>(bad).is_err(), "{bad}");
        }
    }
}
