//! Every response type the client decodes, at every flexible version, with arbitrary tagged
//! fields added at every flexible level (tags unknown to the protocol and tags known only for
//! other versions of the message), decodes to the same values as without them.

use std::collections::BTreeMap;

use burrow_kafka::TolerantDecode;
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::{
    ApiVersion, FinalizedFeatureKey, SupportedFeatureKey,
};
use kafka_protocol::messages::consumer_group_describe_response as cgd;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, EpochEndOffset, FetchableTopicResponse, LeaderIdAndEpoch, NodeEndpoint,
    PartitionData, SnapshotId,
};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartitions, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{
    produce_response, ApiVersionsResponse, BrokerId, ConsumerGroupDescribeResponse,
    CreateTopicsResponse, DescribeGroupsResponse, FetchResponse, FindCoordinatorResponse, GroupId,
    ListGroupsResponse, ListOffsetsResponse, MetadataResponse, OffsetCommitResponse,
    OffsetFetchResponse, ProduceResponse, ProducerId, SaslAuthenticateResponse, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, Message, StrBytes};
use proptest::prelude::*;

type Tags = BTreeMap<i32, Bytes>;

/// Visits the tagged-field map of every struct in a response, naming its level.
trait Levels {
    /// The first version at which the response is flexible.
    const FLEXIBLE: i16;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags));
}

fn s(text: &'static str) -> StrBytes {
    StrBytes::from_static_str(text)
}

fn topic_id() -> uuid::Uuid {
    uuid::Uuid::from_u128(0x1234_5678_9abc_def0_0fed_cba9_8765_4321)
}

/// Tags defined at a level from a version on (Kafka's message definitions); any other tag may
/// be added there, including these below their version.
fn defined_tags(level: &str, version: i16) -> &'static [i32] {
    match level {
        "api_versions" => &[0, 1, 2, 3],
        "fetch" if version >= 16 => &[0],
        "fetch.partition" => &[0, 1, 2],
        "produce" | "produce.partition" if version >= 10 => &[0],
        "create_topics.topic" => &[0],
        _ => &[],
    }
}

fn encode<T: Encodable>(value: &T, version: i16) -> Bytes {
    let mut buf = BytesMut::new();
    value
        .encode(&mut buf, version)
        .unwrap_or_else(|e| panic!("encoding v{version}: {e}"));
    buf.freeze()
}

/// Tags a level defines at some version (the ones a decoder may refuse at the others).
fn defined_somewhere(level: &str) -> &'static [i32] {
    defined_tags(level, i16::MAX)
}

/// What [`add_tags`] did: the top level's tags, and the renames to make in the encoded bytes.
struct Injected {
    top: Tags,
    renames: Vec<Rename>,
}

/// kafka-protocol's encoder will not write an unknown tag whose number it defines for the
/// message (it counts the field but skips it), so such a tag is encoded under a stand-in
/// number with the same one-byte varint and renamed in the bytes, found by a marker that
/// starts its value.
struct Rename {
    stand_in: u8,
    tag: u8,
    marker: [u8; 8],
}

const STAND_IN: i32 = 100;
/// Starts a renamed tag's value; the last two bytes number it.
const MARKER: [u8; 8] = *b"TAG\xf1\xf2\xf3\0\0";

