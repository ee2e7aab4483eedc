//! Health that tells the truth: with its only cluster gone, `serve` stops answering `READY`
//! once the cluster has been unreachable for longer than `[general] unreachable-limit`, says
//! why, and sets `burrow_cluster_up` to 0; once the broker is back, it is ready again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use burrow_testkit::{BrokerKind, OwnBroker};
use common::{http, Server};

const LIMIT_SECONDS: u64 = 3;

fn config(addr: &str) -> String {
    format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
unreachable-limit = {LIMIT_SECONDS}
[cluster.local]
class-name = "kafka"
servers = ["{addr}"]
offset-refresh = 1
topic-refresh = 1
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["{addr}"]
[httpserver.default]
address = "127.0.0.1:@PORT@"
"#
    )
}

/// Polls until `check` accepts (status, body) of `path`; how long it took.
fn until(
    server: &Server,
    what: &str,
    path: &str,
    limit: Duration,
    check: impl Fn(u16, &str) -> bool,
) -> Duration {
    let t = Instant::now();
    loop {
        if let Some((status, body)) = http(server.port, "GET", path) {
            if check(status, &body) {
                return t.elapsed();
            }
        }
        assert!(
            t.elapsed() < limit,
            "{what}: not within {limit:?}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn cluster_up(body: &str) -> Option<i64> {
    body.lines()
        .find(|l| l.starts_with("burrow_cluster_up{cluster=\"local\"}"))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
}

#[test]
fn unreachable_clusters_make_the_server_unavailable_with_the_reason() {
    let Some(mut broker) = OwnBroker::start(BrokerKind::TansuSrc, None)
        .or_else(|| OwnBroker::start(BrokerKind::Tansu, None))
    else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("burrow-health-{}", std::process::id()));
    let mut server = Server::start(&dir, &config(&broker.addr()));
    let ready = |s: u16, b: &str| s == 200 && b == "READY";
    until(
        &server,
        "ready",
        "/burrow/admin/ready",
        Duration::from_secs(40),
        ready,
    );
    until(
        &server,
        "up",
        "/metrics",
        Duration::from_secs(10),
        |_, b| cluster_up(b) == Some(1),
    );

    broker.kill();
    let limit = Duration::from_secs(LIMIT_SECONDS + 30);
    let took = until(
        &server,
        "unavailable",
        "/burrow/admin/ready",
        limit,
        |s, b| s == 503 && b.starts_with("UNAVAILABLE: every cluster has been unreachable"),
    );
    let (_, body) = http(server.port, "GET", "/burrow/admin/ready").unwrap();
    assert!(body.contains("local: no answer for"), "{body}");
    until(
        &server,
        "down",
        "/metrics",
        Duration::from_secs(5),
        |_, b| cluster_up(b) == Some(0),
    );
    let log = server.log();
    assert!(
        log.contains("not ready: the clusters cannot be reached"),
        "{log}"
    );
    // Failed connects said once per broker and API within the minute, however many there were:
    // once per client, and this server has two (the cluster module's and the consumer module's,
    // whose first failed connect may or may not fall within the wait).
    let connects: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Kafka request failed") && l.contains("connect"))
        .collect();
    assert!((1..=2).contains(&connects.len()), "{log}");
    assert!(connects.iter().all(|c| c.contains(&broker.addr())), "{log}");
    eprintln!("unavailable {took:?} after the broker was killed (limit {LIMIT_SECONDS} s)");

    broker.restart_empty();
    let took = until(
        &server,
        "ready again",
        "/burrow/admin/ready",
        Duration::from_secs(60),
        ready,
    );
    until(
        &server,
        "up again",
        "/metrics",
        Duration::from_secs(10),
        |_, b| cluster_up(b) == Some(1),
    );
    eprintln!("ready again {took:?} after the broker listened again");
    assert!(server.terminate().success());
    let _ = std::fs::remove_dir_all(&dir);
}
