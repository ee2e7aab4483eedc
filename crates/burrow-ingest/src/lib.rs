//! Burrow's ingestion modules: where storage's data comes from.
//!
//! - [`cluster`]: the cluster module (`[cluster.<name>]`, class `kafka`). Reads topic metadata
//!   every `topic-refresh` and every partition's end offset every `offset-refresh` (ListOffsets,
//!   one request per leader broker, all at once), removes deleted topics, and optionally reaps
//!   groups Kafka no longer lists.
//! - [`consumer`]: the consumer module of class `kafka` (`[consumer.<name>]`). Reads every
//!   partition of `__consumer_offsets` concurrently (read committed), decodes each record and
//!   writes commits, owners, tombstones and Burrow's own progress to storage.
//!
//! - [`mapping`]: the one mapping from an offsets-topic record to storage, used by both.
//! - [`check`]: a one-shot evaluation of one group straight from the cluster (`burrow-cli check`).
//! - [`config`]: the `[cluster.*]` and `[consumer.*]` sections and their conversion to settings.
//! - [`time_lag`]: lag in seconds, from the timestamps of the records groups stand before (run by
//!   the cluster module when its `lag-seconds` is on).
//!
//! Both modules run as tokio tasks and write straight into a shared [`burrow_storage::Storage`].
//! [`IngestMetrics`] counts what they read, skip and fail at.

pub mod check;
pub mod cluster;
pub mod config;
pub mod consumer;
pub mod mapping;
mod metrics;
pub mod time_lag;

impl From<prometheus::Error> for IngestError {
    fn from(e: prometheus::Error) -> Self {
        IngestError::Metrics(e)
    }
}

pub use config::{ClusterSection, ConsumerClass, ConsumerSection};
pub use metrics::IngestMetrics;

/// Errors setting up ingestion.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// A metric could not be registered (a name registered twice).
    #[error("metrics: {0}")]
    Metrics(prometheus::Error),
    /// A `[cluster.*]` or `[consumer.*]` value that cannot be used.
    #[error(transparent)]
    Config(#[from] burrow_core::config::ConfigError),
}

/// Connects to `servers`, retrying with backoff (0.5 s doubling up to 30 s) while no broker
/// answers: a monitor comes up before the cluster it watches. `module` and `name` label the log.
async fn connect_retrying(
    module: &str,
    name: &str,
    servers: &[String],
    client: &burrow_kafka::ClientConfig,
) -> burrow_kafka::KafkaClient {
    let mut delay = std::time::Duration::from_millis(500);
    loop {
        match burrow_kafka::KafkaClient::connect(servers, client.clone()).await {
            Ok(c) => {
                tracing::info!(module, name, "connected to {}", servers.join(","));
                return c;
            }
            Err(e) => {
                tracing::warn!(module, name, error = %e, "cannot connect; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(30));
            }
        }
    }
}
