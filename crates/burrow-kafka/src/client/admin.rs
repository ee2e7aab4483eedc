//! Writing: Produce, CreateTopics and OffsetCommit, for tools, tests and benchmarks (Burrow
//! itself never writes).

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    CreateTopicsRequest, GroupId, OffsetCommitRequest, ProduceRequest, TopicName,
};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

use super::{server_err, str_bytes, KafkaClient, PRODUCE_MAX};
use crate::error::{KafkaError, Result};

impl KafkaClient {
    /// Produces records (key, value) to one partition as one batch (acks = all) and returns the
    /// base offset. Burrow never produces; this exists for tools and tests that write records,
    /// such as encoded commits into `__consumer_offsets`.
    pub async fn produce(
        &self,
        topic: &str,
        partition: i32,
        records: &[(Option<Bytes>, Option<Bytes>)],
        compression: Compression,
    ) -> Result<i64> {
        let now = burrow_core::now_ms();
        self.produce_at(topic, partition, records, compression, now)
            .await
    }

    /// [`KafkaClient::produce`] with the records' create time set to `timestamp` (ms): for tests
    /// and tools that build a topic's history after the fact.
    pub async fn produce_at(
        &self,
        topic: &str,
        partition: i32,
        records: &[(Option<Bytes>, Option<Bytes>)],
        compression: Compression,
        timestamp: i64,
    ) -> Result<i64> {
        let conn = self.leader(topic, partition).await?;
        let version = conn.version::<ProduceRequest>(PRODUCE_MAX)?;
        let recs: Vec<Record> = records
            .iter()
            .enumerate()
            .map(|(i, (k, v))| Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: i as i64,
                // kafka-protocol keeps records in one batch while offset - sequence is constant;
                // this makes the batch's base sequence -1 (no idempotence), as Java's producer.
                sequence: i as i32 - 1,
                timestamp,
                key: k.clone(),
                value: v.clone(),
                headers: Default::default(),
            })
            .collect();
        let mut buf = bytes::BytesMut::new();
        RecordBatchEncoder::encode(
            &mut buf,
            &recs,
            &RecordEncodeOptions {
                version: 2,
                compression,
            },
        )
        .map_err(|e| KafkaError::Protocol {
            broker: conn.addr().to_string(),
            api: "Produce",
            message: e.to_string(),
        })?;
        let mut pd = PartitionProduceData::default();
        pd.index = partition;
        pd.records = Some(buf.freeze());
        let mut td = TopicProduceData::default();
        td.name = TopicName(str_bytes(topic));
        td.partition_data = vec![pd];
        let mut req = ProduceRequest::default();
        req.acks = -1;
        req.timeout_ms = 10_000;
        req.topic_data = vec![td];
        let resp = self.request(&conn, &req, version).await?;
        let p = resp
            .responses
            .into_iter()
            .flat_map(|t| t.partition_responses)
            .next()
            .ok_or_else(|| KafkaError::Protocol {
                broker: conn.addr().to_string(),
                api: "Produce",
                message: "empty response".into(),
            })?;
        if p.error_code != 0 {
            return Err(KafkaError::server(
                "Produce",
                p.error_code,
                p.error_message.map(|m| m.to_string()),
            ));
        }
        Ok(p.base_offset)
    }

    /// Creates a topic (no error if it exists) and refreshes metadata. For tools and tests.
    pub async fn create_topic(&self, name: &str, partitions: i32, replication: i16) -> Result<()> {
        let conn = self.any_broker().await?;
        let version = conn.version::<CreateTopicsRequest>(i16::MAX)?;
        let mut t = CreatableTopic::default();
        t.name = TopicName(str_bytes(name));
        t.num_partitions = partitions;
        t.replication_factor = replication;
        let mut req = CreateTopicsRequest::default();
        req.topics = vec![t];
        req.timeout_ms = 10_000;
        let resp = self.request(&conn, &req, version).await?;
        for t in resp.topics {
            let exists = kafka_protocol::ResponseError::TopicAlreadyExists.code();
            if t.error_code != 0 && t.error_code != exists {
                return Err(server_err(
                    "CreateTopics",
                    t.error_code,
                    t.error_message.as_ref(),
                ));
            }
        }
        // Leaders may take a moment to appear.
        for _ in 0..50 {
            let md = self.refresh_metadata().await?;
            if md.topics.get(name).is_some_and(|t| {
                t.partitions.len() as i32 >= partitions
                    && t.partitions.values().all(|p| p.leader >= 0)
            }) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Commits `offsets` (partition, offset) of `topic` for `group` as a group without members
    /// does (generation -1, no member id: what `assign()` users and tools do), at the group's
    /// coordinator. For tools, tests and benchmarks.
    pub async fn commit_offsets(
        &self,
        group: &str,
        topic: &str,
        offsets: &[(i32, i64)],
    ) -> Result<()> {
        let coordinator = self.find_coordinator(group).await?;
        let conn = self.broker(coordinator).await?;
        // v9 and later are the consumer group protocol's (member epochs, then topic ids).
        let version = conn.version::<OffsetCommitRequest>(8)?;
        let mut t = OffsetCommitRequestTopic::default();
        t.name = TopicName(str_bytes(topic));
        t.partitions = offsets
            .iter()
            .map(|&(partition, offset)| {
                let mut p = OffsetCommitRequestPartition::default();
                p.partition_index = partition;
                p.committed_offset = offset;
                p.committed_leader_epoch = -1;
                p.committed_metadata = Some(str_bytes(""));
                p
            })
            .collect();
        let mut req = OffsetCommitRequest::default();
        req.group_id = GroupId(str_bytes(group));
        req.generation_id_or_member_epoch = -1;
        req.retention_time_ms = -1;
        req.topics = vec![t];
        let resp = self.request(&conn, &req, version).await?;
        for t in resp.topics {
            for p in t.partitions {
                if p.error_code != 0 {
                    return Err(KafkaError::server("OffsetCommit", p.error_code, None));
                }
            }
        }
        Ok(())
    }
}
