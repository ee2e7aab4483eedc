//! Lag in time for the API bodies and the dashboard: from the records' timestamps when they are
//! known (the server's [`LagSeconds`]), else estimated from the stored broker end offsets
//! ([`burrow_eval::timing`]), and the drain estimate beside it.

use burrow_core::ConsumerOffset;
pub(crate) use burrow_eval::timing::Timing;
pub(crate) use burrow_storage::BrokerHistories;

use crate::LagSeconds;

/// What the timing of a partition is computed from.
pub(crate) struct PartitionWindow<'a> {
    pub(crate) topic: &'a str,
    pub(crate) partition: i32,
    /// Oldest commit of the window.
    pub(crate) first: Option<&'a ConsumerOffset>,
    /// Newest commit of the window.
    pub(crate) last: Option<&'a ConsumerOffset>,
    /// Messages behind now.
    pub(crate) lag: u64,
}

/// The timing of one partition at `now_ms`: the record's timestamp through `records` when it is
/// known, else the estimate from `histories`.
pub(crate) fn partition_timing(
    now_ms: i64,
    cluster: &str,
    p: &PartitionWindow<'_>,
    records: Option<&LagSeconds>,
    histories: &BrokerHistories,
) -> Timing {
    Timing::of_partition(
        now_ms,
        p.first,
        p.last,
        p.lag,
        histories.partition(p.topic, p.partition),
        |offset| records.and_then(|r| r(now_ms, cluster, p.topic, p.partition, offset, p.lag)),
    )
}

/// [`partition_timing`] of a partition of an evaluation (its window from `start` to `end`).
pub(crate) fn status_partition_timing(
    now_ms: i64,
    cluster: &str,
    p: &burrow_core::PartitionStatus,
    records: Option<&LagSeconds>,
    histories: &BrokerHistories,
) -> Timing {
    let window = PartitionWindow {
        topic: &p.topic,
        partition: p.partition,
        first: p.start.as_ref(),
        last: p.end.as_ref(),
        lag: p.current_lag,
    };
    partition_timing(now_ms, cluster, &window, records, histories)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burrow_eval::timing::EstimateKind;

    #[test]
    fn without_the_record_the_broker_history_estimates() {
        let storage =
            burrow_storage::Storage::new(burrow_storage::StorageConfig::default(), ["c"]).unwrap();
        for (ts, off) in [(10_000, 100), (20_000, 200)] {
            let _ = storage.set_broker_offset(&burrow_core::BrokerOffsetEvent {
                cluster: "c".into(),
                topic: "t".into(),
                partition: 0,
                offset: off,
                timestamp: ts,
                partition_count: 1,
            });
        }
        let h = storage.broker_histories("c", ["t", "t", "missing"]);
        let last = ConsumerOffset {
            offset: 149,
            order: 1,
            timestamp: 20_000,
            observed_at: 20_000,
            lag: Some(51),
        };
        let p = PartitionWindow {
            topic: "t",
            partition: 0,
            first: Some(&last),
            last: Some(&last),
            lag: 51,
        };
        let est = partition_timing(30_000, "c", &p, None, &h);
        assert_eq!(est.estimate, Some(EstimateKind::Interpolated));
        assert!((est.seconds.unwrap() - 15.0).abs() < 1e-9);
        let from_record: LagSeconds = std::sync::Arc::new(|_, _, _, _, _, _| Some(42.0));
        let rec = partition_timing(30_000, "c", &p, Some(&from_record), &h);
        assert_eq!((rec.seconds, rec.estimate), (Some(42.0), None));
        assert!(h.partition("t", 7).is_empty() && h.partition("t", -1).is_empty());
    }
}
