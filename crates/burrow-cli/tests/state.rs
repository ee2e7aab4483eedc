//! Warm restarts on the real brokers: `serve` saves its state (periodically and at SIGTERM),
//! comes back with the saved windows, reads only what was written to the offsets topic while
//! it was down, and starts cold, keeping the file aside, when the file is not usable. An open
//! incident goes on across the restart: no second open notification, the same incident id.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use burrow_kafka::offsets;
use burrow_kafka::{IsolationLevel, OffsetSpec};
use common::{brokers, http, now_ms, receiver, Kafka, Server};

const OFFSETS_PARTITIONS: i32 = 4;

fn config(addr: &str, offsets_topic: &str) -> String {
    format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
state-file = "@DIR@/state.json"
state-interval = 1
[cluster.local]
class-name = "kafka"
servers = ["{addr}"]
offset-refresh = 1
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["{addr}"]
offsets-topic = "{offsets_topic}"
[storage.default]
intervals = 5
[evaluator.default]
expire-cache = 1
[httpserver.default]
address = "127.0.0.1:@PORT@"
"#
    )
}

/// An offset commit of `group` on partition 0 of `topic`, in this test's own offsets topic,
/// made `offset` seconds after 100 s ago.
async fn commit(kafka: &Kafka, offsets_topic: &str, group: &str, topic: &str, offset: i64) {
    let at = now_ms() - 100_000 + offset * 1000;
    kafka
        .commit_to(
            offsets_topic,
            OFFSETS_PARTITIONS,
            (group, topic, offset, at),
        )
        .await;
}

