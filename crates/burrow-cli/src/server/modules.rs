//! The modules the server starts and stops in order: clusters, then consumers (Kafka and
//! ZooKeeper), then notifiers; stopped in reverse. Each module owns its tasks and is stopped
//! through its handle.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use tokio::sync::watch;
use tracing::info;

use burrow_ingest::cluster::{self, ClusterHandle};
use burrow_ingest::consumer::{self, ConsumerHandle, Positions};
use burrow_ingest::time_lag::TimeLag;
use burrow_notify::{CoordinatorHandle, Role, SavedIncidents};
use burrow_zk::kafka_zk::ZkConsumerHandle;
use burrow_zk::leader::Leadership;

use super::{Core, Metrics};
use crate::settings::{ClusterPlan, ConsumerPlan, Settings};
use crate::state::{Readers, Restored};
use burrow_ingest::group_api::GroupApiHandle;

/// The running cluster and consumer modules.
pub(crate) struct Ingest {
    clusters: Vec<ClusterHandle>,
    consumers: Vec<ConsumerHandle>,
    zk_consumers: Vec<ZkConsumerHandle>,
    group_api_consumers: Vec<GroupApiHandle>,
    /// Where the consumers were resumed from (saved positions of an earlier run).
    resume: Readers,
}

/// Starts the cluster modules, then the consumer modules of each cluster.
pub(crate) fn start_ingest(
    settings: &Settings,
    core: &Core,
    metrics: &Metrics,
    restored: &Restored,
    time_lags: &BTreeMap<String, Arc<TimeLag>>,
) -> Result<Ingest> {
    let clusters: Vec<ClusterHandle> = settings
        .clusters
        .iter()
        .map(|plan| start_cluster(plan, settings, core, metrics, time_lags))
        .collect();
    let mut ingest = Ingest {
        clusters,
        consumers: Vec::new(),
        zk_consumers: Vec::new(),
        group_api_consumers: Vec::new(),
        resume: restored.readers.clone(),
    };
    for plan in &settings.consumers {
        ingest.start_consumer(plan, core, metrics)?;
    }
    Ok(ingest)
}

fn start_cluster(
    plan: &ClusterPlan,
    settings: &Settings,
    core: &Core,
    metrics: &Metrics,
    time_lags: &BTreeMap<String, Arc<TimeLag>>,
) -> ClusterHandle {
    // The reaper never deletes Burrow's own progress groups of this cluster's consumers.
    let spares = settings
        .consumers
        .iter()
        .filter_map(|c| match c {
            ConsumerPlan::Kafka { name, section, .. } if section.cluster == plan.name => {
                Some(format!("burrow-{name}"))
            }
            _ => None,
        })
        .collect();
    let module = plan.section.settings(
        &plan.name,
        plan.client.clone(),
        spares,
        time_lags.get(&plan.name).cloned(),
    );
    info!(cluster = %plan.name, servers = %plan.section.servers.join(","), "starting cluster module");
    cluster::start(module, core.storage.clone(), metrics.ingest.clone())
}

impl Ingest {
    fn start_consumer(
        &mut self,
        plan: &ConsumerPlan,
        core: &Core,
        metrics: &Metrics,
    ) -> Result<()> {
        let Some(cluster) = self.clusters.iter().find(|h| h.name() == plan.cluster()) else {
            bail!("consumer: no cluster module {}", plan.cluster());
        };
        match plan {
            ConsumerPlan::Kafka {
                name,
                section,
                client,
                filter,
            } => {
                let resume = self.resume.get(name).cloned().unwrap_or_default();
                let module = section.kafka_settings(
                    name,
                    client.clone(),
                    filter.clone(),
                    resume,
                    cluster.offset_refresh(),
                );
                info!(consumer = %name, topic = %section.offsets_topic, "starting consumer module");
                self.consumers.push(consumer::start(
                    module,
                    core.storage.clone(),
                    metrics.ingest.clone(),
                    Some(cluster.refresher()),
                    cluster.first_round(),
                ));
            }
            ConsumerPlan::KafkaAdmin(module) => {
                info!(consumer = %module.name, every = ?module.poll_interval, "starting kafka_admin consumer module");
                self.group_api_consumers
                    .push(burrow_ingest::group_api::start(
                        module.clone(),
                        core.storage.clone(),
                        metrics.ingest.clone(),
                        cluster.first_round(),
                    ));
            }
            ConsumerPlan::KafkaZk(module) => {
                info!(consumer = %module.name, path = %module.base_path, "starting kafka_zk consumer module");
                self.zk_consumers.push(burrow_zk::kafka_zk::start(
                    module.clone(),
                    core.storage.clone(),
                    metrics.zk.clone(),
                    cluster.first_round(),
                ));
            }
        }
        Ok(())
    }

