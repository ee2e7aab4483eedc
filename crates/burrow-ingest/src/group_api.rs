//! The consumer module of class `kafka_admin`: committed offsets through the group APIs, for
//! clusters whose `__consumer_offsets` a monitor cannot read (managed services that hide it or
//! deny READ on it, Kafka-compatible brokers that keep commits in a store of their own).
//!
//! Every `poll-interval` it lists the groups (ListGroups on every broker: each broker answers for
//! the groups it coordinates, so no FindCoordinator is needed), and asks each coordinator for its
//! groups' committed offsets (OffsetFetch, all of them in one request from v8, one per group
//! before) and members (DescribeGroups for classic groups, ConsumerGroupDescribe for KIP-848
//! groups, which ListGroups v5+ reports as of type `consumer`; all of them in one request).
//!
//! Polls are `poll-interval` apart, each delay drawn between 0.8 and 1.2 times it ([`jittered`]).
//!
//! The group APIs give no commit time, so a poll becomes window entries this way ([`PollState`]):
//! - a changed offset is an entry observed at poll time (timestamp: the poll time; order: the
//!   poll time from [`burrow_core::POLL_ORDERS`] on, after every log position);
//! - an unchanged offset of a group with members is an entry too: what a consumer that commits on
//!   a timer produces, so a live consumer that does not advance turns STALL;
//! - a group without members adds nothing, so a dead group with lag turns STOP once its window
//!   ages;
//! - an offset that went back is an entry like any other change: a rewind is a rewind.
//!
//! On a cluster that a `kafka` module reads too, the offsets topic wins per group partition:
//! storage drops poll entries for a window holding the topic's commits, and the topic's first
//! commit replaces a window of poll entries ([`burrow_core::POLL_ORDERS`]).
//!
//! Owners (client host) and client ids come from the members' assignments, written every poll
//! (cleared first when they changed); a group no longer listed by a complete listing is deleted
//! from storage.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, info, warn};

use burrow_core::throttle::Throttle;
use burrow_core::{
    now_ms, ClearOwnersEvent, ConsumerOffsetEvent, ConsumerOwnerEvent, DeleteGroupEvent,
    StorageEvent, POLL_ORDERS,
};
use burrow_kafka::{ClientConfig, CommittedOffset, GroupDescription, KafkaClient, ListedGroup};
use burrow_storage::{GroupFilter, Outcome, Storage};

use crate::IngestMetrics;

/// Groups asked per OffsetFetch and DescribeGroups request.
const GROUPS_PER_REQUEST: usize = 500;

/// Settings of one `[consumer.<name>]` module of class `kafka_admin`.
#[derive(Debug, Clone)]
pub struct GroupApiSettings {
    /// Module name.
    pub name: String,
    /// The cluster (storage key) the offsets belong to.
    pub cluster: String,
    /// Brokers to ask.
    pub servers: Vec<String>,
    /// Client settings from the client profile.
    pub client: ClientConfig,
    /// The module's group allowlist and denylist.
    pub filter: GroupFilter,
    /// Time between two polls (`poll-interval`).
    pub poll_interval: Duration,
}

/// A running `kafka_admin` module.
pub struct GroupApiHandle {
    name: String,
    ready: watch::Receiver<bool>,
    task: JoinHandle<()>,
}

impl GroupApiHandle {
    /// The module's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Becomes true after the first complete poll.
    pub fn ready(&self) -> watch::Receiver<bool> {
        self.ready.clone()
    }

