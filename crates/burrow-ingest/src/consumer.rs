//! Burrow's consumer module of class `kafka`: reads every partition of `__consumer_offsets`
//! concurrently and turns each record into storage writes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus::IntCounter;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, info, warn};

use burrow_core::{now_ms, ConsumerOffsetRef};
use burrow_kafka::offsets::TopicId;
use burrow_kafka::{
    ClientConfig, FetchOptions, IsolationLevel, KafkaClient, LogPosition, OffsetSpec, RawRecords,
    RecordRef,
};
use burrow_storage::{CommitWriter, DropReason, GroupFilter, Outcome, Storage};

use crate::cluster::Refresher;
use crate::mapping::{map_record, GroupChange, Skip};
use crate::IngestMetrics;

/// Settings of one `[consumer.<name>]` module of class `kafka`.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// Module name; Burrow's own progress is stored as group `burrow-<name>`.
    pub name: String,
    /// The cluster (storage key) the offsets belong to.
    pub cluster: String,
    /// Brokers to read the offsets topic from.
    pub servers: Vec<String>,
    /// Client settings from the client profile.
    pub client: ClientConfig,
    /// Topic to read (`offsets-topic`).
    pub offsets_topic: String,
    /// Start every partition at its end instead of its start (`start-latest`).
    pub start_latest: bool,
    /// With `start_latest`: also read each partition from its start up to where it ended at start.
    pub backfill_earliest: bool,
    /// The module's group allowlist and denylist (offset commits only, as in Burrow).
    pub filter: GroupFilter,
    /// Where to go on reading, per partition of the offsets topic (next offset), from a saved
    /// state ([`ConsumerHandle::positions`] of an earlier run). A partition listed here is read
    /// from that offset whatever `start_latest` says (no backfill: the saved state holds what came
    /// before); an offset the log no longer holds (retention, a recreated topic) is read from the
    /// log start instead. Other partitions start as configured.
    pub resume: BTreeMap<i32, i64>,
    /// How often a partition whose read position is past the end the broker reports is checked
    /// against the log (the cluster's `offset-refresh`): a log that went backwards (a replaced
    /// broker, a recreated topic, an unclean leader election) is read again from its start.
    pub position_check: Duration,
}

/// How far a consumer module has stored its offsets topic ([`ConsumerHandle::positions`]).
#[derive(Clone)]
pub struct Positions {
    name: String,
    progress: ReadPositions,
}

impl Positions {
    /// The module's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Per partition, the offset after the last record whose writes are in storage.
    pub fn get(&self) -> BTreeMap<i32, i64> {
        let progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        let mut positions = progress.live.clone();
        for (&p, &at) in &progress.backfill {
            let live = positions.entry(p).or_insert(at);
            *live = (*live).min(at);
        }
        positions
    }
}

/// How far each partition's records are stored, shared between a module and its handle.
type ReadPositions = Arc<Mutex<Progress>>;

/// Per partition of the offsets topic: where the live reader has stored up to, and, while a
/// backfill of the partition is unfinished, where the backfill has (it is behind the live
/// reader, and what lies between them is not all stored yet).
#[derive(Debug, Default)]
struct Progress {
    live: BTreeMap<i32, i64>,
    backfill: BTreeMap<i32, i64>,
}

impl ConsumerSettings {
    /// Burrow's pseudo-group for this module's own progress.
    pub fn self_group(&self) -> String {
        format!("burrow-{}", self.name)
    }
}

/// A running consumer module.
pub struct ConsumerHandle {
    name: String,
    ready: watch::Receiver<bool>,
    listed: watch::Receiver<bool>,
    positions: ReadPositions,
    task: JoinHandle<()>,
}

impl ConsumerHandle {
    /// The module's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Becomes true once every partition has been read up to where it ended when the module
    /// started (with `start-latest` and `backfill-earliest`: once the backfill is done).
    pub fn ready(&self) -> watch::Receiver<bool> {
        self.ready.clone()
    }

    /// Becomes true once the module has listed where each partition of the offsets topic ends:
    /// with `start-latest`, what is written from then on is read, what was written before is
    /// not. It then waits for the cluster's first round before reading.
    pub fn listed(&self) -> watch::Receiver<bool> {
        self.listed.clone()
    }

    /// How far the module's records are stored: per partition of the offsets topic, the offset
    /// after the last record whose writes are in storage (partitions it has read nothing from are
    /// missing). Read this before taking a storage snapshot, so that the snapshot holds at least
    /// everything before these offsets; resuming there re-reads at most the few records stored
    /// in between, whose commits storage drops as duplicates (same order).
    pub fn positions(&self) -> BTreeMap<i32, i64> {
        self.positions_handle().get()
    }

