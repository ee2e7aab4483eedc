//! The JSON the dashboard's pages read: one body per page, made from storage and the evaluator
//! the API uses, so the pages and `/v3` always agree.

use std::collections::HashMap;

use hyper::StatusCode;
use serde_json::{json, Value};

use burrow_core::{ConsumerGroupStatus, PartitionStatus, Status};

use crate::api::Inner;
use burrow_eval::timing::to_millisecond;

use crate::timing::{status_partition_timing, BrokerHistories, Timing};

/// A page's data, or the status and message of why not.
pub(crate) type DataResult = Result<Value, (StatusCode, String)>;

/// Query parameters (`?cluster=…&group=…`), decoded.
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    pub(crate) fn parse(query: &str) -> Self {
        Params(
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn required(&self, key: &str) -> Result<&str, (StatusCode, String)> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| (StatusCode::BAD_REQUEST, format!("missing parameter {key}")))
    }
}

/// Every cluster with its freshness and counts per status, and every group as a compact row:
/// `[cluster index, group, status, total lag, lag seconds or null, estimated (0/1), partitions,
/// worst partition status]`.
pub(crate) fn overview(inner: &Inner, now: i64) -> Value {
    let clusters = inner.storage.fetch_clusters();
    let mut rows = Vec::new();
    let mut cards = Vec::new();
    for (ci, cluster) in clusters.iter().enumerate() {
        let fresh = inner.storage.freshness(cluster).unwrap_or_default();
        let topics = inner.storage.fetch_topics(cluster).unwrap_or_default();
        let histories = inner
            .storage
            .broker_histories(cluster, topics.iter().map(String::as_str));
        let records = records_for(inner, cluster);
        let mut by_status: HashMap<&'static str, usize> = HashMap::new();
        for group in inner.storage.fetch_consumers(cluster).unwrap_or_default() {
            let Some(status) = inner.evaluator.evaluation(now, cluster, &group) else {
                continue;
            };
            *by_status.entry(status.status.as_str()).or_default() += 1;
            let t = status_timing(now, cluster, &status, records, &histories);
            rows.push(json!([
                ci,
                group,
                status.status.as_str(),
                status.totallag,
                t.seconds.map(to_millisecond),
                u8::from(t.estimate.is_some()),
                status.partition_count,
                status
                    .partitions
                    .iter()
                    .map(|p| p.status)
                    .max()
                    .unwrap_or(Status::Ok)
                    .as_str(),
            ]));
        }
        cards.push(json!({
            "name": cluster,
            "lag_seconds": records.is_some(),
            "topics": fresh.topics,
            "groups": fresh.groups,
            "by_status": by_status,
            "broker_offsets_at": fresh.broker_offsets_at,
            "last_commit_at": fresh.last_commit_at,
            "offset_refresh_s": offset_refresh_s(inner, cluster),
        }));
    }
    json!({
        "now": now,
        "host": inner.host,
        "ready": inner.readiness.is_ready(),
        "unavailable": inner.readiness.unavailable(),
        "clusters": cards,
        "groups": rows,
    })
}

/// One group: its status and every partition with its window, broker samples and timing.
pub(crate) fn group(inner: &Inner, now: i64, params: &Params) -> DataResult {
    let cluster = params.required("cluster")?;
    let group = params.required("group")?;
    let Some(status) = inner.evaluator.evaluation(now, cluster, group) else {
        return Err((
            StatusCode::NOT_FOUND,
            "cluster or consumer not found".into(),
        ));
    };
    let windows = inner
        .storage
        .fetch_consumer(now, cluster, group)
        .unwrap_or_default();
    let histories = inner
        .storage
        .broker_histories(cluster, status.partitions.iter().map(|p| p.topic.as_str()));
    let records = records_for(inner, cluster);
    let mut timings = Vec::new();
    let partitions: Vec<Value> = status
        .partitions
        .iter()
        .map(|p| {
            let t = status_partition_timing(now, cluster, p, records, &histories);
            timings.push(t);
            let commits: Vec<Value> = usize::try_from(p.partition)
                .ok()
                .and_then(|i| windows.get(&p.topic)?.get(i))
                .map(|w| {
                    w.offsets
                        .iter()
                        .flatten()
                        .map(|c| json!([c.timestamp, c.offset, c.lag]))
                        .collect()
                })
                .unwrap_or_default();
            let broker: Vec<Value> = histories
                .partition(&p.topic, p.partition)
                .iter()
                .map(|b| json!([b.timestamp, b.offset]))
                .collect();
            let mut v = json!({
                "topic": p.topic,
                "partition": p.partition,
                "status": p.status.as_str(),
                "owner": p.owner,
                "client_id": p.client_id,
                "lag": p.current_lag,
                "complete": p.complete,
                "commits": commits,
                "broker": broker,
            });
            add_timing(&mut v, t);
            v
        })
        .collect();
    let mut summary = json!({
        "status": status.status.as_str(),
        "complete": status.complete,
        "totallag": status.totallag,
        "partition_count": status.partition_count,
    });
    add_timing(&mut summary, Timing::of_group(timings));
    Ok(json!({
        "now": now,
        "cluster": cluster,
        "group": group,
        "lag_seconds": records.is_some(),
        "summary": summary,
        "partitions": partitions,
    }))
}

