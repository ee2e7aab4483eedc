//! Helpers of the consumer-module tests on real brokers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use bytes::Bytes;

use burrow_ingest::cluster::ClusterSettings;
use burrow_kafka::offsets;
use burrow_kafka::{ClientConfig, Compression, KafkaClient};
use burrow_storage::Storage;

pub const OFFSETS_PARTITIONS: i32 = 3;
pub const TOPIC_PARTITIONS: i32 = 4;

/// One record per commit of `group` on every partition of `topic`; with `one_batch`, all of
/// them in one batch (tansu numbers multi-record batches wrongly, so it gets one per batch).
pub async fn commit_all(
    client: &KafkaClient,
    offsets_topic: &str,
    group: &str,
    topic: &str,
    offset: i64,
    one_batch: bool,
) {
    let now = burrow_core::now_ms();
    let records: Vec<(Option<Bytes>, Option<Bytes>)> = (0..TOPIC_PARTITIONS)
        .map(|partition| {
            let (k, v) = offsets::commit_record(group, topic, partition, offset, now).unwrap();
            (Some(Bytes::from(k)), Some(Bytes::from(v)))
        })
        .collect();
    let p = offsets::partition_for_group(group, OFFSETS_PARTITIONS);
    if one_batch {
        client
            .produce(offsets_topic, p, &records, Compression::None)
            .await
            .unwrap();
    } else {
        for r in &records {
            client
                .produce(offsets_topic, p, std::slice::from_ref(r), Compression::None)
                .await
                .unwrap();
        }
    }
}

/// The offsets each group has stored on `topic`, partition by partition (`None`: not stored).
pub fn stored(storage: &Storage, group: &str, topic: &str) -> Option<Vec<i64>> {
    let topics = storage.fetch_consumer(burrow_core::now_ms(), "local", group)?;
    let parts = topics.get(topic)?;
    parts
        .iter()
        .map(|p| p.offsets.iter().flatten().last().map(|o| o.offset))
        .collect()
}

/// The cluster module of these tests: broker offsets every second.
pub fn cluster_settings(addr: &str) -> ClusterSettings {
    ClusterSettings {
        name: "local".into(),
        servers: vec![addr.to_string()],
        client: ClientConfig::default(),
        offset_refresh: Duration::from_secs(1),
        topic_refresh: Duration::from_secs(60),
        groups_reaper_refresh: None,
        reaper_spares: vec![],
        time_lag: None,
    }
}

pub async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
