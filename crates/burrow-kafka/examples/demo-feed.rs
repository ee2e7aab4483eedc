//! The traffic of `scripts/demo.sh`: a producer and five consumer groups whose commits (written
//! to `__consumer_offsets` as a group coordinator writes them, with this crate's codec) reach
//! OK, WARN, STOP, STALL and REWIND within a minute.
//!
//! ```text
//! cargo run -p burrow-kafka --example demo-feed -- 127.0.0.1:9092
//! ```
//!
//! Every tick (2 s) ten records go to each of the three partitions of `demo-orders`, then:
//! - `checkout` commits the end offsets: caught up, OK;
//! - `billing` moves 7 a tick while 10 arrive: the lag grows at every commit, WARN;
//! - `reports` commits like `checkout` for 5 ticks, then never again: STOP;
//! - `archiver` commits the same offset every tick while records arrive: STALL;
//! - `replayer` moves forward 2 a tick and goes back 10 every fourth tick: REWIND.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use burrow_kafka::offsets;
use burrow_kafka::{ClientConfig, Compression, KafkaClient};

const TOPIC: &str = "demo-orders";
const PARTITIONS: i32 = 3;
const PER_TICK: i64 = 10;
const TICK: Duration = Duration::from_secs(2);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

struct Feed {
    client: KafkaClient,
    offsets_partitions: i32,
}

impl Feed {
    async fn connect(addr: &str) -> Result<Feed, Failure> {
        let client = KafkaClient::connect(&[addr.to_string()], ClientConfig::default()).await?;
        let meta = client.refresh_metadata().await?;
        if !meta.topics.contains_key("__consumer_offsets") {
            client.create_topic("__consumer_offsets", 10, 1).await?;
        }
        if !meta.topics.contains_key(TOPIC) {
            client.create_topic(TOPIC, PARTITIONS, 1).await?;
        }
        // Wait for the leaders.
        let mut offsets_partitions = 0;
        for _ in 0..100 {
            let meta = client.refresh_metadata().await?;
            let ready = (0..PARTITIONS).all(|p| meta.leader(TOPIC, p).is_some());
            offsets_partitions = meta
                .topics
                .get("__consumer_offsets")
                .map_or(0, |t| t.partitions.len() as i32);
            if ready && offsets_partitions > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if offsets_partitions == 0 {
            return Err("__consumer_offsets has no partitions".into());
        }
        Ok(Feed {
            client,
            offsets_partitions,
        })
    }

    /// Ten records per partition, one per batch (some brokers miscount batches of several).
    async fn produce(&self) -> Result<(), Failure> {
        for p in 0..PARTITIONS {
            for _ in 0..PER_TICK {
                self.client
                    .produce_at(
                        TOPIC,
                        p,
                        &[(None, Some(Bytes::from_static(b"order")))],
                        Compression::None,
                        now_ms(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn write(&self, group: &str, key: Vec<u8>, value: Vec<u8>) -> Result<(), Failure> {
        let p = offsets::partition_for_group(group, self.offsets_partitions);
        self.client
            .produce(
                "__consumer_offsets",
                p,
                &[(Some(Bytes::from(key)), Some(Bytes::from(value)))],
                Compression::None,
            )
            .await?;
        Ok(())
    }

    async fn commit(&self, group: &str, partition: i32, offset: i64) -> Result<(), Failure> {
        let (k, v) = offsets::commit_record(group, TOPIC, partition, offset.max(0), now_ms())?;
        self.write(group, k, v).await
    }

    /// One member owning every partition, so the dashboard shows an owner and client id.
    async fn member(&self, group: &str, host: &str) -> Result<(), Failure> {
        let partitions: Vec<i32> = (0..PARTITIONS).collect();
        let (k, v) = offsets::one_member_group_record(
            group,
            TOPIC,
            &partitions,
            &format!("{group}-1"),
            &format!("/{host}"),
            now_ms(),
        )?;
        self.write(group, k, v).await
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let addr = std::env::args()
        .nth(1)
        .ok_or("usage: demo-feed HOST:PORT")?;
    let feed = Feed::connect(&addr).await?;
    for (group, host) in [
        ("checkout", "10.0.0.11"),
        ("billing", "10.0.0.12"),
        ("reports", "10.0.0.13"),
        ("archiver", "10.0.0.14"),
        ("replayer", "10.0.0.15"),
    ] {
        feed.member(group, host).await?;
    }
    eprintln!("demo-feed: producing to {TOPIC} on {addr} every {TICK:?}");
    let mut end = 0i64;
    let mut billing = 0i64;
    let mut replayer = 0i64;
    let mut tick = tokio::time::interval(TICK);
    for round in 0u64.. {
        tick.tick().await;
        feed.produce().await?;
        end += PER_TICK;
        // The end offsets are read every second: commit once they are known.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        billing += PER_TICK - 3;
        replayer = if round % 4 == 3 {
            replayer - 10
        } else {
            replayer + 2
        };
        for p in 0..PARTITIONS {
            feed.commit("checkout", p, end).await?;
            feed.commit("billing", p, billing).await?;
            if round < 5 {
                feed.commit("reports", p, end - 5).await?;
            }
            feed.commit("archiver", p, 4).await?;
            feed.commit("replayer", p, 20 + replayer).await?;
        }
    }
    Ok(())
}
