//! ListOffsets: end, start and by-time offsets of partitions, batched per leader.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, ListOffsetsRequest, TopicName};
use tokio::task::JoinSet;

use super::{str_bytes, KafkaClient};
use crate::error::{KafkaError, Result};

/// Which offset ListOffsets asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The end of the log (high watermark, or last stable offset with read_committed).
    Latest,
    /// The log start offset.
    Earliest,
    /// The first offset whose timestamp is at or after this time (ms).
    Timestamp(i64),
}

impl OffsetSpec {
    fn timestamp(self) -> i64 {
        match self {
            Self::Latest => -1,
            Self::Earliest => -2,
            Self::Timestamp(t) => t,
        }
    }
}

/// Transaction isolation for ListOffsets and Fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IsolationLevel {
    /// See everything up to the high watermark (Burrow's default for end offsets).
    #[default]
    ReadUncommitted,
    /// See only committed transactions, up to the last stable offset.
    ReadCommitted,
}

impl IsolationLevel {
    pub(crate) fn code(self) -> i8 {
        match self {
            Self::ReadUncommitted => 0,
            Self::ReadCommitted => 1,
        }
    }
}

/// The answer of ListOffsets for one partition.
#[derive(Debug)]
pub struct PartitionOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The offset, or why there is none.
    pub result: Result<i64>,
}

impl KafkaClient {
    /// ListOffsets for many partitions: one request per leader broker, all brokers concurrently.
    /// Partitions without a known leader, and partition-level errors, come back as errors (the
    /// caller decides when to refresh metadata).
    pub async fn list_offsets(
        &self,
        partitions: &[(String, i32)],
        spec: OffsetSpec,
        isolation: IsolationLevel,
    ) -> Vec<PartitionOffset> {
        let each: Vec<(String, i32, OffsetSpec)> = partitions
            .iter()
            .map(|(t, p)| (t.clone(), *p, spec))
            .collect();
        self.list_offsets_each(&each, isolation).await
    }

    /// ListOffsets with a spec per partition (for example a different timestamp for each), one
    /// request per leader broker, all brokers concurrently. A partition must appear at most once.
    /// A timestamp spec answers the first offset whose record timestamp is at or after it, or -1
    /// when no record is that recent.
    pub async fn list_offsets_each(
        &self,
        partitions: &[(String, i32, OffsetSpec)],
        isolation: IsolationLevel,
    ) -> Vec<PartitionOffset> {
        let md = self.metadata();
        let mut out = Vec::with_capacity(partitions.len());
        let mut by_leader: BTreeMap<i32, Vec<(String, i32, OffsetSpec)>> = BTreeMap::new();
        for (topic, partition, spec) in partitions {
            match md.leader(topic, *partition) {
                Some(l) => by_leader
                    .entry(l)
                    .or_default()
                    .push((topic.clone(), *partition, *spec)),
                None => out.push(PartitionOffset {
                    topic: topic.clone(),
                    partition: *partition,
                    result: Err(KafkaError::NoLeader {
                        topic: topic.clone(),
                        partition: *partition,
                    }),
                }),
            }
        }
        let mut tasks = JoinSet::new();
        for (leader, parts) in by_leader {
            let client = self.clone();
            tasks.spawn(async move {
                let res = client.list_offsets_on(leader, &parts, isolation).await;
                (leader, parts, res)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let Ok((leader, parts, res)) = joined else {
                continue;
            };
            match res {
                Ok(found) => out.extend(found),
                Err(e) => {
                    let source = Arc::new(e);
                    for (topic, partition, _) in parts {
                        out.push(PartitionOffset {
                            topic,
                            partition,
                            result: Err(KafkaError::RequestFailed {
                                api: "ListOffsets",
                                broker_id: leader,
                                cause: source.clone(),
                            }),
                        });
                    }
                }
            }
        }
        out
    }

    async fn list_offsets_on(
        &self,
        leader: i32,
        parts: &[(String, i32, OffsetSpec)],
        isolation: IsolationLevel,
    ) -> Result<Vec<PartitionOffset>> {
        let conn = self.broker(leader).await?;
        // v2+ carries the isolation level; v1 is the floor of this crate (Kafka 0.10.1+).
        let version = conn.version::<ListOffsetsRequest>(i16::MAX)?;
        let mut topics: BTreeMap<&str, Vec<(i32, OffsetSpec)>> = BTreeMap::new();
        for (t, p, spec) in parts {
            topics.entry(t).or_default().push((*p, *spec));
        }
        let mut req = ListOffsetsRequest::default();
        req.replica_id = BrokerId(-1);
        req.isolation_level = isolation.code();
        req.timeout_ms = self
            .inner
            .config
            .read_timeout
            .as_millis()
            .min(i32::MAX as u128) as i32;
        req.topics = topics
            .into_iter()
            .map(|(t, ps)| {
                let mut lt = ListOffsetsTopic::default();
                lt.name = TopicName(str_bytes(t));
                lt.partitions = ps
                    .into_iter()
                    .map(|(p, spec)| {
                        let mut lp = ListOffsetsPartition::default();
                        lp.partition_index = p;
                        lp.current_leader_epoch = -1;
                        lp.timestamp = spec.timestamp();
                        lp
                    })
                    .collect();
                lt
            })
            .collect();
        let resp = self.request(&conn, &req, version).await?;
        let mut out = Vec::new();
        for t in resp.topics {
            for p in t.partitions {
                let result = if p.error_code != 0 {
                    Err(KafkaError::server("ListOffsets", p.error_code, None))
                } else {
                    Ok(p.offset)
                };
                out.push(PartitionOffset {
                    topic: t.name.0.to_string(),
                    partition: p.partition_index,
                    result,
                });
            }
        }
        Ok(out)
    }
}
