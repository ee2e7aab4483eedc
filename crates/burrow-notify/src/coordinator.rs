//! The notifier coordinator (spec §7.1): which groups exist, when each is evaluated, the policy,
//! and delivery queues that retry with backoff without ever blocking evaluation.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use burrow_core::{now_ms, ConsumerGroupStatus};
use burrow_eval::timing::GroupTiming;
use prometheus::{IntCounter, IntGauge};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::policy::{on_evaluation, GroupState};
use crate::{Notification, NotificationKind, Notifier, NotifyError, NotifyMetrics, Policy};

/// This instance's part in sending notifications (several instances elect one leader).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Sends notifications (a single instance always is).
    #[default]
    Leader,
    /// The leader, cut off from the election (disconnected, session still alive): no other
    /// instance can lead meanwhile, so what falls due is held and sent on resuming.
    Paused,
    /// Another instance leads: groups are evaluated and the policy state kept as if
    /// notifications were sent (the leader sends them), so that taking over later repeats
    /// nothing the leader already sent within `send-interval` — except what fell due within
    /// the handover window before taking over (see [`Coordinator::handover_window`]).
    Follower,
}

/// Where the coordinator finds groups and their evaluations.
pub trait GroupSource: Send + Sync + 'static {
    /// Cluster names.
    fn clusters(&self) -> Vec<String>;
    /// Groups of a cluster.
    fn groups(&self, cluster: &str) -> Vec<String>;
    /// The group's evaluation with only the partitions worse than OK (Burrow's notifier view).
    fn evaluate(&self, now_ms: i64, cluster: &str, group: &str) -> ConsumerGroupStatus;
    /// The lag in time and drain of `status`'s partitions (burrow-rs), or `None` when this
    /// source does not know them.
    fn timing(&self, _now_ms: i64, _status: &ConsumerGroupStatus) -> Option<GroupTiming> {
        None
    }
}

impl GroupSource for burrow_eval::CachingEvaluator<Arc<burrow_storage::Storage>> {
    fn clusters(&self) -> Vec<String> {
        self.source().fetch_clusters()
    }

    fn groups(&self, cluster: &str) -> Vec<String> {
        self.source().fetch_consumers(cluster).unwrap_or_default()
    }

    fn evaluate(&self, now_ms: i64, cluster: &str, group: &str) -> ConsumerGroupStatus {
        burrow_eval::CachingEvaluator::evaluate(self, now_ms, cluster, group, false)
    }

    /// Estimated from the stored end offsets (the records' own timestamps are the server's:
    /// see `burrow-cli`).
    fn timing(&self, now_ms: i64, status: &ConsumerGroupStatus) -> Option<GroupTiming> {
        Some(timing_from_storage(
            self.source(),
            now_ms,
            status,
            |_, _| None,
        ))
    }
}

/// The timing of `status` with end offsets from `storage`, and records' ages from
/// `record_seconds(partition, offset)` where known.
pub fn timing_from_storage(
    storage: &burrow_storage::Storage,
    now_ms: i64,
    status: &ConsumerGroupStatus,
    record_seconds: impl Fn(&burrow_core::PartitionStatus, i64) -> Option<f64>,
) -> GroupTiming {
    let histories = storage.broker_histories(
        &status.cluster,
        status.partitions.iter().map(|p| p.topic.as_str()),
    );
    GroupTiming::of_status(
        now_ms,
        status,
        |topic, partition| histories.partition(topic, partition),
        record_seconds,
    )
}

/// How a notifier's deliveries are retried and bounded.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per notification, the first included.
    pub attempts: u32,
    /// Wait after the first failure; doubled after each next one.
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// Longest one attempt may take (a notifier's own timeout usually ends it first).
    pub attempt_timeout: Duration,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// Notifications waiting beyond that; more are dropped and counted.
    pub queue: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(60),
            concurrency: 8,
            queue: 4096,
        }
    }
}

/// One notifier module: its name, policy, extras and delivery.
pub struct Module {
    /// Module name (`[notifier.<name>]`).
    pub name: String,
    /// The policy keys.
    pub policy: Policy,
    /// The `extras` map given to templates.
    pub extras: Arc<BTreeMap<String, String>>,
    /// Delivery.
    pub notifier: Arc<dyn Notifier>,
    /// Retries and bounds.
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.name)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// A notifier that keeps what it is given: Burrow's `null` class, and a test helper.
#[derive(Debug, Default)]
pub struct NullNotifier {
    calls: Mutex<Vec<Notification>>,
}

