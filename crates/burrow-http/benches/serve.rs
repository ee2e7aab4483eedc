//! Serving benchmarks (run with `cargo bench -p burrow-http --bench serve`; numbers are printed,
//! never asserted):
//! - `/metrics` with 10,000 groups of 10 partitions: background render time and scrape time;
//! - `/v3/kafka/local/consumer/big/lag` of a 100-partition group: in-process answers per second,
//!   and over loopback under `wrk` (when `wrk` is installed);
//! - resident memory of 1,000,000 stored group partitions with full windows.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent};
use burrow_eval::{CachingEvaluator, EvaluatorConfig};
use burrow_http::{Api, MetricsExporter, ServeOptions};
use burrow_storage::{Storage, StorageConfig};
use hyper::Method;

const NOW: i64 = 1_700_000_000_000;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// `groups` groups, each reading its own slice of `partitions` partitions of topic `t<i % 100>`,
/// with `commits` commits per partition.
fn fill(storage: &Storage, groups: usize, partitions: i32, commits: i64, prefix: &str) {
    for t in 0..100 {
        for p in 0..partitions {
            let _ = storage.set_broker_offset(&BrokerOffsetEvent {
                cluster: "local".into(),
                topic: format!("t{t}"),
                partition: p,
                partition_count: partitions,
                offset: 1_000_000,
                timestamp: NOW,
            });
        }
    }
    for g in 0..groups {
        let group = format!("{prefix}{g}");
        let topic = format!("t{}", g % 100);
        for p in 0..partitions {
            for c in 0..commits {
                let _ = storage.set_consumer_offset(
                    NOW,
                    &ConsumerOffsetEvent {
                        cluster: "local".into(),
                        group: group.clone(),
                        topic: topic.clone(),
                        partition: p,
                        offset: 999_000 + c * 10,
                        order: c,
                        timestamp: NOW - (commits - c) * 60_000,
                    },
                );
            }
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // test mode or --list: nothing to run
    }
    // Resident memory of 1,000,000 group partitions (100,000 groups x 10), windows full.
    let before = rss_kib();
    // First, in a fresh process heap (freed memory of later steps would hide the growth).
    let storage = Storage::new(StorageConfig::default(), ["local"]).unwrap();
    fill(&storage, 100_000, 10, 10, "m");
    let after = rss_kib();
    let stats = storage.stats();
    println!(
        "memory, 1,000,000 group partitions with 10 commits each: RSS grew {} MiB ({} bytes per group partition); {stats:?}",
        (after - before) / 1024,
        (after - before) * 1024 / 1_000_000
    );
    drop(storage);

    // /metrics with 10,000 groups of 10 partitions.
    let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
    fill(&storage, 10_000, 10, 10, "g");
    // The 100-partition group of the lag benchmark.
    for p in 0..100 {
        let _ = storage.set_broker_offset(&BrokerOffsetEvent {
            cluster: "local".into(),
            topic: "big".into(),
            partition: p,
            partition_count: 100,
            offset: 5_000,
            timestamp: NOW,
        });
        for c in 0..10 {
            let _ = storage.set_consumer_offset(
                NOW,
                &ConsumerOffsetEvent {
                    cluster: "local".into(),
                    group: "big".into(),
                    topic: "big".into(),
                    partition: p,
                    offset: 4_000 + c * 50,
                    order: c,
                    timestamp: NOW - (10 - c) * 60_000,
                },
            );
        }
    }
    let evaluator =
        Arc::new(CachingEvaluator::new(storage.clone(), EvaluatorConfig::default()).unwrap());
    let exporter = Arc::new(MetricsExporter::new(
        storage.clone(),
        evaluator.clone(),
        prometheus::Registry::new(),
    ));
    let api = Api::builder(storage.clone(), evaluator.clone())
        .metrics(exporter.clone())
        .host("bench")
        .clock(|| NOW)
        .build();
    let mut renders = Vec::new();
    for i in 0..5 {
        let t = Instant::now();
        // A later clock each time so the evaluator cache is cold, as in a real round.
        exporter.refresh(NOW + i * 20_000).unwrap();
        renders.push(t.elapsed());
    }
    let mut scrapes = Vec::new();
    let mut size = 0;
    for _ in 0..50 {
        let t = Instant::now();
        let r = api.respond(&Method::GET, "/metrics", b"");
        scrapes.push(t.elapsed());
        size = http_body::Body::size_hint(r.body()).exact().unwrap_or(0);
    }
    println!(
        "metrics, 10,000 groups x 10 partitions: background evaluate+render {:?} (median of 5), scrape {:?} (median of 50), body {} bytes",
        median(renders),
        median(scrapes),
        size
    );

    // The dashboard's overview of the 10,000 groups: evaluated (cache cold and warm), as JSON,
    // gzipped for a browser.
    let gzip = {
        let mut h = hyper::HeaderMap::new();
        h.insert(
            "accept-encoding",
            hyper::header::HeaderValue::from_static("gzip"),
        );
        h
    };
    let overview = |headers: &hyper::HeaderMap| {
        let t = Instant::now();
        let r = api
            .respond_dashboard(&Method::GET, "/ui/api/overview", None, headers)
            .unwrap();
        assert_eq!(r.status(), 200);
        let size = http_body::Body::size_hint(r.body()).exact().unwrap_or(0);
        (t.elapsed(), size)
    };
    let cold = Api::builder(
        storage.clone(),
        Arc::new(CachingEvaluator::new(storage.clone(), EvaluatorConfig::default()).unwrap()),
    )
    .clock(|| NOW)
    .build();
    let t = Instant::now();
    let _ = cold.respond_dashboard(&Method::GET, "/ui/api/overview", None, &gzip);
    let cold_time = t.elapsed();
    let warm: Vec<Duration> = (0..10).map(|_| overview(&gzip).0).collect();
    let (_, plain_size) = overview(&hyper::HeaderMap::new());
    let (_, gz_size) = overview(&gzip);
    println!(
        "dashboard overview, 10,000 groups x 10 partitions: {:?} with the evaluator cache cold, {:?} warm (median of 10); {} bytes, {} gzipped",
        cold_time,
        median(warm),
        plain_size,
        gz_size
    );

    // /lag of a 100-partition group, in process.
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        let r = api.respond(&Method::GET, "/v3/kafka/local/consumer/big/lag", b"");
        assert_eq!(r.status(), 200);
    }
    let el = t.elapsed();
    println!(
        "lag of a 100-partition group, in process, one thread: {:.0} answers/s",
        n as f64 / el.as_secs_f64()
    );

    // Over loopback under wrk.
    if std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok()
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = rt.spawn(burrow_http::serve(
            listener,
            api.clone(),
            ServeOptions::default(),
            async {
                let _ = rx.await;
            },
        ));
        let out = std::process::Command::new("wrk")
            .args([
                "-t2",
                "-c64",
                "-d10s",
                &format!("http://{addr}/v3/kafka/local/consumer/big/lag"),
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines().filter(|l| {
            l.contains("Requests/sec") || l.contains("Latency") || l.contains("requests in")
        }) {
            println!(
                "wrk -t2 -c64 -d10s /lag (server on 2 worker threads, same 2 cores): {}",
                line.trim()
            );
        }
        let _ = tx.send(());
        let _ = rt.block_on(server);
    } else {
        println!("wrk not installed: loopback load test skipped (apt-get install wrk)");
    }
}
