//! Prometheus metrics of notification delivery.

use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};

/// Counters of the notifier modules, labelled by notifier name.
#[derive(Clone, Debug)]
pub struct NotifyMetrics {
    /// `burrow_notifier_notifications_total{notifier,kind,result}`: result is `sent`, `failed`
    /// (after every retry) or `dropped` (queue full, or stopped before delivery).
    pub notifications: IntCounterVec,
    /// `burrow_notifier_delivery_attempts_total{notifier,result}`: result `ok` or `error`.
    pub attempts: IntCounterVec,
    /// `burrow_notifier_queue_depth{notifier}`: notifications waiting for delivery.
    pub queue: IntGaugeVec,
    /// `burrow_notifier_evaluations_total`: group evaluations made for notifiers.
    pub evaluations: prometheus::IntCounter,
    /// `burrow_notifier_leader`: 1 while this instance sends notifications.
    pub leader: prometheus::IntGauge,
}

impl NotifyMetrics {
    /// Creates and registers the metrics.
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self::unregistered()?;
        registry.register(Box::new(m.notifications.clone()))?;
        registry.register(Box::new(m.attempts.clone()))?;
        registry.register(Box::new(m.queue.clone()))?;
        registry.register(Box::new(m.evaluations.clone()))?;
        registry.register(Box::new(m.leader.clone()))?;
        Ok(m)
    }

    /// Metrics that no registry exposes (tests, embedding without Prometheus).
    pub fn unregistered() -> Result<Self, prometheus::Error> {
        Ok(NotifyMetrics {
            notifications: IntCounterVec::new(
                Opts::new(
                    "burrow_notifier_notifications_total",
                    "Notifications by notifier, kind (open, close) and result (sent, failed after retries, dropped)",
                ),
                &["notifier", "kind", "result"],
            )?,
            attempts: IntCounterVec::new(
                Opts::new(
                    "burrow_notifier_delivery_attempts_total",
                    "Delivery attempts by notifier and result (ok, error)",
                ),
                &["notifier", "result"],
            )?,
            queue: IntGaugeVec::new(
                Opts::new(
                    "burrow_notifier_queue_depth",
                    "Notifications waiting for delivery, by notifier",
                ),
                &["notifier"],
            )?,
            evaluations: prometheus::IntCounter::new(
                "burrow_notifier_evaluations_total",
                "Group evaluations made for the notifiers",
            )?,
            leader: prometheus::IntGauge::new(
                "burrow_notifier_leader",
                "Whether this instance sends notifications: the ZooKeeper lock holder, or a single instance",
            )?,
        })
    }
}