    /// [`Self::positions`], readable from another task.
    pub fn positions_handle(&self) -> Positions {
        Positions {
            name: self.name.clone(),
            progress: self.positions.clone(),
        }
    }

    /// Stops the module.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Starts a consumer module. It waits for `cluster_ready` (broker offsets must be stored before
/// commits can be, decision 6), connects (retrying while the brokers are unreachable), waits for
/// the offsets topic to exist, then reads every partition.
pub fn start(
    settings: ConsumerSettings,
    storage: Arc<Storage>,
    metrics: IngestMetrics,
    refresher: Option<Refresher>,
    cluster_ready: watch::Receiver<bool>,
) -> ConsumerHandle {
    let (ready_tx, ready) = watch::channel(false);
    let (listed_tx, listed) = watch::channel(false);
    let name = settings.name.clone();
    let positions = ReadPositions::default();
    let task = tokio::spawn(run(
        settings,
        storage,
        metrics,
        refresher,
        cluster_ready,
        Started {
            ready: ready_tx,
            listed: listed_tx,
        },
        positions.clone(),
    ));
    ConsumerHandle {
        name,
        ready,
        listed,
        positions,
        task,
    }
}

/// Turns records into storage writes. Shared by the partition readers of one module.
pub struct Processor {
    cluster: String,
    self_group: String,
    offsets_topic: String,
    filter: GroupFilter,
    storage: Arc<Storage>,
    metrics: IngestMetrics,
    module: String,
    refresher: Option<Refresher>,
    read: IntCounter,
    skipped_filtered: IntCounter,
    skipped_protocol: IntCounter,
    skipped_unsupported: IntCounter,
    skipped_decode: IntCounter,
    undecodable_log: burrow_core::throttle::Throttle,
    /// KIP-848 groups' members, for their owners.
    members: Mutex<crate::kip848::Members>,
    /// Topic names by id (KIP-848 assignments name topics by id).
    topic_names: Option<TopicNames>,
}

/// Resolves a topic id to its name (from the client's metadata).
pub type TopicNames = Arc<dyn Fn(&TopicId) -> Option<String> + Send + Sync>;

impl Processor {
    /// A processor for the module described by `settings`.
    pub fn new(
        settings: &ConsumerSettings,
        storage: Arc<Storage>,
        metrics: IngestMetrics,
        refresher: Option<Refresher>,
    ) -> Self {
        let name = settings.name.as_str();
        let skipped = |reason: &str| metrics.records_skipped.with_label_values(&[name, reason]);
        Processor {
            cluster: settings.cluster.clone(),
            self_group: settings.self_group(),
            offsets_topic: settings.offsets_topic.clone(),
            filter: settings.filter.clone(),
            read: metrics.records_read.with_label_values(&[name]),
            skipped_filtered: skipped("group_filtered"),
            skipped_protocol: skipped("not_consumer_protocol"),
            skipped_unsupported: skipped("unsupported_record_type"),
            skipped_decode: skipped("decode_error"),
            undecodable_log: burrow_core::throttle::Throttle::new(Duration::from_secs(60)),
            module: name.to_string(),
            storage,
            metrics,
            refresher,
            members: Mutex::default(),
            topic_names: None,
        }
    }

    /// Resolves the topic ids of KIP-848 assignments with `names` (without it, KIP-848 groups
    /// get no owners).
    pub fn with_topic_names(mut self, names: TopicNames) -> Self {
        self.topic_names = Some(names);
        self
    }

    /// Processes the records of one fetch from `partition`, in order, at `now_ms`: decodes them
    /// (borrowed from the fetched bytes) and stores what they say. Records at or above `below`
    /// are left alone (a backfill's end). Returns how many records were processed.
    pub fn process(
        &self,
        now_ms: i64,
        partition: i32,
        records: &RawRecords,
        below: Option<i64>,
    ) -> u64 {
        self.process_rebased(now_ms, partition, records, below, 0)
    }