/// Adds `pool`'s tag sets to every level of `response` (cycling through the pool), skipping
/// tags the level defines at `version`.
fn add_tags<T: Levels>(response: &mut T, version: i16, pool: &[Vec<(u32, Vec<u8>)>]) -> Injected {
    let mut next = pool.iter().cycle();
    let mut injected = Injected {
        top: Tags::new(),
        renames: Vec::new(),
    };
    let mut first = true;
    response.levels(&mut |level, tags| {
        for (tag, value) in next.next().into_iter().flatten() {
            let tag = *tag as i32;
            // A tag the level defines at this version is not arbitrary; a tag already added
            // here would replace the first (and its stand-in's marker).
            if defined_tags(level, version).contains(&tag)
                || tags.contains_key(&tag)
                || tags.contains_key(&(STAND_IN + tag))
            {
                continue;
            }
            let (key, value) = if defined_somewhere(level).contains(&tag) {
                let n = injected.renames.len() as u16;
                let mut marker = MARKER;
                marker[6..].copy_from_slice(&n.to_be_bytes());
                injected.renames.push(Rename {
                    stand_in: (STAND_IN + tag) as u8,
                    tag: tag as u8,
                    marker,
                });
                (STAND_IN + tag, [&marker[..], value].concat())
            } else {
                (tag, value.clone())
            };
            let value = Bytes::from(value);
            if first {
                injected.top.insert(tag, value.clone());
            }
            tags.insert(key, value);
        }
        first = false;
    });
    injected
}

/// Gives renamed tags their real numbers in the encoded bytes.
fn rename_tags(bytes: Bytes, renames: &[Rename]) -> Bytes {
    let mut bytes = BytesMut::from(&bytes[..]);
    for rename in renames {
        let at = bytes
            .windows(rename.marker.len())
            .position(|w| w == rename.marker)
            .expect("marker encoded");
        // stand-in tag, one-byte size (values are short), marker
        assert_eq!(bytes[at - 2], rename.stand_in);
        bytes[at - 2] = rename.tag;
    }
    bytes.freeze()
}

fn strip_tags<T: Levels>(response: &mut T) {
    response.levels(&mut |_, tags| tags.clear());
}

/// The property: with tags added, the tolerant decoder yields what the generated decoder
/// yields without them, and keeps the added top-level tags as unknown.
fn check<T>(sample: impl Fn(i16) -> T, pool: &[Vec<(u32, Vec<u8>)>]) -> Result<(), TestCaseError>
where
    T: Levels
        + Encodable
        + Decodable
        + TolerantDecode
        + Message
        + PartialEq
        + std::fmt::Debug
        + 'static,
{
    for version in T::FLEXIBLE..=T::VERSIONS.max {
        let plain = sample(version);
        let expected = T::decode(&mut encode(&plain, version), version).expect("sample decodes");
        let mut tagged = sample(version);
        let injected = add_tags(&mut tagged, version, pool);
        let mut bytes = rename_tags(encode(&tagged, version), &injected.renames);
        let mut decoded = T::decode_tolerant(&mut bytes, version)
            .map_err(|e| TestCaseError::fail(format!("v{version}: {e}")))?;
        prop_assert!(bytes.is_empty(), "v{version}: {} bytes left", bytes.len());
        let mut kept = None;
        decoded.levels(&mut |_, tags| {
            kept.get_or_insert_with(|| tags.clone());
        });
        prop_assert_eq!(
            kept.unwrap_or_default(),
            injected.top,
            "v{} top-level tags",
            version
        );
        strip_tags(&mut decoded);
        prop_assert_eq!(&decoded, &expected, "v{}", version);
    }
    Ok(())
}

fn tag_sets() -> impl Strategy<Value = Vec<Vec<(u32, Vec<u8>)>>> {
    let tag = prop_oneof![0u32..8, 8u32..200, Just(1 << 20)];
    let field = (tag, prop::collection::vec(any::<u8>(), 0..12));
    prop::collection::vec(prop::collection::vec(field, 0..3), 1..24)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn api_versions(pool in tag_sets()) { check(api_versions_sample, &pool)?; }
    #[test]
    fn metadata(pool in tag_sets()) { check(metadata_sample, &pool)?; }
    #[test]
    fn list_offsets(pool in tag_sets()) { check(list_offsets_sample, &pool)?; }
    #[test]
    fn find_coordinator(pool in tag_sets()) { check(find_coordinator_sample, &pool)?; }
    #[test]
    fn offset_fetch(pool in tag_sets()) { check(offset_fetch_sample, &pool)?; }
    #[test]
    fn offset_commit(pool in tag_sets()) { check(offset_commit_sample, &pool)?; }
    #[test]
    fn describe_groups(pool in tag_sets()) { check(describe_groups_sample, &pool)?; }
    #[test]
    fn consumer_group_describe(pool in tag_sets()) { check(consumer_group_describe_sample, &pool)?; }
    #[test]
    fn list_groups(pool in tag_sets()) { check(list_groups_sample, &pool)?; }
    #[test]
    fn create_topics(pool in tag_sets()) { check(create_topics_sample, &pool)?; }
    #[test]
    fn sasl_authenticate(pool in tag_sets()) { check(sasl_authenticate_sample, &pool)?; }
    #[test]
    fn fetch(pool in tag_sets()) { check(fetch_sample, &pool)?; }
    #[test]
    fn produce(pool in tag_sets()) { check(produce_sample, &pool)?; }
}

