//! Decompression with a size limit. A compressed payload states (or implies) how large it
//! becomes; a hostile or corrupt one could claim gigabytes. These readers stop at
//! [`MAX_DECOMPRESSED`] instead of allocating what the payload claims.

use std::cell::RefCell;
use std::io::Read;

use bytes::Bytes;
use kafka_protocol::records::Compression;
use zstd::stream::raw::Operation;

/// Upper bound of one decompressed batch or wrapper message (Kafka's own limit on a batch is
/// `message.max.bytes`, 1 MiB by default; 256 MiB leaves room for any real configuration).
pub(crate) const MAX_DECOMPRESSED: usize = 256 * 1024 * 1024;

/// Decompresses Kafka's codecs, never producing more than `limit` bytes.
pub(crate) fn decompress(data: &[u8], codec: Compression, limit: usize) -> Result<Bytes, String> {
    match codec {
        Compression::None => Ok(Bytes::copy_from_slice(data)),
        Compression::Gzip => read_limited(flate2::read::GzDecoder::new(data), data.len(), limit),
        Compression::Lz4 => lz4_frame(data, limit).map(Bytes::from),
        Compression::Zstd => zstd(data, limit).map(Bytes::from),
        Compression::Snappy => snappy(data, limit),
    }
}

fn read_limited(reader: impl Read, compressed: usize, limit: usize) -> Result<Bytes, String> {
    let mut out = Vec::with_capacity(compressed.saturating_mul(4).min(limit));
    let n = reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("decompress: {e}"))?;
    if n > limit {
        return Err(format!("decompressed data exceeds {limit} bytes"));
    }
    Ok(Bytes::from(out))
}

/// Grows `out` so that `room` bytes follow `filled` (zeroing only what was never used), never
/// past one byte more than `limit`.
fn make_room(out: &mut Vec<u8>, filled: usize, room: usize, limit: usize) -> Result<(), String> {
    let want = filled.saturating_add(room).min(limit.saturating_add(1));
    if want <= filled {
        return Err(format!("decompressed data exceeds {limit} bytes"));
    }
    if out.len() < want {
        out.resize(want, 0);
    }
    Ok(())
}

/// Reads a little-endian u32 at `at`.
fn le32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// One LZ4 frame (the format Kafka uses since message format v1, and, with a wrong header
/// checksum, before it: KAFKA-3160), its blocks decompressed by `lz4_flex`. The header, block
/// and content checksums are not verified, as Kafka's own read path does not verify them
/// (KAFKA-20528): the record batch's CRC32C, checked before this runs, covers these bytes.
fn lz4_frame(data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    const MAGIC: u32 = 0x184D_2204;
    if le32(data, 0) != Some(MAGIC) {
        return Err("lz4: not an LZ4 frame".into());
    }
    let (Some(&flg), Some(&bd)) = (data.get(4), data.get(5)) else {
        return Err("lz4: truncated frame header".into());
    };
    if flg >> 6 != 1 {
        return Err(format!("lz4: unsupported frame version {}", flg >> 6));
    }
    let independent = flg & 0x20 != 0;
    let block_checksums = flg & 0x10 != 0;
    let block_max: usize = match (bd >> 4) & 0x07 {
        4 => 64 << 10,
        5 => 256 << 10,
        6 => 1 << 20,
        7 => 4 << 20,
        b => return Err(format!("lz4: bad block size code {b}")),
    };
    let mut pos = 6;
    let mut content_size = None;
    if flg & 0x08 != 0 {
        let b = data.get(6..14).ok_or("lz4: truncated frame header")?;
        content_size = Some(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]));
        pos += 8;
    }
    if flg & 0x01 != 0 {
        pos += 4; // dictionary id: Kafka never sets one
    }
    pos += 1; // header checksum

    // The size the frame states, never believed beyond what its bytes can hold (LZ4 expands
    // at most 255-fold) or the limit.
    let most = data.len().saturating_mul(255).min(limit);
    let guess = content_size.map_or(data.len().saturating_mul(4), |n| {
        usize::try_from(n).unwrap_or(usize::MAX)
    });
    let mut out = Vec::with_capacity(guess.min(most));
    let mut filled = 0usize;
    loop {
        let size = le32(data, pos).ok_or("lz4: truncated block size")?;
        pos += 4;
        if size == 0 {
            break; // end mark; a content checksum may follow
        }
        let stored = size & 0x8000_0000 != 0;
        let n = (size & 0x7fff_ffff) as usize;
        let block = data
            .get(pos..pos.saturating_add(n))
            .ok_or("lz4: truncated block")?;
        pos += n + if block_checksums { 4 } else { 0 };
        if stored {
            make_room(&mut out, filled, n, limit)?;
            out[filled..filled + n].copy_from_slice(block);
            filled += n;
        } else {
            // A block of n bytes grows at most 255-fold: small frames need no full block.
            make_room(
                &mut out,
                filled,
                block_max.min(n.saturating_mul(255).max(64)),
                limit,
            )?;
            let written = if independent {
                lz4_flex::block::decompress_into(block, &mut out[filled..])
            } else {
                // Linked blocks refer back up to 64 KiB into what came before.
                let (before, rest) = out.split_at_mut(filled);
                let dict = &before[filled.saturating_sub(64 << 10)..];
                lz4_flex::block::decompress_into_with_dict(block, rest, dict)
            }
            .map_err(|e| format!("lz4: {e}"))?;
            filled += written.min(block_max);
        }
        if filled > limit {
            return Err(format!("decompressed data exceeds {limit} bytes"));
        }
    }
    out.truncate(filled);
    Ok(out)
}

