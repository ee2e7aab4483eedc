//! The dashboard's files, compiled into the binary from `crates/burrow-http/ui/` (written by
//! hand: no build step, no toolchain beyond cargo).

use std::sync::OnceLock;

use bytes::Bytes;

/// One static file.
pub(crate) struct Asset {
    /// Path under `/ui/` (`""` is the page itself).
    path: &'static str,
    pub(crate) content_type: &'static str,
    pub(crate) body: &'static [u8],
    etag: &'static str,
    gzipped: OnceLock<Option<Bytes>>,
}

impl Asset {
    /// A strong validator: the body's FNV-1a hash, computed at compile time.
    pub(crate) fn etag(&self) -> &'static str {
        self.etag
    }

    /// The body gzipped (once, on first use).
    pub(crate) fn gzipped(&self) -> Option<Bytes> {
        self.gzipped
            .get_or_init(|| super::gzip_bytes(self.body))
            .clone()
    }
}

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// `"` + 16 hex digits + `"`, at compile time.
const fn etag_bytes(body: &[u8]) -> [u8; 18] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hash = fnv1a(body);
    let mut out = [b'"'; 18];
    let mut i = 0;
    while i < 16 {
        out[1 + i] = HEX[((hash >> (60 - 4 * i)) & 0xf) as usize];
        i += 1;
    }
    out
}

macro_rules! asset {
    ($path:literal, $file:literal, $type:literal) => {{
        const BODY: &[u8] = include_bytes!(concat!("../../ui/", $file));
        const ETAG: [u8; 18] = etag_bytes(BODY);
        Asset {
            path: $path,
            content_type: $type,
            body: BODY,
            etag: match std::str::from_utf8(&ETAG) {
                Ok(s) => s,
                Err(_) => "\"0\"",
            },
            gzipped: OnceLock::new(),
        }
    }};
}

static ASSETS: [Asset; 4] = [
    asset!("", "index.html", "text/html; charset=utf-8"),
    asset!("app.js", "app.js", "text/javascript; charset=utf-8"),
    asset!("app.css", "app.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "favicon.svg", "image/svg+xml"),
];

/// The file at `path` (below `/ui/`).
pub(crate) fn find(path: &str) -> Option<&'static Asset> {
    let path = if path == "index.html" { "" } else { path };
    ASSETS.iter().find(|a| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_found_with_a_distinct_validator() {
        let page = find("").unwrap();
        assert!(std::ptr::eq(page, find("index.html").unwrap()));
        assert!(find("missing.js").is_none());
        let mut etags: Vec<&str> = ASSETS.iter().map(Asset::etag).collect();
        etags.sort_unstable();
        etags.dedup();
        assert_eq!(etags.len(), ASSETS.len());
        assert!(etags.iter().all(|e| e.len() == 18 && e.starts_with('"')));
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        for a in &ASSETS {
            let text = String::from_utf8_lossy(a.body);
            for scheme in ["http://", "https://", "//cdn", "@import"] {
                // The SVG namespace is a name, not a request.
                let hits = text
                    .matches(scheme)
                    .count()
                    .saturating_sub(text.matches("http://www.w3.org/2000/svg").count());
                assert_eq!(hits, 0, "{} names {scheme}", a.path);
            }
        }
    }
}