/// The case tansu 0.6.0 sends: Fetch v12 with tag 0 (NodeEndpoints, defined from v16) at the
/// top level. The generated decoder refuses it; the tolerant one keeps it as unknown.
#[test]
fn fetch_v12_with_node_endpoints_tag_is_read() {
    let mut response = fetch_sample(12);
    let pool = [vec![(0, vec![1, 0])]];
    let injected = add_tags(&mut response, 12, &pool[..]);
    strip_tags(&mut response);
    response.unknown_tagged_fields = [(
        STAND_IN,
        Bytes::from([&injected.renames[0].marker[..], &[1, 0]].concat()),
    )]
    .into();
    let bytes = rename_tags(encode(&response, 12), &injected.renames[..1]);
    assert!(FetchResponse::decode(&mut bytes.clone(), 12).is_err());
    let decoded = FetchResponse::decode_tolerant(&mut bytes.clone(), 12).unwrap();
    assert_eq!(decoded.responses, fetch_sample(12).responses);
    assert_eq!(decoded.unknown_tagged_fields.len(), 1);
}

/// A defined tagged field whose bytes are not what this version defines is kept as unknown
/// instead of shifting every byte after it.
#[test]
fn a_defined_tag_with_other_contents_is_kept_unknown() {
    let mut response = fetch_sample(16);
    response.node_endpoints.clear();
    let marker = MARKER;
    let value = [&marker[..], &[0xff, 0xff, 0xff]].concat();
    response
        .unknown_tagged_fields
        .insert(STAND_IN, Bytes::from(value));
    let renames = [Rename {
        stand_in: STAND_IN as u8,
        tag: 0,
        marker,
    }];
    let mut bytes = rename_tags(encode(&response, 16), &renames);
    let decoded = FetchResponse::decode_tolerant(&mut bytes, 16).unwrap();
    assert!(decoded.node_endpoints.is_empty());
    assert_eq!(decoded.responses, fetch_sample(16).responses);
    assert_eq!(decoded.unknown_tagged_fields.len(), 1);
}

fn api_versions_sample(_version: i16) -> ApiVersionsResponse {
    ApiVersionsResponse::default()
        .with_api_keys(vec![
            ApiVersion::default().with_api_key(1).with_max_version(12),
            ApiVersion::default().with_api_key(18).with_max_version(4),
        ])
        .with_throttle_time_ms(5)
        .with_supported_features(vec![SupportedFeatureKey::default()
            .with_name(s("metadata.version"))
            .with_max_version(20)])
        .with_finalized_features_epoch(3)
        .with_finalized_features(vec![FinalizedFeatureKey::default()
            .with_name(s("metadata.version"))
            .with_max_version_level(20)])
}

impl Levels for ApiVersionsResponse {
    const FLEXIBLE: i16 = 3;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags)) {
        visit("api_versions", &mut self.unknown_tagged_fields);
        for key in &mut self.api_keys {
            visit("api_versions.key", &mut key.unknown_tagged_fields);
        }
        for f in &mut self.supported_features {
            visit("api_versions.supported", &mut f.unknown_tagged_fields);
        }
        for f in &mut self.finalized_features {
            visit("api_versions.finalized", &mut f.unknown_tagged_fields);
        }
    }
}

