//! Fetch: reading partitions, decoded or as raw batches, batched per leader.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{BrokerId, FetchRequest, TopicName};
use tokio::task::JoinSet;

use super::{list_offsets::IsolationLevel, str_bytes, KafkaClient, FETCH_MAX};
use crate::error::{KafkaError, Result};
use crate::records::{AbortedTxn, RawRecords, RecordsRead};

/// Options of [`KafkaClient::fetch`].
#[derive(Debug, Clone, Copy)]
pub struct FetchOptions {
    /// Upper bound of the partition's bytes in the response.
    pub max_bytes: i32,
    /// How long the broker may wait for `min_bytes`.
    pub max_wait: Duration,
    /// Bytes the broker should wait for (1 = answer as soon as anything is there).
    pub min_bytes: i32,
    /// Transaction isolation.
    pub isolation: IsolationLevel,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            max_bytes: 8 * 1024 * 1024,
            max_wait: Duration::from_millis(500),
            min_bytes: 1,
            isolation: IsolationLevel::ReadUncommitted,
        }
    }
}

/// The result of fetching one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchResult {
    /// High watermark.
    pub high_watermark: i64,
    /// Last stable offset (-1 when the broker does not say).
    pub last_stable_offset: i64,
    /// Log start offset (-1 when the broker does not say).
    pub log_start_offset: i64,
    /// The decoded records.
    pub read: RecordsRead,
}

/// The result of fetching one partition, its records not decoded yet (see [`RawRecords`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFetchResult {
    /// High watermark.
    pub high_watermark: i64,
    /// Last stable offset (-1 when the broker does not say).
    pub last_stable_offset: i64,
    /// Log start offset (-1 when the broker does not say).
    pub log_start_offset: i64,
    /// The records as fetched.
    pub records: RawRecords,
}

impl RawFetchResult {
    /// Decodes the records.
    pub fn decode(self) -> FetchResult {
        FetchResult {
            high_watermark: self.high_watermark,
            last_stable_offset: self.last_stable_offset,
            log_start_offset: self.log_start_offset,
            read: self.records.decode(),
        }
    }
}

impl KafkaClient {
    /// Fetches one partition from its leader starting at `offset`. On a leadership error the
    /// metadata is refreshed and the fetch retried once.
    pub async fn fetch(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
        opts: FetchOptions,
    ) -> Result<FetchResult> {
        match self.fetch_once(topic, partition, offset, opts).await {
            Err(e) if e.needs_metadata_refresh() => {
                tracing::debug!(topic, partition, error = %e, "fetch failed; refreshing metadata");
                self.refresh_metadata().await?;
                self.fetch_once(topic, partition, offset, opts).await
            }
            other => other,
        }
    }

    /// Fetches many partitions of one topic: one Fetch request per leader broker carrying all of
    /// its partitions, all leaders at once (a broker answers the requests of one connection in
    /// order, so one long-polling request per partition would queue behind each other).
    /// Returns one result per partition asked for; partitions without a leader and
    /// partition-level errors come back as errors (refresh metadata and retry).
    pub async fn fetch_many(
        &self,
        topic: &str,
        partitions: &[(i32, i64)],
        opts: FetchOptions,
    ) -> Vec<(i32, Result<FetchResult>)> {
        self.fetch_many_raw(topic, partitions, opts)
            .await
            .into_iter()
            .map(|(p, r)| (p, r.map(RawFetchResult::decode)))
            .collect()
    }

