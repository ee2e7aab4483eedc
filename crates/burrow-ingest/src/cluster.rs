//! Burrow's cluster module (`[cluster.<name>]`, class `kafka`): topic metadata and broker end
//! offsets, on a timer, into storage.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use burrow_core::{BrokerOffsetEvent, DeleteGroupEvent, DeleteTopicEvent};
use burrow_kafka::{ClientConfig, IsolationLevel, KafkaClient, OffsetSpec};
use burrow_storage::Storage;

use burrow_core::now_ms;

use crate::health::Health;
use crate::IngestMetrics;
use burrow_core::throttle::Throttle;

/// Settings of one cluster module.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// Module (and cluster) name.
    pub name: String,
    /// Bootstrap brokers.
    pub servers: Vec<String>,
    /// Client settings from the client profile.
    pub client: ClientConfig,
    /// Seconds between broker end-offset rounds (`offset-refresh`).
    pub offset_refresh: Duration,
    /// Seconds between metadata refreshes (`topic-refresh`).
    pub topic_refresh: Duration,
    /// Seconds between groups-reaper sweeps (`groups-reaper-refresh`); `None` = off.
    pub groups_reaper_refresh: Option<Duration>,
    /// Groups the reaper never deletes: Burrow's own `burrow-<consumer module>` pseudo-groups.
    pub reaper_spares: Vec<String>,
    /// Lag in seconds (`lag-seconds`): refreshed every `offset-refresh` when set.
    pub time_lag: Option<Arc<crate::time_lag::TimeLag>>,
}

/// Shortest pause between two refreshes asked for early (decision 6), so that a stream of commits
/// for a topic that does not exist cannot turn into a stream of metadata requests.
const EARLY_REFRESH_MIN_GAP: Duration = Duration::from_secs(1);

/// A running cluster module.
pub struct ClusterHandle {
    name: String,
    offset_refresh: Duration,
    health: Health,
    early: Arc<Notify>,
    ready: watch::Receiver<bool>,
    task: JoinHandle<()>,
}

impl ClusterHandle {
    /// The cluster's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When the cluster last answered and last failed.
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// How often the cluster's end offsets are read (`offset-refresh`).
    pub fn offset_refresh(&self) -> Duration {
        self.offset_refresh
    }

    /// Asks for a metadata refresh and an offset round soon (a commit named a topic or partition
    /// storage has no broker offset for). Coalesced and rate-limited.
    pub fn request_refresh(&self) {
        self.early.notify_one();
    }

    /// A handle to ask for early refreshes from another task.
    pub fn refresher(&self) -> Refresher {
        Refresher(self.early.clone())
    }

    /// Becomes true after the first round that stored broker offsets.
    pub fn first_round(&self) -> watch::Receiver<bool> {
        self.ready.clone()
    }

