//! Burrow's threshold-free evaluator as a pure library: no I/O, no async runtime, the clock passed
//! in.
//!
//! A group partition's window of commits (oldest first, as storage keeps it) is judged by Burrow's
//! rules in their exact order — STOP, REWIND, STALL, WARN — with `allowed-lag` and
//! `minimum-complete` ([`rules`], [`evaluate_partition`]); a group takes its worst partition
//! status, capped at ERR ([`evaluate_group`]). [`CachingEvaluator`] adds Burrow's `expire-cache`
//! cache in front of any [`burrow_core::ConsumerSource`].
//!
//! Evaluating a window without any server:
//!
//! ```
//! use burrow_core::{ConsumerOffset, ConsumerPartition, ConsumerTopics, Status};
//! use burrow_eval::{evaluate_group, EvaluatorConfig};
//!
//! // Five commits one minute apart; the lag never shrinks: the consumer is falling behind.
//! let window = (0..5)
//!     .map(|i| Some(ConsumerOffset {
//!         offset: 1000 + i * 100,
//!         order: i,
//!         timestamp: 1_700_000_000_000 + i * 60_000,
//!         observed_at: 1_700_000_000_000 + i * 60_000,
//!         lag: Some(50 + i as u64 * 10),
//!     }))
//!     .collect();
//! let mut topics = ConsumerTopics::new();
//! topics.insert("orders".into(), vec![ConsumerPartition {
//!     offsets: window,
//!     current_lag: 95,
//!     ..Default::default()
//! }]);
//! let now_s = 1_700_000_000 + 4 * 60 + 30;
//! let status = evaluate_group("local", "billing", &topics, now_s, &EvaluatorConfig::default());
//! assert_eq!(status.status, Status::Warn);
//! assert_eq!(status.partitions[0].status, Status::Warn);
//! assert_eq!(status.totallag, 95);
//! ```

mod cache;
mod config;
mod error;
mod evaluate;
pub mod rules;
pub mod timing;

pub use cache::CachingEvaluator;
pub use config::EvaluatorConfig;
pub use error::EvalError;
pub use evaluate::{evaluate_group, evaluate_partition};
