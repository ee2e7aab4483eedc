//! A versioned JSON snapshot of the whole storage state: export, and all-or-nothing import.
//!
//! The format is documented in `docs/snapshot.md`. Current lag is never stored: it is derived from
//! the newest broker offset and the newest commit when a group is fetched.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use burrow_core::BrokerOffset;

use crate::ring::{BrokerRing, CommitRing, Slot};
use crate::store::{Cluster, Group, GroupPartition, Storage};
use crate::{StorageConfig, StorageError};

/// The snapshot format this build writes and reads.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// The whole storage state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Format version ([`SNAPSHOT_FORMAT`]).
    pub format: u32,
    /// When it was taken (ms since the epoch).
    pub taken_at: i64,
    /// Window size of the storage that wrote it.
    pub intervals: usize,
    /// State per cluster.
    pub clusters: BTreeMap<String, ClusterSnapshot>,
    /// Where the modules that fed this state had read to when it was taken: module name →
    /// partition of its offsets topic → next offset to read. Storage neither fills nor reads it;
    /// a server that saves its state records its consumers here and resumes them from it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub readers: BTreeMap<String, BTreeMap<i32, i64>>,
    /// The notifiers' incidents a server saved with this state (opaque here: storage neither
    /// fills nor reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifiers: Option<serde_json::Value>,
}

/// The state of one cluster.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClusterSnapshot {
    /// Broker offset windows: one list per partition (index = partition id), oldest first.
    #[serde(default)]
    pub topics: BTreeMap<String, Vec<Vec<BrokerOffset>>>,
    /// Groups.
    #[serde(default)]
    pub groups: BTreeMap<String, GroupSnapshot>,
}

/// The state of one group.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GroupSnapshot {
    /// Timestamp (ms) of the newest appended commit; 0 for a group known only from owners.
    pub last_commit: i64,
    /// Partitions by topic (index = partition id).
    #[serde(default)]
    pub topics: BTreeMap<String, Vec<PartitionSnapshot>>,
}

/// One group partition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PartitionSnapshot {
    /// The window, oldest first: `intervals` entries with `null` for empty slots (nulls only at the
    /// start), or `[]` for a partition that only pads the topic.
    pub offsets: Vec<Option<SnapshotOffset>>,
    /// Owner (client host).
    #[serde(default)]
    pub owner: String,
    /// Client id.
    #[serde(default)]
    pub client_id: String,
}

/// One stored commit, with its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotOffset {
    /// Committed offset.
    pub offset: i64,
    /// Ordering key.
    pub order: i64,
    /// Commit timestamp (ms).
    pub timestamp: i64,
    /// When storage took it (ms).
    #[serde(rename = "observedAt")]
    pub observed_at: i64,
    /// Lag at commit time, or null for commits inserted out of order.
    pub lag: Option<u64>,
}

/// A topic's broker offset windows, one per partition, oldest first.
fn broker_windows(rings: &[BrokerRing]) -> Vec<Vec<BrokerOffset>> {
    rings
        .iter()
        .map(|ring| ring.iter().copied().collect())
        .collect()
}

/// [`Storage::snapshot_view`]: serializes to exactly what the [`Snapshot`] would.
pub struct SnapshotView<'a> {
    storage: &'a Storage,
    taken_at: i64,
    readers: &'a BTreeMap<String, BTreeMap<i32, i64>>,
    notifiers: Option<&'a serde_json::Value>,
}

impl Serialize for SnapshotView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let fields =
            4 + usize::from(!self.readers.is_empty()) + usize::from(self.notifiers.is_some());
        let mut s = serializer.serialize_struct("Snapshot", fields)?;
        s.serialize_field("format", &SNAPSHOT_FORMAT)?;
        s.serialize_field("taken_at", &self.taken_at)?;
        s.serialize_field("intervals", &self.storage.intervals)?;
        s.serialize_field("clusters", &ClustersView(self.storage))?;
        if !self.readers.is_empty() {
            s.serialize_field("readers", self.readers)?;
        }
        if let Some(n) = self.notifiers {
            s.serialize_field("notifiers", n)?;
        }
        s.end()
    }
}

struct ClustersView<'a>(&'a Storage);

impl Serialize for ClustersView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut clusters: Vec<(&str, &Cluster)> = self
            .0
            .clusters
            .iter()
            .map(|(name, c)| (&**name, c))
            .collect();
        clusters.sort_unstable_by_key(|(name, _)| *name);
        let mut m = serializer.serialize_map(Some(clusters.len()))?;
        for (name, cluster) in clusters {
            m.serialize_entry(name, &ClusterView(self.0, cluster))?;
        }
        m.end()
    }
}

