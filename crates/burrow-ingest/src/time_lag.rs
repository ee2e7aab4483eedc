//! Lag in seconds (linkedin/Burrow#452): how long ago the oldest record a group has not consumed
//! was written.
//!
//! For every group partition that lags (current lag > 0), the record at the group's committed
//! offset is the next one it will consume; its timestamp (CreateTime, or LogAppendTime when the
//! topic says so) tells how far behind the group is in time: `now - timestamp`. A partition with
//! no lag is 0 seconds behind. [`TimeLag::refresh`] finds the timestamps of the committed offsets
//! it does not know yet with one small Fetch per partition (batched per topic and leader); a
//! record's timestamp never changes, so a known offset is never fetched again, and offsets no
//! group stands at any more are forgotten at the next refresh.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::RwLock;
use std::time::Duration;

use burrow_kafka::{FetchOptions, IsolationLevel, KafkaClient};
use burrow_storage::Storage;
use tracing::debug;

/// Timestamps per topic → partition → committed offset.
type Known = HashMap<String, HashMap<i32, BTreeMap<i64, i64>>>;

/// Committed offsets whose timestamps are wanted: topic → partition → offsets.
pub type Needed = BTreeMap<String, BTreeMap<i32, BTreeSet<i64>>>;

/// Adds one committed offset to `needed`.
pub fn need(needed: &mut Needed, topic: &str, partition: i32, offset: i64) {
    needed
        .entry(topic.to_string())
        .or_default()
        .entry(partition)
        .or_default()
        .insert(offset);
}

fn remember(known: &mut Known, topic: &str, partition: i32, offset: i64, timestamp: i64) {
    known
        .entry(topic.to_string())
        .or_default()
        .entry(partition)
        .or_default()
        .insert(offset, timestamp);
}

/// Partition fetches at most per refresh (the rest waits for the next refresh).
const MAX_FETCHES: usize = 20_000;

/// Bytes asked per partition: the batch holding the committed offset is all that is needed.
const FETCH_BYTES: i32 = 64 * 1024;

/// How long an offset whose timestamp could not be found is left alone before it is fetched
/// again (a record out of retention never comes back; a leader change passes).
const RETRY_UNKNOWN: Duration = Duration::from_secs(300);

/// The timestamps of the records the groups of one cluster stand before.
#[derive(Debug, Default)]
pub struct TimeLag {
    known: RwLock<Known>,
    /// (topic, partition, offset) → when fetching it last found nothing (ms).
    failed: std::sync::Mutex<HashMap<(String, i32, i64), i64>>,
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshStats {
    /// Committed offsets of lagging group partitions (distinct per topic partition).
    pub needed: usize,
    /// Of those, fetched in this refresh.
    pub fetched: usize,
    /// Fetched without a timestamp (no record there any more, a broker error, no timestamps).
    pub unknown: usize,
    /// Not fetched: their last fetch found nothing less than five minutes ago.
    pub waiting: usize,
}

impl TimeLag {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The timestamp (ms) of the first record at or after `offset` in `topic` `partition`, when
    /// the last refresh found it.
    pub fn timestamp(&self, topic: &str, partition: i32, offset: i64) -> Option<i64> {
        let known = self.known.read().unwrap_or_else(|e| e.into_inner());
        known.get(topic)?.get(&partition)?.get(&offset).copied()
    }

    /// How many seconds behind a partition is whose newest commit is `offset` with `current_lag`
    /// messages to go, at `now_ms`: 0 without lag, `None` when the timestamp is not known (yet).
    pub fn seconds(
        &self,
        now_ms: i64,
        topic: &str,
        partition: i32,
        offset: i64,
        current_lag: u64,
    ) -> Option<f64> {
        if current_lag == 0 {
            return Some(0.0);
        }
        let ts = self.timestamp(topic, partition, offset)?;
        Some((now_ms - ts).max(0) as f64 / 1000.0)
    }

    /// Looks at every group of `cluster` in `storage` and fetches, through `client`, the
    /// timestamps of the committed offsets of lagging partitions that are not known yet
    /// ([`Self::fetch`]).
    pub async fn refresh(
        &self,
        client: &KafkaClient,
        storage: &Storage,
        cluster: &str,
        now_ms: i64,
    ) -> RefreshStats {
        // What the groups stand before now.
        let mut needed = Needed::new();
        for group in storage.fetch_consumers(cluster).unwrap_or_default() {
            let Some(topics) = storage.fetch_consumer(now_ms, cluster, &group) else {
                continue;
            };
            for (topic, partitions) in topics {
                for (i, p) in partitions.iter().enumerate() {
                    let Some(last) = p.offsets.iter().flatten().last() else {
                        continue;
                    };
                    if p.current_lag == 0 {
                        continue;
                    }
                    need(&mut needed, &topic, i as i32, last.offset);
                }
            }
        }
        self.fetch(client, &needed).await
    }

