//! A one-shot evaluation of one consumer group, straight from the cluster, without a server and
//! without warm-up.
//!
//! [`check_group`] does what a server would have learned over the last minutes:
//!
//! 1. It reads the group's recent commits from the one partition of `__consumer_offsets` that
//!    holds them (Kafka's choice for the group id), backwards in growing chunks from the end, until
//!    every partition of the group has a full window of commits, a group tombstone is reached, the
//!    records are older than `expire-group`, the start of the partition is reached, or
//!    `max_scan` records were read.
//! 2. It reconstructs the broker's end offset at the time of each recent commit with ListOffsets
//!    by timestamp (the first record written at or after the commit), so that each commit gets
//!    the lag it had then: a consumer that is falling behind shows growing lag at once.
//! 3. It samples the end offsets of the group's partitions during `window` (the broker history).
//! 4. It replays all of it into a private [`Storage`] with every storage rule (min-distance,
//!    expiry, tombstones, owners) and evaluates with [`burrow_eval`], as the server would.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use burrow_core::{BrokerOffsetEvent, ConsumerGroupStatus, StorageEvent};
use burrow_eval::{CachingEvaluator, EvaluatorConfig};
use burrow_kafka::offsets::{partition_for_group, peek_group};
use burrow_kafka::{
    CommittedOffset, FetchOptions, FetchedRecord, IsolationLevel, KafkaClient, KafkaError,
    LogPosition, OffsetSpec,
};
use burrow_storage::{Storage, StorageConfig};

use crate::mapping::map_record;

/// What to check and how.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    /// Cluster name used in the status object.
    pub cluster: String,
    /// The consumer group.
    pub group: String,
    /// The offsets topic (`__consumer_offsets`).
    pub offsets_topic: String,
    /// How long to sample the broker's end offsets. Zero takes one sample.
    pub window: Duration,
    /// Storage rules: `intervals` (window size and number of samples), `min-distance`,
    /// `expire-group`. The allow/deny lists are ignored: the group was asked for by name.
    pub storage: StorageConfig,
    /// Evaluation rules.
    pub evaluator: EvaluatorConfig,
    /// Upper bound on the records of the offsets partition read while looking for history.
    pub max_scan: u64,
}

/// Progress reports, for a progress indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Reading the group's commit history: records read so far of the partition's records.
    History {
        /// Records read so far.
        read: u64,
        /// Records in the partition.
        total: u64,
    },
    /// Looking up the broker's end offsets at the time of each commit.
    Lookup,
    /// Sampling the end offsets.
    Sampling {
        /// Samples taken.
        taken: usize,
        /// Samples planned.
        of: usize,
    },
}

/// How the lag of the commits read from history was computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoricLag {
    /// Against the end offset at each commit's time (ListOffsets by timestamp).
    AtCommitTime,
    /// Against the current end offset, because the broker did not answer lookups by timestamp.
    Current {
        /// The broker's answer.
        reason: String,
    },
}

/// Where a check read the group's commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckSource {
    /// Its partition of the offsets topic (history and all).
    OffsetsTopic,
    /// The group APIs (OffsetFetch, DescribeGroups), polled at each end-offset sample: the
    /// offsets topic does not exist, cannot be read, or holds no commit of the group (a broker
    /// that keeps commits in a store of its own). Only the window's polls are entries.
    GroupApis,
}

/// The verdict and what it is based on.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// Where the commits were read.
    pub source: CheckSource,
    /// The group's status with every partition (NOTFOUND when no commit survived).
    pub status: ConsumerGroupStatus,
    /// The offsets topic read.
    pub offsets_topic: String,
    /// The offsets topic partition that holds the group.
    pub offsets_partition: i32,
    /// Records of that partition read.
    pub records_scanned: u64,
    /// Records of this group among them.
    pub group_records: usize,
    /// Commits storage did not take: expired (older than `expire-group`), or of a topic or
    /// partition the cluster no longer has.
    pub commits_dropped: usize,
    /// True when the scan stopped at `max_scan` before the history was complete.
    pub scan_truncated: bool,
    /// End-offset samples taken.
    pub samples: usize,
    /// How the historic lag was computed.
    pub historic_lag: HistoricLag,
    /// Time spent reading history and looking up historic end offsets.
    pub history_time: Duration,
}