impl NullNotifier {
    /// Notifications received so far.
    pub fn calls(&self) -> Vec<Notification> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Notifier for NullNotifier {
    async fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
        if let Ok(mut c) = self.calls.lock() {
            // Bounded: a null notifier in a long-running server must not grow forever.
            if c.len() >= 10_000 {
                c.remove(0);
            }
            c.push(n.clone());
        }
        Ok(())
    }
}

/// The incident state of one group, kept across restarts (a server's state file): an open
/// incident goes on with the same id and start, and `send-interval` counts from the last
/// notification sent before the restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedIncident {
    /// Open incident id; empty when none is open.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Open incident start (ms); 0 when none is open.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start: i64,
    /// When each notifier module (by name) last sent an open notification (ms).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub last_notify: BTreeMap<String, i64>,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// Saved incidents: cluster → group → incident.
pub type SavedIncidents = BTreeMap<String, BTreeMap<String, SavedIncident>>;

/// Builds and starts the notifier coordinator.
pub struct Coordinator {
    source: Arc<dyn GroupSource>,
    modules: Vec<Module>,
    metrics: NotifyMetrics,
    refresh: Duration,
    clock: fn() -> i64,
    handover: Duration,
    restored: SavedIncidents,
}

impl Coordinator {
    /// A coordinator over `source`, reporting into `metrics`.
    pub fn new(source: Arc<dyn GroupSource>, metrics: NotifyMetrics) -> Self {
        Coordinator {
            source,
            modules: Vec::new(),
            metrics,
            refresh: Duration::from_secs(60),
            clock: now_ms,
            handover: Duration::ZERO,
            restored: SavedIncidents::new(),
        }
    }

    /// Starts from incidents saved by an earlier run ([`CoordinatorHandle::incidents`]). Groups
    /// that no longer exist are forgotten at the first refresh of the group list, and notifier
    /// modules that no longer exist are ignored.
    pub fn restore(mut self, incidents: SavedIncidents) -> Self {
        self.restored = incidents;
        self
    }

    /// On taking over from another leader, send again what this instance, as a follower, saw
    /// fall due within `window` before: the previous leader may not have sent it. A leader that
    /// loses its election session stops sending when it loses its connection, up to a session
    /// timeout before its lock node expires and this instance takes over, so the window is the
    /// session timeout plus a margin. Longer windows repeat more; zero (the default) repeats
    /// nothing and can lose what fell due while the old leader was cut off.
    pub fn handover_window(mut self, window: Duration) -> Self {
        self.handover = window;
        self
    }

    /// Adds a notifier module.
    pub fn module(mut self, m: Module) -> Self {
        self.modules.push(m);
        self
    }

    /// How often the list of clusters and groups is refreshed at most (Burrow: 60 s); it is also
    /// refreshed at least once per notifier interval.
    pub fn refresh_every(mut self, every: Duration) -> Self {
        self.refresh = every.max(Duration::from_millis(100));
        self
    }

