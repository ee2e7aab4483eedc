//! The client against real brokers (noida-db and tansu, started by scripts/test-services.sh).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use burrow_kafka::offsets::{
    self, GroupMetadataValue, MemberMetadata, OffsetCommitKey, OffsetCommitValue, OffsetsRecord,
};
use burrow_kafka::{
    ClientConfig, Compression, FetchOptions, IsolationLevel, KafkaClient, KafkaError, LogPosition,
    OffsetSpec,
};
use bytes::Bytes;
use common::{brokers, unique, TestBroker};

async fn client(b: &TestBroker) -> KafkaClient {
    let cfg = ClientConfig {
        read_timeout: Duration::from_secs(10),
        dial_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    };
    KafkaClient::connect(std::slice::from_ref(&b.addr), cfg)
        .await
        .unwrap_or_else(|e| panic!("{}: connect: {e}", b.name))
}

fn rec(k: &str, v: &str) -> (Option<Bytes>, Option<Bytes>) {
    (
        Some(Bytes::from(k.to_string())),
        Some(Bytes::from(v.to_string())),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_shows_a_created_topic_with_leaders() {
    for b in brokers() {
        let c = client(&b).await;
        let topic = unique("md");
        c.create_topic(&topic, 3, 1).await.unwrap();
        let md = c.refresh_metadata().await.unwrap();
        assert!(!md.brokers.is_empty(), "{}: no brokers", b.name);
        let t = md
            .topics
            .get(&topic)
            .unwrap_or_else(|| panic!("{}: topic missing", b.name));
        assert_eq!(t.partitions.len(), 3, "{}", b.name);
        assert!(!t.internal);
        for p in 0..3 {
            assert!(
                md.leader(&topic, p).is_some(),
                "{}: no leader for {p}",
                b.name
            );
        }
    }
}

/// A position is checked against the log's start and real end: a multi-record batch (whose end
/// tansu under-reports) leaves the position at its end inside the log; one past the real end
/// is past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_is_checked_against_the_log() {
    for b in brokers() {
        let c = client(&b).await;
        let topic = unique("pos");
        c.create_topic(&topic, 1, 1).await.unwrap();
        let batch: Vec<_> = (0..4).map(|i| rec("k", &i.to_string())).collect();
        c.produce(&topic, 0, &batch, Compression::None)
            .await
            .unwrap();
        c.produce(&topic, 0, &[rec("k", "4")], Compression::None)
            .await
            .unwrap();
        for at in [0, 3, 5] {
            let got = c.check_position(&topic, 0, at).await.unwrap();
            assert_eq!(got, LogPosition::Inside, "{}: position {at}", b.name);
        }
        let got = c.check_position(&topic, 0, 105).await.unwrap();
        assert_eq!(
            got,
            LogPosition::PastEnd {
                log_start: 0,
                log_end: 5
            },
            "{}",
            b.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_offsets_follow_real_produces() {
    for b in brokers() {
        let c = client(&b).await;
        let topic = unique("eo");
        c.create_topic(&topic, 2, 1).await.unwrap();
        // One record per batch: tansu's "latest" is wrong for multi-record batches.
        for i in 0..5 {
            c.produce(&topic, 0, &[rec("k", &i.to_string())], Compression::None)
                .await
                .unwrap();
        }
        for i in 0..3 {
            c.produce(&topic, 1, &[rec("k", &i.to_string())], Compression::None)
                .await
                .unwrap();
        }
        let parts = vec![(topic.clone(), 0), (topic.clone(), 1), (topic.clone(), 7)];
        let latest = c
            .list_offsets(&parts, OffsetSpec::Latest, IsolationLevel::ReadUncommitted)
            .await;
        let get = |os: &[burrow_kafka::PartitionOffset], p: i32| {
            os.iter()
                .find(|o| o.partition == p)
                .map(|o| match &o.result {
                    Ok(v) => Ok(*v),
                    Err(e) => Err(e.to_string()),
                })
        };
        assert_eq!(get(&latest, 0), Some(Ok(5)), "{}", b.name);
        assert_eq!(get(&latest, 1), Some(Ok(3)), "{}", b.name);
        assert!(
            matches!(get(&latest, 7), Some(Err(_))),
            "{}: partition 7 has no leader",
            b.name
        );
        let earliest = c
            .list_offsets(
                &parts[..2],
                OffsetSpec::Earliest,
                IsolationLevel::ReadCommitted,
            )
            .await;
        assert_eq!(get(&earliest, 0), Some(Ok(0)), "{}", b.name);
        assert_eq!(get(&earliest, 1), Some(Ok(0)), "{}", b.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_reads_every_compression() {
    for b in brokers() {
        let c = client(&b).await;
        let topic = unique("fc");
        c.create_topic(&topic, 1, 1).await.unwrap();
        let codecs = [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ];
        let mut expected = Vec::new();
        for (i, codec) in codecs.iter().enumerate() {
            let batch: Vec<_> = (0..4)
                .map(|j| rec(&format!("k{i}{j}"), &format!("value {i} {j} {codec:?}")))
                .collect();
            c.produce(&topic, 0, &batch, *codec)
                .await
                .unwrap_or_else(|e| panic!("{}: {codec:?}: {e}", b.name));
            expected.extend(batch);
        }
        let mut got = Vec::new();
        let mut offset = 0;
        for _ in 0..20 {
            let r = c
                .fetch(&topic, 0, offset, FetchOptions::default())
                .await
                .unwrap();
            got.extend(
                r.read
                    .records
                    .iter()
                    .map(|r| (r.offset, r.key.clone(), r.value.clone())),
            );
            match r.read.next_offset {
                Some(n) => offset = n,
                None => break,
            }
            if got.len() >= expected.len() {
                break;
            }
        }
        assert_eq!(got.len(), expected.len(), "{}", b.name);
        for (i, ((off, k, v), (ek, ev))) in got.iter().zip(&expected).enumerate() {
            assert_eq!(*off, i as i64, "{}", b.name);
            assert_eq!((k, v), (ek, ev), "{}: record {i}", b.name);
        }
    }
}

/// Encoded commits and group metadata written into `__consumer_offsets` come back through Fetch
/// and the decoder, at the partition Kafka would choose for the group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_topic_records_round_trip_through_a_broker() {
    for b in brokers() {
        let c = client(&b).await;
        if !c.metadata().topics.contains_key("__consumer_offsets") {
            c.create_topic("__consumer_offsets", 50, 1).await.unwrap();
        }
        let md = c.refresh_metadata().await.unwrap();
        let n = md.topics["__consumer_offsets"].partitions.len() as i32;
        let group = unique("grp");
        let partition = offsets::partition_for_group(&group, n);
        let start = c
            .list_offsets(
                &[("__consumer_offsets".into(), partition)],
                OffsetSpec::Latest,
                IsolationLevel::ReadUncommitted,
            )
            .await
            .remove(0)
            .result
            .unwrap();

        let mut assignment = Vec::new();
        offsets::encode_assignment(
            &mut assignment,
            &offsets::Assignment {
                version: 1,
                partitions: vec![offsets::TopicPartitions {
                    topic: "orders",
                    partitions: vec![0, 2],
                }],
                user_data: None,
            },
        );
        let mut written = Vec::new();
        for version in 0..=4i16 {
            let (mut k, mut v) = (Vec::new(), Vec::new());
            offsets::encode_offset_commit_key(
                &mut k,
                &OffsetCommitKey {
                    version: 1,
                    group: &group,
                    topic: "orders",
                    partition: 2,
                },
            );
            offsets::encode_offset_commit_value(
                &mut v,
                &OffsetCommitValue {
                    version,
                    offset: 100 + i64::from(version),
                    leader_epoch: if version >= 3 { 5 } else { -1 },
                    metadata: "m",
                    commit_timestamp: 1_700_000_000_000 + i64::from(version),
                    expire_timestamp: -1,
                },
            )
            .unwrap();
            written.push((Some(Bytes::from(k)), Some(Bytes::from(v))));
        }
        let (mut k, mut v) = (Vec::new(), Vec::new());
        offsets::encode_group_metadata_key(&mut k, &group);
        offsets::encode_group_metadata_value(
            &mut v,
            &GroupMetadataValue {
                version: 4,
                protocol_type: "consumer",
                generation: 3,
                protocol: Some("range"),
                leader: Some("m-1"),
                current_state_timestamp: 1_700_000_000_000,
                members: vec![MemberMetadata {
                    member_id: "m-1",
                    group_instance_id: None,
                    client_id: "app",
                    client_host: "/10.0.0.1",
                    rebalance_timeout: 30_000,
                    session_timeout: 10_000,
                    subscription: &[],
                    assignment: &assignment,
                }],
            },
        )
        .unwrap();
        written.push((Some(Bytes::from(k)), Some(Bytes::from(v))));
        // A tombstone for the partition's commit.
        let mut k = Vec::new();
        offsets::encode_offset_commit_key(
            &mut k,
            &OffsetCommitKey {
                version: 1,
                group: &group,
                topic: "orders",
                partition: 2,
            },
        );
        written.push((Some(Bytes::from(k)), None));
        for r in &written {
            c.produce(
                "__consumer_offsets",
                partition,
                std::slice::from_ref(r),
                Compression::None,
            )
            .await
            .unwrap();
        }

        let mut seen = Vec::new();
        let mut offset = start;
        while seen.len() < written.len() {
            let r = c
                .fetch(
                    "__consumer_offsets",
                    partition,
                    offset,
                    FetchOptions::default(),
                )
                .await
                .unwrap();
            let Some(next) = r.read.next_offset else {
                break;
            };
            offset = next;
            seen.extend(r.read.records);
        }
        assert_eq!(seen.len(), written.len(), "{}", b.name);
        for (i, r) in seen.iter().enumerate() {
            let rec =
                offsets::decode_record(r.key.as_deref().unwrap(), r.value.as_deref()).unwrap();
            assert_eq!(rec.group(), group);
            match (i, rec) {
                (
                    0..=4,
                    OffsetsRecord::OffsetCommit {
                        key,
                        value: Some(v),
                    },
                ) => {
                    assert_eq!((key.topic, key.partition), ("orders", 2));
                    assert_eq!(v.version, i as i16);
                    assert_eq!(v.offset, 100 + i as i64);
                    assert_eq!(v.commit_timestamp, 1_700_000_000_000 + i as i64);
                }
                (5, OffsetsRecord::GroupMetadata { value: Some(v), .. }) => {
                    let a = offsets::decode_assignment(v.members[0].assignment).unwrap();
                    assert_eq!(a.partitions[0].partitions, vec![0, 2]);
                    assert_eq!(v.members[0].client_host, "/10.0.0.1");
                }
                (6, OffsetsRecord::OffsetCommit { value: None, .. }) => {}
                (i, other) => panic!("{}: record {i}: {other:?}", b.name),
            }
        }
    }
}

/// A real consumer group (librdkafka through confluent-kafka) seen through ListGroups,
/// DescribeGroups and OffsetFetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_consumer_group_is_listed_described_and_fetched() {
    let Some(python) = common::python() else {
        return;
    };
    for b in brokers() {
        let c = client(&b).await;
        let topic = unique("cg");
        let group = unique("group");
        c.create_topic(&topic, 1, 1).await.unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/group_member.py");
        let mut child = tokio::process::Command::new(&python)
            .args([script, &b.addr, &topic, &group, "6"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
        let line = tokio::time::timeout(Duration::from_secs(90), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{}: group member never became ready", b.name))
            .unwrap();
        assert_eq!(line.as_deref(), Some("ready"), "{}", b.name);

        let groups = c.list_groups().await.unwrap();
        let listed = groups.iter().find(|g| g.group_id == group);
        assert!(listed.is_some(), "{}: {group} not in {groups:?}", b.name);
        assert_eq!(listed.unwrap().protocol_type, "consumer", "{}", b.name);
        // ListGroups v5 (tansu) says the group type; before (noida, v4) it is empty.
        assert!(
            ["classic", ""].contains(&listed.unwrap().group_type.as_str()),
            "{}: {listed:?}",
            b.name
        );

        // ConsumerGroupDescribe (KIP-848) where the broker offers it (tansu offers v0): a
        // classic group is refused for that group alone, or described; never a failed request.
        let coordinator = c.find_coordinator(&group).await.unwrap();
        match c
            .describe_consumer_groups_at(coordinator, std::slice::from_ref(&group))
            .await
        {
            Ok(described) => {
                assert_eq!(described.len(), 1, "{}: {described:?}", b.name);
                if let Ok(d) = &described[0] {
                    assert_eq!(d.group_id, group, "{}", b.name);
                }
            }
            Err(e) => assert!(
                matches!(e, burrow_kafka::KafkaError::UnsupportedApi { .. }),
                "{}: {e}",
                b.name
            ),
        }

        let d = c.describe_group(&group).await.unwrap();
        assert_eq!(d.state, "Stable", "{}", b.name);
        assert_eq!(d.members.len(), 1, "{}", b.name);
        if !b.name.starts_with("tansu") {
            // tansu 0.6 answers DescribeGroups with empty client id, host, protocol and
            // assignment for every member (librdkafka's own describe sees the same).
            assert_eq!(d.members[0].client_id, "burrow-test-member", "{}", b.name);
            assert_eq!(
                d.members[0].assignment.get(&topic),
                Some(&vec![0]),
                "{}: {d:?}",
                b.name
            );
        }

        let fetched = c.offset_fetch(&[&group, "no-such-group-x"]).await;
        let offs = fetched[&group].as_ref().unwrap();
        let p0 = offs
            .iter()
            .find(|o| o.topic == topic && o.partition == 0)
            .unwrap();
        assert_eq!(p0.offset, 6, "{}", b.name);
        drop(child.stdin.take());
        let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    }
}

/// A broker that accepts and never answers: the request times out, the connection is dropped,
/// and the next request does not reuse it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_broker_times_out_and_is_not_reused() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(s);
        }
    });
    let cfg = ClientConfig {
        dial_timeout: Duration::from_millis(300),
        reconnect_backoff: Duration::from_millis(10),
        ..ClientConfig::default()
    };
    let err = KafkaClient::connect(std::slice::from_ref(&addr), cfg.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, KafkaError::NoBrokers { .. }), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    let _ = KafkaClient::connect(&[addr], cfg).await.unwrap_err();
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "each attempt opens a new connection"
    );
}
