//! Primitive readers and writers of Kafka's "classic" and "flexible" encodings, borrowing from the
//! input. Every read names the field it is reading so that an error says where a record broke.

use super::{DecodeError, DecodeErrorKind};

/// A cursor over one record's key or value bytes.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::new(
                field,
                DecodeErrorKind::Truncated {
                    needed: n,
                    available: self.remaining(),
                },
            ));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub(crate) fn i8(&mut self, field: &'static str) -> Result<i8, DecodeError> {
        Ok(i8::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn i16(&mut self, field: &'static str) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn uuid(&mut self, field: &'static str) -> Result<[u8; 16], DecodeError> {
        self.array(field)
    }

    pub(crate) fn i32(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn i64(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array(field)?))
    }

    /// Kafka's unsigned varint (at most 5 bytes for a u32).
    pub(crate) fn uvarint(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let mut value: u32 = 0;
        for i in 0..5 {
            let [b] = self.array::<1>(field)?;
            if i == 4 && b > 0x0f {
                return Err(DecodeError::new(field, DecodeErrorKind::VarintOverflow));
            }
            value |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::new(field, DecodeErrorKind::VarintOverflow))
    }

    fn utf8(bytes: &'a [u8], field: &'static str) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(bytes)
            .map_err(|_| DecodeError::new(field, DecodeErrorKind::InvalidUtf8))
    }

    /// A nullable string in either encoding: `None` for null.
    pub(crate) fn nullable_string(
        &mut self,
        flexible: bool,
        field: &'static str,
    ) -> Result<Option<&'a str>, DecodeError> {
        let len = if flexible {
            // Compact: uvarint N, where 0 = null and N - 1 bytes follow.
            match self.uvarint(field)? {
                0 => return Ok(None),
                n => (n - 1) as usize,
            }
        } else {
            match self.i16(field)? {
                -1 => return Ok(None),
                n if n < 0 => {
                    return Err(DecodeError::new(
                        field,
                        DecodeErrorKind::NegativeLength(i32::from(n)),
                    ))
                }
                n => n as usize,
            }
        };
        let bytes = self.take(len, field)?;
        Self::utf8(bytes, field).map(Some)
    }

    /// A string that Kafka never writes as null; a null reads as empty (as Burrow does).
    pub(crate) fn string(
        &mut self,
        flexible: bool,
        field: &'static str,
    ) -> Result<&'a str, DecodeError> {
        Ok(self.nullable_string(flexible, field)?.unwrap_or(""))
    }

    /// Nullable bytes in either encoding.
    pub(crate) fn nullable_bytes(
        &mut self,
        flexible: bool,
        field: &'static str,
    ) -> Result<Option<&'a [u8]>, DecodeError> {
        let len = if flexible {
            match self.uvarint(field)? {
                0 => return Ok(None),
                n => (n - 1) as usize,
            }
        } else {
            match self.i32(field)? {
                -1 => return Ok(None),
                n if n < 0 => {
                    return Err(DecodeError::new(field, DecodeErrorKind::NegativeLength(n)))
                }
                n => n as usize,
            }
        };
        self.take(len, field).map(Some)
    }

    /// The element count of an array; null arrays read as empty. A count above the bytes left
    /// fails at once; callers reserve at most `remaining / min_element_bytes` elements, so a
    /// hostile count never makes the decoder reserve memory the input cannot fill.
    pub(crate) fn array_len(
        &mut self,
        flexible: bool,
        field: &'static str,
    ) -> Result<usize, DecodeError> {
        let len = if flexible {
            match self.uvarint(field)? {
                0 => return Ok(0),
                n => (n - 1) as usize,
            }
        } else {
            match self.i32(field)? {
                -1 => return Ok(0),
                n if n < 0 => {
                    return Err(DecodeError::new(field, DecodeErrorKind::NegativeLength(n)))
                }
                n => n as usize,
            }
        };
        if len > self.remaining() {
            return Err(DecodeError::new(
                field,
                DecodeErrorKind::Truncated {
                    needed: len,
                    available: self.remaining(),
                },
            ));
        }
        Ok(len)
    }

    /// A safe capacity for `count` elements of at least `min_element_bytes` each.
    pub(crate) fn capacity(&self, count: usize, min_element_bytes: usize) -> usize {
        count.min(self.remaining() / min_element_bytes.max(1))
    }

    /// Skips a tagged-field section (flexible versions), returning how many fields it held.
    pub(crate) fn tagged_fields(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let count = self.uvarint(field)?;
        for _ in 0..count {
            self.uvarint(field)?; // tag
            let size = self.uvarint(field)? as usize;
            self.take(size, field)?;
        }
        Ok(count)
    }

    /// The tagged-field section that ends a record value. Burrow never reads it, so a value that
    /// ends before it (a writer that leaves the empty section out) or whose section does not
    /// parse is taken as it is: the fields before it are unambiguous.
    pub(crate) fn trailing_tagged_fields(&mut self) {
        if self.remaining() > 0 && self.tagged_fields("tagged_fields").is_err() {
            self.take(self.remaining(), "tagged_fields").ok();
        }
    }
}

/// Appends Kafka encodings to a byte vector.
pub(crate) struct Writer<'a> {
    pub(crate) out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    pub(crate) fn i8(&mut self, v: i8) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn uuid(&mut self, v: &[u8; 16]) {
        self.out.extend_from_slice(v);
    }
    pub(crate) fn i16(&mut self, v: i16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn i32(&mut self, v: i32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn i64(&mut self, v: i64) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn uvarint(&mut self, mut v: u32) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }
    /// Lengths are clamped by the caller's types: Kafka strings are at most `i16::MAX` bytes in
    /// classic encoding; longer input is an encoder misuse and is truncated at a char boundary.
    pub(crate) fn nullable_string(&mut self, flexible: bool, s: Option<&str>) {
        match s {
            None if flexible => self.uvarint(0),
            None => self.i16(-1),
            Some(s) => {
                let s = if flexible {
                    s
                } else {
                    truncate_str(s, i16::MAX as usize)
                };
                if flexible {
                    self.uvarint(s.len() as u32 + 1);
                } else {
                    self.i16(s.len() as i16);
                }
                self.out.extend_from_slice(s.as_bytes());
            }
        }
    }
    pub(crate) fn string(&mut self, flexible: bool, s: &str) {
        self.nullable_string(flexible, Some(s));
    }
    pub(crate) fn nullable_bytes(&mut self, flexible: bool, b: Option<&[u8]>) {
        match b {
            None if flexible => self.uvarint(0),
            None => self.i32(-1),
            Some(b) => {
                if flexible {
                    self.uvarint(b.len() as u32 + 1);
                } else {
                    self.i32(b.len() as i32);
                }
                self.out.extend_from_slice(b);
            }
        }
    }
    pub(crate) fn array_len(&mut self, flexible: bool, n: usize) {
        if flexible {
            self.uvarint(n as u32 + 1);
        } else {
            self.i32(n as i32);
        }
    }
    /// An empty tagged-field section.
    pub(crate) fn no_tagged_fields(&mut self) {
        self.uvarint(0);
    }
}

fn truncate_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
