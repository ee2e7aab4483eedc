//! Lag in seconds on the real brokers (`[cluster.X] lag-seconds = true`): a group whose next
//! record was written ten minutes ago is ten minutes behind; a caught-up group is 0 seconds
//! behind; without the key the gauges do not exist.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{brokers, http, now_ms, Kafka, Server};

fn config(addr: &str, lag_seconds: bool) -> String {
    format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
[cluster.local]
class-name = "kafka"
servers = ["{addr}"]
offset-refresh = 1
lag-seconds = {lag_seconds}
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["{addr}"]
[evaluator.default]
expire-cache = 1
[httpserver.default]
address = "127.0.0.1:@PORT@"
"#
    )
}

/// The value of `metric` for `group`, when `/metrics` has it.
fn gauge(server: &Server, metric: &str, group: &str) -> Option<f64> {
    let (_, text) = http(server.port, "GET", "/metrics")?;
    let needle = format!("consumer_group=\"{group}\"");
    text.lines()
        .find(|l| l.starts_with(&format!("{metric}{{")) && l.contains(&needle))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn wait_gauge(server: &Server, metric: &str, group: &str, ok: impl Fn(f64) -> bool) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = gauge(server, metric, group);
        if let Some(v) = got.filter(|v| ok(*v)) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{metric} of {group}: {got:?}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_groups_are_as_far_behind_as_their_next_record_is_old() {
    for (name, addr) in brokers() {
        let kafka = Kafka::connect(&addr).await;
        let id = format!("{}-{}-{}", name, std::process::id(), now_ms() % 100_000);
        let topic = format!("clicks-{id}");
        kafka.topic(&topic, 0).await;
        // Offsets 0..9 written 600, 590, ..., 510 s ago; 10..19 now.
        let now = now_ms();
        for i in 0..10 {
            kafka.produce_at(&topic, now - 600_000 + i * 10_000).await;
        }
        kafka.produce(&topic, 10).await;
        let (behind, caught_up) = (format!("behind-{id}"), format!("caught-up-{id}"));
        // Next record for `behind`: offset 5, written 550 s ago.
        // Committed every 100 s, the last 100 s ago.
        for (i, o) in [3, 4, 5].iter().enumerate() {
            kafka
                .commit(&behind, &topic, *o, now - 300_000 + i as i64 * 100_000)
                .await;
        }
        // A second group on the same partition, further behind (offset 2, 580 s ago): one Fetch
        // cannot name a partition twice, so the two offsets take two.
        let far = format!("far-{id}");
        for (i, o) in [0, 1, 2].iter().enumerate() {
            kafka
                .commit(&far, &topic, *o, now - 30_000 + i as i64 * 10_000)
                .await;
        }
        for (i, o) in [18, 19, 20].iter().enumerate() {
            kafka
                .commit(&caught_up, &topic, *o, now - 30_000 + i as i64 * 10_000)
                .await;
        }

        let dir = std::env::temp_dir().join(format!("burrow-lag-seconds-{id}"));
        let server = Server::start(&dir, &config(&addr, true));
        let partition = "burrow_kafka_consumer_partition_lag_seconds";
        let v = wait_gauge(&server, partition, &behind, |v| v > 0.0);
        assert!(
            (550.0..600.0).contains(&v),
            "{name}: {behind} is {v} s behind, want about 550"
        );
        let g = wait_gauge(
            &server,
            "burrow_kafka_consumer_lag_seconds",
            &behind,
            |_| true,
        );
        assert!((550.0..600.0).contains(&g), "{name}: group {g}");
        // The lag in messages goes with it.
        assert_eq!(
            gauge(&server, "burrow_kafka_consumer_partition_lag", &behind),
            Some(15.0)
        );
        let v = wait_gauge(&server, partition, &far, |v| v > 0.0);
        assert!((580.0..630.0).contains(&v), "{name}: {far} is {v} s behind");
        wait_gauge(&server, partition, &caught_up, |v| v == 0.0);
        // The lag body carries the same seconds, per partition and for the group.
        let lag = server.wait_for(
            &format!("{name}: lag_seconds in /lag"),
            &format!("/v3/kafka/local/consumer/{behind}/lag"),
            |s, v| s == 200 && v["status"]["lag_seconds"].is_number(),
        );
        let p = lag["status"]["partitions"][0]["lag_seconds"]
            .as_f64()
            .unwrap();
        assert!((550.0..600.0).contains(&p), "{name}: {lag}");
        assert_eq!(
            lag["status"]["lag_seconds"].as_f64(),
            Some(p),
            "{name}: {lag}"
        );
        // Burrow's fields first, in their order; the lag in time and the drain after them.
        let keys: Vec<&String> = lag["status"]["partitions"][0]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(
            keys[keys.len() - 4..],
            [
                "lag_seconds",
                "lag_seconds_estimate",
                "drain",
                "drain_seconds"
            ],
            "{keys:?}"
        );
        assert_eq!(keys[0], "topic");
        // From the record itself, not estimated.
        assert_eq!(
            lag["status"]["partitions"][0]["lag_seconds_estimate"],
            serde_json::Value::Null
        );
        // The window consumed 2 offsets in 200 s and nothing is produced any more: 15 to go at
        // 0.01 per second is 1500 s (once two end-offset samples are stored, and until the
        // consumer has been silent for longer than its window spans).
        let lag = server.wait_for(
            &format!("{name}: drain"),
            &format!("/v3/kafka/local/consumer/{behind}/lag"),
            |s, v| s == 200 && v["status"]["drain"] == "draining",
        );
        let drain = lag["status"]["drain_seconds"].as_f64().unwrap();
        assert!((1499.0..1501.0).contains(&drain), "{name}: {lag}");
        // The group detail too, per partition after Burrow's fields.
        let detail = server.wait_for(
            &format!("{name}: lag_seconds in the detail"),
            &format!("/v3/kafka/local/consumer/{behind}"),
            |s, v| s == 200 && v["topics"][&topic][0]["lag_seconds"].is_number(),
        );
        let d = detail["topics"][&topic][0]["lag_seconds"].as_f64().unwrap();
        assert!((550.0..600.0).contains(&d), "{name}: {detail}");
        let keys: Vec<&String> = detail["topics"][&topic][0]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(
            keys,
            [
                "offsets",
                "owner",
                "client_id",
                "current-lag",
                "lag_seconds",
                "lag_seconds_estimate",
                "drain",
                "drain_seconds"
            ]
        );
        let caught = server.wait_for(
            &format!("{name}: caught up"),
            &format!("/v3/kafka/local/consumer/{caught_up}/lag"),
            |s, v| s == 200 && v["status"]["lag_seconds"].is_number(),
        );
        assert_eq!(caught["status"]["lag_seconds"], 0, "{name}: {caught}");
        drop(server);

        // Off by default: no such gauges.
        let server = Server::start(&dir, &config(&addr, false));
        wait_gauge(
            &server,
            "burrow_kafka_consumer_partition_lag",
            &behind,
            |v| v == 15.0,
        );
        assert_eq!(gauge(&server, partition, &behind), None);
        // … and Burrow's bodies, without the field.
        let (_, body) = common::http(
            server.port,
            "GET",
            &format!("/v3/kafka/local/consumer/{behind}/lag"),
        )
        .unwrap();
        assert!(!body.contains("lag_seconds"), "{name}: {body}");
        let (_, body) = common::http(
            server.port,
            "GET",
            &format!("/v3/kafka/local/consumer/{behind}"),
        )
        .unwrap();
        assert!(!body.contains("lag_seconds"), "{name}: {body}");
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
