//! Decoding of fetched records: legacy message sets (v0/v1, compressed wrappers), partial
//! batches, control records and aborted transactions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use burrow_kafka::{decode_records, AbortedTxn};
use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

/// One legacy message-set entry: offset, size, crc (not checked), magic, attributes,
/// [timestamp], key, value.
fn legacy(
    offset: i64,
    magic: i8,
    attributes: i8,
    ts: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) -> Vec<u8> {
    let mut msg = vec![0, 0, 0, 0, magic as u8, attributes as u8];
    if magic >= 1 {
        msg.extend_from_slice(&ts.to_be_bytes());
    }
    for part in [key, value] {
        match part {
            None => msg.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(b) => {
                msg.extend_from_slice(&(b.len() as i32).to_be_bytes());
                msg.extend_from_slice(b);
            }
        }
    }
    let mut out = offset.to_be_bytes().to_vec();
    out.extend_from_slice(&(msg.len() as i32).to_be_bytes());
    out.extend_from_slice(&msg);
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn legacy_v0_and_v1_messages() {
    let mut data = legacy(10, 0, 0, 0, Some(b"k0"), Some(b"v0"));
    data.extend(legacy(11, 1, 0, 1234, None, Some(b"v1")));
    data.extend(legacy(12, 1, 0, 1235, Some(b"k2"), None));
    let r = decode_records(Bytes::from(data), 11, &[]);
    assert_eq!(r.records.len(), 2, "offset 10 is below the fetch offset");
    assert_eq!((r.records[0].offset, r.records[0].timestamp), (11, 1234));
    assert_eq!(r.records[0].key, None);
    assert_eq!(r.records[1].value, None);
    assert_eq!(r.next_offset, Some(13));
}

#[test]
fn legacy_compressed_wrappers_v0_absolute_and_v1_relative_offsets() {
    // v1 wrapper: inner offsets 0..2 are relative; the wrapper carries the last absolute offset.
    let mut inner = legacy(0, 1, 0, 5, Some(b"a"), Some(b"1"));
    inner.extend(legacy(1, 1, 0, 6, Some(b"b"), Some(b"2")));
    inner.extend(legacy(2, 1, 0, 7, Some(b"c"), Some(b"3")));
    let wrapper = legacy(102, 1, 1, 7, None, Some(&gzip(&inner)));
    let r = decode_records(Bytes::from(wrapper), 0, &[]);
    let offs: Vec<i64> = r.records.iter().map(|r| r.offset).collect();
    assert_eq!(offs, vec![100, 101, 102]);
    assert_eq!(r.records[2].value.as_deref(), Some(&b"3"[..]));
    assert_eq!(r.next_offset, Some(103));

    // v0 wrapper: inner offsets are absolute.
    let mut inner = legacy(50, 0, 0, 0, None, Some(b"x"));
    inner.extend(legacy(51, 0, 0, 0, None, Some(b"y")));
    let r = decode_records(
        Bytes::from(legacy(51, 0, 1, 0, None, Some(&gzip(&inner)))),
        0,
        &[],
    );
    assert_eq!(
        r.records.iter().map(|r| r.offset).collect::<Vec<_>>(),
        vec![50, 51]
    );
}

#[test]
fn a_partial_trailing_batch_is_left_for_the_next_fetch() {
    let mut data = legacy(0, 1, 0, 1, None, Some(b"whole"));
    let next = legacy(1, 1, 0, 1, None, Some(b"cut"));
    data.extend_from_slice(&next[..next.len() - 2]);
    let r = decode_records(Bytes::from(data), 0, &[]);
    assert_eq!(r.records.len(), 1);
    assert_eq!(r.next_offset, Some(1));
    assert_eq!(r.corrupt_batches, 0);
}

fn record(
    offset: i64,
    pid: i64,
    transactional: bool,
    control: bool,
    key: &[u8],
    value: &[u8],
) -> Record {
    Record {
        transactional,
        control,
        delete_horizon: false,
        partition_leader_epoch: 0,
        producer_id: pid,
        producer_epoch: 0,
        timestamp_type: TimestampType::Creation,
        offset,
        sequence: offset as i32,
        timestamp: 1000 + offset,
        key: Some(Bytes::copy_from_slice(key)),
        value: Some(Bytes::copy_from_slice(value)),
        headers: Default::default(),
    }
}

fn batch(records: &[Record], compression: Compression) -> Vec<u8> {
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        records,
        &RecordEncodeOptions {
            version: 2,
            compression,
        },
    )
    .unwrap();
    buf.to_vec()
}