fn metadata_sample(version: i16) -> MetadataResponse {
    let mut topic = MetadataResponseTopic::default()
        .with_name(Some(TopicName(s("orders"))))
        .with_partitions(vec![MetadataResponsePartition::default()
            .with_partition_index(2)
            .with_leader_id(BrokerId(1))
            .with_leader_epoch(4)
            .with_replica_nodes(vec![BrokerId(1), BrokerId(2)])
            .with_isr_nodes(vec![BrokerId(1)])]);
    if version >= 10 {
        topic.topic_id = topic_id();
    }
    let mut response = MetadataResponse::default()
        .with_brokers(vec![MetadataResponseBroker::default()
            .with_node_id(BrokerId(1))
            .with_host(s("b1"))
            .with_port(9092)
            .with_rack(Some(s("r1")))])
        .with_cluster_id(Some(s("c")))
        .with_controller_id(BrokerId(1))
        .with_topics(vec![topic]);
    if version >= 13 {
        response.error_code = 0;
    }
    response
}

impl Levels for MetadataResponse {
    const FLEXIBLE: i16 = 9;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags)) {
        visit("metadata", &mut self.unknown_tagged_fields);
        for b in &mut self.brokers {
            visit("metadata.broker", &mut b.unknown_tagged_fields);
        }
        for t in &mut self.topics {
            visit("metadata.topic", &mut t.unknown_tagged_fields);
            for p in &mut t.partitions {
                visit("metadata.partition", &mut p.unknown_tagged_fields);
            }
        }
    }
}

fn list_offsets_sample(_version: i16) -> ListOffsetsResponse {
    ListOffsetsResponse::default().with_topics(vec![ListOffsetsTopicResponse::default()
        .with_name(TopicName(s("orders")))
        .with_partitions(vec![
            ListOffsetsPartitionResponse::default()
                .with_partition_index(0)
                .with_offset(42)
                .with_leader_epoch(3),
            ListOffsetsPartitionResponse::default()
                .with_partition_index(1)
                .with_error_code(6),
        ])])
}

impl Levels for ListOffsetsResponse {
    const FLEXIBLE: i16 = 6;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags)) {
        visit("list_offsets", &mut self.unknown_tagged_fields);
        for t in &mut self.topics {
            visit("list_offsets.topic", &mut t.unknown_tagged_fields);
            for p in &mut t.partitions {
                visit("list_offsets.partition", &mut p.unknown_tagged_fields);
            }
        }
    }
}

fn find_coordinator_sample(version: i16) -> FindCoordinatorResponse {
    if version < 4 {
        return FindCoordinatorResponse::default()
            .with_node_id(BrokerId(2))
            .with_host(s("b2"))
            .with_port(9093);
    }
    FindCoordinatorResponse::default().with_coordinators(vec![Coordinator::default()
        .with_key(s("group-a"))
        .with_node_id(BrokerId(2))
        .with_host(s("b2"))
        .with_port(9093)])
}

impl Levels for FindCoordinatorResponse {
    const FLEXIBLE: i16 = 3;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags)) {
        visit("find_coordinator", &mut self.unknown_tagged_fields);
        for c in &mut self.coordinators {
            visit("find_coordinator.coordinator", &mut c.unknown_tagged_fields);
        }
    }
}

fn offset_fetch_sample(version: i16) -> OffsetFetchResponse {
    use kafka_protocol::messages::offset_fetch_response::{
        OffsetFetchResponsePartition, OffsetFetchResponseTopic,
    };
    if version < 8 {
        return OffsetFetchResponse::default().with_topics(vec![
            OffsetFetchResponseTopic::default()
                .with_name(TopicName(s("orders")))
                .with_partitions(vec![OffsetFetchResponsePartition::default()
                    .with_partition_index(1)
                    .with_committed_offset(77)
                    .with_metadata(Some(s("m")))]),
        ]);
    }
    let mut topic = OffsetFetchResponseTopics::default().with_partitions(vec![
        OffsetFetchResponsePartitions::default()
            .with_partition_index(1)
            .with_committed_offset(77)
            .with_metadata(Some(s("m"))),
    ]);
    if version >= 10 {
        topic.topic_id = topic_id();
    } else {
        topic.name = TopicName(s("orders"));
    }
    OffsetFetchResponse::default().with_groups(vec![OffsetFetchResponseGroup::default()
        .with_group_id(GroupId(s("group-a")))
        .with_topics(vec![topic])])
}