struct ClusterView<'a>(&'a Storage, &'a Cluster);

impl Serialize for ClusterView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("ClusterSnapshot", 2)?;
        s.serialize_field("topics", &TopicsView(self.1))?;
        s.serialize_field("groups", &GroupsView(self.0, self.1))?;
        s.end()
    }
}

struct TopicsView<'a>(&'a Cluster);

impl Serialize for TopicsView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut names: Vec<Box<str>> = self.0.brokers.iter().map(|t| t.key().clone()).collect();
        names.sort_unstable();
        let mut m = serializer.serialize_map(None)?;
        for name in names {
            // Copied out so that no lock is held while writing.
            let Some(windows) = self.0.brokers.get(&name).map(|t| broker_windows(t.value())) else {
                continue;
            };
            m.serialize_entry(&*name, &windows)?;
        }
        m.end()
    }
}

struct GroupsView<'a>(&'a Storage, &'a Cluster);

impl Serialize for GroupsView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut names: Vec<Box<str>> = self.1.groups.iter().map(|g| g.key().clone()).collect();
        names.sort_unstable();
        let mut m = serializer.serialize_map(None)?;
        for name in names {
            // One group copied under its shard's lock, written after the lock is released.
            let Some(group) = self
                .1
                .groups
                .get(&name)
                .map(|g| self.0.group_snapshot(g.value()))
            else {
                continue;
            };
            m.serialize_entry(&*name, &group)?;
        }
        m.end()
    }
}

/// What a restore did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Clusters restored.
    pub clusters: usize,
    /// Groups restored.
    pub groups: usize,
    /// Clusters of the snapshot that this storage does not have (not restored).
    pub skipped_clusters: Vec<String>,
    /// Groups the storage allowlist/denylist rejects (not restored).
    pub filtered_groups: usize,
    /// Windows longer than this storage's `intervals`, cut to their newest entries.
    pub trimmed_windows: usize,
}

impl Storage {
    /// A snapshot of everything storage holds, taken at `now_ms`.
    pub fn snapshot(&self, now_ms: i64) -> Snapshot {
        let mut clusters = BTreeMap::new();
        for (name, cluster) in &self.clusters {
            let mut snap = ClusterSnapshot::default();
            for topic in cluster.brokers.iter() {
                snap.topics
                    .insert(topic.key().to_string(), broker_windows(topic.value()));
            }
            for group in cluster.groups.iter() {
                snap.groups
                    .insert(group.key().to_string(), self.group_snapshot(group.value()));
            }
            clusters.insert(name.to_string(), snap);
        }
        Snapshot {
            format: SNAPSHOT_FORMAT,
            taken_at: now_ms,
            intervals: self.intervals,
            clusters,
            readers: BTreeMap::new(),
            notifiers: None,
        }
    }

