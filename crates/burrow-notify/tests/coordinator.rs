//! The coordinator: evaluations only while leader, retries with backoff counted in metrics,
//! permanent failures not retried, delivery never blocking evaluation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent};
use burrow_eval::{CachingEvaluator, EvaluatorConfig};
use burrow_notify::{
    async_trait, Coordinator, CoordinatorHandle, Module, Notification, Notifier, NotifyError,
    NotifyMetrics, Policy, RetryPolicy, Role, SavedIncident, SavedIncidents,
};
use burrow_storage::{Storage, StorageConfig};
use tokio::sync::watch;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Storage with `groups` WARN groups (lag 1, 2, 3 over the window).
fn lagging(groups: usize) -> Arc<CachingEvaluator<Arc<Storage>>> {
    let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
    let now = now_ms();
    for i in 1..=3i64 {
        let _ = storage.set_broker_offset(&BrokerOffsetEvent {
            cluster: "local".into(),
            topic: "t".into(),
            partition: 0,
            partition_count: 1,
            offset: i * 10,
            timestamp: now,
        });
        for g in 0..groups {
            let _ = storage.set_consumer_offset(
                now,
                &ConsumerOffsetEvent {
                    cluster: "local".into(),
                    group: format!("g{g}"),
                    topic: "t".into(),
                    partition: 0,
                    offset: i * 9,
                    order: i,
                    timestamp: now - (3 - i) * 10_000,
                },
            );
        }
    }
    Arc::new(CachingEvaluator::new(storage, EvaluatorConfig::default()).unwrap())
}

/// Fails its first `failures` calls (permanently if `permanent`), then succeeds; can be slow.
struct Flaky {
    failures: usize,
    permanent: bool,
    delay: Duration,
    calls: AtomicUsize,
    ok: AtomicUsize,
}

#[async_trait]
impl Notifier for Flaky {
    async fn notify(&self, _n: &Notification) -> Result<(), NotifyError> {
        tokio::time::sleep(self.delay).await;
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if call < self.failures {
            return Err(if self.permanent {
                NotifyError::Permanent("rejected".into())
            } else {
                NotifyError::Delivery("receiver down".into())
            });
        }
        self.ok.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn flaky(failures: usize, permanent: bool, delay: Duration) -> Arc<Flaky> {
    Arc::new(Flaky {
        failures,
        permanent,
        delay,
        calls: AtomicUsize::new(0),
        ok: AtomicUsize::new(0),
    })
}

fn start(
    evaluator: Arc<CachingEvaluator<Arc<Storage>>>,
    notifier: Arc<Flaky>,
    metrics: &NotifyMetrics,
    role: watch::Receiver<Role>,
) -> CoordinatorHandle {
    start_with(evaluator, notifier, metrics, role, Duration::ZERO)
}

fn start_with(
    evaluator: Arc<CachingEvaluator<Arc<Storage>>>,
    notifier: Arc<Flaky>,
    metrics: &NotifyMetrics,
    role: watch::Receiver<Role>,
    handover: Duration,
) -> CoordinatorHandle {
    start_restored(
        evaluator,
        notifier,
        metrics,
        role,
        handover,
        SavedIncidents::new(),
    )
}

fn start_restored(
    evaluator: Arc<CachingEvaluator<Arc<Storage>>>,
    notifier: Arc<Flaky>,
    metrics: &NotifyMetrics,
    role: watch::Receiver<Role>,
    handover: Duration,
    restored: SavedIncidents,
) -> CoordinatorHandle {
    let module = Module {
        name: "n".into(),
        policy: Policy {
            interval: 1,
            send_interval: 3600,
            ..Policy::default()
        },
        extras: Arc::new(BTreeMap::new()),
        notifier,
        retry: RetryPolicy {
            attempts: 3,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(100),
            ..RetryPolicy::default()
        },
    };
    let (_ready, ready) = watch::channel(true);
    std::mem::forget(_ready);
    Coordinator::new(evaluator, metrics.clone())
        .refresh_every(Duration::from_millis(100))
        .handover_window(handover)
        .restore(restored)
        .module(module)
        .start(ready, role)
}

async fn wait_until(what: &str, f: impl Fn() -> bool) {
    for _ in 0..100 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} never happened");
}

fn count(m: &NotifyMetrics, kind: &str, result: &str) -> u64 {
    m.notifications
        .with_label_values(&["n", kind, result])
        .get()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_sends_nothing_and_taking_over_repeats_nothing() {
    let metrics = NotifyMetrics::unregistered().unwrap();
    let n = flaky(0, false, Duration::ZERO);
    let (role_tx, role) = watch::channel(Role::Follower);
    let h = start(lagging(1), n.clone(), &metrics, role);
    wait_until("an evaluation", || metrics.evaluations.get() >= 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        n.calls.load(Ordering::SeqCst),
        0,
        "a follower sends nothing"
    );
    assert_eq!(metrics.leader.get(), 0);
    // Taking over: the leader sent the open notification already (send-interval 3600 s).
    role_tx.send(Role::Leader).unwrap();
    wait_until("the leader gauge", || metrics.leader.get() == 1).await;
    let before = metrics.evaluations.get();
    wait_until("more evaluations", || {
        metrics.evaluations.get() >= before + 2
    })
    .await;
    assert_eq!(
        n.calls.load(Ordering::SeqCst),
        0,
        "no repeat after taking over"
    );
    h.stop(Duration::from_secs(1)).await;
}

/// A leader cut off from ZooKeeper holds what falls due; if its session then expires, what it
/// held is lost with it. The follower that takes over sends again what it saw fall due within
/// the handover window, and nothing older.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taking_over_sends_again_what_fell_due_within_the_handover_window() {
    for (window, wait, expected) in [
        (Duration::from_secs(3), Duration::from_millis(300), 2),
        (Duration::from_millis(600), Duration::from_millis(1500), 0),
    ] {
        let metrics = NotifyMetrics::unregistered().unwrap();
        let n = flaky(0, false, Duration::ZERO);
        let (role_tx, role) = watch::channel(Role::Follower);
        let h = start_with(lagging(2), n.clone(), &metrics, role, window);
        wait_until("two evaluations", || metrics.evaluations.get() >= 2).await;
        tokio::time::sleep(wait).await;
        assert_eq!(
            n.calls.load(Ordering::SeqCst),
            0,
            "a follower sends nothing"
        );
        role_tx.send(Role::Leader).unwrap();
        wait_until("the leader gauge", || metrics.leader.get() == 1).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            n.calls.load(Ordering::SeqCst),
            expected,
            "window {window:?}, taking over {wait:?} after the groups fell due"
        );
        h.stop(Duration::from_secs(1)).await;
    }
}

