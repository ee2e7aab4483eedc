//! `CommitWriter` against one `set_consumer_offset_ref` per commit: the same outcomes and the
//! same stored state for any sequence of commits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use burrow_core::{BrokerOffsetEvent, ConsumerOffsetRef, DeleteGroupEvent};
use burrow_storage::{Outcome, Storage, StorageConfig};
use proptest::prelude::*;

const NOW: i64 = 1_700_000_000_000;

fn storage() -> Storage {
    let s = Storage::new(
        StorageConfig {
            intervals: 3,
            min_distance: 1,
            group_denylist: "^denied".into(),
            ..Default::default()
        },
        ["local"],
    )
    .unwrap();
    // "orders": 4 partitions with offsets; "late": 2 partitions, only partition 0 with an
    // offset; "unknown": no broker offsets at all.
    for (topic, p, count) in [
        ("orders", 0, 4),
        ("orders", 1, 4),
        ("orders", 2, 4),
        ("orders", 3, 4),
    ] {
        let _ = s.set_broker_offset(&BrokerOffsetEvent {
            cluster: "local".into(),
            topic: topic.into(),
            partition: p,
            partition_count: count,
            offset: 1000,
            timestamp: NOW,
        });
    }
    let _ = s.set_broker_offset(&BrokerOffsetEvent {
        cluster: "local".into(),
        topic: "late".into(),
        partition: 0,
        partition_count: 2,
        offset: 50,
        timestamp: NOW,
    });
    s
}

#[derive(Debug, Clone)]
struct Commit {
    group: &'static str,
    topic: &'static str,
    partition: i32,
    offset: i64,
    order: i64,
    age_s: i64,
}

fn commit() -> impl Strategy<Value = Commit> {
    (
        prop::sample::select(vec!["a", "b", "c", "denied-1"]),
        prop::sample::select(vec!["orders", "late", "unknown"]),
        -1i32..6,
        0i64..1200,
        0i64..60,
        prop::sample::select(vec![0i64, 1, 30, 700_000]),
    )
        .prop_map(|(group, topic, partition, offset, order, age_s)| Commit {
            group,
            topic,
            partition,
            offset,
            order,
            age_s,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn same_outcomes_and_state(commits in prop::collection::vec(commit(), 0..80), release_every in 1usize..10) {
        let (one, many) = (storage(), storage());
        let mut writer = many.commit_writer("local").unwrap();
        for (i, c) in commits.iter().enumerate() {
            let e = ConsumerOffsetRef {
                cluster: "local",
                group: c.group,
                topic: c.topic,
                partition: c.partition,
                offset: c.offset,
                order: c.order,
                timestamp: NOW - c.age_s * 1000,
            };
            let expected = one.set_consumer_offset_ref(NOW, e);
            prop_assert_eq!(writer.write(NOW, e), expected, "commit {} {:?}", i, c);
            if i % release_every == 0 {
                writer.release();
            }
        }
        drop(writer);
        let (a, b) = (one.snapshot(NOW), many.snapshot(NOW));
        prop_assert_eq!(a, b);
    }
}

#[test]
fn a_released_writer_lets_the_same_thread_use_storage() {
    let s = storage();
    let mut w = s.commit_writer("local").unwrap();
    let e = ConsumerOffsetRef {
        cluster: "local",
        group: "a",
        topic: "orders",
        partition: 0,
        offset: 10,
        order: 1,
        timestamp: NOW,
    };
    assert_eq!(w.write(NOW, e), Outcome::Applied);
    w.release();
    // Would deadlock on the group's shard if the writer still held it.
    assert!(s
        .delete_group(&DeleteGroupEvent {
            cluster: "local".into(),
            group: "a".into(),
            topic: None,
        })
        .is_applied());
    assert_eq!(
        w.write(NOW, ConsumerOffsetRef { order: 2, ..e }),
        Outcome::Applied
    );
    drop(w);
    assert!(s.fetch_consumer(NOW, "local", "a").is_some());
    assert!(s.commit_writer("nope").is_err());
}
