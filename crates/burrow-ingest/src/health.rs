//! A cluster's reachability as its cluster module sees it: when the cluster last answered
//! (metadata, end offsets), when it last failed and why. The server reads it for readiness and
//! the `burrow_cluster_up` and `burrow_cluster_metadata_age_seconds` gauges.

use std::sync::{Arc, Mutex};

/// Shared between a cluster module (which writes) and the server (which reads).
#[derive(Debug, Clone)]
pub struct Health(Arc<Mutex<HealthSnapshot>>);

/// What [`Health`] holds at one moment. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthSnapshot {
    /// When the module started.
    pub started_ms: i64,
    /// The last successful metadata refresh.
    pub last_metadata_ms: Option<i64>,
    /// The last offset round that stored at least one end offset.
    pub last_offsets_ms: Option<i64>,
    /// The last failure (connect, metadata or a whole offset round), and its cause.
    pub last_failure: Option<(i64, String)>,
}

impl Health {
    /// A module that started at `now_ms` and has heard nothing yet.
    pub fn new(now_ms: i64) -> Self {
        Health(Arc::new(Mutex::new(HealthSnapshot {
            started_ms: now_ms,
            last_metadata_ms: None,
            last_offsets_ms: None,
            last_failure: None,
        })))
    }

    fn update(&self, f: impl FnOnce(&mut HealthSnapshot)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }

    pub(crate) fn metadata_ok(&self, now_ms: i64) {
        self.update(|h| h.last_metadata_ms = Some(now_ms));
    }

    pub(crate) fn offsets_ok(&self, now_ms: i64) {
        self.update(|h| h.last_offsets_ms = Some(now_ms));
    }

    pub(crate) fn failed(&self, now_ms: i64, cause: String) {
        self.update(|h| h.last_failure = Some((now_ms, cause)));
    }

    /// The state now.
    pub fn snapshot(&self) -> HealthSnapshot {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl HealthSnapshot {
    /// The last time the cluster answered (metadata or end offsets).
    pub fn last_contact_ms(&self) -> Option<i64> {
        self.last_metadata_ms.max(self.last_offsets_ms)
    }

    /// Whether the cluster answered more recently than it last failed.
    pub fn up(&self) -> bool {
        match (self.last_contact_ms(), &self.last_failure) {
            (Some(ok), Some((failed, _))) => ok >= *failed,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// How long the cluster has been unreachable at `now_ms` (since its last answer, or since
    /// the module started when it never answered); `None` while it is up.
    pub fn unreachable_for_ms(&self, now_ms: i64) -> Option<i64> {
        if self.up() {
            return None;
        }
        let since = self.last_contact_ms().unwrap_or(self.started_ms);
        Some((now_ms - since).max(0))
    }

    /// Seconds since the last successful metadata refresh (since the start when none).
    pub fn metadata_age_seconds(&self, now_ms: i64) -> f64 {
        let since = self.last_metadata_ms.unwrap_or(self.started_ms);
        (now_ms - since).max(0) as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_answered_is_unreachable_since_the_start() {
        let h = Health::new(1_000);
        h.failed(2_000, "connection refused".into());
        let s = h.snapshot();
        assert!(!s.up());
        assert_eq!(s.unreachable_for_ms(61_000), Some(60_000));
        assert_eq!(s.metadata_age_seconds(61_000), 60.0);
    }

    #[test]
    fn an_answer_after_a_failure_is_up_and_a_failure_after_an_answer_is_not() {
        let h = Health::new(0);
        h.metadata_ok(1_000);
        assert!(h.snapshot().up());
        h.failed(5_000, "timed out".into());
        assert_eq!(h.snapshot().unreachable_for_ms(65_000), Some(64_000));
        h.offsets_ok(70_000);
        assert!(h.snapshot().up());
        assert_eq!(h.snapshot().unreachable_for_ms(80_000), None);
    }
}
