//! Leader election and the kafka_zk consumer against a real ZooKeeper 3.8 (Debian's package,
//! started by `scripts/test-services.sh`, or by a test that needs to stop and restart it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use burrow_core::BrokerOffsetEvent;
use burrow_notify::Role;
use burrow_storage::{GroupFilter, Storage, StorageConfig};
use burrow_zk::kafka_zk::{self, ZkConsumerMetrics, ZkConsumerSettings};
use burrow_zk::{ensure_path, leader, ZkSettings};
use zookeeper_client as zk;

fn shared_zk() -> Option<String> {
    match std::env::var("BURROW_TEST_ZK") {
        Ok(a) if !a.is_empty() => Some(a),
        _ if std::env::var_os("CI").is_some() => panic!("BURROW_TEST_ZK is not set in CI"),
        _ => {
            eprintln!("skipping: BURROW_TEST_ZK not set (scripts/test-services.sh start)");
            None
        }
    }
}

fn unique(what: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000;
    format!("/test-{what}-{}-{n}", std::process::id())
}

fn settings(addr: &str, timeout_ms: u64) -> ZkSettings {
    ZkSettings {
        servers: vec![addr.to_string()],
        session_timeout: Duration::from_millis(timeout_ms),
        tls: None,
    }
}

/// A ZooKeeper of this test's own, so that it can be stopped and restarted on the same data.
struct OwnZk {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
    java_args: Vec<String>,
}

impl OwnZk {
    fn start() -> Option<OwnZk> {
        Self::start_with("clientPort", Vec::new())
    }

    /// A ZooKeeper that speaks only TLS (Netty, `secureClientPort`), with the PKI's server
    /// certificate, asking every client for a certificate from the PKI's CA.
    fn start_tls(pki: &burrow_testkit::TestPki) -> Option<OwnZk> {
        let keystore = pki.path("zk-keystore.pem");
        let key = std::fs::read_to_string(pki.path("key.pem")).unwrap();
        let cert = std::fs::read_to_string(pki.path("cert.pem")).unwrap();
        std::fs::write(&keystore, key + &cert).unwrap();
        let args = [
            "zookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory"
                .to_string(),
            format!("zookeeper.ssl.keyStore.location={}", keystore.display()),
            "zookeeper.ssl.keyStore.type=PEM".into(),
            format!(
                "zookeeper.ssl.trustStore.location={}",
                pki.path("ca.pem").display()
            ),
            "zookeeper.ssl.trustStore.type=PEM".into(),
            "zookeeper.ssl.clientAuth=need".into(),
        ];
        Self::start_with(
            "secureClientPort",
            args.iter().map(|a| format!("-D{a}")).collect(),
        )
    }

