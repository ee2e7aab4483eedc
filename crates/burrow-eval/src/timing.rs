//! Lag in time without the records: when the broker reached a committed offset, and when a
//! partition will have caught up, from the stored windows alone.
//!
//! Both answers are estimates from at most `intervals` samples, so both say how they were made.
//! Nothing here reads a clock: `now_ms` is an argument.

use std::collections::BTreeMap;

use burrow_core::{BrokerOffset, ConsumerGroupStatus, ConsumerOffset, PartitionStatus};
use serde::Serialize;

/// Seconds as every body and template gives them: to the millisecond.
pub fn to_millisecond(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// How a lag-in-seconds estimate was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EstimateKind {
    /// Between two broker end-offset samples that bracket the committed offset.
    Interpolated,
    /// Before the oldest sample, at the production rate the samples show.
    Extrapolated,
    /// Before the oldest sample with no production seen: the partition is at least this far
    /// behind.
    AtLeast,
}

/// An estimate of how long ago the record at a committed offset was written.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LagEstimate {
    /// Seconds behind (never negative).
    pub seconds: f64,
    /// How it was made.
    pub kind: EstimateKind,
}

/// When the broker's end offset passed `committed` (the offset of the next record the group
/// reads), from the broker's end-offset samples (oldest first): the record at `committed` was
/// written when the end offset went from `committed` to `committed + 1`. `None` when the
/// samples say nothing (none, or the broker has not reached the offset: no lag).
pub fn estimate_lag_seconds(
    committed: i64,
    broker: &[BrokerOffset],
    now_ms: i64,
) -> Option<LagEstimate> {
    let reached = committed.checked_add(1)?;
    let first_past = broker.iter().position(|b| b.offset >= reached)?;
    let (at_ms, kind) = if first_past > 0 {
        let (before, after) = (broker[first_past - 1], broker[first_past]);
        (
            interpolate(before, after, reached),
            EstimateKind::Interpolated,
        )
    } else {
        let (oldest, newest) = (broker[0], broker[broker.len() - 1]);
        match production_rate_per_ms(oldest, newest) {
            Some(rate) => {
                let back = (oldest.offset - reached) as f64 / rate;
                (oldest.timestamp as f64 - back, EstimateKind::Extrapolated)
            }
            None => (oldest.timestamp as f64, EstimateKind::AtLeast),
        }
    };
    Some(LagEstimate {
        seconds: ((now_ms as f64 - at_ms) / 1000.0).max(0.0),
        kind,
    })
}

/// The time (ms) at which the end offset reached `offset`, on the straight line between two
/// samples that bracket it.
fn interpolate(before: BrokerOffset, after: BrokerOffset, offset: i64) -> f64 {
    let span = (after.offset - before.offset) as f64;
    let fraction = if span > 0.0 {
        ((offset - before.offset) as f64 / span).clamp(0.0, 1.0)
    } else {
        1.0
    };
    before.timestamp as f64 + fraction * (after.timestamp - before.timestamp) as f64
}

/// Messages per millisecond between two samples, when both time and offsets moved forward.
fn production_rate_per_ms(oldest: BrokerOffset, newest: BrokerOffset) -> Option<f64> {
    let dt = newest.timestamp - oldest.timestamp;
    let dn = newest.offset - oldest.offset;
    (dt > 0 && dn > 0).then(|| dn as f64 / dt as f64)
}

/// Whether and when a partition reaches lag 0 at the rates its windows show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Drain {
    /// No lag now.
    CaughtUp,
    /// The group consumes faster than producers write: lag 0 in about `seconds`.
    Draining {
        /// Seconds to lag 0 at the current rates.
        seconds: f64,
    },
    /// The group consumes no faster than producers write: the lag does not shrink.
    NotDraining,
    /// Fewer than two commits or two broker samples with time between them.
    Unknown,
}

