//! Burrow's `caching` evaluator: evaluations kept `expire-cache` seconds, one computation per key.

use std::sync::{Arc, OnceLock};

use dashmap::DashMap;

use burrow_core::{ConsumerGroupStatus, ConsumerSource};

use crate::{evaluate_group, EvalError, EvaluatorConfig};

type Evaluation = Option<Arc<ConsumerGroupStatus>>;

struct Entry {
    expires_at_ms: i64,
    value: OnceLock<Evaluation>,
}

/// Evaluates groups from a [`ConsumerSource`] and caches each result (found or not) for
/// `expire-cache` seconds, like Burrow's goswarm memoizer: concurrent requests for the same group
/// share one computation, and the cache always holds every partition (`show_all` only filters the
/// reply).
///
/// ```
/// use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent, StorageEvent, Status};
/// use burrow_eval::{CachingEvaluator, EvaluatorConfig};
/// use burrow_storage::{Storage, StorageConfig};
///
/// let storage = Storage::new(StorageConfig::default(), ["local"]).unwrap();
/// let evaluator = CachingEvaluator::new(&storage, EvaluatorConfig::default()).unwrap();
/// let now = 1_700_000_000_000;
/// assert_eq!(evaluator.evaluate(now, "local", "billing", true).status, Status::NotFound);
/// ```
pub struct CachingEvaluator<S> {
    source: S,
    config: EvaluatorConfig,
    cache: DashMap<String, Arc<Entry>, foldhash::fast::RandomState>,
}

impl<S: ConsumerSource> CachingEvaluator<S> {
    /// An evaluator reading from `source`.
    pub fn new(source: S, config: EvaluatorConfig) -> Result<Self, EvalError> {
        config.validate("evaluator")?;
        Ok(CachingEvaluator {
            source,
            config,
            cache: DashMap::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EvaluatorConfig {
        &self.config
    }

    /// The source groups are read from.
    pub fn source(&self) -> &S {
        &self.source
    }

    fn key(cluster: &str, group: &str) -> String {
        // Length-prefixed so that no two (cluster, group) pairs share a key.
        format!("{}:{cluster}{group}", cluster.len())
    }

    /// The group's evaluation with every partition, or `None` when the group is not found. Cached.
    pub fn evaluation(&self, now_ms: i64, cluster: &str, group: &str) -> Evaluation {
        let key = Self::key(cluster, group);
        // The read guard must be gone before `entry` below takes the shard's write lock.
        let cached = self.cache.get(&key).map(|e| Arc::clone(&e));
        let entry = match cached {
            Some(e) if now_ms < e.expires_at_ms => e,
            _ => {
                let fresh = Arc::new(Entry {
                    expires_at_ms: now_ms
                        .saturating_add(self.config.expire_cache.saturating_mul(1000)),
                    value: OnceLock::new(),
                });
                // Another thread may have refreshed the entry meanwhile: use whichever is valid.
                let mut slot = self.cache.entry(key).or_insert_with(|| Arc::clone(&fresh));
                if now_ms >= slot.expires_at_ms {
                    *slot = Arc::clone(&fresh);
                }
                Arc::clone(&slot)
            }
        };
        entry
            .value
            .get_or_init(|| {
                let topics = self.source.fetch_consumer(now_ms, cluster, group)?;
                Some(Arc::new(evaluate_group(
                    cluster,
                    group,
                    &topics,
                    now_ms.div_euclid(1000),
                    &self.config,
                )))
            })
            .clone()
    }

    /// Burrow's evaluator request: the group's status with all partitions (`show_all`) or only
    /// those worse than OK; NOTFOUND (complete 1, no partitions) when the group is not found.
    pub fn evaluate(
        &self,
        now_ms: i64,
        cluster: &str,
        group: &str,
        show_all: bool,
    ) -> ConsumerGroupStatus {
        match self.evaluation(now_ms, cluster, group) {
            None => ConsumerGroupStatus::not_found(cluster, group),
            Some(status) if show_all => (*status).clone(),
            Some(status) => status.without_ok_partitions(),
        }
    }

    /// Drops cached evaluations that expired by `now_ms`; returns how many.
    pub fn purge_expired(&self, now_ms: i64) -> usize {
        let before = self.cache.len();
        self.cache.retain(|_, e| now_ms < e.expires_at_ms);
        before - self.cache.len()
    }

    /// Number of cached evaluations.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }
}
