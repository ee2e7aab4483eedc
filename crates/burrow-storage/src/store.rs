//! The in-memory store: Burrow's `inmemory` storage module as a concurrent library type.

use std::collections::HashMap;

use dashmap::DashMap;

use burrow_core::{
    is_poll_order, BrokerOffset, BrokerOffsetEvent, ClearOwnersEvent, ConsumerOffsetEvent,
    ConsumerOffsetRef, ConsumerOwnerEvent, ConsumerPartition, ConsumerSource, ConsumerTopics,
    DeleteGroupEvent, DeleteTopicEvent, OffsetTombstoneEvent, StorageEvent,
};

use crate::config::{GroupFilter, StorageConfig};
use crate::ring::{BrokerRing, CommitRing, Destination, Rejection, Slot};
use crate::StorageError;

pub(crate) type Hasher = foldhash::fast::RandomState;
pub(crate) type ConcurrentMap<K, V> = DashMap<K, V, Hasher>;
pub(crate) type Map<K, V> = HashMap<K, V, Hasher>;
/// Topics of one group: hashbrown for `entry_ref`, which allocates the key only on insert.
pub(crate) type TopicMap<V> = hashbrown::HashMap<String, V>;

/// What storage did with a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Outcome {
    /// The write changed storage.
    Applied,
    /// The write was dropped, for this reason.
    Dropped(DropReason),
}

impl Outcome {
    /// True when the write changed storage.
    pub fn is_applied(self) -> bool {
        self == Outcome::Applied
    }
}

/// Why storage dropped a write. Burrow drops the same writes and logs them at debug level; callers
/// count these (`burrow-cli replay` reports them, the server exports them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DropReason {
    /// The cluster is not one storage was created with.
    UnknownCluster,
    /// The commit is older than `expire-group`.
    ExpiredCommit,
    /// The group is rejected by the storage allowlist or denylist.
    GroupFiltered,
    /// No broker offsets are known for the topic yet (the cluster module has not fetched them).
    UnknownTopic,
    /// A negative partition id.
    NegativePartition,
    /// The partition is beyond the topic's known partition count.
    UnknownPartition,
    /// The partition is known but has no broker offset yet.
    NoBrokerOffset,
    /// The window is full and this commit is not newer than its oldest commit.
    OlderThanWindow,
    /// A commit with the same order is stored already.
    DuplicateOrder,
    /// The group is not stored.
    UnknownGroup,
    /// The group does not store this topic or partition.
    NotStored,
    /// A poll entry of the group APIs for a window that holds commits read from the offsets
    /// topic, which wins ([`burrow_core::POLL_ORDERS`]).
    OtherSource,
}

impl DropReason {
    /// A short snake_case name, for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::UnknownCluster => "unknown_cluster",
            DropReason::ExpiredCommit => "expired_commit",
            DropReason::GroupFiltered => "group_filtered",
            DropReason::UnknownTopic => "unknown_topic",
            DropReason::NegativePartition => "negative_partition",
            DropReason::UnknownPartition => "unknown_partition",
            DropReason::NoBrokerOffset => "no_broker_offset",
            DropReason::OlderThanWindow => "older_than_window",
            DropReason::DuplicateOrder => "duplicate_order",
            DropReason::UnknownGroup => "unknown_group",
            DropReason::NotStored => "not_stored",
            DropReason::OtherSource => "other_source",
        }
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Rejection> for DropReason {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::OlderThanWindow => DropReason::OlderThanWindow,
            Rejection::DuplicateOrder => DropReason::DuplicateOrder,
        }
    }
}

/// A window holds log entries (offsets topic, ZooKeeper) or poll entries (group APIs), never
/// both, and the log wins ([`burrow_core::POLL_ORDERS`]): a poll entry for a window of log
/// entries is dropped; the first log entry for a window of poll entries empties it.
fn one_source_per_window(ring: &mut CommitRing, order: i64) -> Result<(), DropReason> {
    let Some(newest) = ring.iter().next_back() else {
        return Ok(());
    };
    match (is_poll_order(newest.order), is_poll_order(order)) {
        (false, true) => Err(DropReason::OtherSource),
        (true, false) => {
            ring.clear();
            Ok(())
        }
        _ => Ok(()),
    }
}

