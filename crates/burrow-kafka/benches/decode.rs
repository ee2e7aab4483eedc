//! Decode throughput of `__consumer_offsets` records (goal: 10,000,000 offset commits per second
//! per core). Run: `cargo bench -p burrow-kafka --bench decode`.

use std::hint::black_box;

use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

use burrow_kafka::offsets::{
    self, GroupMetadataValue, MemberMetadata, OffsetCommitKey, OffsetCommitValue, OffsetsRecord,
};
use burrow_kafka::{decode_records, RawRecords};
use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn commits(n: usize, version: i16) -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let group = format!("payments-consumer-{}", i % 1000);
            let topic = format!("orders.v2.region-{}", i % 17);
            let (mut k, mut v) = (Vec::new(), Vec::new());
            offsets::encode_offset_commit_key(
                &mut k,
                &OffsetCommitKey {
                    version: 1,
                    group: &group,
                    topic: &topic,
                    partition: (i % 64) as i32,
                },
            );
            offsets::encode_offset_commit_value(
                &mut v,
                &OffsetCommitValue {
                    version,
                    offset: 1_000_000 + i as i64,
                    leader_epoch: 12,
                    metadata: "",
                    commit_timestamp: 1_700_000_000_000 + i as i64,
                    expire_timestamp: -1,
                },
            )
            .expect("valid version");
            (k, v)
        })
        .collect()
}

fn bench_commits(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    for version in [1i16, 3, 4] {
        let records = commits(10_000, version);
        g.throughput(Throughput::Elements(records.len() as u64));
        g.bench_function(format!("offset_commit_v{version}"), |b| {
            b.iter(|| {
                let mut sum = 0i64;
                for (k, v) in &records {
                    if let Ok(OffsetsRecord::OffsetCommit {
                        key,
                        value: Some(v),
                    }) = offsets::decode_record(k, Some(v))
                    {
                        sum = sum
                            .wrapping_add(v.offset)
                            .wrapping_add(i64::from(key.partition));
                    }
                }
                black_box(sum)
            })
        });
    }

    // A group of 20 members, each assigned 8 partitions, decoded with its assignments.
    let assignments: Vec<Vec<u8>> = (0..20)
        .map(|m| {
            let mut out = Vec::new();
            offsets::encode_assignment(
                &mut out,
                &offsets::Assignment {
                    version: 1,
                    partitions: vec![offsets::TopicPartitions {
                        topic: "orders",
                        partitions: (m * 8..m * 8 + 8).collect(),
                    }],
                    user_data: None,
                },
            );
            out
        })
        .collect();
    let ids: Vec<String> = (0..20)
        .map(|m| format!("consumer-{m}-0b6a3c4e-8f1d-4a57-9d7e-1234567890ab"))
        .collect();
    let value = GroupMetadataValue {
        version: 3,
        protocol_type: "consumer",
        generation: 42,
        protocol: Some("cooperative-sticky"),
        leader: Some(&ids[0]),
        current_state_timestamp: 1_700_000_000_000,
        members: ids
            .iter()
            .zip(&assignments)
            .map(|(id, a)| MemberMetadata {
                member_id: id,
                group_instance_id: None,
                client_id: "payments",
                client_host: "/10.1.2.3",
                rebalance_timeout: 300_000,
                session_timeout: 45_000,
                subscription: &[],
                assignment: a,
            })
            .collect(),
    };
    let mut raw = Vec::new();
    offsets::encode_group_metadata_value(&mut raw, &value).expect("valid version");
    g.throughput(Throughput::Elements(1));
    g.bench_function("group_metadata_20_members", |b| {
        b.iter(|| {
            let g = offsets::decode_group_metadata_value(black_box(&raw)).expect("valid");
            let mut n = 0;
            for m in &g.members {
                n += offsets::decode_assignment(m.assignment).map_or(0, |a| a.partitions.len());
            }
            black_box(n)
        })
    });
    bench_kip848(&mut g);
    g.finish();
}

