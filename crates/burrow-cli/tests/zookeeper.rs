//! ZooKeeper end to end: two `serve` instances share a ZooKeeper (started by this test so that it
//! can be restarted) and one webhook receiver. Exactly one instance delivers; killing the leader
//! (SIGKILL) hands over within the session timeout plus a few seconds, repeated over several
//! trials, without duplicate alerts; a ZooKeeper restart produces no burst of duplicates. And the
//! `kafka_zk` consumer: offsets written under `/consumers` appear in the HTTP API with their lag.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{brokers, get_json, http, now_ms, receiver, Kafka, OwnZk, Seen, Server};

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Session timeout of the instances (s): kills are detected after this.
const ZK_TIMEOUT: u64 = 4;
/// A new leader sends again what fell due within two session timeouts before it took over
/// (the old leader may have been cut off meanwhile): problems are made older than this before
/// a failover, so that any repeat is a fault.
const HANDOVER: Duration = Duration::from_secs(2 * ZK_TIMEOUT + 1);
const TRIALS: usize = 3;

fn config(addr: &str, zk: &str, root: &str, receiver: u16, id: &str) -> String {
    format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
[zookeeper]
servers = ["{zk}"]
timeout = {ZK_TIMEOUT}
root-path = "{root}"
[cluster.local]
class-name = "kafka"
servers = ["{addr}"]
offset-refresh = 1
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["{addr}"]
[storage.default]
intervals = 3
[evaluator.default]
expire-cache = 1
[httpserver.default]
address = "127.0.0.1:@PORT@"
[notifier.web]
class-name = "http"
interval = 1
send-interval = 3600
group-allowlist = "^zk-{id}-"
url-open = "http://127.0.0.1:{receiver}/{{{{ Group }}}}"
template-open = "{template}"
"#,
        template = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../burrow-notify/templates/default-http-post.tmpl")
            .display()
    )
}

/// POSTs per group.
fn posts(seen: &Arc<Mutex<Vec<Seen>>>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in seen.lock().unwrap().iter().filter(|r| r.method == "POST") {
        *out.entry(r.path.trim_start_matches('/').to_string())
            .or_default() += 1;
    }
    out
}

fn is_leader(s: &Server) -> bool {
    http(s.port, "GET", "/metrics")
        .is_some_and(|(_, m)| m.lines().any(|l| l == "burrow_notifier_leader 1"))
}