    /// The clock (ms since the epoch); for tests.
    pub fn clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }

    /// Names of the modules.
    pub fn module_names(&self) -> Vec<String> {
        self.modules.iter().map(|m| m.name.clone()).collect()
    }

    /// Starts the loop. It waits until `ready` is true (the consumers read their backlog), then
    /// evaluates every group once per interval and sends according to `role` (always
    /// [`Role::Leader`] for a single instance; from the ZooKeeper election for several).
    pub fn start(
        self,
        mut ready: watch::Receiver<bool>,
        role: watch::Receiver<Role>,
    ) -> CoordinatorHandle {
        let (stop_tx, mut stop_rx) = watch::channel(false);
        let mut dispatchers = Vec::new();
        let mut workers = JoinSet::new();
        for m in &self.modules {
            let (d, w) = Dispatcher::start(m, &self.metrics, stop_rx.clone());
            dispatchers.push(d);
            workers.spawn(w);
        }
        let policies: Vec<Policy> = self.modules.iter().map(|m| m.policy.clone()).collect();
        let extras: Vec<_> = self.modules.iter().map(|m| m.extras.clone()).collect();
        let names: Vec<String> = self.modules.iter().map(|m| m.name.clone()).collect();
        let (requests_tx, requests) = mpsc::channel(4);
        let restored = restored_states(&self.restored, &names);
        let state = Loop {
            source: self.source,
            policies,
            extras,
            dispatchers,
            evaluations: self.metrics.evaluations.clone(),
            leader_gauge: self.metrics.leader.clone(),
            pending: HashMap::new(),
            refresh: self.refresh,
            clock: self.clock,
            groups: HashMap::new(),
            restored,
            handover: i64::try_from(self.handover.as_millis()).unwrap_or(i64::MAX),
            followed: VecDeque::new(),
            names,
            requests,
        };
        let main = tokio::spawn(async move {
            tokio::select! {
                _ = ready.wait_for(|r| *r) => {}
                _ = stop_rx.wait_for(|s| *s) => return,
            }
            state.run(role, stop_rx).await;
        });
        CoordinatorHandle {
            stop: stop_tx,
            main,
            workers,
            incidents: IncidentsReader {
                requests: requests_tx,
                restored: Arc::new(self.restored),
            },
        }
    }
}

/// The groups' states of saved incidents (notifier names mapped to their index; unknown ones
/// dropped), for the group list refresh to take over as it first meets each group.
fn restored_states(
    saved: &SavedIncidents,
    names: &[String],
) -> HashMap<(String, String), GroupState> {
    let mut states = HashMap::new();
    for (cluster, incidents) in saved {
        for (group, inc) in incidents {
            let last_notify = inc
                .last_notify
                .iter()
                .filter_map(|(name, &at)| Some((names.iter().position(|n| n == name)?, at)))
                .collect();
            states.insert(
                (cluster.clone(), group.clone()),
                GroupState {
                    incident_id: inc.id.clone(),
                    incident_start: inc.start,
                    last_notify,
                },
            );
        }
    }
    states
}

/// Reads a running coordinator's incidents ([`CoordinatorHandle::incidents_reader`]).
#[derive(Debug, Clone)]
pub struct IncidentsReader {
    requests: mpsc::Sender<oneshot::Sender<SavedIncidents>>,
    restored: Arc<SavedIncidents>,
}

impl IncidentsReader {
    /// Every group's open incident and last notifications. Before the coordinator has started
    /// evaluating (it waits for the backlog to be read), or if it does not answer within a
    /// second: what it was restored from.
    pub async fn get(&self) -> SavedIncidents {
        let (tx, rx) = oneshot::channel();
        // Never waits for room: requests pile up while the loop has not started.
        if self.requests.try_send(tx).is_ok() {
            if let Ok(Ok(incidents)) = tokio::time::timeout(Duration::from_secs(1), rx).await {
                return incidents;
            }
        }
        (*self.restored).clone()
    }
}

/// A running coordinator.
#[derive(Debug)]
pub struct CoordinatorHandle {
    stop: watch::Sender<bool>,
    main: tokio::task::JoinHandle<()>,
    workers: JoinSet<()>,
    incidents: IncidentsReader,
}

impl CoordinatorHandle {
    /// Every group's open incident and last notifications, to save ([`Coordinator::restore`]).
    pub async fn incidents(&self) -> SavedIncidents {
        self.incidents.get().await
    }

    /// [`Self::incidents`], for another task.
    pub fn incidents_reader(&self) -> IncidentsReader {
        self.incidents.clone()
    }

    /// Stops evaluating, gives deliveries in flight up to `grace` to finish, and drops (and
    /// counts) what is still queued.
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let _ = self.main.await;
        let drained = tokio::time::timeout(grace, async {
            while self.workers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            self.workers.shutdown().await;
        }
    }
}

struct Entry {
    last_eval: i64,
    state: GroupState,
}

