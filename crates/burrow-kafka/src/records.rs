//! Records of a Fetch response: record batches (v2, any compression, via kafka-protocol) and
//! legacy message sets (v0/v1, decoded here, including compressed wrapper messages), with control
//! records and aborted transactions recognised and left out.

use bytes::{Buf, Bytes};
use kafka_protocol::records::{Compression, RecordBatchDecoder};

use crate::decompress::{decompress, MAX_DECOMPRESSED};

/// One record as a consumer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedRecord {
    /// Offset in the partition.
    pub offset: i64,
    /// Record timestamp (ms), -1 when the format has none.
    pub timestamp: i64,
    /// Key bytes.
    pub key: Option<Bytes>,
    /// Value bytes.
    pub value: Option<Bytes>,
}

/// The records of one partition of a Fetch response, after decoding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordsRead {
    /// Data records, in offset order.
    pub records: Vec<FetchedRecord>,
    /// The offset to fetch next: one past the last complete batch (which may hold only control
    /// or compacted-away records), or `None` when no complete batch arrived.
    pub next_offset: Option<i64>,
    /// Control records (transaction markers) skipped.
    pub control_records: u64,
    /// Records of aborted transactions skipped (read_committed).
    pub aborted_records: u64,
    /// Whether a batch had to be skipped because it could not be decoded.
    pub corrupt_batches: u64,
}

/// An aborted transaction announced by the broker for a read_committed fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortedTxn {
    /// Producer id.
    pub producer_id: i64,
    /// First offset of the transaction.
    pub first_offset: i64,
}

/// Decodes the `records` bytes of one fetched partition. A truncated last batch (the broker cut
/// the response at `max_bytes`) is ignored; it is read again by the next fetch. Records below
/// `from_offset` (a compressed batch starts before the requested offset) are left out.
pub fn decode_records(mut data: Bytes, from_offset: i64, aborted: &[AbortedTxn]) -> RecordsRead {
    let mut out = RecordsRead::default();
    let mut aborted: Vec<AbortedTxn> = aborted.to_vec();
    aborted.sort_by_key(|a| a.first_offset);
    let mut next_aborted = 0;
    let mut active: Vec<i64> = Vec::new();

    while data.len() >= 17 {
        let base = i64::from_be_bytes(arr(&data[0..8]));
        let len = i32::from_be_bytes(arr(&data[8..12]));
        let Ok(len) = usize::try_from(len) else {
            out.corrupt_batches += 1;
            break;
        };
        let total = 12 + len;
        if data.len() < total {
            break; // partial batch at the end of the response
        }
        let mut batch = data.split_to(total);
        let Some(&magic) = batch.get(16) else {
            // Too short to hold even the magic byte: not a batch.
            out.corrupt_batches += 1;
            continue;
        };
        let magic = magic as i8;
        if magic == 2 {
            if total < 27 {
                out.corrupt_batches += 1;
                continue;
            }
            let last_delta = i32::from_be_bytes(arr(&batch[23..27]));
            out.next_offset = Some(base + i64::from(last_delta) + 1);
            // kafka-protocol calls this for every batch; uncompressed ones pass through uncopied.
            let limited = |b: &mut Bytes, c: Compression| -> anyhow::Result<Bytes> {
                match c {
                    Compression::None => Ok(std::mem::take(b)),
                    c => decompress(b, c, MAX_DECOMPRESSED).map_err(anyhow::Error::msg),
                }
            };
            let set = match RecordBatchDecoder::decode_with_custom_compression(
                &mut batch,
                Some(limited),
            ) {
                Ok(set) => set,
                Err(e) => {
                    tracing::warn!(offset = base, error = %e, "undecodable record batch skipped");
                    out.corrupt_batches += 1;
                    continue;
                }
            };
            for r in set.records {
                while next_aborted < aborted.len() && aborted[next_aborted].first_offset <= r.offset
                {
                    active.push(aborted[next_aborted].producer_id);
                    next_aborted += 1;
                }
                if r.control {
                    out.control_records += 1;
                    // A commit or abort marker ends the producer's transaction either way.
                    active.retain(|p| *p != r.producer_id);
                    continue;
                }
                if r.transactional && active.contains(&r.producer_id) {
                    out.aborted_records += 1;
                    continue;
                }
                if r.offset < from_offset {
                    continue;
                }
                out.records.push(FetchedRecord {
                    offset: r.offset,
                    timestamp: r.timestamp,
                    key: r.key,
                    value: r.value,
                });
            }
        } else {
            let before = out.records.len();
            match decode_legacy_entry(batch, magic, &mut out.records, 0) {
                Ok(last) => out.next_offset = Some(last + 1),
                Err(e) => {
                    tracing::warn!(offset = base, error = %e, "undecodable message skipped");
                    out.records.truncate(before);
                    out.corrupt_batches += 1;
                }
            }
            // Only this entry's records can start below the fetch offset; filter just those.
            let tail = out.records.split_off(before);
            out.records
                .extend(tail.into_iter().filter(|r| r.offset >= from_offset));
        }
    }
    out
}

