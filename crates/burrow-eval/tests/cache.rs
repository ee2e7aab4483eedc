//! The caching evaluator: expiry, not-found caching, show_all filtering, shared computation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use burrow_core::{ConsumerOffset, ConsumerPartition, ConsumerSource, ConsumerTopics, Status};
use burrow_eval::{CachingEvaluator, EvaluatorConfig};

const NOW: i64 = 1_700_000_000_000;

/// A source with one group "g" (one WARN partition, one OK partition) that counts fetches.
#[derive(Default)]
struct Counting {
    fetches: AtomicUsize,
    delay: Option<Duration>,
}

impl ConsumerSource for Counting {
    fn fetch_consumer(&self, _now_ms: i64, cluster: &str, group: &str) -> Option<ConsumerTopics> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        if let Some(d) = self.delay {
            std::thread::sleep(d);
        }
        if cluster != "c" || group != "g" {
            return None;
        }
        let window = |lags: [u64; 3]| {
            (0..3)
                .map(|i| {
                    Some(ConsumerOffset {
                        offset: 100 * (i + 1),
                        order: i,
                        timestamp: NOW - (3 - i) * 10_000,
                        observed_at: 0,
                        lag: Some(lags[i as usize]),
                    })
                })
                .collect()
        };
        let mut t = ConsumerTopics::new();
        t.insert(
            "t".into(),
            vec![
                ConsumerPartition {
                    offsets: window([10, 20, 30]),
                    current_lag: 30,
                    ..Default::default()
                },
                ConsumerPartition {
                    offsets: window([0, 0, 0]),
                    ..Default::default()
                },
            ],
        );
        Some(t)
    }
}

fn evaluator(source: Counting, expire_cache: i64) -> CachingEvaluator<Counting> {
    CachingEvaluator::new(
        source,
        EvaluatorConfig {
            expire_cache,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn results_are_cached_for_expire_cache_seconds() {
    let e = evaluator(Counting::default(), 10);
    assert_eq!(e.evaluate(NOW, "c", "g", true).status, Status::Warn);
    assert_eq!(e.evaluate(NOW + 9_999, "c", "g", true).status, Status::Warn);
    assert_eq!(e.source().fetches.load(Ordering::SeqCst), 1);
    let _ = e.evaluate(NOW + 10_000, "c", "g", true);
    assert_eq!(e.source().fetches.load(Ordering::SeqCst), 2);
}

#[test]
fn not_found_is_cached_too() {
    let e = evaluator(Counting::default(), 10);
    let s = e.evaluate(NOW, "c", "missing", false);
    assert_eq!(
        (s.status, s.complete, s.partition_count),
        (Status::NotFound, 1.0, 0)
    );
    let _ = e.evaluate(NOW + 1, "c", "missing", true);
    assert_eq!(e.source().fetches.load(Ordering::SeqCst), 1);
}

#[test]
fn zero_expire_cache_always_recomputes() {
    let e = evaluator(Counting::default(), 0);
    let _ = e.evaluate(NOW, "c", "g", true);
    let _ = e.evaluate(NOW, "c", "g", true);
    assert_eq!(e.source().fetches.load(Ordering::SeqCst), 2);
}

#[test]
fn show_all_false_keeps_only_partitions_worse_than_ok() {
    let e = evaluator(Counting::default(), 10);
    let all = e.evaluate(NOW, "c", "g", true);
    let bad = e.evaluate(NOW, "c", "g", false);
    assert_eq!(all.partitions.len(), 2);
    assert_eq!(bad.partitions.len(), 1);
    assert_eq!(bad.partitions[0].status, Status::Warn);
    assert_eq!(
        (bad.partition_count, bad.totallag, bad.complete),
        (2, 30, 1.0)
    );
    assert_eq!(bad.maxlag, all.maxlag);
    assert_eq!(
        e.evaluate(NOW, "c", "g", true).partitions.len(),
        2,
        "the cache keeps every partition"
    );
}

#[test]
fn keys_do_not_collide() {
    let e = evaluator(Counting::default(), 10);
    assert_eq!(e.evaluate(NOW, "c", "g", true).status, Status::Warn);
    assert_eq!(e.evaluate(NOW, "c g", "", true).status, Status::NotFound);
    assert_eq!(e.evaluate(NOW, "", "c g", true).status, Status::NotFound);
}

#[test]
fn concurrent_requests_share_one_computation() {
    let e = evaluator(
        Counting {
            delay: Some(Duration::from_millis(50)),
            ..Default::default()
        },
        10,
    );
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| assert_eq!(e.evaluate(NOW, "c", "g", false).status, Status::Warn));
        }
    });
    assert_eq!(e.source().fetches.load(Ordering::SeqCst), 1);
}

#[test]
fn purge_drops_expired_entries() {
    let e = evaluator(Counting::default(), 10);
    let _ = e.evaluate(NOW, "c", "g", true);
    let _ = e.evaluate(NOW + 5_000, "c", "x", true);
    assert_eq!(e.cached(), 2);
    assert_eq!(e.purge_expired(NOW + 10_000), 1);
    assert_eq!(e.cached(), 1);
}