    /// Stops the module.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Starts a `kafka_admin` module. It waits for `cluster_ready` (broker offsets first, so that
/// commits are not dropped), connects (retrying while the brokers are unreachable), then polls.
pub fn start(
    settings: GroupApiSettings,
    storage: Arc<Storage>,
    metrics: IngestMetrics,
    cluster_ready: watch::Receiver<bool>,
) -> GroupApiHandle {
    let (ready_tx, ready) = watch::channel(false);
    let name = settings.name.clone();
    let task = tokio::spawn(run(settings, storage, metrics, cluster_ready, ready_tx));
    GroupApiHandle { name, ready, task }
}

async fn run(
    settings: GroupApiSettings,
    storage: Arc<Storage>,
    metrics: IngestMetrics,
    mut cluster_ready: watch::Receiver<bool>,
    ready: watch::Sender<bool>,
) {
    let client = crate::connect::connect_retrying(
        "consumer",
        &settings.name,
        &settings.servers,
        &settings.client,
        None,
    )
    .await;
    let _ = cluster_ready.wait_for(|r| *r).await;
    let mut state = PollState::default();
    let failures = Throttle::new(Duration::from_secs(60));
    let polls = |result: &str| {
        metrics
            .group_polls
            .with_label_values(&[&settings.name, result])
    };
    let mut seed = u64::from(std::process::id()) ^ now_ms() as u64;
    loop {
        let started = tokio::time::Instant::now();
        match poll(&client, &settings.filter).await {
            Ok(polled) => {
                let now = now_ms();
                let stored = |group: &str| stored_offsets(&storage, &settings.cluster, group);
                let events = state.events(&settings.cluster, now, &polled, &stored);
                let stored = apply(&storage, &metrics, &settings.name, now, &events);
                polls("ok").inc();
                debug!(consumer = %settings.name, groups = polled.groups.len(), events = events.len(), stored, took = ?started.elapsed(), "groups polled");
                if !*ready.borrow() {
                    info!(consumer = %settings.name, groups = polled.groups.len(), "first poll of the group APIs done");
                    let _ = ready.send(true);
                }
            }
            Err(e) => {
                polls("failed").inc();
                if let Some(suppressed) = failures.allow() {
                    warn!(consumer = %settings.name, error = %e, suppressed, "polling the group APIs failed; retrying at the next interval");
                }
            }
        }
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = jittered(settings.poll_interval, seed);
        tokio::time::sleep_until(started + delay).await;
    }
}

/// The delay before the next poll: `every` times a factor between 0.8 and 1.2 drawn from
/// `seed`. Polls in step with a consumer's commits (every 5 s by default in Kafka's clients)
/// would see the same lag at every poll, which Burrow's rules read as a lag that never
/// decreases (WARN) although the consumer keeps up (`tests/sources.rs`).
pub fn jittered(every: Duration, seed: u64) -> Duration {
    let unit = (seed >> 11) as f64 / (1u64 << 53) as f64;
    every.mul_f64(0.8 + 0.4 * unit)
}

/// Writes the events; how many storage took.
fn apply(
    storage: &Storage,
    metrics: &IngestMetrics,
    module: &str,
    now: i64,
    events: &[StorageEvent],
) -> usize {
    let mut stored = 0;
    for event in events {
        match storage.apply(now, event) {
            Outcome::Applied => stored += 1,
            Outcome::Dropped(reason) => metrics
                .writes_dropped
                .with_label_values(&[module, reason.as_str()])
                .inc(),
        }
    }
    stored
}

/// What one poll found.
#[derive(Debug, Default)]
pub struct Polled {
    /// The groups that passed the filter, with what their coordinators said.
    pub groups: Vec<PolledGroup>,
    /// Whether every broker answered ListGroups (only then do missing groups count as gone).
    pub complete: bool,
}

/// One group as a poll sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolledGroup {
    /// Group id.
    pub group: String,
    /// Its committed offsets (`None`: the coordinator did not say this time).
    pub offsets: Option<Vec<CommittedOffset>>,
    /// Its members (`None`: the coordinator did not say this time).
    pub members: Option<Vec<burrow_kafka::MemberDescription>>,
}

