//! The `__consumer_offsets` codec: annotated byte fixtures for every key and value version,
//! property round trips, hostile lengths and arbitrary bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use burrow_kafka::offsets::{
    self, decode_assignment, decode_group_metadata_value, decode_offset_commit_value,
    decode_record, decode_subscription, Assignment, DecodeErrorKind, GroupMetadataValue,
    MemberMetadata, OffsetCommitKey, OffsetCommitValue, OffsetsRecord, RecordType, Subscription,
    TopicPartitions,
};
use proptest::prelude::*;

/// Concatenates annotated byte groups.
fn bytes(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

// ---------------------------------------------------------------- keys

#[test]
fn offset_commit_key_v1_fixture() {
    let key = bytes(&[
        &[0x00, 0x01], // record type 1: OffsetCommit
        &[0x00, 0x02],
        b"g1", // group: int16 length 2
        &[0x00, 0x03],
        b"top",                    // topic
        &[0x00, 0x00, 0x00, 0x07], // partition 7
    ]);
    let r = decode_record(&key, None).unwrap();
    assert_eq!(
        r,
        OffsetsRecord::OffsetCommit {
            key: OffsetCommitKey {
                version: 1,
                group: "g1",
                topic: "top",
                partition: 7
            },
            value: None, // null value: tombstone
        }
    );
    assert_eq!(r.record_type(), RecordType::OffsetCommit);
    let mut enc = Vec::new();
    offsets::encode_offset_commit_key(
        &mut enc,
        &OffsetCommitKey {
            version: 1,
            group: "g1",
            topic: "top",
            partition: 7,
        },
    );
    assert_eq!(enc, key);
}

#[test]
fn offset_commit_key_v0_and_empty_value_is_a_tombstone() {
    let key = bytes(&[
        &[0x00, 0x00],
        &[0x00, 0x01],
        b"g",
        &[0x00, 0x01],
        b"t",
        &[0, 0, 0, 0],
    ]);
    let r = decode_record(&key, Some(&[])).unwrap();
    assert_eq!(r.record_type(), RecordType::LegacyOffsetCommit);
    assert!(matches!(r, OffsetsRecord::OffsetCommit { value: None, .. }));
}

#[test]
fn group_metadata_key_fixture() {
    let key = bytes(&[&[0x00, 0x02], &[0x00, 0x05], b"group"]);
    assert_eq!(
        decode_record(&key, None).unwrap(),
        OffsetsRecord::GroupMetadata {
            group: "group",
            value: None
        }
    );
    let mut enc = Vec::new();
    offsets::encode_group_metadata_key(&mut enc, "group");
    assert_eq!(enc, key);
}

#[test]
fn kip848_share_and_streams_keys_are_recognised_by_type() {
    for (code, ty) in [
        (3i16, RecordType::ConsumerGroupMetadata),
        (7, RecordType::ConsumerGroupTargetAssignmentMember),
        (11, RecordType::ShareGroupMetadata),
        (16, RecordType::ConsumerGroupRegularExpression),
        (17, RecordType::StreamsGroupMetadata),
        (23, RecordType::StreamsGroupCurrentMemberAssignment),
    ] {
        let key = bytes(&[
            &code.to_be_bytes(),
            &[0x00, 0x02],
            b"cg",
            &[0x00, 0x02],
            b"m1",
        ]);
        let r = decode_record(&key, Some(&[0x00, 0x00, 0x01])).unwrap();
        assert_eq!(
            r,
            OffsetsRecord::Coordinator {
                record_type: ty,
                group: "cg",
                tombstone: false
            }
        );
        assert_eq!(ty.code(), code);
        assert_eq!(RecordType::from_code(code), Some(ty));
        let r = decode_record(&key, None).unwrap();
        assert!(matches!(
            r,
            OffsetsRecord::Coordinator {
                tombstone: true,
                ..
            }
        ));
    }
}

#[test]
fn unknown_and_short_keys_are_typed_errors() {
    let e = decode_record(&[0x00, 0x18, 0x00, 0x00], None).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::UnknownRecordType(24));
    let e = decode_record(&[0xff, 0xff], None).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::UnknownRecordType(-1));
    let e = decode_record(&[0x00], None).unwrap_err();
    assert_eq!(e.field, "key_version");
    let e = decode_record(&[0x00, 0x01, 0x00, 0x02, b'g'], None).unwrap_err();
    assert_eq!(e.field, "group");
    assert!(matches!(
        e.kind,
        DecodeErrorKind::Truncated {
            needed: 2,
            available: 1
        }
    ));
    let e = decode_record(
        &bytes(&[
            &[0x00, 0x01, 0x00, 0x01],
            b"g",
            &[0x00, 0x01],
            b"t",
            &[0, 0],
        ]),
        None,
    )
    .unwrap_err();
    assert_eq!(e.field, "partition");
    assert_eq!(e.to_string(), "field `partition`: needs 4 bytes, 2 left");
}

