//! The `kafka_zk` consumer module: offsets of old consumers (and Storm) committed to ZooKeeper.
//!
//! Layout under `<zookeeper-path>/consumers`: `<group>/offsets/<topic>/<partition>` holds the
//! offset as decimal text, `<group>/owners/<topic>/<partition>` the owning consumer id. A commit's
//! timestamp is the offset node's mtime and its order the node's mzxid.
//!
//! One persistent recursive watch (ZooKeeper 3.6+) on the base path reports every node created or
//! changed below it, at any depth, including groups and topics that appear later; the tree is
//! read in full at start and after every session expiry. Partition ids are the children's names
//! (decision 17: Burrow assumed `0..N-1`). Nothing is deleted from storage here: groups removed
//! from ZooKeeper stop updating and expire, as in Burrow.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use burrow_core::{now_ms, ConsumerOffsetEvent, ConsumerOwnerEvent};
use burrow_storage::{DropReason, GroupFilter, Outcome, Storage};
use prometheus::{IntCounterVec, Opts, Registry};
use tokio::sync::watch;
use tracing::{debug, info, warn};
use zookeeper_client as zk;

use crate::{connect, ZkError, ZkSettings};

/// Settings of one `[consumer.<name>]` of class `kafka_zk`.
#[derive(Debug, Clone)]
pub struct ZkConsumerSettings {
    /// Module name.
    pub name: String,
    /// Cluster the offsets belong to.
    pub cluster: String,
    /// The ensemble and session timeout (`servers`, `zookeeper-timeout`).
    pub zk: ZkSettings,
    /// `zookeeper-path` + `/consumers`.
    pub base_path: String,
    /// The module's group allow/deny lists.
    pub filter: GroupFilter,
}

/// Counters of the `kafka_zk` modules.
#[derive(Debug, Clone)]
pub struct ZkConsumerMetrics {
    /// `burrow_zk_consumer_offsets_read_total{consumer}`.
    pub read: IntCounterVec,
    /// `burrow_zk_consumer_offsets_skipped_total{consumer,reason}`: `unparseable`,
    /// `group_filtered`, `bad_partition`, or a storage drop reason.
    pub skipped: IntCounterVec,
}

impl ZkConsumerMetrics {
    /// Creates the counters and registers them.
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self::unregistered()?;
        registry.register(Box::new(m.read.clone()))?;
        registry.register(Box::new(m.skipped.clone()))?;
        Ok(m)
    }

    /// Counters no registry exposes.
    pub fn unregistered() -> Result<Self, prometheus::Error> {
        Ok(ZkConsumerMetrics {
            read: IntCounterVec::new(
                Opts::new(
                    "burrow_zk_consumer_offsets_read_total",
                    "Offsets read from ZooKeeper by kafka_zk consumer modules",
                ),
                &["consumer"],
            )?,
            skipped: IntCounterVec::new(
                Opts::new(
                    "burrow_zk_consumer_offsets_skipped_total",
                    "Offsets read from ZooKeeper and not stored, by reason",
                ),
                &["consumer", "reason"],
            )?,
        })
    }
}

