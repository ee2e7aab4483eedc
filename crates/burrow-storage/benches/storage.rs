//! Storage throughput: commits applied per second on one core, and group fetches.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent};
use burrow_storage::{Storage, StorageConfig};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const NOW: i64 = 1_700_000_000_000;
const GROUPS: usize = 1000;
const PARTITIONS: i32 = 10;

fn storage() -> Storage {
    let s = Storage::new(StorageConfig::default(), ["local"]).unwrap();
    for p in 0..PARTITIONS {
        let _ = s.set_broker_offset(&BrokerOffsetEvent {
            cluster: "local".into(),
            topic: "orders".into(),
            partition: p,
            partition_count: PARTITIONS,
            offset: 1_000_000,
            timestamp: NOW,
        });
    }
    s
}

/// `rounds` commits for every partition of every group, in commit order.
fn commits(rounds: i64) -> Vec<ConsumerOffsetEvent> {
    let mut v = Vec::new();
    for r in 0..rounds {
        for g in 0..GROUPS {
            for p in 0..PARTITIONS {
                v.push(ConsumerOffsetEvent {
                    cluster: "local".into(),
                    group: format!("group-{g:05}"),
                    topic: "orders".into(),
                    partition: p,
                    offset: 1000 * r,
                    order: r * 100_000 + g as i64 * 16 + i64::from(p),
                    timestamp: NOW + r * 1000,
                });
            }
        }
    }
    v
}

fn bench_commits(c: &mut Criterion) {
    let warm = storage();
    for e in &commits(12) {
        let _ = warm.set_consumer_offset(NOW, e);
    }
    // Steady state: every window is full, each commit appends and evicts the oldest.
    let batch = commits(1);
    let mut group = c.benchmark_group("storage");
    group.throughput(Throughput::Elements(batch.len() as u64));
    let mut round = 100i64;
    group.bench_function("set_consumer_offset/steady", |b| {
        b.iter_batched(
            || {
                round += 1;
                batch
                    .iter()
                    .map(|e| ConsumerOffsetEvent {
                        order: e.order + round * 100_000,
                        ..e.clone()
                    })
                    .collect::<Vec<_>>()
            },
            |events| {
                for e in &events {
                    let _ = black_box(warm.set_consumer_offset(NOW, e));
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn bench_fetch(c: &mut Criterion) {
    let s = storage();
    for e in &commits(10) {
        let _ = s.set_consumer_offset(NOW, e);
    }
    let mut group = c.benchmark_group("storage");
    group.throughput(Throughput::Elements(u64::from(PARTITIONS as u32)));
    group.bench_function("fetch_consumer/10_partitions", |b| {
        b.iter(|| black_box(s.fetch_consumer(NOW, "local", "group-00042")))
    });
    group.finish();
}

criterion_group!(benches, bench_commits, bench_fetch);
criterion_main!(benches);
