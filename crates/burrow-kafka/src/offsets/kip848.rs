//! The KIP-848 consumer-group records that say who owns what (Kafka 4's consumer group
//! protocol), from Kafka's own schemas (`group-coordinator/src/main/resources/common/message`):
//!
//! - type 5, `ConsumerGroupMemberMetadataKey` (GroupId, MemberId) and its value v0 (flexible):
//!   InstanceId, RackId, ClientId, ClientHost, SubscribedTopicNames, SubscribedTopicRegex,
//!   RebalanceTimeoutMs, ServerAssignor, tag 0 ClassicMemberMetadata (skipped);
//! - type 8, `ConsumerGroupCurrentMemberAssignmentKey` (GroupId, MemberId) and its value v0
//!   (flexible): MemberEpoch, PreviousMemberEpoch, State, AssignedPartitions and
//!   PartitionsPendingRevocation (each `[]{TopicId uuid, Partitions []int32, tag 0
//!   AssignmentEpochs}`).
//!
//! Keys are not flexible (int16-length strings). A value of a later version is read as v0 (a
//! flexible schema only appends fields), its trailing bytes left alone.

use serde::Serialize;

use super::wire::{Reader, Writer};
use super::DecodeError;

/// A Kafka topic id (UUID), shown as Kafka's tools show it (URL-safe base64, no padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicId(pub [u8; 16]);

impl std::fmt::Display for TopicId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use base64::Engine;
        f.write_str(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl Serialize for TopicId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The key of a type 5 or type 8 record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MemberKey<'a> {
    /// Group id.
    pub group: &'a str,
    /// Member id.
    pub member: &'a str,
}

/// `ConsumerGroupMemberMetadataValue` (type 5): who a member is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberMetadataValue<'a> {
    /// Value version (0).
    pub version: i16,
    /// Static membership instance id.
    pub instance_id: Option<&'a str>,
    /// Rack id.
    pub rack_id: Option<&'a str>,
    /// Client id.
    pub client_id: &'a str,
    /// Client host.
    pub client_host: &'a str,
    /// Subscribed topic names.
    pub subscribed_topics: Vec<&'a str>,
    /// Subscribed topic regular expression.
    pub subscribed_regex: Option<&'a str>,
    /// Rebalance timeout (ms).
    pub rebalance_timeout_ms: i32,
    /// Server-side assignor.
    pub server_assignor: Option<&'a str>,
}

/// Partitions of one topic, named by topic id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicIdPartitions {
    /// The topic's id.
    pub topic_id: TopicId,
    /// Partition ids.
    pub partitions: Vec<i32>,
}

/// `ConsumerGroupCurrentMemberAssignmentValue` (type 8): what a member owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberAssignmentValue {
    /// Value version (0).
    pub version: i16,
    /// The member epoch.
    pub member_epoch: i32,
    /// The previous member epoch.
    pub previous_member_epoch: i32,
    /// The member state.
    pub state: i8,
    /// Partitions assigned to (or owned by) the member.
    pub assigned: Vec<TopicIdPartitions>,
    /// Partitions the member must revoke.
    pub pending_revocation: Vec<TopicIdPartitions>,
}

/// Smallest flexible string (its length varint) and smallest topic entry (uuid, empty
/// array, no tags): bounds hostile counts.
const MIN_STRING: usize = 1;
const MIN_TOPIC: usize = 16 + 1 + 1;

/// Decodes the key after its type: group and member (types 5 and 8).
pub(crate) fn decode_member_key<'a>(r: &mut Reader<'a>) -> Result<MemberKey<'a>, DecodeError> {
    Ok(MemberKey {
        group: r.string(false, "group")?,
        member: r.string(false, "member_id")?,
    })
}

