//! Owners of KIP-848 consumer groups (Kafka 4's consumer group protocol). A member's client
//! host and id (record type 5) and its partitions by topic id (record type 8) arrive as separate
//! records; [`Members`] keeps both per member and gives the group's owners whenever either
//! changes, a tombstone of either removing what it named.

use std::collections::{BTreeMap, HashMap};

use burrow_kafka::offsets::{TopicId, TopicIdPartitions};

use crate::mapping::GroupChange;

/// What is known of one member.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Member {
    client: Option<(String, String)>,
    assigned: Vec<TopicIdPartitions>,
}

/// One owner of a group partition, its topic still named by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerById {
    /// The topic's id.
    pub topic_id: TopicId,
    /// Partition.
    pub partition: i32,
    /// The member's client host (Burrow's owner).
    pub host: String,
    /// The member's client id.
    pub client_id: String,
}

/// The members of every KIP-848 group seen, per group.
#[derive(Debug, Default)]
pub struct Members {
    groups: HashMap<String, BTreeMap<String, Member>>,
}

impl Members {
    /// Applies a member change; the group's owners after it (every partition of a member whose
    /// client is known). `None` for changes that are not about KIP-848 members.
    pub fn apply(&mut self, change: &GroupChange<'_>) -> Option<Vec<OwnerById>> {
        let (group, member) = match change {
            GroupChange::MemberMetadata { group, member, .. }
            | GroupChange::MemberAssignment { group, member, .. } => (*group, *member),
            _ => return None,
        };
        let members = self.groups.entry(group.to_string()).or_default();
        let entry = members.entry(member.to_string()).or_default();
        match change {
            GroupChange::MemberMetadata { client, .. } => {
                entry.client = client.map(|(host, id)| (host.to_string(), id.to_string()));
            }
            GroupChange::MemberAssignment { assigned, .. } => {
                entry.assigned = assigned.clone().unwrap_or_default();
            }
            _ => {}
        }
        if entry.client.is_none() && entry.assigned.is_empty() {
            members.remove(member);
        }
        let owners = owners(members);
        if members.is_empty() {
            self.groups.remove(group);
        }
        Some(owners)
    }
}

fn owners(members: &BTreeMap<String, Member>) -> Vec<OwnerById> {
    let mut out = Vec::new();
    for m in members.values() {
        let Some((host, client_id)) = &m.client else {
            continue;
        };
        for t in &m.assigned {
            out.extend(t.partitions.iter().map(|&partition| OwnerById {
                topic_id: t.topic_id,
                partition,
                host: host.clone(),
                client_id: client_id.clone(),
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: TopicId = TopicId([7; 16]);

    fn assignment<'a>(member: &'a str, partitions: Option<Vec<i32>>) -> GroupChange<'a> {
        GroupChange::MemberAssignment {
            group: "g",
            member,
            assigned: partitions.map(|p| {
                vec![TopicIdPartitions {
                    topic_id: T,
                    partitions: p,
                }]
            }),
        }
    }

    fn metadata<'a>(member: &'a str, client: Option<(&'a str, &'a str)>) -> GroupChange<'a> {
        GroupChange::MemberMetadata {
            group: "g",
            member,
            client,
        }
    }

    fn parts(owners: &[OwnerById]) -> Vec<(i32, &str)> {
        owners
            .iter()
            .map(|o| (o.partition, o.host.as_str()))
            .collect()
    }

    #[test]
    fn owners_need_both_records_in_either_order() {
        let mut m = Members::default();
        assert_eq!(
            parts(&m.apply(&assignment("m1", Some(vec![0, 1]))).unwrap()),
            []
        );
        let owners = m.apply(&metadata("m1", Some(("/10.0.0.1", "c1")))).unwrap();
        assert_eq!(parts(&owners), [(0, "/10.0.0.1"), (1, "/10.0.0.1")]);
        assert_eq!(owners[0].client_id, "c1");
        let owners = m.apply(&metadata("m2", Some(("/10.0.0.2", "c2")))).unwrap();
        assert_eq!(owners.len(), 2);
        let owners = m.apply(&assignment("m2", Some(vec![2]))).unwrap();
        assert_eq!(
            parts(&owners),
            [(0, "/10.0.0.1"), (1, "/10.0.0.1"), (2, "/10.0.0.2")]
        );
    }

    #[test]
    fn tombstones_remove_what_they_name() {
        let mut m = Members::default();
        m.apply(&metadata("m1", Some(("/h1", "c1"))));
        m.apply(&assignment("m1", Some(vec![0])));
        m.apply(&metadata("m2", Some(("/h2", "c2"))));
        m.apply(&assignment("m2", Some(vec![1])));
        // m1's assignment removed: it owns nothing; m2 still owns 1.
        assert_eq!(
            parts(&m.apply(&assignment("m1", None)).unwrap()),
            [(1, "/h2")]
        );
        // m2 left.
        assert_eq!(parts(&m.apply(&metadata("m2", None)).unwrap()), []);
        m.apply(&metadata("m1", None));
        m.apply(&assignment("m2", None));
        assert!(m.groups.is_empty(), "{:?}", m.groups);
    }

    #[test]
    fn other_changes_are_not_members() {
        let mut m = Members::default();
        assert!(m
            .apply(&GroupChange::GroupTombstone { group: "g" })
            .is_none());
    }
}
