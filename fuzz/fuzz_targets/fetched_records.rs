//! Arbitrary bytes as the `records` of a Fetch response (record batches and legacy message sets,
//! compressed or not): decoding must never panic.
#![no_main]

use burrow_kafka::{decode_records, AbortedTxn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let aborted = [AbortedTxn { producer_id: 1, first_offset: 0 }];
    let _ = decode_records(bytes::Bytes::copy_from_slice(data), 0, &aborted);
});