/// One partition of a group: its commit window (none for a partition that only pads the topic),
/// owner and client id.
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupPartition {
    pub(crate) ring: Option<CommitRing>,
    pub(crate) owner: Box<str>,
    pub(crate) client_id: Box<str>,
}

impl GroupPartition {
    /// The window as Burrow shows it: `intervals` entries oldest first, empty slots (`None`) before
    /// the oldest commit; empty for a padded partition.
    pub(crate) fn window<T>(&self, intervals: usize, f: impl Fn(&Slot) -> T) -> Vec<Option<T>> {
        match &self.ring {
            None => Vec::new(),
            Some(ring) => std::iter::repeat_with(|| None)
                .take(intervals.saturating_sub(ring.len()))
                .chain(ring.iter().map(|s| Some(f(s))))
                .collect(),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Group {
    pub(crate) topics: TopicMap<Vec<GroupPartition>>,
    /// Timestamp (ms) of the newest appended commit; 0 for a group known only from owners.
    pub(crate) last_commit: i64,
}

#[derive(Debug)]
pub(crate) struct Cluster {
    pub(crate) brokers: ConcurrentMap<Box<str>, Vec<BrokerRing>>,
    pub(crate) groups: ConcurrentMap<Box<str>, Group>,
}

/// Shards of a cluster's group map. Consumer threads write different groups at once; with
/// dashmap's default (4 per core) they meet on the same shard locks often enough that the lock
/// words bounce between cores.
const GROUP_SHARDS: usize = 256;

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            brokers: ConcurrentMap::default(),
            groups: DashMap::with_hasher_and_shard_amount(Hasher::default(), GROUP_SHARDS),
        }
    }
}

/// Newest broker offset of each partition of a topic, as a [`CommitWriter`] looked it up.
type TopicOffsets = Option<Vec<Option<i64>>>;

/// Stores many commits of one cluster in a row with fewer lookups than one
/// [`Storage::set_consumer_offset_ref`] each, with the same rules and outcomes: consecutive
/// commits of one group are written under one lock of the group (a commit request's records
/// are consecutive in `__consumer_offsets`), and each topic's broker offsets are looked up once
/// per writer.
///
/// The writer holds the current group's lock until a commit of another group,
/// [`release`](Self::release), or its drop: keep a writer for one short run (a fetched batch),
/// and release it before calling any other method of [`Storage`] on the same thread (the locks
/// are not reentrant). Its broker offsets are those at the time of each topic's first commit.
pub struct CommitWriter<'s> {
    storage: &'s Storage,
    cluster: &'s Cluster,
    group: Option<dashmap::mapref::one::RefMut<'s, Box<str>, Group>>,
    topics: hashbrown::HashMap<String, TopicOffsets>,
}

impl std::fmt::Debug for CommitWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitWriter")
            .field("group", &self.group.as_ref().map(|g| g.key().clone()))
            .field("topics", &self.topics.len())
            .finish()
    }
}

impl CommitWriter<'_> {
    /// Topics whose broker offsets a writer remembers before it forgets them all.
    const TOPICS_KEPT: usize = 1024;

    /// Stores a commit, as [`Storage::set_consumer_offset_ref`] does (`e.cluster` is ignored:
    /// the writer's cluster is used).
    pub fn write(&mut self, now_ms: i64, e: ConsumerOffsetRef<'_>) -> Outcome {
        match self.try_write(now_ms, &e) {
            Ok(()) => Outcome::Applied,
            Err(r) => Outcome::Dropped(r),
        }
    }

    /// Unlocks the group written last.
    pub fn release(&mut self) {
        self.group = None;
    }

    fn try_write(&mut self, now_ms: i64, e: &ConsumerOffsetRef<'_>) -> Result<(), DropReason> {
        self.storage.commit_checks(now_ms, e)?;
        let CommitWriter {
            storage,
            cluster,
            group,
            topics,
        } = self;
        if topics.len() >= Self::TOPICS_KEPT {
            topics.clear();
        }
        let partitions = topics
            .entry_ref(e.topic)
            .or_insert_with(|| {
                // Never wait for a broker-offset lock while holding a group's.
                *group = None;
                cluster
                    .brokers
                    .get(e.topic)
                    .map(|p| p.iter().map(|r| r.newest().map(|b| b.offset)).collect())
            })
            .as_ref()
            .ok_or(DropReason::UnknownTopic)?;
        if e.partition < 0 {
            return Err(DropReason::NegativePartition);
        }
        let newest = partitions
            .get(e.partition as usize)
            .ok_or(DropReason::UnknownPartition)?
            .ok_or(DropReason::NoBrokerOffset)?;
        let partition_count = partitions.len();
        if self.group.as_ref().is_some_and(|g| &**g.key() != e.group) {
            self.group = None;
        }
        let groups = &self.cluster.groups;
        let group = self
            .group
            .get_or_insert_with(|| match groups.get_mut(e.group) {
                Some(g) => g,
                None => groups.entry(e.group.into()).or_default(),
            });
        storage.store_commit(now_ms, group, e, newest, partition_count)
    }
}

