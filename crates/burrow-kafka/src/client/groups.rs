//! The group APIs: FindCoordinator, ListGroups, DescribeGroups, ConsumerGroupDescribe (KIP-848
//! groups), OffsetFetch.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
use kafka_protocol::messages::{
    ConsumerGroupDescribeRequest, DescribeGroupsRequest, FindCoordinatorRequest, GroupId,
    ListGroupsRequest, OffsetFetchRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use tokio::task::JoinSet;

use super::{server_err, str_bytes, BrokerInfo, KafkaClient, OFFSET_FETCH_MAX};
use crate::error::{KafkaError, Result};
use crate::offsets;

/// A group as ListGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedGroup {
    /// Group id.
    pub group_id: String,
    /// `consumer`, `connect`, or empty for groups that only commit offsets.
    pub protocol_type: String,
    /// State (ListGroups v4+), else empty.
    pub state: String,
    /// Group type (ListGroups v5+): `classic`, `consumer` (KIP-848), `share`, `streams`; empty
    /// from brokers before (all their groups are classic).
    pub group_type: String,
    /// Coordinator that listed it.
    pub coordinator: i32,
}

/// A member as DescribeGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    /// Member id.
    pub member_id: String,
    /// Client id.
    pub client_id: String,
    /// Client host.
    pub client_host: String,
    /// Assigned partitions per topic (decoded from the consumer protocol).
    pub assignment: BTreeMap<String, Vec<i32>>,
}

/// A group as DescribeGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group id.
    pub group_id: String,
    /// State (`Stable`, `Empty`, `Dead`, …).
    pub state: String,
    /// Protocol type.
    pub protocol_type: String,
    /// Chosen assignor.
    pub protocol: String,
    /// Members.
    pub members: Vec<MemberDescription>,
}

/// A committed offset returned by OffsetFetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Committed offset (-1 = none).
    pub offset: i64,
    /// Commit metadata.
    pub metadata: String,
}

/// One partition of an OffsetFetch response (its two layouts, per group from v8 and top-level
/// before, carry the same fields).
fn committed(
    topic: &TopicName,
    partition: i32,
    offset: i64,
    metadata: &Option<StrBytes>,
) -> CommittedOffset {
    CommittedOffset {
        topic: topic.0.to_string(),
        partition,
        offset,
        metadata: metadata.as_ref().map(|m| m.to_string()).unwrap_or_default(),
    }
}

impl KafkaClient {
    /// The coordinator broker id of a group.
    pub async fn find_coordinator(&self, group: &str) -> Result<i32> {
        let conn = self.any_broker().await?;
        let version = conn.version::<FindCoordinatorRequest>(i16::MAX)?;
        let mut req = FindCoordinatorRequest::default();
        req.key_type = 0;
        if version >= 4 {
            req.coordinator_keys = vec![str_bytes(group)];
        } else {
            req.key = str_bytes(group);
        }
        let resp = self.request(&conn, &req, version).await?;
        let (code, msg, id, host, port) = if version >= 4 {
            let c = resp
                .coordinators
                .into_iter()
                .next()
                .ok_or_else(|| KafkaError::Protocol {
                    broker: conn.addr().to_string(),
                    api: "FindCoordinator",
                    message: "empty coordinator list".into(),
                })?;
            (c.error_code, c.error_message, c.node_id.0, c.host, c.port)
        } else {
            (
                resp.error_code,
                resp.error_message,
                resp.node_id.0,
                resp.host,
                resp.port,
            )
        };
        if code != 0 {
            return Err(server_err("FindCoordinator", code, msg.as_ref()));
        }
        let known = self.metadata().brokers.contains_key(&id);
        if !known {
            // A coordinator the metadata does not list yet: remember its address.
            if let Ok(mut m) = self.inner.metadata.write() {
                let mut md = (**m).clone();
                md.brokers.insert(
                    id,
                    BrokerInfo {
                        id,
                        addr: format!("{}:{port}", host.as_str()),
                        rack: None,
                    },
                );
                *m = Arc::new(md);
            }
        }
        Ok(id)
    }