// ---------------------------------------------------------------- offset commit values

const OFFSET: [u8; 8] = 1000i64.to_be_bytes();
const TS: [u8; 8] = 1_700_000_000_000i64.to_be_bytes();
const EXPIRE: [u8; 8] = 1_700_002_800_000i64.to_be_bytes();

fn commit(version: i16, leader_epoch: i32, expire: i64) -> OffsetCommitValue<'static> {
    OffsetCommitValue {
        version,
        offset: 1000,
        leader_epoch,
        metadata: "md",
        commit_timestamp: 1_700_000_000_000,
        expire_timestamp: expire,
    }
}

#[test]
fn offset_commit_value_fixtures_every_version() {
    let cases: Vec<(Vec<u8>, OffsetCommitValue<'_>)> = vec![
        (
            // v0: offset, metadata (int16 length), commit timestamp
            bytes(&[&[0x00, 0x00], &OFFSET, &[0x00, 0x02], b"md", &TS]),
            commit(0, -1, -1),
        ),
        (
            // v1: + expire timestamp
            bytes(&[&[0x00, 0x01], &OFFSET, &[0x00, 0x02], b"md", &TS, &EXPIRE]),
            commit(1, -1, 1_700_002_800_000),
        ),
        (
            // v2: as v0 (Kafka 2.1-IV0); Burrow dropped these, we decode them
            bytes(&[&[0x00, 0x02], &OFFSET, &[0x00, 0x02], b"md", &TS]),
            commit(2, -1, -1),
        ),
        (
            // v3: offset, leader epoch, metadata, commit timestamp
            bytes(&[
                &[0x00, 0x03],
                &OFFSET,
                &[0x00, 0x00, 0x00, 0x09],
                &[0x00, 0x02],
                b"md",
                &TS,
            ]),
            commit(3, 9, -1),
        ),
        (
            // v4 (flexible): metadata is a compact string (uvarint length + 1), then tagged fields
            bytes(&[
                &[0x00, 0x04],
                &OFFSET,
                &[0x00, 0x00, 0x00, 0x09],
                &[0x03],
                b"md",
                &TS,
                &[0x00],
            ]),
            commit(4, 9, -1),
        ),
    ];
    for (raw, want) in cases {
        assert_eq!(
            decode_offset_commit_value(&raw).unwrap(),
            want,
            "v{}",
            want.version
        );
        let mut enc = Vec::new();
        offsets::encode_offset_commit_value(&mut enc, &want).unwrap();
        assert_eq!(enc, raw, "v{} encodes to the fixture", want.version);
    }
}

