//! One named test per storage rule of the behaviour spec, section 4 (with decisions 4, 7, 8, 12).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use burrow_core::{
    BrokerOffsetEvent, ClearOwnersEvent, ConsumerOffset, ConsumerOffsetEvent, ConsumerOwnerEvent,
    DeleteGroupEvent, DeleteTopicEvent, OffsetTombstoneEvent,
};
use burrow_storage::{DropReason, Outcome, Storage, StorageConfig};

const NOW: i64 = 1_700_000_000_000;
const C: &str = "local";
const T: &str = "orders";
const G: &str = "billing";

fn storage_with(config: StorageConfig) -> Storage {
    Storage::new(config, [C]).unwrap()
}

fn storage(intervals: usize) -> Storage {
    storage_with(StorageConfig {
        intervals,
        ..Default::default()
    })
}

fn broker(s: &Storage, partition: i32, count: i32, offset: i64) -> Outcome {
    s.set_broker_offset(&BrokerOffsetEvent {
        cluster: C.into(),
        topic: T.into(),
        partition,
        partition_count: count,
        offset,
        timestamp: NOW,
    })
}

fn commit_at(
    s: &Storage,
    now: i64,
    group: &str,
    partition: i32,
    offset: i64,
    order: i64,
    ts: i64,
) -> Outcome {
    s.set_consumer_offset(
        now,
        &ConsumerOffsetEvent {
            cluster: C.into(),
            group: group.into(),
            topic: T.into(),
            partition,
            offset,
            order,
            timestamp: ts,
        },
    )
}

fn commit(s: &Storage, partition: i32, offset: i64, order: i64, ts: i64) -> Outcome {
    commit_at(s, NOW, G, partition, offset, order, ts)
}

fn owner(s: &Storage, group: &str, topic: &str, partition: i32, who: &str) -> Outcome {
    s.set_consumer_owner(&ConsumerOwnerEvent {
        cluster: C.into(),
        group: group.into(),
        topic: topic.into(),
        partition,
        owner: who.into(),
        client_id: format!("client-{who}"),
    })
}

fn window(s: &Storage, partition: usize) -> Vec<Option<ConsumerOffset>> {
    s.fetch_consumer(NOW, C, G).unwrap()[T][partition]
        .offsets
        .clone()
}

fn orders(s: &Storage, partition: usize) -> Vec<i64> {
    window(s, partition)
        .iter()
        .flatten()
        .map(|o| o.order)
        .collect()
}

fn lags(s: &Storage, partition: usize) -> Vec<Option<u64>> {
    window(s, partition)
        .iter()
        .flatten()
        .map(|o| o.lag)
        .collect()
}

fn last_commit(s: &Storage) -> i64 {
    s.snapshot(NOW).clusters[C].groups[G].last_commit
}

fn dropped(r: DropReason) -> Outcome {
    Outcome::Dropped(r)
}

#[test]
fn commit_for_unknown_cluster_is_dropped() {
    let s = storage(5);
    let out = s.set_consumer_offset(
        NOW,
        &ConsumerOffsetEvent {
            cluster: "other".into(),
            group: G.into(),
            topic: T.into(),
            partition: 0,
            offset: 1,
            order: 1,
            timestamp: NOW,
        },
    );
    assert_eq!(out, dropped(DropReason::UnknownCluster));
    assert_eq!(s.fetch_consumers("other"), None);
}

#[test]
fn commit_older_than_expire_group_is_dropped() {
    let s = storage_with(StorageConfig {
        expire_group: 60,
        ..Default::default()
    });
    assert!(broker(&s, 0, 1, 100).is_applied());
    // now_s - expire-group, in ms: anything strictly before is "old".
    let limit = (NOW / 1000 - 60) * 1000;
    assert_eq!(
        commit(&s, 0, 1, 1, limit - 1),
        dropped(DropReason::ExpiredCommit)
    );
    assert!(commit(&s, 0, 1, 2, limit).is_applied());
}