impl Drain {
    /// The state's name in JSON bodies: `caught_up`, `draining`, `not_draining` or `unknown`.
    pub fn state(self) -> &'static str {
        match self {
            Drain::CaughtUp => "caught_up",
            Drain::Draining { .. } => "draining",
            Drain::NotDraining => "not_draining",
            Drain::Unknown => "unknown",
        }
    }

    /// The group's drain from its partitions': the worst state (not draining, then unknown,
    /// then draining, then caught up), with the longest time when all drain.
    pub fn worst(partitions: impl IntoIterator<Item = Drain>) -> Drain {
        let rank = |d: &Drain| match d {
            Drain::CaughtUp => 0,
            Drain::Draining { .. } => 1,
            Drain::Unknown => 2,
            Drain::NotDraining => 3,
        };
        partitions
            .into_iter()
            .reduce(|a, b| match (a, b) {
                (Drain::Draining { seconds: x }, Drain::Draining { seconds: y }) => {
                    Drain::Draining { seconds: x.max(y) }
                }
                (a, b) if rank(&b) > rank(&a) => b,
                (a, _) => a,
            })
            .unwrap_or(Drain::CaughtUp)
    }

    /// Seconds to lag 0: `Some(0)` caught up, `Some(s)` draining, `None` otherwise.
    pub fn seconds(self) -> Option<f64> {
        match self {
            Drain::CaughtUp => Some(0.0),
            Drain::Draining { seconds } => Some(seconds),
            Drain::NotDraining | Drain::Unknown => None,
        }
    }
}

/// The drain estimate of a partition with `lag` messages to go at `now_ms`: consumption is the
/// committed offsets' rate over the commit window, production the end offsets' rate over the
/// broker samples (both oldest first). A consumer that has not committed for longer than its
/// window spans (the STOP rule's test) consumes nothing.
pub fn drain(
    window: &[Option<ConsumerOffset>],
    broker: &[BrokerOffset],
    lag: u64,
    now_ms: i64,
) -> Drain {
    if lag == 0 {
        return Drain::CaughtUp;
    }
    let mut commits = window.iter().flatten();
    let (Some(first), Some(last)) = (commits.next(), window.iter().flatten().last()) else {
        return Drain::Unknown;
    };
    let (Some(oldest), Some(newest)) = (broker.first(), broker.last()) else {
        return Drain::Unknown;
    };
    let commit_ms = last.timestamp - first.timestamp;
    let broker_ms = newest.timestamp - oldest.timestamp;
    if commit_ms <= 0 || broker_ms <= 0 {
        return Drain::Unknown;
    }
    if now_ms - last.timestamp > commit_ms {
        return Drain::NotDraining;
    }
    let consumed = (last.offset - first.offset).max(0) as f64 / commit_ms as f64;
    let produced = (newest.offset - oldest.offset).max(0) as f64 / broker_ms as f64;
    let gain = consumed - produced;
    if gain <= 0.0 {
        return Drain::NotDraining;
    }
    Drain::Draining {
        seconds: lag as f64 / gain / 1000.0,
    }
}

/// A partition's (or a group's) lag in time and drain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Seconds behind, when known or estimated.
    pub seconds: Option<f64>,
    /// How the seconds were estimated; `None` when they come from the record (or there is no
    /// lag).
    pub estimate: Option<EstimateKind>,
    /// When lag 0 is reached.
    pub drain: Drain,
}

impl Timing {
    /// A partition whose window runs from `first` to `last` (oldest and newest commit) with
    /// `lag` messages to go: `record_seconds(offset)` is the record's own age when it is known
    /// (the next record the group reads is at `offset`); otherwise the age is estimated from
    /// `broker`, the partition's end-offset samples (oldest first).
    pub fn of_partition(
        now_ms: i64,
        first: Option<&ConsumerOffset>,
        last: Option<&ConsumerOffset>,
        lag: u64,
        broker: &[BrokerOffset],
        record_seconds: impl FnOnce(i64) -> Option<f64>,
    ) -> Timing {
        let window = [first.copied(), last.copied()];
        let drain = drain(&window, broker, lag, now_ms);
        let timing = |seconds, estimate| Timing {
            seconds,
            estimate,
            drain,
        };
        let Some(last) = last else {
            return timing(None, None);
        };
        if lag == 0 {
            return timing(Some(0.0), None);
        }
        if let Some(s) = record_seconds(last.offset) {
            return timing(Some(s), None);
        }
        match estimate_lag_seconds(last.offset, broker, now_ms) {
            Some(e) => timing(Some(e.seconds), Some(e.kind)),
            None => timing(None, None),
        }
    }

