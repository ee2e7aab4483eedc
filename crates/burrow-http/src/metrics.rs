//! `/metrics`: Burrow's six gauges, evaluated in the background, plus the process's own health.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use prometheus::{Encoder, GaugeVec, Opts, Registry, TextEncoder};

use burrow_core::Status;
use burrow_storage::Storage;

use crate::{Evaluator, HttpError};

/// Keeps the `/metrics` body ready: [`MetricsExporter::refresh`] evaluates every group (through
/// the caching evaluator, as Burrow's scrape does) and renders Burrow's gauges; a scrape returns
/// that text plus the health registry, encoded at scrape time.
pub struct MetricsExporter {
    storage: Arc<Storage>,
    evaluator: Arc<Evaluator>,
    health: Registry,
    lag_seconds: Option<LagSeconds>,
    rendered: RwLock<Bytes>,
}

/// Lag in seconds of a group partition, for `/metrics`: called with (now in ms, cluster, topic,
/// partition, the group's newest committed offset, its current lag in messages); `None` when not
/// known. The server's comes from `burrow_ingest::time_lag`.
pub type LagSeconds = Arc<dyn Fn(i64, &str, &str, i32, i64, u64) -> Option<f64> + Send + Sync>;

impl MetricsExporter {
    /// An exporter over `storage` and `evaluator`; `health` holds the process's own metrics
    /// (ingestion counters, process collector), encoded at every scrape.
    pub fn new(storage: Arc<Storage>, evaluator: Arc<Evaluator>, health: Registry) -> Self {
        MetricsExporter {
            storage,
            evaluator,
            health,
            lag_seconds: None,
            rendered: RwLock::new(Bytes::new()),
        }
    }

    /// Adds `burrow_kafka_consumer_partition_lag_seconds` and `burrow_kafka_consumer_lag_seconds`
    /// (the largest of the group's partitions), from `lag_seconds`.
    pub fn with_lag_seconds(mut self, lag_seconds: LagSeconds) -> Self {
        self.lag_seconds = Some(lag_seconds);
        self
    }

    /// Evaluates every group and replaces the rendered gauges. Returns the number of groups
    /// evaluated.
    pub fn refresh(&self, now_ms: i64) -> Result<usize, HttpError> {
        let (text, groups) = render_consumer_metrics(
            &self.storage,
            &self.evaluator,
            now_ms,
            self.lag_seconds.as_ref(),
        )?;
        if let Ok(mut r) = self.rendered.write() {
            *r = Bytes::from(text);
        }
        Ok(groups)
    }

    /// The body of a scrape.
    pub fn scrape(&self) -> Bytes {
        let rendered = self.rendered.read().map(|r| r.clone()).unwrap_or_default();
        let mut out = Vec::with_capacity(rendered.len() + 4096);
        out.extend_from_slice(&rendered);
        if let Err(e) = TextEncoder::new().encode(&self.health.gather(), &mut out) {
            tracing::warn!(error = %e, "encoding health metrics failed");
        }
        Bytes::from(out)
    }

    /// Refreshes every `every` until the task is dropped.
    pub async fn run(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let this = self.clone();
            // Evaluation and rendering are CPU work: keep them off the I/O threads.
            let started = std::time::Instant::now();
            let result =
                tokio::task::spawn_blocking(move || this.refresh(burrow_core::now_ms())).await;
            match result {
                Ok(Ok(groups)) => {
                    tracing::debug!(groups, elapsed = ?started.elapsed(), "metrics refreshed")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "metrics refresh failed"),
                Err(e) => tracing::warn!(error = %e, "metrics refresh panicked"),
            }
        }
    }
}

fn gauge(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<GaugeVec, HttpError> {
    let g = GaugeVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(g.clone()))?;
    Ok(g)
}

