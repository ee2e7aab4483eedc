//! The groups the notifier coordinator evaluates, with the lag in time of the server: from the
//! records' timestamps on `lag-seconds` clusters, else estimated from the stored end offsets.

use std::collections::BTreeSet;
use std::sync::Arc;

use burrow_core::ConsumerGroupStatus;
use burrow_eval::timing::GroupTiming;
use burrow_notify::GroupSource;

/// The evaluator, plus the record ages of the `lag-seconds` clusters.
pub(crate) struct TimedGroups {
    pub(crate) evaluator: Arc<burrow_http::Evaluator>,
    pub(crate) lag_seconds: Option<(BTreeSet<String>, burrow_http::LagSeconds)>,
}

impl GroupSource for TimedGroups {
    fn clusters(&self) -> Vec<String> {
        self.evaluator.clusters()
    }

    fn groups(&self, cluster: &str) -> Vec<String> {
        GroupSource::groups(&*self.evaluator, cluster)
    }

    fn evaluate(&self, now_ms: i64, cluster: &str, group: &str) -> ConsumerGroupStatus {
        GroupSource::evaluate(&*self.evaluator, now_ms, cluster, group)
    }

    fn timing(&self, now_ms: i64, status: &ConsumerGroupStatus) -> Option<GroupTiming> {
        let records = self
            .lag_seconds
            .as_ref()
            .filter(|(clusters, _)| clusters.contains(&status.cluster))
            .map(|(_, seconds)| seconds);
        Some(burrow_notify::timing_from_storage(
            self.evaluator.source(),
            now_ms,
            status,
            |p, offset| {
                records.and_then(|r| {
                    r(
                        now_ms,
                        &status.cluster,
                        &p.topic,
                        p.partition,
                        offset,
                        p.current_lag,
                    )
                })
            },
        ))
    }
}