    /// One flag per consumer module: true once it has read the backlog.
    pub(crate) fn ready_flags(&self) -> Vec<watch::Receiver<bool>> {
        self.consumers
            .iter()
            .map(|c| c.ready())
            .chain(self.zk_consumers.iter().map(|z| z.ready()))
            .chain(self.group_api_consumers.iter().map(|a| a.ready()))
            .collect()
    }

    /// Each cluster module's name and health.
    pub(crate) fn cluster_health(&self) -> Vec<(String, burrow_ingest::health::Health)> {
        self.clusters
            .iter()
            .map(|c| (c.name().to_string(), c.health()))
            .collect()
    }

    /// How far each Kafka consumer has stored its offsets topic, over the saved positions it
    /// resumed from.
    pub(crate) fn positions(&self) -> (Vec<Positions>, Readers) {
        let handles = self
            .consumers
            .iter()
            .map(|c| c.positions_handle())
            .collect();
        (handles, self.resume.clone())
    }

    /// Stops the ZooKeeper consumers.
    pub(crate) async fn stop_zk_consumers(&mut self) {
        for z in std::mem::take(&mut self.zk_consumers) {
            z.stop().await;
        }
    }

    /// Stops the Kafka consumers (both classes), then the clusters.
    pub(crate) async fn stop_kafka(self) {
        for c in self.consumers {
            c.stop().await;
        }
        for a in self.group_api_consumers {
            a.stop().await;
        }
        for c in self.clusters {
            c.stop().await;
        }
    }
}

/// The running notifier coordinator and, with ZooKeeper, the leader election.
pub(crate) struct Notifiers {
    coordinator: CoordinatorHandle,
    election: Option<Leadership>,
    /// Keeps a single instance's fixed leader role alive.
    _leader: watch::Sender<Role>,
}

impl Notifiers {
    /// Reads the open incidents while the coordinator runs (for the periodic save).
    pub(crate) fn incidents_reader(&self) -> burrow_notify::IncidentsReader {
        self.coordinator.incidents_reader()
    }
}

/// Starts the notifier coordinator (when there are notifiers): evaluations start once every
/// consumer has read its backlog (`ready`); a single instance always leads, several elect one
/// sender through ZooKeeper.
pub(crate) fn start_notifiers(
    settings: &Settings,
    modules: Vec<burrow_notify::Module>,
    core: &Core,
    metrics: &Metrics,
    incidents: SavedIncidents,
    ready: watch::Receiver<bool>,
) -> Option<Notifiers> {
    if modules.is_empty() {
        return None;
    }
    // Incidents open before a restart go on (same id, send-interval counted from before).
    let source = super::notify_source::TimedGroups {
        evaluator: core.evaluator.clone(),
        lag_seconds: metrics.lag_seconds.clone(),
    };
    let mut c = burrow_notify::Coordinator::new(Arc::new(source), metrics.notify.clone())
        .restore(incidents);
    for m in modules {
        info!(notifier = %m.name, interval = m.policy.interval, threshold = m.policy.threshold, "starting notifier module");
        c = c.module(m);
    }
    let (leader_tx, leader_rx) = watch::channel(Role::Leader);
    let (election, role) = match &settings.election {
        Some(plan) => {
            info!(servers = %plan.zk.servers.join(","), root = %plan.root_path, "joining the notifier leader election");
            let e = burrow_zk::leader::start(plan.zk.clone(), plan.root_path.clone());
            let role = e.role();
            // A leader cut off from ZooKeeper holds what falls due and loses it if its session
            // expires; the instance taking over sends again what fell due within two session
            // timeouts (a pause before the expiry, and the session re-armed by a restarting
            // ZooKeeper).
            c = c.handover_window(2 * plan.zk.session_timeout.max(Duration::from_secs(1)));
            (Some(e), role)
        }
        None => (None, leader_rx),
    };
    Some(Notifiers {
        coordinator: c.start(ready, role),
        election,
        _leader: leader_tx,
    })
}

/// Stops the coordinator (its queues drain for 5 s) and leaves the election; returns the open
/// incidents when they are to be saved.
pub(crate) async fn stop_notifiers(n: Option<Notifiers>, keep_incidents: bool) -> SavedIncidents {
    let Some(n) = n else {
        return SavedIncidents::new();
    };
    let incidents = if keep_incidents {
        n.coordinator.incidents().await
    } else {
        SavedIncidents::new()
    };
    n.coordinator.stop(Duration::from_secs(5)).await;
    if let Some(e) = n.election {
        e.stop().await;
    }
    incidents
}