struct Loop {
    source: Arc<dyn GroupSource>,
    policies: Vec<Policy>,
    extras: Vec<Arc<BTreeMap<String, String>>>,
    dispatchers: Vec<Dispatcher>,
    evaluations: IntCounter,
    leader_gauge: IntGauge,
    /// Held while paused: the newest notification per (cluster, group, notifier).
    /// (when it fell due, the notification).
    pending: HashMap<(String, String, usize), (i64, Notification)>,
    refresh: Duration,
    clock: fn() -> i64,
    groups: HashMap<(String, String), Entry>,
    /// Handover window (ms).
    handover: i64,
    /// As a follower: what fell due within the handover window (when, notifier, notification).
    followed: VecDeque<(i64, usize, Notification)>,
    /// Module names (index = notifier).
    names: Vec<String>,
    /// Saved states of groups not met yet; the first group list refresh takes them over.
    restored: HashMap<(String, String), GroupState>,
    /// Requests for the incidents.
    requests: mpsc::Receiver<oneshot::Sender<SavedIncidents>>,
}

impl Loop {
    fn min_interval_ms(&self) -> i64 {
        self.policies
            .iter()
            .map(|p| p.interval.max(1))
            .min()
            .unwrap_or(60)
            .saturating_mul(1000)
    }

    /// Burrow's refresh: forget what is gone, spread new groups over the interval (a group with
    /// a saved state starts from it).
    fn refresh_groups(&mut self, now: i64) {
        let interval = self.min_interval_ms();
        let mut seen = HashMap::new();
        for cluster in self.source.clusters() {
            for group in self.source.groups(&cluster) {
                seen.insert((cluster.clone(), group), ());
            }
        }
        self.groups.retain(|k, _| seen.contains_key(k));
        let mut rng = rand::rng();
        let restored = &mut self.restored;
        for key in seen.into_keys() {
            let state = restored.remove(&key).unwrap_or_default();
            self.groups.entry(key).or_insert_with(|| Entry {
                last_eval: now - rng.random_range(0..interval.max(1)),
                state,
            });
        }
        // Saved incidents of groups that are gone are forgotten, like the groups.
        restored.clear();
    }

    async fn run(mut self, mut role: watch::Receiver<Role>, mut stop: watch::Receiver<bool>) {
        let interval = self.min_interval_ms();
        // Burrow scans every millisecond; a tenth of the interval (at most 1 s) keeps each group
        // within 10 % of its interval at a fraction of the wakeups.
        let tick = Duration::from_millis((interval as u64 / 10).clamp(10, 1000));
        // Burrow refreshes the group list every 60 s whatever the interval; a new group then
        // waits up to a minute for its first evaluation. Refreshing at least once per interval
        // keeps that within one interval.
        let every = self
            .refresh
            .min(Duration::from_millis(interval as u64))
            .max(Duration::from_millis(100));
        let mut refresh = tokio::time::interval(every);
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        info!(
            notifiers = self.dispatchers.len(),
            interval_s = interval / 1000,
            "notifier coordinator started"
        );
        let mut was = None;
        loop {
            tokio::select! {
                _ = async { let _ = stop.wait_for(|s| *s).await; } => break,
                Some(reply) = self.requests.recv() => {
                    let _ = reply.send(self.incidents());
                }
                _ = refresh.tick() => {
                    let now = (self.clock)();
                    self.refresh_groups(now);
                    debug!(groups = self.groups.len(), "notifier group list refreshed");
                }
                _ = ticker.tick() => {
                    let current = *role.borrow_and_update();
                    if was != Some(current) {
                        self.role_changed(current, (self.clock)());
                        was = Some(current);
                    }
                    self.evaluate_due((self.clock)(), interval, current);
                }
            }
        }
    }

    /// The groups with an open incident or a notification sent.
    fn incidents(&self) -> SavedIncidents {
        let mut out = SavedIncidents::new();
        for ((cluster, group), entry) in &self.groups {
            let s = &entry.state;
            if s.incident_id.is_empty() && s.last_notify.is_empty() {
                continue;
            }
            let last_notify = s
                .last_notify
                .iter()
                .filter_map(|(&i, &at)| Some((self.names.get(i)?.clone(), at)))
                .collect();
            out.entry(cluster.clone()).or_default().insert(
                group.clone(),
                SavedIncident {
                    id: s.incident_id.clone(),
                    start: s.incident_start,
                    last_notify,
                },
            );
        }
        out
    }

