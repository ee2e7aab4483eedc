//! The evaluator rules of the behaviour spec, section 5, one named test each, plus Burrow's own
//! rule vectors (`caching_test.go`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use burrow_core::{ConsumerOffset, ConsumerPartition, ConsumerTopics, Status};
use burrow_eval::rules::*;
use burrow_eval::{evaluate_group, evaluate_partition, EvaluatorConfig};

/// A window entry (offset, order, timestamp ms, lag).
fn c(offset: i64, order: i64, timestamp: i64, lag: Option<u64>) -> Option<ConsumerOffset> {
    Some(ConsumerOffset {
        offset,
        order,
        timestamp,
        observed_at: timestamp,
        lag,
    })
}

struct Vector {
    window: Vec<Option<ConsumerOffset>>,
    broker: Vec<i64>,
    current_lag: u64,
    now_s: i64,
    always_not_zero: bool,
    rewind: bool,
    stopped: bool,
    stalled: bool,
    not_decreasing: bool,
    recent_zero: bool,
    status: Status,
}

fn five(offsets: [i64; 5], lags: [u64; 5]) -> Vec<Option<ConsumerOffset>> {
    (0..5)
        .map(|i| {
            c(
                offsets[i],
                i as i64 + 1,
                (i as i64 + 1) * 100_000,
                Some(lags[i]),
            )
        })
        .collect()
}

fn busy_window() -> Vec<Option<ConsumerOffset>> {
    (0..15)
        .map(|i| {
            c(
                792_748_079 + i,
                i + 1,
                1_512_224_618_356 + i * 1002,
                Some(0),
            )
        })
        .collect()
}

fn vectors() -> Vec<Vector> {
    let v = |window, broker: &[i64], current_lag, now_s, flags: [bool; 6], status| Vector {
        window,
        broker: broker.to_vec(),
        current_lag,
        now_s,
        always_not_zero: flags[0],
        rewind: flags[1],
        stopped: flags[2],
        stalled: flags[3],
        not_decreasing: flags[4],
        recent_zero: flags[5],
        status,
    };
    let (t, f) = (true, false);
    vec![
        // 0: zero lag somewhere -> OK
        v(
            five([1000, 2000, 3000, 4000, 5000], [0, 50, 100, 150, 200]),
            &[5200],
            200,
            600,
            [f, f, f, f, t, f],
            Status::Ok,
        ),
        // 1: time since last commit (400 s) equals the span: not stopped
        v(
            five([1000, 2000, 3000, 4000, 5000], [0, 50, 100, 150, 200]),
            &[5200],
            200,
            900,
            [f, f, f, f, t, f],
            Status::Ok,
        ),
        // 2: 500 s since the last commit: STOP even though the window has a zero lag (#290)
        v(
            five([1000, 2000, 3000, 4000, 5000], [0, 50, 100, 150, 200]),
            &[5200],
            200,
            1000,
            [f, f, t, f, t, f],
            Status::Stop,
        ),
        // 3: STOP with lag always non-zero
        v(
            five([1000, 2000, 3000, 4000, 5000], [50, 100, 150, 200, 250]),
            &[5250],
            250,
            1000,
            [t, f, t, f, t, f],
            Status::Stop,
        ),
        // 4: stalled offsets but a zero lag in the window -> OK
        v(
            five([1000; 5], [0, 50, 100, 150, 200]),
            &[1200],
            200,
            600,
            [f, f, f, t, t, f],
            Status::Ok,
        ),
        // 5: STALL with lag always non-zero
        v(
            five([1000; 5], [100, 150, 200, 250, 300]),
            &[1300],
            300,
            600,
            [t, f, f, t, t, f],
            Status::Stall,
        ),
        // 6: STALL when the lag stays the same
        v(
            five([1000; 5], [100; 5]),
            &[1100],
            100,
            600,
            [t, f, f, t, t, f],
            Status::Stall,
        ),
        // 7: offsets go back (3000 -> 2000) and then pass 3000 again: Burrow >= 1.3.7 (PR #716) no
        //    longer reports this recovered rewind; the lag decreased, so OK. (Burrow's old vector
        //    expected REWIND here.)
        v(
            five([1000, 2000, 3000, 2000, 4000], [100, 150, 200, 1250, 300]),
            &[4300],
            300,
            600,
            [t, t, f, f, f, f],
            Status::Ok,
        ),
        // 8: current lag 0 -> OK whatever the window says
        v(
            five([1000, 2000, 3000, 4000, 5000], [50, 100, 150, 200, 250]),
            &[5250],
            0,
            1000,
            [t, f, t, f, t, f],
            Status::Ok,
        ),
        // 9: STOP by timestamps with zero lag everywhere in the window, new data since (#290)
        v(
            busy_window(),
            &[
                792_749_024,
                792_749_000,
                792_748_800,
                792_748_600,
                792_748_500,
            ],
            931,
            1_512_224_650,
            [f, f, t, f, t, f],
            Status::Stop,
        ),
        // 10: would be STOP, but a recent broker offset shows the consumer caught up (#303)
        v(
            busy_window(),
            &[792_748_094, 792_748_093, 792_748_093, 792_748_093],
            1,
            1_512_224_650,
            [f, f, t, f, t, t],
            Status::Ok,
        ),
        // 11: test 0 with null lags between: same results
        v(
            (0..10)
                .map(|i| {
                    c(
                        1000 + i * 500,
                        10 + i * 5,
                        100_000 + i * 50_000,
                        (i % 2 == 0).then_some(i as u64 * 25),
                    )
                })
                .collect(),
            &[5700],
            200,
            600,
            [f, f, f, f, t, f],
            Status::Ok,
        ),
    ]
}