fn wait(what: &str, secs: u64, servers: &[&Server], mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        if Instant::now() > deadline {
            let logs: Vec<String> = servers.iter().map(|s| s.log()).collect();
            panic!("{what} never happened\n{}", logs.join("\n-----\n"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Makes `group` ERR: lagging commits that stopped ten minutes ago.
async fn failing_group(kafka: &Kafka, group: &str, topic: &str) {
    let now = now_ms();
    for (i, o) in [40, 45, 50].iter().enumerate() {
        kafka
            .commit(group, topic, *o, now - 620_000 + i as i64 * 10_000)
            .await;
    }
}

async fn client_after_restart(zk: &OwnZk) -> zookeeper_client::Client {
    burrow_zk::connect(&burrow_zk::ZkSettings {
        servers: vec![zk.addr()],
        session_timeout: Duration::from_secs(6),
        tls: None,
    })
    .await
    .unwrap()
}

fn refs(servers: &[Server]) -> Vec<&Server> {
    servers.iter().collect()
}

/// Waits until the last notification fell due more than the handover window ago.
fn age_out(last_due: Instant) {
    if let Some(left) = HANDOVER.checked_sub(last_due.elapsed()) {
        std::thread::sleep(left);
    }
}

fn kill9(s: &mut Server) {
    let _ = Command::new("kill")
        .args(["-KILL", &s.child.id().to_string()])
        .status();
    let _ = s.child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_notifies_failover_and_zookeeper_restart() {
    let Some(mut zk) = OwnZk::start() else { return };
    let Some((_, addr)) = brokers().into_iter().next() else {
        return;
    };
    let kafka = Kafka::connect(&addr).await;
    let id = format!("{}-{}", std::process::id(), now_ms() % 100_000);
    let topic = format!("zk-topic-{id}");
    kafka.topic(&topic, 100).await;
    let (port, seen) = receiver(0);
    let root = format!("/burrow-{id}");
    let cfg = config(&addr, &zk.addr(), &root, port, &id);
    let base = std::env::temp_dir().join(format!("burrow-zk-e2e-{id}"));
    let mut n = 0;
    let mut start = || {
        n += 1;
        Server::start(&base.join(format!("i{n}")), &cfg)
    };

    let g0 = format!("zk-{id}-0");
    let mut servers = vec![start(), start()];
    // Decision 6 keeps Burrow's drop of commits whose topic has no broker offsets yet: the
    // commits go in once both instances know the topic.
    for s in &servers {
        s.wait_for(
            "the topic",
            &format!("/v3/kafka/local/topic/{topic}"),
            |c, _| c == 200,
        );
    }
    failing_group(&kafka, &g0, &topic).await;
    let leaders = |servers: &[Server]| servers.iter().filter(|s| is_leader(s)).count();
    wait("one POST", 40, &refs(&servers), || {
        posts(&seen).get(&g0) == Some(&1)
    });
    let mut last_due = Instant::now();
    wait("one leader", 10, &refs(&servers), || leaders(&servers) == 1);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        posts(&seen).get(&g0),
        Some(&1),
        "exactly one instance delivers"
    );

    let client = burrow_zk::connect(&burrow_zk::ZkSettings {
        servers: vec![zk.addr()],
        session_timeout: Duration::from_secs(6),
        tls: None,
    })
    .await
    .unwrap();
    let lock_dir = format!("{root}/notifier");
    let mut failovers = Vec::new();
    for trial in 1..=TRIALS {
        age_out(last_due);
        // Kill the leader without a chance to clean up: its session must expire.
        let i = servers.iter().position(is_leader).unwrap();
        let mut dead = servers.remove(i);
        kill9(&mut dead);
        let killed = Instant::now();
        wait(
            "the follower takes over",
            ZK_TIMEOUT + 15,
            &refs(&servers),
            || is_leader(&servers[0]),
        );
        let took = killed.elapsed();
        failovers.push(took);
        eprintln!("trial {trial}: failover in {took:?}");
        // The new leader repeats nothing, and delivers a new problem once.
        let g = format!("zk-{id}-{trial}");
        failing_group(&kafka, &g, &topic).await;
        wait("the new leader's POST", 30, &refs(&servers), || {
            posts(&seen).get(&g) == Some(&1)
        });
        last_due = Instant::now();
        // The killed instance's lock node expired with its session.
        let nodes = client.get_children(&lock_dir).await.unwrap().0;
        assert_eq!(nodes.len(), 1, "trial {trial}: {nodes:?}");
        // A new instance joins as follower for the next trial.
        servers.push(start());
        let deadline = Instant::now() + Duration::from_secs(30);
        while client.get_children(&lock_dir).await.unwrap().0.len() != 2 {
            assert!(Instant::now() < deadline, "the newcomer never joined");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(leaders(&servers), 1, "trial {trial}: one leader");
    }

    // ZooKeeper restarts faster than the session timeout: the leader pauses and resumes, and
    // what fell due meanwhile is sent once. On a loaded machine the leader may not reconnect
    // within its session timeout: then the other instance takes over and sends it (what fell
    // due within the handover window), still once.
    age_out(last_due);
    let leader_before = servers.iter().position(is_leader);
    let g = format!("zk-{id}-restart");
    failing_group(&kafka, &g, &topic).await;
    let away = zk.restart(Duration::from_millis(1500));
    eprintln!("zookeeper away for {away:?}");
    wait("the POST after the restart", 40, &refs(&servers), || {
        posts(&seen).get(&g) == Some(&1)
    });
    std::thread::sleep(Duration::from_secs(2));
    let leader_after = servers.iter().position(is_leader);
    assert!(
        leader_after.is_some(),
        "an instance leads after the restart"
    );
    eprintln!(
        "after the restart: {}",
        if leader_after == leader_before {
            "the same instance leads"
        } else {
            "the other instance took over (the leader's session expired)"
        }
    );
    // The leader said what the restart did to it, and nothing panicked.
    let logs: Vec<String> = servers.iter().map(|s| s.log()).collect();
    assert!(
        logs.iter()
            .any(|l| l.contains("zookeeper disconnected") || l.contains("zookeeper session lost")),
        "no instance logged the ZooKeeper restart: {logs:?}"
    );
    assert!(!logs.iter().any(|l| l.contains("panicked")), "{logs:?}");
    let counts = posts(&seen);
    assert!(
        counts.values().all(|c| *c == 1),
        "no duplicates: {counts:?}"
    );
    assert_eq!(counts.len(), TRIALS + 2, "{counts:?}");
    eprintln!("failover times: {failovers:?}; POSTs per group: {counts:?}");
    for s in &mut servers {
        let status = s.terminate();
        assert!(status.success(), "{}", s.log());
    }
    assert!(
        client_after_restart(&zk)
            .await
            .get_children(&lock_dir)
            .await
            .unwrap()
            .0
            .is_empty(),
        "clean stops leave no lock node"
    );
    let _ = std::fs::remove_dir_all(&base);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_zk_offsets_appear_in_the_api_with_their_lag() {
    let Some(zk) = common::service("BURROW_TEST_ZK") else {
        return;
    };
    let Some((_, addr)) = brokers().into_iter().next() else {
        return;
    };
    let kafka = Kafka::connect(&addr).await;
    let id = format!("{}-{}", std::process::id(), now_ms() % 100_000);
    let topic = format!("kzk-{id}");
    kafka.topic(&topic, 100).await;
    let chroot = format!("/kafka-{id}");
    let cfg = format!(
        r#"
[cluster.local]
class-name = "kafka"
servers = ["{addr}"]
offset-refresh = 1
[consumer.old]
class-name = "kafka_zk"
cluster = "local"
servers = ["{zk}"]
zookeeper-path = "{chroot}"
zookeeper-timeout = 6
[evaluator.default]
expire-cache = 1
[httpserver.default]
address = "127.0.0.1:@PORT@"
"#
    );
    let client = burrow_zk::connect(&burrow_zk::ZkSettings {
        servers: vec![zk.clone()],
        session_timeout: Duration::from_secs(6),
        tls: None,
    })
    .await
    .unwrap();
    let offsets = format!("{chroot}/consumers/old-group/offsets/{topic}");
    burrow_zk::ensure_path(&client, &offsets).await.unwrap();
    burrow_zk::ensure_path(
        &client,
        &format!("{chroot}/consumers/old-group/owners/{topic}"),
    )
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("burrow-kzk-{id}"));
    let server = Server::start(&dir, &cfg);
    let set = |path: String, data: String| {
        let client = client.clone();
        async move {
            if client.set_data(&path, data.as_bytes(), None).await.is_err() {
                client
                    .create(
                        &path,
                        data.as_bytes(),
                        &zookeeper_client::CreateMode::Persistent
                            .with_acls(zookeeper_client::Acls::anyone_all()),
                    )
                    .await
                    .unwrap();
            }
        }
    };
    // Written after the module started: the watch picks them up.
    set(format!("{offsets}/0"), "60".into()).await;
    set(
        format!("{chroot}/consumers/old-group/owners/{topic}/0"),
        "old-group_host-1".into(),
    )
    .await;
    let v = server.wait_for(
        "the ZooKeeper group",
        "/v3/kafka/local/consumer/old-group/lag",
        |s, v| s == 200 && v["status"]["partitions"][0]["current_lag"] == 40,
    );
    assert_eq!(v["status"]["partitions"][0]["owner"], "old-group_host-1");
    assert_eq!(v["status"]["partitions"][0]["end"]["offset"], 60);
    set(format!("{offsets}/0"), "90".into()).await;
    server.wait_for(
        "the new offset",
        "/v3/kafka/local/consumer/old-group/lag",
        |s, v| s == 200 && v["status"]["partitions"][0]["current_lag"] == 10,
    );
    let (_, v) = get_json(server.port, "/v3/kafka/local/consumer").unwrap();
    assert!(v["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g == "old-group"));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