    /// [`Self::process`] for a partition whose log went backwards and is read again: each
    /// record's storage order is its offset plus `order_base`, so that commits written after
    /// the log's return are newer than those stored before it.
    pub fn process_rebased(
        &self,
        now_ms: i64,
        partition: i32,
        records: &RawRecords,
        below: Option<i64>,
        order_base: i64,
    ) -> u64 {
        let (mut n, mut last) = (0u64, None);
        // Consecutive commits of one group (one commit request) share one lock of the group.
        let mut writer = self.storage.commit_writer(&self.cluster).ok();
        let summary = records.for_each(|rec| {
            if below.is_some_and(|b| rec.offset >= b) {
                return;
            }
            self.record(now_ms, partition, &rec, order_base, &mut writer);
            n += 1;
            last = Some(rec.offset);
        });
        drop(writer);
        self.read.inc_by(n);
        if summary.corrupt_batches > 0 {
            self.metrics
                .decode_errors
                .with_label_values(&[&self.module, "record_batch"])
                .inc_by(summary.corrupt_batches);
        }
        let Some(last) = last else { return 0 };
        // Burrow's own progress as the pseudo-group `burrow-<module>`. Burrow writes it for every
        // record; one write per fetch (its last record) keeps the same end state at a fraction of
        // the cost.
        let outcome = self.storage.set_consumer_offset_ref(
            now_ms,
            ConsumerOffsetRef {
                cluster: &self.cluster,
                group: &self.self_group,
                topic: &self.offsets_topic,
                partition,
                offset: last + 1,
                order: last + order_base,
                timestamp: now_ms,
            },
        );
        if let Outcome::Dropped(r) = outcome {
            self.dropped(r, false);
        }
        n
    }

    fn dropped(&self, reason: DropReason, early_refresh: bool) {
        self.metrics
            .writes_dropped
            .with_label_values(&[&self.module, reason.as_str()])
            .inc();
        if early_refresh
            && matches!(
                reason,
                DropReason::UnknownTopic
                    | DropReason::UnknownPartition
                    | DropReason::NoBrokerOffset
            )
        {
            if let Some(r) = &self.refresher {
                r.request();
            }
        }
    }

    /// Stores what one record says ([`crate::mapping`]). Commits go through `writer` (when the
    /// cluster exists); it is released before any other storage call, whose locks it could be
    /// holding.
    fn record(
        &self,
        now_ms: i64,
        partition: i32,
        rec: &RecordRef<'_>,
        order_base: i64,
        writer: &mut Option<CommitWriter<'_>>,
    ) {
        let order = rec.offset + order_base;
        let change = match map_record(&self.cluster, rec.key, rec.value, order) {
            Ok(change) => change,
            Err(skip) => return self.skipped(skip, partition, rec.offset),
        };
        if !matches!(change, GroupChange::Commit(_)) {
            if let Some(w) = writer {
                w.release();
            }
        }
        match change {
            GroupChange::Commit(commit) => {
                // As Burrow, the group lists apply to commits only.
                if !self.filter.accepts(commit.group) {
                    self.skipped_filtered.inc();
                    return;
                }
                let outcome = match writer {
                    Some(w) => w.write(now_ms, commit),
                    None => self.storage.set_consumer_offset_ref(now_ms, commit),
                };
                if let Outcome::Dropped(r) = outcome {
                    self.dropped(r, true);
                }
            }
            GroupChange::Owners { .. } => {
                for event in change.to_events(&self.cluster) {
                    if let Outcome::Dropped(r) = self.storage.apply(now_ms, &event) {
                        self.dropped(r, true);
                    }
                }
            }
            GroupChange::OffsetTombstone { .. } => {
                for event in change.to_events(&self.cluster) {
                    if let Outcome::Dropped(r) = self.storage.apply(now_ms, &event) {
                        self.dropped(r, false);
                    }
                }
            }
            // A group that is not stored has nothing to delete: not a dropped write.
            GroupChange::GroupTombstone { .. } => {
                for event in change.to_events(&self.cluster) {
                    let _ = self.storage.apply(now_ms, &event);
                }
            }
            GroupChange::MemberMetadata { .. } | GroupChange::MemberAssignment { .. } => {
                self.member_owners(now_ms, &change);
            }
        }
    }

