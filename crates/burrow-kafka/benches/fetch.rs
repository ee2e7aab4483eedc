//! Fetch throughput against a local broker, beside confluent-kafka (librdkafka) reading the same
//! topic. Needs a broker: `scripts/bench.sh` starts one; by hand:
//! `scripts/test-services.sh start && . .test-services/env && cargo bench -p burrow-kafka --bench fetch`.
//! Under `cargo test`/nextest (no `--bench` argument) it does nothing.

use std::time::{Duration, Instant};

use burrow_kafka::{ClientConfig, Compression, FetchOptions, KafkaClient};
use bytes::Bytes;

const RECORDS: usize = 500_000;
const BATCH: usize = 1_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        return; // test mode or --list: nothing to run
    }
    let Ok(addr) = std::env::var("BURROW_TEST_NOIDA") else {
        eprintln!(
            "fetch bench skipped: BURROW_TEST_NOIDA not set (scripts/test-services.sh start)"
        );
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let topic = format!("bench-fetch-{}", std::process::id());
    let ours = rt.block_on(async {
        let c = KafkaClient::connect(std::slice::from_ref(&addr), ClientConfig::default())
            .await
            .expect("connect");
        c.create_topic(&topic, 1, 1).await.expect("create topic");
        let value = Bytes::from(vec![b'x'; 100]);
        for b in 0..RECORDS / BATCH {
            let batch: Vec<_> = (0..BATCH)
                .map(|i| {
                    (
                        Some(Bytes::from(format!("key-{}", b * BATCH + i))),
                        Some(value.clone()),
                    )
                })
                .collect();
            c.produce(&topic, 0, &batch, Compression::None)
                .await
                .expect("produce");
        }
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            let (mut offset, mut n) = (0i64, 0usize);
            while n < RECORDS {
                let r = c
                    .fetch(&topic, 0, offset, FetchOptions::default())
                    .await
                    .expect("fetch");
                n += r.read.records.len();
                offset = r.read.next_offset.expect("progress");
            }
            best = best.min(start.elapsed());
        }
        best
    });
    let ours_rate = RECORDS as f64 / ours.as_secs_f64();
    println!(
        "burrow-kafka fetch: {RECORDS} records in {ours:?} = {:.0} records/s (best of 3)",
        ours_rate
    );

    let Ok(python) = std::env::var("BURROW_TEST_PYTHON") else {
        eprintln!("confluent-kafka comparison skipped: BURROW_TEST_PYTHON not set");
        return;
    };
    let script = r#"
import sys, time
from confluent_kafka import Consumer, TopicPartition
bs, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
best = None
for _ in range(3):
    c = Consumer({"bootstrap.servers": bs, "group.id": "bench-unused", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "enable.partition.eof": False})
    c.assign([TopicPartition(topic, 0, 0)])
    got = 0
    t = time.perf_counter()
    while got < n:
        msgs = c.consume(10000, 1.0)
        got += sum(1 for m in msgs if not m.error())
    d = time.perf_counter() - t
    c.close()
    best = d if best is None else min(best, d)
print(best)
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script, &addr, &topic, &RECORDS.to_string()])
        .output()
        .expect("run python");
    let secs: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(f64::NAN);
    let theirs_rate = RECORDS as f64 / secs;
    println!("confluent-kafka consume: {RECORDS} records in {secs:.3}s = {theirs_rate:.0} records/s (best of 3)");
    println!(
        "ratio burrow-kafka / confluent-kafka = {:.2}",
        ours_rate / theirs_rate
    );
}
