//! The process's own health, exported on `/metrics` beside Burrow's six metrics.

use prometheus::{GaugeVec, IntCounterVec, IntGaugeVec, Opts, Registry};

use crate::IngestError;

/// Counters and gauges of the cluster and consumer modules. Cheap to clone (shared handles).
#[derive(Clone)]
pub struct IngestMetrics {
    /// `burrow_consumer_records_read_total{consumer}`: records read from the offsets topic.
    pub records_read: IntCounterVec,
    /// `burrow_consumer_records_skipped_total{consumer,reason}`: records read but not stored
    /// (decode errors, unknown record types, filtered groups, other protocols).
    pub records_skipped: IntCounterVec,
    /// `burrow_consumer_decode_errors_total{consumer,field}`: records that failed to decode, by
    /// the field that failed.
    pub decode_errors: IntCounterVec,
    /// `burrow_storage_writes_dropped_total{module,reason}`: writes storage refused, by reason.
    pub writes_dropped: IntCounterVec,
    /// `burrow_consumer_backlog_ready{consumer}`: 1 once the backlog present at start is read.
    pub backlog_ready: IntGaugeVec,
    /// `burrow_consumer_fetch_errors_total{consumer}`: failed fetches of the offsets topic.
    pub fetch_errors: IntCounterVec,
    /// `burrow_consumer_position_resets_total{consumer,reason}`: offsets-topic partitions read
    /// again from their log start because the read position was outside the log
    /// (`log_went_backwards`, `offset_out_of_range`).
    pub position_resets: IntCounterVec,
    /// `burrow_cluster_offset_refresh_timestamp_seconds{cluster}`: end of the last broker offset
    /// round that stored at least one offset.
    pub last_offset_refresh: GaugeVec,
    /// `burrow_cluster_offset_refresh_errors_total{cluster}`: partitions whose end offset could
    /// not be read in a round.
    pub offset_refresh_errors: IntCounterVec,
    /// `burrow_cluster_offset_rounds_total{cluster,result}`: end-offset rounds that stored
    /// offsets (`ok`) or none because every read failed (`failed`).
    pub offset_rounds: IntCounterVec,
    /// `burrow_cluster_up{cluster}`: 1 while the cluster answered more recently than it failed.
    pub cluster_up: IntGaugeVec,
    /// `burrow_cluster_metadata_age_seconds{cluster}`: seconds since the last successful
    /// metadata refresh (since the start when none).
    pub metadata_age: GaugeVec,
    /// `burrow_consumer_fetch_rounds_total{consumer,result}`: rounds of fetches of the offsets
    /// topic, `ok` or `failed`.
    pub fetch_rounds: IntCounterVec,
    /// `burrow_consumer_group_polls_total{consumer,result}`: polls of the group APIs by a
    /// `kafka_admin` module, `ok` or `failed`.
    pub group_polls: IntCounterVec,
    /// `burrow_cluster_metadata_refresh_total{cluster}`: metadata refreshes.
    pub metadata_refreshes: IntCounterVec,
    /// `burrow_cluster_groups_reaped_total{cluster}`: groups removed by the groups reaper.
    pub groups_reaped: IntCounterVec,
}

impl IngestMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &Registry) -> Result<Self, IngestError> {
        fn counter(
            r: &Registry,
            name: &str,
            help: &str,
            labels: &[&str],
        ) -> Result<IntCounterVec, IngestError> {
            let c = IntCounterVec::new(Opts::new(name, help), labels)?;
            r.register(Box::new(c.clone()))?;
            Ok(c)
        }
        let backlog_ready = IntGaugeVec::new(
            Opts::new(
                "burrow_consumer_backlog_ready",
                "1 once the consumer module has read the offsets topic up to where it ended at start",
            ),
            &["consumer"],
        )?;
        registry.register(Box::new(backlog_ready.clone()))?;
        let last_offset_refresh = GaugeVec::new(
            Opts::new(
                "burrow_cluster_offset_refresh_timestamp_seconds",
                "Unix time of the last broker end-offset round that stored offsets",
            ),
            &["cluster"],
        )?;
        registry.register(Box::new(last_offset_refresh.clone()))?;
        let cluster_up = IntGaugeVec::new(
            Opts::new(
                "burrow_cluster_up",
                "1 while the cluster answered more recently than it failed (metadata, end offsets)",
            ),
            &["cluster"],
        )?;
        registry.register(Box::new(cluster_up.clone()))?;
        let metadata_age = GaugeVec::new(
            Opts::new(
                "burrow_cluster_metadata_age_seconds",
                "Seconds since the cluster module's last successful metadata refresh",
            ),
            &["cluster"],
        )?;
        registry.register(Box::new(metadata_age.clone()))?;
        Ok(IngestMetrics {
            records_read: counter(
                registry,
                "burrow_consumer_records_read_total",
                "Records read from the offsets topic",
                &["consumer"],
            )?,
            records_skipped: counter(
                registry,
                "burrow_consumer_records_skipped_total",
                "Records of the offsets topic that were read but not stored, by reason",
                &["consumer", "reason"],
            )?,
            decode_errors: counter(
                registry,
                "burrow_consumer_decode_errors_total",
                "Records of the offsets topic that failed to decode, by field",
                &["consumer", "field"],
            )?,
            writes_dropped: counter(
                registry,
                "burrow_storage_writes_dropped_total",
                "Writes that storage refused, by module and reason",
                &["module", "reason"],
            )?,
            backlog_ready,
            fetch_errors: counter(
                registry,
                "burrow_consumer_fetch_errors_total",
                "Failed fetches of the offsets topic",
                &["consumer"],
            )?,
            position_resets: counter(
                registry,
                "burrow_consumer_position_resets_total",
                "Offsets-topic partitions read again from their log start because the read position was outside the log, by reason",
                &["consumer", "reason"],
            )?,
            last_offset_refresh,
            offset_refresh_errors: counter(
                registry,
                "burrow_cluster_offset_refresh_errors_total",
                "Partitions whose end offset could not be read in a round",
                &["cluster"],
            )?,
            offset_rounds: counter(
                registry,
                "burrow_cluster_offset_rounds_total",
                "End-offset rounds of the cluster module, by result",
                &["cluster", "result"],
            )?,
            cluster_up,
            metadata_age,
            fetch_rounds: counter(
                registry,
                "burrow_consumer_fetch_rounds_total",
                "Rounds of fetches of the offsets topic, by result",
                &["consumer", "result"],
            )?,
            group_polls: counter(
                registry,
                "burrow_consumer_group_polls_total",
                "Polls of the group APIs by a kafka_admin consumer module, by result",
                &["consumer", "result"],
            )?,
            metadata_refreshes: counter(
                registry,
                "burrow_cluster_metadata_refresh_total",
                "Metadata refreshes of the cluster module",
                &["cluster"],
            )?,
            groups_reaped: counter(
                registry,
                "burrow_cluster_groups_reaped_total",
                "Groups removed because Kafka no longer lists them",
                &["cluster"],
            )?,
        })
    }

    /// Metrics registered nowhere (for tests and embedding without `/metrics`).
    pub fn unregistered() -> Self {
        #[allow(clippy::expect_used)]
        Self::new(&Registry::new()).expect("metric definitions are valid")
    }
}