    /// Every group of the cluster: ListGroups on every broker, concurrently.
    pub async fn list_groups(&self) -> Result<Vec<ListedGroup>> {
        let ids: Vec<i32> = self.metadata().brokers.keys().copied().collect();
        let mut tasks = JoinSet::new();
        for id in ids {
            let client = self.clone();
            tasks.spawn(async move { (id, client.list_groups_on(id).await) });
        }
        let mut out = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let Ok((_, res)) = joined else { continue };
            out.extend(res?);
        }
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        Ok(out)
    }

    async fn list_groups_on(&self, id: i32) -> Result<Vec<ListedGroup>> {
        let conn = self.broker(id).await?;
        let version = conn.version::<ListGroupsRequest>(5)?;
        let resp = self
            .request(&conn, &ListGroupsRequest::default(), version)
            .await?;
        if resp.error_code != 0 {
            return Err(KafkaError::server("ListGroups", resp.error_code, None));
        }
        Ok(resp
            .groups
            .into_iter()
            .map(|g| ListedGroup {
                group_id: g.group_id.0.to_string(),
                protocol_type: g.protocol_type.to_string(),
                state: g.group_state.to_string(),
                group_type: g.group_type.to_string(),
                coordinator: id,
            })
            .collect())
    }

    /// DescribeGroups for one group, at its coordinator.
    pub async fn describe_group(&self, group: &str) -> Result<GroupDescription> {
        let coordinator = self.find_coordinator(group).await?;
        self.describe_groups_at(coordinator, &[group.to_string()])
            .await?
            .pop()
            .ok_or_else(|| KafkaError::Protocol {
                broker: format!("broker {coordinator}"),
                api: "DescribeGroups",
                message: "empty group list".into(),
            })?
    }

    /// DescribeGroups for several groups at their coordinator (as ListGroups reports it), in
    /// one request: each group's description, or why there is none, in the order asked.
    pub async fn describe_groups_at(
        &self,
        coordinator: i32,
        groups: &[String],
    ) -> Result<Vec<Result<GroupDescription>>> {
        let conn = self.broker(coordinator).await?;
        let version = conn.version::<DescribeGroupsRequest>(i16::MAX)?;
        let mut req = DescribeGroupsRequest::default();
        req.groups = groups.iter().map(|g| GroupId(str_bytes(g))).collect();
        let resp = self.request(&conn, &req, version).await?;
        Ok(resp.groups.into_iter().map(described).collect())
    }

    /// ConsumerGroupDescribe for several KIP-848 groups (group type `consumer`) at their
    /// coordinator, in one request: each group's description, or why there is none, in the order
    /// asked. Their members' assignments name topics by name and id; a partition whose topic the
    /// coordinator does not name is left out.
    pub async fn describe_consumer_groups_at(
        &self,
        coordinator: i32,
        groups: &[String],
    ) -> Result<Vec<Result<GroupDescription>>> {
        let conn = self.broker(coordinator).await?;
        let version = conn.version::<ConsumerGroupDescribeRequest>(i16::MAX)?;
        let mut req = ConsumerGroupDescribeRequest::default();
        req.group_ids = groups.iter().map(|g| GroupId(str_bytes(g))).collect();
        let resp = self.request(&conn, &req, version).await?;
        Ok(resp
            .groups
            .into_iter()
            .map(consumer_group_described)
            .collect())
    }

    /// Committed offsets of several groups (all their partitions). Groups are sent to their
    /// coordinators; a broker speaking OffsetFetch v8+ gets all its groups in one request.
    pub async fn offset_fetch(
        &self,
        groups: &[&str],
    ) -> BTreeMap<String, Result<Vec<CommittedOffset>>> {
        let mut out = BTreeMap::new();
        let mut by_coord: BTreeMap<i32, Vec<String>> = BTreeMap::new();
        for g in groups {
            match self.find_coordinator(g).await {
                Ok(c) => by_coord.entry(c).or_default().push(g.to_string()),
                Err(e) => {
                    out.insert(g.to_string(), Err(e));
                }
            }
        }
        for (coord, groups) in by_coord {
            match self.offset_fetch_at(coord, &groups).await {
                Ok(found) => out.extend(found),
                Err(e) => {
                    let source = Arc::new(e);
                    for g in groups {
                        out.insert(
                            g,
                            Err(KafkaError::RequestFailed {
                                api: "OffsetFetch",
                                broker_id: coord,
                                cause: source.clone(),
                            }),
                        );
                    }
                }
            }
        }
        out
    }

    /// Committed offsets of several groups at their coordinator (as ListGroups reports it):
    /// one request from OffsetFetch v8, one per group before.
    pub async fn offset_fetch_at(
        &self,
        coord: i32,
        groups: &[String],
    ) -> Result<BTreeMap<String, Result<Vec<CommittedOffset>>>> {
        let conn = self.broker(coord).await?;
        let version = conn.version::<OffsetFetchRequest>(OFFSET_FETCH_MAX)?;
        let mut out = BTreeMap::new();
        if version >= 8 {
            let mut req = OffsetFetchRequest::default();
            req.groups = groups
                .iter()
                .map(|g| {
                    let mut rg = OffsetFetchRequestGroup::default();
                    rg.group_id = GroupId(str_bytes(g));
                    rg.member_epoch = -1;
                    rg.topics = None;
                    rg
                })
                .collect();
            let resp = self.request(&conn, &req, version).await?;
            for g in resp.groups {
                let res = if g.error_code != 0 {
                    Err(KafkaError::server("OffsetFetch", g.error_code, None))
                } else {
                    Ok(g.topics
                        .iter()
                        .flat_map(|t| {
                            t.partitions.iter().map(|p| {
                                committed(
                                    &t.name,
                                    p.partition_index,
                                    p.committed_offset,
                                    &p.metadata,
                                )
                            })
                        })
                        .collect())
                };
                out.insert(g.group_id.0.to_string(), res);
            }
        } else {
            if version < 2 {
                // "All topics" (a null topic list) exists from v2 (Kafka 0.10.2).
                return Err(KafkaError::UnsupportedApi {
                    broker: conn.addr().to_string(),
                    api: "OffsetFetch",
                    broker_versions: format!("..{version}"),
                });
            }
            for g in groups {
                let mut req = OffsetFetchRequest::default();
                req.group_id = GroupId(str_bytes(g));
                req.topics = None; // all topics
                let resp = self.request(&conn, &req, version).await?;
                let res = if resp.error_code != 0 {
                    Err(KafkaError::server("OffsetFetch", resp.error_code, None))
                } else {
                    Ok(resp
                        .topics
                        .iter()
                        .flat_map(|t| {
                            t.partitions.iter().map(|p| {
                                committed(
                                    &t.name,
                                    p.partition_index,
                                    p.committed_offset,
                                    &p.metadata,
                                )
                            })
                        })
                        .collect())
                };
                out.insert(g.clone(), res);
            }
        }
        Ok(out)
    }
}

