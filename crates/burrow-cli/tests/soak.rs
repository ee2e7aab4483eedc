//! A long run of `serve` through the fault proxy with live commits (opt-in: `scripts/fault-soak.sh`,
//! 10 minutes by default; `BURROW_SOAK_SECONDS` sets the length). Every 20 s the proxy passes
//! for 10 s, then applies the next fault for 10 s (truncate, reset, delay, reorder, blackhole,
//! drop), while a client the proxy lets through commits for 20 groups. At the end: no panic,
//! every group's last commit stored (none lost), and the server's RSS at start and end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use burrow_kafka::{ClientConfig, Compression, KafkaClient};
use burrow_testkit::{BrokerKind, Fault, FaultProxy, OwnBroker, EXEMPT_CLIENT_ID};
use bytes::Bytes;
use common::{commit_record, get_json, Server};

const GROUPS: usize = 20;
const OFFSETS_PARTITIONS: i32 = 8;
const TOPIC: &str = "orders";

fn config(addr: &str) -> String {
    format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
[cluster.local]
class-name = "kafka"
servers = ["{addr}"]
offset-refresh = 2
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["{addr}"]
[httpserver.default]
address = "127.0.0.1:@PORT@"
"#
    )
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The newest offset `group` has stored on partition 0 of the topic, per the HTTP API.
fn stored(port: u16, group: &str) -> Option<i64> {
    let (status, v) = get_json(port, &format!("/v3/kafka/local/consumer/{group}"))?;
    if status != 200 {
        return None;
    }
    v["topics"][TOPIC][0]["offsets"]
        .as_array()?
        .iter()
        .filter_map(|o| o["offset"].as_i64())
        .max()
}

#[test]
#[ignore = "10 minutes; run by scripts/fault-soak.sh"]
fn soak_through_the_fault_proxy() {
    let seconds: u64 = std::env::var("BURROW_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let proxy_port = burrow_testkit::free_port();
    let broker = OwnBroker::start(BrokerKind::TansuSrc, Some(proxy_port))
        .or_else(|| OwnBroker::start(BrokerKind::Tansu, Some(proxy_port)))
        .expect("a tansu broker (scripts/test-services.sh start)");
    let proxy = FaultProxy::start_on(proxy_port, &broker.addr());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let writer = rt.block_on(async {
        let cfg = ClientConfig {
            client_id: EXEMPT_CLIENT_ID.to_string(),
            ..ClientConfig::default()
        };
        let c = KafkaClient::connect(&[proxy.addr()], cfg).await.unwrap();
        c.create_topic("__consumer_offsets", OFFSETS_PARTITIONS, 1)
            .await
            .unwrap();
        c.create_topic(TOPIC, 1, 1).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.refresh_metadata().await.unwrap();
        c
    });
    let dir = std::env::temp_dir().join(format!("burrow-soak-{}", std::process::id()));
    let mut server = Server::start(&dir, &config(&proxy.addr()));
    let deadline = Instant::now() + Duration::from_secs(60);
    while common::http(server.port, "GET", "/burrow/admin/ready").map(|r| r.0) != Some(200) {
        assert!(Instant::now() < deadline, "never ready\n{}", server.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    let pid = server.child.id();
    let rss_start = rss_kib(pid);

    let faults = [
        Fault::Truncate(100),
        Fault::Reset,
        Fault::Delay(Duration::from_millis(300)),
        Fault::Reorder,
        Fault::Blackhole,
        Fault::Drop,
    ];
    let started = Instant::now();
    let mut round: i64 = 0;
    let mut commits = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        let phase = started.elapsed().as_secs() / 10;
        let fault = if phase % 2 == 0 {
            Fault::Pass
        } else {
            faults[(phase / 2) as usize % faults.len()]
        };
        proxy.set(fault);
        round += 1;
        rt.block_on(async {
            writer
                .produce(
                    TOPIC,
                    0,
                    &[(None, Some(Bytes::from_static(b"x")))],
                    Compression::None,
                )
                .await
                .unwrap();
            for g in 0..GROUPS {
                let group = format!("soak-{g}");
                let (k, v) = commit_record(&group, TOPIC, round, common::now_ms());
                let p = burrow_kafka::offsets::partition_for_group(&group, OFFSETS_PARTITIONS);
                writer
                    .produce(
                        "__consumer_offsets",
                        p,
                        &[(Some(Bytes::from(k)), Some(Bytes::from(v)))],
                        Compression::None,
                    )
                    .await
                    .unwrap();
            }
        });
        commits += GROUPS as u64;
        std::thread::sleep(Duration::from_millis(500));
    }
    proxy.set(Fault::Pass);
    let ended = Instant::now();
    let converge = Duration::from_secs(60);
    let mut lost: Vec<String> = Vec::new();
    for g in 0..GROUPS {
        let group = format!("soak-{g}");
        while stored(server.port, &group) != Some(round) && ended.elapsed() < converge {
            std::thread::sleep(Duration::from_millis(200));
        }
        if stored(server.port, &group) != Some(round) {
            lost.push(format!(
                "{group}: {:?} of {round}",
                stored(server.port, &group)
            ));
        }
    }
    let caught_up = ended.elapsed();
    let rss_end = rss_kib(pid);
    let log = server.log();
    let panics = log.matches("panicked").count();
    let cut = proxy.stats().cut.load(std::sync::atomic::Ordering::SeqCst);
    eprintln!(
        "soak: {seconds} s, {commits} commits in {round} rounds, {cut} connections cut by the proxy; \
         caught up {caught_up:?} after the last fault; panics {panics}; lost {}; RSS {rss_start} KiB at start, {rss_end} KiB at end",
        lost.len()
    );
    assert_eq!(panics, 0, "{log}");
    assert!(lost.is_empty(), "lost commits: {lost:?}\n{log}");
    assert!(server.terminate().success());
    let _ = std::fs::remove_dir_all(&dir);
}
