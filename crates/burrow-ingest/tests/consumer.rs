//! The consumer module on real brokers: where it starts (`start-latest`, `backfill-earliest`),
//! readiness only once the backlog is stored, commits written after start, several commits
//! of one group in one batch (as the group coordinator writes a commit request), and going on
//! from saved positions (warm restart).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use burrow_ingest::cluster;
use burrow_ingest::consumer::{self, ConsumerSettings};
use burrow_ingest::IngestMetrics;
use burrow_kafka::offsets;
use burrow_kafka::{ClientConfig, Compression, IsolationLevel, KafkaClient, OffsetSpec};
use burrow_storage::{GroupFilter, Storage, StorageConfig};
use burrow_testkit::brokers;

mod common;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_modes_backfill_readiness_and_live_commits() {
    for (name, addr) in brokers() {
        let one_batch = !name.starts_with("tansu");
        let client = KafkaClient::connect(std::slice::from_ref(&addr), ClientConfig::default())
            .await
            .unwrap();
        let id = format!("{}-{name}", std::process::id());
        let offsets_topic = format!("offsets-{id}");
        let topic = format!("orders-{id}");
        client
            .create_topic(&offsets_topic, OFFSETS_PARTITIONS, 1)
            .await
            .unwrap();
        client
            .create_topic(&topic, TOPIC_PARTITIONS, 1)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        client.refresh_metadata().await.unwrap();
        for p in 0..TOPIC_PARTITIONS {
            for _ in 0..3 {
                client
                    .produce(
                        &topic,
                        p,
                        &[(None, Some(Bytes::from_static(b"x")))],
                        Compression::None,
                    )
                    .await
                    .unwrap();
            }
        }
        // The backlog: five groups, two commits each.
        for g in 0..5 {
            for offset in [1, 2] {
                commit_all(
                    &client,
                    &offsets_topic,
                    &format!("old-{g}"),
                    &topic,
                    offset,
                    one_batch,
                )
                .await;
            }
        }

        // Records in the offsets topic before each case starts.
        let mut backlog = 5 * 2 * TOPIC_PARTITIONS as u64;
        let mut saved = BTreeMap::new();
        // (start-latest, backfill-earliest, whether the backlog is read)
        for (start_latest, backfill, reads_backlog) in [
            (false, false, true),
            (true, false, false),
            (true, true, true),
        ] {
            let case = format!("{name}: start-latest {start_latest}, backfill {backfill}");
            let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
            let metrics = IngestMetrics::unregistered();
            let cluster = cluster::start(cluster_settings(&addr), storage.clone(), metrics.clone());
            let mut first = cluster.first_round();
            first.wait_for(|r| *r).await.unwrap();
            // The consumer lists the partitions' ends at once, then waits for this gate (in the
            // server, the cluster's first round): commits written meanwhile lie beyond where a
            // backfill stops, and must be read once, by the live reader.
            let (gate, gate_rx) = tokio::sync::watch::channel(false);
            let consumer = consumer::start(
                ConsumerSettings {
                    name: "test".into(),
                    cluster: "local".into(),
                    servers: vec![addr.clone()],
                    client: ClientConfig::default(),
                    offsets_topic: offsets_topic.clone(),
                    start_latest,
                    backfill_earliest: backfill,
                    resume: Default::default(),
                    position_check: Duration::from_secs(10),
                    filter: GroupFilter::default(),
                },
                storage.clone(),
                metrics.clone(),
                Some(cluster.refresher()),
                gate_rx,
            );
            let mut listed = consumer.listed();
            tokio::time::timeout(Duration::from_secs(30), listed.wait_for(|l| *l))
                .await
                .unwrap_or_else(|_| panic!("{case}: the ends were never listed"))
                .unwrap();
            let between = format!("between-{start_latest}-{backfill}");
            commit_all(&client, &offsets_topic, &between, &topic, 4, one_batch).await;
            gate.send(true).unwrap();
            let mut ready = consumer.ready();
            tokio::time::timeout(Duration::from_secs(20), ready.wait_for(|r| *r))
                .await
                .unwrap_or_else(|_| panic!("{case}: never ready"))
                .unwrap();
            // Ready means the backlog is stored, not merely fetched.
            for g in 0..5 {
                let got = stored(&storage, &format!("old-{g}"), &topic);
                if reads_backlog {
                    assert_eq!(
                        got,
                        Some(vec![2; TOPIC_PARTITIONS as usize]),
                        "{case}: old-{g}"
                    );
                } else {
                    assert_eq!(got, None, "{case}: old-{g} was before the start");
                }
            }
            // Commits made after start arrive, whatever the start mode.
            let group = format!("new-{start_latest}-{backfill}");
            commit_all(&client, &offsets_topic, &group, &topic, 3, one_batch).await;
            wait_for(&format!("{case}: {group}"), || {
                stored(&storage, &group, &topic) == Some(vec![3; TOPIC_PARTITIONS as usize])
            })
            .await;
            // Every record read once: a backfill stops where its partition ended at start,
            // where the live reader began.
            let read = metrics.records_read.with_label_values(&["test"]).get();
            assert_eq!(
                stored(&storage, &between, &topic),
                Some(vec![4; TOPIC_PARTITIONS as usize]),
                "{case}: {between}"
            );
            let new = 2 * TOPIC_PARTITIONS as u64;
            let expected = if reads_backlog { backlog + new } else { new };
            assert_eq!(read, expected, "{case}: records read once each");
            backlog += new;
            saved = consumer.positions();
            consumer.stop().await;
            cluster.stop().await;
        }

        // Warm restart: the last module's positions are each partition's end (everything read
        // is stored), and a module resumed there reads only what was written since.
        let tps: Vec<(String, i32)> = (0..OFFSETS_PARTITIONS)
            .map(|p| (offsets_topic.clone(), p))
            .collect();
        let ends = |client: KafkaClient, tps: Vec<(String, i32)>| async move {
            client
                .list_offsets(&tps, OffsetSpec::Latest, IsolationLevel::ReadCommitted)
                .await
                .into_iter()
                .map(|o| (o.partition, o.result.unwrap()))
                .filter(|(_, end)| *end > 0)
                .collect::<BTreeMap<i32, i64>>()
        };
        let at_stop = ends(client.clone(), tps.clone()).await;
        assert_eq!(saved, at_stop, "{name}: positions at stop");
        commit_all(&client, &offsets_topic, "after-stop", &topic, 5, one_batch).await;
        // A saved position the log does not hold (a recreated topic): that partition is read
        // from its start.
        let odd = offsets::partition_for_group("old-0", OFFSETS_PARTITIONS);
        let mut resume = saved.clone();
        resume.insert(odd, 1_000_000);
        let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
        let metrics = IngestMetrics::unregistered();
        let cluster = cluster::start(cluster_settings(&addr), storage.clone(), metrics.clone());
        let consumer = consumer::start(
            ConsumerSettings {
                name: "test".into(),
                cluster: "local".into(),
                servers: vec![addr.clone()],
                client: ClientConfig::default(),
                offsets_topic: offsets_topic.clone(),
                // Ignored for partitions with a saved position.
                start_latest: true,
                backfill_earliest: true,
                resume,
                position_check: Duration::from_secs(10),
                filter: GroupFilter::default(),
            },
            storage.clone(),
            metrics.clone(),
            Some(cluster.refresher()),
            cluster.first_round(),
        );
        let mut ready = consumer.ready();
        tokio::time::timeout(Duration::from_secs(20), ready.wait_for(|r| *r))
            .await
            .unwrap_or_else(|_| panic!("{name}: resumed module never ready"))
            .unwrap();
        assert_eq!(
            stored(&storage, "after-stop", &topic),
            Some(vec![5; TOPIC_PARTITIONS as usize]),
            "{name}: written while stopped"
        );
        // The re-read partition from its start, and the records written since (wherever).
        let expected = at_stop[&odd] + TOPIC_PARTITIONS as i64;
        assert_eq!(
            metrics.records_read.with_label_values(&["test"]).get() as i64,
            expected,
            "{name}: what was written since, and the partition whose position was not in the log"
        );
        for g in 0..5 {
            let group = format!("old-{g}");
            let read_again = offsets::partition_for_group(&group, OFFSETS_PARTITIONS) == odd;
            assert_eq!(
                stored(&storage, &group, &topic).is_some(),
                read_again,
                "{name}: {group} is before the saved position unless in the re-read partition"
            );
        }
        let now_at = ends(client.clone(), tps).await;
        assert_eq!(consumer.positions(), now_at, "{name}: positions after");
        consumer.stop().await;
        cluster.stop().await;
    }
}

