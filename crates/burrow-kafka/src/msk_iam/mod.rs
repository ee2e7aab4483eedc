//! MSK IAM authentication as Burrow 1.9.5 does it (`[iam.X]`, named by a client profile's `iam`):
//! SASL OAUTHBEARER with the token of `aws-msk-iam-sasl-signer-go`: the URL
//! `https://kafka.{region}.amazonaws.com/?Action=kafka-cluster:Connect` presigned with AWS
//! Signature Version 4 for 900 s (service `kafka-cluster`), a `User-Agent` parameter added,
//! base64url without padding ([`auth_token`]).
//!
//! Credentials ([`Credentials::load`]), in Burrow's order: `role-arn` (assumed through STS
//! with the default credentials), else `profile` (the shared credentials and config files),
//! else the default chain: the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`), web identity (`AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, through
//! STS), the profile `AWS_PROFILE` (or `default`) of the shared files.

mod credentials;
pub mod sigv4;
pub mod sts;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub use credentials::{CredentialSource, Credentials, Env};

/// Seconds an MSK token is valid (the signer's `DefaultExpirySeconds`).
pub const TOKEN_SECONDS: u32 = 900;

/// What the token's `User-Agent` parameter says.
pub const USER_AGENT: &str = concat!("burrow-rs/", env!("CARGO_PKG_VERSION"));

/// The presigned URL a token encodes, before the `User-Agent` parameter (what botocore's
/// `SigV4QueryAuth` computes for the same request).
pub fn presigned_url(region: &str, creds: &Credentials, now: i64) -> String {
    let host = format!("kafka.{region}.amazonaws.com");
    sigv4::presign(
        &sigv4::Presign {
            scheme: "https",
            host: &host,
            query: vec![("Action".into(), "kafka-cluster:Connect".into())],
            service: "kafka-cluster",
            region,
            expires: TOKEN_SECONDS,
            now,
        },
        creds,
    )
}

/// The OAUTHBEARER token for `region` at `now` (seconds since the epoch), and when it expires
/// (ms since the epoch).
pub fn auth_token(region: &str, creds: &Credentials, now: i64) -> (String, i64) {
    let url = presigned_url(region, creds, now);
    // The signer adds User-Agent and encodes the query again, sorted by key.
    let (base, query) = url.split_once('?').unwrap_or((&url, ""));
    let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let agent = format!("User-Agent={}", sigv4::uri_encode(USER_AGENT));
    pairs.push(&agent);
    pairs.sort_by_key(|p| p.split('=').next().unwrap_or_default());
    let url = format!("{base}?{}", pairs.join("&"));
    let expires_ms = (now + i64::from(TOKEN_SECONDS)) * 1000;
    (URL_SAFE_NO_PAD.encode(url), expires_ms)
}

/// The SASL OAUTHBEARER client-first message (RFC 7628) for `token`.
pub fn oauthbearer_message(token: &str) -> Vec<u8> {
    format!("n,,\x01auth=Bearer {token}\x01\x01").into_bytes()
}
