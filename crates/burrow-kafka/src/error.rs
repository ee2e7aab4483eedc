//! The crate's error type.

use std::time::Duration;

use crate::offsets::DecodeError;

/// Errors of the Kafka client. Every variant names the broker or the request it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KafkaError {
    /// A configuration value is unusable; `key` is the Burrow config key.
    #[error("invalid client configuration `{key}`: {message}")]
    Config {
        /// The config key (e.g. `tls.cafile`).
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// No bootstrap broker could be reached.
    #[error("no broker reachable (tried {tried}): {last}")]
    NoBrokers {
        /// The addresses tried.
        tried: String,
        /// The last failure.
        last: Box<KafkaError>,
    },
    /// A socket error talking to a broker.
    #[error("broker {broker}: {error}")]
    Io {
        /// host:port of the broker.
        broker: String,
        /// The I/O error (in the message, so not also a `source()`: a chain prints it once).
        error: std::io::Error,
    },
    /// Connecting or a request took longer than its timeout.
    #[error("broker {broker}: {what} timed out after {after:?}")]
    Timeout {
        /// host:port of the broker.
        broker: String,
        /// What timed out (`connect` or an API name).
        what: &'static str,
        /// The timeout.
        after: Duration,
    },
    /// The connection failed (now or earlier) and was dropped; the request was not answered.
    #[error("broker {broker}: connection closed")]
    ConnectionClosed {
        /// host:port of the broker.
        broker: String,
    },
    /// A frame could not be encoded or decoded.
    #[error("broker {broker}: {api}: protocol error: {message}")]
    Protocol {
        /// host:port of the broker.
        broker: String,
        /// The API concerned.
        api: &'static str,
        /// The underlying message.
        message: String,
    },
    /// The broker supports no version of an API that this client speaks.
    #[error("broker {broker} does not support {api} (broker versions {broker_versions})")]
    UnsupportedApi {
        /// host:port of the broker.
        broker: String,
        /// The API.
        api: &'static str,
        /// What the broker announced, e.g. `0..3`, or `none`.
        broker_versions: String,
    },
    /// The broker answered with a Kafka error code.
    #[error("{api}: {code_name} (error code {code}){}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Server {
        /// The API.
        api: &'static str,
        /// Kafka's error code.
        code: i16,
        /// Kafka's name of the code.
        code_name: String,
        /// The broker's error message, when it sent one.
        message: Option<String>,
    },
    /// TLS setup or handshake failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// SASL authentication failed.
    #[error("broker {broker}: SASL {mechanism}: {message}")]
    Sasl {
        /// host:port of the broker.
        broker: String,
        /// The mechanism.
        mechanism: String,
        /// What failed.
        message: String,
    },
    /// A request carrying several partitions or groups failed as a whole; each of them reports
    /// this, sharing the one underlying error.
    #[error("{api} to broker {broker_id} failed: {cause}")]
    RequestFailed {
        /// The API.
        api: &'static str,
        /// The broker the request went to.
        broker_id: i32,
        /// The failure (in the message, so not also a `source()`: a chain prints it once).
        cause: std::sync::Arc<KafkaError>,
    },
    /// A partition has no leader in the current metadata.
    #[error("no leader known for {topic}/{partition}")]
    NoLeader {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
    },
    /// A broker id appears in no metadata.
    #[error("unknown broker id {0}")]
    UnknownBroker(i32),
    /// A record of `__consumer_offsets` could not be decoded.
    #[error("decode: {0}")]
    Decode(DecodeError),
}

impl KafkaError {
    /// Builds [`KafkaError::Server`] from a Kafka error code.
    pub fn server(api: &'static str, code: i16, message: Option<String>) -> Self {
        let code_name = kafka_protocol::ResponseError::try_from_code(code)
            .map(|e| format!("{e:?}"))
            .unwrap_or_else(|| "UNKNOWN".to_string());
        Self::Server {
            api,
            code,
            code_name,
            message,
        }
    }

    /// The Kafka error a broker answered with, by name (`None` for other failures and codes
    /// this client does not know).
    pub fn response_error(&self) -> Option<kafka_protocol::ResponseError> {
        match self {
            Self::Server { code, .. } => kafka_protocol::ResponseError::try_from_code(*code),
            Self::RequestFailed { cause, .. } => cause.response_error(),
            _ => None,
        }
    }

    /// Whether the broker answered OFFSET_OUT_OF_RANGE: the position asked for is not in the
    /// partition's log (see [`crate::KafkaClient::check_position`]).
    pub fn is_offset_out_of_range(&self) -> bool {
        self.response_error() == Some(kafka_protocol::ResponseError::OffsetOutOfRange)
    }

    /// Whether retrying after a metadata refresh may help (leader moved, broker gone).
    pub fn needs_metadata_refresh(&self) -> bool {
        match self {
            Self::Server { code, .. } => kafka_protocol::ResponseError::try_from_code(*code)
                .is_some_and(|e| {
                    use kafka_protocol::ResponseError as E;
                    matches!(
                        e,
                        E::NotLeaderOrFollower
                            | E::LeaderNotAvailable
                            | E::UnknownTopicOrPartition
                            | E::FencedLeaderEpoch
                            | E::UnknownLeaderEpoch
                            | E::NotCoordinator
                            | E::CoordinatorNotAvailable
                    )
                }),
            Self::RequestFailed { cause, .. } => cause.needs_metadata_refresh(),
            Self::NoLeader { .. }
            | Self::UnknownBroker(_)
            | Self::ConnectionClosed { .. }
            | Self::Io { .. }
            | Self::Timeout { .. } => true,
            _ => false,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = KafkaError> = std::result::Result<T, E>;

impl From<DecodeError> for KafkaError {
    fn from(e: DecodeError) -> Self {
        KafkaError::Decode(e)
    }
}
