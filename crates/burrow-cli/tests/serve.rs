//! `burrow-cli serve` end to end on the real brokers: topics produced to, commit and group
//! records written into `__consumer_offsets`, and groups going OK, WARN, STOP, STALL and REWIND
//! through the HTTP API and /metrics. Also: the example config loads, bad configs exit 1 naming
//! the key, SIGTERM stops cleanly and removes the pidfile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{brokers, get_json, http, now_ms, Kafka, Server};

use burrow_kafka::offsets::{self, OffsetCommitKey};

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn config(addr: &str) -> String {
    format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
[cluster.local]
class-name = "kafka"
servers = ["{addr}"]
offset-refresh = 1
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["{addr}"]
group-denylist = "^ignored-"
[storage.default]
intervals = 3
[evaluator.default]
expire-cache = 1
[httpserver.default]
address = "127.0.0.1:@PORT@"
"#
    )
}

fn status_of(v: &Value) -> &str {
    v["status"]["status"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_go_ok_warn_stop_stall_rewind_through_the_api() {
    for (name, addr) in brokers() {
        let t0 = Instant::now();
        let stage = |what: &str| eprintln!("{name}: {what} at {:?}", t0.elapsed());
        let kafka = Kafka::connect(&addr).await;
        let id = format!("{}-{}-{}", name, std::process::id(), now_ms() % 100_000);
        let t = |s: &str| format!("{s}-{id}");
        for s in ["ok", "stop", "stall", "rewind", "warn"] {
            kafka.topic(&t(s), 100).await;
        }
        stage("topics produced");
        let now = now_ms();
        // OK: caught up. Owner from group metadata.
        for (i, o) in [90, 95, 100].iter().enumerate() {
            kafka
                .commit(&t("g-ok"), &t("ok"), *o, now - 20_000 + i as i64 * 10_000)
                .await;
        }
        kafka.owner(&t("g-ok"), &t("ok")).await;
        // STOP: lagging, last commit ten minutes ago, window span 20 s.
        for (i, o) in [40, 45, 50].iter().enumerate() {
            kafka
                .commit(
                    &t("g-stop"),
                    &t("stop"),
                    *o,
                    now - 620_000 + i as i64 * 10_000,
                )
                .await;
        }
        // STALL: lagging, the same offset committed again and again, recently.
        for i in 0..3 {
            kafka
                .commit(&t("g-stall"), &t("stall"), 60, now - 120_000 + i * 60_000)
                .await;
        }
        // REWIND: the offset went back and has not recovered.
        for (i, o) in [50, 60, 40].iter().enumerate() {
            kafka
                .commit(
                    &t("g-rewind"),
                    &t("rewind"),
                    *o,
                    now - 120_000 + i as i64 * 60_000,
                )
                .await;
        }
        // Filtered by the consumer denylist: never stored.
        kafka
            .commit(&format!("ignored-{id}"), &t("ok"), 100, now)
            .await;

        let dir = std::env::temp_dir().join(format!("burrow-serve-{id}"));
        let mut server = Server::start(&dir, &config(&addr));
        let port = server.port;
        server.wait_for("readiness", "/v3/kafka", |s, _| s == 200);
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(port, "GET", "/burrow/admin/ready").map(|r| r.0) != Some(200) {
            assert!(Instant::now() < deadline, "never ready\n{}", server.log());
            std::thread::sleep(Duration::from_millis(100));
        }

        stage("ready");
        let lag = |g: &str| format!("/v3/kafka/local/consumer/{}/lag", t(g));
        let v = server.wait_for("OK", &lag("g-ok"), |s, v| {
            s == 200
                && status_of(v) == "OK"
                && v["status"]["partitions"][0]["owner"] == "/127.0.0.1"
        });
        assert_eq!(v["status"]["partitions"][0]["client_id"], "client-1");
        assert_eq!(v["status"]["totallag"], 0);
        let v = server.wait_for("STOP", &lag("g-stop"), |s, v| {
            s == 200 && v["status"]["partitions"][0]["status"] == "STOP"
        });
        assert_eq!(status_of(&v), "ERR");
        assert_eq!(v["status"]["partitions"][0]["current_lag"], 50);
        server.wait_for("STALL", &lag("g-stall"), |s, v| {
            s == 200 && v["status"]["partitions"][0]["status"] == "STALL"
        });
        server.wait_for("REWIND", &lag("g-rewind"), |s, v| {
            s == 200 && v["status"]["partitions"][0]["status"] == "REWIND"
        });

        stage("OK, STOP, STALL, REWIND seen");
        // WARN: the broker moves ahead faster than the group commits; lag grows at every commit.
        let mut offset = 20;
        for i in 0..3i64 {
            kafka.produce(&t("warn"), 20).await;
            let want = 120 + 20 * i;
            server.wait_for(
                "broker offset",
                &format!("/v3/kafka/local/topic/{}", t("warn")),
                |s, v| s == 200 && v["offsets"][0] == want,
            );
            offset += 5;
            kafka
                .commit(&t("g-warn"), &t("warn"), offset, now - 120_000 + i * 60_000)
                .await;
            server.wait_for(
                "commit stored",
                &format!("/v3/kafka/local/consumer/{}", t("g-warn")),
                |s, v| s == 200 && v["topics"][t("warn")][0]["offsets"][2]["offset"] == offset,
            );
        }
        let v = server.wait_for("WARN", &lag("g-warn"), |s, v| {
            s == 200 && status_of(v) == "WARN"
        });
        // Lags at commit time: 120-25, 140-30, 160-35.
        assert_eq!(v["status"]["partitions"][0]["start"]["lag"], 95, "{v}");
        assert_eq!(v["status"]["partitions"][0]["end"]["lag"], 125, "{v}");

        stage("WARN seen");
        // `burrow-cli check --server` asks this server: exit code and table from its answer.
        let base = format!("http://127.0.0.1:{port}");
        let check = |group: &str, cluster: Option<&str>| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_burrow-cli"));
            cmd.args(["check", "--server", &base, "--group", group]);
            if let Some(c) = cluster {
                cmd.args(["--cluster", c]);
            }
            cmd.output().unwrap()
        };
        for (group, code, first) in [
            (t("g-ok"), 0, "OK: "),
            (t("g-warn"), 1, "WARN: "),
            (t("g-stop"), 2, "ERR: "),
            (format!("nope-{id}"), 3, "NOTFOUND: "),
        ] {
            let out = check(&group, Some("local"));
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(code), "{group}: {text}");
            assert!(text.starts_with(first), "{group}: {text}");
        }
        // The only cluster is found without --cluster; an unknown one is exit 3 with the reason.
        assert_eq!(check(&t("g-ok"), None).status.code(), Some(0));
        let out = check(&t("g-ok"), Some("elsewhere"));
        assert_eq!(out.status.code(), Some(3));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not found on cluster \"elsewhere\""), "{err}");
        // NOTFOUND: 404 with error=false.
        let (s, v) = get_json(port, &format!("/v3/kafka/local/consumer/nope-{id}/status")).unwrap();
        assert_eq!(
            (s, &v["error"], status_of(&v)),
            (404, &Value::Bool(false), "NOTFOUND")
        );
        let (_, v) = get_json(port, "/v3/kafka/local/consumer").unwrap();
        let groups: Vec<&str> = v["consumers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap())
            .collect();
        assert!(
            groups.contains(&"burrow-local"),
            "Burrow's own progress group: {groups:?}"
        );
        assert!(
            !groups.iter().any(|g| g.starts_with("ignored-")),
            "{groups:?}"
        );

        // /metrics, evaluated in the background.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, m) = http(port, "GET", "/metrics").unwrap();
            let stop = format!(
                "burrow_kafka_consumer_status{{cluster=\"local\",consumer_group=\"{}\"}} 3",
                t("g-stop")
            );
            let ok = format!(
                "burrow_kafka_consumer_status{{cluster=\"local\",consumer_group=\"{}\"}} 1",
                t("g-ok")
            );
            if m.contains(&stop)
                && m.contains(&ok)
                && m.contains("burrow_consumer_records_read_total{consumer=\"local\"}")
            {
                assert!(m.contains(
                    "burrow_cluster_offset_refresh_timestamp_seconds{cluster=\"local\"}"
                ));
                break;
            }
            assert!(
                Instant::now() < deadline,
                "metrics never showed the groups:\n{m}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }

        stage("metrics seen");
        // Decision 4: an offset tombstone removes the partition, and with it the group.
        let mut k = Vec::new();
        offsets::encode_offset_commit_key(
            &mut k,
            &OffsetCommitKey {
                version: 1,
                group: &t("g-stall"),
                topic: &t("stall"),
                partition: 0,
            },
        );
        kafka.write(&t("g-stall"), k, None).await;
        server.wait_for(
            "offset tombstone",
            &format!("/v3/kafka/local/consumer/{}", t("g-stall")),
            |s, _| s == 404,
        );
        // A group tombstone deletes the group.
        let mut k = Vec::new();
        offsets::encode_group_metadata_key(&mut k, &t("g-rewind"));
        kafka.write(&t("g-rewind"), k, None).await;
        server.wait_for(
            "group tombstone",
            &format!("/v3/kafka/local/consumer/{}", t("g-rewind")),
            |s, _| s == 404,
        );

        // Decision 6: a commit for a topic created after start is stored after an early refresh,
        // long before topic-refresh (60 s).
        kafka.topic(&t("late"), 10).await;
        kafka.commit(&t("g-late"), &t("late"), 5, now_ms()).await;
        let started = Instant::now();
        loop {
            kafka.commit(&t("g-late"), &t("late"), 5, now_ms()).await;
            if get_json(port, &format!("/v3/kafka/local/consumer/{}", t("g-late")))
                .is_some_and(|(s, _)| s == 200)
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "late topic never stored\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }

        stage("late topic stored");
        assert!(dir.join("burrow.pid").exists());
        let status = server.terminate();
        assert!(status.success(), "exit {status:?}\n{}", server.log());
        assert!(!dir.join("burrow.pid").exists(), "pidfile removed at exit");
        assert!(server.log().contains("Stopped Burrow"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn example_config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/burrow-example.toml")
}

#[test]
fn burrows_example_config_loads() {
    // Its notifier names templates under conf/, relative to the working directory, as in
    // Burrow's Docker image: the shipped templates (minijinja) go there.
    let dir = std::env::temp_dir().join(format!("burrow-example-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("conf")).unwrap();
    let templates = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../burrow-notify/templates");
    for t in ["default-http-post.tmpl", "default-http-delete.tmpl"] {
        std::fs::copy(templates.join(t), dir.join("conf").join(t)).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_burrow-cli"))
        .args(["serve", "--check-config", "--config"])
        .arg(example_config())
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without the templates, the error names the key and the file.
    let out = Command::new(env!("CARGO_BIN_EXE_burrow-cli"))
        .args(["serve", "--check-config", "--config"])
        .arg(example_config())
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("notifier.default.template-open")
            && err.contains("conf/default-http-post.tmpl"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_config_exits_1_naming_the_key() {
    let dir = std::env::temp_dir().join(format!("burrow-badconf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (text, env, key) in [
        ("[cluster.local]\nclass-name = \"kafka\"\nservers = [\"k:1\"]\noffset-refresh = \"x\"\n", None, "cluster.local.offset-refresh"),
        ("[cluster.local]\nclass-name = \"kafka\"\nservers = [\"k:1\"]\n[consumer.c]\nclass-name = \"kafka\"\ncluster = \"LOCAL\"\nservers = [\"k:1\"]\n", None, "consumer.c.cluster"),
        ("[cluster.local]\nclass-name = \"kafka\"\nservers = [\"k:1\"]\n", Some(("BURROW_CLUSTER_LOCAL_TOPIC_REFRESH", "soon")), "BURROW_CLUSTER_LOCAL_TOPIC_REFRESH"),
    ] {
        let path = dir.join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_burrow-cli"));
        cmd.args(["serve", "--config"]).arg(&path).stdout(Stdio::null());
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(key), "{key} not named in: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
