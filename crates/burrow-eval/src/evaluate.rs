//! Evaluation of partitions and groups (Burrow's `evaluatePartitionStatus` and
//! `evaluateConsumerStatus`), without caching.

use burrow_core::{
    ConsumerGroupStatus, ConsumerPartition, ConsumerTopics, PartitionStatus, Status,
};

use crate::rules::partition_status;
use crate::EvaluatorConfig;

/// Evaluates one partition's window at `now_s` (whole seconds). `topic`, `partition`, `owner` and
/// `client_id` of the result are left empty for the caller; [`evaluate_group`] fills them.
///
/// Leading empty slots make the window incomplete (`complete` = commits / slots); a padded
/// partition (no window) is OK with `complete` 0; a window below `minimum-complete` is OK without
/// running the rules.
pub fn evaluate_partition(
    partition: &ConsumerPartition,
    now_s: i64,
    config: &EvaluatorConfig,
) -> PartitionStatus {
    let mut status = PartitionStatus {
        status: Status::Ok,
        current_lag: partition.current_lag,
        ..Default::default()
    };
    let slots = &partition.offsets;
    if slots.is_empty() {
        return status;
    }
    // Keep the suffix from the first commit; an all-empty window keeps its last (empty) slot, so
    // it counts 1/intervals complete as in Burrow (decision 9).
    let first = slots
        .iter()
        .position(Option::is_some)
        .unwrap_or(slots.len() - 1);
    let kept = &slots[first..];
    status.complete = if kept.len() < slots.len() {
        kept.len() as f32 / slots.len() as f32
    } else {
        1.0
    };
    status.start = kept.first().copied().flatten();
    status.end = kept.last().copied().flatten();
    if status.complete >= config.minimum_complete {
        status.status = partition_status(
            kept,
            &partition.broker_offsets,
            partition.current_lag,
            now_s,
            config.allowed_lag,
        );
    }
    status
}

/// Evaluates a group from its partitions (all of them in the result).
///
/// The group status is the worst partition status with STOP, STALL and REWIND reported as ERR;
/// `maxlag` is the first partition with the strictly largest current lag (topics in name order);
/// `complete` is the fraction of partitions whose own `complete` is 1 (0 with no partitions).
pub fn evaluate_group(
    cluster: &str,
    group: &str,
    topics: &ConsumerTopics,
    now_s: i64,
    config: &EvaluatorConfig,
) -> ConsumerGroupStatus {
    let partition_count = topics.values().map(Vec::len).sum();
    let mut result = ConsumerGroupStatus {
        cluster: cluster.to_owned(),
        group: group.to_owned(),
        status: Status::Ok,
        complete: 1.0,
        partitions: Vec::with_capacity(partition_count),
        partition_count,
        maxlag: None,
        totallag: 0,
    };
    let mut complete_partitions = 0usize;
    let mut maxlag: Option<usize> = None;
    for (topic, partitions) in topics {
        for (id, partition) in partitions.iter().enumerate() {
            let mut p = evaluate_partition(partition, now_s, config);
            p.topic.clone_from(topic);
            p.partition = i32::try_from(id).unwrap_or(i32::MAX);
            p.owner.clone_from(&partition.owner);
            p.client_id.clone_from(&partition.client_id);
            result.totallag = result.totallag.saturating_add(p.current_lag);
            if p.status > result.status {
                result.status = p.status.min(Status::Error);
            }
            if maxlag.is_none_or(|m| p.current_lag > result.partitions[m].current_lag) {
                maxlag = Some(result.partitions.len());
            }
            if p.complete == 1.0 {
                complete_partitions += 1;
            }
            result.partitions.push(p);
        }
    }
    result.maxlag = maxlag.map(|m| result.partitions[m].clone());
    result.complete = if partition_count > 0 {
        complete_partitions as f32 / partition_count as f32
    } else {
        0.0
    };
    result
}