#[test]
fn offset_commit_v4_reads_long_metadata_and_skips_tagged_fields() {
    // Metadata of 200 bytes: uvarint 201 = 0xc9 0x01 (Burrow's one-byte reading would break).
    let md = "x".repeat(200);
    let raw = bytes(&[
        &[0x00, 0x04],
        &OFFSET,
        &[0xff, 0xff, 0xff, 0xff], // leader epoch -1
        &[0xc9, 0x01],
        md.as_bytes(),
        &TS,
        &[0x02, 0x00, 0x01, 0xaa, 0x05, 0x02, 0xbb, 0xcc], // 2 tagged fields: tag 0 (1 byte), tag 5 (2 bytes)
    ]);
    let v = decode_offset_commit_value(&raw).unwrap();
    assert_eq!(
        (v.offset, v.metadata.len(), v.commit_timestamp),
        (1000, 200, 1_700_000_000_000)
    );
    // Burrow never reads the trailing tagged fields: a value without them (a writer that leaves
    // the empty section out), or with a section that does not parse, gives the same commit.
    let without = &raw[..raw.len() - 8];
    let bad = bytes(&[without, &[0x01, 0x00, 0x09, 0xaa]]);
    for lenient in [without, &bad[..]] {
        let v = decode_offset_commit_value(lenient).unwrap();
        assert_eq!(
            (v.offset, v.metadata.len(), v.commit_timestamp),
            (1000, 200, 1_700_000_000_000)
        );
    }
    // The fields before them are still required.
    assert_eq!(
        decode_offset_commit_value(&without[..without.len() - 1])
            .unwrap_err()
            .field,
        "commit_timestamp"
    );
}

#[test]
fn offset_commit_unsupported_versions() {
    let e = decode_offset_commit_value(&[0x00, 0x05, 0, 0]).unwrap_err();
    assert_eq!(
        (e.field, e.kind),
        ("value_version", DecodeErrorKind::UnsupportedVersion(5))
    );
    assert!(offsets::encode_offset_commit_value(&mut Vec::new(), &commit(5, 0, 0)).is_err());
}

// ---------------------------------------------------------------- group metadata values

fn assignment_bytes() -> Vec<u8> {
    bytes(&[
        &[0x00, 0x00],             // consumer protocol version 0
        &[0x00, 0x00, 0x00, 0x01], // 1 topic
        &[0x00, 0x01],
        b"t",                      // topic "t"
        &[0x00, 0x00, 0x00, 0x02], // 2 partitions
        &[0x00, 0x00, 0x00, 0x00], // 0
        &[0x00, 0x00, 0x00, 0x03], // 3
        &[0xff, 0xff, 0xff, 0xff], // user data: null
    ])
}

fn subscription_bytes() -> Vec<u8> {
    bytes(&[
        &[0x00, 0x00],
        &[0x00, 0x00, 0x00, 0x01],
        &[0x00, 0x01],
        b"t",
        &[0xff, 0xff, 0xff, 0xff],
    ])
}

/// One member in the classic encoding of `version` (0–3).
fn classic_member(version: i16, assignment: &[u8], subscription: &[u8]) -> Vec<u8> {
    let mut m = bytes(&[&[0x00, 0x02], b"m1"]); // member id
    if version >= 3 {
        m.extend_from_slice(&[0xff, 0xff]); // group instance id: null
    }
    m.extend_from_slice(&bytes(&[
        &[0x00, 0x03],
        b"cli",
        &[0x00, 0x09],
        b"/10.0.0.1",
    ])); // client id, host
    if version >= 1 {
        m.extend_from_slice(&[0x00, 0x00, 0x75, 0x30]); // rebalance timeout 30000
    }
    m.extend_from_slice(&[0x00, 0x00, 0x27, 0x10]); // session timeout 10000
    m.extend_from_slice(&(subscription.len() as i32).to_be_bytes());
    m.extend_from_slice(subscription);
    m.extend_from_slice(&(assignment.len() as i32).to_be_bytes());
    m.extend_from_slice(assignment);
    m
}

fn classic_group(version: i16, members: &[Vec<u8>]) -> Vec<u8> {
    let mut v = bytes(&[
        &version.to_be_bytes(),
        &[0x00, 0x08],
        b"consumer",               // protocol type
        &[0x00, 0x00, 0x00, 0x04], // generation 4
        &[0x00, 0x05],
        b"range", // protocol
        &[0x00, 0x02],
        b"m1", // leader
    ]);
    if version >= 2 {
        v.extend_from_slice(&TS); // current state timestamp
    }
    v.extend_from_slice(&(members.len() as i32).to_be_bytes());
    for m in members {
        v.extend_from_slice(m);
    }
    v
}

