//! Decoding of fetched records: legacy message sets (v0/v1, compressed wrappers), partial
//! batches, control records and aborted transactions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use burrow_kafka::{decode_records, AbortedTxn, RawRecords};
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

mod agrees_with_kafka_protocol {
    //! The batch reader against kafka-protocol's own decoder, on batches kafka-protocol encoded.
    use super::*;
    use kafka_protocol::records::RecordBatchDecoder;
    use proptest::prelude::*;

    fn arb_record() -> impl Strategy<Value = (Option<Vec<u8>>, Option<Vec<u8>>, i64, usize)> {
        (
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
            0i64..1_000_000,
            0usize..3,
        )
    }

    fn compression() -> impl Strategy<Value = Compression> {
        prop_oneof![
            Just(Compression::None),
            Just(Compression::Gzip),
            Just(Compression::Snappy),
            Just(Compression::Lz4),
            Just(Compression::Zstd),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn same_records(
            batches in proptest::collection::vec(
                (proptest::collection::vec(arb_record(), 1..30), compression(), any::<bool>()),
                1..5,
            ),
            from in 0i64..40,
        ) {
            let mut data = BytesMut::new();
            let mut offset = 0i64;
            let mut expected = Vec::new();
            for (recs, compression, log_append) in &batches {
                let max_ts = recs.iter().map(|r| 1_700_000_000_000 + r.2).max().unwrap();
                let records: Vec<Record> = recs
                    .iter()
                    .map(|(k, v, ts, headers)| {
                        let r = Record {
                            transactional: false,
                            control: false,
                            delete_horizon: false,
                            partition_leader_epoch: 0,
                            producer_id: -1,
                            producer_epoch: -1,
                            timestamp_type: if *log_append {
                                TimestampType::LogAppend
                            } else {
                                TimestampType::Creation
                            },
                            offset,
                            // Consecutive sequences keep the records in one batch.
                            sequence: offset as i32,
                            timestamp: 1_700_000_000_000 + ts,
                            key: k.clone().map(Bytes::from),
                            value: v.clone().map(Bytes::from),
                            headers: (0..*headers)
                                .map(|h| (format!("h{h}").into(), Some(Bytes::from_static(b"hv"))))
                                .collect(),
                        };
                        if offset >= from {
                            // LogAppendTime: every record takes the batch's max timestamp.
                            let ts = if *log_append { max_ts } else { r.timestamp };
                            expected.push((offset, ts, r.key.clone(), r.value.clone()));
                        }
                        offset += 1;
                        r
                    })
                    .collect();
                let mut one = BytesMut::new();
                RecordBatchEncoder::encode(
                    &mut one,
                    &records,
                    &RecordEncodeOptions { version: 2, compression: *compression },
                )
                .unwrap();
                let mut one = one.to_vec();
                if *log_append {
                    set_log_append_time(&mut one);
                }
                data.extend_from_slice(&one);
            }
            let data = data.freeze();
            // kafka-protocol's decoder reads the same offsets, keys and values.
            let mut theirs = Vec::new();
            let mut buf = data.clone();
            while !buf.is_empty() {
                theirs.extend(RecordBatchDecoder::decode(&mut buf).unwrap().records);
            }
            let theirs: Vec<_> = theirs
                .into_iter()
                .filter(|r| r.offset >= from)
                .map(|r| (r.offset, r.key, r.value))
                .collect();
            let ours = decode_records(data.clone(), from, &[]);
            let got: Vec<_> = ours
                .records
                .iter()
                .map(|r| (r.offset, r.timestamp, r.key.clone(), r.value.clone()))
                .collect();
            prop_assert_eq!(&got, &expected);
            let got: Vec<_> = got.into_iter().map(|(o, _, k, v)| (o, k, v)).collect();
            prop_assert_eq!(got, theirs);
            prop_assert_eq!(ours.next_offset, Some(offset));
            prop_assert_eq!(ours.corrupt_batches, 0);
            let raw = RawRecords::new(data, from, &[]);
            prop_assert_eq!(raw.next_offset(), Some(offset));
            let mut n = 0u64;
            let sum = raw.for_each(|r| {
                assert_eq!(Some(r.offset), ours.records.get(n as usize).map(|o| o.offset));
                n += 1;
            });
            prop_assert_eq!(sum.records, ours.records.len() as u64);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_agree_on_the_next_offset(
            data in proptest::collection::vec(any::<u8>(), 0..400),
        ) {
            let raw = RawRecords::new(Bytes::from(data), 0, &[AbortedTxn { producer_id: 1, first_offset: 0 }]);
            let read = raw.decode();
            prop_assert_eq!(raw.next_offset(), read.next_offset);
        }
    }
}

/// Sets the LogAppendTime attribute of every v2 batch in `data` (kafka-protocol's encoder never
/// does) and fixes their CRCs.
fn set_log_append_time(data: &mut [u8]) {
    let mut pos = 0;
    while pos < data.len() {
        let len = i32::from_be_bytes(data[pos + 8..pos + 12].try_into().unwrap()) as usize;
        let b = &mut data[pos..pos + 12 + len];
        b[22] |= 0x08;
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        pos += 12 + len;
    }
}

#[test]
fn log_append_time_batches_give_every_record_the_batch_max_timestamp() {
    let mut r0 = record(0, -1, false, false, b"k", b"a");
    let mut r1 = record(1, -1, false, false, b"k", b"b");
    r0.timestamp = 5_000;
    r1.timestamp = 9_000;
    let mut b = batch(&[r0, r1], Compression::Lz4);
    set_log_append_time(&mut b);
    let r = decode_records(Bytes::from(b), 0, &[]);
    let ts: Vec<i64> = r.records.iter().map(|r| r.timestamp).collect();
    assert_eq!(ts, vec![9_000, 9_000]);
}

/// An LZ4 batch as Kafka's Java producer frames it: 64 KiB independent blocks, no content
/// checksum, content size absent; and one whose header checksum is wrong (KAFKA-3160).
#[test]
fn lz4_frames_as_kafka_writes_them() {
    let records: Vec<Record> = (0..3000)
        .map(|i| {
            record(
                i,
                -1,
                false,
                false,
                b"key",
                format!("value-{i}-{}", "x".repeat(i as usize % 50)).as_bytes(),
            )
        })
        .collect();
    let plain = batch(&records, Compression::None);
    // Re-frame the uncompressed records section with lz4_flex blocks and patch the header.
    let body = &plain[61..];
    let mut frame = vec![0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x00];
    for chunk in body.chunks(64 << 10) {
        let c = lz4_flex::block::compress(chunk);
        frame.extend_from_slice(&(c.len() as u32).to_le_bytes());
        frame.extend_from_slice(&c);
    }
    frame.extend_from_slice(&0u32.to_le_bytes());
    let mut b = plain[..61].to_vec();
    b[22] |= 3; // attributes: lz4
    b.extend_from_slice(&frame);
    let len = (b.len() - 12) as i32;
    b[8..12].copy_from_slice(&len.to_be_bytes());
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    let r = decode_records(Bytes::from(b), 0, &[]);
    assert_eq!(r.corrupt_batches, 0);
    assert_eq!(r.records.len(), 3000);
    assert_eq!(
        r.records[2999].value.as_deref(),
        records[2999].value.as_deref()
    );
    // The lz4 library's own frames (as kafka-protocol and librdkafka write them): linked blocks,
    // content checksum; more than one block here.
    let linked = batch(&records, Compression::Lz4);
    assert!(body.len() > 64 << 10);
    let r = decode_records(Bytes::from(linked), 0, &[]);
    assert_eq!((r.records.len(), r.corrupt_batches), (3000, 0));
    assert_eq!(
        r.records[2999].value.as_deref(),
        records[2999].value.as_deref()
    );
}