/// Why a check could not reach a verdict.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The offsets topic does not exist (no group ever committed to Kafka).
    #[error("the offsets topic {0} does not exist on this cluster")]
    NoOffsetsTopic(String),
    /// A Kafka request failed.
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    /// The storage settings are invalid.
    #[error(transparent)]
    Storage(#[from] burrow_storage::StorageError),
    /// The evaluator settings are invalid.
    #[error(transparent)]
    Eval(#[from] burrow_eval::EvalError),
}

/// Per group partition while scanning backwards: window slots found, and whether older commits
/// no longer matter (an offset tombstone is newer than them).
#[derive(Debug, Default)]
struct Seen {
    slots: usize,
    oldest_ts: Option<i64>,
    closed: bool,
}

/// Evaluates `settings.group` from the cluster `client` is connected to. See the module docs.
pub async fn check_group(
    client: &KafkaClient,
    settings: &CheckSettings,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<CheckReport, CheckError> {
    let started = Instant::now();
    let mut storage_config = settings.storage.clone();
    storage_config.group_allowlist.clear();
    storage_config.group_denylist.clear();
    let storage = Storage::new(storage_config, [settings.cluster.as_str()])?;
    let evaluator = CachingEvaluator::new(&storage, settings.evaluator.clone())?;
    let intervals = storage.intervals();

    let md = client.metadata();
    let md = if md.topics.contains_key(&settings.offsets_topic) {
        md
    } else {
        client.refresh_metadata().await?
    };
    let count = md
        .topics
        .get(&settings.offsets_topic)
        .map(|t| t.partitions.len())
        .filter(|n| *n > 0);
    let Some(count) = count else {
        let missing = CheckError::NoOffsetsTopic(settings.offsets_topic.clone());
        return through_group_apis(client, settings, &storage, &evaluator, progress)
            .await?
            .ok_or(missing);
    };
    let partition = partition_for_group(&settings.group, count as i32);

    let scan = match read_history(client, settings, partition, intervals, progress).await {
        Ok(scan) => scan,
        Err(e) if is_denied(&e) => {
            return through_group_apis(client, settings, &storage, &evaluator, progress)
                .await?
                .ok_or(e);
        }
        Err(e) => return Err(e),
    };
    let has_commits = scan
        .events
        .iter()
        .any(|e| matches!(e, StorageEvent::ConsumerOffset(_)));
    if !has_commits {
        if let Some(report) =
            through_group_apis(client, settings, &storage, &evaluator, progress).await?
        {
            return Ok(report);
        }
    }
    let events = scan.events;

    // The group's partitions, from commits and assignments; the topics' partition counts.
    let md = client.refresh_metadata().await?;
    let mut tps: BTreeMap<(String, i32), i32> = BTreeMap::new();
    for e in &events {
        let (topic, partition) = match e {
            StorageEvent::ConsumerOffset(c) => (&c.topic, c.partition),
            StorageEvent::ConsumerOwner(o) => (&o.topic, o.partition),
            _ => continue,
        };
        if let Some(t) = md.topics.get(topic) {
            tps.insert((topic.clone(), partition), t.partitions.len() as i32);
        }
    }
    let tp_list: Vec<(String, i32)> = tps.keys().cloned().collect();

    // The first sample, then the end offsets at each recent commit's time.
    progress(Progress::Lookup);
    let first = sample(client, &tp_list).await;
    let (historic, historic_lag) = historic_ends(client, &events, &first, intervals).await;
    let history_time = started.elapsed();

    // The remaining samples, spread over the window.
    let planned = if settings.window.is_zero() || intervals < 2 {
        1
    } else {
        intervals
    };
    let mut samples = vec![(burrow_core::now_ms(), first)];
    progress(Progress::Sampling {
        taken: 1,
        of: planned,
    });
    if planned > 1 {
        let spacing = settings.window / (planned as u32 - 1);
        let sampling_start = tokio::time::Instant::now();
        for i in 1..planned {
            tokio::time::sleep_until(sampling_start + spacing * i as u32).await;
            samples.push((burrow_core::now_ms(), sample(client, &tp_list).await));
            progress(Progress::Sampling {
                taken: i + 1,
                of: planned,
            });
        }
    }

    // Replay: each commit preceded by the end offset of its time, then the samples.
    let now = burrow_core::now_ms();
    let cluster = settings.cluster.as_str();
    let group = settings.group.as_str();
    let mut commits_dropped = 0;
    for e in &events {
        let StorageEvent::ConsumerOffset(commit) = e else {
            let _ = storage.apply(now, e);
            continue;
        };
        let key = (commit.topic.clone(), commit.partition);
        let Some(&partition_count) = tps.get(&key) else {
            continue;
        };
        // Each commit preceded by the end offset of its time.
        let end = historic
            .get(&(key.clone(), commit.order))
            .copied()
            .or_else(|| samples[0].1.get(&key).copied());
        if let Some(end) = end {
            let _ = storage.set_broker_offset(&BrokerOffsetEvent {
                cluster: cluster.to_string(),
                topic: commit.topic.clone(),
                partition: commit.partition,
                partition_count,
                offset: end.max(commit.offset),
                timestamp: commit.timestamp,
            });
        }
        if !storage.set_consumer_offset(now, commit).is_applied() {
            commits_dropped += 1;
        }
    }
    // The broker history is the samples; fewer than `intervals` are padded with the first one,
    // so that no end offset from a commit's time stands in for recent broker history.
    let padding = intervals.saturating_sub(samples.len());
    let padded = std::iter::repeat_n(&samples[0], padding).chain(samples.iter());
    for (at, ends) in padded {
        for ((topic, partition), end) in ends {
            if let Some(&partition_count) = tps.get(&(topic.clone(), *partition)) {
                let _ = storage.set_broker_offset(&BrokerOffsetEvent {
                    cluster: cluster.to_string(),
                    topic: topic.clone(),
                    partition: *partition,
                    partition_count,
                    offset: *end,
                    timestamp: *at,
                });
            }
        }
    }
    let status = evaluator.evaluate(now, cluster, group, true);
    Ok(CheckReport {
        source: CheckSource::OffsetsTopic,
        status,
        offsets_topic: settings.offsets_topic.clone(),
        offsets_partition: partition,
        records_scanned: scan.scanned,
        group_records: events.len(),
        commits_dropped,
        scan_truncated: scan.truncated,
        samples: samples.len(),
        historic_lag,
        history_time,
    })
}

/// A read of the offsets topic the broker refuses (the monitor may not READ it).
fn is_denied(e: &CheckError) -> bool {
    let CheckError::Kafka(k) = e else {
        return false;
    };
    matches!(
        k.response_error(),
        Some(
            burrow_kafka::ResponseError::TopicAuthorizationFailed
                | burrow_kafka::ResponseError::ClusterAuthorizationFailed
        )
    )
}

/// The check through the group APIs ([`CheckSource::GroupApis`]): `None` when the broker
/// holds no committed offset of the group either.
async fn through_group_apis(
    client: &KafkaClient,
    settings: &CheckSettings,
    storage: &Storage,
    evaluator: &CachingEvaluator<&Storage>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Option<CheckReport>, CheckError> {
    let started = Instant::now();
    let group = settings.group.as_str();
    let Some(first) = committed(client, group).await else {
        return Ok(None);
    };
    let md = client.refresh_metadata().await?;
    let tps: BTreeMap<(String, i32), i32> = first
        .iter()
        .filter_map(|o| {
            let count = md.topics.get(&o.topic)?.partitions.len() as i32;
            Some(((o.topic.clone(), o.partition), count))
        })
        .collect();
    let tp_list: Vec<(String, i32)> = tps.keys().cloned().collect();
    let intervals = storage.intervals();
    let planned = if settings.window.is_zero() || intervals < 2 {
        1
    } else {
        intervals
    };
    let spacing = settings.window / (planned.max(2) as u32 - 1);
    let sampling_start = tokio::time::Instant::now();
    let mut state = crate::group_api::PollState::default();
    let cluster = settings.cluster.as_str();
    for i in 0..planned {
        tokio::time::sleep_until(sampling_start + spacing * i as u32).await;
        let at = burrow_core::now_ms();
        for ((topic, partition), end) in sample(client, &tp_list).await {
            if let Some(&partition_count) = tps.get(&(topic.clone(), partition)) {
                let _ = storage.set_broker_offset(&BrokerOffsetEvent {
                    cluster: cluster.to_string(),
                    topic,
                    partition,
                    partition_count,
                    offset: end,
                    timestamp: at,
                });
            }
        }
        let polled = crate::group_api::Polled {
            groups: vec![crate::group_api::PolledGroup {
                group: group.to_string(),
                offsets: committed(client, group).await,
                members: client.describe_group(group).await.ok().map(|d| d.members),
            }],
            complete: false,
        };
        for event in state.events(cluster, at, &polled, &|_| Default::default()) {
            let _ = storage.apply(at, &event);
        }
        progress(Progress::Sampling {
            taken: i + 1,
            of: planned,
        });
    }
    let status = evaluator.evaluate(burrow_core::now_ms(), cluster, group, true);
    Ok(Some(CheckReport {
        source: CheckSource::GroupApis,
        status,
        offsets_topic: settings.offsets_topic.clone(),
        offsets_partition: -1,
        records_scanned: 0,
        group_records: 0,
        commits_dropped: 0,
        scan_truncated: false,
        samples: planned,
        historic_lag: HistoricLag::AtCommitTime,
        history_time: started.elapsed(),
    }))
}

/// The group's committed offsets through OffsetFetch; `None` when it has none (or the broker
/// does not say).
async fn committed(client: &KafkaClient, group: &str) -> Option<Vec<CommittedOffset>> {
    let mut fetched = client.offset_fetch(&[group]).await;
    let offsets = fetched.remove(group)?.ok()?;
    let offsets: Vec<CommittedOffset> = offsets.into_iter().filter(|o| o.offset >= 0).collect();
    (!offsets.is_empty()).then_some(offsets)
}

/// The group's records, oldest first, and how much was read to find them.
struct Scan {
    events: Vec<StorageEvent>,
    scanned: u64,
    truncated: bool,
}

/// Reads the group's records from `partition` of the offsets topic, backwards in growing chunks
/// from its end, until the history is complete (see the module docs).
async fn read_history(
    client: &KafkaClient,
    settings: &CheckSettings,
    partition: i32,
    intervals: usize,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Scan, CheckError> {
    let topic = settings.offsets_topic.as_str();
    let tp = [(topic.to_string(), partition)];
    let earliest = one_offset(client, &tp, OffsetSpec::Earliest).await?;
    let end = one_offset(client, &tp, OffsetSpec::Latest).await?;
    let total = (end - earliest).max(0) as u64;
    let expired_before =
        burrow_core::now_ms().saturating_sub(settings.storage.expire_group.saturating_mul(1000));
    let min_distance_ms = settings.storage.min_distance.saturating_mul(1000);

    let mut chunks: Vec<Vec<StorageEvent>> = Vec::new();
    let mut seen: HashMap<(String, i32), Seen> = HashMap::new();
    let mut scanned = 0u64;
    let mut hi = end;
    let mut chunk: i64 = 2048;
    let mut truncated = false;
    progress(Progress::History { read: 0, total });
    while hi > earliest {
        let budget = settings.max_scan.saturating_sub(scanned);
        if budget == 0 {
            truncated = true;
            break;
        }
        let lo = (hi - chunk.min(budget as i64)).max(earliest);
        // The newest chunk is read to wherever the log really ends: some brokers under-report
        // the end offset of a partition written in multi-record batches.
        let to = if hi == end { None } else { Some(hi) };
        let (events, oldest_ts, top) =
            read_range(client, topic, partition, lo, to, end, settings).await?;
        scanned += if to.is_none() {
            top.max(hi) - lo
        } else {
            hi - lo
        } as u64;
        progress(Progress::History {
            read: scanned,
            total,
        });
        // Walk this chunk newest first to see whether the history is complete.
        let mut complete = false;
        for e in events.iter().rev() {
            match e {
                StorageEvent::DeleteGroup(_) => {
                    complete = true;
                    break;
                }
                StorageEvent::OffsetTombstone(t) => {
                    seen.entry((t.topic.clone(), t.partition))
                        .or_default()
                        .closed = true;
                }
                StorageEvent::ConsumerOffset(c) => {
                    let s = seen.entry((c.topic.clone(), c.partition)).or_default();
                    if s.closed {
                        continue;
                    }
                    // Commits within min-distance of a newer one share its window slot.
                    let new_slot = s
                        .oldest_ts
                        .is_none_or(|newer| newer.saturating_sub(c.timestamp) >= min_distance_ms);
                    if new_slot {
                        s.slots += 1;
                        s.oldest_ts = Some(c.timestamp);
                    }
                }
                _ => {}
            }
        }
        chunks.push(events);
        hi = lo;
        if complete {
            break;
        }
        let windows_full = !seen.is_empty()
            && seen
                .values()
                .all(|s| s.closed || s.slots >= intervals.max(1));
        let all_expired = oldest_ts.is_some_and(|t| t >= 0 && t < expired_before);
        if windows_full || all_expired {
            break;
        }
        chunk = chunk.saturating_mul(4);
    }
    let mut events = Vec::new();
    for c in chunks.into_iter().rev() {
        events.extend(c);
    }
    // Nothing before the newest group tombstone matters.
    if let Some(i) = events
        .iter()
        .rposition(|e| matches!(e, StorageEvent::DeleteGroup(_)))
    {
        events.drain(..i);
    }
    Ok(Scan {
        events,
        scanned,
        truncated,
    })
}

/// One offset of one partition, or the error.
async fn one_offset(
    client: &KafkaClient,
    tp: &[(String, i32)],
    spec: OffsetSpec,
) -> Result<i64, CheckError> {
    let mut res = client
        .list_offsets(tp, spec, IsolationLevel::ReadCommitted)
        .await;
    let first = res.pop().map(|o| o.result);
    match first {
        Some(r) => Ok(r?),
        None => Err(CheckError::Kafka(KafkaError::Protocol {
            broker: String::new(),
            api: "ListOffsets",
            message: "no answer for the partition".into(),
        })),
    }
}

/// The group's records in `[lo, hi)` of the offsets partition (`hi` = `None`: to the end, which
/// is at least `end`), the oldest record timestamp, and the offset after the last one read.
async fn read_range(
    client: &KafkaClient,
    topic: &str,
    partition: i32,
    lo: i64,
    hi: Option<i64>,
    end: i64,
    settings: &CheckSettings,
) -> Result<(Vec<StorageEvent>, Option<i64>, i64), CheckError> {
    let opts = FetchOptions {
        max_bytes: 16 * 1024 * 1024,
        max_wait: Duration::from_millis(100),
        min_bytes: 1,
        isolation: IsolationLevel::ReadCommitted,
    };
    let hi = hi.unwrap_or(i64::MAX);
    let mut events = Vec::new();
    let mut oldest_ts = None;
    let mut at = lo;
    let mut resets = 0;
    while at < hi {
        // fetch_many, not fetch: at the very end some brokers leave the partition out of the
        // response, which fetch_many reports as an empty read.
        let mut answers = client.fetch_many(topic, &[(partition, at)], opts).await;
        let res = match answers.pop() {
            Some((_, Ok(res))) => res,
            Some((_, Err(e))) if e.needs_metadata_refresh() => {
                client.refresh_metadata().await?;
                client.fetch(topic, partition, at, opts).await?
            }
            Some((_, Err(e))) if e.is_offset_out_of_range() && resets < MAX_RESETS => {
                resets += 1;
                at = go_on_from(client, topic, partition, at).await.ok_or(e)?;
                continue;
            }
            Some((_, Err(e))) => return Err(e.into()),
            None => break,
        };
        for rec in &res.read.records {
            if rec.offset < lo || rec.offset >= hi {
                continue;
            }
            if oldest_ts.is_none() {
                oldest_ts = Some(rec.timestamp);
            }
            events.extend(group_events(rec, &settings.cluster, &settings.group));
        }
        match res.read.next_offset {
            Some(next) if next > at => at = next,
            // The end of the log.
            _ => break,
        }
        // Reading to the end: stop where the broker says the log ends, without waiting on a
        // fetch there.
        let log_end = if res.last_stable_offset >= 0 {
            res.last_stable_offset
        } else {
            res.high_watermark
        };
        if hi == i64::MAX && log_end >= 0 && at >= log_end.max(end) {
            break;
        }
    }
    Ok((events, oldest_ts, at))
}

/// Times one read goes back to the log start before giving up (a log that keeps moving).
const MAX_RESETS: usize = 3;

/// After OFFSET_OUT_OF_RANGE at `at`: the log start to read on from (retention removed what was
/// there, or the log went backwards), said with the log's bounds; `None` when the position is
/// in the log after all or the broker cannot say.
async fn go_on_from(client: &KafkaClient, topic: &str, partition: i32, at: i64) -> Option<i64> {
    match client.check_position(topic, partition, at).await.ok()? {
        LogPosition::BeforeStart { log_start } => {
            tracing::warn!(
                topic,
                partition,
                position = at,
                log_start,
                "the position is before the log start (retention); reading on from the log start"
            );
            Some(log_start)
        }
        LogPosition::PastEnd { log_start, log_end } => {
            tracing::warn!(topic, partition, position = at, log_start, log_end, "the position is past the end of the log (the log went backwards); reading again from the log start");
            Some(log_start)
        }
        LogPosition::Inside => None,
    }
}

/// The record as storage events of `group` ([`crate::mapping`]); none for other groups' records
/// (recognised by their key's group, without decoding the rest) and for records that do not
/// decode (a server counts those; a check has no use for them).
fn group_events(rec: &FetchedRecord, cluster: &str, group: &str) -> Vec<StorageEvent> {
    let key = rec.key.as_deref();
    if key.and_then(peek_group) != Some(group) {
        return Vec::new();
    }
    match map_record(cluster, key, rec.value.as_deref(), rec.offset) {
        Ok(change) => change.to_events(cluster),
        Err(_) => Vec::new(),
    }
}

/// End offsets of the partitions now (read uncommitted, as Burrow's cluster module); partitions
/// that fail are left out.
async fn sample(client: &KafkaClient, tps: &[(String, i32)]) -> BTreeMap<(String, i32), i64> {
    client
        .list_offsets(tps, OffsetSpec::Latest, IsolationLevel::ReadUncommitted)
        .await
        .into_iter()
        .filter_map(|o| Some(((o.topic, o.partition), o.result.ok()?)))
        .collect()
}

/// The end offset at the time of each of the newest `2 × intervals` commits of every partition,
/// keyed by (partition, record order). Commits older than that leave the window anyway.
async fn historic_ends(
    client: &KafkaClient,
    events: &[StorageEvent],
    current: &BTreeMap<(String, i32), i64>,
    intervals: usize,
) -> (HashMap<((String, i32), i64), i64>, HistoricLag) {
    // Per partition, newest first: (record order, commit timestamp, committed offset).
    type Commits = Vec<(i64, i64, i64)>;
    let mut per_partition: HashMap<(String, i32), Commits> = HashMap::new();
    for e in events.iter().rev() {
        if let StorageEvent::ConsumerOffset(c) = e {
            let list = per_partition
                .entry((c.topic.clone(), c.partition))
                .or_default();
            if list.len() < intervals.max(1) * 2 {
                list.push((c.order, c.timestamp, c.offset));
            }
        }
    }
    // Round k asks for the k-th newest commit of every partition (one spec per partition per
    // request); rounds run concurrently.
    let rounds = per_partition.values().map(Vec::len).max().unwrap_or(0);
    let mut requests = tokio::task::JoinSet::new();
    for k in 0..rounds {
        let mut specs = Vec::new();
        let mut keys = Vec::new();
        for (tp, list) in &per_partition {
            if let Some(&(order, timestamp, offset)) = list.get(k) {
                specs.push((tp.0.clone(), tp.1, OffsetSpec::Timestamp(timestamp)));
                keys.push((tp.clone(), order, offset));
            }
        }
        let client = client.clone();
        requests.spawn(async move {
            let answers = client
                .list_offsets_each(&specs, IsolationLevel::ReadUncommitted)
                .await;
            (keys, answers)
        });
    }
    let mut answers_by_commit: HashMap<((String, i32), i64), Result<i64, String>> = HashMap::new();
    while let Some(joined) = requests.join_next().await {
        let Ok((keys, answers)) = joined else {
            continue;
        };
        let mut by_tp: HashMap<(String, i32), Result<i64, KafkaError>> = answers
            .into_iter()
            .map(|a| ((a.topic, a.partition), a.result))
            .collect();
        for (tp, order, _) in keys {
            if let Some(answer) = by_tp.remove(&tp) {
                answers_by_commit.insert((tp, order), answer.map_err(|e| e.to_string()));
            }
        }
    }
    // Per partition, oldest commit first: the end offset is at least the committed offset (a
    // consumer cannot commit past the end) and never goes down. No record since the commit (-1;
    // some brokers answer 0) means the end then is the end now.
    let mut out = HashMap::new();
    let mut failure = None;
    for (tp, list) in &per_partition {
        let Some(&now_end) = current.get(tp) else {
            continue;
        };
        let mut floor = 0;
        for &(order, _, offset) in list.iter().rev() {
            let end = match answers_by_commit.get(&(tp.clone(), order)) {
                Some(Ok(o)) if *o >= 0 && *o >= offset => *o,
                Some(Ok(_)) | None => now_end,
                Some(Err(e)) => {
                    failure.get_or_insert_with(|| e.clone());
                    now_end
                }
            };
            floor = end.max(floor).min(now_end);
            out.insert((tp.clone(), order), floor);
        }
    }
    let lag = match failure {
        None => HistoricLag::AtCommitTime,
        Some(reason) => HistoricLag::Current { reason },
    };
    (out, lag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burrow_kafka::offsets::encode_group_metadata_key;
    use bytes::Bytes;

    fn commit_record(group: &str, offset: i64) -> FetchedRecord {
        let (k, v) = crate::mapping::tests::commit(group, offset);
        FetchedRecord {
            offset: 77,
            timestamp: 1_000,
            key: Some(Bytes::from(k)),
            value: Some(Bytes::from(v)),
        }
    }

    #[test]
    fn only_the_groups_own_records_are_taken() {
        let rec = commit_record("ab", 5);
        match &group_events(&rec, "c", "ab")[..] {
            [StorageEvent::ConsumerOffset(c)] => {
                assert_eq!((c.topic.as_str(), c.partition), ("t", 3));
                assert_eq!((c.offset, c.timestamp, c.order), (5, 1_000, 77));
            }
            other => panic!("{other:?}"),
        }
        // Same prefix, other group; a group that is a prefix of this one.
        assert!(group_events(&rec, "c", "abc").is_empty());
        assert!(group_events(&rec, "c", "a").is_empty());
        assert!(group_events(&commit_record("abc", 5), "c", "ab").is_empty());
    }

    #[test]
    fn tombstones_and_garbage() {
        let mut rec = commit_record("g", 5);
        rec.value = None;
        assert!(matches!(
            &group_events(&rec, "c", "g")[..],
            [StorageEvent::OffsetTombstone(t)] if t.partition == 3
        ));
        let mut k = Vec::new();
        encode_group_metadata_key(&mut k, "g");
        let tomb = FetchedRecord {
            offset: 1,
            timestamp: 0,
            key: Some(Bytes::from(k)),
            value: None,
        };
        assert!(matches!(
            &group_events(&tomb, "c", "g")[..],
            [StorageEvent::DeleteGroup(_)]
        ));
        // Truncated keys and values never panic.
        let full = commit_record("g", 5);
        for cut in 0..full.key.as_ref().map_or(0, |k| k.len()) {
            let mut r = full.clone();
            r.key = r.key.map(|k| k.slice(..cut));
            let _ = group_events(&r, "c", "g");
        }
        for cut in 0..full.value.as_ref().map_or(0, |v| v.len()) {
            let mut r = full.clone();
            r.value = r.value.map(|v| v.slice(..cut));
            let _ = group_events(&r, "c", "g");
        }
    }
}
