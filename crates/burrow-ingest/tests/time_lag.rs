//! Lag in seconds against the real brokers: the timestamps of committed offsets are fetched once
//! (several offsets of one partition included), kept while needed, forgotten when not, and an
//! offset whose timestamp cannot be found is not fetched again at every refresh.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use bytes::Bytes;

use burrow_ingest::time_lag::{need, Needed, RefreshStats, TimeLag};
use burrow_kafka::{ClientConfig, Compression, KafkaClient};
use burrow_testkit::brokers;

fn needed(entries: &[(&str, i32, i64)]) -> Needed {
    let mut n = Needed::new();
    for &(t, p, o) in entries {
        need(&mut n, t, p, o);
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_are_fetched_once_and_failures_wait() {
    for (name, addr) in brokers() {
        let client = KafkaClient::connect(std::slice::from_ref(&addr), ClientConfig::default())
            .await
            .unwrap();
        let topic = format!("times-{name}-{}", std::process::id());
        client.create_topic(&topic, 1, 1).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        client.refresh_metadata().await.unwrap();
        // Offset i written at 1,000,000 + i seconds (one record per batch: tansu numbers the
        // offsets of multi-record batches wrongly).
        let base = 1_000_000_000;
        for i in 0..5 {
            client
                .produce_at(
                    &topic,
                    0,
                    &[(None, Some(Bytes::from_static(b"x")))],
                    Compression::None,
                    base + i * 1000,
                )
                .await
                .unwrap();
        }
        let lag = TimeLag::new();
        let missing = "no-such-topic";
        let first = needed(&[(&topic, 0, 1), (&topic, 0, 3), (missing, 0, 7)]);
        let stats = lag.fetch(&client, &first).await;
        assert_eq!(
            stats,
            RefreshStats {
                needed: 3,
                fetched: 3,
                unknown: 1,
                waiting: 0
            },
            "{name}"
        );
        assert_eq!(lag.timestamp(&topic, 0, 1), Some(base + 1000), "{name}");
        assert_eq!(lag.timestamp(&topic, 0, 3), Some(base + 3000), "{name}");
        assert_eq!(
            lag.seconds(base + 10_000, &topic, 0, 3, 2),
            Some(7.0),
            "{name}"
        );

        // Again: nothing fetched; the failed offset waits instead of being asked again.
        let stats = lag.fetch(&client, &first).await;
        assert_eq!(
            stats,
            RefreshStats {
                needed: 3,
                fetched: 0,
                unknown: 0,
                waiting: 1
            },
            "{name}"
        );

        // Offset 1 no longer needed: forgotten; offset 4 new: fetched.
        let second = needed(&[(&topic, 0, 3), (&topic, 0, 4)]);
        let stats = lag.fetch(&client, &second).await;
        assert_eq!((stats.needed, stats.fetched), (2, 1), "{name}");
        assert_eq!(lag.timestamp(&topic, 0, 1), None, "{name}");
        assert_eq!(lag.timestamp(&topic, 0, 4), Some(base + 4000), "{name}");
    }
}