/// Counts of what storage holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StorageStats {
    /// Clusters.
    pub clusters: usize,
    /// Topics with broker offsets, over all clusters.
    pub topics: usize,
    /// Groups, over all clusters.
    pub groups: usize,
    /// Group partitions (padded ones included).
    pub group_partitions: usize,
    /// Stored commits.
    pub commits: usize,
}

/// Broker end-offset samples of some topics ([`Storage::broker_histories`]).
#[derive(Debug, Clone, Default)]
pub struct BrokerHistories(HashMap<String, Vec<Vec<BrokerOffset>>>);

impl BrokerHistories {
    /// One partition's samples, oldest first (empty when unknown).
    pub fn partition(&self, topic: &str, partition: i32) -> &[BrokerOffset] {
        usize::try_from(partition)
            .ok()
            .and_then(|i| self.0.get(topic)?.get(i))
            .map_or(&[], Vec::as_slice)
    }
}

/// When a cluster's data last moved ([`Storage::freshness`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Freshness {
    /// Newest broker end-offset fetch (ms).
    pub broker_offsets_at: Option<i64>,
    /// Newest commit timestamp of any group (ms).
    pub last_commit_at: Option<i64>,
    /// Topics with broker offsets.
    pub topics: usize,
    /// Groups.
    pub groups: usize,
}

/// Burrow's `inmemory` storage: broker offset windows per topic partition and commit windows per
/// group partition, for a fixed set of clusters.
///
/// Every method takes `&self`; groups and topics live in sharded concurrent maps, so writers and
/// readers of different groups do not wait for each other and there is no global lock. Nothing here
/// reads a clock: the current time (`now_ms`, milliseconds since the epoch) is an argument.
///
/// ```
/// use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent, StorageEvent};
/// use burrow_storage::{Storage, StorageConfig};
///
/// let storage = Storage::new(StorageConfig::default(), ["local"]).unwrap();
/// let now = 1_700_000_000_000;
/// let _ = storage.apply(now, &StorageEvent::BrokerOffset(BrokerOffsetEvent {
///     cluster: "local".into(), topic: "orders".into(), partition: 0, partition_count: 1,
///     offset: 500, timestamp: now,
/// }));
/// let outcome = storage.apply(now, &StorageEvent::ConsumerOffset(ConsumerOffsetEvent {
///     cluster: "local".into(), group: "billing".into(), topic: "orders".into(), partition: 0,
///     offset: 480, order: 1, timestamp: now,
/// }));
/// assert!(outcome.is_applied());
/// let topics = storage.fetch_consumer(now, "local", "billing").unwrap();
/// assert_eq!(topics["orders"][0].current_lag, 20);
/// ```
#[derive(Debug)]
pub struct Storage {
    pub(crate) config: StorageConfig,
    pub(crate) filter: GroupFilter,
    pub(crate) intervals: usize,
    pub(crate) clusters: Map<Box<str>, Cluster>,
}