    /// A KIP-848 member record: the group's owners written again (cleared, then each
    /// partition's), topics named through the client's metadata.
    fn member_owners(&self, now_ms: i64, change: &GroupChange<'_>) {
        let owners = {
            let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
            members.apply(change)
        };
        let (Some(owners), Some(names)) = (owners, &self.topic_names) else {
            return;
        };
        let group = change.group().to_string();
        let clear = burrow_core::StorageEvent::ClearOwners(burrow_core::ClearOwnersEvent {
            cluster: self.cluster.clone(),
            group: group.clone(),
        });
        let _ = self.storage.apply(now_ms, &clear);
        let mut unnamed = 0;
        for o in owners {
            let Some(topic) = names(&o.topic_id) else {
                unnamed += 1;
                continue;
            };
            let event = burrow_core::StorageEvent::ConsumerOwner(burrow_core::ConsumerOwnerEvent {
                cluster: self.cluster.clone(),
                group: group.clone(),
                topic,
                partition: o.partition,
                owner: o.host,
                client_id: o.client_id,
            });
            if let Outcome::Dropped(r) = self.storage.apply(now_ms, &event) {
                self.dropped(r, true);
            }
        }
        if unnamed > 0 {
            debug!(consumer = %self.module, group, unnamed, "owners of topics whose id the metadata does not name yet were skipped");
        }
    }

    /// Counts a record that gives storage nothing.
    fn skipped(&self, skip: Skip, partition: i32, offset: i64) {
        match skip {
            Skip::Unsupported => self.skipped_unsupported.inc(),
            Skip::OtherProtocol => self.skipped_protocol.inc(),
            Skip::NoKey => self.undecodable("key", partition, offset),
            Skip::Undecodable { field } => self.undecodable(field, partition, offset),
        }
    }

    /// Counts an undecodable record and says so: the first one, then at most one line a minute
    /// with how many were skipped meanwhile.
    fn undecodable(&self, field: &'static str, partition: i32, offset: i64) {
        self.skipped_decode.inc();
        self.metrics
            .decode_errors
            .with_label_values(&[&self.module, field])
            .inc();
        if let Some(suppressed) = self.undecodable_log.allow() {
            warn!(
                consumer = %self.module,
                topic = %self.offsets_topic,
                partition,
                offset,
                field,
                suppressed,
                "undecodable record skipped (counted in burrow_consumer_decode_errors_total; \
                 `burrow-cli dump-offsets` shows it)"
            );
        }
    }
}

/// Counts partitions still reading their initial backlog; flips `ready` when none are left.
struct Backlog {
    pending: AtomicUsize,
    ready: watch::Sender<bool>,
    gauge: prometheus::IntGauge,
}

impl Backlog {
    fn done_one(&self) {
        if self.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.gauge.set(1);
            let _ = self.ready.send(true);
        }
    }
}

