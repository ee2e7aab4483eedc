//! One poll round of the `kafka_admin` module on a local broker: `BENCH_GROUPS` groups (default
//! 10,000) × 10 partitions committed with OffsetCommit, then rounds of ListGroups, OffsetFetch
//! and DescribeGroups (batched per coordinator) turned into storage writes. Prints wall time, CPU
//! seconds of this process (the broker's own CPU is not counted), requests per round and RSS.
//!
//!   BURROW_BENCH_BROKER=127.0.0.1:9092 BENCH_GROUPS=10000 cargo bench -p burrow-ingest --bench group_poll
//!
//! (`BURROW_TEST_NOIDA` from `scripts/test-services.sh` is used when `BURROW_BENCH_BROKER` is not
//! set; without either, it says so and exits.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use burrow_ingest::group_api::{self, PollState, StoredOffsets};
use burrow_kafka::{ClientConfig, KafkaClient};
use burrow_storage::{GroupFilter, Storage, StorageConfig};

const PARTITIONS: i32 = 10;
const TOPIC: &str = "bench-group-poll";

/// CPU seconds (user + system) of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, a)| a);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/self/stat (11 and 12 after the name).
    (ticks(11) + ticks(12)) / 100.0
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    // `cargo test` and nextest run bench targets as tests (nextest lists them first with
    // `--list`): this benchmark runs only under `cargo bench`, which passes `--bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Some(broker) = std::env::var("BURROW_BENCH_BROKER")
        .or_else(|_| std::env::var("BURROW_TEST_NOIDA"))
        .ok()
    else {
        eprintln!("group_poll: set BURROW_BENCH_BROKER (or start scripts/test-services.sh)");
        return;
    };
    let groups: usize = std::env::var("BENCH_GROUPS")
        .ok()
        .and_then(|g| g.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(broker, groups));
}

async fn run(broker: String, groups: usize) {
    let client = KafkaClient::connect(std::slice::from_ref(&broker), ClientConfig::default())
        .await
        .unwrap();
    client.create_topic(TOPIC, PARTITIONS, 1).await.unwrap();
    let prefix = format!("bench-{}", std::process::id());
    let t = Instant::now();
    let mut tasks: tokio::task::JoinSet<burrow_kafka::Result<()>> = tokio::task::JoinSet::new();
    let offsets: Vec<(i32, i64)> = (0..PARTITIONS).map(|p| (p, 1)).collect();
    for g in 0..groups {
        while tasks.len() >= 64 {
            tasks.join_next().await.unwrap().unwrap().unwrap();
        }
        let (client, group, offsets) = (client.clone(), format!("{prefix}-{g}"), offsets.clone());
        tasks.spawn(async move { client.commit_offsets(&group, TOPIC, &offsets).await });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    eprintln!(
        "group_poll: {groups} groups × {PARTITIONS} partitions committed in {:?}",
        t.elapsed()
    );

    if std::env::var_os("BENCH_PROBE").is_some() {
        let listed = client.list_groups().await.unwrap();
        let mine: Vec<String> = listed
            .iter()
            .filter(|g| g.group_id.starts_with(&prefix))
            .map(|g| g.group_id.clone())
            .collect();
        let coord = listed[0].coordinator;
        for n in [10, 100, 500] {
            let t = Instant::now();
            let r = client.offset_fetch_at(coord, &mine[..n]).await;
            eprintln!(
                "OffsetFetch {n}: {:?} ok={}",
                t.elapsed(),
                r.map(|m| m.values().filter(|v| v.is_ok()).count())
                    .unwrap_or(0)
            );
            let t = Instant::now();
            let r = client.describe_groups_at(coord, &mine[..n]).await;
            eprintln!(
                "DescribeGroups {n}: {:?} ok={}",
                t.elapsed(),
                r.map(|v| v.iter().filter(|d| d.is_ok()).count())
                    .unwrap_or(0)
            );
        }
    }
    let storage = Arc::new(Storage::new(StorageConfig::default(), ["bench"]).unwrap());
    for partition in 0..PARTITIONS {
        let _ = storage.set_broker_offset(&burrow_core::BrokerOffsetEvent {
            cluster: "bench".into(),
            topic: TOPIC.into(),
            partition,
            partition_count: PARTITIONS,
            offset: 10,
            timestamp: burrow_core::now_ms(),
        });
    }
    let filter = GroupFilter::new(&format!("^{prefix}-"), "", "bench").unwrap();
    let mut state = PollState::default();
    let brokers = client.metadata().brokers.len();
    for round in 1..=3 {
        let (wall, cpu, rss) = (Instant::now(), cpu_seconds(), rss_mib());
        let polled = group_api::poll(&client, &filter).await.unwrap();
        let fetched = wall.elapsed();
        let now = burrow_core::now_ms();
        let events = state.events("bench", now, &polled, &|_| StoredOffsets::new());
        let mut dropped = 0;
        for e in &events {
            if !matches!(storage.apply(now, e), burrow_storage::Outcome::Applied) {
                dropped += 1;
            }
        }
        let coordinators: std::collections::BTreeSet<i32> = client
            .list_groups()
            .await
            .unwrap()
            .iter()
            .map(|g| g.coordinator)
            .collect();
        let chunks = polled.groups.len().div_ceil(500).max(coordinators.len());
        println!(
            "group_poll round {round}: {} groups, {} events ({dropped} dropped), \
             {:.3} s wall ({:.3} s in the group APIs), {:.2} CPU s, requests {} (ListGroups {brokers}, OffsetFetch {chunks}, DescribeGroups {chunks}), RSS {:.1} → {:.1} MiB",
            polled.groups.len(),
            events.len(),
            wall.elapsed().as_secs_f64(),
            fetched.as_secs_f64(),
            cpu_seconds() - cpu,
            brokers + 2 * chunks,
            rss,
            rss_mib()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