#[test]
fn storage_allowlist_and_denylist_filter_groups() {
    let s = storage_with(StorageConfig {
        group_allowlist: "^team-".into(),
        group_denylist: "-test$".into(),
        ..Default::default()
    });
    assert!(broker(&s, 0, 1, 100).is_applied());
    assert_eq!(
        commit_at(&s, NOW, "other", 0, 1, 1, NOW),
        dropped(DropReason::GroupFiltered)
    );
    assert_eq!(
        commit_at(&s, NOW, "team-a-test", 0, 1, 1, NOW),
        dropped(DropReason::GroupFiltered)
    );
    assert!(commit_at(&s, NOW, "team-a", 0, 1, 1, NOW).is_applied());
    assert_eq!(
        owner(&s, "other", T, 0, "/h"),
        dropped(DropReason::GroupFiltered)
    );
    assert_eq!(s.fetch_consumers(C).unwrap(), vec!["team-a"]);
}

#[test]
fn commits_are_dropped_until_the_broker_offset_is_known() {
    let s = storage(5);
    assert_eq!(commit(&s, 0, 1, 1, NOW), dropped(DropReason::UnknownTopic));
    assert!(broker(&s, 0, 2, 100).is_applied());
    assert_eq!(
        commit(&s, -1, 1, 1, NOW),
        dropped(DropReason::NegativePartition)
    );
    assert_eq!(
        commit(&s, 2, 1, 1, NOW),
        dropped(DropReason::UnknownPartition)
    );
    assert_eq!(
        commit(&s, 1, 1, 1, NOW),
        dropped(DropReason::NoBrokerOffset)
    );
    assert_eq!(
        s.fetch_consumers(C).unwrap(),
        Vec::<String>::new(),
        "no group is created by dropped commits"
    );
    assert!(commit(&s, 0, 1, 1, NOW).is_applied());
}

#[test]
fn first_commit_pads_the_topic_to_the_broker_partition_count() {
    let s = storage(4);
    for p in 0..4 {
        assert!(broker(&s, p, 4, 100).is_applied());
    }
    assert!(commit(&s, 2, 90, 1, NOW).is_applied());
    let topics = s.fetch_consumer(NOW, C, G).unwrap();
    let parts = &topics[T];
    assert_eq!(parts.len(), 4);
    for p in [0, 1, 3] {
        assert!(
            parts[p].offsets.is_empty(),
            "padded partition {p} has no window"
        );
        assert_eq!(parts[p].current_lag, 0);
    }
    assert_eq!(
        parts[2].offsets.len(),
        4,
        "a window is always `intervals` long"
    );
    assert_eq!(parts[2].offsets.iter().filter(|o| o.is_none()).count(), 3);
    assert_eq!(parts[2].current_lag, 10);
}

#[test]
fn appended_commit_records_lag_and_last_commit() {
    let s = storage(5);
    assert!(broker(&s, 0, 1, 100).is_applied());
    assert!(commit(&s, 0, 60, 1, NOW - 5000).is_applied());
    assert!(
        commit(&s, 0, 150, 2, NOW - 4000).is_applied(),
        "ahead of the known broker offset"
    );
    assert_eq!(lags(&s, 0), vec![Some(40), Some(0)]);
    assert_eq!(last_commit(&s), NOW - 4000);
}

#[test]
fn observed_at_is_storage_clock_in_whole_seconds() {
    let s = storage(5);
    assert!(broker(&s, 0, 1, 100).is_applied());
    assert!(commit_at(&s, 1_700_000_000_789, G, 0, 60, 1, NOW).is_applied());
    assert_eq!(window(&s, 0)[4].unwrap().observed_at, 1_700_000_000_000);
}

#[test]
fn window_keeps_the_newest_intervals_commits() {
    let s = storage(3);
    assert!(broker(&s, 0, 1, 1000).is_applied());
    for i in 1..=5 {
        assert!(commit(&s, 0, i * 10, i, NOW + i).is_applied());
    }
    assert_eq!(orders(&s, 0), vec![3, 4, 5]);
    assert_eq!(window(&s, 0).len(), 3);
}