#[test]
fn group_metadata_fixtures_v0_to_v3() {
    let a = assignment_bytes();
    let s = subscription_bytes();
    for version in 0..=3i16 {
        let raw = classic_group(version, &[classic_member(version, &a, &s)]);
        let g = decode_group_metadata_value(&raw).unwrap();
        assert_eq!(g.version, version);
        assert_eq!(
            (g.protocol_type, g.generation, g.protocol, g.leader),
            ("consumer", 4, Some("range"), Some("m1"))
        );
        assert_eq!(
            g.current_state_timestamp,
            if version >= 2 { 1_700_000_000_000 } else { -1 }
        );
        let m = &g.members[0];
        assert_eq!(
            (m.member_id, m.client_id, m.client_host),
            ("m1", "cli", "/10.0.0.1")
        );
        assert_eq!(m.rebalance_timeout, if version >= 1 { 30_000 } else { -1 });
        assert_eq!(m.session_timeout, 10_000);
        let asg = decode_assignment(m.assignment).unwrap();
        assert_eq!(
            asg.partitions,
            vec![TopicPartitions {
                topic: "t",
                partitions: vec![0, 3]
            }]
        );
        assert_eq!(
            decode_subscription(m.subscription).unwrap().topics,
            vec!["t"]
        );
        let mut enc = Vec::new();
        offsets::encode_group_metadata_value(&mut enc, &g).unwrap();
        assert_eq!(enc, raw, "v{version} encodes to the fixture");
    }
}

#[test]
fn group_metadata_v4_flexible_fixture() {
    let a = assignment_bytes();
    let raw = bytes(&[
        &[0x00, 0x04],
        &[0x09],
        b"consumer",               // compact string: length 8 + 1
        &[0x00, 0x00, 0x00, 0x04], // generation
        &[0x00],                   // protocol: null
        &[0x00],                   // leader: null
        &TS,                       // current state timestamp
        &[0x02],                   // compact array: 1 member
        &[0x03],
        b"m1", // member id
        &[0x05],
        b"inst", // group instance id
        &[0x04],
        b"cli", // client id
        &[0x0a],
        b"/10.0.0.1",              // client host
        &[0x00, 0x00, 0x75, 0x30], // rebalance timeout
        &[0x00, 0x00, 0x27, 0x10], // session timeout
        &[0x01],                   // subscription: compact bytes, empty
        &[a.len() as u8 + 1],
        &a,      // assignment
        &[0x00], // member tagged fields
        &[0x00], // tagged fields
    ]);
    let g = decode_group_metadata_value(&raw).unwrap();
    assert_eq!((g.protocol, g.leader), (None, None));
    assert_eq!(g.members[0].group_instance_id, Some("inst"));
    assert_eq!(
        decode_assignment(g.members[0].assignment)
            .unwrap()
            .partitions[0]
            .partitions,
        vec![0, 3]
    );
    let mut enc = Vec::new();
    offsets::encode_group_metadata_value(&mut enc, &g).unwrap();
    assert_eq!(enc, raw);
    // Without the value's trailing tagged-field section, the same group.
    assert_eq!(
        decode_group_metadata_value(&raw[..raw.len() - 1]).unwrap(),
        g
    );
}

#[test]
fn group_metadata_errors_name_burrows_fields() {
    let a = assignment_bytes();
    let s = subscription_bytes();
    let raw = classic_group(1, &[classic_member(1, &a, &s)]);
    let cases = [
        (4, "protocol_type"),
        (12, "generation"),
        (18, "protocol"),
        (27, "member_count"),
        (33, "member_id"),
        (38, "client_id"),
        (45, "client_host"),
        (53, "rebalance_timeout"),
        (56, "session_timeout"),
        (60, "subscription_bytes"),
        (raw.len() - 5, "assignment_bytes"),
    ];
    for (cut, field) in cases {
        let e = decode_group_metadata_value(&raw[..cut]).unwrap_err();
        assert_eq!(e.field, field, "cut at {cut}: {e}");
    }
    let e = decode_group_metadata_value(&[0x00, 0x05]).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::UnsupportedVersion(5));
    // A negative consumer-protocol version in an assignment.
    let e = decode_assignment(&[0xff, 0xfe, 0, 0, 0, 0]).unwrap_err();
    assert_eq!(
        (e.field, e.kind),
        (
            "consumer_protocol_version",
            DecodeErrorKind::NegativeProtocolVersion(-2)
        )
    );
    // Assignment truncated inside a partition id.
    let e = decode_assignment(&a[..a.len() - 6]).unwrap_err();
    assert_eq!(e.field, "assignment_partition_id");
}

