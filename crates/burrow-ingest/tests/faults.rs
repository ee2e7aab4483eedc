//! Faults on real brokers of the test's own, some through the test kit's fault proxy: a broker
//! killed and restarted empty on the same port, a connection cut in the middle of a response, a
//! truncated response, answers delayed, reordered or swallowed. Each checks that no commit the
//! broker still holds is lost, that the modules recover within the stated time, and the metric
//! that says what happened.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use burrow_ingest::cluster::{self, ClusterHandle};
use burrow_ingest::consumer::{self, ConsumerHandle, ConsumerSettings};
use burrow_ingest::IngestMetrics;
use burrow_kafka::{ClientConfig, Compression, KafkaClient};
use burrow_storage::{GroupFilter, Storage, StorageConfig};
use burrow_testkit::{BrokerKind, Fault, FaultProxy, OwnBroker, EXEMPT_CLIENT_ID};

mod common;
use common::*;

/// The cluster module's `offset-refresh` in these tests; the consumer checks its positions
/// against the log as often.
const REFRESH: Duration = Duration::from_secs(1);

/// The longest the consumer backs off between failed fetches (100 ms << 6).
const FETCH_BACKOFF_CAP: Duration = Duration::from_millis(6400);

struct Modules {
    storage: Arc<Storage>,
    metrics: IngestMetrics,
    cluster: ClusterHandle,
    consumer: ConsumerHandle,
}

impl Modules {
    async fn start(addr: &str, offsets_topic: &str) -> Modules {
        let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
        let metrics = IngestMetrics::unregistered();
        let cluster = cluster::start(cluster_settings(addr), storage.clone(), metrics.clone());
        let consumer = consumer::start(
            ConsumerSettings {
                name: "faults".into(),
                cluster: "local".into(),
                servers: vec![addr.to_string()],
                client: ClientConfig::default(),
                offsets_topic: offsets_topic.to_string(),
                start_latest: false,
                backfill_earliest: false,
                resume: Default::default(),
                position_check: REFRESH,
                filter: GroupFilter::default(),
            },
            storage.clone(),
            metrics.clone(),
            Some(cluster.refresher()),
            cluster.first_round(),
        );
        Modules {
            storage,
            metrics,
            cluster,
            consumer,
        }
    }

    fn resets(&self, reason: &str) -> u64 {
        self.metrics
            .position_resets
            .with_label_values(&["faults", reason])
            .get()
    }

    async fn stop(self) {
        self.consumer.stop().await;
        self.cluster.stop().await;
    }
}

/// A connected client with the offsets topic and a data topic (three records per partition).
async fn topics(addr: &str, offsets_topic: &str, topic: &str) -> KafkaClient {
    let client = KafkaClient::connect(&[addr.to_string()], ClientConfig::default())
        .await
        .unwrap();
    client
        .create_topic(offsets_topic, OFFSETS_PARTITIONS, 1)
        .await
        .unwrap();
    client
        .create_topic(topic, TOPIC_PARTITIONS, 1)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.refresh_metadata().await.unwrap();
    for p in 0..TOPIC_PARTITIONS {
        for _ in 0..3 {
            client
                .produce(
                    topic,
                    p,
                    &[(None, Some(Bytes::from_static(b"x")))],
                    Compression::None,
                )
                .await
                .unwrap();
        }
    }
    client
}

/// What the modules log (warnings and up), for the tests to read.
fn logs() -> &'static std::sync::Mutex<Vec<u8>> {
    static LOGS: std::sync::OnceLock<&'static std::sync::Mutex<Vec<u8>>> =
        std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buf: &'static std::sync::Mutex<Vec<u8>> = Box::leak(Box::default());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || Capture(buf))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buf
    })
}

