//! Ingest benchmark against a local noida-db (`BURROW_TEST_NOIDA`): 1,000,000 offset-commit
//! records of 10,000 groups written into a fresh offsets topic, then
//! - the broker's raw read rate: one reader fetching every partition to its end, the records
//!   split out of their batches and counted (nothing decoded or stored);
//! - the consumer module: from start to every group stored.
//!
//! The topic is laid out as Kafka's group coordinator writes it: one uncompressed batch per
//! commit request (a group's 10 partitions). `BURROW_BENCH_LAYOUT=lz4` writes LZ4 batches of
//! 2,000 records instead.
//!
//! Run: `scripts/test-services.sh start; . .test-services/env; cargo bench -p burrow-ingest --bench ingest`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use burrow_ingest::cluster::{self, ClusterSettings};
use burrow_ingest::consumer::{self, ConsumerSettings};
use burrow_ingest::IngestMetrics;
use burrow_kafka::offsets::{self, OffsetCommitKey, OffsetCommitValue};
use burrow_kafka::{
    ClientConfig, Compression, FetchOptions, IsolationLevel, KafkaClient, OffsetSpec, RawRecords,
};
use burrow_storage::{GroupFilter, Storage, StorageConfig};

const GROUPS: usize = 10_000;
const PARTITIONS: i32 = 10;
const COMMITS: usize = 10; // per group partition: 10,000 x 10 x 10 = 1,000,000 records
const OFFSETS_PARTITIONS: i32 = 50;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Ok(addr) = std::env::var("BURROW_TEST_NOIDA") else {
        println!(
            "ingest bench skipped: BURROW_TEST_NOIDA not set (scripts/test-services.sh start)"
        );
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(addr));
}

async fn run(addr: String) {
    let client = KafkaClient::connect(std::slice::from_ref(&addr), ClientConfig::default())
        .await
        .unwrap();
    let id = std::process::id();
    let offsets_topic = format!("bench-offsets-{id}");
    let topic = format!("bench-topic-{id}");
    client
        .create_topic(&offsets_topic, OFFSETS_PARTITIONS, 1)
        .await
        .unwrap();
    client.create_topic(&topic, PARTITIONS, 1).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    client.refresh_metadata().await.unwrap();
    for p in 0..PARTITIONS {
        let recs: Vec<_> = (0..1000)
            .map(|_| (None, Some(Bytes::from_static(b"x"))))
            .collect();
        client
            .produce(&topic, p, &recs, Compression::None)
            .await
            .unwrap();
    }

    // 1,000,000 commit records, each group's in its own partition, commits in order.
    let t = Instant::now();
    let now = burrow_core::now_ms();
    let mut per_partition: Vec<Vec<(Option<Bytes>, Option<Bytes>)>> =
        vec![Vec::new(); OFFSETS_PARTITIONS as usize];
    for g in 0..GROUPS {
        let group = format!("group-{g}");
        let p = offsets::partition_for_group(&group, OFFSETS_PARTITIONS) as usize;
        for c in 0..COMMITS {
            for part in 0..PARTITIONS {
                let (mut k, mut v) = (Vec::new(), Vec::new());
                offsets::encode_offset_commit_key(
                    &mut k,
                    &OffsetCommitKey {
                        version: 1,
                        group: &group,
                        topic: &topic,
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
                        commit_timestamp: now - (COMMITS - c) as i64 * 60_000,
                        expire_timestamp: -1,
                    },
                )
                .unwrap();
                per_partition[p].push((Some(Bytes::from(k)), Some(Bytes::from(v))));
            }
        }
    }
    let total: usize = per_partition.iter().map(Vec::len).sum();
    let (per_batch, compression) = match std::env::var("BURROW_BENCH_LAYOUT").as_deref() {
        Ok("lz4") => (2000, Compression::Lz4),
        _ => (PARTITIONS as usize, Compression::None),
    };
    let mut writers = tokio::task::JoinSet::new();
    for (p, recs) in per_partition.into_iter().enumerate() {
        let (client, topic) = (client.clone(), offsets_topic.clone());
        writers.spawn(async move {
            for chunk in recs.chunks(per_batch) {
                client
                    .produce(&topic, p as i32, chunk, compression)
                    .await
                    .unwrap();
            }
        });
    }
    while writers.join_next().await.is_some() {}
    println!(
        "wrote {total} records in batches of {per_batch} ({compression:?}) in {:?}",
        t.elapsed()
    );

    // Raw read rate: fetch every partition to its end (records decoded, nothing else).
    let tps: Vec<(String, i32)> = (0..OFFSETS_PARTITIONS)
        .map(|p| (offsets_topic.clone(), p))
        .collect();
    let ends: Vec<i64> = client
        .list_offsets(&tps, OffsetSpec::Latest, IsolationLevel::ReadCommitted)
        .await
        .into_iter()
        .map(|o| o.result.unwrap())
        .collect();
    // Raw read and modules alternate, three rounds, so that drift in the broker's state (its
    // background work after the write) weighs on both alike. The raw read is tried with each
    // round of fetches split into 1, 4, 8 and 16 concurrent requests; the fastest is the
    // broker's raw rate.
    let mut best_raw = f64::MAX;
    let mut best_split = 0;
    let mut best = f64::MAX;
    for _ in 0..3 {
        let mut kept = Vec::new();
        for split in [1usize, 4, 8, 16] {
            let (secs, read, records) = raw_read(&addr, &offsets_topic, &ends, split).await;
            assert_eq!(read, total);
            println!("  raw read, rounds split into {split:>2} requests: {secs:.3} s");
            if secs < best_raw {
                (best_raw, best_split) = (secs, split);
            }
            kept = records;
        }
        // Processing alone, in memory: decode + storage writes of every record.
        let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
        for p in 0..PARTITIONS {
            let _ = storage.set_broker_offset(&burrow_core::BrokerOffsetEvent {
                cluster: "local".into(),
                topic: topic.clone(),
                partition: p,
                partition_count: PARTITIONS,
                offset: 1000,
                timestamp: 0,
            });
        }
        let processor = consumer::Processor::new(
            &ConsumerSettings {
                name: "bench".into(),
                cluster: "local".into(),
                servers: vec![],
                client: ClientConfig::default(),
                offsets_topic: offsets_topic.clone(),
                start_latest: false,
                backfill_earliest: false,
                resume: Default::default(),
                position_check: Duration::from_secs(10),
                filter: GroupFilter::default(),
            },
            storage,
            IngestMetrics::unregistered(),
            None,
        );
        let tp = Instant::now();
        let mut n = 0;
        for (p, records) in &kept {
            n += processor.process(0, *p, records, None);
        }
        println!(
            "  processing alone (one thread): {n} records in {:.3} s",
            tp.elapsed().as_secs_f64()
        );

        // The modules: from start to every group stored.
        let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
        let metrics = IngestMetrics::unregistered();
        let t = Instant::now();
        let cluster = cluster::start(
            ClusterSettings {
                name: "local".into(),
                servers: vec![addr.clone()],
                client: ClientConfig::default(),
                offset_refresh: Duration::from_secs(10),
                topic_refresh: Duration::from_secs(60),
                groups_reaper_refresh: None,
                reaper_spares: vec![],
                time_lag: None,
            },
            storage.clone(),
            metrics.clone(),
        );
        let consumer = consumer::start(
            ConsumerSettings {
                name: "bench".into(),
                cluster: "local".into(),
                servers: vec![addr.clone()],
                client: ClientConfig::default(),
                offsets_topic: offsets_topic.clone(),
                start_latest: false,
                backfill_earliest: false,
                resume: Default::default(),
                position_check: Duration::from_secs(10),
                filter: GroupFilter::default(),
            },
            storage.clone(),
            metrics.clone(),
            Some(cluster.refresher()),
            cluster.first_round(),
        );
        let mut first = cluster.first_round();
        let _ = first.wait_for(|r| *r).await;
        let first_round = t.elapsed().as_secs_f64();
        let mut ready = consumer.ready();
        let _ = ready.wait_for(|r| *r).await;
        let el = t.elapsed().as_secs_f64();
        println!(
            "  run: cluster first round (metadata + end offsets of every topic) after {first_round:.3} s, all stored after {el:.3} s"
        );
        let groups = storage.fetch_consumers("local").unwrap().len();
        assert_eq!(groups, GROUPS + 1, "every group and burrow-bench");
        best = best.min(el);
        consumer.stop().await;
        cluster.stop().await;
        println!("  round: raw {best_raw:.3} s best so far, modules {best:.3} s best so far");
    }
    println!(
        "raw read (fetch, records split out and counted; best of 3 x 4 splits): {:.3} s with {best_split} requests per round, {:.0} records/s",
        best_raw,
        total as f64 / best_raw
    );

    println!(
        "consumer module, start to every group stored (best of 3): {:.3} s, {:.0} records/s = {:.0} % of the raw read rate",
        best,
        total as f64 / best,
        best_raw / best * 100.0
    );
}