thread_local! {
    /// One zstd decompression context per thread, reused: creating one per batch (and its
    /// window buffer) costs more than decompressing a typical batch.
    static ZSTD: RefCell<Option<zstd::stream::raw::Decoder<'static>>> = const { RefCell::new(None) };
}

/// Zstd frames (one or more), streamed through this thread's context.
fn zstd(data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    ZSTD.with(|cell| {
        let mut slot = cell.borrow_mut();
        let dec = match slot.as_mut() {
            Some(d) => {
                d.reinit().map_err(|e| format!("zstd: {e}"))?;
                d
            }
            None => {
                slot.insert(zstd::stream::raw::Decoder::new().map_err(|e| format!("zstd: {e}"))?)
            }
        };
        // A first guess of the size, doubled while it is too small.
        let mut out = vec![
            0u8;
            data.len()
                .saturating_mul(4)
                .clamp(256, limit.saturating_add(1))
        ];
        let (mut read, mut filled) = (0usize, 0usize);
        loop {
            if filled == out.len() {
                make_room(&mut out, filled, filled, limit)?;
            }
            let st = dec
                .run_on_buffers(&data[read..], &mut out[filled..])
                .map_err(|e| format!("zstd: {e}"))?;
            read += st.bytes_read;
            filled += st.bytes_written;
            if filled > limit {
                return Err(format!("decompressed data exceeds {limit} bytes"));
            }
            if st.remaining == 0 && read == data.len() {
                break;
            }
            if st.bytes_read == 0 && st.bytes_written == 0 {
                if read == data.len() {
                    return Err("zstd: truncated frame".into());
                }
                // No progress with input left although there was room.
                if filled < out.len() {
                    return Err("zstd: decoder made no progress".into());
                }
            }
        }
        out.truncate(filled);
        Ok(out)
    })
}

const XERIAL_MAGIC: &[u8] = b"\x82SNAPPY\x00";

