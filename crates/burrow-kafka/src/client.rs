//! The cluster-level client: bootstrap, metadata, one connection per broker, and the requests
//! Burrow needs, each routed to the right broker and batched per broker.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    BrokerId, CreateTopicsRequest, DescribeGroupsRequest, FetchRequest, FindCoordinatorRequest,
    GroupId, ListGroupsRequest, ListOffsetsRequest, MetadataRequest, OffsetFetchRequest,
    ProduceRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use tokio::task::JoinSet;

use crate::config::ClientConfig;
use crate::conn::BrokerConnection;
use crate::error::{KafkaError, Result};
use crate::offsets;
use crate::records::{AbortedTxn, RawRecords, RecordsRead};

/// Fetch is capped at v12 and Produce at v12: later versions name topics by id only.
const FETCH_MAX: i16 = 12;
const PRODUCE_MAX: i16 = 12;
/// OffsetFetch v10 names topics by id.
const OFFSET_FETCH_MAX: i16 = 9;

/// A broker as metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerInfo {
    /// Node id.
    pub id: i32,
    /// `host:port`.
    pub addr: String,
    /// Rack, if set.
    pub rack: Option<String>,
}

/// One partition in [`Metadata`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// Leader broker id, -1 when the partition has no leader.
    pub leader: i32,
    /// Leader epoch (-1 when the broker does not say).
    pub leader_epoch: i32,
    /// Kafka error code for this partition (0 = none).
    pub error_code: i16,
    /// Replica ids.
    pub replicas: Vec<i32>,
    /// In-sync replica ids.
    pub isr: Vec<i32>,
}

/// One topic in [`Metadata`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    /// Whether Kafka marks it internal (`__consumer_offsets`, `__transaction_state`).
    pub internal: bool,
    /// Kafka error code for this topic (0 = none).
    pub error_code: i16,
    /// Partitions by id.
    pub partitions: BTreeMap<i32, PartitionInfo>,
}

/// A snapshot of cluster metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Cluster id (Metadata v2+).
    pub cluster_id: Option<String>,
    /// Controller id (-1 when unknown).
    pub controller_id: i32,
    /// Brokers by id.
    pub brokers: BTreeMap<i32, BrokerInfo>,
    /// Topics by name.
    pub topics: BTreeMap<String, TopicInfo>,
}

impl Metadata {
    /// The leader of a partition, if it has one.
    pub fn leader(&self, topic: &str, partition: i32) -> Option<i32> {
        self.topics
            .get(topic)?
            .partitions
            .get(&partition)
            .map(|p| p.leader)
            .filter(|l| *l >= 0)
    }
}

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
    fn code(self) -> i8 {
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

/// A group as ListGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedGroup {
    /// Group id.
    pub group_id: String,
    /// `consumer`, `connect`, or empty for groups that only commit offsets.
    pub protocol_type: String,
    /// State (ListGroups v4+), else empty.
    pub state: String,
    /// Coordinator that listed it.
    pub coordinator: i32,
}

/// A member as DescribeGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    /// Member id.
    pub member_id: String,
    /// Client id.
    pub client_id: String,
    /// Client host.
    pub client_host: String,
    /// Assigned partitions per topic (decoded from the consumer protocol).
    pub assignment: BTreeMap<String, Vec<i32>>,
}

/// A group as DescribeGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group id.
    pub group_id: String,
    /// State (`Stable`, `Empty`, `Dead`, …).
    pub state: String,
    /// Protocol type.
    pub protocol_type: String,
    /// Chosen assignor.
    pub protocol: String,
    /// Members.
    pub members: Vec<MemberDescription>,
}

/// A committed offset returned by OffsetFetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Committed offset (-1 = none).
    pub offset: i64,
    /// Commit metadata.
    pub metadata: String,
}

struct Slot {
    conn: Option<Arc<BrokerConnection>>,
    failures: u32,
    retry_at: Option<Instant>,
}

struct Inner {
    config: ClientConfig,
    tls: Option<tokio_rustls::TlsConnector>,
    bootstrap: Vec<String>,
    metadata: RwLock<Arc<Metadata>>,
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
}

/// An async Kafka client for Burrow's needs. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct KafkaClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for KafkaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaClient")
            .field("bootstrap", &self.inner.bootstrap)
            .finish_non_exhaustive()
    }
}