#[test]
fn out_of_order_commit_is_inserted_with_null_lag_and_keeps_last_commit() {
    let s = storage(5);
    assert!(broker(&s, 0, 1, 1000).is_applied());
    assert!(commit(&s, 0, 100, 10, NOW - 3000).is_applied());
    assert!(commit(&s, 0, 300, 30, NOW - 1000).is_applied());
    assert!(commit(&s, 0, 200, 20, NOW - 2000).is_applied());
    assert_eq!(orders(&s, 0), vec![10, 20, 30]);
    assert_eq!(lags(&s, 0), vec![Some(900), None, Some(700)]);
    assert_eq!(last_commit(&s), NOW - 1000, "only appends move last_commit");
}

#[test]
fn insert_into_full_window_evicts_the_oldest() {
    let s = storage(3);
    assert!(broker(&s, 0, 1, 1000).is_applied());
    for o in [10, 20, 30] {
        assert!(commit(&s, 0, o, o, NOW).is_applied());
    }
    assert!(commit(&s, 0, 25, 25, NOW).is_applied());
    assert_eq!(orders(&s, 0), vec![20, 25, 30]);
}

#[test]
fn full_window_drops_commits_not_newer_than_its_oldest() {
    let s = storage(3);
    assert!(broker(&s, 0, 1, 1000).is_applied());
    for o in [10, 20, 30] {
        assert!(commit(&s, 0, o, o, NOW).is_applied());
    }
    assert_eq!(
        commit(&s, 0, 5, 5, NOW),
        dropped(DropReason::OlderThanWindow)
    );
    assert_eq!(
        commit(&s, 0, 10, 10, NOW),
        dropped(DropReason::OlderThanWindow)
    );
    assert_eq!(orders(&s, 0), vec![10, 20, 30]);
}

#[test]
fn duplicate_order_is_dropped() {
    let s = storage(5);
    assert!(broker(&s, 0, 1, 1000).is_applied());
    for o in [10, 20, 30] {
        assert!(commit(&s, 0, o, o, NOW).is_applied());
    }
    assert_eq!(
        commit(&s, 0, 99, 20, NOW),
        dropped(DropReason::DuplicateOrder)
    );
    assert_eq!(
        commit(&s, 0, 99, 30, NOW),
        dropped(DropReason::DuplicateOrder)
    );
    assert_eq!(orders(&s, 0), vec![10, 20, 30]);
}

#[test]
fn backfilled_commit_older_than_all_fills_an_empty_slot() {
    let s = storage(4);
    assert!(broker(&s, 0, 1, 1000).is_applied());
    assert!(commit(&s, 0, 300, 30, NOW).is_applied());
    assert!(commit(&s, 0, 100, 10, NOW).is_applied());
    assert_eq!(orders(&s, 0), vec![10, 30]);
    assert_eq!(lags(&s, 0), vec![None, Some(700)]);
    let w = window(&s, 0);
    assert_eq!(
        (w[0], w[1]),
        (None, None),
        "empty slots stay before the oldest commit"
    );
}

#[test]
fn commit_between_oldest_and_second_oldest_of_full_window_replaces_oldest() {
    let s = storage(3);
    assert!(broker(&s, 0, 1, 1000).is_applied());
    for o in [10, 30, 40] {
        assert!(commit(&s, 0, o, o, NOW).is_applied());
    }
    assert!(commit(&s, 0, 20, 20, NOW).is_applied());
    assert_eq!(orders(&s, 0), vec![20, 30, 40]);
    assert_eq!(lags(&s, 0), vec![None, Some(970), Some(960)]);
}