/// Snappy as Kafka writes it: Java clients use xerial's framing (a 16-byte header, then blocks
/// each preceded by an int32 length), others raw snappy.
fn snappy(data: &[u8], limit: usize) -> Result<Bytes, String> {
    let mut out = Vec::new();
    let block = |raw: &[u8], out: &mut Vec<u8>| -> Result<(), String> {
        let len = snap::raw::decompress_len(raw).map_err(|e| format!("snappy: {e}"))?;
        if out.len() + len > limit {
            return Err(format!("decompressed data exceeds {limit} bytes"));
        }
        let start = out.len();
        out.resize(start + len, 0);
        snap::raw::Decoder::new()
            .decompress(raw, &mut out[start..])
            .map_err(|e| format!("snappy: {e}"))?;
        Ok(())
    };
    if data.len() >= 16 && data.starts_with(XERIAL_MAGIC) {
        let mut rest = &data[16..];
        while !rest.is_empty() {
            if rest.len() < 4 {
                return Err("snappy: truncated block length".into());
            }
            let n = i32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let n = usize::try_from(n).map_err(|_| "snappy: negative block length".to_string())?;
            if rest.len() < 4 + n {
                return Err("snappy: truncated block".into());
            }
            block(&rest[4..4 + n], &mut out)?;
            rest = &rest[4 + n..];
        }
    } else {
        block(data, &mut out)?;
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snappy_block_claiming_gigabytes_is_refused_before_allocating() {
        // Raw snappy header: uvarint uncompressed length 0xa2_1e_cb_00 (~2.7 GB), no data.
        let err = decompress(
            &[0x80, 0x96, 0xaf, 0x90, 0x0a],
            Compression::Snappy,
            MAX_DECOMPRESSED,
        )
        .unwrap_err();
        assert!(err.contains("exceeds"), "{err}");
    }

    #[test]
    fn gzip_stops_at_the_limit() {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&vec![0u8; 100_000]).unwrap();
        let z = e.finish().unwrap();
        assert!(decompress(&z, Compression::Gzip, 10_000).is_err());
        assert_eq!(
            decompress(&z, Compression::Gzip, 100_000).unwrap().len(),
            100_000
        );
    }

    #[test]
    fn xerial_snappy_blocks() {
        let block = snap::raw::Encoder::new()
            .compress_vec(b"hello hello hello")
            .unwrap();
        let mut framed = XERIAL_MAGIC.to_vec();
        framed.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1]);
        for _ in 0..2 {
            framed.extend_from_slice(&(block.len() as i32).to_be_bytes());
            framed.extend_from_slice(&block);
        }
        let out = decompress(&framed, Compression::Snappy, 1000).unwrap();
        assert_eq!(&out[..], b"hello hello hellohello hello hello");
    }
}

#[cfg(test)]
mod limits {
    use super::*;

    fn lz4(data: &[u8]) -> Vec<u8> {
        let mut frame = vec![0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x00];
        for chunk in data.chunks(64 << 10) {
            let c = lz4_flex::block::compress(chunk);
            frame.extend_from_slice(&(c.len() as u32).to_le_bytes());
            frame.extend_from_slice(&c);
        }
        frame.extend_from_slice(&0u32.to_le_bytes());
        frame
    }

    #[test]
    fn lz4_and_zstd_stop_at_the_limit() {
        let data = vec![7u8; 300_000];
        let l = lz4(&data);
        assert_eq!(
            decompress(&l, Compression::Lz4, 300_000).unwrap().len(),
            300_000
        );
        assert!(decompress(&l, Compression::Lz4, 299_999).is_err());
        let z = zstd::bulk::compress(&data, 3).unwrap();
        assert_eq!(
            decompress(&z, Compression::Zstd, 300_000).unwrap().len(),
            300_000
        );
        let err = decompress(&z, Compression::Zstd, 100_000).unwrap_err();
        assert!(err.contains("exceeds"), "{err}");
        // Truncated input is an error, never a hang or a panic.
        assert!(decompress(&l[..l.len() - 10], Compression::Lz4, 1 << 20).is_err());
        assert!(decompress(&z[..z.len() - 3], Compression::Zstd, 1 << 20).is_err());
        assert!(decompress(&[], Compression::Zstd, 1 << 20).is_err());
    }
}