    /// Stops the module.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Asks a cluster module for an early refresh (see [`ClusterHandle::request_refresh`]).
#[derive(Clone)]
pub struct Refresher(Arc<Notify>);

impl Refresher {
    /// Asks for a refresh soon.
    pub fn request(&self) {
        self.0.notify_one();
    }
}

/// Starts a cluster module. It connects in the background (retrying with backoff while the
/// brokers are unreachable), then runs a metadata refresh and an offset round at once and every
/// `offset-refresh` after that.
pub fn start(
    settings: ClusterSettings,
    storage: Arc<Storage>,
    metrics: IngestMetrics,
) -> ClusterHandle {
    let early = Arc::new(Notify::new());
    let (ready_tx, ready) = watch::channel(false);
    let name = settings.name.clone();
    let offset_refresh = settings.offset_refresh;
    let health = Health::new(now_ms());
    let task = tokio::spawn(run(
        settings,
        storage,
        metrics,
        early.clone(),
        ready_tx,
        health.clone(),
    ));
    ClusterHandle {
        name,
        offset_refresh,
        health,
        early,
        ready,
        task,
    }
}

/// What the module knows from the last metadata refresh.
#[derive(Default)]
struct Topology {
    /// Partitions with a leader, as (topic, partition).
    partitions: Vec<(String, i32)>,
    /// Full partition count per topic (leaderless partitions included).
    counts: BTreeMap<String, i32>,
}

async fn run(
    settings: ClusterSettings,
    storage: Arc<Storage>,
    metrics: IngestMetrics,
    early: Arc<Notify>,
    ready: watch::Sender<bool>,
    health: Health,
) {
    let client = crate::connect::connect_retrying(
        "cluster",
        &settings.name,
        &settings.servers,
        &settings.client,
        Some(&health),
    )
    .await;
    // Side tasks live as long as this future: aborting the module aborts them.
    let mut side = tokio::task::JoinSet::new();
    if let Some(time_lag) = settings.time_lag.clone() {
        let (client, storage, name) = (client.clone(), storage.clone(), settings.name.clone());
        let every = settings.offset_refresh;
        side.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let stats = time_lag
                    .refresh(&client, &storage, &name, burrow_core::now_ms())
                    .await;
                debug!(cluster = %name, ?stats, "time lag refreshed");
            }
        });
    }
    let mut module = Module {
        topology: Topology::default(),
        refresh_metadata: true,
        loaded: false,
        client,
        storage,
        metrics,
        settings,
        health,
        round_failures: Throttle::new(Duration::from_secs(60)),
        metadata_failures: Throttle::new(Duration::from_secs(60)),
    };
    let reaper_ok = module.settings.client.kafka_version.at_least(0, 11, 0);
    if module.settings.groups_reaper_refresh.is_some() && !reaper_ok {
        warn!(cluster = %module.settings.name, "groups-reaper-refresh needs kafka-version 0.11.0.0 or newer; the reaper is off");
    }

    let mut offset_tick = tokio::time::interval(module.settings.offset_refresh);
    let mut topic_tick = tokio::time::interval(module.settings.topic_refresh);
    let reaper_every = module.settings.groups_reaper_refresh.filter(|_| reaper_ok);
    let mut reaper_tick = tokio::time::interval(reaper_every.unwrap_or(Duration::from_secs(3600)));
    for t in [&mut offset_tick, &mut topic_tick, &mut reaper_tick] {
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    }
    // The first ticks fire at once: consume them so the intervals start now (the first round runs
    // right below).
    topic_tick.tick().await;
    reaper_tick.tick().await;
    let mut last_early = tokio::time::Instant::now() - EARLY_REFRESH_MIN_GAP;
    loop {
        tokio::select! {
            _ = offset_tick.tick() => {}
            _ = topic_tick.tick() => { module.refresh_metadata = true; continue; }
            _ = reaper_tick.tick(), if reaper_every.is_some() => { module.reap().await; continue; }
            _ = early.notified() => {
                let since = last_early.elapsed();
                if since < EARLY_REFRESH_MIN_GAP {
                    tokio::time::sleep(EARLY_REFRESH_MIN_GAP - since).await;
                }
                last_early = tokio::time::Instant::now();
                debug!(cluster = %module.settings.name, "early refresh: a commit named a topic without broker offsets");
                module.refresh_metadata = true;
            }
        }
        module.round().await;
        if module.loaded && !*ready.borrow() {
            let _ = ready.send(true);
        }
    }
}

struct Module {
    settings: ClusterSettings,
    client: KafkaClient,
    storage: Arc<Storage>,
    metrics: IngestMetrics,
    topology: Topology,
    refresh_metadata: bool,
    /// True once metadata was read (the first round after it has stored what it could).
    loaded: bool,
    health: Health,
    round_failures: Throttle,
    metadata_failures: Throttle,
}

