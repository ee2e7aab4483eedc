//! The codec of `__consumer_offsets`: every record the group coordinator writes, decoded without
//! copying (strings borrow from the record), and an encoder for the same records.
//!
//! Layout (Kafka's schemas are kept in the project's spec folder):
//! - **Key**: an int16 record type, then the key fields. 0 and 1 are offset commits (group, topic,
//!   partition), 2 is classic group metadata (group), 3 to 23 are the KIP-848 consumer-group,
//!   KIP-932 share-group and KIP-1071 streams-group records, which start with the group id.
//! - **Value**: an int16 version, then that version's fields. [`OffsetCommitValue`] v0–v4 and
//!   [`GroupMetadataValue`] v0–v4 are decoded in full; v4 of both is *flexible* (unsigned-varint
//!   lengths, tagged fields).
//! - **Tombstone**: a null (or empty) value; [`OffsetsRecord`] carries it as `value: None`.
//!
//! Every error is a [`DecodeError`] naming the field that failed. Records of an unknown type fail
//! with [`DecodeErrorKind::UnknownRecordType`] so the caller can count and skip them.
//!
//! ```
//! use burrow_kafka::offsets::{self, OffsetCommitKey, OffsetCommitValue, OffsetsRecord};
//!
//! let key = OffsetCommitKey { version: 1, group: "billing", topic: "orders", partition: 3 };
//! let value = OffsetCommitValue { version: 3, offset: 42, leader_epoch: 7, metadata: "",
//!                                 commit_timestamp: 1_700_000_000_000, expire_timestamp: -1 };
//! let (mut k, mut v) = (Vec::new(), Vec::new());
//! offsets::encode_offset_commit_key(&mut k, &key);
//! offsets::encode_offset_commit_value(&mut v, &value).unwrap();
//!
//! match offsets::decode_record(&k, Some(&v)).unwrap() {
//!     OffsetsRecord::OffsetCommit { key, value: Some(value) } => {
//!         assert_eq!((key.group, key.topic, key.partition, value.offset), ("billing", "orders", 3, 42));
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! ```

mod kip848;
mod wire;

pub use kip848::{
    decode_member_assignment_value, decode_member_metadata_value, encode_member_assignment_value,
    encode_member_key, encode_member_metadata_value, MemberAssignmentValue, MemberKey,
    MemberMetadataValue, TopicId, TopicIdPartitions,
};

use serde::Serialize;
use wire::{Reader, Writer};

/// Why a key or value could not be decoded, and the field that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {kind}")]
pub struct DecodeError {
    /// The schema field (or Burrow's name for it) being read when decoding failed.
    pub field: &'static str,
    /// What was wrong.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    pub(crate) fn new(field: &'static str, kind: DecodeErrorKind) -> Self {
        Self { field, kind }
    }
}

/// The kinds of [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended before the field did.
    #[error("needs {needed} bytes, {available} left")]
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// A length other than -1 (null) below zero.
    #[error("negative length {0}")]
    NegativeLength(i32),
    /// An unsigned varint longer than 5 bytes or above `u32::MAX`.
    #[error("unsigned varint overflows 32 bits")]
    VarintOverflow,
    /// A string that is not UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A key whose record type this decoder does not know.
    #[error("unknown record type {0}")]
    UnknownRecordType(i16),
    /// A value version outside the schema's valid versions.
    #[error("unsupported version {0}")]
    UnsupportedVersion(i16),
    /// A negative consumer-protocol version in an assignment.
    #[error("negative consumer protocol version {0}")]
    NegativeProtocolVersion(i16),
}

/// Why a record could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The value's version is not one of the schema's valid versions.
    #[error("{record} has no version {version}")]
    UnsupportedVersion {
        /// The schema name.
        record: &'static str,
        /// The version asked for.
        version: i16,
    },
}

/// The record types of `__consumer_offsets` keys (the int16 at the start of every key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
#[repr(i16)]
pub enum RecordType {
    /// 0: offset commit written by Kafka before 0.10 (same layout as 1).
    LegacyOffsetCommit = 0,
    /// 1: offset commit.
    OffsetCommit,
    /// 2: classic group metadata (members and assignments).
    GroupMetadata,
    /// 3: KIP-848 consumer group metadata.
    ConsumerGroupMetadata,
    /// 4: KIP-848 consumer group partition metadata (deprecated in Kafka 4.0).
    ConsumerGroupPartitionMetadata,
    /// 5: KIP-848 consumer group member metadata.
    ConsumerGroupMemberMetadata,
    /// 6: KIP-848 consumer group target assignment metadata.
    ConsumerGroupTargetAssignmentMetadata,
    /// 7: KIP-848 consumer group target assignment of one member.
    ConsumerGroupTargetAssignmentMember,
    /// 8: KIP-848 current assignment of one member.
    ConsumerGroupCurrentMemberAssignment,
    /// 9: KIP-932 share group partition metadata.
    ShareGroupPartitionMetadata,
    /// 10: KIP-932 share group member metadata.
    ShareGroupMemberMetadata,
    /// 11: KIP-932 share group metadata.
    ShareGroupMetadata,
    /// 12: KIP-932 share group target assignment metadata.
    ShareGroupTargetAssignmentMetadata,
    /// 13: KIP-932 share group target assignment of one member.
    ShareGroupTargetAssignmentMember,
    /// 14: KIP-932 current assignment of one share group member.
    ShareGroupCurrentMemberAssignment,
    /// 15: KIP-932 share group state partition metadata.
    ShareGroupStatePartitionMetadata,
    /// 16: KIP-848 resolved regular expression subscription.
    ConsumerGroupRegularExpression,
    /// 17: KIP-1071 streams group metadata.
    StreamsGroupMetadata,
    /// 18: KIP-1071 streams group topology.
    StreamsGroupTopology,
    /// 19: KIP-1071 streams group partition metadata.
    StreamsGroupPartitionMetadata,
    /// 20: KIP-1071 streams group member metadata.
    StreamsGroupMemberMetadata,
    /// 21: KIP-1071 streams group target assignment metadata.
    StreamsGroupTargetAssignmentMetadata,
    /// 22: KIP-1071 streams group target assignment of one member.
    StreamsGroupTargetAssignmentMember,
    /// 23: KIP-1071 current assignment of one streams group member.
    StreamsGroupCurrentMemberAssignment,
}

const RECORD_TYPES: [RecordType; 24] = [
    RecordType::LegacyOffsetCommit,
    RecordType::OffsetCommit,
    RecordType::GroupMetadata,
    RecordType::ConsumerGroupMetadata,
    RecordType::ConsumerGroupPartitionMetadata,
    RecordType::ConsumerGroupMemberMetadata,
    RecordType::ConsumerGroupTargetAssignmentMetadata,
    RecordType::ConsumerGroupTargetAssignmentMember,
    RecordType::ConsumerGroupCurrentMemberAssignment,
    RecordType::ShareGroupPartitionMetadata,
    RecordType::ShareGroupMemberMetadata,
    RecordType::ShareGroupMetadata,
    RecordType::ShareGroupTargetAssignmentMetadata,
    RecordType::ShareGroupTargetAssignmentMember,
    RecordType::ShareGroupCurrentMemberAssignment,
    RecordType::ShareGroupStatePartitionMetadata,
    RecordType::ConsumerGroupRegularExpression,
    RecordType::StreamsGroupMetadata,
    RecordType::StreamsGroupTopology,
    RecordType::StreamsGroupPartitionMetadata,
    RecordType::StreamsGroupMemberMetadata,
    RecordType::StreamsGroupTargetAssignmentMetadata,
    RecordType::StreamsGroupTargetAssignmentMember,
    RecordType::StreamsGroupCurrentMemberAssignment,
];

impl RecordType {
    /// The type for a key's leading int16, if it is one Kafka defines.
    pub fn from_code(code: i16) -> Option<Self> {
        usize::try_from(code)
            .ok()
            .and_then(|i| RECORD_TYPES.get(i))
            .copied()
    }

    /// The int16 written at the start of the key (variants are numbered in Kafka's order).
    pub fn code(self) -> i16 {
        self as i16
    }

    /// Kafka's schema name of the key, without the `Key` suffix (for logs and `dump-offsets`).
    pub fn name(self) -> &'static str {
        match self {
            Self::LegacyOffsetCommit => "LegacyOffsetCommit",
            Self::OffsetCommit => "OffsetCommit",
            Self::GroupMetadata => "GroupMetadata",
            Self::ConsumerGroupMetadata => "ConsumerGroupMetadata",
            Self::ConsumerGroupPartitionMetadata => "ConsumerGroupPartitionMetadata",
            Self::ConsumerGroupMemberMetadata => "ConsumerGroupMemberMetadata",
            Self::ConsumerGroupTargetAssignmentMetadata => "ConsumerGroupTargetAssignmentMetadata",
            Self::ConsumerGroupTargetAssignmentMember => "ConsumerGroupTargetAssignmentMember",
            Self::ConsumerGroupCurrentMemberAssignment => "ConsumerGroupCurrentMemberAssignment",
            Self::ShareGroupPartitionMetadata => "ShareGroupPartitionMetadata",
            Self::ShareGroupMemberMetadata => "ShareGroupMemberMetadata",
            Self::ShareGroupMetadata => "ShareGroupMetadata",
            Self::ShareGroupTargetAssignmentMetadata => "ShareGroupTargetAssignmentMetadata",
            Self::ShareGroupTargetAssignmentMember => "ShareGroupTargetAssignmentMember",
            Self::ShareGroupCurrentMemberAssignment => "ShareGroupCurrentMemberAssignment",
            Self::ShareGroupStatePartitionMetadata => "ShareGroupStatePartitionMetadata",
            Self::ConsumerGroupRegularExpression => "ConsumerGroupRegularExpression",
            Self::StreamsGroupMetadata => "StreamsGroupMetadata",
            Self::StreamsGroupTopology => "StreamsGroupTopology",
            Self::StreamsGroupPartitionMetadata => "StreamsGroupPartitionMetadata",
            Self::StreamsGroupMemberMetadata => "StreamsGroupMemberMetadata",
            Self::StreamsGroupTargetAssignmentMetadata => "StreamsGroupTargetAssignmentMetadata",
            Self::StreamsGroupTargetAssignmentMember => "StreamsGroupTargetAssignmentMember",
            Self::StreamsGroupCurrentMemberAssignment => "StreamsGroupCurrentMemberAssignment",
        }
    }
}

/// Key of an offset commit (record types 0 and 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OffsetCommitKey<'a> {
    /// The key's leading int16: 0 (legacy) or 1.
    pub version: i16,
    /// Consumer group id.
    pub group: &'a str,
    /// Topic name.
    pub topic: &'a str,
    /// Partition id.
    pub partition: i32,
}

/// Value of an offset commit, versions 0 to 4. Fields absent from a version hold Kafka's
/// defaults (`leader_epoch` and `expire_timestamp` are -1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OffsetCommitValue<'a> {
    /// Value version (0–4; 4 is flexible).
    pub version: i16,
    /// The committed offset (the next record the group will read).
    pub offset: i64,
    /// Leader epoch of the committed record (v3+), else -1.
    pub leader_epoch: i32,
    /// Client-supplied metadata string.
    pub metadata: &'a str,
    /// When the commit was made (ms since the epoch); Burrow's commit timestamp.
    pub commit_timestamp: i64,
    /// Expiry timestamp (v1 only), else -1.
    pub expire_timestamp: i64,
}

/// Value of a classic group-metadata record, versions 0 to 4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupMetadataValue<'a> {
    /// Value version (0–4; 4 is flexible).
    pub version: i16,
    /// `consumer` for consumer groups; `connect` and others for other protocols.
    pub protocol_type: &'a str,
    /// Generation id.
    pub generation: i32,
    /// Chosen assignor (e.g. `range`), null while the group has none.
    pub protocol: Option<&'a str>,
    /// Member id of the leader, null while there is none.
    pub leader: Option<&'a str>,
    /// When the group state last changed (v2+), else -1.
    pub current_state_timestamp: i64,
    /// The members.
    pub members: Vec<MemberMetadata<'a>>,
}

/// One member inside [`GroupMetadataValue`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberMetadata<'a> {
    /// Member id.
    pub member_id: &'a str,
    /// Static membership id (v3+).
    pub group_instance_id: Option<&'a str>,
    /// Client id.
    pub client_id: &'a str,
    /// Client host as the broker saw it (e.g. `/10.1.2.3`); Burrow's partition owner.
    pub client_host: &'a str,
    /// Rebalance timeout (v1+), else -1.
    pub rebalance_timeout: i32,
    /// Session timeout.
    pub session_timeout: i32,
    /// Raw `ConsumerProtocolSubscription` bytes (see [`decode_subscription`]).
    #[serde(skip)]
    pub subscription: &'a [u8],
    /// Raw `ConsumerProtocolAssignment` bytes (see [`decode_assignment`]).
    #[serde(skip)]
    pub assignment: &'a [u8],
}

/// The partitions of one topic inside an assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicPartitions<'a> {
    /// Topic name.
    pub topic: &'a str,
    /// Partition ids.
    pub partitions: Vec<i32>,
}

/// A decoded `ConsumerProtocolAssignment` (every version has the v0 layout for these fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment<'a> {
    /// Consumer-protocol version.
    pub version: i16,
    /// Assigned partitions per topic.
    pub partitions: Vec<TopicPartitions<'a>>,
    /// Assignor user data.
    #[serde(skip)]
    pub user_data: Option<&'a [u8]>,
}

/// The topics of a `ConsumerProtocolSubscription` (fields added in later versions are skipped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscription<'a> {
    /// Consumer-protocol version.
    pub version: i16,
    /// Subscribed topics.
    pub topics: Vec<&'a str>,
}

/// One decoded record of `__consumer_offsets`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OffsetsRecord<'a> {
    /// An offset commit; `value: None` is a tombstone (the offset was deleted or expired).
    OffsetCommit {
        /// The key.
        key: OffsetCommitKey<'a>,
        /// The value, `None` for a tombstone.
        value: Option<OffsetCommitValue<'a>>,
    },
    /// Classic group metadata; `value: None` is a tombstone (the group was deleted).
    GroupMetadata {
        /// Group id.
        group: &'a str,
        /// The value, `None` for a tombstone.
        value: Option<GroupMetadataValue<'a>>,
    },
    /// KIP-848 member metadata (type 5): who a member of a consumer group is; `value: None`
    /// is a tombstone (the member left).
    ConsumerGroupMember {
        /// Group and member.
        key: MemberKey<'a>,
        /// The value, `None` for a tombstone.
        value: Option<MemberMetadataValue<'a>>,
    },
    /// KIP-848 current assignment (type 8): the partitions a member owns, by topic id;
    /// `value: None` is a tombstone.
    ConsumerGroupAssignment {
        /// Group and member.
        key: MemberKey<'a>,
        /// The value, `None` for a tombstone.
        value: Option<MemberAssignmentValue>,
    },
    /// Another KIP-848, share-group or streams-group record: recognised by type, its group id
    /// read, the rest left undecoded.
    Coordinator {
        /// Which record.
        record_type: RecordType,
        /// Group id (the first field of every such key).
        group: &'a str,
        /// Whether the value is null.
        tombstone: bool,
    },
}

impl OffsetsRecord<'_> {
    /// The record type of the key.
    pub fn record_type(&self) -> RecordType {
        match self {
            Self::OffsetCommit { key, .. } if key.version == 0 => RecordType::LegacyOffsetCommit,
            Self::OffsetCommit { .. } => RecordType::OffsetCommit,
            Self::GroupMetadata { .. } => RecordType::GroupMetadata,
            Self::ConsumerGroupMember { .. } => RecordType::ConsumerGroupMemberMetadata,
            Self::ConsumerGroupAssignment { .. } => {
                RecordType::ConsumerGroupCurrentMemberAssignment
            }
            Self::Coordinator { record_type, .. } => *record_type,
        }
    }

    /// The group the record belongs to.
    pub fn group(&self) -> &str {
        match self {
            Self::OffsetCommit { key, .. } => key.group,
            Self::GroupMetadata { group, .. } | Self::Coordinator { group, .. } => group,
            Self::ConsumerGroupMember { key, .. } | Self::ConsumerGroupAssignment { key, .. } => {
                key.group
            }
        }
    }
}

/// Decodes one record from its key and value (`None` or empty = tombstone).
pub fn decode_record<'a>(
    key: &'a [u8],
    value: Option<&'a [u8]>,
) -> Result<OffsetsRecord<'a>, DecodeError> {
    let value = value.filter(|v| !v.is_empty());
    let mut r = Reader::new(key);
    let code = r.i16("key_version")?;
    match code {
        0 | 1 => {
            let key = OffsetCommitKey {
                version: code,
                group: r.string(false, "group")?,
                topic: r.string(false, "topic")?,
                partition: r.i32("partition")?,
            };
            let value = value.map(decode_offset_commit_value).transpose()?;
            Ok(OffsetsRecord::OffsetCommit { key, value })
        }
        2 => {
            let group = r.string(false, "group")?;
            let value = value.map(decode_group_metadata_value).transpose()?;
            Ok(OffsetsRecord::GroupMetadata { group, value })
        }
        5 => {
            let key = kip848::decode_member_key(&mut r)?;
            let value = value.map(decode_member_metadata_value).transpose()?;
            Ok(OffsetsRecord::ConsumerGroupMember { key, value })
        }
        8 => {
            let key = kip848::decode_member_key(&mut r)?;
            let value = value.map(decode_member_assignment_value).transpose()?;
            Ok(OffsetsRecord::ConsumerGroupAssignment { key, value })
        }
        other => match RecordType::from_code(other) {
            Some(record_type) => Ok(OffsetsRecord::Coordinator {
                record_type,
                group: r.string(false, "group")?,
                tombstone: value.is_none(),
            }),
            None => Err(DecodeError::new(
                "key_version",
                DecodeErrorKind::UnknownRecordType(other),
            )),
        },
    }
}

/// The group id of a record key, without decoding the rest: every record type's key starts with
/// its version (int16) and the group id. `None` when the key is too short or not UTF-8. Lets a
/// reader interested in one group skip the others' records cheaply.
pub fn peek_group(key: &[u8]) -> Option<&str> {
    let mut r = Reader::new(key);
    r.i16("key_version").ok()?;
    r.string(false, "group").ok()
}

/// Value versions 0 to 4 are defined for both value schemas (4 is flexible).
const VALUE_VERSIONS: std::ops::RangeInclusive<i16> = 0..=4;

/// Reads a value's leading version and checks it is one of [`VALUE_VERSIONS`].
fn value_version(r: &mut Reader<'_>) -> Result<i16, DecodeError> {
    let version = r.i16("value_version")?;
    if !VALUE_VERSIONS.contains(&version) {
        return Err(DecodeError::new(
            "value_version",
            DecodeErrorKind::UnsupportedVersion(version),
        ));
    }
    Ok(version)
}

/// Checks that `version` of `record` can be encoded.
fn encodable_version(record: &'static str, version: i16) -> Result<i16, EncodeError> {
    if VALUE_VERSIONS.contains(&version) {
        Ok(version)
    } else {
        Err(EncodeError::UnsupportedVersion { record, version })
    }
}

/// Decodes an offset-commit value (versions 0–4).
pub fn decode_offset_commit_value(value: &[u8]) -> Result<OffsetCommitValue<'_>, DecodeError> {
    let mut r = Reader::new(value);
    let version = value_version(&mut r)?;
    let flexible = version >= 4;
    let offset = r.i64("offset")?;
    let leader_epoch = if version >= 3 {
        r.i32("leader_epoch")?
    } else {
        -1
    };
    let metadata = r.string(flexible, "metadata")?;
    let commit_timestamp = r.i64("commit_timestamp")?;
    let expire_timestamp = if version == 1 {
        r.i64("expire_timestamp")?
    } else {
        -1
    };
    if flexible {
        r.trailing_tagged_fields();
    }
    Ok(OffsetCommitValue {
        version,
        offset,
        leader_epoch,
        metadata,
        commit_timestamp,
        expire_timestamp,
    })
}

/// Smallest encoding of one member (v0, all strings and bytes empty), used to bound hostile counts.
const MIN_MEMBER_BYTES: usize = 2 * 3 + 4 + 4 * 2;

/// Decodes a classic group-metadata value (versions 0–4). Field names in errors follow Burrow's.
pub fn decode_group_metadata_value(value: &[u8]) -> Result<GroupMetadataValue<'_>, DecodeError> {
    let mut r = Reader::new(value);
    let version = value_version(&mut r)?;
    let flex = version >= 4;
    let protocol_type = r.string(flex, "protocol_type")?;
    let generation = r.i32("generation")?;
    let protocol = r.nullable_string(flex, "protocol")?;
    let leader = r.nullable_string(flex, "leader")?;
    let current_state_timestamp = if version >= 2 {
        r.i64("current_state_timestamp")?
    } else {
        -1
    };
    let min_member = if flex {
        3 + 4 + 2 + 1
    } else {
        MIN_MEMBER_BYTES
    };
    let count = r.array_len(flex, "member_count")?;
    let mut members = Vec::with_capacity(r.capacity(count, min_member));
    for _ in 0..count {
        let member_id = r.string(flex, "member_id")?;
        let group_instance_id = if version >= 3 {
            r.nullable_string(flex, "group_instance_id")?
        } else {
            None
        };
        let client_id = r.string(flex, "client_id")?;
        let client_host = r.string(flex, "client_host")?;
        let rebalance_timeout = if version >= 1 {
            r.i32("rebalance_timeout")?
        } else {
            -1
        };
        let session_timeout = r.i32("session_timeout")?;
        let subscription = r.nullable_bytes(flex, "subscription_bytes")?.unwrap_or(&[]);
        let assignment = r.nullable_bytes(flex, "assignment_bytes")?.unwrap_or(&[]);
        if flex {
            r.tagged_fields("member_tagged_fields")?;
        }
        members.push(MemberMetadata {
            member_id,
            group_instance_id,
            client_id,
            client_host,
            rebalance_timeout,
            session_timeout,
            subscription,
            assignment,
        });
    }
    if flex {
        r.trailing_tagged_fields();
    }
    Ok(GroupMetadataValue {
        version,
        protocol_type,
        generation,
        protocol,
        leader,
        current_state_timestamp,
        members,
    })
}

/// Decodes a member's `ConsumerProtocolAssignment`. Empty bytes decode as no partitions.
pub fn decode_assignment(bytes: &[u8]) -> Result<Assignment<'_>, DecodeError> {
    if bytes.is_empty() {
        return Ok(Assignment {
            version: 0,
            partitions: Vec::new(),
            user_data: None,
        });
    }
    let mut r = Reader::new(bytes);
    let version = r.i16("consumer_protocol_version")?;
    if version < 0 {
        return Err(DecodeError::new(
            "consumer_protocol_version",
            DecodeErrorKind::NegativeProtocolVersion(version),
        ));
    }
    let topics = r.array_len(false, "assignment_topic_count")?;
    let mut partitions = Vec::with_capacity(r.capacity(topics, 2 + 4));
    for _ in 0..topics {
        let topic = r.string(false, "topic_name")?;
        let n = r.array_len(false, "assignment_partition_count")?;
        let mut ids = Vec::with_capacity(r.capacity(n, 4));
        for _ in 0..n {
            ids.push(r.i32("assignment_partition_id")?);
        }
        partitions.push(TopicPartitions {
            topic,
            partitions: ids,
        });
    }
    let user_data = if r.remaining() == 0 {
        None
    } else {
        r.nullable_bytes(false, "user_bytes")?
    };
    Ok(Assignment {
        version,
        partitions,
        user_data,
    })
}

/// Decodes the topics of a member's `ConsumerProtocolSubscription`.
pub fn decode_subscription(bytes: &[u8]) -> Result<Subscription<'_>, DecodeError> {
    if bytes.is_empty() {
        return Ok(Subscription {
            version: 0,
            topics: Vec::new(),
        });
    }
    let mut r = Reader::new(bytes);
    let version = r.i16("subscription_version")?;
    let n = r.array_len(false, "subscription_topic_count")?;
    let mut topics = Vec::with_capacity(r.capacity(n, 2));
    for _ in 0..n {
        topics.push(r.string(false, "subscription_topic")?);
    }
    Ok(Subscription { version, topics })
}

/// Appends an offset-commit key (record type `key.version`, 0 or 1).
pub fn encode_offset_commit_key(out: &mut Vec<u8>, key: &OffsetCommitKey<'_>) {
    let mut w = Writer { out };
    w.i16(key.version);
    w.string(false, key.group);
    w.string(false, key.topic);
    w.i32(key.partition);
}

/// Appends an offset-commit value in `value.version`'s layout.
pub fn encode_offset_commit_value(
    out: &mut Vec<u8>,
    value: &OffsetCommitValue<'_>,
) -> Result<(), EncodeError> {
    let version = encodable_version("OffsetCommitValue", value.version)?;
    let flexible = version >= 4;
    let mut w = Writer { out };
    w.i16(version);
    w.i64(value.offset);
    if version >= 3 {
        w.i32(value.leader_epoch);
    }
    w.string(flexible, value.metadata);
    w.i64(value.commit_timestamp);
    if version == 1 {
        w.i64(value.expire_timestamp);
    }
    if flexible {
        w.no_tagged_fields();
    }
    Ok(())
}

/// Appends a group-metadata key (record type 2).
pub fn encode_group_metadata_key(out: &mut Vec<u8>, group: &str) {
    let mut w = Writer { out };
    w.i16(2);
    w.string(false, group);
}

/// Appends the key of a KIP-848/share/streams record: its type and group id, then `rest` (the
/// remaining key fields, already encoded, e.g. a member id).
pub fn encode_coordinator_key(
    out: &mut Vec<u8>,
    record_type: RecordType,
    group: &str,
    rest: &[u8],
) {
    let mut w = Writer { out };
    w.i16(record_type.code());
    w.string(false, group);
    out.extend_from_slice(rest);
}

/// Appends a group-metadata value in `value.version`'s layout.
pub fn encode_group_metadata_value(
    out: &mut Vec<u8>,
    value: &GroupMetadataValue<'_>,
) -> Result<(), EncodeError> {
    let version = encodable_version("GroupMetadataValue", value.version)?;
    let flex = version >= 4;
    let mut w = Writer { out };
    w.i16(version);
    w.string(flex, value.protocol_type);
    w.i32(value.generation);
    w.nullable_string(flex, value.protocol);
    w.nullable_string(flex, value.leader);
    if version >= 2 {
        w.i64(value.current_state_timestamp);
    }
    w.array_len(flex, value.members.len());
    for m in &value.members {
        w.string(flex, m.member_id);
        if version >= 3 {
            w.nullable_string(flex, m.group_instance_id);
        }
        w.string(flex, m.client_id);
        w.string(flex, m.client_host);
        if version >= 1 {
            w.i32(m.rebalance_timeout);
        }
        w.i32(m.session_timeout);
        w.nullable_bytes(flex, Some(m.subscription));
        w.nullable_bytes(flex, Some(m.assignment));
        if flex {
            w.no_tagged_fields();
        }
    }
    if flex {
        w.no_tagged_fields();
    }
    Ok(())
}

/// The key and value a group coordinator appends today for one committed offset: key v1, value
/// v3 (leader epoch 0, no metadata). For tests, benches, examples and tools that write
/// `__consumer_offsets` as a broker would.
pub fn commit_record(
    group: &str,
    topic: &str,
    partition: i32,
    offset: i64,
    commit_timestamp: i64,
) -> Result<(Vec<u8>, Vec<u8>), EncodeError> {
    let (mut key, mut value) = (Vec::new(), Vec::new());
    encode_offset_commit_key(
        &mut key,
        &OffsetCommitKey {
            version: 1,
            group,
            topic,
            partition,
        },
    );
    encode_offset_commit_value(
        &mut value,
        &OffsetCommitValue {
            version: 3,
            offset,
            leader_epoch: 0,
            metadata: "",
            commit_timestamp,
            expire_timestamp: -1,
        },
    )?;
    Ok((key, value))
}

/// The key and value a group coordinator appends for a classic consumer group of one member
/// (`m1`, generation 1, range assignor) owning `partitions` of `topic`: group metadata v3.
pub fn one_member_group_record(
    group: &str,
    topic: &str,
    partitions: &[i32],
    client_id: &str,
    client_host: &str,
    now_ms: i64,
) -> Result<(Vec<u8>, Vec<u8>), EncodeError> {
    let mut assignment = Vec::new();
    encode_assignment(
        &mut assignment,
        &Assignment {
            version: 0,
            partitions: vec![TopicPartitions {
                topic,
                partitions: partitions.to_vec(),
            }],
            user_data: None,
        },
    );
    let (mut key, mut value) = (Vec::new(), Vec::new());
    encode_group_metadata_key(&mut key, group);
    encode_group_metadata_value(
        &mut value,
        &GroupMetadataValue {
            version: 3,
            protocol_type: "consumer",
            generation: 1,
            protocol: Some("range"),
            leader: Some("m1"),
            current_state_timestamp: now_ms,
            members: vec![MemberMetadata {
                member_id: "m1",
                group_instance_id: None,
                client_id,
                client_host,
                rebalance_timeout: 30000,
                session_timeout: 10000,
                subscription: &[],
                assignment: &assignment,
            }],
        },
    )?;
    Ok((key, value))
}

/// Appends a `ConsumerProtocolAssignment`.
pub fn encode_assignment(out: &mut Vec<u8>, assignment: &Assignment<'_>) {
    let mut w = Writer { out };
    w.i16(assignment.version);
    w.array_len(false, assignment.partitions.len());
    for tp in &assignment.partitions {
        w.string(false, tp.topic);
        w.array_len(false, tp.partitions.len());
        for p in &tp.partitions {
            w.i32(*p);
        }
    }
    w.nullable_bytes(false, assignment.user_data);
}

/// Appends a `ConsumerProtocolSubscription` (v0 layout: topics, null user data).
pub fn encode_subscription(out: &mut Vec<u8>, subscription: &Subscription<'_>) {
    let mut w = Writer { out };
    w.i16(subscription.version);
    w.array_len(false, subscription.topics.len());
    for t in &subscription.topics {
        w.string(false, t);
    }
    w.nullable_bytes(false, None);
}

/// The partition of an `n`-partition offsets topic that holds `group`:
/// `abs(javaStringHashCode(group)) % n`, with Kafka's `Utils.abs` (`i32::MIN` maps to 0).
/// Returns 0 when `n` is not positive.
pub fn partition_for_group(group: &str, n: i32) -> i32 {
    if n <= 0 {
        return 0;
    }
    let mut h: i32 = 0;
    for unit in group.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(i32::from(unit));
    }
    let abs = if h == i32::MIN { 0 } else { h.abs() };
    abs % n
}

#[cfg(test)]
mod peek_tests {
    use super::*;

    #[test]
    fn peek_reads_the_group_of_every_key_type() {
        let mut k = Vec::new();
        encode_offset_commit_key(
            &mut k,
            &OffsetCommitKey {
                version: 1,
                group: "billing",
                topic: "t",
                partition: 0,
            },
        );
        assert_eq!(peek_group(&k), Some("billing"));
        let mut g = Vec::new();
        encode_group_metadata_key(&mut g, "ab");
        assert_eq!(peek_group(&g), Some("ab"));
        for cut in 0..k.len() {
            let _ = peek_group(&k[..cut]);
        }
        assert_eq!(peek_group(&k[..5]), None);
        assert_eq!(peek_group(&[]), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_matches_kafka() {
        // Values printed by Java 17's String.hashCode and Kafka's Utils.abs(h) % 50.
        assert_eq!(partition_for_group("", 50), 0);
        assert_eq!(partition_for_group("a", 50), 47);
        assert_eq!(partition_for_group("test-group", 50), 12);
        assert_eq!(partition_for_group("billing", 50), 9); // negative hash -109829509
        assert_eq!(partition_for_group("grüße-☃", 50), 17); // non-ASCII: hashed by UTF-16 unit
                                                            // A negative hash: "polygenelubricants".hashCode() == Integer.MIN_VALUE -> abs 0.
        assert_eq!(partition_for_group("polygenelubricants", 50), 0);
        assert_eq!(partition_for_group("g", 0), 0);
    }

    #[test]
    fn record_type_codes_follow_kafkas_numbering() {
        for code in 0..24i16 {
            let ty = RecordType::from_code(code).expect("defined");
            assert_eq!(ty.code(), code, "{ty:?}");
        }
        assert_eq!(RecordType::from_code(24), None);
        assert_eq!(RecordType::from_code(-1), None);
    }

    #[test]
    fn uvarint_overflow_is_an_error() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert_eq!(
            r.uvarint("x").unwrap_err().kind,
            DecodeErrorKind::VarintOverflow
        );
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(r.uvarint("x").unwrap(), u32::MAX);
    }
}