    /// A group's from its partitions': the largest lag in time (with how it was made) and the
    /// worst drain.
    pub fn of_group(partitions: impl IntoIterator<Item = Timing>) -> Timing {
        let mut group = Timing {
            seconds: None,
            estimate: None,
            drain: Drain::CaughtUp,
        };
        let mut drains = Vec::new();
        for t in partitions {
            drains.push(t.drain);
            if let Some(s) = t.seconds {
                if group.seconds.is_none_or(|g| s > g) {
                    group.seconds = Some(s);
                    group.estimate = t.estimate;
                }
            }
        }
        group.drain = Drain::worst(drains);
        group
    }
}

/// The timing of a group's evaluation: the group's and each partition's.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupTiming {
    /// The group's (over the partitions of the evaluation it was made from).
    pub group: Option<Timing>,
    /// Each partition's, by topic and partition.
    pub partitions: BTreeMap<(String, i32), Timing>,
}

impl GroupTiming {
    /// The timing of every partition of `status` at `now_ms`: `broker(topic, partition)` gives
    /// a partition's end-offset samples, `record_seconds(partition, offset)` the age of the
    /// record at `offset` when it is known.
    pub fn of_status<'a>(
        now_ms: i64,
        status: &ConsumerGroupStatus,
        broker: impl Fn(&str, i32) -> &'a [BrokerOffset],
        record_seconds: impl Fn(&PartitionStatus, i64) -> Option<f64>,
    ) -> GroupTiming {
        let partitions: BTreeMap<(String, i32), Timing> = status
            .partitions
            .iter()
            .map(|p| {
                let t = Timing::of_partition(
                    now_ms,
                    p.start.as_ref(),
                    p.end.as_ref(),
                    p.current_lag,
                    broker(&p.topic, p.partition),
                    |offset| record_seconds(p, offset),
                );
                ((p.topic.clone(), p.partition), t)
            })
            .collect();
        GroupTiming {
            group: Some(Timing::of_group(partitions.values().copied())),
            partitions,
        }
    }

    /// One partition's.
    pub fn partition(&self, topic: &str, partition: i32) -> Option<Timing> {
        self.partitions
            .get(&(topic.to_string(), partition))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(timestamp: i64, offset: i64) -> BrokerOffset {
        BrokerOffset { offset, timestamp }
    }

    fn c(timestamp: i64, offset: i64) -> Option<ConsumerOffset> {
        Some(ConsumerOffset {
            offset,
            order: 0,
            timestamp,
            observed_at: timestamp,
            lag: None,
        })
    }

    #[test]
    fn interpolates_between_the_samples_that_bracket_the_offset() {
        // End offset 100 at t=10 s, 200 at t=20 s: offset 149's record was written at 15 s.
        let broker = [b(10_000, 100), b(20_000, 200), b(30_000, 300)];
        let e = estimate_lag_seconds(149, &broker, 40_000).unwrap();
        assert_eq!(e.kind, EstimateKind::Interpolated);
        assert!((e.seconds - 25.0).abs() < 1e-9, "{e:?}");
    }

    #[test]
    fn extrapolates_before_the_oldest_sample_at_the_production_rate() {
        // 10 messages per second; offset 49 was written 5 s before the 100 at t=10 s.
        let broker = [b(10_000, 100), b(20_000, 200)];
        let e = estimate_lag_seconds(49, &broker, 20_000).unwrap();
        assert_eq!(e.kind, EstimateKind::Extrapolated);
        assert!((e.seconds - 15.0).abs() < 1e-9, "{e:?}");
    }

    #[test]
    fn without_production_it_is_at_least_the_history() {
        let broker = [b(10_000, 100), b(20_000, 100)];
        let e = estimate_lag_seconds(10, &broker, 25_000).unwrap();
        assert_eq!(e.kind, EstimateKind::AtLeast);
        assert!((e.seconds - 15.0).abs() < 1e-9, "{e:?}");
    }

    #[test]
    fn nothing_to_say_without_samples_or_lag() {
        assert_eq!(estimate_lag_seconds(10, &[], 1), None);
        assert_eq!(estimate_lag_seconds(100, &[b(1, 100)], 5), None);
        assert_eq!(estimate_lag_seconds(i64::MAX, &[b(1, 100)], 5), None);
    }

    #[test]
    fn drains_when_consumption_outpaces_production() {
        // Consumes 20/s, produces 10/s, 100 behind: 10 s to go.
        let window = [c(0, 0), None, c(10_000, 200)];
        let broker = [b(0, 1000), b(10_000, 1100)];
        match drain(&window, &broker, 100, 12_000) {
            Drain::Draining { seconds } => assert!((seconds - 10.0).abs() < 1e-9),
            other => panic!("{other:?}"),
        }
        assert_eq!(drain(&window, &broker, 0, 12_000), Drain::CaughtUp);
        let slow = [c(0, 0), c(10_000, 50)];
        assert_eq!(drain(&slow, &broker, 100, 12_000), Drain::NotDraining);
        assert_eq!(drain(&[c(0, 0)], &broker, 100, 12_000), Drain::Unknown);
        assert_eq!(drain(&window, &[b(0, 1)], 100, 12_000), Drain::Unknown);
        // Stopped: no commit for longer than the window spans.
        assert_eq!(drain(&window, &broker, 100, 20_001), Drain::NotDraining);
        assert!(matches!(
            drain(&window, &broker, 100, 20_000),
            Drain::Draining { .. }
        ));
    }

    #[test]
    fn the_group_takes_the_largest_lag_and_the_worst_drain() {
        let t = |seconds, estimate, drain| Timing {
            seconds,
            estimate,
            drain,
        };
        let g = Timing::of_group([
            t(Some(3.0), None, Drain::Draining { seconds: 4.0 }),
            t(
                Some(9.0),
                Some(EstimateKind::Interpolated),
                Drain::NotDraining,
            ),
            t(None, None, Drain::CaughtUp),
        ]);
        assert_eq!(g.seconds, Some(9.0));
        assert_eq!(g.estimate, Some(EstimateKind::Interpolated));
        assert_eq!(g.drain, Drain::NotDraining);
    }

    #[test]
    fn the_record_wins_over_the_estimate() {
        let last = c(20_000, 149).unwrap();
        let broker = [b(10_000, 100), b(20_000, 200)];
        let est = Timing::of_partition(30_000, Some(&last), Some(&last), 51, &broker, |_| None);
        assert_eq!(est.estimate, Some(EstimateKind::Interpolated));
        assert!((est.seconds.unwrap() - 15.0).abs() < 1e-9);
        let rec = Timing::of_partition(30_000, Some(&last), Some(&last), 51, &broker, |o| {
            assert_eq!(o, 149);
            Some(42.0)
        });
        assert_eq!((rec.seconds, rec.estimate), (Some(42.0), None));
        let none = Timing::of_partition(30_000, None, None, 51, &broker, |_| Some(1.0));
        assert_eq!(none.seconds, None);
        let caught = Timing::of_partition(30_000, Some(&last), Some(&last), 0, &broker, |_| None);
        assert_eq!((caught.seconds, caught.drain), (Some(0.0), Drain::CaughtUp));
    }

    #[test]
    fn a_group_drains_as_its_worst_partition() {
        let d = |s| Drain::Draining { seconds: s };
        assert_eq!(Drain::worst([Drain::CaughtUp, d(3.0), d(7.0)]), d(7.0));
        assert_eq!(Drain::worst([d(3.0), Drain::Unknown]), Drain::Unknown);
        assert_eq!(
            Drain::worst([Drain::NotDraining, Drain::Unknown, d(1.0)]),
            Drain::NotDraining
        );
        assert_eq!(Drain::worst([]), Drain::CaughtUp);
        assert_eq!(Drain::NotDraining.seconds(), None);
        assert_eq!(Drain::CaughtUp.state(), "caught_up");
    }
}