impl Module {
    /// One round: metadata if flagged, then the end offset of every partition with a leader.
    /// Returns the number of offsets stored.
    async fn round(&mut self) -> usize {
        if self.refresh_metadata {
            self.refresh().await;
        }
        let cluster = self.settings.name.as_str();
        let results = self
            .client
            .list_offsets(
                &self.topology.partitions,
                OffsetSpec::Latest,
                IsolationLevel::ReadUncommitted,
            )
            .await;
        let now = now_ms();
        let mut stored = 0;
        let mut errors = 0u64;
        let mut first_error = None;
        for r in results {
            match r.result {
                Ok(offset) => {
                    let count = self
                        .topology
                        .counts
                        .get(&r.topic)
                        .copied()
                        .unwrap_or(r.partition + 1);
                    let outcome = self.storage.set_broker_offset(&BrokerOffsetEvent {
                        cluster: cluster.to_string(),
                        topic: r.topic,
                        partition: r.partition,
                        partition_count: count,
                        offset,
                        timestamp: now,
                    });
                    match outcome {
                        burrow_storage::Outcome::Applied => stored += 1,
                        burrow_storage::Outcome::Dropped(reason) => self
                            .metrics
                            .writes_dropped
                            .with_label_values(&[cluster, reason.as_str()])
                            .inc(),
                    }
                }
                Err(e) => {
                    errors += 1;
                    if e.needs_metadata_refresh() {
                        self.refresh_metadata = true;
                    }
                    debug!(cluster, topic = %r.topic, partition = r.partition, error = %e, "no end offset this round");
                    first_error.get_or_insert(e);
                }
            }
        }
        if errors > 0 {
            self.metrics
                .offset_refresh_errors
                .with_label_values(&[cluster])
                .inc_by(errors);
            // The error names the API, the broker and the cause.
            if let Some(suppressed) = self.round_failures.allow() {
                let error = first_error
                    .as_ref()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                warn!(
                    cluster,
                    errors,
                    stored,
                    %error,
                    suppressed,
                    "some end offsets could not be read; metadata will be refreshed"
                );
            }
        }
        let result = if stored > 0 { "ok" } else { "failed" };
        if stored > 0 {
            self.metrics
                .last_offset_refresh
                .with_label_values(&[cluster])
                .set(now as f64 / 1000.0);
            self.health.offsets_ok(now);
        } else if let Some(e) = first_error {
            self.health.failed(now, format!("end offsets: {e}"));
        }
        if stored > 0 || errors > 0 {
            self.metrics
                .offset_rounds
                .with_label_values(&[cluster, result])
                .inc();
        }
        stored
    }

    /// Refreshes metadata: partitions with a leader, partition counts, deleted topics.
    async fn refresh(&mut self) {
        let cluster = self.settings.name.as_str();
        let md = match self.client.refresh_metadata().await {
            Ok(md) => md,
            Err(e) => {
                if let Some(suppressed) = self.metadata_failures.allow() {
                    warn!(cluster, error = %e, suppressed, "metadata refresh failed; keeping the previous topics");
                }
                self.health.failed(now_ms(), format!("metadata: {e}"));
                return;
            }
        };
        self.health.metadata_ok(now_ms());
        self.metrics
            .metadata_refreshes
            .with_label_values(&[cluster])
            .inc();
        self.refresh_metadata = false;
        self.loaded = true;
        let mut next = Topology::default();
        for (topic, info) in &md.topics {
            if info.error_code != 0 {
                // A topic being deleted or created: leave it for the next refresh.
                debug!(cluster, topic = %topic, code = info.error_code, "topic reported with an error");
                if let Some(old) = self.topology.counts.get(topic) {
                    next.counts.insert(topic.clone(), *old);
                }
                continue;
            }
            let count = info.partitions.keys().max().map_or(0, |m| m + 1);
            next.counts.insert(topic.clone(), count);
            for (p, part) in &info.partitions {
                if part.leader >= 0 {
                    next.partitions.push((topic.clone(), *p));
                } else {
                    warn!(cluster, topic = %topic, partition = p, "partition has no leader");
                }
            }
        }
        for gone in self
            .topology
            .counts
            .keys()
            .filter(|t| !next.counts.contains_key(*t))
        {
            info!(cluster, topic = %gone, "topic deleted");
            let _ = self.storage.delete_topic(&DeleteTopicEvent {
                cluster: cluster.to_string(),
                topic: gone.clone(),
            });
        }
        self.topology = next;
    }

    /// Groups reaper: deletes stored groups that Kafka no longer lists.
    async fn reap(&mut self) {
        let cluster = self.settings.name.as_str();
        let listed = match self.client.list_groups().await {
            Ok(g) => g,
            Err(e) => {
                warn!(cluster, error = %e, "groups reaper: ListGroups failed");
                return;
            }
        };
        let known: std::collections::HashSet<&str> =
            listed.iter().map(|g| g.group_id.as_str()).collect();
        let Some(stored) = self.storage.fetch_consumers(cluster) else {
            return;
        };
        for group in stored {
            if known.contains(group.as_str()) || self.settings.reaper_spares.contains(&group) {
                continue;
            }
            info!(cluster, group = %group, "groups reaper: Kafka no longer lists the group");
            let _ = self.storage.delete_group(&DeleteGroupEvent {
                cluster: cluster.to_string(),
                group,
                topic: None,
            });
            self.metrics
                .groups_reaped
                .with_label_values(&[cluster])
                .inc();
        }
    }
}