#[test]
fn min_distance_merges_close_commits_into_the_previous_keeping_its_timestamp() {
    let s = storage_with(StorageConfig {
        intervals: 5,
        min_distance: 10,
        ..Default::default()
    });
    assert!(broker(&s, 0, 1, 1000).is_applied());
    assert!(commit(&s, 0, 100, 1, NOW).is_applied());
    assert!(commit(&s, 0, 150, 2, NOW + 9_999).is_applied());
    let w: Vec<ConsumerOffset> = window(&s, 0).into_iter().flatten().collect();
    assert_eq!(w.len(), 1, "merged into the previous slot");
    assert_eq!(
        (w[0].offset, w[0].order, w[0].timestamp, w[0].lag),
        (150, 2, NOW, Some(850))
    );
    assert_eq!(
        last_commit(&s),
        NOW + 9_999,
        "last_commit takes the commit's own timestamp"
    );
    assert!(commit(&s, 0, 200, 3, NOW + 10_000).is_applied());
    assert_eq!(
        orders(&s, 0),
        vec![2, 3],
        "10 s after the kept timestamp is a new slot"
    );
}

#[test]
fn min_distance_zero_still_merges_a_commit_with_an_earlier_timestamp() {
    // Decision 7: Burrow's merge also fires when timestamps go backwards; kept.
    let s = storage(5);
    assert!(broker(&s, 0, 1, 1000).is_applied());
    assert!(commit(&s, 0, 100, 1, NOW).is_applied());
    assert!(commit(&s, 0, 110, 2, NOW - 1).is_applied());
    let w: Vec<ConsumerOffset> = window(&s, 0).into_iter().flatten().collect();
    assert_eq!(w.len(), 1);
    assert_eq!((w[0].offset, w[0].order, w[0].timestamp), (110, 2, NOW));
    assert!(commit(&s, 0, 120, 3, NOW).is_applied());
    assert_eq!(
        orders(&s, 0),
        vec![2, 3],
        "an equal timestamp is not merged"
    );
}

#[test]
fn min_distance_merges_inserted_commit_into_its_predecessor() {
    let s = storage_with(StorageConfig {
        intervals: 5,
        min_distance: 10,
        ..Default::default()
    });
    assert!(broker(&s, 0, 1, 1000).is_applied());
    assert!(commit(&s, 0, 100, 10, NOW).is_applied());
    assert!(commit(&s, 0, 300, 30, NOW + 60_000).is_applied());
    assert!(commit(&s, 0, 120, 20, NOW + 5_000).is_applied());
    let w: Vec<ConsumerOffset> = window(&s, 0).into_iter().flatten().collect();
    assert_eq!(w.iter().map(|o| o.order).collect::<Vec<_>>(), vec![20, 30]);
    assert_eq!((w[0].offset, w[0].timestamp, w[0].lag), (120, NOW, None));
}

#[test]
fn broker_partitions_grow_but_never_shrink_and_keep_intervals_offsets() {
    let s = storage(3);
    assert!(broker(&s, 0, 2, 10).is_applied());
    assert!(broker(&s, 3, 4, 40).is_applied());
    assert!(broker(&s, 0, 1, 11).is_applied());
    assert_eq!(
        s.fetch_topic(C, T).unwrap(),
        vec![Some(11), None, None, Some(40)]
    );
    assert_eq!(broker(&s, 4, 2, 1), dropped(DropReason::UnknownPartition));
    assert_eq!(broker(&s, -1, 2, 1), dropped(DropReason::NegativePartition));
    for o in [12, 13, 14] {
        assert!(broker(&s, 0, 4, o).is_applied());
    }
    assert!(commit(&s, 0, 5, 1, NOW).is_applied());
    let p = &s.fetch_consumer(NOW, C, G).unwrap()[T][0];
    assert_eq!(p.broker_offsets, vec![12, 13, 14]);
}

#[test]
fn current_lag_follows_new_broker_offsets_without_commits() {
    let s = storage(5);
    assert!(broker(&s, 0, 1, 100).is_applied());
    assert!(commit(&s, 0, 100, 1, NOW).is_applied());
    assert_eq!(s.fetch_consumer(NOW, C, G).unwrap()[T][0].current_lag, 0);
    assert!(broker(&s, 0, 1, 250).is_applied());
    assert_eq!(s.fetch_consumer(NOW, C, G).unwrap()[T][0].current_lag, 150);
    assert!(commit(&s, 0, 300, 2, NOW).is_applied());
    assert_eq!(
        s.fetch_consumer(NOW, C, G).unwrap()[T][0].current_lag,
        0,
        "never negative"
    );
}