    /// Makes the table hold exactly the timestamps of `needed` (topic → partition → offsets):
    /// known ones are kept, the others fetched through `client`, everything else forgotten.
    pub async fn fetch(&self, client: &KafkaClient, needed: &Needed) -> RefreshStats {
        // Keep what is known and still needed; list the rest, but for what was not found lately.
        let now = burrow_core::now_ms();
        let retry_ms = RETRY_UNKNOWN.as_millis() as i64;
        let mut failed =
            std::mem::take(&mut *self.failed.lock().unwrap_or_else(|e| e.into_inner()));
        failed.retain(|(t, p, o), at| {
            now - *at < retry_ms
                && needed
                    .get(t)
                    .and_then(|ps| ps.get(p))
                    .is_some_and(|os| os.contains(o))
        });
        let mut stats = RefreshStats::default();
        let mut next: Known = HashMap::new();
        let mut missing: BTreeMap<String, BTreeMap<i32, Vec<i64>>> = BTreeMap::new();
        {
            let known = self.known.read().unwrap_or_else(|e| e.into_inner());
            for (topic, partitions) in needed {
                for (&p, offsets) in partitions {
                    for &o in offsets {
                        stats.needed += 1;
                        match known.get(topic).and_then(|t| t.get(&p)?.get(&o)) {
                            Some(&ts) => remember(&mut next, topic, p, o, ts),
                            None if failed.contains_key(&(topic.clone(), p, o)) => {
                                stats.waiting += 1;
                            }
                            None => missing
                                .entry(topic.clone())
                                .or_default()
                                .entry(p)
                                .or_default()
                                .push(o),
                        }
                    }
                }
            }
        }
        // A Fetch names a partition once: the k-th missing offset of every partition of a topic
        // goes in the k-th request for that topic.
        let opts = FetchOptions {
            max_bytes: FETCH_BYTES,
            max_wait: Duration::from_millis(10),
            min_bytes: 1,
            isolation: IsolationLevel::ReadUncommitted,
        };
        'topics: for (topic, partitions) in &missing {
            let rounds = partitions.values().map(Vec::len).max().unwrap_or(0);
            for k in 0..rounds {
                let wanted: Vec<(i32, i64)> = partitions
                    .iter()
                    .filter_map(|(&p, offsets)| offsets.get(k).map(|&o| (p, o)))
                    .collect();
                if stats.fetched + wanted.len() > MAX_FETCHES {
                    debug!(
                        fetched = stats.fetched,
                        "time lag: fetch budget of this refresh spent"
                    );
                    break 'topics;
                }
                stats.fetched += wanted.len();
                for (p, result) in client.fetch_many_raw(topic, &wanted, opts).await {
                    let Some(&(_, offset)) = wanted.iter().find(|(q, _)| *q == p) else {
                        continue;
                    };
                    let mut ts = None;
                    if let Ok(r) = result {
                        r.records.for_each(|rec| {
                            if ts.is_none() && rec.offset >= offset && rec.timestamp >= 0 {
                                ts = Some(rec.timestamp);
                            }
                        });
                    }
                    match ts {
                        Some(ts) => remember(&mut next, topic, p, offset, ts),
                        None => {
                            stats.unknown += 1;
                            failed.insert((topic.clone(), p, offset), now);
                        }
                    }
                }
            }
        }
        *self.known.write().unwrap_or_else(|e| e.into_inner()) = next;
        *self.failed.lock().unwrap_or_else(|e| e.into_inner()) = failed;
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_zero_without_lag_and_unknown_without_a_timestamp() {
        let t = TimeLag::new();
        assert_eq!(t.seconds(10_000, "t", 0, 5, 0), Some(0.0));
        assert_eq!(t.seconds(10_000, "t", 0, 5, 3), None);
        remember(&mut t.known.write().unwrap(), "t", 0, 5, 4_000);
        assert_eq!(t.seconds(10_000, "t", 0, 5, 3), Some(6.0));
        // A clock behind the record's timestamp is not a negative lag.
        assert_eq!(t.seconds(3_000, "t", 0, 5, 3), Some(0.0));
        assert_eq!(t.timestamp("t", 1, 5), None);
    }
}
