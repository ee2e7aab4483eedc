//! Records of a Fetch response: record batches (v2, any compression) and legacy message sets
//! (v0/v1, including compressed wrapper messages), with control records and aborted transactions
//! recognised and left out.
//!
//! Record batches are read here rather than through kafka-protocol's `RecordBatchDecoder`,
//! which builds a `Record` (with a header map) for every record: [`RawRecords::for_each`]
//! hands out records borrowed from the fetched bytes, with no allocation per record, and
//! [`decode_records`] copies only the `Bytes` handles.

use bytes::{Buf, Bytes};
use kafka_protocol::records::Compression;

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

/// A record borrowed from fetched (or decompressed) bytes, as [`RawRecords::for_each`] hands
/// it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// Offset in the partition.
    pub offset: i64,
    /// Record timestamp (ms), -1 when the format has none.
    pub timestamp: i64,
    /// Key bytes.
    pub key: Option<&'a [u8]>,
    /// Value bytes.
    pub value: Option<&'a [u8]>,
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

/// What reading one partition's records found, besides the records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordsSummary {
    /// Data records handed out (at or above the fetch offset).
    pub records: u64,
    /// The offset to fetch next, as [`RecordsRead::next_offset`].
    pub next_offset: Option<i64>,
    /// Control records (transaction markers) skipped.
    pub control_records: u64,
    /// Records of aborted transactions skipped (read_committed).
    pub aborted_records: u64,
    /// Batches (or legacy entries) skipped because they could not be decoded.
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

/// The `records` bytes of one fetched partition, not decoded yet: where to fetch next is known
/// from the batch headers alone ([`next_offset`](Self::next_offset)), so a reader can ask for
/// more while these are decoded elsewhere.
///
/// A truncated last batch (the broker cut the response at its size limit) is ignored; the next
/// fetch reads it again. Records below the fetch offset (a batch starting before it) are left
/// out. A batch that fails its CRC32C or cannot be decoded is counted and skipped; one that
/// breaks off in the middle keeps the records before the damage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRecords {
    data: Bytes,
    from_offset: i64,
    /// Sorted by first offset.
    aborted: Vec<AbortedTxn>,
}

/// Bytes of a v2 record batch header, up to and including the record count.
const BATCH_HEADER: usize = 61;

impl RawRecords {
    /// Records fetched at `from_offset`, with the aborted transactions of a read_committed
    /// fetch (empty for read_uncommitted).
    pub fn new(data: Bytes, from_offset: i64, aborted: &[AbortedTxn]) -> Self {
        let mut aborted = aborted.to_vec();
        aborted.sort_by_key(|a| a.first_offset);
        RawRecords {
            data,
            from_offset,
            aborted,
        }
    }

    /// Size of the undecoded bytes.
    pub fn len_bytes(&self) -> usize {
        self.data.len()
    }

    /// The offset to fetch next (one past the last complete batch), from the batch headers
    /// only; `None` when no complete batch arrived.
    pub fn next_offset(&self) -> Option<i64> {
        let mut next = None;
        let mut pos = 0;
        while let Some(entry) = Entry::at(&self.data, pos) {
            pos += entry.total;
            if entry.next.is_some() {
                next = entry.next;
            }
        }
        next
    }