    fn start_with(port_key: &str, java_args: Vec<String>) -> Option<OwnZk> {
        let classpath = match std::env::var("BURROW_TEST_ZK_CLASSPATH") {
            Ok(c) => c,
            _ if std::env::var_os("CI").is_some() => {
                panic!("BURROW_TEST_ZK_CLASSPATH not set in CI")
            }
            _ => return None,
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("burrow-zk-{}-{port}", std::process::id()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(
            dir.join("zoo.cfg"),
            format!(
                "tickTime=500\ndataDir={}\n{port_key}={port}\n{port_key}Address=127.0.0.1\nminSessionTimeout=1000\nmaxSessionTimeout=60000\nadmin.enableServer=false\n",
                dir.join("data").display()
            ),
        )
        .unwrap();
        let mut zk = OwnZk {
            child: None,
            dir,
            port,
            java_args,
        };
        zk.spawn(&classpath);
        Some(zk)
    }

    fn spawn(&mut self, classpath: &str) {
        let child = Command::new("java")
            .arg("-Xmx128m")
            .args(&self.java_args)
            .args(["-cp", classpath])
            .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
            .arg(self.dir.join("zoo.cfg"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "zookeeper did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn restart(&mut self) {
        self.stop();
        let classpath = std::env::var("BURROW_TEST_ZK_CLASSPATH").unwrap();
        self.spawn(&classpath);
    }

    /// Replaces the server by an empty one on the same port: it knows no session, so every
    /// client's session is expired when it reconnects.
    fn replace_with_empty(&mut self) {
        self.stop();
        std::fs::remove_dir_all(self.dir.join("data")).unwrap();
        std::fs::create_dir_all(self.dir.join("data")).unwrap();
        let classpath = std::env::var("BURROW_TEST_ZK_CLASSPATH").unwrap();
        self.spawn(&classpath);
    }
}

impl Drop for OwnZk {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The roles an election went through, with when.
type RoleLog = Arc<Mutex<Vec<(Instant, Role)>>>;

/// Every role an election goes through, with when.
fn record(mut rx: tokio::sync::watch::Receiver<Role>) -> RoleLog {
    let log = Arc::new(Mutex::new(vec![(Instant::now(), *rx.borrow())]));
    let out = log.clone();
    tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let r = *rx.borrow_and_update();
            log.lock().unwrap().push((Instant::now(), r));
        }
    });
    out
}

fn current(log: &RoleLog) -> Role {
    log.lock().unwrap().last().map(|x| x.1).unwrap()
}

async fn wait_for(what: &str, secs: u64, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_path_is_created_with_every_missing_prefix() {
    let Some(addr) = shared_zk() else { return };
    let client = burrow_zk::connect(&settings(&addr, 6000)).await.unwrap();
    let base = unique("paths");
    // The first prefix exists; Burrow stopped there (decision 16).
    client
        .create(
            &base,
            &[],
            &zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all()),
        )
        .await
        .unwrap();
    let deep = format!("{base}/b/c/d");
    ensure_path(&client, &deep).await.unwrap();
    assert!(client.check_stat(&deep).await.unwrap().is_some());
    // Idempotent.
    ensure_path(&client, &deep).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_handover_and_no_leftover_lock_nodes() {
    let Some(addr) = shared_zk() else { return };
    let root = unique("election");
    let mut contenders: Vec<_> = (0..3)
        .map(|_| {
            let e = leader::start(settings(&addr, 6000), root.clone());
            let log = record(e.role());
            (e, log)
        })
        .collect();
    let client = burrow_zk::connect(&settings(&addr, 6000)).await.unwrap();
    let dir = format!("{root}/notifier");
    while !contenders.is_empty() {
        let leaders = |c: &[(leader::Leadership, RoleLog)]| {
            c.iter().filter(|(_, l)| current(l) == Role::Leader).count()
        };
        wait_for("a leader", 10, || leaders(&contenders) == 1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(leaders(&contenders), 1, "exactly one leader");
        let nodes = client.get_children(&dir).await.unwrap().0;
        assert_eq!(
            nodes.len(),
            contenders.len(),
            "one lock node per contender: {nodes:?}"
        );
        assert!(
            nodes
                .iter()
                .all(|n| n.starts_with("_c_") && n.contains("-lock-")),
            "{nodes:?}"
        );
        // The leader leaves; its node goes with it and the next one takes over.
        let i = contenders
            .iter()
            .position(|(_, l)| current(l) == Role::Leader)
            .unwrap();
        let (e, _) = contenders.remove(i);
        let t = Instant::now();
        e.stop().await;
        if !contenders.is_empty() {
            wait_for("a new leader", 10, || leaders(&contenders) == 1).await;
            eprintln!("handover after a clean stop: {:?}", t.elapsed());
        }
    }
    assert!(
        client.get_children(&dir).await.unwrap().0.is_empty(),
        "no lock node left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zookeeper_restart_keeps_the_same_leader() {
    let Some(mut zk) = OwnZk::start() else { return };
    let addr = zk.addr();
    let a = leader::start(settings(&addr, 6000), "/burrow".into());
    let la = record(a.role());
    wait_for("a leads", 10, || current(&la) == Role::Leader).await;
    let b = leader::start(settings(&addr, 6000), "/burrow".into());
    let lb = record(b.role());
    tokio::time::sleep(Duration::from_millis(500)).await;
    zk.restart();
    // The sessions survive a restart shorter than their timeout: a resumes, b never leads.
    wait_for("a leads again", 15, || {
        let log = la.lock().unwrap();
        log.iter().any(|x| x.1 == Role::Paused) && log.last().map(|x| x.1) == Some(Role::Leader)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        lb.lock().unwrap().iter().all(|x| x.1 != Role::Leader),
        "b never led: {:?}",
        lb.lock().unwrap().iter().map(|x| x.1).collect::<Vec<_>>()
    );
    a.stop().await;
    wait_for("b takes over", 10, || current(&lb) == Role::Leader).await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_zk_reads_offsets_owners_and_new_groups() {
    let Some(addr) = shared_zk() else { return };
    let chroot = unique("kafka");
    let base = format!("{chroot}/consumers");
    let client = burrow_zk::connect(&settings(&addr, 6000)).await.unwrap();
    // Partitions 3 and 7 only (decision 17), an owner, an unparseable offset, a denied group.
    put(&client, &format!("{base}/old/offsets/t/3"), "42").await;
    put(&client, &format!("{base}/old/offsets/t/7"), "40").await;
    put(&client, &format!("{base}/old/owners/t/3"), "old_host-1").await;
    put(&client, &format!("{base}/old/offsets/t/0"), "not-a-number").await;
    put(&client, &format!("{base}/storm-x/offsets/t/0"), "1").await;
    // A topic without broker offsets yet: dropped at first, read again once they are known.
    put(&client, &format!("{base}/old/offsets/late/0"), "5").await;

    let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
    for p in 0..8 {
        let _ = storage.set_broker_offset(&BrokerOffsetEvent {
            cluster: "local".into(),
            topic: "t".into(),
            partition: p,
            partition_count: 8,
            offset: 50,
            timestamp: 0,
        });
    }
    let metrics = ZkConsumerMetrics::unregistered().unwrap();
    let handle = kafka_zk::start(
        ZkConsumerSettings {
            name: "zk".into(),
            cluster: "local".into(),
            zk: settings(&addr, 6000),
            base_path: base.clone(),
            filter: GroupFilter::new("", "^storm-", "consumer.zk").unwrap(),
        },
        storage.clone(),
        metrics.clone(),
        tokio::sync::watch::channel(true).1,
    );
    let mut ready = handle.ready();
    tokio::time::timeout(Duration::from_secs(10), ready.wait_for(|r| *r))
        .await
        .unwrap()
        .unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    };
    let offsets = |group: &str| -> Vec<(i32, Vec<i64>, String)> {
        let Some(topics) = storage.fetch_consumer(now(), "local", group) else {
            return Vec::new();
        };
        topics
            .get("t")
            .map(|ps| {
                ps.iter()
                    .enumerate()
                    .filter(|(_, p)| p.offsets.iter().flatten().next().is_some())
                    .map(|(i, p)| {
                        (
                            i as i32,
                            p.offsets.iter().flatten().map(|o| o.offset).collect(),
                            p.owner.clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let got = offsets("old");
    assert_eq!(
        got,
        vec![
            (3, vec![42], "old_host-1".to_string()),
            (7, vec![40], String::new())
        ]
    );
    assert!(offsets("storm-x").is_empty(), "denylisted");
    assert_eq!(
        metrics
            .skipped
            .with_label_values(&["zk", "unparseable"])
            .get(),
        1
    );
    // A new commit, then a group that appears later: both followed by the watch.
    put(&client, &format!("{base}/old/offsets/t/3"), "45").await;
    put(&client, &format!("{base}/new/offsets/t/1"), "7").await;
    wait_for("the new commit and group", 10, || {
        offsets("old").first().map(|x| x.1.clone()) == Some(vec![42, 45])
            && offsets("new") == vec![(1, vec![7], String::new())]
    })
    .await;
    assert!(!storage
        .fetch_consumer(now(), "local", "old")
        .unwrap()
        .contains_key("late"));
    let _ = storage.set_broker_offset(&BrokerOffsetEvent {
        cluster: "local".into(),
        topic: "late".into(),
        partition: 0,
        partition_count: 1,
        offset: 9,
        timestamp: 0,
    });
    wait_for("the late topic's commit", 10, || {
        storage
            .fetch_consumer(now(), "local", "old")
            .and_then(|t| t.get("late").map(|p| p[0].current_lag))
            == Some(4)
    })
    .await;
    // Timestamp = the node's mtime, order = its mzxid.
    let (_, stat) = client
        .get_data(&format!("{base}/old/offsets/t/3"))
        .await
        .unwrap();
    let topics = storage.fetch_consumer(now(), "local", "old").unwrap();
    let last = topics["t"][3]
        .offsets
        .iter()
        .flatten()
        .last()
        .copied()
        .unwrap();
    assert_eq!((last.timestamp, last.order), (stat.mtime, stat.mzxid));
    handle.stop().await;
}

/// Creates `path` (and its parents) holding `data`, or sets its data.
async fn put(client: &zk::Client, path: &str, data: &str) {
    let parent = path.rsplit_once('/').unwrap().0.to_string();
    ensure_path(client, &parent).await.unwrap();
    let opts = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    match client.create(path, data.as_bytes(), &opts).await {
        Ok(_) => {}
        Err(zk::Error::NodeExists) => {
            client.set_data(path, data.as_bytes(), None).await.unwrap();
        }
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_zk_reads_the_tree_again_after_its_session_expires() {
    let Some(mut zk) = OwnZk::start() else { return };
    let addr = zk.addr();
    let base = "/consumers";
    let client = burrow_zk::connect(&settings(&addr, 4000)).await.unwrap();
    put(&client, &format!("{base}/g/offsets/t/0"), "10").await;

    let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
    for p in 0..2 {
        let _ = storage.set_broker_offset(&BrokerOffsetEvent {
            cluster: "local".into(),
            topic: "t".into(),
            partition: p,
            partition_count: 2,
            offset: 100,
            timestamp: 0,
        });
    }
    let handle = kafka_zk::start(
        ZkConsumerSettings {
            name: "zk".into(),
            cluster: "local".into(),
            zk: settings(&addr, 4000),
            base_path: base.into(),
            filter: GroupFilter::new("", "", "consumer.zk").unwrap(),
        },
        storage.clone(),
        ZkConsumerMetrics::unregistered().unwrap(),
        tokio::sync::watch::channel(true).1,
    );
    let mut ready = handle.ready();
    tokio::time::timeout(Duration::from_secs(10), ready.wait_for(|r| *r))
        .await
        .unwrap()
        .unwrap();
    let offsets = |group: &str, partition: usize| -> Vec<i64> {
        storage
            .fetch_consumer(burrow_core::now_ms(), "local", group)
            .and_then(|t| t.get("t").and_then(|ps| ps.get(partition).cloned()))
            .map(|p| p.offsets.iter().flatten().map(|o| o.offset).collect())
            .unwrap_or_default()
    };
    wait_for("the first commit", 10, || offsets("g", 0) == vec![10]).await;

    // A new ensemble on the same address: the module's session is gone, so it must connect
    // again and read the whole tree, which now holds another partition and another group. (Not
    // a newer commit of g/t/0: an empty ensemble numbers its zxids from the start again, so
    // that commit would be older than the one stored, by its order.)
    drop(client);
    zk.replace_with_empty();
    let client = burrow_zk::connect(&settings(&addr, 4000)).await.unwrap();
    put(&client, &format!("{base}/g/offsets/t/1"), "20").await;
    put(&client, &format!("{base}/h/offsets/t/1"), "30").await;
    wait_for("the tree read again with a new session", 30, || {
        offsets("g", 1) == vec![20] && offsets("h", 1) == vec![30]
    })
    .await;
    // And followed again: a commit after the new read arrives through the new watch.
    put(&client, &format!("{base}/h/offsets/t/1"), "35").await;
    wait_for("a commit through the new watch", 10, || {
        offsets("h", 1) == vec![30, 35]
    })
    .await;
    handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_zookeeper_with_a_client_certificate() {
    let pki = burrow_testkit::TestPki::new("zk-tls", &["127.0.0.1", "localhost"]);
    let Some(zk) = OwnZk::start_tls(&pki) else {
        return;
    };
    let file = |f: &str| pki.path(f).display().to_string();
    let tls = |ca: &str, cert: &str, key: &str| {
        Some(burrow_zk::ZkTls::from_files("tls.zk", &file(ca), cert, key, false).unwrap())
    };
    let with = |tls| ZkSettings {
        servers: vec![zk.addr()],
        session_timeout: Duration::from_secs(6),
        tls,
    };
    let (cert, key) = (file("cert.pem"), file("key.pem"));

    // Trusted server, client certificate presented: a session, and the leader election on it.
    let good = with(tls("ca.pem", &cert, &key));
    let client = burrow_zk::connect(&good).await.unwrap();
    ensure_path(&client, "/burrow-tls/a").await.unwrap();
    assert!(client.check_stat("/burrow-tls/a").await.unwrap().is_some());
    let election = leader::start(good, "/burrow-tls".into());
    let log = record(election.role());
    wait_for("leads over TLS", 15, || current(&log) == Role::Leader).await;
    election.stop().await;

    // Refused: a server certificate from another CA, no client certificate, plain TCP.
    for (what, settings) in [
        ("another CA", with(tls("other-ca.pem", &cert, &key))),
        ("no client certificate", with(tls("ca.pem", "", ""))),
        ("plain TCP", with(None)),
    ] {
        let attempt =
            tokio::time::timeout(Duration::from_secs(20), burrow_zk::connect(&settings)).await;
        assert!(
            !matches!(attempt, Ok(Ok(_))),
            "{what}: a session was established"
        );
    }
}
