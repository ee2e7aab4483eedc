//! The same consumer seen through the two sources: `kafka` (every commit, with its time and its
//! record offset as order) and `kafka_admin` (the committed offset at each poll, through
//! [`PollState`]). For each scenario both windows are evaluated with Burrow's rules and the
//! verdicts compared; where they differ, the difference is the one docs/differences.md states.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent, Status, StorageEvent};
use burrow_eval::{CachingEvaluator, EvaluatorConfig};
use burrow_ingest::group_api::{self, PollState, Polled, PolledGroup, StoredOffsets};
use burrow_kafka::{CommittedOffset, MemberDescription};
use burrow_storage::{Storage, StorageConfig};

const T0: i64 = 1_700_000_000_000;
const TOPIC: &str = "orders";

/// A consumer's life, second by second: the end offset and the committed offset at each second,
/// whether it commits that second, and whether it is still a member.
struct Scenario {
    name: &'static str,
    seconds: i64,
    end: fn(i64) -> i64,
    committed: fn(i64) -> i64,
    commits_at: fn(i64) -> bool,
    member: fn(i64) -> bool,
}

fn storage() -> Storage {
    Storage::new(StorageConfig::default(), ["c"]).unwrap()
}

fn broker(storage: &Storage, at: i64, end: i64) {
    let _ = storage.set_broker_offset(&BrokerOffsetEvent {
        cluster: "c".into(),
        topic: TOPIC.into(),
        partition: 0,
        partition_count: 1,
        offset: end,
        timestamp: at,
    });
}

fn verdict(storage: &Storage, now: i64) -> Status {
    let evaluator = CachingEvaluator::new(storage, EvaluatorConfig::default()).unwrap();
    evaluator.evaluate(now, "c", "g", true).partitions[0].status
}

/// The `kafka` module: every commit, ordered by its (record) offset in the offsets topic.
#[derive(Default)]
struct TopicFeed {
    record: i64,
}

impl TopicFeed {
    fn second(&mut self, storage: &Storage, s: &Scenario, sec: i64) {
        if !(s.commits_at)(sec) {
            return;
        }
        let at = T0 + sec * 1000;
        self.record += 1;
        let commit = StorageEvent::ConsumerOffset(ConsumerOffsetEvent {
            cluster: "c".into(),
            group: "g".into(),
            topic: TOPIC.into(),
            partition: 0,
            offset: (s.committed)(sec),
            order: self.record,
            timestamp: at,
        });
        let _ = storage.apply(at, &commit);
    }
}

/// The `kafka_admin` module: a poll every `poll` seconds, each delay drawn between 0.8 and 1.2
/// times it as the module does ([`group_api::jittered`]), or exactly `poll` with `jitter` off.
struct PollFeed {
    state: PollState,
    next_poll: i64,
    seed: u64,
    poll: i64,
    jitter: bool,
}

impl PollFeed {
    fn new(poll: i64, jitter: bool) -> Self {
        PollFeed {
            state: PollState::default(),
            next_poll: 3,
            seed: 0x2545_f491_4f6c_dd1d_u64,
            poll,
            jitter,
        }
    }

    fn second(&mut self, storage: &Storage, s: &Scenario, sec: i64) {
        if sec != self.next_poll {
            return;
        }
        let at = T0 + sec * 1000;
        let every = std::time::Duration::from_secs(self.poll as u64);
        let delay = if self.jitter {
            self.seed = self
                .seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            group_api::jittered(every, self.seed)
        } else {
            every
        };
        self.next_poll += delay.as_secs_f64().round().max(1.0) as i64;
        let members = if (s.member)(sec) {
            vec![MemberDescription {
                member_id: "m".into(),
                client_id: "c".into(),
                client_host: "/10.0.0.1".into(),
                assignment: [(TOPIC.to_string(), vec![0])].into(),
            }]
        } else {
            vec![]
        };
        let polled = Polled {
            groups: vec![PolledGroup {
                group: "g".into(),
                offsets: Some(vec![CommittedOffset {
                    topic: TOPIC.into(),
                    partition: 0,
                    offset: (s.committed)(sec),
                    metadata: String::new(),
                }]),
                members: Some(members),
            }],
            complete: true,
        };
        for e in self
            .state
            .events("c", at, &polled, &|_| StoredOffsets::new())
        {
            let _ = storage.apply(at, &e);
        }
    }
}

/// Runs `s` second by second into a new storage: the broker's end offset, then the commits of
/// the `kafka` module from second `topic_from` on (if any), and the polls of a `kafka_admin`
/// module (if any).
fn run(s: &Scenario, topic_from: Option<i64>, mut polls: Option<PollFeed>) -> Storage {
    let storage = storage();
    let mut topic = TopicFeed::default();
    for sec in 0..=s.seconds {
        broker(&storage, T0 + sec * 1000, (s.end)(sec));
        if topic_from.is_some_and(|from| sec >= from) {
            topic.second(&storage, s, sec);
        }
        if let Some(p) = &mut polls {
            p.second(&storage, s, sec);
        }
    }
    storage
}