/// Decodes a `ConsumerGroupMemberMetadataValue`.
pub fn decode_member_metadata_value(value: &[u8]) -> Result<MemberMetadataValue<'_>, DecodeError> {
    let mut r = Reader::new(value);
    let version = r.i16("value_version")?;
    let instance_id = r.nullable_string(true, "instance_id")?;
    let rack_id = r.nullable_string(true, "rack_id")?;
    let client_id = r.string(true, "client_id")?;
    let client_host = r.string(true, "client_host")?;
    let count = r.array_len(true, "subscribed_topic_names")?;
    let mut subscribed_topics = Vec::with_capacity(r.capacity(count, MIN_STRING));
    for _ in 0..count {
        subscribed_topics.push(r.string(true, "subscribed_topic_names")?);
    }
    let subscribed_regex = r.nullable_string(true, "subscribed_topic_regex")?;
    let rebalance_timeout_ms = r.i32("rebalance_timeout_ms")?;
    let server_assignor = r.nullable_string(true, "server_assignor")?;
    r.trailing_tagged_fields();
    Ok(MemberMetadataValue {
        version,
        instance_id,
        rack_id,
        client_id,
        client_host,
        subscribed_topics,
        subscribed_regex,
        rebalance_timeout_ms,
        server_assignor,
    })
}

/// Decodes a `ConsumerGroupCurrentMemberAssignmentValue`.
pub fn decode_member_assignment_value(value: &[u8]) -> Result<MemberAssignmentValue, DecodeError> {
    let mut r = Reader::new(value);
    let version = r.i16("value_version")?;
    let member_epoch = r.i32("member_epoch")?;
    let previous_member_epoch = r.i32("previous_member_epoch")?;
    let state = r.i8("state")?;
    let assigned = topic_partitions(&mut r, "assigned_partitions")?;
    let pending_revocation = topic_partitions(&mut r, "partitions_pending_revocation")?;
    r.trailing_tagged_fields();
    Ok(MemberAssignmentValue {
        version,
        member_epoch,
        previous_member_epoch,
        state,
        assigned,
        pending_revocation,
    })
}

fn topic_partitions(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<Vec<TopicIdPartitions>, DecodeError> {
    let count = r.array_len(true, field)?;
    let mut out = Vec::with_capacity(r.capacity(count, MIN_TOPIC));
    for _ in 0..count {
        let topic_id = TopicId(r.uuid("topic_id")?);
        let n = r.array_len(true, "partitions")?;
        let mut partitions = Vec::with_capacity(r.capacity(n, 4));
        for _ in 0..n {
            partitions.push(r.i32("partitions")?);
        }
        r.tagged_fields("topic_partitions_tagged_fields")?;
        out.push(TopicIdPartitions {
            topic_id,
            partitions,
        });
    }
    Ok(out)
}

/// Encodes the key of a type 5 or 8 record (`record_type` is 5 or 8).
pub fn encode_member_key(out: &mut Vec<u8>, record_type: i16, key: &MemberKey<'_>) {
    let mut w = Writer { out };
    w.i16(record_type);
    w.string(false, key.group);
    w.string(false, key.member);
}

/// Encodes a `ConsumerGroupMemberMetadataValue` (as v0, whatever `version` says after it).
pub fn encode_member_metadata_value(out: &mut Vec<u8>, v: &MemberMetadataValue<'_>) {
    let mut w = Writer { out };
    w.i16(v.version);
    w.nullable_string(true, v.instance_id);
    w.nullable_string(true, v.rack_id);
    w.string(true, v.client_id);
    w.string(true, v.client_host);
    w.array_len(true, v.subscribed_topics.len());
    for t in &v.subscribed_topics {
        w.string(true, t);
    }
    w.nullable_string(true, v.subscribed_regex);
    w.i32(v.rebalance_timeout_ms);
    w.nullable_string(true, v.server_assignor);
    w.no_tagged_fields();
}

/// Encodes a `ConsumerGroupCurrentMemberAssignmentValue`.
pub fn encode_member_assignment_value(out: &mut Vec<u8>, v: &MemberAssignmentValue) {
    let mut w = Writer { out };
    w.i16(v.version);
    w.i32(v.member_epoch);
    w.i32(v.previous_member_epoch);
    w.i8(v.state);
    for list in [&v.assigned, &v.pending_revocation] {
        w.array_len(true, list.len());
        for t in list {
            w.uuid(&t.topic_id.0);
            w.array_len(true, t.partitions.len());
            for p in &t.partitions {
                w.i32(*p);
            }
            w.no_tagged_fields();
        }
    }
    w.no_tagged_fields();
}
