//! Lag in time without the records: when the broker reached a committed offset, and when a
//! partition will have caught up, from the stored windows alone.
//!
//! Both answers are estimates from at most `intervals` samples, so both say how they were made.
//! Nothing here reads a clock: `now_ms` is an argument.

use burrow_core::{BrokerOffset, ConsumerOffset};
use serde::Serialize;

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

/// The drain estimate of a partition with `lag` messages to go: consumption is the committed
/// offsets' rate over the commit window, production the end offsets' rate over the broker
/// samples (both oldest first).
pub fn drain(window: &[Option<ConsumerOffset>], broker: &[BrokerOffset], lag: u64) -> Drain {
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
        match drain(&window, &broker, 100) {
            Drain::Draining { seconds } => assert!((seconds - 10.0).abs() < 1e-9),
            other => panic!("{other:?}"),
        }
        assert_eq!(drain(&window, &broker, 0), Drain::CaughtUp);
        let slow = [c(0, 0), c(10_000, 50)];
        assert_eq!(drain(&slow, &broker, 100), Drain::NotDraining);
        assert_eq!(drain(&[c(0, 0)], &broker, 100), Drain::Unknown);
        assert_eq!(drain(&window, &[b(0, 1)], 100), Drain::Unknown);
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
