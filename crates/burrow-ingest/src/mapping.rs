//! The one mapping from a record of `__consumer_offsets` to what it means for storage, shared by
//! the consumer module (which applies it at once, commits through a [`CommitWriter`]) and by the
//! one-shot check (which keeps the owned [`StorageEvent`]s of one group and replays them).
//!
//! | record | storage |
//! |---|---|
//! | offset commit | the group partition's committed offset ([`GroupChange::Commit`]) |
//! | offset commit tombstone | the partition leaves the group (decision 4) |
//! | group metadata, consumer protocol | each assigned partition's owner and client id; no members clears them |
//! | group metadata tombstone | the group is deleted |
//! | group metadata of another protocol (connect, …) | nothing ([`Skip::OtherProtocol`]) |
//! | KIP-848, share, streams, transaction records | nothing ([`Skip::Unsupported`]) |
//! | an undecodable key, value or assignment | nothing ([`Skip::Undecodable`], naming the field) |
//!
//! [`CommitWriter`]: burrow_storage::CommitWriter

use burrow_core::{
    ClearOwnersEvent, ConsumerOffsetEvent, ConsumerOffsetRef, ConsumerOwnerEvent, DeleteGroupEvent,
    OffsetTombstoneEvent, StorageEvent,
};
use burrow_kafka::offsets::{decode_assignment, decode_record, DecodeErrorKind, OffsetsRecord};

/// One assigned partition of a group member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Partition.
    pub partition: i32,
    /// The member's client host (Burrow's owner).
    pub host: &'a str,
    /// The member's client id.
    pub client_id: &'a str,
}

/// What a record says about a group, borrowed from the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChange<'a> {
    /// An offset commit.
    Commit(ConsumerOffsetRef<'a>),
    /// An offset commit tombstone: the partition leaves the group.
    OffsetTombstone {
        /// Group.
        group: &'a str,
        /// Topic.
        topic: &'a str,
        /// Partition.
        partition: i32,
    },
    /// The group's members and assignments; empty when it has no members (owners cleared).
    Owners {
        /// Group.
        group: &'a str,
        /// Every assigned partition.
        owners: Vec<Owner<'a>>,
    },
    /// A group metadata tombstone: the group is gone.
    GroupTombstone {
        /// Group.
        group: &'a str,
    },
    /// KIP-848 member metadata (record type 5): who a member is, `None` when it left. Owners
    /// come from this and the member's assignment together ([`crate::kip848::Members`]).
    MemberMetadata {
        /// Group.
        group: &'a str,
        /// Member id.
        member: &'a str,
        /// (client host, client id), `None` for a tombstone.
        client: Option<(&'a str, &'a str)>,
    },
    /// KIP-848 current member assignment (record type 8), by topic id; `None` when removed.
    MemberAssignment {
        /// Group.
        group: &'a str,
        /// Member id.
        member: &'a str,
        /// The member's partitions, `None` for a tombstone.
        assigned: Option<Vec<burrow_kafka::offsets::TopicIdPartitions>>,
    },
}

/// Why a record gives storage nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A record with no key.
    NoKey,
    /// The key, value or a member's assignment does not decode; `field` names where.
    Undecodable {
        /// The field that could not be read (a metric label).
        field: &'static str,
    },
    /// A record type Burrow does not store (KIP-848, share, streams, transactions, unknown).
    Unsupported,
    /// Group metadata of a protocol other than `consumer` (Kafka Connect, …).
    OtherProtocol,
}

/// What the record at offset `order` of `cluster`'s offsets topic means for storage.
// Inlined: on the consumer's hot path the change is matched where it is made, with no copy.
#[inline(always)]
pub fn map_record<'a>(
    cluster: &'a str,
    key: Option<&'a [u8]>,
    value: Option<&'a [u8]>,
    order: i64,
) -> Result<GroupChange<'a>, Skip> {
    let key = key.ok_or(Skip::NoKey)?;
    let decoded = decode_record(key, value).map_err(|e| match e.kind {
        DecodeErrorKind::UnknownRecordType(_) => Skip::Unsupported,
        _ => Skip::Undecodable { field: e.field },
    })?;
    match decoded {
        OffsetsRecord::OffsetCommit { key, value: None } => Ok(GroupChange::OffsetTombstone {
            group: key.group,
            topic: key.topic,
            partition: key.partition,
        }),
        OffsetsRecord::OffsetCommit {
            key,
            value: Some(v),
        } => Ok(GroupChange::Commit(ConsumerOffsetRef {
            cluster,
            group: key.group,
            topic: key.topic,
            partition: key.partition,
            offset: v.offset,
            order,
            timestamp: v.commit_timestamp,
        })),
        OffsetsRecord::GroupMetadata { group, value: None } => {
            Ok(GroupChange::GroupTombstone { group })
        }
        OffsetsRecord::GroupMetadata {
            group,
            value: Some(v),
        } => {
            if v.protocol_type != "consumer" {
                return Err(Skip::OtherProtocol);
            }
            let mut owners = Vec::new();
            for m in &v.members {
                // As Burrow: a member whose assignment fails stops the record.
                let assignment = decode_assignment(m.assignment)
                    .map_err(|e| Skip::Undecodable { field: e.field })?;
                for tp in &assignment.partitions {
                    owners.extend(tp.partitions.iter().map(|p| Owner {
                        topic: tp.topic,
                        partition: *p,
                        host: m.client_host,
                        client_id: m.client_id,
                    }));
                }
            }
            Ok(GroupChange::Owners { group, owners })
        }
        OffsetsRecord::ConsumerGroupMember { key, value } => Ok(GroupChange::MemberMetadata {
            group: key.group,
            member: key.member,
            client: value.map(|v| (v.client_host, v.client_id)),
        }),
        OffsetsRecord::ConsumerGroupAssignment { key, value } => {
            Ok(GroupChange::MemberAssignment {
                group: key.group,
                member: key.member,
                assigned: value.map(|v| v.assigned),
            })
        }
        // Other KIP-848, share, streams and transaction records, and any added later.
        _ => Err(Skip::Unsupported),
    }
}