#[test]
fn aborted_transactions_and_control_records_are_left_out() {
    let mut data = Vec::new();
    // Producer 7 writes two records in a transaction that is aborted at offset 2.
    data.extend(batch(
        &[
            record(0, 7, true, false, b"k", b"aborted-1"),
            record(1, 7, true, false, b"k", b"aborted-2"),
        ],
        Compression::None,
    ));
    data.extend(batch(
        &[record(2, 7, true, true, &[0, 0, 0, 0], &[0, 0, 0, 0, 0, 0])],
        Compression::None,
    )); // ABORT marker
        // Producer 8 commits one record (marker at 4); a plain record follows.
    data.extend(batch(
        &[record(3, 8, true, false, b"k", b"committed")],
        Compression::Gzip,
    ));
    data.extend(batch(
        &[record(4, 8, true, true, &[0, 0, 0, 1], &[0, 0, 0, 0, 0, 0])],
        Compression::None,
    )); // COMMIT marker
    data.extend(batch(
        &[record(5, -1, false, false, b"k", b"plain")],
        Compression::Zstd,
    ));
    let aborted = [AbortedTxn {
        producer_id: 7,
        first_offset: 0,
    }];
    let r = decode_records(Bytes::from(data.clone()), 0, &aborted);
    let values: Vec<&[u8]> = r
        .records
        .iter()
        .map(|r| r.value.as_deref().unwrap())
        .collect();
    assert_eq!(values, vec![&b"committed"[..], &b"plain"[..]]);
    assert_eq!((r.aborted_records, r.control_records), (2, 2));
    assert_eq!(r.next_offset, Some(6));
    // read_uncommitted (no aborted list): the aborted records are data too, markers are not.
    let r = decode_records(Bytes::from(data), 0, &[]);
    assert_eq!(r.records.len(), 4);
    assert_eq!(r.control_records, 2);
}

#[test]
fn a_corrupt_batch_is_counted_and_skipped() {
    let mut data = batch(
        &[record(0, -1, false, false, b"k", b"good")],
        Compression::None,
    );
    let mut bad = batch(
        &[record(1, -1, false, false, b"k", b"bad")],
        Compression::None,
    );
    let n = bad.len();
    bad[n - 3] ^= 0xff; // flip a byte inside the record: CRC mismatch
    data.extend(bad);
    data.extend(batch(
        &[record(2, -1, false, false, b"k", b"after")],
        Compression::None,
    ));
    let r = decode_records(Bytes::from(data), 0, &[]);
    assert_eq!(r.corrupt_batches, 1);
    let values: Vec<&[u8]> = r
        .records
        .iter()
        .map(|r| r.value.as_deref().unwrap())
        .collect();
    assert_eq!(values, vec![&b"good"[..], &b"after"[..]]);
}

/// Inputs found by `cargo fuzz run fetched_records` that once panicked.
#[test]
fn fuzz_regressions() {
    // A batch length of 0: shorter than the magic byte's position.
    let crash = [
        0xba, 0xff, 0xd3, 0x41, 0xff, 0x1b, 0x5b, 0x47, 0, 0, 0, 0, 0, 0, 0, 0x0c, 0x1b,
    ];
    let r = decode_records(Bytes::copy_from_slice(&crash), 0, &[]);
    assert!(r.records.is_empty());
    for file in std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fuzz-regressions"
    ))
    .unwrap()
    {
        let data = std::fs::read(file.unwrap().path()).unwrap();
        let _ = decode_records(
            Bytes::from(data),
            0,
            &[AbortedTxn {
                producer_id: 1,
                first_offset: 0,
            }],
        );
    }
}
