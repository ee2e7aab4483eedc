//! `burrow-cli dump-offsets` against real brokers: records written into `__consumer_offsets`
//! come out as JSON lines, undecodable ones with an error naming the field; a follower whose
//! log went backwards reads it again from its start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::brokers;

use std::process::Command;
use std::time::Duration;

use burrow_kafka::offsets::{self, OffsetCommitKey, OffsetCommitValue, RecordType};
use burrow_kafka::{ClientConfig, Compression, IsolationLevel, KafkaClient, OffsetSpec};
use bytes::Bytes;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_offsets_prints_what_was_written() {
    for (name, addr) in brokers() {
        let c = KafkaClient::connect(std::slice::from_ref(&addr), ClientConfig::default())
            .await
            .unwrap();
        if !c.metadata().topics.contains_key("__consumer_offsets") {
            c.create_topic("__consumer_offsets", 50, 1).await.unwrap();
        }
        let n = c.refresh_metadata().await.unwrap().topics["__consumer_offsets"]
            .partitions
            .len() as i32;
        let group = format!("dump-{}-{}", std::process::id(), name);
        let p = offsets::partition_for_group(&group, n);
        let start = c
            .list_offsets(
                &[("__consumer_offsets".into(), p)],
                OffsetSpec::Latest,
                IsolationLevel::ReadUncommitted,
            )
            .await
            .remove(0)
            .result
            .unwrap();

        let (mut k, mut v) = (Vec::new(), Vec::new());
        offsets::encode_offset_commit_key(
            &mut k,
            &OffsetCommitKey {
                version: 1,
                group: &group,
                topic: "orders",
                partition: 4,
            },
        );
        offsets::encode_offset_commit_value(
            &mut v,
            &OffsetCommitValue {
                version: 3,
                offset: 77,
                leader_epoch: 2,
                metadata: "",
                commit_timestamp: 1_700_000_000_123,
                expire_timestamp: -1,
            },
        )
        .unwrap();
        let mut kip848 = Vec::new();
        offsets::encode_coordinator_key(
            &mut kip848,
            RecordType::ConsumerGroupMetadata,
            &group,
            &[],
        );
        let records = [
            (Some(Bytes::from(k)), Some(Bytes::from(v))),
            (
                Some(Bytes::from(kip848)),
                Some(Bytes::from_static(&[0, 0, 0, 0, 0, 1, 0])),
            ),
            (
                Some(Bytes::from_static(&[0x00, 0x01, 0x00, 0x09, b'x'])),
                None,
            ), // truncated group
        ];
        for r in &records {
            c.produce(
                "__consumer_offsets",
                p,
                std::slice::from_ref(r),
                Compression::None,
            )
            .await
            .unwrap();
        }

        let out = Command::new(env!("CARGO_BIN_EXE_burrow-cli"))
            .args([
                "dump-offsets",
                "--bootstrap",
                &addr,
                "--from-beginning",
                "--exit-at-end",
                "--partition",
                &p.to_string(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let all: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // Earlier runs on the same broker left their broken records in this partition too.
        let broken = all.iter().filter(|v| v.get("error").is_some()).count();
        let lines: Vec<Value> = all
            .into_iter()
            .filter(|v: &Value| v["offset"].as_i64().unwrap() >= start)
            .collect();
        assert_eq!(lines.len(), 3, "{name}: {lines:?}");
        let mut first = lines[0].clone();
        first["timestamp"] = json!(0);
        assert_eq!(
            first,
            json!({
                "partition": p, "offset": start, "timestamp": 0, "type": "OffsetCommit",
                "key": { "version": 1, "group": group, "topic": "orders", "partition": 4 },
                "value": { "version": 3, "offset": 77, "leader_epoch": 2, "metadata": "",
                           "commit_timestamp": 1_700_000_000_123i64, "expire_timestamp": -1 }
            }),
            "{name}"
        );
        // Field order is part of the output: partition, offset, timestamp, type, key, value.
        let text = serde_json::to_string(&lines[0]).unwrap();
        assert!(text.starts_with("{\"partition\":"), "{text}");
        assert_eq!(lines[1]["type"], "ConsumerGroupMetadata", "{name}");
        assert_eq!(lines[1]["tombstone"], false, "{name}");
        assert_eq!(
            lines[2]["error"], "field `group`: needs 9 bytes, 1 left",
            "{name}"
        );
        assert_eq!(lines[2]["key_hex"], "0001000978", "{name}: {:?}", lines[2]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(broken >= 1, "{name}");
        assert!(
            stderr.contains(&format!("errors={broken}")),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn dump_offsets_names_a_missing_partition() {
    let Some((_, addr)) = brokers().into_iter().next() else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_burrow-cli"))
        .args([
            "dump-offsets",
            "--bootstrap",
            &addr,
            "--topic",
            "__consumer_offsets",
            "--partition",
            "100000",
            "--exit-at-end",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no partition 100000"));
}

/// One commit record of `group` on topic `orders`, partition 0.
async fn write_commit(c: &KafkaClient, topic: &str, group: &str) {
    let (mut k, mut v) = (Vec::new(), Vec::new());
    offsets::encode_offset_commit_key(
        &mut k,
        &OffsetCommitKey {
            version: 1,
            group,
            topic: "orders",
            partition: 0,
        },
    );
    offsets::encode_offset_commit_value(
        &mut v,
        &OffsetCommitValue {
            version: 3,
            offset: 1,
            leader_epoch: 0,
            metadata: "",
            commit_timestamp: 1_700_000_000_000,
            expire_timestamp: -1,
        },
    )
    .unwrap();
    let r = (Some(Bytes::from(k)), Some(Bytes::from(v)));
    c.produce(
        topic,
        0,
        std::slice::from_ref(&r),
        burrow_kafka::Compression::None,
    )
    .await
    .unwrap();
}

/// A follower whose broker comes back empty on the same port (a replaced broker, a recreated
/// topic) finds that its position is past the log's end and reads the new log from its start,
/// instead of waiting until the log grows past the old position.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_reads_a_log_that_went_backwards_from_its_start() {
    use burrow_testkit::{BrokerKind, OwnBroker};
    use std::io::BufRead;
    let Some(mut broker) = OwnBroker::start(BrokerKind::TansuSrc, None)
        .or_else(|| OwnBroker::start(BrokerKind::Tansu, None))
    else {
        return;
    };
    let addr = broker.addr();
    let topic = "offsets-dump";
    let c = KafkaClient::connect(std::slice::from_ref(&addr), ClientConfig::default())
        .await
        .unwrap();
    c.create_topic(topic, 1, 1).await.unwrap();
    c.refresh_metadata().await.unwrap();
    for i in 0..6 {
        write_commit(&c, topic, &format!("before-{i}")).await;
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_burrow-cli"))
        .args([
            "dump-offsets",
            "--bootstrap",
            &addr,
            "--topic",
            topic,
            "--from-beginning",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let wait_for = |what: &str, limit: Duration| {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) if line.contains(what) => return,
                Ok(_) => {}
                Err(_) => panic!("no line with {what} within {limit:?}"),
            }
        }
    };
    wait_for("before-5", Duration::from_secs(20));
    drop(c);

    broker.restart_empty();
    let returned = std::time::Instant::now();
    let c = KafkaClient::connect(std::slice::from_ref(&addr), ClientConfig::default())
        .await
        .unwrap();
    c.create_topic(topic, 1, 1).await.unwrap();
    c.refresh_metadata().await.unwrap();
    write_commit(&c, topic, "after").await;
    // Within the follower's position check (10 s) and its fetch backoff.
    wait_for("\"after\"", Duration::from_secs(40));
    eprintln!(
        "the record after the return printed {:?} after the broker listened again",
        returned.elapsed()
    );
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("past the end of the log") || stderr.contains("before the log start"),
        "{stderr}"
    );
}