/// One topic: each partition's end offset and samples, and the groups that consume it with their
/// lag on it.
pub(crate) fn topic(inner: &Inner, now: i64, params: &Params) -> DataResult {
    let cluster = params.required("cluster")?;
    let topic = params.required("topic")?;
    let Some(ends) = inner.storage.fetch_topic(cluster, topic) else {
        return Err((StatusCode::NOT_FOUND, "cluster or topic not found".into()));
    };
    let histories = inner.storage.broker_histories(cluster, [topic]);
    let partitions: Vec<Value> = ends
        .iter()
        .enumerate()
        .map(|(i, end)| {
            let samples: Vec<Value> = histories
                .partition(topic, i as i32)
                .iter()
                .map(|b| json!([b.timestamp, b.offset]))
                .collect();
            json!({"partition": i, "end": end, "broker": samples})
        })
        .collect();
    let records = records_for(inner, cluster);
    let mut consumers = Vec::new();
    for group in inner
        .storage
        .fetch_consumers_for_topic(cluster, topic)
        .unwrap_or_default()
    {
        let Some(status) = inner.evaluator.evaluation(now, cluster, &group) else {
            continue;
        };
        let mine: Vec<&PartitionStatus> = status
            .partitions
            .iter()
            .filter(|p| p.topic == topic)
            .collect();
        let mut lags = vec![
            Value::Null;
            ends.len().max(
                mine.iter()
                    .map(|p| p.partition as usize + 1)
                    .max()
                    .unwrap_or(0)
            )
        ];
        for p in &mine {
            if let Some(slot) = lags.get_mut(p.partition as usize) {
                *slot = json!(p.current_lag);
            }
        }
        let worst = mine.iter().map(|p| p.status).max().unwrap_or(Status::Ok);
        let t = Timing::of_group(
            mine.iter()
                .map(|p| status_partition_timing(now, cluster, p, records, &histories)),
        );
        let mut v = json!({
            "group": group,
            "status": status.status.as_str(),
            "topic_status": worst.as_str(),
            "lag": mine.iter().map(|p| p.current_lag).sum::<u64>(),
            "partition_lag": lags,
        });
        add_timing(&mut v, t);
        consumers.push(v);
    }
    Ok(json!({
        "now": now,
        "cluster": cluster,
        "topic": topic,
        "partitions": partitions,
        "consumers": consumers,
    }))
}

/// The record-timestamp source of a cluster with `lag-seconds`.
fn records_for<'a>(inner: &'a Inner, cluster: &str) -> Option<&'a crate::LagSeconds> {
    inner
        .lag_seconds
        .as_ref()
        .filter(|(_, clusters)| clusters.contains(cluster))
        .map(|(s, _)| s)
}

/// The group's timing over every partition of its evaluation.
fn status_timing(
    now: i64,
    cluster: &str,
    status: &ConsumerGroupStatus,
    records: Option<&crate::LagSeconds>,
    histories: &BrokerHistories,
) -> Timing {
    Timing::of_group(
        status
            .partitions
            .iter()
            .map(|p| status_partition_timing(now, cluster, p, records, histories)),
    )
}

fn add_timing(v: &mut Value, t: Timing) {
    if let Value::Object(m) = v {
        m.insert("lag_seconds".into(), json!(t.seconds.map(to_millisecond)));
        m.insert("lag_seconds_estimate".into(), json!(t.estimate));
        m.insert("drain".into(), json!(t.drain.state()));
        m.insert(
            "drain_seconds".into(),
            json!(t.drain.seconds().map(to_millisecond)),
        );
    }
}

/// The cluster module's `offset-refresh` (seconds), which tells the page when data is stale.
fn offset_refresh_s(inner: &Inner, cluster: &str) -> Option<u64> {
    inner
        .config
        .cluster
        .iter()
        .find(|(name, _)| name == cluster)
        .and_then(|(_, module)| module.get("offset-refresh")?.as_u64())
}
