//! JSON bodies as Go Burrow writes them (`json.Marshal`, then the bytes as they are): no
//! trailing newline, and strings HTML-safe as Go's encoder makes them (`<`, `>`, `&`, U+2028
//! and U+2029 as `\u` escapes; control characters as Go 1.22+ escapes them, which is
//! serde_json's way).

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

/// serde_json's compact output with Go's HTML-safe string escapes.
struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        // 0xE2 leads U+2028 and U+2029 (and other characters, checked below).
        if !bytes.iter().any(|b| matches!(b, b'<' | b'>' | b'&' | 0xE2)) {
            return writer.write_all(bytes);
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&bytes[start..i])?;
            writer.write_all(escaped.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&bytes[start..])
    }

    fn begin_string<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        CompactFormatter.begin_string(writer)
    }
}

/// `json.Marshal(value)`.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value.serialize(&mut ser)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_html_safe_as_in_go() {
        let v = serde_json::json!({"g": "a<b>&c\u{2028}\u{2029}\"\\\n\u{8}\u{1}é"});
        assert_eq!(
            String::from_utf8(to_vec(&v).unwrap()).unwrap(),
            r#"{"g":"a\u003cb\u003e\u0026c\u2028\u2029\"\\\n\b\u0001é"}"#
        );
    }
}
