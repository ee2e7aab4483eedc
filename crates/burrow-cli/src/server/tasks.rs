//! The server's own tasks, all in one [`JoinSet`] and stopped by one [`CancellationToken`]
//! (through a child token for the background ones): the HTTP listeners, readiness, the metrics
//! refresh, the expiry sweep and the periodic state save.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Result};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use burrow_http::{Api, MetricsExporter, Readiness};
use burrow_ingest::consumer::Positions;
use burrow_ingest::health::Health;
use burrow_notify::{IncidentsReader, SavedIncidents};
use burrow_storage::Storage;

use super::modules::{Ingest, Notifiers};
use super::{log_failure, Core};
use crate::config::Config;
use crate::settings::ListenerPlan;
use crate::state::{Readers, StateFile};

/// A task of the set that ended: its name and how.
pub(crate) struct Ended {
    task: String,
    result: Result<()>,
}

async fn named(task: String, work: impl Future<Output = Result<()>>) -> Ended {
    Ended {
        task,
        result: work.await,
    }
}

/// Why the server stops.
pub(crate) enum Outcome {
    /// The shutdown future resolved (a signal).
    Requested,
    /// A task ended on its own.
    TaskEnded(Ended),
    /// A task panicked or was aborted.
    TaskFailed(tokio::task::JoinError),
}

impl Outcome {
    pub(crate) fn reason(&self) -> String {
        match self {
            Outcome::Requested => "shutdown requested".into(),
            Outcome::TaskEnded(e) => format!("{} stopped", e.task),
            Outcome::TaskFailed(e) => format!("a task failed: {e}"),
        }
    }

    pub(crate) fn into_result(self) -> Result<()> {
        match self {
            Outcome::Requested => Ok(()),
            Outcome::TaskEnded(Ended { task, result }) => {
                result.map_err(|e| anyhow!("{task}: {e:#}"))
            }
            Outcome::TaskFailed(e) => Err(anyhow!("a server task failed: {e}")),
        }
    }
}

/// Waits for `shutdown`, or for a task of the set to end (which none does before a stop).
pub(crate) async fn wait_for_stop(
    shutdown: impl Future<Output = ()>,
    tasks: &mut JoinSet<Ended>,
) -> Outcome {
    tokio::select! {
        () = shutdown => Outcome::Requested,
        Some(ended) = tasks.join_next() => match ended {
            Ok(ended) => Outcome::TaskEnded(ended),
            Err(e) => Outcome::TaskFailed(e),
        },
    }
}

