//! Time from start to verdict of `burrow-cli check` (the real binary) for a group with 100
//! partitions and 10 commits each, whose `__consumer_offsets` partition also holds 200,000
//! records of other groups, half of them in the partition of a second, sparse group (20,000 on tansu, which needs one record per batch: it numbers
//! multi-record batches wrongly). Against the local brokers of `scripts/test-services.sh`.
//!
//! Run: `scripts/test-services.sh start; . .test-services/env; cargo bench -p burrow-cli --bench check`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use burrow_kafka::offsets;
use burrow_kafka::Compression;
use bytes::Bytes;
use common::{now_ms, Kafka};

const PARTITIONS: i32 = 100;
const COMMITS: i64 = 10;
const NOISE: usize = 200_000;
const RUNS: usize = 5;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for (name, var) in [
        ("noida", "BURROW_TEST_NOIDA"),
        ("tansu", "BURROW_TEST_TANSU"),
    ] {
        match std::env::var(var) {
            Ok(addr) => rt.block_on(run(name, &addr)),
            Err(_) => println!("check bench on {name} skipped: {var} not set"),
        }
    }
}

fn commit(
    group: &str,
    topic: &str,
    partition: i32,
    offset: i64,
    ts: i64,
) -> (Option<Bytes>, Option<Bytes>) {
    let (k, v) = offsets::commit_record(group, topic, partition, offset, ts).unwrap();
    (Some(Bytes::from(k)), Some(Bytes::from(v)))
}

async fn run(name: &str, addr: &str) {
    let kafka = Kafka::connect(addr).await;
    let id = format!("{}-{}", std::process::id(), now_ms() % 1_000_000);
    let topic = format!("bench-check-{id}");
    let group = format!("bench-check-group-{id}");
    kafka
        .client
        .create_topic(&topic, PARTITIONS, 1)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    kafka.client.refresh_metadata().await.unwrap();
    // A private offsets topic (named in a config file), so that the shared test brokers'
    // `__consumer_offsets` is not filled with noise.
    let offsets_topic = format!("bench-check-offsets-{id}");
    kafka
        .client
        .create_topic(&offsets_topic, 50, 1)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    kafka.client.refresh_metadata().await.unwrap();
    let config = std::env::temp_dir().join(format!("{offsets_topic}.toml"));
    std::fs::write(
        &config,
        format!(
            "[cluster.local]\nclass-name = \"kafka\"\nservers = [\"{addr}\"]\n\
             [consumer.local]\nclass-name = \"kafka\"\ncluster = \"local\"\nservers = [\"{addr}\"]\n\
             offsets-topic = \"{offsets_topic}\"\n"
        ),
    )
    .unwrap();
    let op = offsets::partition_for_group(&group, 50);
    // A sparse group first: 5 commits per partition, older than all the noise, so that finding
    // its history means reading the whole partition.
    let sparse = format!("{group}-sparse");
    let sparse_op = offsets::partition_for_group(&sparse, 50);
    for c in 0..5 {
        let batch: Vec<_> = (0..PARTITIONS)
            .map(|p| commit(&sparse, &topic, p, c + 1, now_ms()))
            .collect();
        for chunk in batch.chunks(if name.starts_with("tansu") { 1 } else { 1000 }) {
            kafka
                .client
                .produce(&offsets_topic, sparse_op, chunk, Compression::None)
                .await
                .unwrap();
        }
    }
    // Noise: other groups' commits in the same offsets partition (batches of 1,000).
    let t = now_ms();
    let (noise, per_batch) = if name.starts_with("tansu") {
        (NOISE / 10, 1)
    } else {
        (NOISE, 1000)
    };
    for b in 0..noise / per_batch {
        let batch: Vec<_> = (0..per_batch)
            .map(|i| commit(&format!("other-{b}-{i}"), &topic, 0, 1, t))
            .collect();
        let op = if b % 2 == 0 { op } else { sparse_op };
        kafka
            .client
            .produce(&offsets_topic, op, &batch, Compression::None)
            .await
            .unwrap();
    }
    // The group's history: one record per partition and a commit at its end, ten times.
    for c in 0..COMMITS {
        for p in 0..PARTITIONS {
            kafka
                .client
                .produce(
                    &topic,
                    p,
                    &[(None, Some(Bytes::from_static(b"x")))],
                    Compression::None,
                )
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let batch: Vec<_> = (0..PARTITIONS)
            .map(|p| commit(&group, &topic, p, c + 1, now_ms()))
            .collect();
        for chunk in batch.chunks(per_batch) {
            kafka
                .client
                .produce(&offsets_topic, op, chunk, Compression::None)
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for window in ["0", "5"] {
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let start = Instant::now();
            let out = Command::new(env!("CARGO_BIN_EXE_burrow-cli"))
                .args(["check", "--group", &group, "--window", window, "--config"])
                .arg(&config)
                .output()
                .unwrap();
            times.push(start.elapsed());
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains(", 100 partitions,"), "{text}");
        }
        times.sort();
        println!(
            "check on {name}: {PARTITIONS} partitions x {COMMITS} commits, {noise} other records, --window {window}: median {:.3} s, min {:.3} s, max {:.3} s ({RUNS} runs)",
            times[RUNS / 2].as_secs_f64(),
            times[0].as_secs_f64(),
            times[RUNS - 1].as_secs_f64(),
        );
    }
    // The sparse group: its partition read from end to start.
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_burrow-cli"))
        .args(["check", "--group", &sparse, "--window", "0", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    println!(
        "check on {name}: a group with 5 commits per partition behind {} other records: {:.3} s ({})",
        noise / 2,
        start.elapsed().as_secs_f64(),
        text.lines().last().unwrap_or("")
    );
    let _ = std::fs::remove_file(&config);
}