struct Capture(&'static std::sync::Mutex<Vec<u8>>);

impl std::io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged(text: &str) -> bool {
    String::from_utf8_lossy(&logs().lock().unwrap()).contains(text)
}

/// The newest offset `group` has stored on partition 0 of `topic`.
fn newest(storage: &Storage, group: &str, topic: &str) -> Option<i64> {
    let topics = storage.fetch_consumer(burrow_core::now_ms(), "local", group)?;
    let partition = topics.get(topic)?.first()?;
    partition.offsets.iter().flatten().last().map(|o| o.offset)
}

/// The topics of the proxy tests.
const OFFSETS_TOPIC: &str = "offsets-faults";
const TOPIC: &str = "orders";

/// A proxy on `proxy_port` in front of `broker` (which advertises that port), the topics made
/// through it, a client through it, and a writer the proxy never faults.
async fn behind_the_proxy(
    broker: &OwnBroker,
    proxy_port: u16,
) -> (FaultProxy, KafkaClient, KafkaClient) {
    let proxy = FaultProxy::start_on(proxy_port, &broker.addr());
    let addr = proxy.addr();
    let client = topics(&addr, OFFSETS_TOPIC, TOPIC).await;
    let writer = KafkaClient::connect(
        std::slice::from_ref(&addr),
        ClientConfig {
            client_id: EXEMPT_CLIENT_ID.to_string(),
            ..ClientConfig::default()
        },
    )
    .await
    .unwrap();
    (proxy, client, writer)
}

/// Waits up to `limit` for `f`; how long it took.
async fn within(limit: Duration, what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    t.elapsed()
}

/// The broker dies and comes back empty on the same port (a replaced broker, a recreated topic):
/// the consumer's read position is now past the log's end. It must notice, say so, read the
/// log again from its start, and store the commits written after the broker's return within two
/// offset refreshes of the broker answering again (plus the fetch backoff it was in).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restarted_empty_on_the_same_port() {
    logs();
    for kind in BrokerKind::ALL {
        let Some(mut broker) = OwnBroker::start(kind, None) else {
            continue;
        };
        let name = kind.name();
        let one_batch = kind == BrokerKind::Noida;
        let addr = broker.addr();
        let (offsets_topic, topic) = ("offsets-faults".to_string(), "orders".to_string());
        let client = topics(&addr, &offsets_topic, &topic).await;
        let modules = Modules::start(&addr, &offsets_topic).await;
        // Before: enough records that the read positions are well past what comes after.
        for round in 1..=3 {
            for g in 0..4 {
                let group = format!("before-{g}");
                commit_all(&client, &offsets_topic, &group, &topic, round, one_batch).await;
            }
        }
        within(
            Duration::from_secs(30),
            &format!("{name}: commits before"),
            || {
                (0..4).all(|g| {
                    stored(&modules.storage, &format!("before-{g}"), &topic) == Some(vec![3; 4])
                })
            },
        )
        .await;
        drop(client);

        broker.restart_empty();
        let returned = Instant::now();
        let client = topics(&addr, &offsets_topic, &topic).await;
        commit_all(&client, &offsets_topic, "after", &topic, 2, one_batch).await;
        let limit = 2 * REFRESH + FETCH_BACKOFF_CAP + Duration::from_secs(10);
        within(limit, &format!("{name}: commits after the return"), || {
            stored(&modules.storage, "after", &topic) == Some(vec![2; 4])
        })
        .await;
        let took = returned.elapsed();
        let resets = modules.resets("log_went_backwards") + modules.resets("offset_out_of_range");
        assert!(resets >= 1, "{name}: no position reset counted");
        assert!(
            logged("the read position is past the end of the log")
                || logged("the broker answered OFFSET_OUT_OF_RANGE"),
            "{name}: the reset was not logged"
        );
        eprintln!("{name}: commits after the broker's return stored {took:?} after it listened again; {resets} partition resets");
        // Commits written later still arrive (the rebased orders keep increasing).
        commit_all(&client, &offsets_topic, "after", &topic, 3, one_batch).await;
        within(
            Duration::from_secs(20),
            &format!("{name}: later commits"),
            || stored(&modules.storage, "after", &topic) == Some(vec![3; 4]),
        )
        .await;
        modules.stop().await;
    }
}