/// Renders Burrow's six gauges for every group and topic in `storage`, evaluating each group
/// through `evaluator` with all partitions, and with `lag_seconds` the two lag-in-seconds gauges.
/// Groups that are not found (expired) emit nothing.
/// Returns the text (Prometheus text format 0.0.4, families and series sorted as Go's client
/// sorts them) and the number of groups evaluated.
pub fn render_consumer_metrics(
    storage: &Storage,
    evaluator: &Evaluator,
    now_ms: i64,
    lag_seconds: Option<&LagSeconds>,
) -> Result<(String, usize), HttpError> {
    let r = Registry::new();
    let group_labels = &["cluster", "consumer_group"];
    let partition_labels = &["cluster", "consumer_group", "topic", "partition"];
    let lag_total = gauge(
        &r,
        "burrow_kafka_consumer_lag_total",
        "The sum of all partition current lag values for the group",
        group_labels,
    )?;
    let status = gauge(&r, "burrow_kafka_consumer_status", "The status of the consumer group. It is calculated from the highest status for the individual partitions. Statuses are an index list from NOTFOUND, OK, WARN, or ERR", group_labels)?;
    let partition_lag = gauge(
        &r,
        "burrow_kafka_consumer_partition_lag",
        "Number of messages the consumer group is behind by for a partition as reported by Burrow",
        partition_labels,
    )?;
    let current_offset = gauge(
        &r,
        "burrow_kafka_consumer_current_offset",
        "Latest offset that Burrow is storing for this partition",
        partition_labels,
    )?;
    let partition_status = gauge(&r, "burrow_kafka_topic_partition_status", "The status of topic partition. It is calculated from the highest status for the individual partitions. Statuses are an index list from OK, WARN, STOP, STALL, REWIND", partition_labels)?;
    let topic_offset = gauge(
        &r,
        "burrow_kafka_topic_partition_offset",
        "Latest offset the topic that Burrow is storing for this partition",
        &["cluster", "topic", "partition"],
    )?;

    let seconds = match lag_seconds {
        Some(f) => Some((
            f,
            gauge(
                &r,
                "burrow_kafka_consumer_partition_lag_seconds",
                "How long ago the oldest record the group has not consumed in this partition was written (0 without lag)",
                partition_labels,
            )?,
            gauge(
                &r,
                "burrow_kafka_consumer_lag_seconds",
                "The largest partition lag in seconds of the group",
                group_labels,
            )?,
        )),
        None => None,
    };

    let mut groups = 0;
    for cluster in storage.fetch_clusters() {
        for group in storage.fetch_consumers(&cluster).unwrap_or_default() {
            let Some(s) = evaluator.evaluation(now_ms, &cluster, &group) else {
                continue;
            };
            groups += 1;
            if s.status == Status::NotFound {
                continue;
            }
            lag_total
                .with_label_values(&[&cluster, &group])
                .set(s.totallag as f64);
            status
                .with_label_values(&[&cluster, &group])
                .set(f64::from(s.status.as_i32()));
            let mut group_seconds: Option<f64> = None;
            for p in &s.partitions {
                let partition = p.partition.to_string();
                let labels = [
                    cluster.as_str(),
                    group.as_str(),
                    p.topic.as_str(),
                    partition.as_str(),
                ];
                partition_lag
                    .with_label_values(&labels)
                    .set(p.current_lag as f64);
                if let (Some((f, per_partition, _)), Some(end)) = (&seconds, &p.end) {
                    let lag = f(
                        now_ms,
                        &cluster,
                        &p.topic,
                        p.partition,
                        end.offset,
                        p.current_lag,
                    );
                    if let Some(lag) = lag {
                        per_partition.with_label_values(&labels).set(lag);
                        group_seconds = Some(group_seconds.map_or(lag, |g| g.max(lag)));
                    }
                }
                if p.complete == 1.0 {
                    if let Some(end) = &p.end {
                        current_offset
                            .with_label_values(&labels)
                            .set(end.offset as f64);
                    }
                    partition_status
                        .with_label_values(&labels)
                        .set(f64::from(p.status.as_i32()));
                }
            }
            if let (Some((_, _, per_group)), Some(g)) = (&seconds, group_seconds) {
                per_group.with_label_values(&[&cluster, &group]).set(g);
            }
        }
        for topic in storage.fetch_topics(&cluster).unwrap_or_default() {
            for (i, offset) in storage
                .fetch_topic(&cluster, &topic)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                // Decision 12: the label is the partition id; partitions without a value are
                // left out instead of shifting the others.
                if let Some(o) = offset {
                    topic_offset
                        .with_label_values(&[&cluster, &topic, &i.to_string()])
                        .set(*o as f64);
                }
            }
        }
    }
    let mut out = Vec::new();
    TextEncoder::new().encode(&r.gather(), &mut out)?;
    Ok((String::from_utf8_lossy(&out).into_owned(), groups))
}