/// Through `kafka` alone.
fn through_offsets_topic(s: &Scenario) -> Status {
    verdict(&run(s, Some(0), None), T0 + s.seconds * 1000)
}

/// Through `kafka_admin` alone.
fn through_group_apis(s: &Scenario, poll: i64, jitter: bool) -> Status {
    verdict(
        &run(s, None, Some(PollFeed::new(poll, jitter))),
        T0 + s.seconds * 1000,
    )
}

fn every_5s(sec: i64) -> bool {
    sec % 5 == 0
}

fn always(_: i64) -> bool {
    true
}

fn scenarios() -> Vec<(Scenario, Status)> {
    vec![
        (
            Scenario {
                name: "keeps up",
                seconds: 120,
                end: |s| 10 * s,
                committed: |s| 10 * s - 10 * (s % 5),
                commits_at: every_5s,
                member: always,
            },
            Status::Ok,
        ),
        (
            Scenario {
                name: "falls behind",
                seconds: 120,
                end: |s| 20 * s,
                committed: |s| 10 * (s - s % 5),
                commits_at: every_5s,
                member: always,
            },
            Status::Warn,
        ),
        (
            Scenario {
                name: "commits without advancing",
                seconds: 120,
                end: |s| 10 * s,
                committed: |_| 100,
                commits_at: every_5s,
                member: always,
            },
            Status::Stall,
        ),
        (
            Scenario {
                name: "stops with lag and leaves",
                seconds: 240,
                end: |s| 10 * s,
                committed: |s| 10 * (s.min(60) - s.min(60) % 5),
                commits_at: |s| s <= 60 && s % 5 == 0,
                member: |s| s <= 60,
            },
            Status::Stop,
        ),
        (
            Scenario {
                name: "goes back",
                seconds: 120,
                end: |s| 10 * s,
                committed: |s| if s < 100 { 10 * (s - s % 5) } else { 50 },
                commits_at: every_5s,
                member: always,
            },
            Status::Rewind,
        ),
    ]
}

#[test]
fn both_sources_reach_the_same_verdicts() {
    for (scenario, expected) in scenarios() {
        let kafka = through_offsets_topic(&scenario);
        assert_eq!(kafka, expected, "{} through kafka", scenario.name);
        for poll in [5, 7, 10] {
            let admin = through_group_apis(&scenario, poll, true);
            assert_eq!(
                admin, expected,
                "{} through kafka_admin polling every {poll} s (jittered)",
                scenario.name
            );
        }
    }
}

/// Why polls are jittered: a consumer that commits in step with the polls (every 5 s, polled
/// every 5 or 10 s) shows the same lag at every poll, which Burrow's rules read as a lag that
/// never decreases (WARN), where its commits show it caught up (OK).
#[test]
fn polls_in_step_with_the_commits_would_warn_a_consumer_that_keeps_up() {
    let (keeps_up, _) = scenarios().remove(0);
    assert_eq!(through_offsets_topic(&keeps_up), Status::Ok);
    assert_eq!(through_group_apis(&keeps_up, 10, false), Status::Warn);
    assert_eq!(through_group_apis(&keeps_up, 10, true), Status::Ok);
}

/// One cluster read by both modules: the offsets topic wins. The `kafka` module's commits arrive
/// from second `from` on (as when it is still reading its backlog while the polls have begun):
/// from its first commit the window holds the topic's commits only, and the verdicts are those
/// of the topic alone.
#[test]
fn with_both_sources_the_offsets_topic_wins() {
    for (scenario, expected) in scenarios() {
        for from in [0, 30] {
            let storage = run(&scenario, Some(from), Some(PollFeed::new(5, true)));
            let end = T0 + scenario.seconds * 1000;
            assert_eq!(
                verdict(&storage, end),
                expected,
                "{}: both sources, the topic from second {from}",
                scenario.name
            );
            let window = storage.fetch_consumer(end, "c", "g").unwrap()[TOPIC][0]
                .offsets
                .clone();
            assert!(
                window
                    .iter()
                    .flatten()
                    .all(|o| !burrow_core::is_poll_order(o.order)),
                "{}: a poll entry is left in the window",
                scenario.name
            );
        }
    }
}

/// Before the `kafka` module's first commit for a group, the polls feed it.
#[test]
fn with_both_sources_the_polls_feed_a_group_the_topic_has_not_shown() {
    let (falls_behind, expected) = scenarios().remove(1);
    let storage = run(&falls_behind, None, Some(PollFeed::new(5, true)));
    assert_eq!(verdict(&storage, T0 + 120_000), expected);
}
