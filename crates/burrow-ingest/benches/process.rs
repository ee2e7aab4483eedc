//! What the consumer module does with fetched records, in memory: 1,000,000 offset commits of
//! 10,000 groups (10 partitions, 10 commits each) in a 50-partition offsets topic, laid out as
//! Kafka's group coordinator writes them (one uncompressed batch per commit request), decoded
//! and stored into a fresh `Storage` on one thread.
//!
//! Run: `cargo bench -p burrow-ingest --bench process`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

use burrow_ingest::consumer::{ConsumerSettings, Processor};
use burrow_ingest::IngestMetrics;
use burrow_kafka::offsets::{self, OffsetCommitKey, OffsetCommitValue};
use burrow_kafka::{ClientConfig, RawRecords};
use burrow_storage::{GroupFilter, Storage, StorageConfig};

const GROUPS: usize = 10_000;
const PARTITIONS: i32 = 10;
const COMMITS: usize = 10;
const OFFSETS_PARTITIONS: i32 = 50;
const NOW: i64 = 1_800_000_000_000;

/// The fetched records of every offsets partition.
fn topic() -> Vec<(i32, RawRecords)> {
    let mut per_partition: Vec<(BytesMut, i64)> =
        vec![(BytesMut::new(), 0); OFFSETS_PARTITIONS as usize];
    for c in 0..COMMITS {
        for g in 0..GROUPS {
            let group = format!("group-{g}");
            let p = offsets::partition_for_group(&group, OFFSETS_PARTITIONS) as usize;
            let (buf, next) = &mut per_partition[p];
            let records: Vec<Record> = (0..PARTITIONS)
                .map(|part| {
                    let (mut k, mut v) = (Vec::new(), Vec::new());
                    offsets::encode_offset_commit_key(
                        &mut k,
                        &OffsetCommitKey {
                            version: 1,
                            group: &group,
                            topic: "bench-topic",
                            partition: part,
                        },
                    );
                    offsets::encode_offset_commit_value(
                        &mut v,
                        &OffsetCommitValue {
                            version: 3,
                            offset: 900 + c as i64 * 10,
                            leader_epoch: 0,
                            metadata: "",
                            commit_timestamp: NOW - (COMMITS - c) as i64 * 60_000,
                            expire_timestamp: -1,
                        },
                    )
                    .unwrap();
                    let offset = *next + i64::from(part);
                    Record {
                        transactional: false,
                        control: false,
                        delete_horizon: false,
                        partition_leader_epoch: 0,
                        producer_id: -1,
                        producer_epoch: -1,
                        timestamp_type: TimestampType::Creation,
                        offset,
                        sequence: offset as i32,
                        timestamp: NOW,
                        key: Some(Bytes::from(k)),
                        value: Some(Bytes::from(v)),
                        headers: Default::default(),
                    }
                })
                .collect();
            *next += i64::from(PARTITIONS);
            RecordBatchEncoder::encode(
                buf,
                &records,
                &RecordEncodeOptions {
                    version: 2,
                    compression: Compression::None,
                },
            )
            .unwrap();
        }
    }
    per_partition
        .into_iter()
        .enumerate()
        .map(|(p, (buf, _))| (p as i32, RawRecords::new(buf.freeze(), 0, &[])))
        .collect()
}

fn storage() -> Arc<Storage> {
    let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
    for p in 0..PARTITIONS {
        let _ = storage.set_broker_offset(&burrow_core::BrokerOffsetEvent {
            cluster: "local".into(),
            topic: "bench-topic".into(),
            partition: p,
            partition_count: PARTITIONS,
            offset: 1000,
            timestamp: NOW,
        });
    }
    storage
}

fn bench(c: &mut Criterion) {
    let topic = topic();
    let settings = ConsumerSettings {
        name: "bench".into(),
        cluster: "local".into(),
        servers: vec![],
        client: ClientConfig::default(),
        offsets_topic: "__consumer_offsets".into(),
        start_latest: false,
        backfill_earliest: false,
        resume: Default::default(),
        position_check: Duration::from_secs(10),
        filter: GroupFilter::default(),
    };
    let metrics = IngestMetrics::unregistered();
    let mut g = c.benchmark_group("process");
    g.sample_size(10);
    g.throughput(Throughput::Elements(
        (GROUPS * COMMITS) as u64 * PARTITIONS as u64,
    ));
    g.bench_function("fresh_storage_1m_commits", |b| {
        b.iter_batched(
            || Processor::new(&settings, storage(), metrics.clone(), None),
            |processor| {
                let mut n = 0;
                for (p, records) in &topic {
                    n += processor.process(NOW, *p, records, None);
                }
                assert_eq!(n, 1_000_000);
                black_box(processor)
            },
            BatchSize::PerIteration,
        )
    });
    // As the consumer module does: each partition on one of two threads, one shared storage.
    g.bench_function("fresh_storage_1m_commits_2_threads", |b| {
        b.iter_batched(
            || Processor::new(&settings, storage(), metrics.clone(), None),
            |processor| {
                std::thread::scope(|s| {
                    for half in 0..2 {
                        let (processor, topic) = (&processor, &topic);
                        s.spawn(move || {
                            for (p, records) in topic.iter().filter(|(p, _)| p % 2 == half) {
                                processor.process(NOW, *p, records, None);
                            }
                        });
                    }
                });
                black_box(processor)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("walk_only_1m_records", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for (_, records) in &topic {
                n += records
                    .for_each(|r| {
                        black_box(r.key);
                    })
                    .records;
            }
            black_box(n)
        })
    });
    g.bench_function("walk_only_1m_records_2_threads", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for half in 0..2 {
                    let topic = &topic;
                    s.spawn(move || {
                        let mut n = 0u64;
                        for (_, records) in topic.iter().filter(|(p, _)| p % 2 == half) {
                            n += records
                                .for_each(|r| {
                                    black_box(r.key);
                                })
                                .records;
                        }
                        black_box(n)
                    });
                }
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