/// One poll of the group APIs: the groups `filter` accepts, with their committed offsets and
/// members from their coordinators (a module's poll; public for benchmarks and embedding).
pub async fn poll(client: &KafkaClient, filter: &GroupFilter) -> burrow_kafka::Result<Polled> {
    let listed = client.list_groups().await?;
    let mut by_coordinator: BTreeMap<i32, Vec<Listed>> = BTreeMap::new();
    for g in listed.iter().filter(|g| wanted(g, filter)) {
        by_coordinator
            .entry(g.coordinator)
            .or_default()
            .push(Listed {
                group: g.group_id.clone(),
                kip848: g.group_type == "consumer",
            });
    }
    // Coordinators are asked at once; one coordinator's chunks one after the other (a broker
    // answers a connection's requests in order, so queued chunks would only wait, and could
    // time out, behind each other).
    let mut asks = JoinSet::new();
    for (coordinator, groups) in by_coordinator {
        let client = client.clone();
        asks.spawn(async move {
            let mut polled = Vec::with_capacity(groups.len());
            for chunk in groups.chunks(GROUPS_PER_REQUEST) {
                polled.extend(ask_coordinator(&client, coordinator, chunk).await);
            }
            polled
        });
    }
    let mut polled = Polled {
        groups: Vec::new(),
        complete: true,
    };
    while let Some(joined) = asks.join_next().await {
        if let Ok(groups) = joined {
            polled.groups.extend(groups);
        }
    }
    polled.groups.sort_by(|a, b| a.group.cmp(&b.group));
    Ok(polled)
}

/// A group to ask its coordinator about.
struct Listed {
    group: String,
    /// A KIP-848 group (ListGroups type `consumer`): described by ConsumerGroupDescribe.
    kip848: bool,
}

/// Consumer groups (classic and KIP-848 report protocol type `consumer`) and groups that only
/// hold committed offsets (no protocol type: `assign()` users, tools), as the filter allows.
fn wanted(g: &ListedGroup, filter: &GroupFilter) -> bool {
    (g.protocol_type == "consumer" || g.protocol_type.is_empty()) && filter.accepts(&g.group_id)
}

/// Offsets and members of `groups` from their coordinator; a failed request leaves them
/// unknown this time (not gone).
async fn ask_coordinator(
    client: &KafkaClient,
    coordinator: i32,
    groups: &[Listed],
) -> Vec<PolledGroup> {
    let ids: Vec<String> = groups.iter().map(|g| g.group.clone()).collect();
    let (offsets, mut members) = tokio::join!(
        client.offset_fetch_at(coordinator, &ids),
        members_at(client, coordinator, groups)
    );
    let mut offsets = match offsets {
        Ok(o) => o,
        Err(e) => {
            debug!(coordinator, error = %e, "OffsetFetch failed; these groups are skipped this poll");
            BTreeMap::new()
        }
    };
    ids.into_iter()
        .map(|group| PolledGroup {
            offsets: offsets.remove(&group).and_then(|r| r.ok()),
            members: members.remove(&group),
            group,
        })
        .collect()
}

/// The members of `groups` by group: classic groups through DescribeGroups, KIP-848 groups
/// through ConsumerGroupDescribe, both at once. A group whose description failed is missing.
async fn members_at(
    client: &KafkaClient,
    coordinator: i32,
    groups: &[Listed],
) -> HashMap<String, Vec<burrow_kafka::MemberDescription>> {
    let (kip848, classic): (Vec<&Listed>, Vec<&Listed>) = groups.iter().partition(|g| g.kip848);
    let ids = |gs: Vec<&Listed>| gs.into_iter().map(|g| g.group.clone()).collect::<Vec<_>>();
    let (classic, kip848) = (ids(classic), ids(kip848));
    let (described, described_848) = tokio::join!(
        async {
            match classic.is_empty() {
                true => Ok(Vec::new()),
                false => client.describe_groups_at(coordinator, &classic).await,
            }
        },
        async {
            match kip848.is_empty() {
                true => Ok(Vec::new()),
                false => {
                    client
                        .describe_consumer_groups_at(coordinator, &kip848)
                        .await
                }
            }
        }
    );
    let mut members = HashMap::new();
    for (api, described) in [
        ("DescribeGroups", described),
        ("ConsumerGroupDescribe", described_848),
    ] {
        match described {
            Ok(d) => {
                for d in d.into_iter().flatten() {
                    let GroupDescription {
                        group_id,
                        members: m,
                        ..
                    } = d;
                    members.insert(group_id, m);
                }
            }
            Err(e) => {
                debug!(coordinator, api, error = %e, "describing groups failed; their owners are left as they are this poll")
            }
        }
    }
    members
}