    /// [`Self::snapshot`] with `readers` and `notifiers`, serialized as storage is walked: the same JSON, without
    /// a copy of the whole state in memory (one group at a time is copied, under its shard's
    /// lock, then written). For saving large states.
    pub fn snapshot_view<'a>(
        &'a self,
        now_ms: i64,
        readers: &'a BTreeMap<String, BTreeMap<i32, i64>>,
        notifiers: Option<&'a serde_json::Value>,
    ) -> SnapshotView<'a> {
        SnapshotView {
            storage: self,
            taken_at: now_ms,
            readers,
            notifiers,
        }
    }

    fn group_snapshot(&self, group: &Group) -> GroupSnapshot {
        let topics = group
            .topics
            .iter()
            .map(|(topic, partitions)| {
                let partitions = partitions
                    .iter()
                    .map(|p| self.partition_snapshot(p))
                    .collect();
                (topic.to_string(), partitions)
            })
            .collect();
        GroupSnapshot {
            last_commit: group.last_commit,
            topics,
        }
    }

    fn partition_snapshot(&self, p: &GroupPartition) -> PartitionSnapshot {
        let offsets = p.window(self.intervals, |s| SnapshotOffset {
            offset: s.offset,
            order: s.order,
            timestamp: s.timestamp,
            observed_at: s.observed_at,
            lag: s.lag(),
        });
        PartitionSnapshot {
            offsets,
            owner: p.owner.to_string(),
            client_id: p.client_id.to_string(),
        }
    }

    /// A storage holding exactly the snapshot, for every cluster it names.
    pub fn from_snapshot(
        config: StorageConfig,
        snapshot: &Snapshot,
    ) -> Result<(Self, RestoreReport), StorageError> {
        let storage = Storage::new(config, snapshot.clusters.keys())?;
        let report = storage.restore(snapshot)?;
        Ok((storage, report))
    }

    /// Replaces the state of every cluster the snapshot names with the snapshot's.
    ///
    /// The whole snapshot is checked before anything changes: on error storage is untouched.
    /// Windows longer than this storage's `intervals` keep their newest entries; clusters storage
    /// does not have and groups its filter rejects are skipped and counted in the report.
    pub fn restore(&self, snapshot: &Snapshot) -> Result<RestoreReport, StorageError> {
        if snapshot.format != SNAPSHOT_FORMAT {
            return Err(StorageError::UnsupportedSnapshotFormat(snapshot.format));
        }
        let mut report = RestoreReport::default();
        let mut built: Vec<(&Cluster, Cluster)> = Vec::new();
        for (name, snap) in &snapshot.clusters {
            let Some(target) = self.clusters.get(name.as_str()) else {
                report.skipped_clusters.push(name.clone());
                continue;
            };
            built.push((target, self.build_cluster(name, snap, &mut report)?));
            report.clusters += 1;
        }
        for (target, cluster) in built {
            target.brokers.clear();
            target.groups.clear();
            for (k, v) in cluster.brokers {
                target.brokers.insert(k, v);
            }
            for (k, v) in cluster.groups {
                target.groups.insert(k, v);
            }
        }
        Ok(report)
    }

    fn build_cluster(
        &self,
        name: &str,
        snap: &ClusterSnapshot,
        report: &mut RestoreReport,
    ) -> Result<Cluster, StorageError> {
        let cluster = Cluster::default();
        for (topic, partitions) in &snap.topics {
            let rings = partitions
                .iter()
                .map(|offsets| {
                    if offsets.len() > self.intervals {
                        report.trimmed_windows += 1;
                    }
                    let mut ring = BrokerRing::new();
                    for b in offsets {
                        ring.push(*b, self.intervals);
                    }
                    ring
                })
                .collect();
            cluster.brokers.insert(topic.as_str().into(), rings);
        }
        for (group_name, group_snap) in &snap.groups {
            if !self.filter.accepts(group_name) {
                report.filtered_groups += 1;
                continue;
            }
            let mut group = Group {
                last_commit: group_snap.last_commit,
                ..Default::default()
            };
            for (topic, partitions) in &group_snap.topics {
                let mut list = Vec::with_capacity(partitions.len());
                for (index, p) in partitions.iter().enumerate() {
                    let location = format!(
                        "clusters.{name}.groups.{group_name}.topics.{topic}[{index}].offsets"
                    );
                    let ring = self.build_window(&p.offsets, &location, report)?;
                    list.push(GroupPartition {
                        ring,
                        owner: p.owner.as_str().into(),
                        client_id: p.client_id.as_str().into(),
                    });
                }
                group.topics.insert(topic.clone(), list);
            }
            cluster.groups.insert(group_name.as_str().into(), group);
            report.groups += 1;
        }
        Ok(cluster)
    }

    fn build_window(
        &self,
        offsets: &[Option<SnapshotOffset>],
        location: &str,
        report: &mut RestoreReport,
    ) -> Result<Option<CommitRing>, StorageError> {
        if offsets.is_empty() {
            return Ok(None);
        }
        let invalid = |i: usize, message: &str| StorageError::InvalidSnapshot {
            location: format!("{location}[{i}]"),
            message: message.to_owned(),
        };
        let first = offsets
            .iter()
            .position(Option::is_some)
            .unwrap_or(offsets.len());
        let mut slots = Vec::with_capacity(offsets.len() - first);
        let mut last_order = None;
        for (i, entry) in offsets.iter().enumerate().skip(first) {
            let Some(o) = entry else {
                return Err(invalid(
                    i,
                    "null after a commit: empty slots only come before the oldest commit",
                ));
            };
            if last_order.is_some_and(|prev| prev >= o.order) {
                return Err(invalid(i, "orders must increase from oldest to newest"));
            }
            if o.lag == Some(u64::MAX) {
                return Err(invalid(i, "lag out of range"));
            }
            last_order = Some(o.order);
            slots.push(Slot::new(
                o.offset,
                o.order,
                o.timestamp,
                o.observed_at,
                o.lag,
            ));
        }
        if slots.len() > self.intervals {
            report.trimmed_windows += 1;
        }
        Ok(Some(CommitRing::from_slots(slots, self.intervals)))
    }
}