/// Faults in the middle of the conversation, through the proxy (brokers that can advertise it):
/// a response truncated, every connection cut, answers delayed, reordered and swallowed for a
/// while. After each, the commits written during it (by a client the proxy exempts) are all
/// stored (none the broker holds is
/// lost) within the stated time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_in_the_middle_of_a_conversation() {
    logs();
    for kind in BrokerKind::ALL.into_iter().filter(|k| k.can_advertise()) {
        let proxy_port = burrow_testkit::free_port();
        let Some(broker) = OwnBroker::start(kind, Some(proxy_port)) else {
            continue;
        };
        let name = kind.name();
        let (proxy, client, writer) = behind_the_proxy(&broker, proxy_port).await;
        let addr = proxy.addr();
        let (offsets_topic, topic) = (OFFSETS_TOPIC.to_string(), TOPIC.to_string());
        let modules = Modules::start(&addr, &offsets_topic).await;
        let mut offset = 0;
        for fault in [
            Fault::Truncate(7),
            Fault::Reset,
            Fault::Delay(Duration::from_millis(300)),
            Fault::Reorder,
            Fault::Blackhole,
            Fault::Drop,
        ] {
            offset += 1;
            proxy.set(fault);
            // Written while the modules suffer, by a client the proxy lets through.
            commit_all(&writer, &offsets_topic, "during", &topic, offset, false).await;
            tokio::time::sleep(Duration::from_secs(3)).await;
            proxy.set(Fault::Pass);
            let limit = 2 * REFRESH + FETCH_BACKOFF_CAP + Duration::from_secs(15);
            let took = within(limit, &format!("{name}: after {fault:?}"), || {
                stored(&modules.storage, "during", &topic) == Some(vec![offset; 4])
            })
            .await;
            eprintln!("{name}: {fault:?} for 3 s: commits stored {took:?} after it ended");
        }
        let cut = proxy.stats().cut.load(std::sync::atomic::Ordering::SeqCst);
        assert!(cut > 0, "{name}: the proxy cut no connection");
        let failed_rounds = modules
            .metrics
            .fetch_rounds
            .with_label_values(&["faults", "failed"])
            .get();
        assert!(failed_rounds > 0, "{name}: no failed fetch round counted");
        assert!(
            logged("Kafka request failed"),
            "{name}: no failed request logged"
        );
        drop((client, writer));
        modules.stop().await;
        drop(proxy);
    }
}

/// The group APIs through the proxy: while the coordinator cannot be reached the polls fail
/// (counted, logged), and the commits made meanwhile are stored at the first poll after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_api_polls_recover_from_an_unreachable_coordinator() {
    use burrow_ingest::group_api::{self, GroupApiSettings};
    logs();
    for kind in BrokerKind::ALL.into_iter().filter(|k| k.can_advertise()) {
        let proxy_port = burrow_testkit::free_port();
        let Some(broker) = OwnBroker::start(kind, Some(proxy_port)) else {
            continue;
        };
        let name = kind.name();
        let (proxy, _client, writer) = behind_the_proxy(&broker, proxy_port).await;
        let addr = proxy.addr();
        let topic = TOPIC.to_string();
        let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
        let metrics = IngestMetrics::unregistered();
        let cluster = cluster::start(cluster_settings(&addr), storage.clone(), metrics.clone());
        let admin = group_api::start(
            GroupApiSettings {
                name: "faults".into(),
                cluster: "local".into(),
                servers: vec![addr.clone()],
                // A blackholed handshake or request waits these out before the client
                // reconnects: they bound the recovery.
                client: ClientConfig {
                    read_timeout: Duration::from_secs(2),
                    dial_timeout: Duration::from_secs(2),
                    ..ClientConfig::default()
                },
                filter: GroupFilter::default(),
                poll_interval: REFRESH,
            },
            storage.clone(),
            metrics.clone(),
            cluster.first_round(),
        );
        writer
            .commit_offsets("polled", &topic, &[(0, 1)])
            .await
            .unwrap();
        within(
            Duration::from_secs(30),
            &format!("{name}: first commit"),
            || newest(&storage, "polled", &topic) == Some(1),
        )
        .await;
        for fault in [Fault::Blackhole, Fault::Drop, Fault::Reset] {
            proxy.set(fault);
            let offset = match fault {
                Fault::Blackhole => 2,
                Fault::Drop => 3,
                _ => 4,
            };
            writer
                .commit_offsets("polled", &topic, &[(0, offset)])
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_secs(4)).await;
            proxy.set(Fault::Pass);
            let took = within(
                Duration::from_secs(30),
                &format!("{name}: after {fault:?}"),
                || newest(&storage, "polled", &topic) == Some(offset),
            )
            .await;
            eprintln!(
                "{name}: kafka_admin, {fault:?} for 4 s: commit stored {took:?} after it ended"
            );
        }
        let failed = metrics
            .group_polls
            .with_label_values(&["faults", "failed"])
            .get();
        assert!(failed > 0, "{name}: no failed poll counted");
        assert!(
            logged("polling the group APIs failed"),
            "{name}: the failure was not logged"
        );
        admin.stop().await;
        cluster.stop().await;
    }
}