#[test]
fn burrow_rule_vectors() {
    for (i, v) in vectors().iter().enumerate() {
        assert_eq!(
            lag_always_not_zero(&v.window, 0),
            v.always_not_zero,
            "vector {i}: lag_always_not_zero"
        );
        assert_eq!(
            rewind_index(&v.window).is_some(),
            v.rewind,
            "vector {i}: rewind_index"
        );
        assert_eq!(
            offsets_stopped(&v.window, v.now_s),
            v.stopped,
            "vector {i}: offsets_stopped"
        );
        assert_eq!(
            offsets_stalled(&v.window),
            v.stalled,
            "vector {i}: offsets_stalled"
        );
        assert_eq!(
            lag_not_decreasing(&v.window),
            v.not_decreasing,
            "vector {i}: lag_not_decreasing"
        );
        assert_eq!(
            recent_lag_zero(&v.window, &v.broker),
            v.recent_zero,
            "vector {i}: recent_lag_zero"
        );
        assert_eq!(
            partition_status(&v.window, &v.broker, v.current_lag, v.now_s, 0),
            v.status,
            "vector {i}: status"
        );
    }
}

#[test]
fn rewind_not_recovered_is_rewind() {
    let w = five([1000, 2000, 3000, 2000, 2500], [100, 150, 200, 1250, 1000]);
    assert_eq!(rewind_index(&w), Some(3));
    assert!(!rewind_recovered(&w, 3));
    assert_eq!(partition_status(&w, &[3500], 1000, 600, 0), Status::Rewind);
}

#[test]
fn rewind_recovered_when_a_later_commit_reaches_the_pre_rewind_offset() {
    let w = five([1000, 2000, 3000, 2000, 3000], [100, 150, 200, 1250, 300]);
    assert!(rewind_recovered(&w, 3), "reaching the same offset counts");
    assert!(rewind_recovered(&w, 0), "no rewind at index 0");
}

#[test]
fn rewind_is_checked_even_with_zero_lag_in_the_window() {
    let w = five([1000, 2000, 3000, 500, 600], [0, 0, 0, 2600, 2500]);
    assert_eq!(partition_status(&w, &[3100], 2500, 600, 0), Status::Rewind);
}

#[test]
fn stop_takes_precedence_over_rewind() {
    let w = five([1000, 2000, 3000, 500, 600], [10, 10, 10, 2600, 2500]);
    assert_eq!(partition_status(&w, &[3100], 2500, 5000, 0), Status::Stop);
}

#[test]
fn stall_takes_precedence_over_warn() {
    let w = five([1000; 5], [100, 200, 300, 400, 500]);
    assert_eq!(partition_status(&w, &[1500], 500, 600, 0), Status::Stall);
}

#[test]
fn warn_when_lag_never_decreases() {
    let w = five([1000, 2000, 3000, 4000, 5000], [100, 100, 150, 150, 200]);
    assert_eq!(partition_status(&w, &[5200], 200, 600, 0), Status::Warn);
    let w = five([1000, 2000, 3000, 4000, 5000], [100, 120, 110, 150, 200]);
    assert_eq!(
        partition_status(&w, &[5200], 200, 600, 0),
        Status::Ok,
        "one decrease is enough"
    );
}

