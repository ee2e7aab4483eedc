//! Burrow's window on Kafka: a native async client on the [`kafka_protocol`] crate (no
//! librdkafka) and the codec of the `__consumer_offsets` topic.
//!
//! - [`KafkaClient`]: bootstrap, per-broker version negotiation (ApiVersions; every request at
//!   the highest version both sides speak), metadata, ListOffsets batched per leader, Fetch
//!   (record batches v2 with every compression, legacy message sets, control records and
//!   aborted transactions), FindCoordinator, ListGroups, DescribeGroups, OffsetFetch. One
//!   pipelined connection per broker, timeouts, reconnection with backoff; a connection that
//!   failed is replaced, never reused. TLS on rustls and SASL PLAIN/SCRAM ([`ClientConfig`]).
//! - [`offsets`]: decoder and encoder of every `__consumer_offsets` record, without copying.
//!
//! ```no_run
//! # async fn demo() -> Result<(), burrow_kafka::KafkaError> {
//! use burrow_kafka::{ClientConfig, IsolationLevel, KafkaClient, OffsetSpec};
//!
//! let client = KafkaClient::connect(&["127.0.0.1:9092".to_string()], ClientConfig::default()).await?;
//! let md = client.metadata();
//! let parts: Vec<(String, i32)> = md.topics.iter()
//!     .flat_map(|(t, info)| info.partitions.keys().map(move |p| (t.clone(), *p)))
//!     .collect();
//! for o in client.list_offsets(&parts, OffsetSpec::Latest, IsolationLevel::ReadUncommitted).await {
//!     println!("{}/{}: {:?}", o.topic, o.partition, o.result);
//! }
//! # Ok(()) }
//! ```

mod client;
mod config;
mod conn;
mod decompress;
mod error;
mod frame;
mod handshake;
pub mod msk_iam;
pub mod oauth;
pub mod offsets;
mod records;
mod sasl;
pub mod tls;
mod tolerant;

pub use client::{
    BrokerInfo, CommittedOffset, FetchOptions, FetchResult, GroupDescription, IsolationLevel,
    KafkaClient, ListedGroup, LogPosition, MemberDescription, Metadata, OffsetSpec, PartitionInfo,
    PartitionOffset, TopicInfo,
};
pub use config::{
    ClientConfig, ClientProfile, IamProfile, KafkaVersion, MskIam, SaslConfig, SaslMechanism,
    SaslProfile, TlsProfile,
};
pub use error::{KafkaError, Result};
pub use kafka_protocol::records::Compression;
pub use kafka_protocol::ResponseError;
pub use records::{
    decode_records, AbortedTxn, FetchedRecord, RawRecords, RecordRef, RecordsRead, RecordsSummary,
};
pub use tolerant::TolerantDecode;