fn wait_ready(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(server.port, "GET", "/burrow/admin/ready").map(|r| r.0) != Some(200) {
        assert!(Instant::now() < deadline, "never ready\n{}", server.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The committed offsets in `group`'s window of `topic` partition 0.
fn window(server: &Server, group: &str, topic: &str) -> Vec<i64> {
    let path = format!("/v3/kafka/local/consumer/{group}");
    common::get_json(server.port, &path)
        .filter(|(s, _)| *s == 200)
        .map(|(_, v)| {
            v["topics"][topic][0]["offsets"]
                .as_array()
                .map(|a| a.iter().filter_map(|o| o["offset"].as_i64()).collect())
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

fn wait_window(server: &Server, group: &str, topic: &str, want: &[i64]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = window(server, group, topic);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{group}: window {got:?}, want {want:?}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn records_read(server: &Server) -> u64 {
    let (_, text) = http(server.port, "GET", "/metrics").unwrap();
    text.lines()
        .find(|l| l.starts_with("burrow_consumer_records_read_total{consumer=\"local\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn aside_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("state.json.rejected-"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_restart_keeps_windows_and_reads_only_what_came_meanwhile() {
    for (name, addr) in brokers() {
        let kafka = Kafka::connect(&addr).await;
        let id = format!(
            "warm-{}-{}-{}",
            name,
            std::process::id(),
            now_ms() % 100_000
        );
        let (topic, offsets_topic) = (format!("orders-{id}"), format!("offsets-{id}"));
        kafka.topic(&topic, 100).await;
        kafka
            .client
            .create_topic(&offsets_topic, OFFSETS_PARTITIONS, 1)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        kafka.client.refresh_metadata().await.unwrap();
        let dir = std::env::temp_dir().join(format!("burrow-state-{id}"));
        let state = dir.join("state.json");

        // First run: three commits, saved every second and at SIGTERM.
        let mut server = Server::start(&dir, &config(&addr, &offsets_topic));
        wait_ready(&server);
        for o in [10, 20, 30] {
            commit(&kafka, &offsets_topic, "g", &topic, o).await;
        }
        wait_window(&server, "g", &topic, &[10, 20, 30]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !state.exists() {
            assert!(
                Instant::now() < deadline,
                "no periodic save\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(server.terminate().success(), "{}", server.log());
        let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
        let p = offsets::partition_for_group("g", OFFSETS_PARTITIONS);
        assert_eq!(
            saved["readers"]["local"][p.to_string()],
            3,
            "{name}: the saved position is after the three commits: {}",
            saved["readers"]
        );

        // While it is down: one more commit of g, and a new group.
        commit(&kafka, &offsets_topic, "g", &topic, 40).await;
        commit(&kafka, &offsets_topic, "h", &topic, 50).await;

        // Second run: the window is back and only the two new records are read.
        let mut server = Server::start(&dir, &config(&addr, &offsets_topic));
        wait_ready(&server);
        wait_window(&server, "g", &topic, &[10, 20, 30, 40]);
        wait_window(&server, "h", &topic, &[50]);
        assert_eq!(records_read(&server), 2, "{name}: {}", server.log());
        assert!(server.log().contains("saved state restored"));
        assert!(server.terminate().success());

        // A state file that is not usable: kept aside, and a cold start reads everything.
        std::fs::write(&state, b"{\"format\": 1, truncated").unwrap();
        let mut server = Server::start(&dir, &config(&addr, &offsets_topic));
        wait_ready(&server);
        wait_window(&server, "g", &topic, &[10, 20, 30, 40]);
        let ends: i64 = kafka
            .client
            .list_offsets(
                &(0..OFFSETS_PARTITIONS)
                    .map(|p| (offsets_topic.clone(), p))
                    .collect::<Vec<_>>(),
                OffsetSpec::Latest,
                IsolationLevel::ReadCommitted,
            )
            .await
            .into_iter()
            .map(|o| o.result.unwrap())
            .sum();
        assert_eq!(records_read(&server), ends as u64, "{name}: a cold start");
        let aside = aside_files(&dir);
        assert_eq!(aside.len(), 1, "{name}: {aside:?}");
        assert_eq!(
            std::fs::read(&aside[0]).unwrap(),
            b"{\"format\": 1, truncated"
        );
        assert!(server.terminate().success());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_incident_goes_on_across_a_restart() {
    // The notifier logic does not depend on the broker: one is enough.
    let Some((name, addr)) = brokers().into_iter().next() else {
        return;
    };
    let kafka = Kafka::connect(&addr).await;
    let id = format!(
        "incident-{}-{}-{}",
        name,
        std::process::id(),
        now_ms() % 100_000
    );
    let (topic, offsets_topic) = (format!("orders-{id}"), format!("offsets-{id}"));
    kafka.topic(&topic, 100).await;
    kafka
        .client
        .create_topic(&offsets_topic, OFFSETS_PARTITIONS, 1)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    kafka.client.refresh_metadata().await.unwrap();
    // A stopped group (lag, last commit long ago): ERR, an open incident.
    for o in [10, 20, 30] {
        commit(&kafka, &offsets_topic, "stuck", &topic, o).await;
    }
    let (port, seen) = receiver(0);
    let templates =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../burrow-notify/templates");
    let config = format!(
        r#"{}
[notifier.web]
class-name = "http"
interval = 1
send-interval = 3600
url-open = "http://127.0.0.1:{port}/open"
template-open = "{}"
"#,
        config(&addr, &offsets_topic),
        templates.join("default-http-post.tmpl").display()
    );
    let dir = std::env::temp_dir().join(format!("burrow-incident-{id}"));
    let opened = |seen: &std::sync::Arc<std::sync::Mutex<Vec<common::Seen>>>| -> Vec<Value> {
        seen.lock()
            .unwrap()
            .iter()
            .map(|s| serde_json::from_str(&s.body).unwrap())
            .collect()
    };
    let mut server = Server::start(&dir, &config);
    wait_ready(&server);
    let deadline = Instant::now() + Duration::from_secs(30);
    while opened(&seen).is_empty() {
        assert!(
            Instant::now() < deadline,
            "no open notification\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let first = opened(&seen)[0].clone();
    let incident = first["events"][0]["id"].as_str().unwrap().to_string();
    assert!(server.terminate().success());
    let saved: Value =
        serde_json::from_slice(&std::fs::read(dir.join("state.json")).unwrap()).unwrap();
    assert_eq!(
        saved["notifiers"]["local"]["stuck"]["id"],
        incident.as_str()
    );

    // Restarted: evaluated every second, still ERR, and nothing sent again (send-interval).
    let mut server = Server::start(&dir, &config);
    wait_ready(&server);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        opened(&seen).len(),
        1,
        "a second open notification after the restart: {:?}\n{}",
        opened(&seen),
        server.log()
    );
    assert!(server.terminate().success());
    let saved: Value =
        serde_json::from_slice(&std::fs::read(dir.join("state.json")).unwrap()).unwrap();
    assert_eq!(
        saved["notifiers"]["local"]["stuck"]["id"],
        incident.as_str(),
        "the same incident after the restart"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
