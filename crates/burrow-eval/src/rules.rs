//! The status rules of one partition window, in Burrow's order, each as its own function.
//!
//! Every function takes the window oldest first; `None` entries (empty slots) are skipped, so any
//! window is accepted and none panics. Timestamps are milliseconds, `now_s` is whole seconds.

use burrow_core::{ConsumerOffset, Status};

fn commits(
    window: &[Option<ConsumerOffset>],
) -> impl DoubleEndedIterator<Item = &ConsumerOffset> + Clone {
    window.iter().flatten()
}

/// The status of a partition from its window (Burrow's `calculatePartitionStatus`):
///
/// 1. `current_lag <= allowed_lag` → OK, nothing else is checked.
/// 2. STOP when [`offsets_stopped`] and not [`recent_lag_zero`].
/// 3. REWIND when [`rewind_index`] finds a rewind that [`rewind_recovered`] says did not recover.
/// 4. When [`lag_always_not_zero`]: STALL if [`offsets_stalled`], else WARN if
///    [`lag_not_decreasing`].
/// 5. Otherwise OK.
pub fn partition_status(
    window: &[Option<ConsumerOffset>],
    broker_offsets: &[i64],
    current_lag: u64,
    now_s: i64,
    allowed_lag: u64,
) -> Status {
    if current_lag <= allowed_lag || commits(window).next().is_none() {
        return Status::Ok;
    }
    if offsets_stopped(window, now_s) && !recent_lag_zero(window, broker_offsets) {
        return Status::Stop;
    }
    if let Some(i) = rewind_index(window) {
        if !rewind_recovered(window, i) {
            return Status::Rewind;
        }
    }
    if lag_always_not_zero(window, allowed_lag) {
        if offsets_stalled(window) {
            return Status::Stall;
        }
        if lag_not_decreasing(window) {
            return Status::Warn;
        }
    }
    Status::Ok
}

/// True when no recorded lag in the window is within `allowed_lag` (null lags are skipped).
pub fn lag_always_not_zero(window: &[Option<ConsumerOffset>], allowed_lag: u64) -> bool {
    commits(window).all(|c| c.lag.is_none_or(|lag| lag > allowed_lag))
}

/// Index (among the window's commits) of the first commit whose offset is lower than the one
/// before it, if any.
pub fn rewind_index(window: &[Option<ConsumerOffset>]) -> Option<usize> {
    let mut prev: Option<i64> = None;
    for (i, c) in commits(window).enumerate() {
        if prev.is_some_and(|p| c.offset < p) {
            return Some(i);
        }
        prev = Some(c.offset);
    }
    None
}

/// True when, after the rewind at commit index `index`, some commit reached the offset committed
/// just before the rewind again (Burrow PR #716: such a rewind is not held against the consumer).
pub fn rewind_recovered(window: &[Option<ConsumerOffset>], index: usize) -> bool {
    let Some(before) = index.checked_sub(1).and_then(|i| commits(window).nth(i)) else {
        return true;
    };
    commits(window)
        .skip(index)
        .any(|c| c.offset >= before.offset)
}

/// True when the time since the newest commit is strictly greater than the span of the window.
pub fn offsets_stopped(window: &[Option<ConsumerOffset>], now_s: i64) -> bool {
    let (Some(first), Some(last)) = (commits(window).next(), commits(window).next_back()) else {
        return false;
    };
    let now_ms = i128::from(now_s) * 1000;
    let last_ts = i128::from(last.timestamp);
    now_ms - last_ts > last_ts - i128::from(first.timestamp)
}

/// True when every commit in the window has the same offset (trivially true for one commit).
pub fn offsets_stalled(window: &[Option<ConsumerOffset>]) -> bool {
    let mut offsets = commits(window).map(|c| c.offset);
    let Some(first) = offsets.next() else {
        return true;
    };
    offsets.all(|o| o == first)
}

/// True when no recorded lag is strictly smaller than the recorded lag before it (null lags are
/// skipped).
pub fn lag_not_decreasing(window: &[Option<ConsumerOffset>]) -> bool {
    let mut last: Option<u64> = None;
    for lag in commits(window).filter_map(|c| c.lag) {
        if last.is_some_and(|l| lag < l) {
            return false;
        }
        last = Some(lag);
    }
    true
}

/// True when some stored broker offset is at or below the newest committed offset: the consumer
/// had caught up within the broker-offset history (about `intervals × offset-refresh`).
pub fn recent_lag_zero(window: &[Option<ConsumerOffset>], broker_offsets: &[i64]) -> bool {
    let Some(last) = commits(window).next_back() else {
        return false;
    };
    broker_offsets.iter().any(|&b| b <= last.offset)
}