impl GroupChange<'_> {
    /// The group the change is about.
    pub fn group(&self) -> &str {
        match self {
            GroupChange::Commit(c) => c.group,
            GroupChange::OffsetTombstone { group, .. }
            | GroupChange::Owners { group, .. }
            | GroupChange::GroupTombstone { group }
            | GroupChange::MemberMetadata { group, .. }
            | GroupChange::MemberAssignment { group, .. } => group,
        }
    }

    /// The change as owned storage events of `cluster` (what `Storage::apply` takes).
    pub fn to_events(&self, cluster: &str) -> Vec<StorageEvent> {
        let cluster = cluster.to_string();
        match self {
            GroupChange::Commit(c) => vec![StorageEvent::ConsumerOffset(ConsumerOffsetEvent {
                cluster,
                group: c.group.to_string(),
                topic: c.topic.to_string(),
                partition: c.partition,
                offset: c.offset,
                order: c.order,
                timestamp: c.timestamp,
            })],
            GroupChange::OffsetTombstone {
                group,
                topic,
                partition,
            } => vec![StorageEvent::OffsetTombstone(OffsetTombstoneEvent {
                cluster,
                group: group.to_string(),
                topic: topic.to_string(),
                partition: *partition,
            })],
            GroupChange::Owners { group, owners } if owners.is_empty() => {
                vec![StorageEvent::ClearOwners(ClearOwnersEvent {
                    cluster,
                    group: group.to_string(),
                })]
            }
            GroupChange::Owners { group, owners } => owners
                .iter()
                .map(|o| {
                    StorageEvent::ConsumerOwner(ConsumerOwnerEvent {
                        cluster: cluster.clone(),
                        group: group.to_string(),
                        topic: o.topic.to_string(),
                        partition: o.partition,
                        owner: o.host.to_string(),
                        client_id: o.client_id.to_string(),
                    })
                })
                .collect(),
            GroupChange::GroupTombstone { group } => {
                vec![StorageEvent::DeleteGroup(DeleteGroupEvent {
                    cluster,
                    group: group.to_string(),
                    topic: None,
                })]
            }
            // Owners need the member's other record and topic names: the consumer's
            // [`crate::kip848::Members`] makes them.
            GroupChange::MemberMetadata { .. } | GroupChange::MemberAssignment { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use burrow_kafka::offsets::{
        encode_group_metadata_key, encode_offset_commit_key, encode_offset_commit_value,
        OffsetCommitKey, OffsetCommitValue,
    };

    /// An encoded offset commit of `group` (topic `t`, partition 3, committed at 1,000 ms).
    pub(crate) fn commit(group: &str, offset: i64) -> (Vec<u8>, Vec<u8>) {
        let (mut k, mut v) = (Vec::new(), Vec::new());
        encode_offset_commit_key(
            &mut k,
            &OffsetCommitKey {
                version: 1,
                group,
                topic: "t",
                partition: 3,
            },
        );
        encode_offset_commit_value(
            &mut v,
            &OffsetCommitValue {
                version: 1,
                offset,
                leader_epoch: -1,
                metadata: "",
                commit_timestamp: 1_000,
                expire_timestamp: -1,
            },
        )
        .expect("encodable");
        (k, v)
    }

    #[test]
    fn commits_and_tombstones_map_to_storage_events() {
        let (k, v) = commit("g", 5);
        let change = map_record("c", Some(&k), Some(&v), 77).unwrap();
        assert_eq!(change.group(), "g");
        let StorageEvent::ConsumerOffset(e) = &change.to_events("c")[0] else {
            panic!("{change:?}");
        };
        assert_eq!(
            (
                e.topic.as_str(),
                e.partition,
                e.offset,
                e.timestamp,
                e.order
            ),
            ("t", 3, 5, 1_000, 77)
        );
        assert!(matches!(
            map_record("c", Some(&k), None, 1),
            Ok(GroupChange::OffsetTombstone { partition: 3, .. })
        ));
        let mut g = Vec::new();
        encode_group_metadata_key(&mut g, "g");
        let tomb = map_record("c", Some(&g), None, 1).unwrap();
        assert!(matches!(
            tomb.to_events("c")[..],
            [StorageEvent::DeleteGroup(_)]
        ));
        assert_eq!(map_record("c", None, Some(&v), 1), Err(Skip::NoKey));
    }

    #[test]
    fn truncated_records_are_skipped_with_their_field() {
        let (k, v) = commit("g", 5);
        for cut in 0..k.len() {
            let r = map_record("c", Some(&k[..cut]), Some(&v), 1);
            assert!(matches!(r, Err(Skip::Undecodable { .. })), "{cut}: {r:?}");
        }
        for cut in 1..v.len() {
            let r = map_record("c", Some(&k), Some(&v[..cut]), 1);
            assert!(matches!(r, Err(Skip::Undecodable { .. })), "{cut}: {r:?}");
        }
    }
}