#[test]
fn single_commit_window_with_lag_is_stop_after_a_second() {
    // Decision 10: the window span is 0, so any time after the commit exceeds it.
    let w = vec![None, None, c(100, 1, 1_000_000, Some(5))];
    assert_eq!(
        partition_status(&w, &[105], 5, 1000, 0),
        Status::Stall,
        "same second: not stopped, one offset is a stall"
    );
    assert_eq!(partition_status(&w, &[105], 5, 1001, 0), Status::Stop);
}

#[test]
fn allowed_lag_counts_small_lags_as_zero() {
    // Transactional producers leave a lag of 1 (the commit marker) forever (#570).
    let w = five([1000, 2000, 3000, 4000, 5000], [1, 1, 1, 1, 1]);
    assert_eq!(partition_status(&w, &[5001], 1, 10_000, 0), Status::Stop);
    assert_eq!(
        partition_status(&w, &[5001], 1, 10_000, 1),
        Status::Ok,
        "current lag within allowed-lag"
    );
    let w = five([1000, 2000, 3000, 4000, 5000], [1, 30, 40, 50, 60]);
    assert_eq!(partition_status(&w, &[5060], 60, 600, 0), Status::Warn);
    assert_eq!(
        partition_status(&w, &[5060], 60, 600, 1),
        Status::Ok,
        "a lag of 1 in the window counts as zero"
    );
    assert!(lag_always_not_zero(&w, 0));
    assert!(!lag_always_not_zero(&w, 1));
}

#[test]
fn null_lags_are_skipped_by_zero_lag_and_decrease_checks() {
    let w = vec![
        c(1, 1, 1000, None),
        c(2, 2, 2000, Some(50)),
        c(3, 3, 3000, None),
        c(4, 4, 4000, Some(60)),
    ];
    assert!(lag_always_not_zero(&w, 0));
    assert!(lag_not_decreasing(&w));
    let all_null = vec![c(1, 1, 1000, None), c(1, 2, 2000, None)];
    assert!(lag_always_not_zero(&all_null, 0));
    assert!(lag_not_decreasing(&all_null));
}

fn partition(
    window: Vec<Option<ConsumerOffset>>,
    current_lag: u64,
    broker: &[i64],
) -> ConsumerPartition {
    ConsumerPartition {
        offsets: window,
        current_lag,
        broker_offsets: broker.to_vec(),
        ..Default::default()
    }
}

#[test]
fn padded_partition_is_ok_and_incomplete() {
    let p = evaluate_partition(&partition(vec![], 7, &[]), 600, &EvaluatorConfig::default());
    assert_eq!(
        (p.status, p.complete, p.start, p.end, p.current_lag),
        (Status::Ok, 0.0, None, None, 7)
    );
}

#[test]
fn leading_empty_slots_make_the_window_incomplete() {
    let mut w = vec![None, None];
    w.extend(
        five([1000, 2000, 3000, 4000, 5000], [100, 100, 150, 150, 200])
            .into_iter()
            .take(3),
    );
    let p = evaluate_partition(
        &partition(w.clone(), 200, &[3200]),
        400,
        &EvaluatorConfig::default(),
    );
    assert_eq!(p.complete, 0.6);
    assert_eq!(p.start, w[2]);
    assert_eq!(p.end, w[4]);
    assert_eq!(p.status, Status::Warn);
}

#[test]
fn all_empty_window_is_one_slot_complete() {
    // Decision 9: Burrow keeps the last (empty) slot, so complete = 1/intervals.
    let p = evaluate_partition(
        &partition(vec![None; 10], 0, &[]),
        600,
        &EvaluatorConfig::default(),
    );
    assert_eq!(
        (p.status, p.complete, p.start, p.end),
        (Status::Ok, 0.1, None, None)
    );
}

#[test]
fn minimum_complete_skips_rules_for_incomplete_windows() {
    let w = vec![
        None,
        None,
        None,
        c(100, 1, 100_000, Some(5)),
        c(100, 2, 200_000, Some(10)),
    ];
    let config = EvaluatorConfig {
        minimum_complete: 0.5,
        ..Default::default()
    };
    let p = evaluate_partition(&partition(w.clone(), 10, &[110]), 250, &config);
    assert_eq!((p.status, p.complete), (Status::Ok, 0.4));
    let p = evaluate_partition(&partition(w, 10, &[110]), 250, &EvaluatorConfig::default());
    assert_eq!(p.status, Status::Stall);
}

fn topics(parts: Vec<(&str, Vec<ConsumerPartition>)>) -> ConsumerTopics {
    parts.into_iter().map(|(t, p)| (t.to_owned(), p)).collect()
}