impl Levels for OffsetFetchResponse {
    const FLEXIBLE: i16 = 6;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags)) {
        visit("offset_fetch", &mut self.unknown_tagged_fields);
        for t in &mut self.topics {
            visit("offset_fetch.topic", &mut t.unknown_tagged_fields);
            for p in &mut t.partitions {
                visit("offset_fetch.partition", &mut p.unknown_tagged_fields);
            }
        }
        for g in &mut self.groups {
            visit("offset_fetch.group", &mut g.unknown_tagged_fields);
            for t in &mut g.topics {
                visit("offset_fetch.group.topic", &mut t.unknown_tagged_fields);
                for p in &mut t.partitions {
                    visit("offset_fetch.group.partition", &mut p.unknown_tagged_fields);
                }
            }
        }
    }
}

fn describe_groups_sample(_version: i16) -> DescribeGroupsResponse {
    DescribeGroupsResponse::default().with_groups(vec![DescribedGroup::default()
        .with_group_id(GroupId(s("group-a")))
        .with_group_state(s("Stable"))
        .with_protocol_type(s("consumer"))
        .with_protocol_data(s("range"))
        .with_members(vec![DescribedGroupMember::default()
            .with_member_id(s("m-1"))
            .with_client_id(s("c-1"))
            .with_client_host(s("/127.0.0.1"))
            .with_member_assignment(Bytes::from_static(&[0, 1, 0, 0]))])])
}

impl Levels for DescribeGroupsResponse {
    const FLEXIBLE: i16 = 5;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags)) {
        visit("describe_groups", &mut self.unknown_tagged_fields);
        for g in &mut self.groups {
            visit("describe_groups.group", &mut g.unknown_tagged_fields);
            for m in &mut g.members {
                visit("describe_groups.member", &mut m.unknown_tagged_fields);
            }
        }
    }
}

fn consumer_group_describe_sample(_version: i16) -> ConsumerGroupDescribeResponse {
    let assignment = || {
        cgd::Assignment::default().with_topic_partitions(vec![cgd::TopicPartitions::default()
            .with_topic_id(topic_id())
            .with_topic_name(TopicName(s("orders")))
            .with_partitions(vec![0, 2])])
    };
    ConsumerGroupDescribeResponse::default().with_groups(vec![cgd::DescribedGroup::default()
        .with_group_id(GroupId(s("group-a")))
        .with_group_state(s("Stable"))
        .with_assignor_name(s("uniform"))
        .with_members(vec![cgd::Member::default()
            .with_member_id(s("m-1"))
            .with_client_id(s("c-1"))
            .with_client_host(s("/127.0.0.1"))
            .with_subscribed_topic_names(vec![TopicName(s("orders"))])
            .with_assignment(assignment())
            .with_target_assignment(assignment())])])
}

impl Levels for ConsumerGroupDescribeResponse {
    const FLEXIBLE: i16 = 0;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags)) {
        visit("consumer_group_describe", &mut self.unknown_tagged_fields);
        for g in &mut self.groups {
            visit(
                "consumer_group_describe.group",
                &mut g.unknown_tagged_fields,
            );
            for m in &mut g.members {
                visit(
                    "consumer_group_describe.member",
                    &mut m.unknown_tagged_fields,
                );
                for a in [&mut m.assignment, &mut m.target_assignment] {
                    visit(
                        "consumer_group_describe.assignment",
                        &mut a.unknown_tagged_fields,
                    );
                    for tp in &mut a.topic_partitions {
                        visit(
                            "consumer_group_describe.topic",
                            &mut tp.unknown_tagged_fields,
                        );
                    }
                }
            }
        }
    }
}