#[test]
fn hostile_lengths_fail_without_allocating() {
    // A member count of 2^31-1 with 4 bytes left: rejected before reserving anything.
    let raw = bytes(&[
        &[0x00, 0x00],
        &[0x00, 0x00],
        &[0, 0, 0, 0],
        &[0xff, 0xff],
        &[0xff, 0xff],
        &[0x7f, 0xff, 0xff, 0xff],
        &[0, 0, 0, 0],
    ]);
    let e = decode_group_metadata_value(&raw).unwrap_err();
    assert_eq!(e.field, "member_count");
    assert!(matches!(e.kind, DecodeErrorKind::Truncated { .. }));
    // Negative string length other than -1.
    let e = decode_record(&[0x00, 0x01, 0xff, 0xfe], None).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::NegativeLength(-2));
    // Negative bytes length.
    let e = decode_assignment(&[0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xf0]).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::NegativeLength(-16));
    // Huge partition count in an assignment.
    let e = decode_assignment(&bytes(&[
        &[0, 0],
        &[0, 0, 0, 1],
        &[0, 1],
        b"t",
        &[0x7f, 0xff, 0xff, 0xff],
    ]))
    .unwrap_err();
    assert_eq!(e.field, "assignment_partition_count");
    // Compact string with an overlong varint.
    let raw = bytes(&[
        &[0x00, 0x04],
        &OFFSET,
        &[0, 0, 0, 0],
        &[0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
    ]);
    assert_eq!(
        decode_offset_commit_value(&raw).unwrap_err().kind,
        DecodeErrorKind::VarintOverflow
    );
    // Invalid UTF-8 in a topic.
    let e = decode_record(
        &[0x00, 0x01, 0x00, 0x01, b'g', 0x00, 0x01, 0xff, 0, 0, 0, 0],
        None,
    )
    .unwrap_err();
    assert_eq!((e.field, e.kind), ("topic", DecodeErrorKind::InvalidUtf8));
}

#[test]
fn java_partition_choice() {
    assert_eq!(offsets::partition_for_group("test-group", 50), 12);
    assert_eq!(offsets::partition_for_group("polygenelubricants", 50), 0);
}

// ---------------------------------------------------------------- properties

fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,12}", "[a-z.\\-_]{0,300}"]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn offset_commits_round_trip(
        group in text(), topic in text(), partition in any::<i32>(), legacy in any::<bool>(),
        version in 0i16..=4, offset in any::<i64>(), epoch in any::<i32>(), metadata in text(),
        ts in any::<i64>(), expire in any::<i64>(),
    ) {
        let key = OffsetCommitKey { version: i16::from(!legacy), group: &group, topic: &topic, partition };
        let value = OffsetCommitValue {
            version, offset, metadata: &metadata, commit_timestamp: ts,
            leader_epoch: if version >= 3 { epoch } else { -1 },
            expire_timestamp: if version == 1 { expire } else { -1 },
        };
        let (mut k, mut v) = (Vec::new(), Vec::new());
        offsets::encode_offset_commit_key(&mut k, &key);
        offsets::encode_offset_commit_value(&mut v, &value).unwrap();
        prop_assert_eq!(decode_record(&k, Some(&v)).unwrap(), OffsetsRecord::OffsetCommit { key, value: Some(value) });
    }

    #[test]
    fn group_metadata_round_trips(
        version in 0i16..=4, ptype in text(), generation in any::<i32>(), protocol in proptest::option::of(text()),
        leader in proptest::option::of(text()), ts in any::<i64>(),
        members in proptest::collection::vec(
            (text(), proptest::option::of(text()), text(), text(), any::<i32>(), any::<i32>(),
             proptest::collection::vec(any::<u8>(), 0..40),
             proptest::collection::vec((text(), proptest::collection::vec(any::<i32>(), 0..5)), 0..3)),
            0..4),
    ) {
        let assignments: Vec<Vec<u8>> = members.iter().map(|m| {
            let mut out = Vec::new();
            offsets::encode_assignment(&mut out, &Assignment {
                version: 1,
                partitions: m.7.iter().map(|(t, ps)| TopicPartitions { topic: t, partitions: ps.clone() }).collect(),
                user_data: None,
            });
            out
        }).collect();
        let value = GroupMetadataValue {
            version, protocol_type: &ptype, generation,
            protocol: protocol.as_deref(), leader: leader.as_deref(),
            current_state_timestamp: if version >= 2 { ts } else { -1 },
            members: members.iter().zip(&assignments).map(|(m, a)| MemberMetadata {
                member_id: &m.0,
                group_instance_id: if version >= 3 { m.1.as_deref() } else { None },
                client_id: &m.2, client_host: &m.3,
                rebalance_timeout: if version >= 1 { m.4 } else { -1 },
                session_timeout: m.5, subscription: &m.6, assignment: a,
            }).collect(),
        };
        let mut v = Vec::new();
        offsets::encode_group_metadata_value(&mut v, &value).unwrap();
        let back = decode_group_metadata_value(&v).unwrap();
        prop_assert_eq!(&back, &value);
        for (m, orig) in back.members.iter().zip(&members) {
            let a = decode_assignment(m.assignment).unwrap();
            let got: Vec<(String, Vec<i32>)> = a.partitions.iter().map(|tp| (tp.topic.to_string(), tp.partitions.clone())).collect();
            prop_assert_eq!(&got, &orig.7);
        }
    }

    #[test]
    fn subscriptions_round_trip(topics in proptest::collection::vec(text(), 0..6)) {
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        let mut out = Vec::new();
        offsets::encode_subscription(&mut out, &Subscription { version: 0, topics: refs.clone() });
        prop_assert_eq!(decode_subscription(&out).unwrap().topics, refs);
    }

    /// Arbitrary bytes never panic, whatever the key type and value version they claim.
    #[test]
    fn arbitrary_bytes_never_panic(
        ty in -1i16..26, vv in -1i16..6,
        key in proptest::collection::vec(any::<u8>(), 0..64),
        value in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut k = ty.to_be_bytes().to_vec();
        k.extend_from_slice(&key);
        let mut v = vv.to_be_bytes().to_vec();
        v.extend_from_slice(&value);
        let _ = decode_record(&k, Some(&v));
        let _ = decode_record(&key, Some(&value));
        let _ = decode_assignment(&value);
        let _ = decode_subscription(&value);
        if let Ok(OffsetsRecord::GroupMetadata { value: Some(g), .. }) = decode_record(&k, Some(&v)) {
            for m in &g.members {
                let _ = decode_assignment(m.assignment);
            }
        }
    }

    /// Every truncation of a valid record fails cleanly (never panics, never reads past the end),
    /// except the one that drops only a v4 value's trailing tagged-field section, which Burrow
    /// never reads: that one gives the same group.
    #[test]
    fn truncations_fail_cleanly(version in 0i16..=4, cut in 0usize..200) {
        let a = assignment_bytes();
        let value = GroupMetadataValue {
            version, protocol_type: "consumer", generation: 1, protocol: Some("range"), leader: Some("m"),
            current_state_timestamp: if version >= 2 { 5 } else { -1 },
            members: vec![MemberMetadata {
                member_id: "m", group_instance_id: None, client_id: "c", client_host: "/h",
                rebalance_timeout: if version >= 1 { 1 } else { -1 }, session_timeout: 2, subscription: &[], assignment: &a,
            }],
        };
        let mut v = Vec::new();
        offsets::encode_group_metadata_value(&mut v, &value).unwrap();
        if version == 4 && cut == v.len() - 1 {
            prop_assert_eq!(decode_group_metadata_value(&v[..cut]).unwrap(), value);
        } else if cut < v.len() {
            prop_assert!(decode_group_metadata_value(&v[..cut]).is_err());
        }
    }
}

