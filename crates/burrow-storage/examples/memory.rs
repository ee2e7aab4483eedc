//! Resident memory of storage holding N group partitions with full windows.
//!
//! `cargo run --release -p burrow-storage --example memory -- [GROUP_PARTITIONS] [INTERVALS]`
//! (defaults: 1000000 and 10). Reads VmRSS from /proc (Linux).

#![allow(clippy::unwrap_used)]

use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent};
use burrow_storage::{Storage, StorageConfig, COMMIT_SLOT_BYTES};

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let total: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let intervals: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let partitions = 10i32;
    let groups = total / partitions as usize;
    let now = 1_700_000_000_000i64;
    let storage = Storage::new(
        StorageConfig {
            intervals,
            ..Default::default()
        },
        ["local"],
    )
    .unwrap();
    // 100 topics of 10 partitions; each group consumes one topic.
    for t in 0..100 {
        for p in 0..partitions {
            let _ = storage.set_broker_offset(&BrokerOffsetEvent {
                cluster: "local".into(),
                topic: format!("topic-{t:03}"),
                partition: p,
                partition_count: partitions,
                offset: 1_000_000,
                timestamp: now,
            });
        }
    }
    let before = rss_kib();
    let started = std::time::Instant::now();
    let mut event = ConsumerOffsetEvent {
        cluster: "local".into(),
        group: String::new(),
        topic: String::new(),
        partition: 0,
        offset: 0,
        order: 0,
        timestamp: now,
    };
    for g in 0..groups {
        event.group = format!("consumer-group-{g:08}");
        event.topic = format!("topic-{:03}", g % 100);
        for r in 0..intervals as i64 {
            for p in 0..partitions {
                event.partition = p;
                event.offset = 1000 * r;
                event.order = r * 16 + i64::from(p);
                let _ = storage.set_consumer_offset(now, &event);
            }
        }
    }
    let elapsed = started.elapsed();
    let after = rss_kib();
    let stats = storage.stats();
    let bytes = (after - before) * 1024;
    println!("group partitions: {}", stats.group_partitions);
    println!(
        "stored commits:   {} (intervals = {intervals})",
        stats.commits
    );
    println!("commit slot:      {COMMIT_SLOT_BYTES} bytes");
    println!(
        "resident memory:  {:.1} MiB for the groups ({} MiB total)",
        bytes as f64 / 1048576.0,
        after / 1024
    );
    println!(
        "per partition:    {:.0} bytes (window, owner, map overhead)",
        bytes as f64 / stats.group_partitions as f64
    );
    println!(
        "per commit:       {:.1} bytes all included",
        bytes as f64 / stats.commits as f64
    );
    println!(
        "load time:        {:.2} s ({:.0} commits/s, one thread)",
        elapsed.as_secs_f64(),
        stats.commits as f64 / elapsed.as_secs_f64()
    );
}