/// A paused leader whose session expires keeps what it held for the handover window: if it wins
/// the next election itself, it sends it then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_paused_leader_held_survives_losing_the_session() {
    let metrics = NotifyMetrics::unregistered().unwrap();
    let n = flaky(0, false, Duration::ZERO);
    let (role_tx, role) = watch::channel(Role::Paused);
    let h = start_with(
        lagging(3),
        n.clone(),
        &metrics,
        role,
        Duration::from_secs(5),
    );
    wait_until("three evaluations", || metrics.evaluations.get() >= 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    role_tx.send(Role::Follower).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(n.calls.load(Ordering::SeqCst), 0, "held, then following");
    role_tx.send(Role::Leader).unwrap();
    wait_until("the held notifications", || {
        n.ok.load(Ordering::SeqCst) == 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(n.calls.load(Ordering::SeqCst), 3, "each once");
    h.stop(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_leader_sends_what_fell_due_when_it_resumes() {
    let metrics = NotifyMetrics::unregistered().unwrap();
    let n = flaky(0, false, Duration::ZERO);
    let (role_tx, role) = watch::channel(Role::Paused);
    let h = start(lagging(3), n.clone(), &metrics, role);
    wait_until("three evaluations", || metrics.evaluations.get() >= 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(n.calls.load(Ordering::SeqCst), 0, "held while paused");
    role_tx.send(Role::Leader).unwrap();
    wait_until("the held notifications", || {
        n.ok.load(Ordering::SeqCst) == 3
    })
    .await;
    // Held ones are sent once: no repeat on later evaluations.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(n.calls.load(Ordering::SeqCst), 3);
    // Losing the session while paused drops what is held (another instance may lead).
    role_tx.send(Role::Paused).unwrap();
    role_tx.send(Role::Follower).unwrap();
    h.stop(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_with_backoff_and_counted() {
    let metrics = NotifyMetrics::unregistered().unwrap();
    let n = flaky(2, false, Duration::ZERO);
    let (_l, leader) = watch::channel(Role::Leader);
    let h = start(lagging(1), n.clone(), &metrics, leader);
    wait_until("delivery after two failures", || {
        n.ok.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(n.calls.load(Ordering::SeqCst), 3);
    assert_eq!(metrics.attempts.with_label_values(&["n", "error"]).get(), 2);
    assert_eq!(metrics.attempts.with_label_values(&["n", "ok"]).get(), 1);
    assert_eq!(count(&metrics, "open", "sent"), 1);
    assert_eq!(count(&metrics, "open", "failed"), 0);
    h.stop(Duration::from_secs(1)).await;

    // Down for longer than the attempts: failed once, after 3 attempts.
    let metrics = NotifyMetrics::unregistered().unwrap();
    let n = flaky(100, false, Duration::ZERO);
    let (_l, leader) = watch::channel(Role::Leader);
    let h = start(lagging(1), n.clone(), &metrics, leader);
    wait_until("a failed notification", || {
        count(&metrics, "open", "failed") == 1
    })
    .await;
    assert_eq!(n.calls.load(Ordering::SeqCst), 3);
    h.stop(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_are_not_retried() {
    let metrics = NotifyMetrics::unregistered().unwrap();
    let n = flaky(1, true, Duration::ZERO);
    let (_l, leader) = watch::channel(Role::Leader);
    let h = start(lagging(1), n.clone(), &metrics, leader);
    wait_until("a failed notification", || {
        count(&metrics, "open", "failed") == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(n.calls.load(Ordering::SeqCst), 1);
    h.stop(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_does_not_hold_up_evaluation() {
    // 50 groups, a receiver taking 1 s per call, 8 in flight: evaluations all happen at once,
    // deliveries drain in the background.
    let metrics = NotifyMetrics::unregistered().unwrap();
    let n = flaky(0, false, Duration::from_secs(1));
    let (_l, leader) = watch::channel(Role::Leader);
    let h = start(lagging(50), n.clone(), &metrics, leader);
    wait_until("every group evaluated", || metrics.evaluations.get() >= 50).await;
    assert!(
        n.ok.load(Ordering::SeqCst) < 50,
        "deliveries still under way"
    );
    // Stopping drops (and counts) what is still queued.
    h.stop(Duration::from_millis(100)).await;
    let sent = count(&metrics, "open", "sent");
    let dropped = count(&metrics, "open", "dropped");
    assert!(dropped > 0, "sent {sent}, dropped {dropped}");
}

/// After a restart (a server's state file), an open incident goes on: same id and start, and
/// `send-interval` counts from the notification sent before the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restored_incidents_go_on_without_a_new_notification() {
    let sent_before = now_ms() - 10_000;
    let saved = SavedIncidents::from([(
        "local".to_string(),
        BTreeMap::from([(
            "g0".to_string(),
            SavedIncident {
                id: "incident-before-restart".into(),
                start: sent_before - 5_000,
                // A module that no longer exists is ignored.
                last_notify: BTreeMap::from([("n".into(), sent_before), ("gone".into(), 1)]),
            },
        )]),
    )]);
    for (restored, expected_calls) in [(saved.clone(), 0), (SavedIncidents::new(), 1)] {
        let metrics = NotifyMetrics::unregistered().unwrap();
        let n = flaky(0, false, Duration::ZERO);
        let (_role_tx, role) = watch::channel(Role::Leader);
        let h = start_restored(
            lagging(1),
            n.clone(),
            &metrics,
            role,
            Duration::ZERO,
            restored.clone(),
        );
        wait_until("two evaluations", || metrics.evaluations.get() >= 2).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            n.calls.load(Ordering::SeqCst),
            expected_calls,
            "restored: {}",
            !restored.is_empty()
        );
        let now = h.incidents().await;
        let g0 = &now["local"]["g0"];
        if restored.is_empty() {
            assert!(!g0.id.is_empty() && g0.id != "incident-before-restart");
            assert_eq!(g0.last_notify.len(), 1);
        } else {
            assert_eq!(g0.id, "incident-before-restart");
            assert_eq!(g0.start, sent_before - 5_000);
            assert_eq!(
                g0.last_notify,
                BTreeMap::from([("n".to_string(), sent_before)])
            );
        }
        h.stop(Duration::from_secs(1)).await;
    }
}

/// Before the backlog is read the coordinator does not evaluate: asking for its incidents (as a
/// periodic save does, again and again) answers what it was restored from, and never hangs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_before_the_start_are_the_restored_ones() {
    let saved = SavedIncidents::from([(
        "local".to_string(),
        BTreeMap::from([(
            "g0".to_string(),
            SavedIncident {
                id: "i".into(),
                start: 1,
                last_notify: BTreeMap::new(),
            },
        )]),
    )]);
    let metrics = NotifyMetrics::unregistered().unwrap();
    let module = Module {
        name: "n".into(),
        policy: Policy::default(),
        extras: Arc::new(BTreeMap::new()),
        notifier: flaky(0, false, Duration::ZERO),
        retry: RetryPolicy::default(),
    };
    let (_ready_tx, ready) = watch::channel(false);
    let (_role_tx, role) = watch::channel(Role::Leader);
    let h = Coordinator::new(lagging(1), metrics)
        .restore(saved.clone())
        .module(module)
        .start(ready, role);
    for _ in 0..10 {
        let got = tokio::time::timeout(Duration::from_secs(5), h.incidents())
            .await
            .expect("incidents() hung");
        assert_eq!(got, saved);
    }
    h.stop(Duration::from_secs(1)).await;
}
