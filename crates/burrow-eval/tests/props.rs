//! Property tests: evaluation never panics and keeps its invariants on any window.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use burrow_core::{ConsumerOffset, ConsumerPartition, ConsumerTopics, Status};
use burrow_eval::{evaluate_group, EvaluatorConfig};
use proptest::prelude::*;

fn entry() -> impl Strategy<Value = Option<ConsumerOffset>> {
    prop::option::weighted(
        0.8,
        (
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            prop::option::of(any::<u64>()),
        )
            .prop_map(|(offset, order, timestamp, lag)| ConsumerOffset {
                offset,
                order,
                timestamp,
                observed_at: 0,
                lag,
            }),
    )
}

fn partition() -> impl Strategy<Value = ConsumerPartition> {
    (
        prop::collection::vec(entry(), 0..12),
        any::<u64>(),
        prop::collection::vec(any::<i64>(), 0..12),
    )
        .prop_map(|(offsets, current_lag, broker_offsets)| ConsumerPartition {
            offsets,
            current_lag,
            broker_offsets,
            ..Default::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn evaluation_never_panics_and_keeps_invariants(
        parts in prop::collection::vec(partition(), 0..6),
        now_s in any::<i64>(),
        allowed_lag in prop::option::of(any::<u64>()),
        minimum_complete in 0.0f32..=1.0,
    ) {
        let config = EvaluatorConfig { allowed_lag: allowed_lag.unwrap_or(0), minimum_complete, ..Default::default() };
        let mut topics = ConsumerTopics::new();
        topics.insert("t".into(), parts.clone());
        let g = evaluate_group("c", "g", &topics, now_s, &config);
        prop_assert_eq!(g.partition_count, parts.len());
        prop_assert!(g.status != Status::NotFound);
        prop_assert!((0.0..=1.0).contains(&g.complete));
        for p in &g.partitions {
            prop_assert!(matches!(p.status, Status::Ok | Status::Warn | Status::Stop | Status::Stall | Status::Rewind));
            prop_assert!((0.0..=1.0).contains(&p.complete));
            prop_assert!(p.status <= Status::Ok || p.current_lag > config.allowed_lag);
            prop_assert!(g.status >= p.status.min(Status::Error));
        }
        prop_assert_eq!(g.maxlag.is_some(), !parts.is_empty());
    }
}