/// Type 5, `ConsumerGroupMemberMetadata` (Kafka 4, KIP-848): key and value v0 written field by
/// field from Kafka's schema, decoded and encoded back to the same bytes.
#[test]
fn kip848_member_metadata_golden() {
    let key = bytes(&[
        &[0x00, 0x05], // record type 5
        &[0x00, 0x02], // GroupId: int16 length
        b"cg",
        &[0x00, 0x03], // MemberId
        b"m-1",
    ]);
    let value = bytes(&[
        &[0x00, 0x00], // version 0
        &[0x00],       // InstanceId: null (compact, length + 1 = 0)
        &[0x03],       // RackId: "r1"
        b"r1",
        &[0x04], // ClientId: "cli"
        b"cli",
        &[0x0a], // ClientHost: "/10.0.0.1"
        b"/10.0.0.1",
        &[0x03], // SubscribedTopicNames: 2 entries
        &[0x02],
        b"a",
        &[0x02],
        b"b",
        &[0x00],                   // SubscribedTopicRegex: null
        &[0x00, 0x00, 0x75, 0x30], // RebalanceTimeoutMs 30000
        &[0x08],                   // ServerAssignor: "uniform"
        b"uniform",
        &[0x01, 0x00, 0x02, 0x01, 0x00], // tagged fields: tag 0 (ClassicMemberMetadata), 2 bytes
    ]);
    let want = offsets::MemberMetadataValue {
        version: 0,
        instance_id: None,
        rack_id: Some("r1"),
        client_id: "cli",
        client_host: "/10.0.0.1",
        subscribed_topics: vec!["a", "b"],
        subscribed_regex: None,
        rebalance_timeout_ms: 30_000,
        server_assignor: Some("uniform"),
    };
    let key_want = offsets::MemberKey {
        group: "cg",
        member: "m-1",
    };
    assert_eq!(
        decode_record(&key, Some(&value)).unwrap(),
        OffsetsRecord::ConsumerGroupMember {
            key: key_want,
            value: Some(want.clone())
        }
    );
    assert_eq!(
        decode_record(&key, None).unwrap(),
        OffsetsRecord::ConsumerGroupMember {
            key: key_want,
            value: None
        }
    );
    let (mut k, mut v) = (Vec::new(), Vec::new());
    offsets::encode_member_key(&mut k, 5, &key_want);
    offsets::encode_member_metadata_value(&mut v, &want);
    assert_eq!(k, key);
    // The encoder writes no tagged fields; the rest is byte for byte.
    assert_eq!(v[..v.len() - 1], value[..value.len() - 5]);
    assert_eq!(v.last(), Some(&0x00));
}

/// Type 8, `ConsumerGroupCurrentMemberAssignment`: partitions by topic id.
#[test]
fn kip848_current_assignment_golden() {
    let id: [u8; 16] = [
        0x91, 0x3a, 0xf4, 0x12, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
        0x0b,
    ];
    let key = bytes(&[&[0x00, 0x08], &[0x00, 0x02], b"cg", &[0x00, 0x03], b"m-1"]);
    let value = bytes(&[
        &[0x00, 0x00],             // version 0
        &[0x00, 0x00, 0x00, 0x07], // MemberEpoch 7
        &[0x00, 0x00, 0x00, 0x06], // PreviousMemberEpoch 6
        &[0x00],                   // State 0 (stable)
        &[0x02],                   // AssignedPartitions: 1 topic
        &id,
        &[0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02], // Partitions [0, 2]
        &[0x01, 0x00, 0x05, 0x02, 0x00, 0x00, 0x00, 0x07], // topic tags: tag 0 AssignmentEpochs [7]
        &[0x01],                                           // PartitionsPendingRevocation: empty
        &[0x00],                                           // tagged fields
    ]);
    let want = offsets::MemberAssignmentValue {
        version: 0,
        member_epoch: 7,
        previous_member_epoch: 6,
        state: 0,
        assigned: vec![offsets::TopicIdPartitions {
            topic_id: offsets::TopicId(id),
            partitions: vec![0, 2],
        }],
        pending_revocation: vec![],
    };
    match decode_record(&key, Some(&value)).unwrap() {
        OffsetsRecord::ConsumerGroupAssignment { key, value } => {
            assert_eq!((key.group, key.member), ("cg", "m-1"));
            assert_eq!(value, Some(want.clone()));
        }
        other => panic!("{other:?}"),
    }
    // Kafka's tools show topic ids in URL-safe base64 without padding.
    assert_eq!(offsets::TopicId(id).to_string(), "kTr0EgABAgMEBQYHCAkKCw");
    let mut v = Vec::new();
    offsets::encode_member_assignment_value(&mut v, &want);
    let round = offsets::decode_member_assignment_value(&v).unwrap();
    assert_eq!(round, want);
    // A truncated value names the field it stopped in.
    let e = offsets::decode_member_assignment_value(&value[..20]).unwrap_err();
    assert_eq!(e.field, "topic_id");
}