    /// As [`fetch_many`](Self::fetch_many), the records left undecoded: where to fetch next is
    /// known from [`RawRecords::next_offset`], and the records can be decoded elsewhere (another
    /// thread) while the next fetch is under way.
    pub async fn fetch_many_raw(
        &self,
        topic: &str,
        partitions: &[(i32, i64)],
        opts: FetchOptions,
    ) -> Vec<(i32, Result<RawFetchResult>)> {
        let md = self.metadata();
        let mut out = Vec::with_capacity(partitions.len());
        let mut by_leader: BTreeMap<i32, Vec<(i32, i64)>> = BTreeMap::new();
        for (p, offset) in partitions {
            match md.leader(topic, *p) {
                Some(l) => by_leader.entry(l).or_default().push((*p, *offset)),
                None => out.push((
                    *p,
                    Err(KafkaError::NoLeader {
                        topic: topic.to_string(),
                        partition: *p,
                    }),
                )),
            }
        }
        let mut tasks = JoinSet::new();
        for (leader, parts) in by_leader {
            let (client, topic) = (self.clone(), topic.to_string());
            tasks.spawn(async move {
                let res = client.fetch_on(leader, &topic, &parts, opts).await;
                (leader, parts, res)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let Ok((leader, parts, res)) = joined else {
                continue;
            };
            match res {
                Ok(found) => {
                    // Partitions the broker left out of its answer (its response size limit):
                    // nothing new for them this time.
                    for (p, _) in &parts {
                        if !found.iter().any(|(q, _)| q == p) {
                            out.push((
                                *p,
                                Ok(RawFetchResult {
                                    high_watermark: -1,
                                    last_stable_offset: -1,
                                    log_start_offset: -1,
                                    records: RawRecords::default(),
                                }),
                            ));
                        }
                    }
                    out.extend(found);
                }
                Err(e) => {
                    let source = Arc::new(e);
                    out.extend(parts.into_iter().map(|(p, _)| {
                        (
                            p,
                            Err(KafkaError::RequestFailed {
                                api: "Fetch",
                                broker_id: leader,
                                cause: source.clone(),
                            }),
                        )
                    }));
                }
            }
        }
        out
    }

    async fn fetch_on(
        &self,
        leader: i32,
        topic: &str,
        parts: &[(i32, i64)],
        opts: FetchOptions,
    ) -> Result<Vec<(i32, Result<RawFetchResult>)>> {
        let conn = self.broker(leader).await?;
        let version = conn.version::<FetchRequest>(FETCH_MAX)?;
        let mut ft = FetchTopic::default();
        ft.topic = TopicName(str_bytes(topic));
        ft.partitions = parts
            .iter()
            .map(|(p, offset)| {
                let mut fp = FetchPartition::default();
                fp.partition = *p;
                fp.current_leader_epoch = -1;
                fp.fetch_offset = *offset;
                fp.last_fetched_epoch = -1;
                fp.log_start_offset = -1;
                fp.partition_max_bytes = opts.max_bytes;
                fp
            })
            .collect();
        let mut req = FetchRequest::default();
        req.replica_id = BrokerId(-1);
        req.max_wait_ms = opts.max_wait.as_millis().min(i32::MAX as u128) as i32;
        req.min_bytes = opts.min_bytes;
        // Room for a few partitions at their limit; one partition gets exactly its limit.
        req.max_bytes = opts
            .max_bytes
            .saturating_mul(parts.len().clamp(1, 4) as i32);
        req.isolation_level = opts.isolation.code();
        req.session_id = 0;
        req.session_epoch = -1;
        req.topics = vec![ft];
        let resp = self.request(&conn, &req, version).await?;
        if resp.error_code != 0 {
            return Err(KafkaError::server("Fetch", resp.error_code, None));
        }
        let offsets: BTreeMap<i32, i64> = parts.iter().copied().collect();
        let mut out = Vec::with_capacity(parts.len());
        for p in resp.responses.into_iter().flat_map(|t| t.partitions) {
            let Some(offset) = offsets.get(&p.partition_index).copied() else {
                continue;
            };
            if p.error_code != 0 {
                out.push((
                    p.partition_index,
                    Err(KafkaError::server("Fetch", p.error_code, None)),
                ));
                continue;
            }
            let aborted: Vec<AbortedTxn> = p
                .aborted_transactions
                .unwrap_or_default()
                .iter()
                .map(|a| AbortedTxn {
                    producer_id: a.producer_id.0,
                    first_offset: a.first_offset,
                })
                .collect();
            out.push((
                p.partition_index,
                Ok(RawFetchResult {
                    high_watermark: p.high_watermark,
                    last_stable_offset: p.last_stable_offset,
                    log_start_offset: p.log_start_offset,
                    records: RawRecords::new(p.records.unwrap_or_default(), offset, &aborted),
                }),
            ));
        }
        Ok(out)
    }

    async fn fetch_once(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
        opts: FetchOptions,
    ) -> Result<FetchResult> {
        let leader = self.leader_id(topic, partition)?;
        let found = self
            .fetch_on(leader, topic, &[(partition, offset)], opts)
            .await?;
        match found.into_iter().find(|(p, _)| *p == partition) {
            Some((_, result)) => result.map(RawFetchResult::decode),
            None => Err(KafkaError::Protocol {
                broker: self
                    .metadata()
                    .brokers
                    .get(&leader)
                    .map_or_else(|| format!("broker {leader}"), |b| b.addr.clone()),
                api: "Fetch",
                message: format!("no data for {topic}/{partition} in the response"),
            }),
        }
    }
}