fn str_bytes(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

/// One partition of an OffsetFetch response (its two layouts, per group from v8 and top-level
/// before, carry the same fields).
fn committed(
    topic: &TopicName,
    partition: i32,
    offset: i64,
    metadata: &Option<StrBytes>,
) -> CommittedOffset {
    CommittedOffset {
        topic: topic.0.to_string(),
        partition,
        offset,
        metadata: metadata.as_ref().map(|m| m.to_string()).unwrap_or_default(),
    }
}

fn server_err(api: &'static str, code: i16, message: Option<&StrBytes>) -> KafkaError {
    KafkaError::server(api, code, message.map(|m| m.to_string()))
}

impl KafkaClient {
    /// Connects to the first reachable bootstrap broker and reads the cluster's metadata.
    pub async fn connect(bootstrap: &[String], config: ClientConfig) -> Result<Self> {
        if bootstrap.is_empty() {
            return Err(KafkaError::Config {
                key: "servers".into(),
                message: "no bootstrap servers given".into(),
            });
        }
        let tls = match &config.tls {
            Some(profile) => Some(crate::tls::connector(&config.tls_section, profile)?),
            None => None,
        };
        let client = Self {
            inner: Arc::new(Inner {
                config,
                tls,
                bootstrap: bootstrap.to_vec(),
                metadata: RwLock::new(Arc::new(Metadata::default())),
                slots: Mutex::new(HashMap::new()),
            }),
        };
        client.refresh_metadata().await?;
        Ok(client)
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The last metadata read.
    pub fn metadata(&self) -> Arc<Metadata> {
        self.inner
            .metadata
            .read()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    async fn slot_conn(&self, addr: &str) -> Result<Arc<BrokerConnection>> {
        let slot = {
            let mut slots = self
                .inner
                .slots
                .lock()
                .map_err(|_| KafkaError::ConnectionClosed {
                    broker: addr.to_string(),
                })?;
            slots
                .entry(addr.to_string())
                .or_insert_with(|| {
                    Arc::new(tokio::sync::Mutex::new(Slot {
                        conn: None,
                        failures: 0,
                        retry_at: None,
                    }))
                })
                .clone()
        };
        let mut slot = slot.lock().await;
        if let Some(c) = &slot.conn {
            if !c.is_broken() {
                return Ok(c.clone());
            }
            tracing::debug!(broker = addr, "replacing a failed connection");
            slot.conn = None;
        }
        if let Some(at) = slot.retry_at {
            tokio::time::sleep_until(at.into()).await;
        }
        match BrokerConnection::connect(addr, &self.inner.config, self.inner.tls.as_ref()).await {
            Ok(c) => {
                let c = Arc::new(c);
                slot.conn = Some(c.clone());
                slot.failures = 0;
                slot.retry_at = None;
                Ok(c)
            }
            Err(e) => {
                slot.failures += 1;
                let cfg = &self.inner.config;
                let exp = cfg
                    .reconnect_backoff
                    .saturating_mul(1 << slot.failures.min(16).saturating_sub(1));
                slot.retry_at = Some(Instant::now() + exp.min(cfg.reconnect_max));
                Err(e)
            }
        }
    }

    fn broker_addr(&self, id: i32) -> Result<String> {
        self.metadata()
            .brokers
            .get(&id)
            .map(|b| b.addr.clone())
            .ok_or(KafkaError::UnknownBroker(id))
    }

    async fn broker(&self, id: i32) -> Result<Arc<BrokerConnection>> {
        let addr = self.broker_addr(id)?;
        self.slot_conn(&addr).await
    }

    /// The leader broker id of a partition, per the cached metadata.
    fn leader_id(&self, topic: &str, partition: i32) -> Result<i32> {
        self.metadata()
            .leader(topic, partition)
            .ok_or_else(|| KafkaError::NoLeader {
                topic: topic.to_string(),
                partition,
            })
    }

    /// The connection to a partition's leader, per the cached metadata.
    async fn leader(&self, topic: &str, partition: i32) -> Result<Arc<BrokerConnection>> {
        let leader = self.leader_id(topic, partition)?;
        self.broker(leader).await
    }

    /// Any live broker: known brokers first, then the bootstrap list.
    async fn any_broker(&self) -> Result<Arc<BrokerConnection>> {
        let mut addrs: Vec<String> = self
            .metadata()
            .brokers
            .values()
            .map(|b| b.addr.clone())
            .collect();
        for b in &self.inner.bootstrap {
            if !addrs.contains(b) {
                addrs.push(b.clone());
            }
        }
        let mut last = None;
        for addr in &addrs {
            match self.slot_conn(addr).await {
                Ok(c) => return Ok(c),
                Err(e) => {
                    tracing::debug!(broker = %addr, error = %e, "broker unreachable");
                    last = Some(e);
                }
            }
        }
        Err(KafkaError::NoBrokers {
            tried: addrs.join(","),
            last: Box::new(last.unwrap_or(KafkaError::ConnectionClosed {
                broker: String::new(),
            })),
        })
    }

    /// Reads metadata of every topic from any broker and keeps it.
    pub async fn refresh_metadata(&self) -> Result<Arc<Metadata>> {
        let conn = self.any_broker().await?;
        let version = conn.version::<MetadataRequest>(12)?;
        let mut req = MetadataRequest::default();
        req.topics = if version == 0 { Some(Vec::new()) } else { None };
        req.allow_auto_topic_creation = false;
        let resp = conn.send_version(&req, version).await?;
        let mut md = Metadata {
            cluster_id: resp.cluster_id.map(|c| c.to_string()),
            controller_id: resp.controller_id.0,
            ..Metadata::default()
        };
        for b in resp.brokers {
            md.brokers.insert(
                b.node_id.0,
                BrokerInfo {
                    id: b.node_id.0,
                    addr: format!("{}:{}", b.host.as_str(), b.port),
                    rack: b.rack.map(|r| r.to_string()),
                },
            );
        }
        for t in resp.topics {
            let Some(name) = t.name else { continue };
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    (
                        p.partition_index,
                        PartitionInfo {
                            leader: p.leader_id.0,
                            leader_epoch: p.leader_epoch,
                            error_code: p.error_code,
                            replicas: p.replica_nodes.iter().map(|r| r.0).collect(),
                            isr: p.isr_nodes.iter().map(|r| r.0).collect(),
                        },
                    )
                })
                .collect();
            md.topics.insert(
                name.0.to_string(),
                TopicInfo {
                    internal: t.is_internal,
                    error_code: t.error_code,
                    partitions,
                },
            );
        }
        let md = Arc::new(md);
        if let Ok(mut m) = self.inner.metadata.write() {
            *m = md.clone();
        }
        Ok(md)
    }

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
        let resp = conn.send_version(&req, version).await?;
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
        let resp = conn.send_version(&req, version).await?;
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

    /// The coordinator broker id of a group.
    pub async fn find_coordinator(&self, group: &str) -> Result<i32> {
        let conn = self.any_broker().await?;
        let version = conn.version::<FindCoordinatorRequest>(i16::MAX)?;
        let mut req = FindCoordinatorRequest::default();
        req.key_type = 0;
        if version >= 4 {
            req.coordinator_keys = vec![str_bytes(group)];
        } else {
            req.key = str_bytes(group);
        }
        let resp = conn.send_version(&req, version).await?;
        let (code, msg, id, host, port) = if version >= 4 {
            let c = resp
                .coordinators
                .into_iter()
                .next()
                .ok_or_else(|| KafkaError::Protocol {
                    broker: conn.addr().to_string(),
                    api: "FindCoordinator",
                    message: "empty coordinator list".into(),
                })?;
            (c.error_code, c.error_message, c.node_id.0, c.host, c.port)
        } else {
            (
                resp.error_code,
                resp.error_message,
                resp.node_id.0,
                resp.host,
                resp.port,
            )
        };
        if code != 0 {
            return Err(server_err("FindCoordinator", code, msg.as_ref()));
        }
        let known = self.metadata().brokers.contains_key(&id);
        if !known {
            // A coordinator the metadata does not list yet: remember its address.
            if let Ok(mut m) = self.inner.metadata.write() {
                let mut md = (**m).clone();
                md.brokers.insert(
                    id,
                    BrokerInfo {
                        id,
                        addr: format!("{}:{port}", host.as_str()),
                        rack: None,
                    },
                );
                *m = Arc::new(md);
            }
        }
        Ok(id)
    }

    /// Every group of the cluster: ListGroups on every broker, concurrently.
    pub async fn list_groups(&self) -> Result<Vec<ListedGroup>> {
        let ids: Vec<i32> = self.metadata().brokers.keys().copied().collect();
        let mut tasks = JoinSet::new();
        for id in ids {
            let client = self.clone();
            tasks.spawn(async move { (id, client.list_groups_on(id).await) });
        }
        let mut out = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let Ok((_, res)) = joined else { continue };
            out.extend(res?);
        }
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        Ok(out)
    }

    async fn list_groups_on(&self, id: i32) -> Result<Vec<ListedGroup>> {
        let conn = self.broker(id).await?;
        let version = conn.version::<ListGroupsRequest>(4)?;
        let resp = conn
            .send_version(&ListGroupsRequest::default(), version)
            .await?;
        if resp.error_code != 0 {
            return Err(KafkaError::server("ListGroups", resp.error_code, None));
        }
        Ok(resp
            .groups
            .into_iter()
            .map(|g| ListedGroup {
                group_id: g.group_id.0.to_string(),
                protocol_type: g.protocol_type.to_string(),
                state: g.group_state.to_string(),
                coordinator: id,
            })
            .collect())
    }

    /// DescribeGroups for one group, at its coordinator.
    pub async fn describe_group(&self, group: &str) -> Result<GroupDescription> {
        let coordinator = self.find_coordinator(group).await?;
        let conn = self.broker(coordinator).await?;
        let version = conn.version::<DescribeGroupsRequest>(i16::MAX)?;
        let mut req = DescribeGroupsRequest::default();
        req.groups = vec![GroupId(str_bytes(group))];
        let resp = conn.send_version(&req, version).await?;
        let g = resp
            .groups
            .into_iter()
            .next()
            .ok_or_else(|| KafkaError::Protocol {
                broker: conn.addr().to_string(),
                api: "DescribeGroups",
                message: "empty group list".into(),
            })?;
        if g.error_code != 0 {
            return Err(server_err(
                "DescribeGroups",
                g.error_code,
                g.error_message.as_ref(),
            ));
        }
        let members = g
            .members
            .into_iter()
            .map(|m| {
                let assignment = offsets::decode_assignment(&m.member_assignment)
                    .map(|a| {
                        a.partitions
                            .into_iter()
                            .map(|tp| (tp.topic.to_string(), tp.partitions))
                            .collect()
                    })
                    .unwrap_or_default();
                MemberDescription {
                    member_id: m.member_id.to_string(),
                    client_id: m.client_id.to_string(),
                    client_host: m.client_host.to_string(),
                    assignment,
                }
            })
            .collect();
        Ok(GroupDescription {
            group_id: g.group_id.0.to_string(),
            state: g.group_state.to_string(),
            protocol_type: g.protocol_type.to_string(),
            protocol: g.protocol_data.to_string(),
            members,
        })
    }

    /// Committed offsets of several groups (all their partitions). Groups are sent to their
    /// coordinators; a broker speaking OffsetFetch v8+ gets all its groups in one request.
    pub async fn offset_fetch(
        &self,
        groups: &[&str],
    ) -> BTreeMap<String, Result<Vec<CommittedOffset>>> {
        let mut out = BTreeMap::new();
        let mut by_coord: BTreeMap<i32, Vec<String>> = BTreeMap::new();
        for g in groups {
            match self.find_coordinator(g).await {
                Ok(c) => by_coord.entry(c).or_default().push(g.to_string()),
                Err(e) => {
                    out.insert(g.to_string(), Err(e));
                }
            }
        }
        for (coord, groups) in by_coord {
            match self.offset_fetch_on(coord, &groups).await {
                Ok(found) => out.extend(found),
                Err(e) => {
                    let source = Arc::new(e);
                    for g in groups {
                        out.insert(
                            g,
                            Err(KafkaError::RequestFailed {
                                api: "OffsetFetch",
                                broker_id: coord,
                                cause: source.clone(),
                            }),
                        );
                    }
                }
            }
        }
        out
    }

    async fn offset_fetch_on(
        &self,
        coord: i32,
        groups: &[String],
    ) -> Result<BTreeMap<String, Result<Vec<CommittedOffset>>>> {
        let conn = self.broker(coord).await?;
        let version = conn.version::<OffsetFetchRequest>(OFFSET_FETCH_MAX)?;
        let mut out = BTreeMap::new();
        if version >= 8 {
            let mut req = OffsetFetchRequest::default();
            req.groups = groups
                .iter()
                .map(|g| {
                    let mut rg = OffsetFetchRequestGroup::default();
                    rg.group_id = GroupId(str_bytes(g));
                    rg.member_epoch = -1;
                    rg.topics = None;
                    rg
                })
                .collect();
            let resp = conn.send_version(&req, version).await?;
            for g in resp.groups {
                let res = if g.error_code != 0 {
                    Err(KafkaError::server("OffsetFetch", g.error_code, None))
                } else {
                    Ok(g.topics
                        .iter()
                        .flat_map(|t| {
                            t.partitions.iter().map(|p| {
                                committed(
                                    &t.name,
                                    p.partition_index,
                                    p.committed_offset,
                                    &p.metadata,
                                )
                            })
                        })
                        .collect())
                };
                out.insert(g.group_id.0.to_string(), res);
            }
        } else {
            if version < 2 {
                // "All topics" (a null topic list) exists from v2 (Kafka 0.10.2).
                return Err(KafkaError::UnsupportedApi {
                    broker: conn.addr().to_string(),
                    api: "OffsetFetch",
                    broker_versions: format!("..{version}"),
                });
            }
            for g in groups {
                let mut req = OffsetFetchRequest::default();
                req.group_id = GroupId(str_bytes(g));
                req.topics = None; // all topics
                let resp = conn.send_version(&req, version).await?;
                let res = if resp.error_code != 0 {
                    Err(KafkaError::server("OffsetFetch", resp.error_code, None))
                } else {
                    Ok(resp
                        .topics
                        .iter()
                        .flat_map(|t| {
                            t.partitions.iter().map(|p| {
                                committed(
                                    &t.name,
                                    p.partition_index,
                                    p.committed_offset,
                                    &p.metadata,
                                )
                            })
                        })
                        .collect())
                };
                out.insert(g.clone(), res);
            }
        }
        Ok(out)
    }

    /// Produces records (key, value) to one partition as one batch (acks = all) and returns the
    /// base offset. Burrow never produces; this exists for tools and tests that write records,
    /// such as encoded commits into `__consumer_offsets`.
    pub async fn produce(
        &self,
        topic: &str,
        partition: i32,
        records: &[(Option<Bytes>, Option<Bytes>)],
        compression: Compression,
    ) -> Result<i64> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        self.produce_at(topic, partition, records, compression, now)
            .await
    }

    /// [`KafkaClient::produce`] with the records' create time set to `timestamp` (ms): for tests
    /// and tools that build a topic's history after the fact.
    pub async fn produce_at(
        &self,
        topic: &str,
        partition: i32,
        records: &[(Option<Bytes>, Option<Bytes>)],
        compression: Compression,
        timestamp: i64,
    ) -> Result<i64> {
        let conn = self.leader(topic, partition).await?;
        let version = conn.version::<ProduceRequest>(PRODUCE_MAX)?;
        let recs: Vec<Record> = records
            .iter()
            .enumerate()
            .map(|(i, (k, v))| Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: i as i64,
                // kafka-protocol keeps records in one batch while offset - sequence is constant;
                // this makes the batch's base sequence -1 (no idempotence), as Java's producer.
                sequence: i as i32 - 1,
                timestamp,
                key: k.clone(),
                value: v.clone(),
                headers: Default::default(),
            })
            .collect();
        let mut buf = bytes::BytesMut::new();
        RecordBatchEncoder::encode(
            &mut buf,
            &recs,
            &RecordEncodeOptions {
                version: 2,
                compression,
            },
        )
        .map_err(|e| KafkaError::Protocol {
            broker: conn.addr().to_string(),
            api: "Produce",
            message: e.to_string(),
        })?;
        let mut pd = PartitionProduceData::default();
        pd.index = partition;
        pd.records = Some(buf.freeze());
        let mut td = TopicProduceData::default();
        td.name = TopicName(str_bytes(topic));
        td.partition_data = vec![pd];
        let mut req = ProduceRequest::default();
        req.acks = -1;
        req.timeout_ms = 10_000;
        req.topic_data = vec![td];
        let resp = conn.send_version(&req, version).await?;
        let p = resp
            .responses
            .into_iter()
            .flat_map(|t| t.partition_responses)
            .next()
            .ok_or_else(|| KafkaError::Protocol {
                broker: conn.addr().to_string(),
                api: "Produce",
                message: "empty response".into(),
            })?;
        if p.error_code != 0 {
            return Err(KafkaError::server(
                "Produce",
                p.error_code,
                p.error_message.map(|m| m.to_string()),
            ));
        }
        Ok(p.base_offset)
    }

    /// Creates a topic (no error if it exists) and refreshes metadata. For tools and tests.
    pub async fn create_topic(&self, name: &str, partitions: i32, replication: i16) -> Result<()> {
        let conn = self.any_broker().await?;
        let version = conn.version::<CreateTopicsRequest>(i16::MAX)?;
        let mut t = CreatableTopic::default();
        t.name = TopicName(str_bytes(name));
        t.num_partitions = partitions;
        t.replication_factor = replication;
        let mut req = CreateTopicsRequest::default();
        req.topics = vec![t];
        req.timeout_ms = 10_000;
        let resp = conn.send_version(&req, version).await?;
        for t in resp.topics {
            // 36 = TOPIC_ALREADY_EXISTS
            if t.error_code != 0 && t.error_code != 36 {
                return Err(server_err(
                    "CreateTopics",
                    t.error_code,
                    t.error_message.as_ref(),
                ));
            }
        }
        // Leaders may take a moment to appear.
        for _ in 0..50 {
            let md = self.refresh_metadata().await?;
            if md.topics.get(name).is_some_and(|t| {
                t.partitions.len() as i32 >= partitions
                    && t.partitions.values().all(|p| p.leader >= 0)
            }) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
}
