//! A notifier of your own, registered with the coordinator beside (or instead of) the built-in
//! ones. Here it collects alerts in a channel; a real one would page, post to a chat, or write
//! to a ticket system.
//!
//! The example feeds a storage with the history of a consumer group that falls behind, lets the
//! coordinator evaluate it every second, then lets the group catch up: the notifier receives an
//! open alert and, with `send-close`, a close alert of the same incident.
//!
//! Run: `cargo run -p burrow-notify --example custom_notifier`. The test
//! `tests/custom_notifier.rs` runs it too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent};
use burrow_eval::{CachingEvaluator, EvaluatorConfig};
use burrow_notify::{
    async_trait, Coordinator, Module, Notification, Notifier, NotifyError, NotifyMetrics, Policy,
    RetryPolicy, Role,
};
use burrow_storage::{Storage, StorageConfig};
use tokio::sync::{mpsc, watch};

/// The custom notifier: every alert goes into a channel.
pub struct ChannelNotifier {
    tx: mpsc::UnboundedSender<Notification>,
}

#[async_trait]
impl Notifier for ChannelNotifier {
    async fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
        self.tx
            .send(n.clone())
            .map_err(|e| NotifyError::Permanent(e.to_string()))
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn broker(storage: &Storage, offset: i64) {
    let _ = storage.set_broker_offset(&BrokerOffsetEvent {
        cluster: "local".into(),
        topic: "orders".into(),
        partition: 0,
        partition_count: 1,
        offset,
        timestamp: now_ms(),
    });
}

fn commit(storage: &Storage, offset: i64, order: i64, timestamp: i64) {
    let _ = storage.set_consumer_offset(
        now_ms(),
        &ConsumerOffsetEvent {
            cluster: "local".into(),
            group: "billing".into(),
            topic: "orders".into(),
            partition: 0,
            offset,
            order,
            timestamp,
        },
    );
}

/// Runs the scenario and returns the alerts received: an open one, then a close one.
pub async fn run() -> Vec<Notification> {
    let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
    let evaluator = Arc::new(
        CachingEvaluator::new(
            storage.clone(),
            EvaluatorConfig {
                expire_cache: 1,
                ..EvaluatorConfig::default()
            },
        )
        .unwrap(),
    );
    // Falling behind: the broker moves 10 per commit, the group 9. Lag 1, 2, 3.
    let now = now_ms();
    for i in 1..=3 {
        broker(&storage, i * 10);
        commit(&storage, i * 9, i, now - (3 - i) * 10_000);
    }

    let (tx, mut rx) = mpsc::unbounded_channel();
    let module = Module {
        name: "pager".into(),
        policy: Policy {
            interval: 1,
            send_interval: 60,
            send_close: true,
            ..Policy::default()
        },
        extras: Arc::new(BTreeMap::new()),
        notifier: Arc::new(ChannelNotifier { tx }),
        retry: RetryPolicy::default(),
    };
    let coordinator = Coordinator::new(evaluator, NotifyMetrics::unregistered().unwrap())
        .refresh_every(Duration::from_millis(200))
        .module(module);
    let (_ready, ready_rx) = watch::channel(true);
    let (_role, role_rx) = watch::channel(Role::Leader);
    let handle = coordinator.start(ready_rx, role_rx);

    let mut got = Vec::new();
    let open = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await;
    got.push(open.expect("an open alert within 10 s").expect("open"));
    // The group catches up: lag 0.
    commit(&storage, 30, 4, now_ms());
    let close = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await;
    got.push(close.expect("a close alert within 10 s").expect("close"));
    handle.stop(Duration::from_secs(1)).await;
    got
}

#[tokio::main]
async fn main() {
    for n in run().await {
        println!(
            "{:?}: {}/{} is {} (incident {}, total lag {})",
            n.kind, n.cluster, n.group, n.result.status, n.id, n.result.totallag
        );
    }
}