/// Waits up to `grace` for every task to finish after the token was cancelled, then aborts the
/// rest. Failures are logged: the stop goes on.
pub(crate) async fn drain(tasks: &mut JoinSet<Ended>, grace: Duration) {
    let all = async {
        while let Some(ended) = tasks.join_next().await {
            match ended {
                Ok(Ended {
                    task,
                    result: Err(e),
                }) => log_failure(&task, &e),
                Ok(_) => {}
                Err(e) if e.is_cancelled() => {}
                Err(e) => log_failure("a server task", &anyhow!("{e}")),
            }
        }
    };
    if tokio::time::timeout(grace, all).await.is_err() {
        warn!(
            grace_s = grace.as_secs(),
            "tasks still running after the grace period; aborting them"
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}

/// One task per listener, serving until the token is cancelled (then draining its
/// connections within its `timeout`).
pub(crate) fn spawn_listeners(
    tasks: &mut JoinSet<Ended>,
    listeners: Vec<(ListenerPlan, TcpListener)>,
    api: &Api,
    auth_metrics: &burrow_http::AuthMetrics,
    token: &CancellationToken,
) {
    for (mut plan, listener) in listeners {
        plan.options.auth_metrics = Some(auth_metrics.clone());
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let auth = plan
            .options
            .auth
            .as_ref()
            .map_or("none", |a| match a.scope() {
                burrow_http::AuthScope::None => "none",
                burrow_http::AuthScope::Mutating => "mutating",
                burrow_http::AuthScope::All => "all",
            });
        info!(listener = %plan.name, %addr, tls = plan.options.tls.is_some(), auth, "HTTP server listening");
        if plan.options.dashboard {
            let scheme = if plan.options.tls.is_some() {
                "https"
            } else {
                "http"
            };
            info!(listener = %plan.name, url = %format!("{scheme}://{addr}{}", burrow_http::DASHBOARD_PATH), "dashboard");
        }
        let shutdown = token.clone().cancelled_owned();
        let api = api.clone();
        let work = async move {
            burrow_http::serve(listener, api, plan.options, shutdown)
                .await
                .map_err(anyhow::Error::from)
        };
        tasks.spawn(named(format!("listener {}", plan.name), work));
    }
}

/// The clusters' health as readiness sees it, and where it is exported.
pub(crate) struct HealthWatch {
    pub clusters: Vec<(String, Health)>,
    /// Every cluster unreachable for longer than this makes the server unavailable (0: never).
    pub limit: Duration,
    pub metrics: burrow_ingest::IngestMetrics,
}

impl HealthWatch {
    /// Exports each cluster's gauges; the reason the server is unavailable, if every cluster
    /// has been unreachable for longer than the limit.
    fn check(&self, now_ms: i64) -> Option<String> {
        let mut unreachable = Vec::new();
        let mut all_unreachable = !self.clusters.is_empty();
        for (name, health) in &self.clusters {
            let h = health.snapshot();
            let up = self.metrics.cluster_up.with_label_values(&[name]);
            up.set(i64::from(h.up()));
            self.metrics
                .metadata_age
                .with_label_values(&[name])
                .set(h.metadata_age_seconds(now_ms));
            match h.unreachable_for_ms(now_ms) {
                Some(ms) if !self.limit.is_zero() && ms > self.limit.as_millis() as i64 => {
                    let cause = h.last_failure.map(|(_, c)| c).unwrap_or_default();
                    unreachable.push(format!("{name}: no answer for {} s ({cause})", ms / 1000));
                }
                _ => all_unreachable = false,
            }
        }
        if !all_unreachable {
            return None;
        }
        Some(format!(
            "every cluster has been unreachable for longer than {} s: {}",
            self.limit.as_secs(),
            unreachable.join("; ")
        ))
    }
}

/// Marks the server ready once every consumer module has read its backlog, and says so to the
/// notifiers. Then, every second, exports the clusters' health and makes the server unavailable
/// (with the reason) while every cluster is unreachable for longer than the limit.
pub(crate) fn spawn_readiness(
    tasks: &mut JoinSet<Ended>,
    mut flags: Vec<watch::Receiver<bool>>,
    readiness: Readiness,
    health: HealthWatch,
    ready_tx: watch::Sender<bool>,
    token: &CancellationToken,
) {
    let token = token.clone();
    let work = async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let all_ready = async {
            for f in &mut flags {
                let _ = f.wait_for(|r| *r).await;
            }
        };
        tokio::pin!(all_ready);
        let mut ready = false;
        loop {
            tokio::select! {
                () = token.cancelled() => return Ok(()),
                () = &mut all_ready, if !ready => {
                    ready = true;
                    readiness.set(true);
                    let _ = ready_tx.send(true);
                    info!("ready: every consumer module has read the backlog of its offsets topic");
                }
                _ = tick.tick() => {
                    let reason = health.check(burrow_core::now_ms());
                    match (&reason, readiness.unavailable()) {
                        (Some(r), None) => warn!(reason = %r, "not ready: the clusters cannot be reached"),
                        (None, Some(_)) => info!("a cluster answers again; ready as before"),
                        _ => {}
                    }
                    readiness.set_unavailable(reason);
                }
            }
        }
    };
    tasks.spawn(named("readiness".into(), work));
}

/// Re-evaluates every group for `/metrics` every `expire-cache`.
pub(crate) fn spawn_metrics_refresh(
    tasks: &mut JoinSet<Ended>,
    exporter: &Arc<MetricsExporter>,
    config: &Config,
    token: &CancellationToken,
) {
    let every = Duration::from_secs(config.evaluator.expire_cache.max(1) as u64);
    let (exporter, token) = (exporter.clone(), token.clone());
    let work = async move {
        tokio::select! {
            () = token.cancelled() => Ok(()),
            () = exporter.run(every) => Err(anyhow!("the refresh loop returned")),
        }
    };
    tasks.spawn(named("metrics refresh".into(), work));
}

/// Burrow expires groups only when they are read; this purges the ones nobody reads, every
/// minute.
pub(crate) fn spawn_expiry_sweep(
    tasks: &mut JoinSet<Ended>,
    core: &Core,
    token: &CancellationToken,
) {
    let (core, token) = (core.clone(), token.clone());
    let work = async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                () = token.cancelled() => return Ok(()),
                _ = tick.tick() => {}
            }
            let now = burrow_core::now_ms();
            let purged = core.storage.purge_expired(now);
            core.evaluator.purge_expired(now);
            if !purged.is_empty() {
                info!(groups = purged.len(), "expired groups purged");
            }
        }
    };
    tasks.spawn(named("expiry sweep".into(), work));
}

/// Saves the state file: storage, the consumers' positions, the notifiers' incidents.
#[derive(Clone)]
pub(crate) struct Saver {
    state: Arc<StateFile>,
    storage: Arc<Storage>,
    positions: Vec<Positions>,
    resume: Readers,
    incidents: Option<IncidentsReader>,
}

impl Saver {
    pub(crate) fn new(
        state: Arc<StateFile>,
        core: &Core,
        ingest: &Ingest,
        notifiers: &Option<Notifiers>,
    ) -> Saver {
        let (positions, resume) = ingest.positions();
        Saver {
            state,
            storage: core.storage.clone(),
            positions,
            resume,
            incidents: notifiers.as_ref().map(Notifiers::incidents_reader),
        }
    }

    /// The positions to save now (read before the snapshot is taken).
    pub(crate) fn readers(&self) -> Readers {
        crate::state::readers(&self.positions, &self.resume)
    }

    async fn periodic_save(&self) {
        let incidents = match &self.incidents {
            Some(r) => r.get().await,
            None => SavedIncidents::new(),
        };
        let saved = self
            .state
            .clone()
            .save_blocking(self.storage.clone(), self.readers(), incidents)
            .await;
        match saved {
            Ok(()) => debug!("state saved"),
            Err(e) => warn!(error = %format!("{e:#}"), "saving the state failed"),
        }
    }

    /// The save at shutdown, with the positions read before the consumers stopped.
    pub(crate) async fn final_save(self, readers: Readers, incidents: SavedIncidents) {
        let started = std::time::Instant::now();
        match self
            .state
            .save_blocking(self.storage, readers, incidents)
            .await
        {
            Ok(()) => info!(
                took_ms = started.elapsed().as_millis() as u64,
                "state saved"
            ),
            Err(e) => log_failure("saving the state", &e),
        }
    }
}

/// Saves the state every `every` (the first save one interval after the start).
pub(crate) fn spawn_periodic_save(
    tasks: &mut JoinSet<Ended>,
    saver: Saver,
    every: Duration,
    token: &CancellationToken,
) {
    let token = token.clone();
    let work = async move {
        let start = tokio::time::Instant::now() + every;
        let mut tick = tokio::time::interval_at(start, every);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = token.cancelled() => return Ok(()),
                _ = tick.tick() => saver.periodic_save().await,
            }
        }
    };
    tasks.spawn(named("state saver".into(), work));
}