fn list_groups_sample(version: i16) -> ListGroupsResponse {
    let mut group = ListedGroup::default()
        .with_group_id(GroupId(s("group-a")))
        .with_protocol_type(s("consumer"));
    if version >= 4 {
        group.group_state = s("Stable");
    }
    if version >= 5 {
        group.group_type = s("classic");
    }
    ListGroupsResponse::default().with_groups(vec![group])
}

impl Levels for ListGroupsResponse {
    const FLEXIBLE: i16 = 3;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags)) {
        visit("list_groups", &mut self.unknown_tagged_fields);
        for g in &mut self.groups {
            visit("list_groups.group", &mut g.unknown_tagged_fields);
        }
    }
}

fn create_topics_sample(version: i16) -> CreateTopicsResponse {
    let mut topic = CreatableTopicResult::default()
        .with_name(TopicName(s("orders")))
        .with_num_partitions(3)
        .with_replication_factor(1)
        .with_configs(Some(vec![CreatableTopicConfigs::default()
            .with_name(s("cleanup.policy"))
            .with_value(Some(s("compact")))]));
    if version >= 7 {
        topic.topic_id = topic_id();
    }
    CreateTopicsResponse::default().with_topics(vec![topic])
}

impl Levels for CreateTopicsResponse {
    const FLEXIBLE: i16 = 5;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags)) {
        visit("create_topics", &mut self.unknown_tagged_fields);
        for t in &mut self.topics {
            visit("create_topics.topic", &mut t.unknown_tagged_fields);
            for c in t.configs.iter_mut().flatten() {
                visit("create_topics.config", &mut c.unknown_tagged_fields);
            }
        }
    }
}

fn sasl_authenticate_sample(_version: i16) -> SaslAuthenticateResponse {
    SaslAuthenticateResponse::default()
        .with_auth_bytes(Bytes::from_static(b"v=signature"))
        .with_session_lifetime_ms(60_000)
}

impl Levels for SaslAuthenticateResponse {
    const FLEXIBLE: i16 = 2;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags)) {
        visit("sasl_authenticate", &mut self.unknown_tagged_fields);
    }
}

fn fetch_sample(version: i16) -> FetchResponse {
    let partition = |index: i32| {
        PartitionData::default()
            .with_partition_index(index)
            .with_high_watermark(100 + i64::from(index))
            .with_last_stable_offset(100)
            .with_log_start_offset(3)
            .with_diverging_epoch(EpochEndOffset::default().with_epoch(2).with_end_offset(50))
            .with_current_leader(
                LeaderIdAndEpoch::default()
                    .with_leader_id(BrokerId(1))
                    .with_leader_epoch(7),
            )
            .with_snapshot_id(SnapshotId::default().with_end_offset(9).with_epoch(1))
            .with_aborted_transactions(Some(vec![AbortedTransaction::default()
                .with_producer_id(ProducerId(11))
                .with_first_offset(20)]))
            .with_records(Some(Bytes::from_static(b"record batch bytes")))
    };
    let mut topic =
        FetchableTopicResponse::default().with_partitions(vec![partition(0), partition(1)]);
    if version >= 13 {
        topic.topic_id = topic_id();
    } else {
        topic.topic = TopicName(s("__consumer_offsets"));
    }
    let mut response = FetchResponse::default()
        .with_session_id(9)
        .with_responses(vec![topic]);
    if version >= 16 {
        response.node_endpoints = vec![NodeEndpoint::default()
            .with_node_id(BrokerId(1))
            .with_host(s("b1"))
            .with_port(9092)];
    }
    response
}