    fn role_changed(&mut self, role: Role, now: i64) {
        self.leader_gauge.set(i64::from(role == Role::Leader));
        match role {
            Role::Leader => {
                self.forget_followed(now);
                if !self.followed.is_empty() {
                    warn!(
                        notifications = self.followed.len(),
                        window_s = self.handover / 1000,
                        "taking over as notifier leader: sending again what fell due just before (the previous leader may not have sent it)"
                    );
                }
                for (_, i, n) in std::mem::take(&mut self.followed) {
                    self.dispatchers[i].send(n);
                }
                if !self.pending.is_empty() {
                    info!(
                        notifications = self.pending.len(),
                        "notifier leader again: sending what fell due while paused"
                    );
                }
                for ((_, _, i), (_, n)) in std::mem::take(&mut self.pending) {
                    self.dispatchers[i].send(n);
                }
                info!("notifier role: leader (sending notifications)");
            }
            Role::Paused => {
                info!("notifier role: paused (holding notifications until the election is back)")
            }
            Role::Follower => {
                // The session is gone with what was held: whoever leads next (this instance
                // included) sends it again if it fell due within the handover window.
                let mut held: Vec<(i64, usize, Notification)> = std::mem::take(&mut self.pending)
                    .into_iter()
                    .map(|((_, _, i), (at, n))| (at, i, n))
                    .collect();
                if self.handover > 0 {
                    held.sort_by_key(|h| h.0);
                    for h in held.into_iter().rev() {
                        self.followed.push_front(h);
                    }
                    self.forget_followed(now);
                }
                info!("notifier role: follower (another instance sends notifications)");
            }
        }
    }

    fn evaluate_due(&mut self, now: i64, interval: i64, role: Role) {
        let policies: Vec<&Policy> = self.policies.iter().collect();
        for ((cluster, group), entry) in self.groups.iter_mut() {
            if entry.last_eval > now - interval {
                continue;
            }
            entry.last_eval = now;
            self.evaluations.inc();
            let result = Arc::new(self.source.evaluate(now, cluster, group));
            let sends = on_evaluation(
                &mut entry.state,
                &policies,
                group,
                result.status,
                now,
                || uuid::Uuid::new_v4().to_string(),
            );
            // Worked out only when something is sent.
            let timing = if sends.is_empty() {
                None
            } else {
                self.source.timing(now, &result).map(Arc::new)
            };
            for s in sends {
                let n = Notification {
                    kind: s.kind,
                    cluster: cluster.clone(),
                    group: group.clone(),
                    id: s.id,
                    start_ms: s.start_ms,
                    extras: self.extras[s.notifier].clone(),
                    result: result.clone(),
                    timing: timing.clone(),
                };
                match role {
                    Role::Leader => self.dispatchers[s.notifier].send(n),
                    Role::Paused => {
                        self.pending
                            .insert((cluster.clone(), group.clone(), s.notifier), (now, n));
                    }
                    Role::Follower => {
                        if self.handover > 0 {
                            self.followed.push_back((now, s.notifier, n));
                        }
                    }
                }
            }
        }
        self.forget_followed(now);
    }

    /// Drops what fell due before the handover window.
    fn forget_followed(&mut self, now: i64) {
        while self
            .followed
            .front()
            .is_some_and(|(at, _, _)| *at < now.saturating_sub(self.handover))
        {
            self.followed.pop_front();
        }
    }
}

/// The queue of one notifier.
struct Dispatcher {
    name: String,
    tx: mpsc::Sender<Notification>,
    queue: IntGauge,
    dropped: [IntCounter; 2],
}

impl Dispatcher {
    fn start(
        m: &Module,
        metrics: &NotifyMetrics,
        stop: watch::Receiver<bool>,
    ) -> (
        Dispatcher,
        impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let (tx, rx) = mpsc::channel(m.retry.queue.max(1));
        let queue = metrics.queue.with_label_values(&[&m.name]);
        let dropped = [NotificationKind::Open, NotificationKind::Close].map(|k| {
            metrics
                .notifications
                .with_label_values(&[&m.name, k.as_str(), "dropped"])
        });
        let worker = Worker {
            name: m.name.clone(),
            notifier: m.notifier.clone(),
            retry: m.retry.clone(),
            metrics: metrics.clone(),
            queue: queue.clone(),
        };
        let d = Dispatcher {
            name: m.name.clone(),
            tx,
            queue,
            dropped,
        };
        (d, worker.run(rx, stop))
    }