/// Kafka 4's consumer group protocol (KIP-848): a member's metadata (type 5) and current
/// assignment (type 8, partitions by topic id) written into the offsets topic make it the
/// owner of those partitions, its topic named through the metadata; the assignment's tombstone
/// clears it. On brokers whose metadata carries topic ids (tansu; noida answers nil ids).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kip848_members_own_their_assigned_partitions() {
    for (name, addr) in brokers() {
        let client = KafkaClient::connect(std::slice::from_ref(&addr), ClientConfig::default())
            .await
            .unwrap();
        let id = format!("{}-{name}", std::process::id());
        let offsets_topic = format!("offsets848-{id}");
        let topic = format!("orders848-{id}");
        client
            .create_topic(&offsets_topic, OFFSETS_PARTITIONS, 1)
            .await
            .unwrap();
        client
            .create_topic(&topic, TOPIC_PARTITIONS, 1)
            .await
            .unwrap();
        let md = client.refresh_metadata().await.unwrap();
        let Some(topic_id) = md.topics[&topic].id else {
            eprintln!("{name}: no topic ids in its metadata; skipped");
            continue;
        };
        for p in 0..TOPIC_PARTITIONS {
            client
                .produce(
                    &topic,
                    p,
                    &[(None, Some(Bytes::from_static(b"x")))],
                    Compression::None,
                )
                .await
                .unwrap();
        }
        let group = format!("kip848-{id}");
        // A commit, so that the group exists in storage (owners of an unknown group are dropped).
        commit_all(&client, &offsets_topic, &group, &topic, 1, false).await;
        let key = offsets::MemberKey {
            group: &group,
            member: "member-1",
        };
        let (mut k5, mut v5, mut k8, mut v8) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        offsets::encode_member_key(&mut k5, 5, &key);
        offsets::encode_member_metadata_value(
            &mut v5,
            &offsets::MemberMetadataValue {
                version: 0,
                instance_id: None,
                rack_id: None,
                client_id: "kip848-client",
                client_host: "/10.8.4.8",
                subscribed_topics: vec![&topic],
                subscribed_regex: None,
                rebalance_timeout_ms: 30_000,
                server_assignor: Some("uniform"),
            },
        );
        offsets::encode_member_key(&mut k8, 8, &key);
        offsets::encode_member_assignment_value(
            &mut v8,
            &offsets::MemberAssignmentValue {
                version: 0,
                member_epoch: 3,
                previous_member_epoch: 2,
                state: 0,
                assigned: vec![offsets::TopicIdPartitions {
                    topic_id,
                    partitions: vec![0, 2],
                }],
                pending_revocation: vec![],
            },
        );
        let p = offsets::partition_for_group(&group, OFFSETS_PARTITIONS);
        let write = |k: Vec<u8>, v: Option<Vec<u8>>| {
            let client = client.clone();
            let offsets_topic = offsets_topic.clone();
            async move {
                client
                    .produce(
                        &offsets_topic,
                        p,
                        &[(Some(Bytes::from(k)), v.map(Bytes::from))],
                        Compression::None,
                    )
                    .await
                    .unwrap();
            }
        };
        write(k5, Some(v5)).await;
        write(k8.clone(), Some(v8)).await;

        let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
        let metrics = IngestMetrics::unregistered();
        let cluster = cluster::start(cluster_settings(&addr), storage.clone(), metrics.clone());
        let consumer = consumer::start(
            ConsumerSettings {
                name: "kip848".into(),
                cluster: "local".into(),
                servers: vec![addr.clone()],
                client: ClientConfig::default(),
                offsets_topic: offsets_topic.clone(),
                start_latest: false,
                backfill_earliest: false,
                resume: Default::default(),
                position_check: Duration::from_secs(10),
                filter: GroupFilter::default(),
            },
            storage.clone(),
            metrics.clone(),
            Some(cluster.refresher()),
            cluster.first_round(),
        );
        let owners = |storage: &Storage| -> Vec<(String, String)> {
            storage
                .fetch_consumer(burrow_core::now_ms(), "local", &group)
                .and_then(|t| t.get(&topic).cloned())
                .map(|parts| {
                    parts
                        .iter()
                        .map(|p| (p.owner.clone(), p.client_id.clone()))
                        .collect()
                })
                .unwrap_or_default()
        };
        let owned = |o: &[(String, String)], p: usize| {
            o.get(p)
                .is_some_and(|(h, c)| h == "/10.8.4.8" && c == "kip848-client")
        };
        wait_for(&format!("{name}: KIP-848 owners"), || {
            let o = owners(&storage);
            owned(&o, 0) && owned(&o, 2) && !owned(&o, 1)
        })
        .await;
        // The assignment removed: the member owns nothing any more.
        write(k8, None).await;
        wait_for(&format!("{name}: KIP-848 owners cleared"), || {
            owners(&storage).iter().all(|(h, _)| h.is_empty())
        })
        .await;
        consumer.stop().await;
        cluster.stop().await;
    }
}
