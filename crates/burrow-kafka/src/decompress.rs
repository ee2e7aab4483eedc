//! Decompression with a size limit. A compressed payload states (or implies) how large it
//! becomes; a hostile or corrupt one could claim gigabytes. These readers stop at
//! [`MAX_DECOMPRESSED`] instead of allocating what the payload claims.

use std::io::Read;

use bytes::Bytes;
use kafka_protocol::records::Compression;

/// Upper bound of one decompressed batch or wrapper message (Kafka's own limit on a batch is
/// `message.max.bytes`, 1 MiB by default; 256 MiB leaves room for any real configuration).
pub(crate) const MAX_DECOMPRESSED: usize = 256 * 1024 * 1024;

/// Decompresses Kafka's codecs, never producing more than `limit` bytes.
pub(crate) fn decompress(data: &[u8], codec: Compression, limit: usize) -> Result<Bytes, String> {
    match codec {
        Compression::None => Ok(Bytes::copy_from_slice(data)),
        Compression::Gzip => read_limited(flate2::read::GzDecoder::new(data), limit),
        Compression::Lz4 => {
            let dec = lz4::Decoder::new(data).map_err(|e| format!("lz4: {e}"))?;
            read_limited(dec, limit)
        }
        Compression::Zstd => {
            let dec = zstd::stream::read::Decoder::new(data).map_err(|e| format!("zstd: {e}"))?;
            read_limited(dec, limit)
        }
        Compression::Snappy => snappy(data, limit),
    }
}

fn read_limited(reader: impl Read, limit: usize) -> Result<Bytes, String> {
    let mut out = Vec::new();
    let n = reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("decompress: {e}"))?;
    if n > limit {
        return Err(format!("decompressed data exceeds {limit} bytes"));
    }
    Ok(Bytes::from(out))
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