#[test]
fn owner_update_creates_group_with_empty_window_and_no_last_commit() {
    // Decision 8: owner-only groups exist with last_commit 0 and are purged on first fetch.
    let s = storage(3);
    assert!(broker(&s, 1, 2, 100).is_applied());
    assert!(owner(&s, G, T, 1, "/10.0.0.1").is_applied());
    let snap = s.snapshot(NOW);
    let g = &snap.clusters[C].groups[G];
    assert_eq!(g.last_commit, 0);
    assert_eq!(
        g.topics[T][1].offsets,
        vec![None, None, None],
        "owner creates the window"
    );
    assert_eq!(g.topics[T][1].owner, "/10.0.0.1");
    assert_eq!(g.topics[T][1].client_id, "client-/10.0.0.1");
    assert!(g.topics[T][0].offsets.is_empty(), "padding");
    assert_eq!(s.fetch_consumers_for_topic(C, T).unwrap(), vec![G]);
    assert_eq!(s.fetch_consumer(NOW, C, G), None, "purged on first fetch");
    assert_eq!(s.fetch_consumers(C).unwrap(), Vec::<String>::new());
}

#[test]
fn owner_for_unknown_topic_is_dropped_but_creates_the_group() {
    let s = storage(3);
    assert_eq!(
        owner(&s, G, "nope", 0, "/h"),
        dropped(DropReason::UnknownTopic)
    );
    assert_eq!(s.fetch_consumers(C).unwrap(), vec![G]);
}

#[test]
fn owners_are_overwritten_and_cleared_wholesale() {
    let s = storage(3);
    assert!(broker(&s, 0, 2, 100).is_applied());
    assert!(broker(&s, 1, 2, 100).is_applied());
    assert!(commit(&s, 0, 1, 1, NOW).is_applied());
    assert!(owner(&s, G, T, 0, "/a").is_applied());
    assert!(owner(&s, G, T, 1, "/b").is_applied());
    assert!(owner(&s, G, T, 0, "/c").is_applied());
    let parts = &s.fetch_consumer(NOW, C, G).unwrap()[T];
    assert_eq!(
        (parts[0].owner.as_str(), parts[1].owner.as_str()),
        ("/c", "/b")
    );
    let clear = |group: &str| {
        s.clear_consumer_owners(&ClearOwnersEvent {
            cluster: C.into(),
            group: group.into(),
        })
    };
    assert!(clear(G).is_applied());
    assert_eq!(clear("nope"), dropped(DropReason::UnknownGroup));
    let parts = &s.fetch_consumer(NOW, C, G).unwrap()[T];
    assert!(parts
        .iter()
        .all(|p| p.owner.is_empty() && p.client_id.is_empty()));
    assert_eq!(orders(&s, 0), vec![1], "commits survive");
}

#[test]
fn delete_topic_removes_it_from_groups_and_brokers_but_keeps_empty_groups() {
    let s = storage(3);
    assert!(broker(&s, 0, 1, 100).is_applied());
    assert!(commit(&s, 0, 1, 1, NOW).is_applied());
    assert!(s
        .delete_topic(&DeleteTopicEvent {
            cluster: C.into(),
            topic: T.into(),
        })
        .is_applied());
    assert_eq!(s.fetch_topics(C).unwrap(), Vec::<String>::new());
    assert_eq!(s.fetch_topic(C, T), None);
    assert!(
        s.fetch_consumer(NOW, C, G).unwrap().is_empty(),
        "group kept with no topics"
    );
    assert_eq!(commit(&s, 0, 2, 2, NOW), dropped(DropReason::UnknownTopic));
}

