//! The cluster-level client: bootstrap, metadata, one connection per broker, and the requests
//! Burrow needs, each routed to the right broker and batched per broker.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use burrow_core::throttle::ThrottleMap;
use kafka_protocol::messages::MetadataRequest;
use kafka_protocol::protocol::{Request, StrBytes};

use crate::config::ClientConfig;
use crate::conn::BrokerConnection;
use crate::error::{KafkaError, Result};
use crate::frame::api_name;
use crate::tolerant::TolerantDecode;

mod admin;
mod fetch;
mod groups;
mod list_offsets;
mod position;

pub use fetch::{FetchOptions, FetchResult};
pub use groups::{CommittedOffset, GroupDescription, ListedGroup, MemberDescription};
pub use list_offsets::{IsolationLevel, OffsetSpec, PartitionOffset};
pub use position::LogPosition;

/// Fetch is capped at v12 and Produce at v12: later versions name topics by id only.
/// How often a failing request is said again, per broker and API.
const FAILURE_LOG_EVERY: Duration = Duration::from_secs(60);

pub(crate) const FETCH_MAX: i16 = 12;
pub(crate) const PRODUCE_MAX: i16 = 12;
/// OffsetFetch v10 names topics by id.
pub(crate) const OFFSET_FETCH_MAX: i16 = 9;

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
    /// The topic's id (Metadata v10+; `None` when the broker does not say).
    pub id: Option<crate::offsets::TopicId>,
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
    /// The name of the topic with this id (KIP-848 records name topics by id).
    pub fn topic_by_id(&self, id: &crate::offsets::TopicId) -> Option<&str> {
        self.topics
            .iter()
            .find(|(_, t)| t.id.as_ref() == Some(id))
            .map(|(name, _)| name.as_str())
    }

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
    /// Failed requests and connects said per broker and API (first, then once a minute).
    failures: ThrottleMap<(String, &'static str)>,
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

pub(crate) fn str_bytes(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}
pub(crate) fn server_err(api: &'static str, code: i16, message: Option<&StrBytes>) -> KafkaError {
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
                failures: ThrottleMap::new(FAILURE_LOG_EVERY),
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
        // A connection whose SASL session is about to end serves until a new one is made: its
        // session has a few seconds left, enough to wait out a failed renewal's backoff.
        let mut ending = None;
        if let Some(c) = slot.conn.take() {
            if c.is_broken() {
                tracing::debug!(broker = addr, "replacing a failed connection");
            } else if !c.needs_renewal() || slot.retry_at.is_some_and(|at| Instant::now() < at) {
                slot.conn = Some(c.clone());
                return Ok(c);
            } else {
                tracing::debug!(
                    broker = addr,
                    "renewing a connection before its SASL session ends"
                );
                ending = Some(c);
            }
        }
        if let (Some(at), None) = (slot.retry_at, &ending) {
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
                self.said_failed(addr, "connect", &e);
                slot.failures += 1;
                slot.retry_at = Some(Instant::now() + self.backoff(slot.failures));
                slot.conn = ending.clone();
                ending.ok_or(e)
            }
        }
    }

    /// How long to wait before connecting again after `failures` failures in a row.
    fn backoff(&self, failures: u32) -> Duration {
        let cfg = &self.inner.config;
        cfg.reconnect_backoff
            .saturating_mul(1 << failures.min(16).saturating_sub(1))
            .min(cfg.reconnect_max)
    }

    /// Sends `req` on `conn`. A failure (the connection, a timeout, a response that does not
    /// decode) is said with its cause before it is returned: per broker and API the first,
    /// then at most one a minute with how many were not said.
    pub(crate) async fn request<R: Request>(
        &self,
        conn: &BrokerConnection,
        req: &R,
        version: i16,
    ) -> Result<R::Response>
    where
        R::Response: TolerantDecode,
    {
        let result = conn.send_version(req, version).await;
        if let Err(e) = &result {
            self.said_failed(conn.addr(), api_name(R::KEY), e);
        }
        result
    }

    fn said_failed(&self, broker: &str, api: &'static str, error: &KafkaError) {
        if let Some(suppressed) = self.inner.failures.allow((broker.to_string(), api)) {
            tracing::warn!(broker, api, %error, suppressed, "Kafka request failed");
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
        let resp = self.request(&conn, &req, version).await?;
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
                    id: Some(crate::offsets::TopicId(*t.topic_id.as_bytes()))
                        .filter(|id| id.0 != [0; 16]),
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
}