/// One reader fetching every partition of `topic` to `ends`, each round of fetches split into
/// `split` concurrent requests, the records split out of their batches and counted. Returns the
/// time, the records read and what was fetched.
async fn raw_read(
    addr: &str,
    topic: &str,
    ends: &[i64],
    split: usize,
) -> (f64, usize, Vec<(i32, RawRecords)>) {
    let raw = KafkaClient::connect(&[addr.to_string()], ClientConfig::default())
        .await
        .unwrap();
    let mut kept = Vec::new();
    let t = Instant::now();
    let mut pos: Vec<i64> = vec![0; ends.len()];
    let mut read = 0usize;
    let opts = FetchOptions {
        isolation: IsolationLevel::ReadCommitted,
        max_wait: Duration::from_millis(10),
        ..FetchOptions::default()
    };
    loop {
        let wanted: Vec<(i32, i64)> = (0..ends.len())
            .filter(|p| pos[*p] < ends[*p])
            .map(|p| (p as i32, pos[p]))
            .collect();
        if wanted.is_empty() {
            break;
        }
        let mut requests = tokio::task::JoinSet::new();
        for chunk in wanted.chunks(wanted.len().div_ceil(split)) {
            let (raw, topic, chunk) = (raw.clone(), topic.to_string(), chunk.to_vec());
            requests.spawn(async move { raw.fetch_many_raw(&topic, &chunk, opts).await });
        }
        while let Some(answers) = requests.join_next().await {
            for (p, r) in answers.unwrap() {
                let r = r.unwrap();
                let summary = r.records.for_each(|_| ());
                read += summary.records as usize;
                if let Some(n) = summary.next_offset {
                    pos[p as usize] = n;
                }
                kept.push((p, r.records));
            }
        }
    }
    (t.elapsed().as_secs_f64(), read, kept)
}
