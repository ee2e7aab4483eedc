//! The web dashboard under `/ui/`: static pages compiled into the binary ([`assets`]) and the
//! JSON they read ([`data`]), on the same listener as the API.
//!
//! Every response carries a Content-Security-Policy that allows the page's own origin only, so
//! nothing the dashboard shows can load or send anything elsewhere. Bodies are gzipped for
//! clients that accept it.

mod assets;
mod data;

use std::io::Write;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{
    HeaderMap, HeaderValue, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING,
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION, REFERRER_POLICY, VARY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use hyper::{Method, Response, StatusCode};

use crate::routes::{plain, HttpResponse};
use crate::Api;

/// The dashboard's path prefix.
pub const DASHBOARD_PATH: &str = "/ui/";

/// Only the page's own origin: scripts, styles, images, requests.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Bodies smaller than this are sent as they are.
const GZIP_FROM: usize = 1024;

impl Api {
    /// Answers a request for the dashboard (`/ui` and below), or `None` when `path` is not the
    /// dashboard's. `headers` are the request's (`Accept-Encoding`, `If-None-Match`).
    pub fn respond_dashboard(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Option<HttpResponse> {
        if path == "/ui" {
            return Some(secure(moved("/ui/")));
        }
        let rest = path.strip_prefix(DASHBOARD_PATH)?;
        if *method != Method::GET && *method != Method::HEAD {
            let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
            resp.headers_mut()
                .insert(hyper::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return Some(secure(resp));
        }
        let gzip = accepts_gzip(headers);
        let resp = match rest.strip_prefix("api/") {
            Some(endpoint) => self.dashboard_data(endpoint, query.unwrap_or(""), gzip),
            None => match assets::find(rest) {
                Some(asset) => asset_response(asset, gzip, headers),
                None => plain(StatusCode::NOT_FOUND, "404 page not found\n"),
            },
        };
        Some(secure(resp))
    }

    fn dashboard_data(&self, endpoint: &str, query: &str, gzip: bool) -> HttpResponse {
        let now = (self.inner.clock)();
        let params = data::Params::parse(query);
        let body = match endpoint {
            "overview" => Ok(data::overview(&self.inner, now)),
            "group" => data::group(&self.inner, now, &params),
            "topic" => data::topic(&self.inner, now, &params),
            _ => Err((
                StatusCode::NOT_FOUND,
                "unknown dashboard endpoint".to_string(),
            )),
        };
        let (code, bytes) = match body.and_then(|v| {
            serde_json::to_vec(&v).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
        }) {
            Ok(bytes) => (StatusCode::OK, bytes),
            Err((code, message)) => (
                code,
                serde_json::to_vec(&serde_json::json!({"error": true, "message": message}))
                    .unwrap_or_default(),
            ),
        };
        let mut resp = body_response(code, "application/json", Bytes::from(bytes), gzip);
        resp.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

/// Whether the client takes gzip (`Accept-Encoding: gzip`, not refused with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| p.replace(' ', "") == "q=0" || p == "q=0.0");
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn gzip_bytes(body: &[u8]) -> Option<Bytes> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    enc.write_all(body).ok()?;
    enc.finish().ok().map(Bytes::from)
}

fn body_response(
    code: StatusCode,
    content_type: &'static str,
    body: Bytes,
    gzip: bool,
) -> HttpResponse {
    let compressed = (gzip && body.len() >= GZIP_FROM)
        .then(|| gzip_bytes(&body))
        .flatten();
    let is_gzip = compressed.is_some();
    let mut resp = Response::new(Full::new(compressed.unwrap_or(body)));
    *resp.status_mut() = code;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    if is_gzip {
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp
}

fn asset_response(asset: &'static assets::Asset, gzip: bool, headers: &HeaderMap) -> HttpResponse {
    let etag = asset.etag();
    let matches = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut resp = if matches {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let gzipped = gzip.then(|| asset.gzipped()).flatten();
        let mut r = Response::new(Full::new(
            gzipped.clone().unwrap_or(Bytes::from_static(asset.body)),
        ));
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        if gzipped.is_some() {
            r.headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        r
    };
    let h = resp.headers_mut();
    h.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(ETAG, v);
    }
    resp
}

fn moved(location: &'static str) -> HttpResponse {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::MOVED_PERMANENTLY;
    resp.headers_mut()
        .insert(LOCATION, HeaderValue::from_static(location));
    resp
}

/// The headers every dashboard response carries.
fn secure(mut resp: HttpResponse) -> HttpResponse {
    let h = resp.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn gzip_is_sent_only_to_clients_that_take_it() {
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "gzip, deflate, br"
        )])));
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "br;q=1, GZIP;q=0.5"
        )])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "identity")])));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