/// A group's newest stored offset per (topic, partition).
pub type StoredOffsets = BTreeMap<(String, i32), i64>;

/// What storage holds of `group`: its newest offset per partition.
fn stored_offsets(storage: &Storage, cluster: &str, group: &str) -> StoredOffsets {
    let Some(topics) = storage.fetch_consumer(now_ms(), cluster, group) else {
        return StoredOffsets::new();
    };
    let mut out = StoredOffsets::new();
    for (topic, partitions) in topics {
        for (p, part) in partitions.iter().enumerate() {
            if let Some(newest) = part.offsets.iter().flatten().last() {
                out.insert((topic.clone(), p as i32), newest.offset);
            }
        }
    }
    out
}

/// One owner of a group partition: (topic, partition) → (owner, client id).
type Owners = BTreeMap<(String, i32), (String, String)>;

/// What the polls so far saw: the offsets last written per group partition, the owners last
/// written per group, and the order of the last entry. Turns each poll into storage events
/// (the module's doc says how).
#[derive(Debug, Default)]
pub struct PollState {
    offsets: HashMap<(String, String, i32), i64>,
    owners: HashMap<String, Owners>,
    last_order: i64,
}

impl PollState {
    /// The storage events of one poll at `now_ms`. `stored` gives the newest offsets storage
    /// holds for a group the polls have not seen yet (after a warm restart, the restored
    /// window): an unchanged offset of a group without members is then no new entry either.
    pub fn events(
        &mut self,
        cluster: &str,
        now_ms: i64,
        polled: &Polled,
        stored: &dyn Fn(&str) -> StoredOffsets,
    ) -> Vec<StorageEvent> {
        // Orders keep increasing even if the clock steps back.
        self.last_order = now_ms.max(self.last_order + 1);
        let order = POLL_ORDERS.saturating_add(self.last_order);
        let mut events = Vec::new();
        for g in &polled.groups {
            self.seed(g, stored);
            self.group_events(cluster, now_ms, order, g, &mut events);
        }
        if polled.complete {
            self.gone(cluster, polled, &mut events);
        }
        events
    }

    /// The newest stored offsets of a group the polls have not seen yet.
    fn seed(&mut self, g: &PolledGroup, stored: &dyn Fn(&str) -> StoredOffsets) {
        let unseen = g.offsets.iter().flatten().any(|o| {
            !self
                .offsets
                .contains_key(&(g.group.clone(), o.topic.clone(), o.partition))
        });
        if !unseen {
            return;
        }
        for ((topic, partition), offset) in stored(&g.group) {
            self.offsets
                .entry((g.group.clone(), topic, partition))
                .or_insert(offset);
        }
    }

    fn group_events(
        &mut self,
        cluster: &str,
        now_ms: i64,
        order: i64,
        g: &PolledGroup,
        events: &mut Vec<StorageEvent>,
    ) {
        let active = g.members.as_ref().is_some_and(|m| !m.is_empty());
        for o in g.offsets.iter().flatten().filter(|o| o.offset >= 0) {
            let key = (g.group.clone(), o.topic.clone(), o.partition);
            let changed = self.offsets.get(&key) != Some(&o.offset);
            if changed || active {
                events.push(StorageEvent::ConsumerOffset(ConsumerOffsetEvent {
                    cluster: cluster.to_string(),
                    group: g.group.clone(),
                    topic: o.topic.clone(),
                    partition: o.partition,
                    offset: o.offset,
                    order,
                    timestamp: now_ms,
                }));
                self.offsets.insert(key, o.offset);
            }
        }
        if let Some(members) = &g.members {
            self.owner_events(cluster, &g.group, members, events);
        }
    }

