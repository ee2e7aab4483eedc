//! Arbitrary bytes as the `records` of a Fetch response (record batches and legacy message sets,
//! compressed or not): decoding must never panic, and the header scan, the borrowing walk and
//! the materialising decode must agree.
#![no_main]

use burrow_kafka::{AbortedTxn, RawRecords};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let aborted = [AbortedTxn { producer_id: 1, first_offset: 0 }];
    let raw = RawRecords::new(bytes::Bytes::copy_from_slice(data), 0, &aborted);
    let read = raw.decode();
    let mut offsets = Vec::new();
    let sum = raw.for_each(|r| offsets.push(r.offset));
    assert_eq!(raw.next_offset(), read.next_offset);
    assert_eq!(sum.next_offset, read.next_offset);
    assert_eq!(offsets, read.records.iter().map(|r| r.offset).collect::<Vec<_>>());
});