#[test]
fn group_status_is_worst_partition_capped_at_err() {
    let stop = partition(
        five([1000, 2000, 3000, 4000, 5000], [50, 100, 150, 200, 250]),
        250,
        &[5250],
    );
    let warn = partition(
        five([1000, 2000, 3000, 4000, 5000], [100, 100, 150, 150, 200]),
        200,
        &[5200],
    );
    let ok = partition(
        five([1000, 2000, 3000, 4000, 5000], [0, 0, 0, 0, 0]),
        0,
        &[5000],
    );
    let cfg = EvaluatorConfig::default();
    let g = evaluate_group(
        "c",
        "g",
        &topics(vec![("a", vec![ok.clone(), warn.clone()])]),
        600,
        &cfg,
    );
    assert_eq!(g.status, Status::Warn);
    let g = evaluate_group(
        "c",
        "g",
        &topics(vec![("a", vec![warn, stop, ok])]),
        1000,
        &cfg,
    );
    assert_eq!(g.status, Status::Error);
    assert_eq!(g.partitions[1].status, Status::Stop);
    assert_eq!(g.partition_count, 3);
    assert_eq!(g.totallag, 450);
}

#[test]
fn maxlag_is_the_first_partition_with_the_largest_lag() {
    let p = |lag| partition(five([1000, 2000, 3000, 4000, 5000], [0; 5]), lag, &[5000]);
    let g = evaluate_group(
        "c",
        "g",
        &topics(vec![("b", vec![p(5), p(9)]), ("a", vec![p(9), p(1)])]),
        600,
        &EvaluatorConfig::default(),
    );
    let maxlag = g.maxlag.unwrap();
    assert_eq!(
        (maxlag.topic.as_str(), maxlag.partition, maxlag.current_lag),
        ("a", 0, 9)
    );
    let zero = evaluate_group(
        "c",
        "g",
        &topics(vec![("a", vec![p(0), p(0)])]),
        600,
        &EvaluatorConfig::default(),
    );
    assert_eq!(
        zero.maxlag.unwrap().partition,
        0,
        "a maxlag exists whenever there are partitions"
    );
}

#[test]
fn group_complete_is_fraction_of_complete_partitions() {
    let full = partition(five([1000, 2000, 3000, 4000, 5000], [0; 5]), 0, &[5000]);
    let g = evaluate_group(
        "c",
        "g",
        &topics(vec![(
            "a",
            vec![
                full.clone(),
                partition(vec![], 0, &[]),
                full,
                partition(vec![None, c(1, 1, 1, Some(0))], 0, &[]),
            ],
        )]),
        600,
        &EvaluatorConfig::default(),
    );
    assert_eq!(g.complete, 0.5);
}

#[test]
fn group_without_partitions_is_ok_and_zero_complete() {
    // Burrow's TestCachingEvaluator_TopicDeleted: a group whose topics were all deleted.
    let g = evaluate_group(
        "c",
        "g",
        &ConsumerTopics::new(),
        600,
        &EvaluatorConfig::default(),
    );
    assert_eq!(
        (g.status, g.complete, g.partition_count, g.maxlag.is_none()),
        (Status::Ok, 0.0, 0, true)
    );
}

#[test]
fn partition_fields_are_copied_from_storage() {
    let mut p = partition(vec![], 0, &[]);
    p.owner = "/10.1.2.3".into();
    p.client_id = "consumer-1".into();
    let g = evaluate_group(
        "c",
        "g",
        &topics(vec![("orders", vec![partition(vec![], 0, &[]), p])]),
        600,
        &EvaluatorConfig::default(),
    );
    let q = &g.partitions[1];
    assert_eq!(
        (
            q.topic.as_str(),
            q.partition,
            q.owner.as_str(),
            q.client_id.as_str()
        ),
        ("orders", 1, "/10.1.2.3", "consumer-1")
    );
}

#[test]
fn config_validation_names_the_key() {
    let bad = EvaluatorConfig {
        minimum_complete: 1.5,
        ..Default::default()
    };
    let e = bad.validate("evaluator.default").unwrap_err().to_string();
    assert!(e.starts_with("evaluator.default.minimum-complete"), "{e}");
    let bad = EvaluatorConfig {
        class_name: "x".into(),
        ..Default::default()
    };
    assert!(bad
        .validate("evaluator.e")
        .unwrap_err()
        .to_string()
        .contains("evaluator.e.class-name"));
}