fn arr<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&s[..N]);
    a
}

type LegacyResult<T> = std::result::Result<T, String>;

fn legacy_bytes(buf: &mut Bytes, what: &str) -> LegacyResult<Option<Bytes>> {
    if buf.remaining() < 4 {
        return Err(format!("{what}: truncated length"));
    }
    let len = buf.get_i32();
    if len == -1 {
        return Ok(None);
    }
    let len = usize::try_from(len).map_err(|_| format!("{what}: negative length {len}"))?;
    if buf.remaining() < len {
        return Err(format!("{what}: truncated"));
    }
    Ok(Some(buf.split_to(len)))
}

/// Decodes one legacy message-set entry (offset, size, message), recursing into compressed
/// wrappers. Returns the last offset it covers.
fn decode_legacy_entry(
    mut entry: Bytes,
    magic: i8,
    out: &mut Vec<FetchedRecord>,
    depth: u8,
) -> LegacyResult<i64> {
    if entry.remaining() < 12 + 4 + 2 {
        return Err("message truncated".into());
    }
    let offset = entry.get_i64();
    let _size = entry.get_i32();
    let _crc = entry.get_u32();
    let _magic = entry.get_i8();
    let attributes = entry.get_i8();
    let timestamp = if magic >= 1 {
        if entry.remaining() < 8 {
            return Err("timestamp truncated".into());
        }
        entry.get_i64()
    } else {
        -1
    };
    let key = legacy_bytes(&mut entry, "key")?;
    let value = legacy_bytes(&mut entry, "value")?;
    let codec = attributes & 0x07;
    if codec == 0 {
        out.push(FetchedRecord {
            offset,
            timestamp,
            key,
            value,
        });
        return Ok(offset);
    }
    if depth > 0 {
        return Err("nested compression".into());
    }
    let compressed = value.unwrap_or_default();
    let codec = match codec {
        1 => Compression::Gzip,
        2 => Compression::Snappy,
        3 => Compression::Lz4,
        4 => Compression::Zstd,
        c => return Err(format!("unknown compression codec {c}")),
    };
    let inner = decompress(&compressed, codec, MAX_DECOMPRESSED)?;
    let start = out.len();
    let mut inner = inner;
    while inner.remaining() >= 12 {
        let size = i32::from_be_bytes(arr(&inner[8..12]));
        let size = usize::try_from(size).map_err(|_| "inner message size".to_string())?;
        if inner.remaining() < 12 + size {
            return Err("inner message truncated".into());
        }
        let e = inner.split_to(12 + size);
        decode_legacy_entry(e, magic, out, depth + 1)?;
    }
    // Magic 1 wrappers carry relative inner offsets; the wrapper's offset is the last one's.
    if magic >= 1 {
        if let Some(last_rel) = out[start..].last().map(|r| r.offset) {
            for r in &mut out[start..] {
                r.offset += offset - last_rel;
            }
        }
        // LogAppendTime (attribute bit 3): every inner record takes the wrapper's timestamp.
        if attributes & 0x08 != 0 {
            for r in &mut out[start..] {
                r.timestamp = timestamp;
            }
        }
    }
    Ok(out.last().map_or(offset, |r| r.offset.max(offset)))
}
