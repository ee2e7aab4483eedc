//! `burrow-cli check` on the real brokers: one test per exit code. Each group's history is built
//! after the fact: records produced with create times in the past, and commit records (with
//! commit times in the past) written into the group's `__consumer_offsets` partition.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{brokers, now_ms, Kafka};

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

fn unique(broker: &str, what: &str) -> String {
    format!(
        "check-{what}-{broker}-{}-{}",
        std::process::id(),
        now_ms() % 1_000_000
    )
}

fn check(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burrow-cli"))
        .arg("check")
        .args(args)
        .output()
        .unwrap()
}

fn explain(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A one-partition topic.
async fn create_topic(kafka: &Kafka, topic: &str) {
    kafka.client.create_topic(topic, 1, 1).await.unwrap();
    for _ in 0..60 {
        let md = kafka.client.refresh_metadata().await.unwrap();
        if md.leader(topic, 0).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Produces `records`, waits, commits `offset` now, waits: one step of a consumer's history, in
/// real time (the records' times must follow the commits' for the end offset at each commit's
/// time to be found by timestamp).
async fn step(kafka: &Kafka, group: &str, topic: &str, records: usize, offset: i64) {
    kafka.produce(topic, records).await;
    tokio::time::sleep(Duration::from_millis(40)).await;
    kafka.commit(group, topic, offset, now_ms()).await;
    tokio::time::sleep(Duration::from_millis(40)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caught_up_group_is_ok_exit_0() {
    for (name, addr) in brokers() {
        let kafka = Kafka::connect(&addr).await;
        let topic = unique(name, "ok");
        let group = format!("g-{topic}");
        create_topic(&kafka, &topic).await;
        // Each commit at the end of the log: lag 0 every time.
        for i in 0..10 {
            step(&kafka, &group, &topic, 1, i + 1).await;
        }
        kafka.owner(&group, &topic).await;
        let out = check(&["--bootstrap", &addr, "--group", &group, "--window", "0.5"]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", explain(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("OK: group "), "{name}: {first}");
        assert!(
            first.contains("total lag 0, 1 partitions, complete 1"),
            "{first}"
        );
        let row = text
            .lines()
            .find(|l| l.starts_with(&topic))
            .unwrap_or_else(|| panic!("{name}: no row for {topic}\n{text}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        // Partition, status, lag, behind (no lag: 0 s), committed.
        assert_eq!(cells[1..6], ["0", "OK", "0", "0s", "10"], "{name}: {row}");
        assert_eq!(cells[7..], ["/127.0.0.1", "client-1"], "{name}: {row}");
        assert!(
            text.contains("commit lag against the end offset at each commit's time"),
            "{name}: {text}"
        );
        assert!(out.stderr.is_empty(), "no progress when not a terminal");

        // On a terminal (a pseudo-terminal from util-linux's `script`), progress is shown.
        let cmd = format!(
            "{} check --bootstrap {addr} --group {group} --window 0.5",
            env!("CARGO_BIN_EXE_burrow-cli")
        );
        let out = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .output()
            .unwrap();
        let tty = String::from_utf8_lossy(&out.stdout);
        assert!(tty.contains("sampling end offsets"), "{name}: {tty}");
        assert!(tty.contains("OK: group "), "{name}: {tty}");

        // --json: Burrow's status object.
        let out = check(&[
            "--bootstrap",
            &addr,
            "--group",
            &group,
            "--window",
            "0",
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", explain(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["cluster"], "local");
        assert_eq!(v["group"], group.as_str());
        assert_eq!(v["status"], "OK");
        assert_eq!(v["complete"], 1);
        assert_eq!(v["partition_count"], 1);
        assert_eq!(v["partitions"][0]["owner"], "/127.0.0.1");
        assert_eq!(v["partitions"][0]["end"]["offset"], 10);
        assert_eq!(v["partitions"][0]["end"]["lag"], 0);
        assert_eq!(v["partitions"][0]["start"]["offset"], 1);
        assert_eq!(v["totallag"], 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_falling_behind_is_warn_exit_1() {
    for (name, addr) in brokers() {
        let kafka = Kafka::connect(&addr).await;
        let topic = unique(name, "warn");
        let group = format!("g-{topic}");
        create_topic(&kafka, &topic).await;
        // Two records produced per offset consumed: lag 2, 3, … 11 at the commits (only knowable
        // from the end offsets at each commit's time).
        for i in 0..10 {
            step(&kafka, &group, &topic, 2, i).await;
        }
        let out = check(&[
            "--bootstrap",
            &addr,
            "--group",
            &group,
            "--window",
            "0.5",
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", explain(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["status"], "WARN", "{name}: {v}");
        let p = &v["partitions"][0];
        assert_eq!(p["status"], "WARN");
        assert_eq!(p["start"]["lag"], 2, "{name}: {p}");
        assert_eq!(p["end"]["lag"], 11, "{name}: {p}");
        assert_eq!(p["current_lag"], 11, "{name}: {p}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_group_is_err_exit_2() {
    for (name, addr) in brokers() {
        let kafka = Kafka::connect(&addr).await;
        let topic = unique(name, "stop");
        let group = format!("g-{topic}");
        create_topic(&kafka, &topic).await;
        // Commits with lag over about 0.4 s, then silence for longer than that: STOP.
        for i in 0..5 {
            step(&kafka, &group, &topic, 2, i).await;
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let out = check(&["--bootstrap", &addr, "--group", &group, "--window", "0"]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", explain(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("ERR: group "), "{name}: {text}");
        let row = text.lines().find(|l| l.starts_with(&topic)).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[1..4], ["0", "STOP", "6"], "{name}: {row}");
        assert_eq!(cells[5], "4", "{name}: {row}");
        // The record at offset 4 was produced before the 1.5 s of silence.
        let behind: u64 = cells[4]
            .strip_suffix('s')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{name}: behind {:?}: {row}", cells[4]));
        assert!((1..60).contains(&behind), "{name}: {row}");
        assert_eq!(cells[7..], ["-", "-"], "{name}: no owner: {row}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_group_and_unreachable_cluster_exit_3() {
    for (name, addr) in brokers() {
        let _ = Kafka::connect(&addr).await;
        let group = unique(name, "nobody");
        let out = check(&["--bootstrap", &addr, "--group", &group, "--window", "0"]);
        assert_eq!(out.status.code(), Some(3), "{name}: {}", explain(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains("not found"), "{name}: {err}");
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with("NOTFOUND: "),
            "{}",
            explain(&out)
        );
    }
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let out = check(&["--bootstrap", &addr, "--group", "g", "--window", "0"]);
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("unreachable") && err.contains(&addr), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_arguments_exit_3() {
    for args in [
        vec!["--bootstrap", "127.0.0.1:1"],
        vec![
            "--group",
            "g",
            "--bootstrap",
            "127.0.0.1:1",
            "--window",
            "-1",
        ],
        vec![
            "--group",
            "g",
            "--bootstrap",
            "127.0.0.1:1",
            "--window",
            "soon",
        ],
        vec!["--group", "g"],
        vec![
            "--group",
            "g",
            "--server",
            "http://127.0.0.1:1",
            "--window",
            "1",
        ],
    ] {
        let out = check(&args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", explain(&out));
        assert!(!out.stderr.is_empty(), "{args:?}: a reason on stderr");
    }
}

/// A group whose commits the broker keeps in its own store (committed with OffsetCommit, never
/// written to `__consumer_offsets`): `check` falls back to the group APIs and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_only_the_group_apis_know_is_checked_through_them() {
    for (name, addr) in brokers() {
        let kafka = Kafka::connect(&addr).await;
        let group = unique(name, "apis");
        let topic = format!("{group}-t");
        create_topic(&kafka, &topic).await;
        kafka.produce(&topic, 4).await;
        kafka
            .client
            .commit_offsets(&group, &topic, &[(0, 4)])
            .await
            .unwrap();
        let out = check(&["--bootstrap", &addr, "--group", &group, "--window", "2"]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", explain(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with("OK"), "{name}: {}", explain(&out));
        assert!(
            stdout.contains("based on the group APIs"),
            "{name}: {}",
            explain(&out)
        );
    }
}
