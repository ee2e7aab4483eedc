//! The `kafka_admin` consumer class on real brokers with a real consumer group (librdkafka
//! through confluent-kafka; the brokers keep its commits in their own store, not in a readable
//! `__consumer_offsets`): the group is seen through the HTTP API with its offsets and owner, and
//! goes OK, STALL, REWIND and STOP as the member consumes, commits without advancing, commits a
//! lower offset, and leaves. A group without members is in /metrics, survives a warm restart
//! unchanged, and disappears from the API once deleted on the broker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use common::{brokers, get_json, Kafka, Server};
use serde_json::Value;

fn config(addr: &str) -> String {
    format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
state-file = "@DIR@/state.json"
[cluster.local]
class-name = "kafka"
servers = ["{addr}"]
offset-refresh = 1
[consumer.admin]
class-name = "kafka_admin"
cluster = "local"
servers = ["{addr}"]
poll-interval = 1
[storage.default]
intervals = 3
min-distance = 0
[evaluator.default]
expire-cache = 1
[httpserver.default]
address = "127.0.0.1:@PORT@"
"#
    )
}

/// The group member, driven line by line.
struct Member {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Member {
    fn start(python: &str, addr: &str, topic: &str, group: &str) -> Member {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/group_driver.py"
        );
        let mut child = Command::new(python)
            .args([script, addr, topic, group])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Member {
            child,
            stdin,
            stdout,
        }
    }