impl Storage {
    /// A store for `clusters` (writes naming any other cluster are dropped, as in Burrow).
    pub fn new<I, S>(config: StorageConfig, clusters: I) -> Result<Self, StorageError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::with_key_prefix(config, clusters, "storage")
    }

    /// Like [`Storage::new`], naming the config section (e.g. `storage.default`) in errors.
    pub fn with_key_prefix<I, S>(
        config: StorageConfig,
        clusters: I,
        key_prefix: &str,
    ) -> Result<Self, StorageError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let filter = config.validate(key_prefix)?;
        Ok(Storage {
            intervals: config.intervals,
            config,
            filter,
            clusters: clusters
                .into_iter()
                .map(|c| (Box::from(c.as_ref()), Cluster::default()))
                .collect(),
        })
    }

    /// The configuration storage was created with.
    pub fn config(&self) -> &StorageConfig {
        &self.config
    }

    /// Commits kept per partition.
    pub fn intervals(&self) -> usize {
        self.intervals
    }

    /// True when storage accepts this group (storage allowlist and denylist).
    pub fn accepts_group(&self, group: &str) -> bool {
        self.filter.accepts(group)
    }

    /// Applies any storage event.
    pub fn apply(&self, now_ms: i64, event: &StorageEvent) -> Outcome {
        match event {
            StorageEvent::BrokerOffset(e) => self.set_broker_offset(e),
            StorageEvent::ConsumerOffset(e) => self.set_consumer_offset(now_ms, e),
            StorageEvent::ConsumerOwner(e) => self.set_consumer_owner(e),
            StorageEvent::ClearOwners(e) => self.clear_consumer_owners(e),
            StorageEvent::DeleteTopic(e) => self.delete_topic(e),
            StorageEvent::DeleteGroup(e) => self.delete_group(e),
            StorageEvent::OffsetTombstone(e) => self.offset_tombstone(e),
        }
    }

    fn cluster(&self, name: &str) -> Result<&Cluster, DropReason> {
        self.clusters.get(name).ok_or(DropReason::UnknownCluster)
    }

    /// Stores a broker end offset: creates the topic if missing, grows (never shrinks) its
    /// partition list to `partition_count`, and pushes the offset into the partition's window.
    pub fn set_broker_offset(&self, e: &BrokerOffsetEvent) -> Outcome {
        let cluster = match self.cluster(&e.cluster) {
            Ok(c) => c,
            Err(r) => return Outcome::Dropped(r),
        };
        if e.partition < 0 {
            return Outcome::Dropped(DropReason::NegativePartition);
        }
        let partition = e.partition as usize;
        let count = e.partition_count.max(0) as usize;
        let mut partitions = match cluster.brokers.get_mut(e.topic.as_str()) {
            Some(p) => p,
            None => cluster.brokers.entry(e.topic.as_str().into()).or_default(),
        };
        if count > partitions.len() {
            partitions.resize_with(count, BrokerRing::new);
        }
        let Some(ring) = partitions.get_mut(partition) else {
            // Burrow would index out of range here; a partition beyond the count is bad input.
            return Outcome::Dropped(DropReason::UnknownPartition);
        };
        ring.push(
            BrokerOffset {
                offset: e.offset,
                timestamp: e.timestamp,
            },
            self.intervals,
        );
        Outcome::Applied
    }

    /// Newest broker offset and partition count for a partition (Burrow's `getBrokerOffset`).
    fn broker_lookup(
        cluster: &Cluster,
        topic: &str,
        partition: i32,
    ) -> Result<(i64, usize), DropReason> {
        let partitions = cluster.brokers.get(topic).ok_or(DropReason::UnknownTopic)?;
        if partition < 0 {
            return Err(DropReason::NegativePartition);
        }
        let ring = partitions
            .get(partition as usize)
            .ok_or(DropReason::UnknownPartition)?;
        let newest = ring.newest().ok_or(DropReason::NoBrokerOffset)?;
        Ok((newest.offset, partitions.len()))
    }

    /// Runs `f` on the group, creating it (with `last_commit` 0) when missing.
    fn with_group<R>(cluster: &Cluster, group: &str, f: impl FnOnce(&mut Group) -> R) -> R {
        let mut entry = match cluster.groups.get_mut(group) {
            Some(g) => g,
            None => cluster.groups.entry(group.into()).or_default(),
        };
        f(&mut entry)
    }

    /// Stores a committed offset, with every rule of Burrow's `addConsumerOffset`: expiry,
    /// storage filter, broker lookup, placement by order, lag at commit time, min-distance merge.
    pub fn set_consumer_offset(&self, now_ms: i64, e: &ConsumerOffsetEvent) -> Outcome {
        self.set_consumer_offset_ref(now_ms, e.as_ref())
    }

    /// [`Storage::set_consumer_offset`] with borrowed names: no allocation unless the group or
    /// its topic is new.
    pub fn set_consumer_offset_ref(&self, now_ms: i64, e: ConsumerOffsetRef<'_>) -> Outcome {
        match self.try_set_consumer_offset(now_ms, e) {
            Ok(()) => Outcome::Applied,
            Err(r) => Outcome::Dropped(r),
        }
    }

    fn try_set_consumer_offset(
        &self,
        now_ms: i64,
        e: ConsumerOffsetRef<'_>,
    ) -> Result<(), DropReason> {
        let cluster = self.cluster(e.cluster)?;
        self.commit_checks(now_ms, &e)?;
        let (broker_offset, partition_count) = Self::broker_lookup(cluster, e.topic, e.partition)?;
        Self::with_group(cluster, e.group, |group| {
            self.store_commit(now_ms, group, &e, broker_offset, partition_count)
        })
    }

    /// A writer for many commits of `cluster` in a row (see [`CommitWriter`]).
    pub fn commit_writer(&self, cluster: &str) -> Result<CommitWriter<'_>, DropReason> {
        Ok(CommitWriter {
            storage: self,
            cluster: self.cluster(cluster)?,
            group: None,
            topics: hashbrown::HashMap::default(),
        })
    }

    /// The checks of a commit that need no lookup: expiry and the storage filter.
    fn commit_checks(&self, now_ms: i64, e: &ConsumerOffsetRef<'_>) -> Result<(), DropReason> {
        let now_s = now_ms.div_euclid(1000);
        if e.timestamp
            < now_s
                .saturating_sub(self.config.expire_group)
                .saturating_mul(1000)
        {
            return Err(DropReason::ExpiredCommit);
        }
        if !self.filter.accepts(e.group) {
            return Err(DropReason::GroupFiltered);
        }
        Ok(())
    }

    /// Places a commit into its group's window: placement by order, lag at commit time,
    /// min-distance merge.
    fn store_commit(
        &self,
        now_ms: i64,
        group: &mut Group,
        e: &ConsumerOffsetRef<'_>,
        broker_offset: i64,
        partition_count: usize,
    ) -> Result<(), DropReason> {
        let intervals = self.intervals;
        let min_distance_ms = self.config.min_distance.saturating_mul(1000);
        let now_s = now_ms.div_euclid(1000);
        let part = group_partition(
            &mut group.topics,
            e.topic,
            e.partition as usize,
            partition_count,
        );
        let ring = part.ring.get_or_insert_with(|| CommitRing::new(intervals));
        one_source_per_window(ring, e.order)?;
        let mut dest = ring.destination(e.order, intervals)?;
        let mut lag = None;
        if dest == Destination::Append {
            // Broker offsets are fetched periodically, so a commit may be ahead of the newest
            // one we know: that is zero lag.
            lag = Some(broker_offset.saturating_sub(e.offset).max(0) as u64);
            group.last_commit = e.timestamp;
        }
        let mut timestamp = e.timestamp;
        if let Some(i) = ring.index_before(dest, intervals) {
            if let Some(prev) = ring.get(i) {
                // Note: also true when the new commit's timestamp is earlier than the previous
                // one's, even with min-distance 0 (Burrow does the same; decision 7).
                if prev.order < e.order
                    && e.timestamp.saturating_sub(prev.timestamp) < min_distance_ms
                {
                    timestamp = prev.timestamp;
                    dest = Destination::Overwrite(i);
                }
            }
        }
        let slot = Slot::new(
            e.offset,
            e.order,
            timestamp,
            now_s.saturating_mul(1000),
            lag,
        );
        ring.store(dest, slot, intervals);
        Ok(())
    }

    /// Stores the owner and client id of a group partition. Like Burrow, it creates the group (with
    /// `last_commit` 0, so it is purged on its first fetch unless a commit arrives), and creates the
    /// partition's (empty) window once the broker knows the partition.
    pub fn set_consumer_owner(&self, e: &ConsumerOwnerEvent) -> Outcome {
        let cluster = match self.cluster(&e.cluster) {
            Ok(c) => c,
            Err(r) => return Outcome::Dropped(r),
        };
        if !self.filter.accepts(&e.group) {
            return Outcome::Dropped(DropReason::GroupFiltered);
        }
        Self::with_group(cluster, &e.group, |_| ());
        let partition_count = match Self::broker_lookup(cluster, &e.topic, e.partition) {
            Ok((_, count)) => count,
            Err(r) => return Outcome::Dropped(r),
        };
        let intervals = self.intervals;
        Self::with_group(cluster, &e.group, |group| {
            let part = group_partition(
                &mut group.topics,
                &e.topic,
                e.partition as usize,
                partition_count,
            );
            part.ring.get_or_insert_with(|| CommitRing::new(intervals));
            part.owner = e.owner.as_str().into();
            part.client_id = e.client_id.as_str().into();
        });
        Outcome::Applied
    }

    /// Blanks owner and client id on every partition of a group.
    pub fn clear_consumer_owners(&self, e: &ClearOwnersEvent) -> Outcome {
        let cluster = match self.cluster(&e.cluster) {
            Ok(c) => c,
            Err(r) => return Outcome::Dropped(r),
        };
        if !self.filter.accepts(&e.group) {
            return Outcome::Dropped(DropReason::GroupFiltered);
        }
        let Some(mut group) = cluster.groups.get_mut(e.group.as_str()) else {
            return Outcome::Dropped(DropReason::UnknownGroup);
        };
        for part in group.topics.values_mut().flatten() {
            part.owner = Box::default();
            part.client_id = Box::default();
        }
        Outcome::Applied
    }

    /// Removes a topic from every group and from the broker offsets. Groups left without topics are
    /// kept, as in Burrow (they evaluate OK with no partitions).
    pub fn delete_topic(&self, e: &DeleteTopicEvent) -> Outcome {
        let cluster = match self.cluster(&e.cluster) {
            Ok(c) => c,
            Err(r) => return Outcome::Dropped(r),
        };
        for mut group in cluster.groups.iter_mut() {
            group.topics.remove(e.topic.as_str());
        }
        cluster.brokers.remove(e.topic.as_str());
        Outcome::Applied
    }

    /// Removes a group, or one topic of it (and the group too when no topic is left).
    pub fn delete_group(&self, e: &DeleteGroupEvent) -> Outcome {
        let cluster = match self.cluster(&e.cluster) {
            Ok(c) => c,
            Err(r) => return Outcome::Dropped(r),
        };
        if let Some(topic) = &e.topic {
            let now_empty = {
                let Some(mut group) = cluster.groups.get_mut(e.group.as_str()) else {
                    return Outcome::Dropped(DropReason::UnknownGroup);
                };
                group.topics.remove(topic.as_str());
                group.topics.is_empty()
            };
            if now_empty {
                cluster
                    .groups
                    .remove_if(e.group.as_str(), |_, g| g.topics.is_empty());
            }
            return Outcome::Applied;
        }
        match cluster.groups.remove(e.group.as_str()) {
            Some(_) => Outcome::Applied,
            None => Outcome::Dropped(DropReason::UnknownGroup),
        }
    }

    /// Applies an offset tombstone (decision 4, a fix over Burrow, which ignores them): the
    /// partition loses its window, owner and client id; a topic with no window left is removed, and
    /// a group with no topic left is removed.
    pub fn offset_tombstone(&self, e: &OffsetTombstoneEvent) -> Outcome {
        let cluster = match self.cluster(&e.cluster) {
            Ok(c) => c,
            Err(r) => return Outcome::Dropped(r),
        };
        if e.partition < 0 {
            return Outcome::Dropped(DropReason::NegativePartition);
        }
        let group_empty = {
            let Some(mut group) = cluster.groups.get_mut(e.group.as_str()) else {
                return Outcome::Dropped(DropReason::UnknownGroup);
            };
            let Some(partitions) = group.topics.get_mut(e.topic.as_str()) else {
                return Outcome::Dropped(DropReason::NotStored);
            };
            let Some(part) = partitions.get_mut(e.partition as usize) else {
                return Outcome::Dropped(DropReason::NotStored);
            };
            *part = GroupPartition::default();
            if partitions.iter().all(|p| p.ring.is_none()) {
                group.topics.remove(e.topic.as_str());
            }
            group.topics.is_empty()
        };
        if group_empty {
            cluster
                .groups
                .remove_if(e.group.as_str(), |_, g| g.topics.is_empty());
        }
        Outcome::Applied
    }

    /// Cluster names, sorted.
    pub fn fetch_clusters(&self) -> Vec<String> {
        let mut v: Vec<String> = self.clusters.keys().map(|k| k.to_string()).collect();
        v.sort_unstable();
        v
    }

    /// Group names of a cluster, sorted (expired groups included until they are fetched, as in
    /// Burrow). `None` for an unknown cluster.
    pub fn fetch_consumers(&self, cluster: &str) -> Option<Vec<String>> {
        let cluster = self.clusters.get(cluster)?;
        let mut v: Vec<String> = cluster.groups.iter().map(|g| g.key().to_string()).collect();
        v.sort_unstable();
        Some(v)
    }

    /// Topics with broker offsets, sorted. `None` for an unknown cluster.
    pub fn fetch_topics(&self, cluster: &str) -> Option<Vec<String>> {
        let cluster = self.clusters.get(cluster)?;
        let mut v: Vec<String> = cluster
            .brokers
            .iter()
            .map(|t| t.key().to_string())
            .collect();
        v.sort_unstable();
        Some(v)
    }

    /// Newest broker offset of each partition; the index is the partition id (decision 12: Burrow
    /// skips partitions without a value, shifting indexes) and `None` marks a partition without one.
    /// `None` for an unknown cluster or topic.
    pub fn fetch_topic(&self, cluster: &str, topic: &str) -> Option<Vec<Option<i64>>> {
        let cluster = self.clusters.get(cluster)?;
        let partitions = cluster.brokers.get(topic)?;
        Some(
            partitions
                .iter()
                .map(|r| r.newest().map(|b| b.offset))
                .collect(),
        )
    }

    /// The stored broker end offsets of `topics` in `cluster` with the times they were fetched
    /// (at most `intervals` per partition, oldest first), read once for repeated lookups.
    /// Unknown clusters and topics have no samples.
    pub fn broker_histories<'a>(
        &self,
        cluster: &str,
        topics: impl IntoIterator<Item = &'a str>,
    ) -> BrokerHistories {
        let mut map = HashMap::new();
        let Some(cluster) = self.clusters.get(cluster) else {
            return BrokerHistories(map);
        };
        for topic in topics {
            if map.contains_key(topic) {
                continue;
            }
            if let Some(partitions) = cluster.brokers.get(topic) {
                let h: Vec<Vec<BrokerOffset>> = partitions
                    .iter()
                    .map(|r| r.iter().copied().collect())
                    .collect();
                map.insert(topic.to_string(), h);
            }
        }
        BrokerHistories(map)
    }

    /// When a cluster's data last moved: the newest broker end-offset fetch and the newest
    /// commit (ms, `None` when there is none), with its topic and group counts. `None` for an
    /// unknown cluster.
    pub fn freshness(&self, cluster: &str) -> Option<Freshness> {
        let cluster = self.clusters.get(cluster)?;
        let mut f = Freshness::default();
        for topic in cluster.brokers.iter() {
            f.topics += 1;
            let newest = topic
                .value()
                .iter()
                .filter_map(|r| r.newest())
                .map(|b| b.timestamp)
                .max();
            f.broker_offsets_at = f.broker_offsets_at.max(newest);
        }
        for group in cluster.groups.iter() {
            f.groups += 1;
            if group.last_commit > 0 {
                f.last_commit_at = f.last_commit_at.max(Some(group.last_commit));
            }
        }
        Some(f)
    }

    /// Groups that store the topic (owner-only groups included), sorted. `None` for an unknown
    /// cluster.
    pub fn fetch_consumers_for_topic(&self, cluster: &str, topic: &str) -> Option<Vec<String>> {
        let cluster = self.clusters.get(cluster)?;
        let mut v: Vec<String> = cluster
            .groups
            .iter()
            .filter(|g| g.topics.contains_key(topic))
            .map(|g| g.key().to_string())
            .collect();
        v.sort_unstable();
        Some(v)
    }

    fn expired_before(&self, now_ms: i64) -> i64 {
        now_ms
            .div_euclid(1000)
            .saturating_sub(self.config.expire_group)
            .saturating_mul(1000)
    }

    /// A group's windows with broker offsets and current lag (Burrow's `FetchConsumer`).
    ///
    /// A group whose last commit is older than `expire-group` is deleted here and reported as
    /// missing (Burrow's lazy expiry). `None` for an unknown cluster or group.
    pub fn fetch_consumer(
        &self,
        now_ms: i64,
        cluster: &str,
        group: &str,
    ) -> Option<ConsumerTopics> {
        let cluster = self.clusters.get(cluster)?;
        let expired_before = self.expired_before(now_ms);
        let mut topics = ConsumerTopics::new();
        {
            let entry = cluster.groups.get(group)?;
            if expired_before > entry.last_commit {
                drop(entry);
                cluster
                    .groups
                    .remove_if(group, |_, g| expired_before > g.last_commit);
                return None;
            }
            for (topic, partitions) in &entry.topics {
                let list = partitions
                    .iter()
                    .map(|p| ConsumerPartition {
                        offsets: p.window(self.intervals, |s| s.to_offset()),
                        owner: p.owner.to_string(),
                        client_id: p.client_id.to_string(),
                        current_lag: 0,
                        broker_offsets: Vec::new(),
                    })
                    .collect();
                topics.insert(topic.to_string(), list);
            }
        }
        // Broker data is read after the group's lock is released: the two maps are never locked
        // together.
        for (topic, partitions) in topics.iter_mut() {
            let Some(brokers) = cluster.brokers.get(topic.as_str()) else {
                continue;
            };
            for (i, part) in partitions.iter_mut().enumerate() {
                let Some(ring) = brokers.get(i) else { continue };
                part.broker_offsets = ring.iter().map(|b| b.offset).collect();
                if let (Some(Some(newest_commit)), Some(newest_broker)) =
                    (part.offsets.last(), ring.newest())
                {
                    part.current_lag = newest_broker
                        .offset
                        .saturating_sub(newest_commit.offset)
                        .max(0) as u64;
                }
            }
        }
        Some(topics)
    }

    /// Deletes every group whose last commit is older than `expire-group` and returns them as
    /// `(cluster, group)`. Burrow only expires groups when they are fetched; a server calls this
    /// periodically so that groups nobody asks for do not stay in memory.
    pub fn purge_expired(&self, now_ms: i64) -> Vec<(String, String)> {
        let expired_before = self.expired_before(now_ms);
        let mut removed = Vec::new();
        for (name, cluster) in &self.clusters {
            let candidates: Vec<Box<str>> = cluster
                .groups
                .iter()
                .filter(|g| expired_before > g.last_commit)
                .map(|g| g.key().clone())
                .collect();
            for group in candidates {
                if cluster
                    .groups
                    .remove_if(&group, |_, g| expired_before > g.last_commit)
                    .is_some()
                {
                    removed.push((name.to_string(), group.into_string()));
                }
            }
        }
        removed.sort_unstable();
        removed
    }

    /// Counts of what storage holds.
    pub fn stats(&self) -> StorageStats {
        let mut stats = StorageStats {
            clusters: self.clusters.len(),
            ..Default::default()
        };
        for cluster in self.clusters.values() {
            stats.topics += cluster.brokers.len();
            stats.groups += cluster.groups.len();
            for group in cluster.groups.iter() {
                for part in group.topics.values().flatten() {
                    stats.group_partitions += 1;
                    stats.commits += part.ring.as_ref().map_or(0, |r| r.len());
                }
            }
        }
        stats
    }
}

/// Gets the partition entry, creating the topic list and padding it with window-less partitions up
/// to the broker's partition count when needed (Burrow's `getConsumerPartition`).
fn group_partition<'a>(
    topics: &'a mut TopicMap<Vec<GroupPartition>>,
    topic: &str,
    partition: usize,
    partition_count: usize,
) -> &'a mut GroupPartition {
    let partitions = topics
        .entry_ref(topic)
        .or_insert_with(|| Vec::with_capacity(partition_count));
    if partition >= partitions.len() {
        partitions.resize_with(partition_count.max(partition + 1), GroupPartition::default);
    }
    &mut partitions[partition]
}

impl ConsumerSource for Storage {
    fn fetch_consumer(&self, now_ms: i64, cluster: &str, group: &str) -> Option<ConsumerTopics> {
        Storage::fetch_consumer(self, now_ms, cluster, group)
    }
}