/// A running `kafka_zk` module.
#[derive(Debug)]
pub struct ZkConsumerHandle {
    ready: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ZkConsumerHandle {
    /// True once the tree has been read in full the first time.
    pub fn ready(&self) -> watch::Receiver<bool> {
        self.ready.clone()
    }

    /// Stops the module and closes its session.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts the module. It reads nothing before `cluster_ready` is true (the cluster module's
/// first round of broker offsets is stored), so that commits are not dropped for want of them
/// (decision 6).
pub fn start(
    settings: ZkConsumerSettings,
    storage: Arc<Storage>,
    metrics: ZkConsumerMetrics,
    mut cluster_ready: watch::Receiver<bool>,
) -> ZkConsumerHandle {
    let (ready_tx, ready) = watch::channel(false);
    let (stop, stop_rx) = watch::channel(false);
    let reader = Reader {
        settings,
        storage,
        metrics,
        retry: Mutex::new(BTreeMap::new()),
    };
    let task = tokio::spawn(async move {
        let _ = cluster_ready.wait_for(|r| *r).await;
        reader.run(ready_tx, stop_rx).await;
    });
    ZkConsumerHandle { ready, stop, task }
}

struct Reader {
    settings: ZkConsumerSettings,
    storage: Arc<Storage>,
    metrics: ZkConsumerMetrics,
    /// Offset nodes whose commit was dropped because the broker offsets of its topic are not
    /// known yet (a topic newer than the last metadata refresh): read again every 2 s, for up to
    /// a minute (a topic that never gets broker offsets was deleted).
    retry: Mutex<BTreeMap<String, u32>>,
}

impl Reader {
    async fn run(self, ready: watch::Sender<bool>, mut stop: watch::Receiver<bool>) {
        let name = self.settings.name.clone();
        let mut backoff = Duration::from_millis(200);
        loop {
            let r = tokio::select! {
                r = self.session(&ready) => r,
                _ = stop.wait_for(|s| *s) => return,
            };
            match r {
                Ok(()) => {
                    info!(consumer = %name, "zookeeper session lost; reading the tree again with a new session");
                    backoff = Duration::from_millis(200);
                }
                Err(e) => {
                    warn!(consumer = %name, error = %e, "kafka_zk: retrying in {backoff:?}");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.wait_for(|s| *s) => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    /// One session: watch, read everything, then follow the events until the session ends.
    async fn session(&self, ready: &watch::Sender<bool>) -> Result<(), ZkError> {
        let client = connect(&self.settings.zk).await?;
        let base = self.settings.base_path.as_str();
        // Watch first, then read: nothing written in between is missed.
        let mut watcher = client
            .watch(base, zk::AddWatchMode::PersistentRecursive)
            .await
            .map_err(ZkError::request(format!("watching {base}")))?;
        self.read_subtree(&client, base).await?;
        info!(consumer = %self.settings.name, path = base, "kafka_zk: tree read; following changes");
        let _ = ready.send(true);
        let mut retry_tick = tokio::time::interval(Duration::from_secs(2));
        loop {
            let event = tokio::select! {
                e = watcher.changed() => e,
                _ = retry_tick.tick() => {
                    let paths = std::mem::take(&mut *self.retry.lock().unwrap_or_else(|e| e.into_inner()));
                    for (p, tries) in paths {
                        if tries >= 30 {
                            continue;
                        }
                        self.retry
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(p.clone(), tries + 1);
                        if let Err(e) = self.read_subtree(&client, &p).await {
                            debug!(consumer = %self.settings.name, path = %p, error = %e, "kafka_zk: read failed");
                        }
                    }
                    continue;
                }
            };
            match event.event_type {
                zk::EventType::Session if event.session_state.is_terminated() => return Ok(()),
                zk::EventType::NodeCreated | zk::EventType::NodeDataChanged => {
                    if let Err(e) = self.read_subtree(&client, &event.path).await {
                        debug!(consumer = %self.settings.name, path = %event.path, error = %e, "kafka_zk: read failed");
                    }
                }
                _ => {}
            }
        }
    }

    /// Reads `path` and everything below it that matters.
    async fn read_subtree(&self, client: &zk::Client, path: &str) -> Result<(), ZkError> {
        let base = self.settings.base_path.as_str();
        let rel = path
            .strip_prefix(base)
            .unwrap_or(path)
            .trim_start_matches('/');
        let parts: Vec<&str> = if rel.is_empty() {
            Vec::new()
        } else {
            rel.split('/').collect()
        };
        match parts.as_slice() {
            [] => {
                for group in children(client, base).await? {
                    Box::pin(self.read_subtree(client, &format!("{base}/{group}"))).await?;
                }
            }
            [group] => {
                if !self.settings.filter.accepts(group) {
                    return Ok(());
                }
                Box::pin(self.read_subtree(client, &format!("{base}/{group}/offsets"))).await?;
            }
            [group, "offsets"] => {
                for topic in children(client, path).await? {
                    let p = format!("{base}/{group}/offsets/{topic}");
                    Box::pin(self.read_subtree(client, &p)).await?;
                }
            }
            [_, "offsets", _] => {
                for partition in children(client, path).await? {
                    Box::pin(self.read_subtree(client, &format!("{path}/{partition}"))).await?;
                }
            }
            [group, "offsets", topic, partition] => {
                self.read_offset(client, group, topic, partition).await?;
            }
            [group, "owners", topic, partition] => {
                self.read_owner(client, group, topic, partition).await?;
            }
            _ => {}
        }
        Ok(())
    }

    fn skipped(&self, reason: &str) {
        self.metrics
            .skipped
            .with_label_values(&[&self.settings.name, reason])
            .inc();
    }

    async fn read_offset(
        &self,
        client: &zk::Client,
        group: &str,
        topic: &str,
        partition: &str,
    ) -> Result<(), ZkError> {
        if !self.settings.filter.accepts(group) {
            self.skipped("group_filtered");
            return Ok(());
        }
        let Ok(partition) = partition.parse::<i32>() else {
            self.skipped("bad_partition");
            return Ok(());
        };
        let base = &self.settings.base_path;
        let path = format!("{base}/{group}/offsets/{topic}/{partition}");
        let Some((data, stat)) = data_of(client, &path).await? else {
            return Ok(());
        };
        self.metrics
            .read
            .with_label_values(&[&self.settings.name])
            .inc();
        let Some(offset) = std::str::from_utf8(&data)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
        else {
            warn!(consumer = %self.settings.name, path, "kafka_zk: offset is not a number; skipped");
            self.skipped("unparseable");
            return Ok(());
        };
        let outcome = self.storage.set_consumer_offset(
            now_ms(),
            &ConsumerOffsetEvent {
                cluster: self.settings.cluster.clone(),
                group: group.to_string(),
                topic: topic.to_string(),
                partition,
                offset,
                order: stat.mzxid,
                timestamp: stat.mtime,
            },
        );
        if let Outcome::Dropped(r) = outcome {
            self.skipped(r.as_str());
            if matches!(
                r,
                DropReason::UnknownTopic
                    | DropReason::UnknownPartition
                    | DropReason::NoBrokerOffset
            ) {
                self.retry
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(path.clone())
                    .or_insert(0);
            }
        } else {
            self.retry
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&path);
        }
        self.read_owner(client, group, topic, &partition.to_string())
            .await
    }

    async fn read_owner(
        &self,
        client: &zk::Client,
        group: &str,
        topic: &str,
        partition: &str,
    ) -> Result<(), ZkError> {
        if !self.settings.filter.accepts(group) {
            return Ok(());
        }
        let Ok(partition) = partition.parse::<i32>() else {
            return Ok(());
        };
        let base = &self.settings.base_path;
        let path = format!("{base}/{group}/owners/{topic}/{partition}");
        let Some((data, _)) = data_of(client, &path).await? else {
            return Ok(());
        };
        let _ = self.storage.set_consumer_owner(&ConsumerOwnerEvent {
            cluster: self.settings.cluster.clone(),
            group: group.to_string(),
            topic: topic.to_string(),
            partition,
            owner: String::from_utf8_lossy(&data).into_owned(),
            client_id: String::new(),
        });
        Ok(())
    }
}

/// Data and stat of `path`, or `None` when it does not exist (any more).
async fn data_of(client: &zk::Client, path: &str) -> Result<Option<(Vec<u8>, zk::Stat)>, ZkError> {
    match client.get_data(path).await {
        Ok(v) => Ok(Some(v)),
        Err(zk::Error::NoNode) => Ok(None),
        Err(e) => Err(ZkError::request(format!("reading {path}"))(e)),
    }
}

/// Children of `path`, or none when it does not exist.
async fn children(client: &zk::Client, path: &str) -> Result<Vec<String>, ZkError> {
    match client.get_children(path).await {
        Ok((c, _)) => Ok(c),
        Err(zk::Error::NoNode) => Ok(Vec::new()),
        Err(e) => Err(ZkError::request(format!("listing {path}"))(e)),
    }
}
