//! Where a read position stands in a partition's log: a reader that keeps its position while
//! the log goes backwards (a replaced broker, a recreated topic, an unclean leader election)
//! sees nothing until the log grows past it again.

use std::time::Duration;

use super::fetch::FetchOptions;
use super::list_offsets::{IsolationLevel, OffsetSpec};
use super::KafkaClient;
use crate::error::{KafkaError, Result};

/// Where a position stands in a partition's log ([`KafkaClient::check_position`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogPosition {
    /// Between the log start and its end (inclusive): reading on is right.
    Inside,
    /// Before the log start: retention removed what was there.
    BeforeStart {
        /// The log start now.
        log_start: i64,
    },
    /// Past the log's real end: the log went backwards.
    PastEnd {
        /// The log start now.
        log_start: i64,
        /// Where the log really ends.
        log_end: i64,
    },
}

/// Fetches at most this many times to find where a log really ends.
const END_PROBES: usize = 8;

/// Bytes asked per probe.
const PROBE_BYTES: i32 = 1024 * 1024;

impl KafkaClient {
    /// Checks `position` (the next offset a reader would fetch) against the partition's log
    /// start and real end. Some brokers under-report the high watermark (tansu after a
    /// multi-record batch), so the end is where fetching from the reported one finds nothing
    /// more; only a position past that is [`LogPosition::PastEnd`].
    pub async fn check_position(
        &self,
        topic: &str,
        partition: i32,
        position: i64,
    ) -> Result<LogPosition> {
        let log_start = self
            .one_offset(topic, partition, OffsetSpec::Earliest)
            .await?;
        if position < log_start {
            return Ok(LogPosition::BeforeStart { log_start });
        }
        let reported_end = self
            .one_offset(topic, partition, OffsetSpec::Latest)
            .await?;
        if position <= reported_end {
            return Ok(LogPosition::Inside);
        }
        let log_end = self
            .real_end(topic, partition, reported_end.max(log_start), position)
            .await?;
        Ok(if position > log_end {
            LogPosition::PastEnd { log_start, log_end }
        } else {
            LogPosition::Inside
        })
    }

    async fn one_offset(&self, topic: &str, partition: i32, spec: OffsetSpec) -> Result<i64> {
        let tp = [(topic.to_string(), partition)];
        let answer = self
            .list_offsets(&tp, spec, IsolationLevel::ReadUncommitted)
            .await
            .into_iter()
            .next();
        match answer {
            Some(o) => o.result,
            None => Err(KafkaError::Protocol {
                broker: String::new(),
                api: "ListOffsets",
                message: format!("no answer for {topic}-{partition}"),
            }),
        }
    }

    /// Where the log really ends, fetching from `from` until nothing more comes or `position`
    /// is reached (at most [`END_PROBES`] fetches).
    async fn real_end(&self, topic: &str, partition: i32, from: i64, position: i64) -> Result<i64> {
        let opts = FetchOptions {
            isolation: IsolationLevel::ReadUncommitted,
            max_bytes: PROBE_BYTES,
            max_wait: Duration::ZERO,
            ..FetchOptions::default()
        };
        let mut end = from;
        for _ in 0..END_PROBES {
            let answer = self
                .fetch_many_raw(topic, &[(partition, end)], opts)
                .await
                .into_iter()
                .next();
            let next = match answer {
                Some((_, Ok(r))) => r.records.next_offset(),
                Some((_, Err(e))) => return Err(e),
                None => None,
            };
            match next {
                Some(next) if next > end => end = next,
                _ => break,
            }
            if end >= position {
                break;
            }
        }
        Ok(end)
    }
}