    fn send(&self, n: Notification) {
        let kind = n.kind;
        match self.tx.try_send(n) {
            Ok(()) => self.queue.inc(),
            Err(e) => {
                self.dropped[usize::from(kind == NotificationKind::Close)].inc();
                let n = match &e {
                    mpsc::error::TrySendError::Full(n) | mpsc::error::TrySendError::Closed(n) => n,
                };
                warn!(notifier = %self.name, cluster = %n.cluster, group = %n.group, kind = kind.as_str(), "notification dropped: the delivery queue is full");
            }
        }
    }
}

struct Worker {
    name: String,
    notifier: Arc<dyn Notifier>,
    retry: RetryPolicy,
    metrics: NotifyMetrics,
    queue: IntGauge,
}

impl Worker {
    async fn run(self, mut rx: mpsc::Receiver<Notification>, mut stop: watch::Receiver<bool>) {
        let permits = Arc::new(Semaphore::new(self.retry.concurrency.max(1)));
        let me = Arc::new(self);
        let mut inflight = JoinSet::new();
        loop {
            let n = tokio::select! {
                n = rx.recv() => n,
                _ = stop.wait_for(|s| *s) => None,
            };
            let Some(n) = n else { break };
            me.queue.dec();
            let permit = tokio::select! {
                p = permits.clone().acquire_owned() => p.ok(),
                _ = async { let _ = stop.wait_for(|s| *s).await; } => None,
            };
            let Some(permit) = permit else {
                // Stopped while every slot was busy: this one is not delivered.
                me.metrics
                    .notifications
                    .with_label_values(&[&me.name, n.kind.as_str(), "dropped"])
                    .inc();
                break;
            };
            let w = me.clone();
            inflight.spawn(async move {
                w.deliver(n).await;
                drop(permit);
            });
            while inflight.try_join_next().is_some() {}
        }
        // Stopped: whatever is still queued is dropped and counted.
        rx.close();
        while let Ok(n) = rx.try_recv() {
            me.queue.dec();
            me.metrics
                .notifications
                .with_label_values(&[&me.name, n.kind.as_str(), "dropped"])
                .inc();
        }
        while inflight.join_next().await.is_some() {}
    }

    async fn deliver(&self, n: Notification) {
        let kind = n.kind.as_str();
        let mut backoff = self.retry.initial_backoff;
        let attempts = self.retry.attempts.max(1);
        let mut last_error = String::new();
        for attempt in 1..=attempts {
            let result =
                match tokio::time::timeout(self.retry.attempt_timeout, self.notifier.notify(&n))
                    .await
                {
                    Ok(r) => r,
                    Err(_) => Err(NotifyError::Delivery(format!(
                        "no answer within {:?}",
                        self.retry.attempt_timeout
                    ))),
                };
            match result {
                Ok(()) => {
                    self.metrics
                        .attempts
                        .with_label_values(&[&self.name, "ok"])
                        .inc();
                    self.metrics
                        .notifications
                        .with_label_values(&[&self.name, kind, "sent"])
                        .inc();
                    debug!(notifier = %self.name, cluster = %n.cluster, group = %n.group, kind, attempt, "notification delivered");
                    return;
                }
                Err(e) => {
                    self.metrics
                        .attempts
                        .with_label_values(&[&self.name, "error"])
                        .inc();
                    last_error = e.to_string();
                    let permanent = matches!(
                        e,
                        NotifyError::Permanent(_)
                            | NotifyError::Render { .. }
                            | NotifyError::Config { .. }
                            | NotifyError::Template { .. }
                    );
                    if permanent || attempt == attempts {
                        break;
                    }
                    debug!(notifier = %self.name, group = %n.group, attempt, error = %e, "delivery failed; retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.retry.max_backoff);
                }
            }
        }
        self.metrics
            .notifications
            .with_label_values(&[&self.name, kind, "failed"])
            .inc();
        // Logged once per notification, after the last attempt.
        error!(notifier = %self.name, cluster = %n.cluster, group = %n.group, kind, error = %last_error, "notification not delivered");
    }
}
