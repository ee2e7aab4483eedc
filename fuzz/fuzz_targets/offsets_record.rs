//! Arbitrary key/value bytes through the `__consumer_offsets` decoder: it must never panic,
//! and whatever decodes must re-encode to bytes that decode to the same record.
#![no_main]

use burrow_kafka::offsets::{self, OffsetsRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let at = usize::from(split).min(rest.len());
    let (key, value) = rest.split_at(at);
    let value = if value.first() == Some(&0xff) { None } else { Some(value) };
    let Ok(rec) = offsets::decode_record(key, value) else { return };
    match rec {
        OffsetsRecord::OffsetCommit { key, value: Some(v) } => {
            let (mut k, mut b) = (Vec::new(), Vec::new());
            offsets::encode_offset_commit_key(&mut k, &key);
            offsets::encode_offset_commit_value(&mut b, &v).expect("decoded versions encode");
            assert_eq!(
                offsets::decode_record(&k, Some(&b)).expect("re-encoded record decodes"),
                OffsetsRecord::OffsetCommit { key, value: Some(v) }
            );
        }
        OffsetsRecord::GroupMetadata { value: Some(g), .. } => {
            for m in &g.members {
                let _ = offsets::decode_assignment(m.assignment);
                let _ = offsets::decode_subscription(m.subscription);
            }
            let mut b = Vec::new();
            offsets::encode_group_metadata_value(&mut b, &g).expect("decoded versions encode");
            assert_eq!(offsets::decode_group_metadata_value(&b).expect("re-encoded value decodes"), g);
        }
        OffsetsRecord::ConsumerGroupMember { key, value: Some(v) } => {
            let (mut k, mut b) = (Vec::new(), Vec::new());
            offsets::encode_member_key(&mut k, 5, &key);
            offsets::encode_member_metadata_value(&mut b, &v);
            assert_eq!(
                offsets::decode_record(&k, Some(&b)).expect("re-encoded record decodes"),
                OffsetsRecord::ConsumerGroupMember { key, value: Some(v) }
            );
        }
        OffsetsRecord::ConsumerGroupAssignment { value: Some(v), .. } => {
            let mut b = Vec::new();
            offsets::encode_member_assignment_value(&mut b, &v);
            assert_eq!(offsets::decode_member_assignment_value(&b).expect("re-encoded value decodes"), v);
        }
        _ => {}
    }
});