/// One group of a DescribeGroups answer.
fn described(
    g: kafka_protocol::messages::describe_groups_response::DescribedGroup,
) -> Result<GroupDescription> {
    if g.error_code != 0 {
        return Err(server_err(
            "DescribeGroups",
            g.error_code,
            g.error_message.as_ref(),
        ));
    }
    let members = g
        .members
        .into_iter()
        .map(|m| {
            let assignment = offsets::decode_assignment(&m.member_assignment)
                .map(|a| {
                    a.partitions
                        .into_iter()
                        .map(|tp| (tp.topic.to_string(), tp.partitions))
                        .collect()
                })
                .unwrap_or_default();
            MemberDescription {
                member_id: m.member_id.to_string(),
                client_id: m.client_id.to_string(),
                client_host: m.client_host.to_string(),
                assignment,
            }
        })
        .collect();
    Ok(GroupDescription {
        group_id: g.group_id.0.to_string(),
        state: g.group_state.to_string(),
        protocol_type: g.protocol_type.to_string(),
        protocol: g.protocol_data.to_string(),
        members,
    })
}

/// One group of a ConsumerGroupDescribe response, in DescribeGroups' terms (the protocol type of
/// a KIP-848 group is `consumer`; its assignor stands for the protocol).
fn consumer_group_described(
    g: kafka_protocol::messages::consumer_group_describe_response::DescribedGroup,
) -> Result<GroupDescription> {
    if g.error_code != 0 {
        return Err(server_err(
            "ConsumerGroupDescribe",
            g.error_code,
            g.error_message.as_ref(),
        ));
    }
    let members = g
        .members
        .into_iter()
        .map(|m| {
            let mut assignment: BTreeMap<String, Vec<i32>> = BTreeMap::new();
            for tp in m.assignment.topic_partitions {
                if !tp.topic_name.0.is_empty() {
                    assignment
                        .entry(tp.topic_name.0.to_string())
                        .or_default()
                        .extend(tp.partitions);
                }
            }
            MemberDescription {
                member_id: m.member_id.to_string(),
                client_id: m.client_id.to_string(),
                client_host: m.client_host.to_string(),
                assignment,
            }
        })
        .collect();
    Ok(GroupDescription {
        group_id: g.group_id.0.to_string(),
        state: g.group_state.to_string(),
        protocol_type: "consumer".to_string(),
        protocol: g.assignor_name.to_string(),
        members,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TolerantDecode;
    use bytes::{BufMut, Bytes, BytesMut};
    use kafka_protocol::messages::ConsumerGroupDescribeResponse;

    /// Compact string: length + 1 as an unsigned varint (all lengths here fit in one byte).
    fn compact(b: &mut BytesMut, text: &str) {
        b.put_u8(text.len() as u8 + 1);
        b.put_slice(text.as_bytes());
    }

    /// A member's assignment (Kafka's `Assignment` struct): one topic by id and name.
    fn assignment(b: &mut BytesMut, topic: &str, partitions: &[i32]) {
        b.put_u8(2); // TopicPartitions: one
        b.put_u128(0x1234_5678_9abc_def0_0fed_cba9_8765_4321); // TopicId
        compact(b, topic);
        b.put_u8(partitions.len() as u8 + 1);
        for p in partitions {
            b.put_i32(*p);
        }
        b.put_u8(0); // topic tags
        b.put_u8(0); // assignment tags
    }

    /// ConsumerGroupDescribeResponse v0 as Kafka's message definition lays it out: one stable
    /// group, one member owning partitions 0 and 2 of `orders`.
    fn golden_v0() -> Bytes {
        let mut b = BytesMut::new();
        b.put_i32(0); // ThrottleTimeMs
        b.put_u8(2); // Groups: one
        b.put_i16(0); // ErrorCode
        b.put_u8(0); // ErrorMessage: null
        compact(&mut b, "billing"); // GroupId
        compact(&mut b, "Stable"); // GroupState
        b.put_i32(3); // GroupEpoch
        b.put_i32(3); // AssignmentEpoch
        compact(&mut b, "uniform"); // AssignorName
        b.put_u8(2); // Members: one
        compact(&mut b, "m-1"); // MemberId
        b.put_u8(0); // InstanceId: null
        b.put_u8(0); // RackId: null
        b.put_i32(3); // MemberEpoch
        compact(&mut b, "c-1"); // ClientId
        compact(&mut b, "/10.0.0.7"); // ClientHost
        b.put_u8(2); // SubscribedTopicNames: one
        compact(&mut b, "orders");
        b.put_u8(0); // SubscribedTopicRegex: null
        assignment(&mut b, "orders", &[0, 2]); // Assignment
        assignment(&mut b, "orders", &[0, 2]); // TargetAssignment
        b.put_u8(0); // member tags
        b.put_i32(i32::MIN); // AuthorizedOperations
        b.put_u8(0); // group tags
        b.put_u8(0); // response tags
        b.freeze()
    }

    #[test]
    fn a_consumer_group_describe_answer_gives_owners_as_describe_groups_does() {
        let mut bytes = golden_v0();
        let resp = ConsumerGroupDescribeResponse::decode_tolerant(&mut bytes, 0).unwrap();
        assert!(bytes.is_empty(), "{} bytes left over", bytes.len());
        let described: Vec<_> = resp
            .groups
            .into_iter()
            .map(consumer_group_described)
            .collect();
        let g = described.into_iter().next().unwrap().unwrap();
        assert_eq!(g.group_id, "billing");
        assert_eq!(
            (g.state.as_str(), g.protocol_type.as_str()),
            ("Stable", "consumer")
        );
        assert_eq!(
            g.members,
            [MemberDescription {
                member_id: "m-1".into(),
                client_id: "c-1".into(),
                client_host: "/10.0.0.7".into(),
                assignment: [("orders".to_string(), vec![0, 2])].into(),
            }]
        );
    }

    #[test]
    fn a_group_the_coordinator_does_not_know_is_an_error_for_that_group() {
        let mut g =
            kafka_protocol::messages::consumer_group_describe_response::DescribedGroup::default();
        g.error_code = 69; // GROUP_ID_NOT_FOUND
        assert!(consumer_group_described(g).is_err());
    }
}