impl Levels for FetchResponse {
    const FLEXIBLE: i16 = 12;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags)) {
        visit("fetch", &mut self.unknown_tagged_fields);
        for t in &mut self.responses {
            visit("fetch.topic", &mut t.unknown_tagged_fields);
            for p in &mut t.partitions {
                visit("fetch.partition", &mut p.unknown_tagged_fields);
                visit(
                    "fetch.diverging_epoch",
                    &mut p.diverging_epoch.unknown_tagged_fields,
                );
                visit(
                    "fetch.current_leader",
                    &mut p.current_leader.unknown_tagged_fields,
                );
                visit(
                    "fetch.snapshot_id",
                    &mut p.snapshot_id.unknown_tagged_fields,
                );
                for a in p.aborted_transactions.iter_mut().flatten() {
                    visit("fetch.aborted", &mut a.unknown_tagged_fields);
                }
            }
        }
        for n in &mut self.node_endpoints {
            visit("fetch.node", &mut n.unknown_tagged_fields);
        }
    }
}

fn produce_sample(version: i16) -> ProduceResponse {
    let mut partition = PartitionProduceResponse::default()
        .with_index(0)
        .with_base_offset(41)
        .with_log_start_offset(2)
        .with_record_errors(vec![BatchIndexAndErrorMessage::default()
            .with_batch_index(1)
            .with_batch_index_error_message(Some(s("bad")))])
        .with_error_message(Some(s("partly")));
    if version >= 10 {
        partition.current_leader = produce_response::LeaderIdAndEpoch::default()
            .with_leader_id(BrokerId(1))
            .with_leader_epoch(3);
    }
    let mut topic = TopicProduceResponse::default().with_partition_responses(vec![partition]);
    if version >= 13 {
        topic.topic_id = topic_id();
    } else {
        topic.name = TopicName(s("orders"));
    }
    let mut response = ProduceResponse::default()
        .with_responses(vec![topic])
        .with_throttle_time_ms(1);
    if version >= 10 {
        response.node_endpoints = vec![produce_response::NodeEndpoint::default()
            .with_node_id(BrokerId(1))
            .with_host(s("b1"))
            .with_port(9092)];
    }
    response
}

impl Levels for ProduceResponse {
    const FLEXIBLE: i16 = 9;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags)) {
        visit("produce", &mut self.unknown_tagged_fields);
        for t in &mut self.responses {
            visit("produce.topic", &mut t.unknown_tagged_fields);
            for p in &mut t.partition_responses {
                visit("produce.partition", &mut p.unknown_tagged_fields);
                visit(
                    "produce.current_leader",
                    &mut p.current_leader.unknown_tagged_fields,
                );
                for e in &mut p.record_errors {
                    visit("produce.record_error", &mut e.unknown_tagged_fields);
                }
            }
        }
        for n in &mut self.node_endpoints {
            visit("produce.node", &mut n.unknown_tagged_fields);
        }
    }
}

fn offset_commit_sample(version: i16) -> OffsetCommitResponse {
    use kafka_protocol::messages::offset_commit_response::{
        OffsetCommitResponsePartition, OffsetCommitResponseTopic,
    };
    let mut topic = OffsetCommitResponseTopic::default().with_partitions(vec![
        OffsetCommitResponsePartition::default().with_partition_index(0),
        OffsetCommitResponsePartition::default()
            .with_partition_index(1)
            .with_error_code(27),
    ]);
    if version >= 10 {
        topic.topic_id = topic_id();
    } else {
        topic.name = TopicName(s("orders"));
    }
    OffsetCommitResponse::default().with_topics(vec![topic])
}

impl Levels for OffsetCommitResponse {
    const FLEXIBLE: i16 = 8;
    fn levels(&mut self, visit: &mut dyn FnMut(&'static str, &mut Tags)) {
        visit("offset_commit", &mut self.unknown_tagged_fields);
        for t in &mut self.topics {
            visit("offset_commit.topic", &mut t.unknown_tagged_fields);
            for p in &mut t.partitions {
                visit("offset_commit.partition", &mut p.unknown_tagged_fields);
            }
        }
    }
}