    /// Hands every data record to `f`, in offset order, borrowed from the fetched bytes.
    pub fn for_each(&self, f: impl FnMut(RecordRef<'_>)) -> RecordsSummary {
        self.walk(&mut Visit(f))
    }

    /// The records, each key and value a `Bytes` handle into the fetched (or decompressed)
    /// bytes.
    pub fn decode(&self) -> RecordsRead {
        let mut sink = Collect(Vec::new());
        let sum = self.walk(&mut sink);
        RecordsRead {
            records: sink.0,
            next_offset: sum.next_offset,
            control_records: sum.control_records,
            aborted_records: sum.aborted_records,
            corrupt_batches: sum.corrupt_batches,
        }
    }

    fn walk(&self, sink: &mut impl Sink) -> RecordsSummary {
        let mut sum = RecordsSummary::default();
        let mut txns = Transactions {
            aborted: &self.aborted,
            next: 0,
            active: Vec::new(),
        };
        let mut pos = 0;
        while let Some(entry) = Entry::at(&self.data, pos) {
            let bytes = &self.data[pos..pos + entry.total];
            pos += entry.total;
            if entry.next.is_some() {
                sum.next_offset = entry.next;
            }
            let result = match entry.magic {
                2 => self.batch(&self.data, bytes, entry.base, &mut txns, sink, &mut sum),
                0 | 1 => {
                    let mut legacy = Vec::new();
                    let r = decode_legacy_entry(
                        self.data.slice_ref(bytes),
                        entry.magic,
                        &mut legacy,
                        0,
                    );
                    // A wrapper that fails part-way delivers nothing.
                    if r.is_ok() {
                        for rec in legacy.into_iter().filter(|r| r.offset >= self.from_offset) {
                            sum.records += 1;
                            sink.owned(rec);
                        }
                    }
                    r.map(|_| ())
                }
                m => Err(format!("unknown magic byte {m}")),
            };
            if let Err(e) = result {
                tracing::warn!(offset = entry.base, error = %e, "undecodable record batch skipped");
                sum.corrupt_batches += 1;
            }
        }
        if self.data.len().saturating_sub(pos) >= 17 && Entry::length(&self.data, pos).is_none() {
            // A negative length: nothing after it can be framed.
            sum.corrupt_batches += 1;
        }
        sum
    }

    /// One v2 record batch (`b`, a slice of `data`).
    fn batch(
        &self,
        data: &Bytes,
        b: &[u8],
        base: i64,
        txns: &mut Transactions<'_>,
        sink: &mut impl Sink,
        sum: &mut RecordsSummary,
    ) -> LegacyResult<()> {
        if b.len() < BATCH_HEADER {
            return Err("record batch header truncated".into());
        }
        let crc = u32::from_be_bytes(arr(&b[17..21]));
        if crc32c::crc32c(&b[21..]) != crc {
            return Err("record batch CRC32C mismatch".into());
        }
        let attributes = i16::from_be_bytes(arr(&b[21..23]));
        let last_delta = i32::from_be_bytes(arr(&b[23..27]));
        let base_ts = i64::from_be_bytes(arr(&b[27..35]));
        let max_ts = i64::from_be_bytes(arr(&b[35..43]));
        let producer = i64::from_be_bytes(arr(&b[43..51]));
        let count = i32::from_be_bytes(arr(&b[57..61]));
        let count = u64::try_from(count).map_err(|_| format!("negative record count {count}"))?;
        let (transactional, control) = (attributes & 0x10 != 0, attributes & 0x20 != 0);
        txns.reach(base.wrapping_add(i64::from(last_delta)));
        if control {
            // A commit or abort marker ends the producer's transaction either way.
            sum.control_records += count;
            txns.end(producer);
            return Ok(());
        }
        if transactional && txns.aborted(producer) {
            sum.aborted_records += count;
            return Ok(());
        }
        let time = if attributes & 0x08 != 0 {
            Time::LogAppend(max_ts)
        } else {
            Time::Create(base_ts)
        };
        let payload = &b[BATCH_HEADER..];
        let codec = match attributes & 0x07 {
            0 => None,
            1 => Some(Compression::Gzip),
            2 => Some(Compression::Snappy),
            3 => Some(Compression::Lz4),
            4 => Some(Compression::Zstd),
            c => return Err(format!("unknown compression codec {c}")),
        };
        match codec {
            None => self.records(data, payload, count, base, time, sink, sum),
            Some(c) => {
                let plain = decompress(payload, c, MAX_DECOMPRESSED)?;
                self.records(&plain, &plain, count, base, time, sink, sum)
            }
        }
    }

    /// The `count` records in `buf` (a slice of `backing`).
    #[allow(clippy::too_many_arguments)]
    fn records(
        &self,
        backing: &Bytes,
        buf: &[u8],
        count: u64,
        base: i64,
        time: Time,
        sink: &mut impl Sink,
        sum: &mut RecordsSummary,
    ) -> LegacyResult<()> {
        let mut pos = 0;
        for _ in 0..count {
            let len = varint(buf, &mut pos)?;
            let len = usize::try_from(len).map_err(|_| format!("negative record length {len}"))?;
            let rec = buf
                .get(pos..pos.saturating_add(len))
                .ok_or("record truncated")?;
            pos += len;
            let mut p = 1; // attributes (unused)
            let ts_delta = varlong(rec, &mut p)?;
            let offset = base.wrapping_add(i64::from(varint(rec, &mut p)?));
            let key = bytes_field(rec, &mut p)?;
            let value = bytes_field(rec, &mut p)?;
            // Headers follow; the record length steps over them.
            if offset < self.from_offset {
                continue;
            }
            let timestamp = match time {
                Time::LogAppend(t) => t,
                Time::Create(t) => t.wrapping_add(ts_delta),
            };
            sum.records += 1;
            sink.borrowed(
                backing,
                RecordRef {
                    offset,
                    timestamp,
                    key,
                    value,
                },
            );
        }
        Ok(())
    }
}

/// Decodes the `records` bytes of one fetched partition (see [`RawRecords`]).
pub fn decode_records(data: Bytes, from_offset: i64, aborted: &[AbortedTxn]) -> RecordsRead {
    RawRecords::new(data, from_offset, aborted).decode()
}

/// One complete entry (v2 batch or legacy message) at a position of the fetched bytes.
struct Entry {
    base: i64,
    total: usize,
    magic: i8,
    /// Where the next fetch starts once this entry is read.
    next: Option<i64>,
}

impl Entry {
    /// The entry's length field, when it is not negative.
    fn length(data: &[u8], pos: usize) -> Option<usize> {
        let len = i32::from_be_bytes(arr(data.get(pos + 8..pos + 12)?));
        usize::try_from(len).ok()
    }