#[test]
fn delete_group_whole_or_one_topic() {
    let s = storage(3);
    assert!(broker(&s, 0, 1, 100).is_applied());
    assert!(s
        .set_broker_offset(&BrokerOffsetEvent {
            cluster: C.into(),
            topic: "payments".into(),
            partition: 0,
            partition_count: 1,
            offset: 100,
            timestamp: NOW,
        })
        .is_applied());
    assert!(commit(&s, 0, 1, 1, NOW).is_applied());
    assert!(s
        .set_consumer_offset(
            NOW,
            &ConsumerOffsetEvent {
                cluster: C.into(),
                group: G.into(),
                topic: "payments".into(),
                partition: 0,
                offset: 1,
                order: 2,
                timestamp: NOW,
            },
        )
        .is_applied());
    let del = |topic: Option<&str>| {
        s.delete_group(&DeleteGroupEvent {
            cluster: C.into(),
            group: G.into(),
            topic: topic.map(Into::into),
        })
    };
    assert!(del(Some("payments")).is_applied());
    assert_eq!(
        s.fetch_consumer(NOW, C, G)
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec![T]
    );
    assert!(del(Some(T)).is_applied());
    assert_eq!(
        s.fetch_consumers(C).unwrap(),
        Vec::<String>::new(),
        "last topic gone: group gone"
    );
    assert!(commit(&s, 0, 1, 3, NOW).is_applied());
    assert!(del(None).is_applied());
    assert_eq!(del(None), dropped(DropReason::UnknownGroup));
    assert_eq!(s.fetch_consumer(NOW, C, G), None);
}

#[test]
fn offset_tombstone_removes_partition_then_topic_then_group() {
    // Decision 4 (a fix: Burrow ignores offset tombstones, linkedin/Burrow#818).
    let s = storage(3);
    for p in 0..2 {
        assert!(broker(&s, p, 2, 100).is_applied());
        assert!(commit(&s, p, 1, 1, NOW).is_applied());
    }
    let tomb = |partition: i32| {
        s.offset_tombstone(&OffsetTombstoneEvent {
            cluster: C.into(),
            group: G.into(),
            topic: T.into(),
            partition,
        })
    };
    assert!(tomb(0).is_applied());
    let parts = &s.fetch_consumer(NOW, C, G).unwrap()[T];
    assert!(parts[0].offsets.is_empty());
    assert_eq!(parts[1].offsets.iter().flatten().count(), 1);
    assert_eq!(tomb(5), dropped(DropReason::NotStored));
    assert!(tomb(1).is_applied());
    assert_eq!(s.fetch_consumers(C).unwrap(), Vec::<String>::new());
    assert_eq!(tomb(1), dropped(DropReason::UnknownGroup));
}

#[test]
fn expired_group_is_purged_when_fetched() {
    let s = storage_with(StorageConfig {
        expire_group: 100,
        ..Default::default()
    });
    assert!(broker(&s, 0, 1, 100).is_applied());
    assert!(commit(&s, 0, 1, 1, NOW).is_applied());
    let later = NOW + 100_000;
    assert!(
        s.fetch_consumer(later, C, G).is_some(),
        "exactly expire-group old is kept"
    );
    let expired = NOW + 101_000;
    assert_eq!(
        s.fetch_consumers(C).unwrap(),
        vec![G],
        "the list does not filter expired groups"
    );
    assert_eq!(s.fetch_consumer(expired, C, G), None);
    assert_eq!(s.fetch_consumers(C).unwrap(), Vec::<String>::new());
}

#[test]
fn purge_expired_sweeps_groups_nobody_fetched() {
    let s = storage_with(StorageConfig {
        expire_group: 100,
        ..Default::default()
    });
    assert!(broker(&s, 0, 1, 100).is_applied());
    assert!(commit_at(&s, NOW, "old", 0, 1, 1, NOW - 50_000).is_applied());
    assert!(commit_at(&s, NOW, "new", 0, 1, 1, NOW).is_applied());
    assert_eq!(
        s.purge_expired(NOW + 60_000),
        vec![(C.to_owned(), "old".to_owned())]
    );
    assert_eq!(s.fetch_consumers(C).unwrap(), vec!["new"]);
}

