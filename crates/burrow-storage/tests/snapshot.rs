//! Snapshot export and import.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent, ConsumerOwnerEvent};
use burrow_storage::{Snapshot, SnapshotOffset, Storage, StorageConfig, StorageError};

const NOW: i64 = 1_700_000_000_000;

fn populated(intervals: usize) -> Storage {
    let s = Storage::new(
        StorageConfig {
            intervals,
            ..Default::default()
        },
        ["local", "other"],
    )
    .unwrap();
    for p in 0..3 {
        let _ = s.set_broker_offset(&BrokerOffsetEvent {
            cluster: "local".into(),
            topic: "orders".into(),
            partition: p,
            partition_count: 3,
            offset: 1000 + i64::from(p),
            timestamp: NOW,
        });
    }
    for i in 0..6 {
        assert!(
            s.set_consumer_offset(
                NOW,
                &ConsumerOffsetEvent {
                    cluster: "local".into(),
                    group: "g1".into(),
                    topic: "orders".into(),
                    partition: 1,
                    offset: 900 + i * 10,
                    order: 100 - i * 3 + if i % 2 == 0 { 50 } else { 0 },
                    timestamp: NOW - 60_000 + i * 1000,
                },
            )
            .is_applied()
                || i > 0
        );
    }
    let _ = s.set_consumer_owner(&ConsumerOwnerEvent {
        cluster: "local".into(),
        group: "g1".into(),
        topic: "orders".into(),
        partition: 1,
        owner: "/10.0.0.1".into(),
        client_id: "c-1".into(),
    });
    s
}

#[test]
fn snapshot_round_trips_through_json() {
    let s = populated(4);
    let snap = s.snapshot(NOW);
    let json = serde_json::to_string_pretty(&snap).unwrap();
    let back: Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, snap);
    let (restored, report) = Storage::from_snapshot(
        StorageConfig {
            intervals: 4,
            ..Default::default()
        },
        &back,
    )
    .unwrap();
    assert_eq!(report.groups, 1);
    assert_eq!(report.clusters, 2);
    assert_eq!(restored.snapshot(NOW), snap);
    assert_eq!(
        restored.fetch_consumer(NOW, "local", "g1"),
        s.fetch_consumer(NOW, "local", "g1"),
        "current lag and broker history derive the same"
    );
}

#[test]
fn the_streaming_view_writes_what_the_snapshot_would() {
    let s = populated(4);
    // More of what a state holds: a second group and topic, padded partitions, a group known
    // only from its owners, and groups whose names sort differently from their insertion.
    for (group, topic, partition) in [("b-group", "orders", 2), ("a-group", "payments", 0)] {
        let _ = s.set_broker_offset(&BrokerOffsetEvent {
            cluster: "local".into(),
            topic: topic.into(),
            partition,
            partition_count: 3,
            offset: 50,
            timestamp: NOW,
        });
        let _ = s.set_consumer_offset(
            NOW,
            &ConsumerOffsetEvent {
                cluster: "local".into(),
                group: group.into(),
                topic: topic.into(),
                partition,
                offset: 40,
                order: 7,
                timestamp: NOW - 1000,
            },
        );
    }
    let _ = s.set_consumer_owner(&ConsumerOwnerEvent {
        cluster: "local".into(),
        group: "owners-only".into(),
        topic: "orders".into(),
        partition: 0,
        owner: "/10.0.0.2".into(),
        client_id: "c-2".into(),
    });
    let notifiers = serde_json::json!({"local": {"g1": {"id": "i-1", "start": 5}}});
    for (readers, notifiers) in [
        (std::collections::BTreeMap::new(), None),
        (
            std::collections::BTreeMap::from([(
                "local".to_string(),
                std::collections::BTreeMap::from([(0, 12), (7, 3)]),
            )]),
            Some(&notifiers),
        ),
    ] {
        let mut snap = s.snapshot(NOW);
        snap.readers = readers.clone();
        snap.notifiers = notifiers.cloned();
        let json = serde_json::to_string(&s.snapshot_view(NOW, &readers, notifiers)).unwrap();
        assert_eq!(json, serde_json::to_string(&snap).unwrap());
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, snap);
    }
}