    fn say(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert!(line.starts_with("ok"), "{command}: {line}");
        line
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status(v: &Value) -> &str {
    v["status"]["status"].as_str().unwrap_or("")
}

/// The status of the group's one partition (a STALL, REWIND or STOP partition makes the group
/// ERR, as in Burrow).
fn partition_status(v: &Value) -> &str {
    v["status"]["partitions"][0]["status"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_group_is_seen_through_the_group_apis_and_reaches_every_status() {
    let Some(python) = common::service("BURROW_TEST_PYTHON") else {
        return;
    };
    for (name, addr) in brokers() {
        let id = format!("{}-{name}", std::process::id());
        let (topic, group) = (format!("admin-topic-{id}"), format!("admin-group-{id}"));
        let kafka = Kafka::connect(&addr).await;
        kafka.topic(&topic, 10).await;
        let dir = std::env::temp_dir().join(format!("burrow-admin-{id}"));
        let server = Server::start(&dir, &config(&addr));
        let lag = format!("/v3/kafka/local/consumer/{group}/lag");
        let detail = format!("/v3/kafka/local/consumer/{group}");

        let mut member = Member::start(&python, &addr, &topic, &group);
        member.say("join");
        member.say("consume 10");
        let v = server.wait_for(&format!("{name}: OK"), &lag, |s, v| {
            s == 200 && status(v) == "OK" && v["status"]["partitions"][0]["end"]["offset"] == 10
        });
        assert_eq!(v["status"]["totallag"], 0, "{name}: {v}");
        if !name.starts_with("tansu") {
            // tansu 0.6 describes members with empty client ids and hosts.
            let d = server.wait_for(&format!("{name}: owner"), &detail, |s, v| {
                s == 200 && v["topics"][&topic][0]["owner"] != ""
            });
            assert_eq!(
                d["topics"][&topic][0]["client_id"], "burrow-admin-test",
                "{name}: {d}"
            );
        }

        // Records keep arriving; the member commits on a timer without advancing.
        kafka.produce(&topic, 5).await;
        for _ in 0..8 {
            member.say("commit");
            std::thread::sleep(Duration::from_millis(500));
        }
        server.wait_for(&format!("{name}: STALL"), &lag, |s, v| {
            s == 200 && status(v) == "ERR" && partition_status(v) == "STALL"
        });

        // A commit below the last one.
        member.say("seek 3");
        server.wait_for(&format!("{name}: REWIND"), &lag, |s, v| {
            s == 200 && status(v) == "ERR" && partition_status(v) == "REWIND"
        });

        // The member leaves with lag: no more entries, the window ages into STOP.
        member.say("seek 12");
        std::thread::sleep(Duration::from_secs(2));
        member.say("leave");
        server.wait_for(&format!("{name}: STOP"), &lag, |s, v| {
            s == 200 && status(v) == "ERR" && partition_status(v) == "STOP"
        });
        drop(member);
        let _ = get_json(server.port, &lag);
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A group only the group APIs know (committed with OffsetCommit, no members) is in /metrics,
/// keeps its window across a warm restart without a new entry, and once deleted on the broker
/// (DeleteGroups) is deleted from storage at the next poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_deleted_on_the_broker_disappears() {
    let Some(python) = common::service("BURROW_TEST_PYTHON") else {
        return;
    };
    for (name, addr) in brokers() {
        let id = format!("{}-{name}", std::process::id());
        let (topic, group) = (format!("deleted-topic-{id}"), format!("deleted-group-{id}"));
        let kafka = Kafka::connect(&addr).await;
        kafka.topic(&topic, 3).await;
        kafka
            .client
            .commit_offsets(&group, &topic, &[(0, 2)])
            .await
            .unwrap();
        let dir = std::env::temp_dir().join(format!("burrow-admin-del-{id}"));
        let server = Server::start(&dir, &config(&addr));
        let detail = format!("/v3/kafka/local/consumer/{group}");
        server.wait_for(&format!("{name}: the group"), &detail, |s, _| s == 200);
        // Downstream sees the group as from any source: /metrics, and a warm restart keeps its
        // window without a new entry (it has no members and its offset did not change).
        let (_, metrics) = common::http(server.port, "GET", "/metrics").unwrap();
        let series =
            format!("burrow_kafka_consumer_status{{cluster=\"local\",consumer_group=\"{group}\"}}");
        let mut server = server;
        let wait_metrics = std::time::Instant::now();
        let mut metrics = metrics;
        while !metrics.contains(&series) && wait_metrics.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(200));
            metrics = common::http(server.port, "GET", "/metrics").unwrap().1;
        }
        assert!(
            metrics.contains(&series),
            "{name}: {series} not in /metrics"
        );
        let entries = |v: &Value| {
            v["topics"][&topic][0]["offsets"]
                .as_array()
                .map_or(0, |o| o.iter().filter(|e| !e.is_null()).count())
        };
        let before =
            entries(&server.wait_for(&format!("{name}: the window"), &detail, |s, _| s == 200));
        assert!(server.terminate().success(), "{}", server.log());
        let server = Server::start(&dir, &config(&addr));
        let after = server.wait_for(&format!("{name}: restored"), &detail, |s, _| s == 200);
        std::thread::sleep(Duration::from_secs(3));
        let after_polls = server.wait_for(&format!("{name}: restored"), &detail, |s, _| s == 200);
        assert_eq!(
            entries(&after),
            before,
            "{name}: the window after a warm restart: {after}"
        );
        assert_eq!(
            entries(&after_polls),
            before,
            "{name}: polls after the restart added entries: {after_polls}"
        );
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/delete_group.py"
        );
        let out = Command::new(&python)
            .args([script, &addr, &group])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.starts_with("deleted"), "{name}: {said}");
        server.wait_for(&format!("{name}: the group gone"), &detail, |s, _| s == 404);
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// One cluster read by a `kafka` and a `kafka_admin` module: the offsets topic wins per group
/// partition. A group only the group APIs know is fed by the polls; once the offsets topic holds
/// a commit of a group, its window holds the topic's commits only and the polls' entries for it
/// are dropped (counted as `other_source`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_both_sources_the_offsets_topic_wins() {
    for (name, addr) in brokers() {
        let id = format!("{}-{name}", std::process::id());
        let topic = format!("both-topic-{id}");
        let (shared, polled) = (format!("both-shared-{id}"), format!("both-polled-{id}"));
        let kafka = Kafka::connect(&addr).await;
        kafka.topic(&topic, 10).await;
        for group in [&shared, &polled] {
            kafka
                .client
                .commit_offsets(group, &topic, &[(0, 2)])
                .await
                .unwrap();
        }
        let dir = std::env::temp_dir().join(format!("burrow-both-{id}"));
        let both = config(&addr).replace(
            "[consumer.admin]",
            &format!(
                "[consumer.topic]\nclass-name = \"kafka\"\ncluster = \"local\"\nservers = [\"{addr}\"]\n[consumer.admin]"
            ),
        );
        let server = Server::start(&dir, &both);
        let offsets = |v: &Value| -> Vec<i64> {
            v["topics"][&topic][0]["offsets"]
                .as_array()
                .map_or(vec![], |o| {
                    o.iter().filter_map(|e| e["offset"].as_i64()).collect()
                })
        };
        let detail = |g: &str| format!("/v3/kafka/local/consumer/{g}");
        server.wait_for(
            &format!("{name}: polled first"),
            &detail(&shared),
            |s, v| s == 200 && offsets(v) == [2],
        );
        kafka.commit(&shared, &topic, 7, common::now_ms()).await;
        server.wait_for(
            &format!("{name}: the topic takes over"),
            &detail(&shared),
            |s, v| s == 200 && offsets(v) == [7],
        );
        // The group APIs see a new offset: its poll entry is dropped.
        kafka
            .client
            .commit_offsets(&shared, &topic, &[(0, 3)])
            .await
            .unwrap();
        std::thread::sleep(Duration::from_secs(3));
        let (_, v) = get_json(server.port, &detail(&shared)).unwrap();
        assert_eq!(offsets(&v), [7], "{name}: {v}");
        let (_, v) = get_json(server.port, &detail(&polled)).unwrap();
        assert_eq!(offsets(&v), [2], "{name}: the polled group: {v}");
        let (_, metrics) = common::http(server.port, "GET", "/metrics").unwrap();
        assert!(
            metrics.contains(
                "burrow_storage_writes_dropped_total{module=\"admin\",reason=\"other_source\"}"
            ),
            "{name}: no other_source drops in /metrics"
        );
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
