//! The groups reaper (`groups-reaper-refresh`): a group Kafka no longer lists is deleted from
//! storage; a real confluent-kafka group that ListGroups reports, and Burrow's own
//! `burrow-<consumer>` group, are kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{brokers, get_json, now_ms, Kafka, Server};

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reaper_deletes_ghost_groups_only() {
    let Some(python) = common::service("BURROW_TEST_PYTHON") else {
        return;
    };
    // noida-db implements ListGroups for confluent-kafka's groups.
    let Some((_, addr)) = brokers().into_iter().find(|(n, _)| *n == "noida") else {
        return;
    };
    let kafka = Kafka::connect(&addr).await;
    let id = format!("{}-{}", std::process::id(), now_ms() % 100_000);
    let topic = format!("reaper-{id}");
    let (real, ghost) = (format!("real-{id}"), format!("ghost-{id}"));
    // A real member: joins `real`, consumes, commits, stays in the group until stdin closes.
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../burrow-kafka/tests/group_member.py");
    let mut member = Command::new(&python)
        .arg(&script)
        .args([&addr, &topic, &real, "5"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(member.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "the member joined and committed");
    // Both groups' commits in __consumer_offsets (the test brokers do not write them).
    let now = now_ms();
    for g in [&real, &ghost] {
        kafka.commit(g, &topic, 5, now).await;
    }
    let config = format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
[cluster.local]
class-name = "kafka"
servers = ["{addr}"]
offset-refresh = 1
groups-reaper-refresh = 1
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["{addr}"]
group-allowlist = "^(real|ghost)-{id}$"
[httpserver.default]
address = "127.0.0.1:@PORT@"
"#
    );
    let dir = std::env::temp_dir().join(format!("burrow-reaper-{id}"));
    let server = Server::start(&dir, &config);
    // The real group is stored; the ghost, stored too, is reaped within a few sweeps.
    server.wait_for(
        "the real group",
        &format!("/v3/kafka/local/consumer/{real}"),
        |s, _| s == 200,
    );
    server.wait_for(
        "the ghost reaped",
        &format!("/v3/kafka/local/consumer/{ghost}"),
        |s, _| s == 404,
    );
    let (s, _) = get_json(server.port, &format!("/v3/kafka/local/consumer/{real}")).unwrap();
    assert_eq!(s, 200, "the listed group is kept");
    let (_, v) = get_json(server.port, "/v3/kafka/local/consumer").unwrap();
    assert!(
        v["consumers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "burrow-local"),
        "Burrow's own group is spared: {v}"
    );
    let (_, m) = common::http(server.port, "GET", "/metrics").unwrap();
    assert!(
        m.contains("burrow_cluster_groups_reaped_total{cluster=\"local\"}"),
        "{m}"
    );
    drop(member.stdin.take());
    let _ = member.wait();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