#[test]
fn fetches_for_unknown_names() {
    let s = storage(3);
    assert_eq!(s.fetch_clusters(), vec![C]);
    assert_eq!(s.fetch_consumers("x"), None);
    assert_eq!(s.fetch_topics("x"), None);
    assert_eq!(s.fetch_topic(C, "x"), None);
    assert_eq!(s.fetch_consumers_for_topic("x", T), None);
    assert_eq!(
        s.fetch_consumers_for_topic(C, "x").unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(s.fetch_consumer(NOW, "x", G), None);
    assert_eq!(s.fetch_consumer(NOW, C, "x"), None);
}

#[test]
fn concurrent_writers_and_readers() {
    let s = storage(10);
    for p in 0..8 {
        assert!(broker(&s, p, 8, 1_000_000).is_applied());
    }
    std::thread::scope(|scope| {
        for t in 0..4i64 {
            let s = &s;
            scope.spawn(move || {
                for i in 0..2000i64 {
                    let group = format!("g{}", i % 50);
                    let p = (i % 8) as i32;
                    let _ = commit_at(s, NOW, &group, p, i, t * 10_000 + i, NOW);
                    if i % 100 == 0 {
                        let _ = s.fetch_consumer(NOW, C, &group);
                    }
                }
            });
        }
    });
    assert_eq!(s.fetch_consumers(C).unwrap().len(), 50);
    let stats = s.stats();
    assert_eq!(stats.group_partitions, 50 * 8);
    assert!(stats.commits <= 50 * 8 * 10);
    for g in s.fetch_consumers(C).unwrap() {
        for p in &s.fetch_consumer(NOW, C, &g).unwrap()[T] {
            let orders: Vec<i64> = p.offsets.iter().flatten().map(|o| o.order).collect();
            assert!(orders.windows(2).all(|w| w[0] < w[1]), "{orders:?}");
        }
    }
}

/// One cluster read from both sources (`kafka` and `kafka_admin`): per window, the offsets
/// topic wins over the polls of the group APIs.
#[test]
fn a_window_of_topic_commits_drops_poll_entries() {
    let s = storage(5);
    assert!(broker(&s, 0, 1, 1000).is_applied());
    assert!(commit(&s, 0, 100, 7, NOW - 2000).is_applied());
    let poll = burrow_core::POLL_ORDERS + NOW - 1000;
    assert_eq!(
        commit(&s, 0, 150, poll, NOW - 1000),
        dropped(DropReason::OtherSource)
    );
    assert!(commit(&s, 0, 200, 8, NOW - 500).is_applied());
    assert_eq!(orders(&s, 0), vec![7, 8]);
}

#[test]
fn the_first_topic_commit_replaces_a_window_of_poll_entries() {
    let s = storage(5);
    assert!(broker(&s, 0, 2, 1000).is_applied());
    assert!(broker(&s, 1, 2, 1000).is_applied());
    let poll = |t: i64| burrow_core::POLL_ORDERS + t;
    for (i, t) in [NOW - 3000, NOW - 2000].into_iter().enumerate() {
        assert!(commit(&s, 0, 100 + i as i64, poll(t), t).is_applied());
        assert!(commit(&s, 1, 100 + i as i64, poll(t), t).is_applied());
    }
    assert!(commit(&s, 0, 90, 42, NOW - 1000).is_applied());
    assert_eq!(orders(&s, 0), vec![42], "the poll entries are gone");
    assert_eq!(
        commit(&s, 0, 150, poll(NOW - 500), NOW - 500),
        dropped(DropReason::OtherSource)
    );
    // Per window: the partition the topic has not written yet keeps its polls.
    assert_eq!(orders(&s, 1), vec![poll(NOW - 3000), poll(NOW - 2000)]);
    assert!(commit(&s, 1, 102, poll(NOW - 500), NOW - 500).is_applied());
}
