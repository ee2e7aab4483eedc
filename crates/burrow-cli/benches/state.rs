//! Saving and loading the state file (`[general] state-file`) of a storage holding 10,000
//! groups × 10 partitions with full 10-commit windows (1,000,000 commits): how long a save takes
//! (snapshot + JSON + sync + rename), the file's size, and how long a restart takes to restore it.
//!
//! Run: `cargo bench -p burrow-cli --bench state` (no brokers needed).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use burrow_cli::state::{Readers, StateFile};
use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent};
use burrow_storage::{Storage, StorageConfig};

const GROUPS: usize = 10_000;
const PARTITIONS: i32 = 10;
const COMMITS: i64 = 10;
const RUNS: usize = 3;

fn filled() -> Storage {
    let storage = Storage::new(StorageConfig::default(), ["local"]).unwrap();
    let now = burrow_core::now_ms();
    for t in 0..100 {
        for p in 0..PARTITIONS {
            let _ = storage.set_broker_offset(&BrokerOffsetEvent {
                cluster: "local".into(),
                topic: format!("topic-{t}"),
                partition: p,
                partition_count: PARTITIONS,
                offset: 1_000_000,
                timestamp: now,
            });
        }
    }
    let mut order = 0;
    for g in 0..GROUPS {
        for p in 0..PARTITIONS {
            for c in 0..COMMITS {
                order += 1;
                let _ = storage.set_consumer_offset(
                    now,
                    &ConsumerOffsetEvent {
                        cluster: "local".into(),
                        group: format!("group-{g}"),
                        topic: format!("topic-{}", g % 100),
                        partition: p,
                        offset: 1000 + c * 100,
                        order,
                        timestamp: now - (COMMITS - c) * 60_000,
                    },
                );
            }
        }
    }
    storage
}

/// Resident and peak resident memory of this process (MiB), from /proc.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (kib("VmRSS:"), kib("VmHWM:"))
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("burrow-state-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    let storage = filled();
    let state = StateFile::new(&path, &prometheus::Registry::new()).unwrap();
    let readers = Readers::from([(
        "local".to_string(),
        (0..50).map(|p| (p, 1_000_000i64)).collect(),
    )]);
    let (rss_before, _) = memory();
    let mut saves = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        state
            .save(
                &storage,
                readers.clone(),
                &burrow_notify::SavedIncidents::new(),
            )
            .unwrap();
        saves.push(t.elapsed().as_secs_f64());
    }
    let size = std::fs::metadata(&path).unwrap().len();
    let (_, peak) = memory();
    let mut loads = Vec::new();
    for _ in 0..RUNS {
        let fresh = Storage::new(StorageConfig::default(), ["local"]).unwrap();
        let t = Instant::now();
        let got = state.load(&fresh);
        loads.push(t.elapsed().as_secs_f64());
        assert_eq!(got.readers, readers);
        assert_eq!(fresh.stats().groups, GROUPS);
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
    println!(
        "resident memory with the storage filled: {rss_before:.0} MiB; peak while saving: {peak:.0} MiB (+{:.0} MiB)",
        peak - rss_before
    );
    println!(
        "state file, {GROUPS} groups x {PARTITIONS} partitions x {COMMITS} commits: {:.1} MB; save {:.3} s (best of {RUNS}: {saves:.3?}); load {:.3} s (best of {RUNS}: {loads:.3?})",
        size as f64 / 1e6,
        best(&saves),
        best(&loads),
    );
    let _ = std::fs::remove_dir_all(&dir);
}