    /// Each assigned partition's owner, every poll (a write storage dropped, before the group
    /// had offsets, is made again); the group's owners cleared first when they changed.
    fn owner_events(
        &mut self,
        cluster: &str,
        group: &str,
        members: &[burrow_kafka::MemberDescription],
        events: &mut Vec<StorageEvent>,
    ) {
        let mut owners = Owners::new();
        for m in members {
            for (topic, partitions) in &m.assignment {
                for &p in partitions {
                    owners.insert(
                        (topic.clone(), p),
                        (m.client_host.clone(), m.client_id.clone()),
                    );
                }
            }
        }
        let known = self.owners.get(group);
        if known.is_some_and(|k| !k.is_empty()) && known != Some(&owners) {
            events.push(StorageEvent::ClearOwners(ClearOwnersEvent {
                cluster: cluster.to_string(),
                group: group.to_string(),
            }));
        }
        for ((topic, partition), (owner, client_id)) in &owners {
            events.push(StorageEvent::ConsumerOwner(ConsumerOwnerEvent {
                cluster: cluster.to_string(),
                group: group.to_string(),
                topic: topic.clone(),
                partition: *partition,
                owner: owner.clone(),
                client_id: client_id.clone(),
            }));
        }
        self.owners.insert(group.to_string(), owners);
    }