/// Kafka 4's consumer-group records (KIP-848): 10,000 member metadata and 10,000 current
/// assignment records (4 topics × 8 partitions each), decoded from key and value.
fn bench_kip848(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    let mut members = Vec::new();
    let mut assignments = Vec::new();
    for i in 0..10_000u32 {
        let group = format!("group-{}", i % 500);
        let member = format!("member-{i}");
        let key = offsets::MemberKey {
            group: &group,
            member: &member,
        };
        let (mut k5, mut v5, mut k8, mut v8) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        offsets::encode_member_key(&mut k5, 5, &key);
        offsets::encode_member_metadata_value(
            &mut v5,
            &offsets::MemberMetadataValue {
                version: 0,
                instance_id: None,
                rack_id: None,
                client_id: "consumer-app-1",
                client_host: "/10.20.30.40",
                subscribed_topics: vec!["orders", "payments"],
                subscribed_regex: None,
                rebalance_timeout_ms: 300_000,
                server_assignor: Some("uniform"),
            },
        );
        offsets::encode_member_key(&mut k8, 8, &key);
        offsets::encode_member_assignment_value(
            &mut v8,
            &offsets::MemberAssignmentValue {
                version: 0,
                member_epoch: 12,
                previous_member_epoch: 11,
                state: 0,
                assigned: (0..4u8)
                    .map(|t| offsets::TopicIdPartitions {
                        topic_id: offsets::TopicId([t; 16]),
                        partitions: (0..8).collect(),
                    })
                    .collect(),
                pending_revocation: vec![],
            },
        );
        members.push((k5, v5));
        assignments.push((k8, v8));
    }
    g.throughput(Throughput::Elements(members.len() as u64));
    g.bench_function("kip848_member_metadata", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (k, v) in &members {
                if let Ok(OffsetsRecord::ConsumerGroupMember { value: Some(v), .. }) =
                    offsets::decode_record(k, Some(v))
                {
                    n += v.client_host.len();
                }
            }
            black_box(n)
        })
    });
    g.bench_function("kip848_current_assignment", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (k, v) in &assignments {
                if let Ok(OffsetsRecord::ConsumerGroupAssignment { value: Some(v), .. }) =
                    offsets::decode_record(k, Some(v))
                {
                    n += v.assigned.len();
                }
            }
            black_box(n)
        })
    });
}

/// The `records` of one fetched `__consumer_offsets` partition: 20,000 offset commits in
/// batches of `per_batch`, compressed with `compression`.
fn fetched_partition(compression: Compression, per_batch: usize) -> Bytes {
    let mut buf = BytesMut::new();
    for b in 0..20_000 / per_batch {
        let records: Vec<Record> = commits(per_batch, 3)
            .into_iter()
            .enumerate()
            .map(|(i, (k, v))| Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: 0,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: (b * per_batch + i) as i64,
                // Consecutive sequence numbers: kafka-protocol keeps the records in one batch.
                sequence: (b * per_batch + i) as i32,
                timestamp: 1_700_000_000_000 + i as i64,
                key: Some(Bytes::from(k)),
                value: Some(Bytes::from(v)),
                headers: Default::default(),
            })
            .collect();
        RecordBatchEncoder::encode(
            &mut buf,
            &records,
            &RecordEncodeOptions {
                version: 2,
                compression,
            },
        )
        .expect("encodes");
    }
    buf.freeze()
}

fn bench_fetched(c: &mut Criterion) {
    let mut g = c.benchmark_group("fetched");
    g.throughput(Throughput::Elements(20_000));
    // The group coordinator writes one uncompressed batch per commit request (Kafka's default
    // `offsets.topic.compression.codec` is none); producers write larger, compressed batches.
    for (name, compression, per_batch) in [
        ("none_10", Compression::None, 10),
        ("none_1000", Compression::None, 1000),
        ("lz4_1000", Compression::Lz4, 1000),
        ("zstd_1000", Compression::Zstd, 1000),
    ] {
        let data = fetched_partition(compression, per_batch);
        g.bench_function(format!("decode_records_{name}"), |b| {
            b.iter(|| {
                let r = decode_records(data.clone(), 0, &[]);
                black_box(r.records.len())
            })
        });
        let raw = RawRecords::new(data.clone(), 0, &[]);
        g.bench_function(format!("for_each_{name}"), |b| {
            b.iter(|| {
                let mut sum = 0i64;
                let s = raw.for_each(|r| sum = sum.wrapping_add(r.offset));
                black_box((sum, s.records))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_commits, bench_fetched);
criterion_main!(benches);
