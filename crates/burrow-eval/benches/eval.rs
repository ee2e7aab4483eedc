//! Evaluation throughput: partitions evaluated per second on one core.

#![allow(missing_docs)]

use std::hint::black_box;

use burrow_core::{ConsumerOffset, ConsumerPartition, ConsumerTopics};
use burrow_eval::{evaluate_group, evaluate_partition, EvaluatorConfig};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const NOW_S: i64 = 1_700_000_600;

/// A full 10-commit window of a consumer that keeps up (every rule runs to the end: OK).
fn partition(lag_base: u64) -> ConsumerPartition {
    ConsumerPartition {
        offsets: (0..10)
            .map(|i| {
                Some(ConsumerOffset {
                    offset: 10_000 + i * 100,
                    order: i,
                    timestamp: 1_700_000_000_000 + i * 60_000,
                    observed_at: 1_700_000_000_000 + i * 60_000,
                    lag: Some(lag_base + (i as u64 % 3)),
                })
            })
            .collect(),
        owner: "/10.0.0.1".into(),
        client_id: "consumer-1".into(),
        current_lag: lag_base + 1,
        broker_offsets: (0..10).map(|i| 11_000 + i * 100).collect(),
    }
}

fn bench(c: &mut Criterion) {
    let config = EvaluatorConfig::default();
    let p = partition(5);
    let mut group = c.benchmark_group("eval");
    group.throughput(Throughput::Elements(1));
    group.bench_function("evaluate_partition/full_window", |b| {
        b.iter(|| black_box(evaluate_partition(black_box(&p), NOW_S, &config)))
    });
    let mut topics = ConsumerTopics::new();
    topics.insert(
        "orders".into(),
        (0..100).map(|i| partition(i % 7)).collect(),
    );
    group.throughput(Throughput::Elements(100));
    group.bench_function("evaluate_group/100_partitions", |b| {
        b.iter(|| {
            black_box(evaluate_group(
                "local",
                "billing",
                black_box(&topics),
                NOW_S,
                &config,
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
