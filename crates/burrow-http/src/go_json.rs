//! JSON bodies as Go Burrow writes them (`json.Marshal`, then the bytes as they are): no
//! trailing newline, and strings HTML-safe as Go's encoder makes them (`<`, `>`, `&`, U+2028
//! and U+2029 as `\u` escapes; control characters as Go 1.22+ escapes them, which is
//! serde_json's way).
//!
//! serde_json writes the body; the HTML-safe escapes are made afterwards, only where the
//! characters occur (rare), found with SIMD scans. In compact JSON those characters can only
//! be inside strings, so each is replaced where it stands.

use serde::Serialize;

const LINE_SEPARATOR: &[u8] = "\u{2028}".as_bytes();
const PARAGRAPH_SEPARATOR: &[u8] = "\u{2029}".as_bytes();

/// `json.Marshal(value)`.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let json = serde_json::to_vec(value)?;
    Ok(html_safe(json))
}

/// Go's HTML-safe escapes in serialized JSON.
fn html_safe(json: Vec<u8>) -> Vec<u8> {
    let needs = memchr::memchr3(b'<', b'>', b'&', &json).is_some()
        || memchr::memmem::find(&json, LINE_SEPARATOR).is_some()
        || memchr::memmem::find(&json, PARAGRAPH_SEPARATOR).is_some();
    if !needs {
        return json;
    }
    let mut out = Vec::with_capacity(json.len() + 32);
    let mut i = 0;
    while i < json.len() {
        let escaped: Option<(&[u8], usize)> = match json[i] {
            b'<' => Some((b"\\u003c", 1)),
            b'>' => Some((b"\\u003e", 1)),
            b'&' => Some((b"\\u0026", 1)),
            0xE2 if json[i..].starts_with(LINE_SEPARATOR) => Some((b"\\u2028", 3)),
            0xE2 if json[i..].starts_with(PARAGRAPH_SEPARATOR) => Some((b"\\u2029", 3)),
            _ => None,
        };
        match escaped {
            Some((with, len)) => {
                out.extend_from_slice(with);
                i += len;
            }
            None => {
                out.push(json[i]);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_html_safe_as_in_go() {
        let v = serde_json::json!({"g": "a<b>&c\u{2028}\u{2029}\"\\\n\u{8}\u{1}é\u{2027}"});
        assert_eq!(
            String::from_utf8(to_vec(&v).unwrap()).unwrap(),
            "{\"g\":\"a\\u003cb\\u003e\\u0026c\\u2028\\u2029\\\"\\\\\\n\\b\\u0001é\u{2027}\"}"
        );
    }

    #[test]
    fn bodies_without_them_are_untouched() {
        let v = serde_json::json!({"group": "billing", "lag": 12});
        assert_eq!(to_vec(&v).unwrap(), serde_json::to_vec(&v).unwrap());
    }
}