    /// Groups seen before and not listed now: deleted on the broker.
    fn gone(&mut self, cluster: &str, polled: &Polled, events: &mut Vec<StorageEvent>) {
        let listed: HashSet<&str> = polled.groups.iter().map(|g| g.group.as_str()).collect();
        let known: HashSet<String> = self
            .offsets
            .keys()
            .map(|(g, _, _)| g.clone())
            .chain(self.owners.keys().cloned())
            .collect();
        for group in known.iter().filter(|g| !listed.contains(g.as_str())) {
            events.push(StorageEvent::DeleteGroup(DeleteGroupEvent {
                cluster: cluster.to_string(),
                group: group.clone(),
                topic: None,
            }));
        }
        self.offsets
            .retain(|(g, _, _), _| listed.contains(g.as_str()));
        self.owners.retain(|g, _| listed.contains(g.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burrow_kafka::MemberDescription;

    fn offsets(offset: i64) -> Option<Vec<CommittedOffset>> {
        Some(vec![CommittedOffset {
            topic: "t".into(),
            partition: 0,
            offset,
            metadata: String::new(),
        }])
    }

    fn member() -> Option<Vec<MemberDescription>> {
        Some(vec![MemberDescription {
            member_id: "m".into(),
            client_id: "c".into(),
            client_host: "/10.0.0.1".into(),
            assignment: [("t".to_string(), vec![0])].into(),
        }])
    }

    fn poll(group: &str, offset: i64, members: bool) -> Polled {
        Polled {
            groups: vec![PolledGroup {
                group: group.into(),
                offsets: offsets(offset),
                members: if members { member() } else { Some(vec![]) },
            }],
            complete: true,
        }
    }

    impl PollState {
        fn events_(&mut self, cluster: &str, now: i64, polled: &Polled) -> Vec<StorageEvent> {
            self.events(cluster, now, polled, &|_| StoredOffsets::new())
        }
    }

    #[test]
    fn after_a_warm_restart_an_unchanged_group_without_members_adds_nothing() {
        let mut s = PollState::default();
        let restored = |_: &str| StoredOffsets::from([(("t".to_string(), 0), 5)]);
        assert!(commits(&s.events("c", 1_000, &poll("g", 5, false), &restored)).is_empty());
        assert_eq!(
            commits(&s.events("c", 2_000, &poll("g", 6, false), &restored)),
            [(6, 2_000)]
        );
    }

    /// (offset, poll time) of each entry; their orders are poll times after every log position.
    fn commits(events: &[StorageEvent]) -> Vec<(i64, i64)> {
        events
            .iter()
            .filter_map(|e| match e {
                StorageEvent::ConsumerOffset(c) => {
                    assert!(burrow_core::is_poll_order(c.order), "{c:?}");
                    Some((c.offset, c.order - POLL_ORDERS))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_live_group_gives_an_entry_every_poll_even_unchanged() {
        let mut s = PollState::default();
        assert_eq!(
            commits(&s.events_("c", 1_000, &poll("g", 5, true))),
            [(5, 1_000)]
        );
        assert_eq!(
            commits(&s.events_("c", 2_000, &poll("g", 5, true))),
            [(5, 2_000)]
        );
        assert_eq!(
            commits(&s.events_("c", 3_000, &poll("g", 7, true))),
            [(7, 3_000)]
        );
    }

    #[test]
    fn a_group_without_members_gives_entries_only_when_its_offset_changes() {
        let mut s = PollState::default();
        assert_eq!(
            commits(&s.events_("c", 1_000, &poll("g", 5, false))),
            [(5, 1_000)]
        );
        assert!(commits(&s.events_("c", 2_000, &poll("g", 5, false))).is_empty());
        // A rewind is a change like any other.
        assert_eq!(
            commits(&s.events_("c", 3_000, &poll("g", 2, false))),
            [(2, 3_000)]
        );
    }

    #[test]
    fn orders_increase_even_when_the_clock_steps_back() {
        let mut s = PollState::default();
        assert_eq!(
            commits(&s.events_("c", 5_000, &poll("g", 1, true))),
            [(1, 5_000)]
        );
        assert_eq!(
            commits(&s.events_("c", 4_000, &poll("g", 2, true))),
            [(2, 5_001)]
        );
    }

    #[test]
    fn owners_are_written_every_poll_and_cleared_when_they_change() {
        let mut s = PollState::default();
        let first = s.events_("c", 1_000, &poll("g", 5, true));
        assert!(first.iter().any(|e| matches!(e, StorageEvent::ConsumerOwner(o) if o.owner == "/10.0.0.1" && o.client_id == "c")));
        let again = s.events_("c", 2_000, &poll("g", 5, true));
        assert!(again
            .iter()
            .any(|e| matches!(e, StorageEvent::ConsumerOwner(_))));
        assert!(!again
            .iter()
            .any(|e| matches!(e, StorageEvent::ClearOwners(_))));
        let left = s.events_("c", 3_000, &poll("g", 5, false));
        assert!(left
            .iter()
            .any(|e| matches!(e, StorageEvent::ClearOwners(_))));
        assert!(!left
            .iter()
            .any(|e| matches!(e, StorageEvent::ConsumerOwner(_))));
    }

    #[test]
    fn a_group_no_longer_listed_is_deleted_but_not_after_an_incomplete_listing() {
        let mut s = PollState::default();
        s.events_("c", 1_000, &poll("g", 5, true));
        let mut partial = poll("other", 1, false);
        partial.complete = false;
        assert!(!s
            .events_("c", 2_000, &partial)
            .iter()
            .any(|e| matches!(e, StorageEvent::DeleteGroup(_))));
        let events = s.events_("c", 3_000, &poll("other", 1, false));
        assert!(events
            .iter()
            .any(|e| matches!(e, StorageEvent::DeleteGroup(d) if d.group == "g")));
        assert!(!s
            .events_("c", 4_000, &poll("other", 1, false))
            .iter()
            .any(|e| matches!(e, StorageEvent::DeleteGroup(_))));
    }
}