    /// The complete entry starting at `pos`, if any (a cut-off last one is not).
    fn at(data: &[u8], pos: usize) -> Option<Entry> {
        let rest = data.get(pos..)?;
        if rest.len() < 17 {
            return None;
        }
        let base = i64::from_be_bytes(arr(&rest[0..8]));
        let total = 12 + Self::length(data, pos)?;
        if rest.len() < total {
            return None;
        }
        // An entry too short to hold the magic byte is no entry of a known format.
        let magic = if total >= 17 { rest[16] as i8 } else { -1 };
        let next = if magic == 2 {
            // The last offset delta, when the header has it: batches may end in records
            // compacted away or be control batches, so this is where the batch ends.
            rest.get(23..27).filter(|_| total >= 27).map(|d| {
                base.wrapping_add(i64::from(i32::from_be_bytes(arr(d))))
                    .wrapping_add(1)
            })
        } else if total >= 17 {
            // A legacy entry's (wrapper's) offset is its last record's.
            Some(base.wrapping_add(1))
        } else {
            None
        };
        Some(Entry {
            base,
            total,
            magic,
            next,
        })
    }
}

/// How a batch's records get their timestamps.
#[derive(Clone, Copy)]
enum Time {
    /// CreateTime: base timestamp plus each record's delta.
    Create(i64),
    /// LogAppendTime: the batch's max timestamp for every record.
    LogAppend(i64),
}

/// Aborted transactions of a read_committed fetch, followed batch by batch.
struct Transactions<'a> {
    aborted: &'a [AbortedTxn],
    next: usize,
    /// Producers whose aborted transaction has started and not yet met its marker.
    active: Vec<i64>,
}

impl Transactions<'_> {
    /// Every aborted transaction starting at or before `last` (a batch's last offset) is open.
    fn reach(&mut self, last: i64) {
        while let Some(a) = self
            .aborted
            .get(self.next)
            .filter(|a| a.first_offset <= last)
        {
            self.active.push(a.producer_id);
            self.next += 1;
        }
    }

    fn end(&mut self, producer: i64) {
        self.active.retain(|p| *p != producer);
    }

    fn aborted(&self, producer: i64) -> bool {
        self.active.contains(&producer)
    }
}

/// Where decoded records go.
trait Sink {
    /// A record borrowed from `backing`.
    fn borrowed(&mut self, backing: &Bytes, rec: RecordRef<'_>);
    /// A record of a legacy message set.
    fn owned(&mut self, rec: FetchedRecord);
}

struct Visit<F>(F);

impl<F: FnMut(RecordRef<'_>)> Sink for Visit<F> {
    fn borrowed(&mut self, _: &Bytes, rec: RecordRef<'_>) {
        (self.0)(rec);
    }

    fn owned(&mut self, rec: FetchedRecord) {
        (self.0)(RecordRef {
            offset: rec.offset,
            timestamp: rec.timestamp,
            key: rec.key.as_deref(),
            value: rec.value.as_deref(),
        });
    }
}

struct Collect(Vec<FetchedRecord>);

impl Sink for Collect {
    fn borrowed(&mut self, backing: &Bytes, rec: RecordRef<'_>) {
        // The slices were cut from `backing`, so `slice_ref` holds.
        self.0.push(FetchedRecord {
            offset: rec.offset,
            timestamp: rec.timestamp,
            key: rec.key.map(|k| backing.slice_ref(k)),
            value: rec.value.map(|v| backing.slice_ref(v)),
        });
    }

    fn owned(&mut self, rec: FetchedRecord) {
        self.0.push(rec);
    }
}

/// A zigzag varlong.
#[inline]
fn varlong(buf: &[u8], pos: &mut usize) -> LegacyResult<i64> {
    // Most varints of a record (attributes aside: deltas, lengths) fit in one byte.
    if let Some(&b) = buf.get(*pos) {
        if b < 0x80 {
            *pos += 1;
            return Ok(i64::from(b >> 1) ^ -i64::from(b & 1));
        }
    }
    let mut n: u64 = 0;
    let mut shift = 0u32;
    loop {
        let b = *buf.get(*pos).ok_or("varint truncated")?;
        *pos += 1;
        n |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return Err("varint too long".into());
        }
    }
    Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
}

/// A zigzag varint.
fn varint(buf: &[u8], pos: &mut usize) -> LegacyResult<i32> {
    let n = varlong(buf, pos)?;
    i32::try_from(n).map_err(|_| format!("varint out of range: {n}"))
}

/// A varint length (-1 for null) and that many bytes.
fn bytes_field<'a>(rec: &'a [u8], pos: &mut usize) -> LegacyResult<Option<&'a [u8]>> {
    let len = varint(rec, pos)?;
    if len < 0 {
        return Ok(None);
    }
    let len = len as usize;
    let b = rec
        .get(*pos..pos.saturating_add(len))
        .ok_or("record field truncated")?;
    *pos += len;
    Ok(Some(b))
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