#[test]
fn snapshot_json_shape() {
    let s = populated(2);
    let v = serde_json::to_value(s.snapshot(NOW)).unwrap();
    assert_eq!(v["format"], 1);
    assert_eq!(v["taken_at"], NOW);
    assert_eq!(v["intervals"], 2);
    assert_eq!(
        v["clusters"]["local"]["topics"]["orders"][0][0]["offset"],
        1000
    );
    let g = &v["clusters"]["local"]["groups"]["g1"];
    assert!(g["last_commit"].is_i64());
    let parts = g["topics"]["orders"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0]["offsets"], serde_json::json!([]));
    let window = parts[1]["offsets"].as_array().unwrap();
    assert_eq!(window.len(), 2);
    let keys: Vec<&String> = window[1].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 5);
    for k in ["offset", "order", "timestamp", "observedAt", "lag"] {
        assert!(window[1].get(k).is_some(), "{k}");
    }
    assert_eq!(parts[1]["owner"], "/10.0.0.1");
    assert_eq!(parts[1]["client_id"], "c-1");
    assert!(v["clusters"]["other"]["groups"]
        .as_object()
        .unwrap()
        .is_empty());
}

#[test]
fn restore_into_smaller_window_keeps_newest_commits() {
    let snap = populated(6).snapshot(NOW);
    let (small, report) = Storage::from_snapshot(
        StorageConfig {
            intervals: 2,
            ..Default::default()
        },
        &snap,
    )
    .unwrap();
    assert!(report.trimmed_windows > 0);
    let big: Vec<i64> = snap.clusters["local"].groups["g1"].topics["orders"][1]
        .offsets
        .iter()
        .flatten()
        .map(|o| o.order)
        .collect();
    let kept: Vec<i64> = small.fetch_consumer(NOW, "local", "g1").unwrap()["orders"][1]
        .offsets
        .iter()
        .flatten()
        .map(|o| o.order)
        .collect();
    assert_eq!(kept, big[big.len() - 2..]);
}

#[test]
fn restore_skips_unknown_clusters_and_filtered_groups() {
    let snap = populated(3).snapshot(NOW);
    let target = Storage::new(
        StorageConfig {
            intervals: 3,
            group_denylist: "^g1$".into(),
            ..Default::default()
        },
        ["local"],
    )
    .unwrap();
    let report = target.restore(&snap).unwrap();
    assert_eq!(report.skipped_clusters, vec!["other".to_owned()]);
    assert_eq!(report.filtered_groups, 1);
    assert_eq!(
        target.fetch_consumers("local").unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(target.fetch_topics("local").unwrap(), vec!["orders"]);
}

/// The window of local/g1/orders[1] in a snapshot.
fn window_of(snap: &mut Snapshot) -> &mut Vec<Option<SnapshotOffset>> {
    &mut snap
        .clusters
        .get_mut("local")
        .unwrap()
        .groups
        .get_mut("g1")
        .unwrap()
        .topics
        .get_mut("orders")
        .unwrap()[1]
        .offsets
}

#[test]
fn invalid_snapshots_are_rejected_without_touching_storage() {
    let s = populated(3);
    let good = s.snapshot(NOW);

    let mut bad_format = good.clone();
    bad_format.format = 2;
    assert!(matches!(
        s.restore(&bad_format),
        Err(StorageError::UnsupportedSnapshotFormat(2))
    ));

    let mut hole = good.clone();
    let window = window_of(&mut hole);
    let last = window.len() - 1;
    window[last] = None;
    let err = s.restore(&hole).unwrap_err().to_string();
    assert!(
        err.contains("clusters.local.groups.g1.topics.orders[1].offsets[2]"),
        "{err}"
    );

    let mut unordered = good.clone();
    let window = window_of(&mut unordered);
    window.swap(1, 2);
    assert!(s
        .restore(&unordered)
        .unwrap_err()
        .to_string()
        .contains("orders must increase"));

    // Every rejected restore left storage as it was.
    assert_eq!(s.snapshot(NOW), good);
}

#[test]
fn hand_written_snapshot_with_short_windows_is_accepted() {
    let json = r#"{"format":1,"taken_at":1700000000000,"intervals":10,"clusters":{"local":{
        "topics":{"t":[[{"offset":10,"timestamp":1},{"offset":20,"timestamp":2}]]},
        "groups":{"g":{"last_commit":1700000000000,"topics":{"t":[
          {"offsets":[{"offset":5,"order":1,"timestamp":1,"observedAt":1,"lag":5},
                      {"offset":8,"order":2,"timestamp":2,"observedAt":2,"lag":null}]}]}}}}}}"#;
    let snap: Snapshot = serde_json::from_str(json).unwrap();
    let (s, _) = Storage::from_snapshot(StorageConfig::default(), &snap).unwrap();
    let p = &s.fetch_consumer(NOW, "local", "g").unwrap()["t"][0];
    assert_eq!(p.offsets.len(), 10);
    assert_eq!(p.current_lag, 12);
    assert_eq!(p.broker_offsets, vec![10, 20]);
    assert_eq!(p.offsets[9].unwrap().lag, None);
}