/// Offsets of every partition, retried until all are known.
async fn offsets(
    client: &KafkaClient,
    name: &str,
    tps: &[(String, i32)],
    spec: OffsetSpec,
) -> BTreeMap<i32, i64> {
    let mut delay = Duration::from_millis(200);
    loop {
        let mut out = BTreeMap::new();
        let mut failed = None;
        for o in client
            .list_offsets(tps, spec, IsolationLevel::ReadCommitted)
            .await
        {
            match o.result {
                Ok(v) => {
                    out.insert(o.partition, v);
                }
                Err(e) => failed = Some(e),
            }
        }
        match failed {
            None => return out,
            Some(e) => {
                warn!(consumer = name, error = %e, "listing offsets of the offsets topic failed; retrying");
                if e.needs_metadata_refresh() {
                    let _ = client.refresh_metadata().await;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// What a module says of its start: the ends listed, then the backlog read.
struct Started {
    ready: watch::Sender<bool>,
    listed: watch::Sender<bool>,
}

async fn run(
    settings: ConsumerSettings,
    storage: Arc<Storage>,
    metrics: IngestMetrics,
    refresher: Option<Refresher>,
    mut cluster_ready: watch::Receiver<bool>,
    started: Started,
    read_positions: ReadPositions,
) {
    let Started { ready, listed } = started;
    let gauge = metrics.backlog_ready.with_label_values(&[&settings.name]);
    gauge.set(0);
    let client = crate::connect::connect_retrying(
        "consumer",
        &settings.name,
        &settings.servers,
        &settings.client,
        None,
    )
    .await;
    let topic = settings.offsets_topic.clone();
    // Burrow lists the partitions once and never looks again (linkedin/Burrow#326); this module
    // waits for the topic to appear.
    let mut announced = false;
    let partitions: Vec<i32> = loop {
        let md = client.metadata();
        if let Some(t) = md.topics.get(&topic).filter(|t| !t.partitions.is_empty()) {
            break t.partitions.keys().copied().collect();
        }
        if !announced {
            info!(consumer = %settings.name, topic = %topic, "the offsets topic does not exist yet; waiting for it");
            announced = true;
            // Nothing to read yet, so nothing holds readiness back.
            gauge.set(1);
            let _ = ready.send(true);
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        if let Err(e) = client.refresh_metadata().await {
            debug!(consumer = %settings.name, error = %e, "metadata refresh failed");
        }
    };
    info!(consumer = %settings.name, topic = %topic, partitions = partitions.len(), "reading the offsets topic");
    let tps: Vec<(String, i32)> = partitions.iter().map(|p| (topic.clone(), *p)).collect();
    let (ends, earliest) = tokio::join!(
        offsets(&client, &settings.name, &tps, OffsetSpec::Latest),
        offsets(&client, &settings.name, &tps, OffsetSpec::Earliest)
    );
    let _ = listed.send(true);

    // Decision 6: broker offsets first, so that the backlog's commits are not dropped. The
    // connection, metadata and offsets above were set up meanwhile.
    let _ = cluster_ready.wait_for(|r| *r).await;
    let backfill = settings.start_latest && settings.backfill_earliest;
    let backlog = Arc::new(Backlog {
        pending: AtomicUsize::new(partitions.len() + 1),
        ready,
        gauge,
    });
    let names_client = client.clone();
    let names: TopicNames =
        Arc::new(move |id: &TopicId| names_client.metadata().topic_by_id(id).map(str::to_string));
    let processor = Arc::new(
        Processor::new(&settings, storage, metrics.clone(), refresher).with_topic_names(names),
    );
    let fetch_errors = metrics.fetch_errors.with_label_values(&[&settings.name]);
    let reader = Reader {
        client: client.clone(),
        topic: topic.clone(),
        processor,
        fetch_errors,
        read_positions,
        position_check: settings.position_check,
        resets_backwards: metrics
            .position_resets
            .with_label_values(&[&settings.name, "log_went_backwards"]),
        resets_out_of_range: metrics
            .position_resets
            .with_label_values(&[&settings.name, "offset_out_of_range"]),
        fetch_rounds: metrics.fetch_rounds.clone(),
        consumer: settings.name.clone(),
    };
    let mut live = Vec::new();
    let mut backfills = Vec::new();
    let mut resumed = 0usize;
    for p in partitions {
        let end = ends.get(&p).copied().unwrap_or(0);
        let start = earliest.get(&p).copied().unwrap_or(0);
        if let Some(&at) = settings.resume.get(&p) {
            // From a saved state: go on where it was stored up to.
            let from = if (start..=end).contains(&at) {
                at
            } else {
                warn!(consumer = %settings.name, partition = p, saved = at, start, end, "the saved position is not in the log (retention, or a recreated topic); reading the partition from its start");
                start
            };
            let mut position = Position::new(p, from, end, None, Some(backlog.clone()));
            // Past the end, the log went backwards: what is read again must order after the
            // commits the saved state holds.
            position.order_base = (at - from).max(0);
            resumed += 1;
            live.push(position);
        } else if settings.start_latest {
            if backfill && start < end {
                // Burrow skips a partition holding a single record here; this reads it.
                backfills.push(Position::new(
                    p,
                    start,
                    end,
                    Some(end),
                    Some(backlog.clone()),
                ));
            } else {
                backlog.done_one();
            }
            live.push(Position::new(p, end, end, None, None));
        } else {
            live.push(Position::new(p, start, end, None, Some(backlog.clone())));
        }
    }
    if resumed > 0 {
        info!(consumer = %settings.name, partitions = resumed, "going on from the saved positions");
    }
    {
        // Where each partition starts is already a position to go on from: what lies before it
        // is stored, or was skipped as configured (start-latest).
        let mut progress = reader
            .read_positions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        progress.live = live.iter().map(|p| (p.partition, p.offset)).collect();
        progress.backfill = backfills.iter().map(|p| (p.partition, p.offset)).collect();
    }
    backlog.done_one();
    let mut tasks = JoinSet::new();
    if !backfills.is_empty() {
        let r = reader.clone();
        tasks.spawn(async move { r.read(backfills).await });
    }
    tasks.spawn(async move { reader.read(live).await });
    while tasks.join_next().await.is_some() {}
}

/// Requests a round of fetches is split into while catching up.
const FETCH_SPLIT: usize = 16;

/// A round that fetched this many bytes or more means the reader is catching up.
const CATCHING_UP_BYTES: usize = 1 << 20;

/// Bytes asked per partition in each fetch.
const FETCH_PARTITION_BYTES: i32 = 1024 * 1024;

/// Shortest time between two fetches that returned nothing.
const IDLE_PAUSE: Duration = Duration::from_millis(250);

/// Where one partition is read.
struct Position {
    partition: i32,
    offset: i64,
    /// The backlog is read once the position reaches this offset.
    backlog_end: i64,
    /// Reading stops here (backfill).
    stop_at: Option<i64>,
    /// Released once the backlog is read.
    backlog: Option<Arc<Backlog>>,
    /// Added to record offsets for their storage order: 0 until the log goes backwards, then
    /// enough that what is read again orders after everything read before.
    order_base: i64,
    /// When the position was last checked against the log.
    checked: Option<tokio::time::Instant>,
}

impl Position {
    fn new(
        partition: i32,
        offset: i64,
        backlog_end: i64,
        stop_at: Option<i64>,
        backlog: Option<Arc<Backlog>>,
    ) -> Self {
        let mut p = Position {
            partition,
            offset,
            backlog_end,
            stop_at,
            backlog,
            order_base: 0,
            checked: None,
        };
        if let Some(b) = p.check_backlog(None) {
            b.done_one();
        }
        p
    }

    /// The backlog to release (once what was fetched is processed) when the position reached
    /// its end, or the partition's stable end (`stable`, when the broker said it).
    fn check_backlog(&mut self, stable: Option<i64>) -> Option<Arc<Backlog>> {
        if self.offset >= self.backlog_end || stable.is_some_and(|s| self.offset >= s) {
            return self.backlog.take();
        }
        None
    }

    fn finished(&self) -> bool {
        self.stop_at.is_some_and(|s| self.offset >= s)
    }

    /// Reads the partition again from `start`, its log having gone backwards from the
    /// position; storage orders stay increasing across the return.
    fn rewind(&mut self, start: i64) {
        self.order_base += (self.offset - start).max(0);
        self.offset = start;
        if let Some(stop) = self.stop_at.as_mut() {
            *stop = (*stop).min(start);
        }
    }

    /// Whether the broker's answer puts the position outside the log: past its high watermark
    /// or before its start. Some brokers under-report the high watermark (tansu after a
    /// multi-record batch), so this only says the position is worth checking, at most once per
    /// `every`.
    fn suspect(&mut self, log_start: i64, high_watermark: i64, every: Duration) -> bool {
        let outside = (high_watermark >= 0 && self.offset > high_watermark)
            || (log_start >= 0 && self.offset < log_start);
        if !outside || self.checked.is_some_and(|t| t.elapsed() < every) {
            return false;
        }
        self.checked = Some(tokio::time::Instant::now());
        true
    }
}

#[derive(Clone)]
struct Reader {
    client: KafkaClient,
    topic: String,
    processor: Arc<Processor>,
    fetch_errors: IntCounter,
    read_positions: ReadPositions,
    position_check: Duration,
    resets_backwards: IntCounter,
    resets_out_of_range: IntCounter,
    fetch_rounds: prometheus::IntCounterVec,
    consumer: String,
}

/// A partition's fetched records, to be decoded and stored.
struct Part {
    partition: i32,
    records: RawRecords,
    /// Records from this offset on are not processed (a backfill's end).
    below: Option<i64>,
    /// The offset after these records: the partition's stored position once they are processed.
    next: i64,
    /// Added to each record's offset for its storage order ([`Position::order_base`]).
    order_base: i64,
}

/// Work for a processing thread: a partition's records, and/or the backlog to release once
/// they (and everything sent before for the partition) are stored.
struct Work {
    now: i64,
    part: Option<Part>,
    release: Option<Arc<Backlog>>,
    /// This partition's backfill is finished once the work before is stored.
    backfill_done: Option<i32>,
}

/// Works queued per processing thread before the fetch loop waits.
const WORK_QUEUE: usize = 8;

/// Processing threads: each partition always goes to the same one, so a partition's records are
/// stored in order while different partitions (a group's records all live in one) are stored
/// on every core at once.
struct Workers {
    queues: Vec<tokio::sync::mpsc::Sender<Work>>,
}

impl Workers {
    fn start(processor: &Arc<Processor>, positions: &ReadPositions) -> (Self, Vec<JoinHandle<()>>) {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let mut queues = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        for _ in 0..n {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Work>(WORK_QUEUE);
            queues.push(tx);
            let (processor, positions) = (processor.clone(), positions.clone());
            handles.push(tokio::task::spawn_blocking(move || {
                while let Some(w) = rx.blocking_recv() {
                    if let Some(p) = &w.part {
                        processor.process_rebased(
                            w.now,
                            p.partition,
                            &p.records,
                            p.below,
                            p.order_base,
                        );
                        let mut progress = positions.lock().unwrap_or_else(|e| e.into_inner());
                        match p.below {
                            None => progress.live.insert(p.partition, p.next),
                            Some(_) => progress.backfill.insert(p.partition, p.next),
                        };
                    }
                    if let Some(partition) = w.backfill_done {
                        positions
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .backfill
                            .remove(&partition);
                    }
                    if let Some(b) = w.release {
                        b.done_one();
                    }
                }
            }));
        }
        (Workers { queues }, handles)
    }

    /// Queues work for `partition`'s thread; false once processing has stopped.
    async fn send(&self, partition: i32, work: Work) -> bool {
        let i = partition.unsigned_abs() as usize % self.queues.len().max(1);
        match self.queues.get(i) {
            Some(q) => q.send(work).await.is_ok(),
            None => false,
        }
    }
}

impl Reader {
    /// Reads the partitions until every one is finished (never, for live reading). The fetch
    /// loop only reads batch headers; processing threads decode and store the records, so
    /// fetching and storing overlap, and partitions are stored on every core.
    async fn read(self, positions: Vec<Position>) {
        let (workers, handles) = Workers::start(&self.processor, &self.read_positions);
        self.fetch_loop(positions, &workers).await;
        // Finished (a backfill): let the threads drain their queues and stop.
        drop(workers);
        for h in handles {
            let _ = h.await;
        }
    }

    async fn fetch_loop(&self, mut positions: Vec<Position>, workers: &Workers) {
        // 1 MiB per partition: a backlog arrives in several responses, so that processing one
        // overlaps fetching the next (one response holding the whole backlog would not).
        let opts = FetchOptions {
            isolation: IsolationLevel::ReadCommitted,
            max_bytes: FETCH_PARTITION_BYTES,
            ..FetchOptions::default()
        };
        let mut failures = 0u32;
        let fetch_failures = burrow_core::throttle::Throttle::new(Duration::from_secs(60));
        // Catching up (at start, or after a burst): the round is split; tailing the log: one
        // request per leader, as any consumer.
        let mut catching_up = true;
        loop {
            positions.retain(|p| !p.finished());
            if positions.is_empty() {
                return;
            }
            let wanted: Vec<(i32, i64)> =
                positions.iter().map(|p| (p.partition, p.offset)).collect();
            let asked = tokio::time::Instant::now();
            // The partitions in several requests at once: the first answers are processed while
            // the others are still being fetched (a broker may return a whole backlog in one
            // response, whatever the byte limits), and a broker serves them in parallel.
            let split = if catching_up { FETCH_SPLIT } else { 1 };
            let per_request = wanted.len().div_ceil(split).max(1);
            let mut requests = JoinSet::new();
            for chunk in wanted.chunks(per_request) {
                let (client, topic, chunk) =
                    (self.client.clone(), self.topic.clone(), chunk.to_vec());
                requests.spawn(async move { client.fetch_many_raw(&topic, &chunk, opts).await });
            }
            let (mut got, mut refresh, mut failed) = (false, false, None);
            let mut suspects = Vec::new();
            let mut fetched = 0usize;
            while let Some(joined) = requests.join_next().await {
                let Ok(results) = joined else { continue };
                let now = now_ms();
                for (partition, result) in results {
                    let Some(pos) = positions.iter_mut().find(|p| p.partition == partition) else {
                        continue;
                    };
                    match result {
                        Ok(r) => {
                            // Where to go on is in the batch headers; the records are decoded
                            // by the partition's processing thread.
                            let next = r.records.next_offset();
                            let (stable_lso, hwm) = (r.last_stable_offset, r.high_watermark);
                            let mut part = None;
                            if next.is_some_and(|n| n > pos.offset) {
                                got = true;
                                fetched += r.records.len_bytes();
                                part = Some(Part {
                                    partition,
                                    records: r.records,
                                    below: pos.stop_at,
                                    next: next.unwrap_or(pos.offset),
                                    order_base: pos.order_base,
                                });
                            }
                            let release = match next {
                                Some(n) if n > pos.offset => {
                                    pos.offset = n;
                                    pos.check_backlog(None)
                                }
                                _ => {
                                    // Nothing complete here: the end of the log (or, read committed,
                                    // an open transaction), or a position the log no longer reaches.
                                    if pos.suspect(r.log_start_offset, hwm, self.position_check) {
                                        suspects.push(partition);
                                    }
                                    let stable = if stable_lso >= 0 { stable_lso } else { hwm };
                                    let mut release = None;
                                    if stable >= 0 {
                                        release = pos.check_backlog(Some(stable));
                                        if pos.stop_at.is_some() && pos.offset >= stable {
                                            pos.stop_at = Some(pos.offset);
                                        }
                                    }
                                    release
                                }
                            };
                            let backfill_done =
                                (pos.stop_at.is_some() && pos.finished()).then_some(partition);
                            let work = Work {
                                now,
                                part,
                                release,
                                backfill_done,
                            };
                            if (work.part.is_some()
                                || work.release.is_some()
                                || work.backfill_done.is_some())
                                && !workers.send(partition, work).await
                            {
                                return;
                            }
                        }
                        Err(e) => {
                            self.fetch_errors.inc();
                            if e.is_offset_out_of_range() {
                                // Retention removed what was to be read, or the log went
                                // backwards: go on from the log start.
                                if let Some(start) = self.out_of_range(partition, pos.offset).await
                                {
                                    pos.rewind(start);
                                    continue;
                                }
                            }
                            refresh |= e.needs_metadata_refresh();
                            failed = Some(e);
                        }
                    }
                }
            }
            if !suspects.is_empty() {
                self.check_positions(&mut positions, &suspects).await;
            }
            catching_up = fetched >= CATCHING_UP_BYTES;
            let result = if failed.is_some() { "failed" } else { "ok" };
            self.fetch_rounds
                .with_label_values(&[&self.consumer, result])
                .inc();
            match failed {
                Some(e) => {
                    failures += 1;
                    // The error names the API, the broker and the cause; said at the first
                    // failure, then at most once a minute with how many were not said.
                    if let Some(suppressed) = fetch_failures.allow() {
                        warn!(topic = %self.topic, error = %e, failures, suppressed, "fetch failed; retrying");
                    }
                    if refresh {
                        if let Err(e) = self.client.refresh_metadata().await {
                            debug!(error = %e, "metadata refresh failed");
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(100u64 << failures.min(6))).await;
                }
                None => {
                    if failures > 0 {
                        info!(topic = %self.topic, "fetching again after {failures} failures");
                    }
                    failures = 0;
                    if !got && asked.elapsed() < IDLE_PAUSE {
                        // Some brokers answer an empty fetch at once instead of waiting
                        // `max_wait`: pause so that an idle topic does not spin.
                        tokio::time::sleep(IDLE_PAUSE - asked.elapsed()).await;
                    }
                }
            }
        }
    }
}

impl Reader {
    /// Checks positions the broker's answers put outside the log ([`KafkaClient::check_position`]):
    /// a partition whose log really ends before the position went backwards (a replaced broker,
    /// a recreated topic, an unclean leader election) and is read again from its log start.
    async fn check_positions(&self, positions: &mut [Position], suspects: &[i32]) {
        for &partition in suspects {
            let Some(pos) = positions.iter_mut().find(|p| p.partition == partition) else {
                continue;
            };
            match self
                .client
                .check_position(&self.topic, partition, pos.offset)
                .await
            {
                Ok(LogPosition::PastEnd { log_start, log_end }) => {
                    warn!(consumer = %self.consumer, topic = %self.topic, partition, position = pos.offset, log_start, log_end, "the read position is past the end of the log: the log went backwards (a replaced broker, a recreated topic or an unclean leader election); reading the partition again from its log start");
                    self.resets_backwards.inc();
                    pos.rewind(log_start);
                }
                // Before the start, the next fetch gets OFFSET_OUT_OF_RANGE, handled there.
                Ok(_) => {}
                Err(e) => {
                    debug!(consumer = %self.consumer, partition, error = %e, "checking the read position failed; checking again later")
                }
            }
        }
    }

    /// After OFFSET_OUT_OF_RANGE: where to go on (the log start), said with the position and the
    /// log's bounds; `None` when the broker cannot say now.
    async fn out_of_range(&self, partition: i32, position: i64) -> Option<i64> {
        let (log_start, log_end) = match self
            .client
            .check_position(&self.topic, partition, position)
            .await
        {
            Ok(LogPosition::BeforeStart { log_start }) => (log_start, None),
            Ok(LogPosition::PastEnd { log_start, log_end }) => (log_start, Some(log_end)),
            Ok(LogPosition::Inside) | Err(_) => return None,
        };
        warn!(consumer = %self.consumer, topic = %self.topic, partition, position, log_start, log_end, "the broker answered OFFSET_OUT_OF_RANGE; reading the partition from its log start");
        self.resets_out_of_range.inc();
        Some(log_start)
    }
}