proptest! {
    #[test]
    fn kip848_values_round_trip(
        client_id in "[a-z0-9-]{0,20}",
        host in "[/0-9.]{0,16}",
        topics in prop::collection::vec("[a-z]{1,8}", 0..4),
        assigned in prop::collection::vec((any::<[u8; 16]>(), prop::collection::vec(0i32..1000, 0..6)), 0..4),
        epoch in any::<i32>(),
    ) {
        let meta = offsets::MemberMetadataValue {
            version: 0,
            instance_id: None,
            rack_id: None,
            client_id: &client_id,
            client_host: &host,
            subscribed_topics: topics.iter().map(String::as_str).collect(),
            subscribed_regex: Some("^a"),
            rebalance_timeout_ms: epoch,
            server_assignor: None,
        };
        let mut v = Vec::new();
        offsets::encode_member_metadata_value(&mut v, &meta);
        prop_assert_eq!(offsets::decode_member_metadata_value(&v).unwrap(), meta);
        let assignment = offsets::MemberAssignmentValue {
            version: 0,
            member_epoch: epoch,
            previous_member_epoch: epoch.wrapping_sub(1),
            state: 1,
            assigned: assigned
                .iter()
                .map(|(id, ps)| offsets::TopicIdPartitions { topic_id: offsets::TopicId(*id), partitions: ps.clone() })
                .collect(),
            pending_revocation: vec![],
        };
        let mut v = Vec::new();
        offsets::encode_member_assignment_value(&mut v, &assignment);
        prop_assert_eq!(offsets::decode_member_assignment_value(&v).unwrap(), assignment);
    }
}

#[test]
fn records_as_a_coordinator_writes_them_decode_back() {
    let (k, v) = offsets::commit_record("g", "t", 2, 42, 1_700_000_000_000).unwrap();
    assert_eq!(
        decode_record(&k, Some(&v)).unwrap(),
        OffsetsRecord::OffsetCommit {
            key: OffsetCommitKey {
                version: 1,
                group: "g",
                topic: "t",
                partition: 2
            },
            value: Some(OffsetCommitValue {
                version: 3,
                offset: 42,
                leader_epoch: 0,
                metadata: "",
                commit_timestamp: 1_700_000_000_000,
                expire_timestamp: -1,
            }),
        }
    );
    let (k, v) =
        offsets::one_member_group_record("g", "t", &[0, 2], "client-1", "/10.0.0.1", 7).unwrap();
    let OffsetsRecord::GroupMetadata {
        group,
        value: Some(value),
    } = decode_record(&k, Some(&v)).unwrap()
    else {
        panic!("not group metadata");
    };
    assert_eq!(group, "g");
    assert_eq!((value.version, value.current_state_timestamp), (3, 7));
    let member = &value.members[0];
    assert_eq!(
        (member.member_id, member.client_id, member.client_host),
        ("m1", "client-1", "/10.0.0.1")
    );
    let assignment = offsets::decode_assignment(member.assignment).unwrap();
    assert_eq!(assignment.partitions[0].topic, "t");
    assert_eq!(assignment.partitions[0].partitions, vec![0, 2]);
}
