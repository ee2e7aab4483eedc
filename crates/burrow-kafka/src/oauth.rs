//! SASL OAUTHBEARER (RFC 7628) tokens: from an OAuth 2 / OIDC token endpoint with the client
//! credentials grant (RFC 6749 §4.4, a scope), refreshed once 80 % of a token's lifetime has
//! passed (Kafka's `sasl.login.refresh.window.factor`), or from a file re-read at every
//! connection (a sidecar keeps it fresh). Extensions (KIP-342, `logicalCluster=…` for Confluent
//! Cloud, say) go into the client's message.
//!
//! The client proves itself to the endpoint ([`ClientAuth`]) with its secret in HTTP Basic
//! (`client_secret_basic`), or without a shared secret (Kafka's KIP-1258): with a JWT assertion
//! signed here by its private key for every request (`private_key_jwt`, RFC 7523 §2.2), or with
//! an assertion another process keeps fresh in a file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Mutex;

/// Where tokens come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// An OAuth 2 token endpoint, client credentials grant.
    ClientCredentials {
        /// The token endpoint's URL.
        url: String,
        /// The client id.
        client_id: String,
        /// How the client proves itself.
        client_auth: ClientAuth,
        /// The scope asked (empty: none).
        scope: String,
    },
    /// A file holding the token, read at every connection.
    File(PathBuf),
}

/// How the client proves itself to the token endpoint.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`: the client id and this secret in HTTP Basic.
    Secret(String),
    /// `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): an assertion made for every token
    /// request, signed with a private key.
    PrivateKeyJwt(AssertionKey),
    /// An assertion made elsewhere, in a file read at every token request.
    AssertionFile(PathBuf),
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientAuth::Secret(_) => f.write_str("Secret(REDACTED)"),
            ClientAuth::PrivateKeyJwt(k) => f.debug_tuple("PrivateKeyJwt").field(k).finish(),
            ClientAuth::AssertionFile(p) => f.debug_tuple("AssertionFile").field(p).finish(),
        }
    }
}

/// The key and claims of `private_key_jwt` assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionKey {
    /// PEM private key (PKCS#8, or PKCS#1 for RSA, SEC1 for EC), read at every token request,
    /// so a rotated key is used at once.
    pub file: PathBuf,
    /// `RS256` (default), `RS384`, `RS512`, `PS256`, `PS384`, `PS512`, `ES256`, `ES384` or
    /// `EdDSA`.
    pub algorithm: String,
    /// The `kid` header, when the endpoint needs it to find the key.
    pub key_id: Option<String>,
    /// The `aud` claim; the token endpoint's URL when `None`.
    pub audience: Option<String>,
}

/// How long an assertion is valid (seconds): one request's worth, as Kafka's default.
const ASSERTION_LIFETIME_S: u64 = 300;
/// How far back an assertion's `nbf` is put, for clocks a little ahead of ours (seconds).
const ASSERTION_CLOCK_SKEW_S: u64 = 60;
/// RFC 7523 §2.2's `client_assertion_type`.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The claims of a client assertion.
#[derive(serde::Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
    jti: String,
}

impl AssertionKey {
    /// The signing algorithm named, or why it is not one.
    pub fn check_algorithm(name: &str) -> Result<(), String> {
        algorithm(name).map(|_| ())
    }

    /// Reads the key file and makes a key of it, as [`Self::assertion`] does: for checking a
    /// configuration at start. Errors name the file, never its contents.
    pub fn check_key(&self) -> Result<(), String> {
        self.encoding_key().map(|_| ())
    }

    fn encoding_key(&self) -> Result<(jsonwebtoken::Algorithm, jsonwebtoken::EncodingKey), String> {
        use jsonwebtoken::{Algorithm, EncodingKey};
        let alg = algorithm(&self.algorithm)?;
        let path = self.file.display();
        let pem =
            std::fs::read(&self.file).map_err(|e| format!("client assertion key {path}: {e}"))?;
        let key = match alg {
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&pem),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
            _ => EncodingKey::from_rsa_pem(&pem),
        }
        .map_err(|e| {
            format!(
                "client assertion key {path}: not a {} private key: {e}",
                self.algorithm
            )
        })?;
        Ok((alg, key))
    }

    /// A fresh assertion for `client_id` at the endpoint `url`, signed now (`now_s`): issuer and
    /// subject the client id, audience the endpoint (or the one configured), valid for five
    /// minutes, with a random `jti` so that no two are alike.
    pub fn assertion(&self, client_id: &str, url: &str, now_s: u64) -> Result<String, String> {
        if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
            return Err("no JWT signing provider in this build".into());
        }
        let (alg, key) = self.encoding_key()?;
        let mut header = jsonwebtoken::Header::new(alg);
        header.kid = self.key_id.clone();
        let jti: [u8; 16] = rand::random();
        let claims = AssertionClaims {
            iss: client_id,
            sub: client_id,
            aud: self.audience.as_deref().unwrap_or(url),
            iat: now_s,
            nbf: now_s.saturating_sub(ASSERTION_CLOCK_SKEW_S),
            exp: now_s + ASSERTION_LIFETIME_S,
            jti: jti.iter().map(|b| format!("{b:02x}")).collect(),
        };
        jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|e| format!("client assertion with {}: {e}", self.file.display()))
    }
}

/// The signing algorithm of a name.
fn algorithm(name: &str) -> Result<jsonwebtoken::Algorithm, String> {
    use jsonwebtoken::Algorithm::*;
    match if name.is_empty() { "RS256" } else { name } {
        "RS256" => Ok(RS256),
        "RS384" => Ok(RS384),
        "RS512" => Ok(RS512),
        "PS256" => Ok(PS256),
        "PS384" => Ok(PS384),
        "PS512" => Ok(PS512),
        "ES256" => Ok(ES256),
        "ES384" => Ok(ES384),
        "EdDSA" => Ok(EdDSA),
        other => Err(format!(
            "{other:?} is not a signing algorithm for a client assertion (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA)"
        )),
    }
}

/// OAUTHBEARER settings and the token in use (shared by every connection of a client).
#[derive(Clone)]
pub struct OAuthBearer {
    /// Where tokens come from.
    pub source: TokenSource,
    /// SASL extensions sent with the token.
    pub extensions: BTreeMap<String, String>,
    cached: Arc<Mutex<Option<Cached>>>,
}

impl std::fmt::Debug for OAuthBearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthBearer")
            .field("source", &self.source)
            .field("extensions", &self.extensions.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl PartialEq for OAuthBearer {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.extensions == other.extensions
    }
}

impl Eq for OAuthBearer {}

#[derive(Clone)]
struct Cached {
    token: String,
    /// When to fetch the next one (ms).
    refresh_at: i64,
}

/// The part of a token endpoint's answer read here.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<f64>,
}

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// How long a token is used when neither the endpoint nor the token says (seconds).
const DEFAULT_LIFETIME_S: f64 = 300.0;

impl OAuthBearer {
    /// Settings with no token fetched yet.
    pub fn new(source: TokenSource, extensions: BTreeMap<String, String>) -> Self {
        OAuthBearer {
            source,
            extensions,
            cached: Arc::new(Mutex::new(None)),
        }
    }

    /// The token to send at `now_ms`: the cached one until 80 % of its lifetime, else a new
    /// one. Errors say what failed without the secret.
    pub async fn token(&self, now_ms: i64) -> Result<String, String> {
        match &self.source {
            TokenSource::File(path) => read_nonempty("token file", path),
            TokenSource::ClientCredentials { .. } => {
                let mut cached = self.cached.lock().await;
                if let Some(c) = cached.as_ref().filter(|c| now_ms < c.refresh_at) {
                    return Ok(c.token.clone());
                }
                let (token, lifetime_s) = self.fetch().await?;
                let refresh_at = now_ms + (lifetime_s * 0.8 * 1000.0) as i64;
                *cached = Some(Cached {
                    token: token.clone(),
                    refresh_at,
                });
                Ok(token)
            }
        }
    }

    /// Forgets the cached token (the server refused it): the next connection fetches anew.
    pub async fn forget(&self) {
        *self.cached.lock().await = None;
    }

    async fn fetch(&self) -> Result<(String, f64), String> {
        let TokenSource::ClientCredentials {
            url,
            client_id,
            client_auth,
            scope,
        } = &self.source
        else {
            return Err("not a token endpoint".into());
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("token endpoint {url}: {e}"))?;
        let mut form = vec![("grant_type", "client_credentials".to_string())];
        if !scope.is_empty() {
            form.push(("scope", scope.clone()));
        }
        let mut request = client.post(url);
        match client_auth {
            ClientAuth::Secret(secret) => request = request.basic_auth(client_id, Some(secret)),
            ClientAuth::PrivateKeyJwt(key) => {
                let now_s = burrow_core::now_ms().max(0) as u64 / 1000;
                form.extend(assertion_form(
                    client_id,
                    key.assertion(client_id, url, now_s)?,
                ));
            }
            ClientAuth::AssertionFile(path) => {
                form.extend(assertion_form(
                    client_id,
                    read_nonempty("client assertion file", path)?,
                ));
            }
        }
        let resp = request
            .form(&form)
            .send()
            .await
            .map_err(|e| format!("token endpoint {url}: {}", without_url(&e)))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| format!("token endpoint {url}: {}", without_url(&e)))?;
        if !status.is_success() {
            let why = serde_json::from_slice::<ErrorResponse>(&body)
                .map(|e| match e.error_description {
                    Some(d) => format!("{}: {d}", e.error),
                    None => e.error,
                })
                .unwrap_or_else(|_| "no OAuth error in the answer".into());
            return Err(format!("token endpoint {url} answered {status}: {why}"));
        }
        let answer: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| format!("token endpoint {url}: not a token answer: {e}"))?;
        let lifetime = answer
            .expires_in
            .or_else(|| jwt_lifetime_s(&answer.access_token))
            .filter(|s| *s > 0.0)
            .unwrap_or(DEFAULT_LIFETIME_S);
        Ok((answer.access_token, lifetime))
    }

    /// The client's first (and only) message: the token and the extensions.
    pub fn message(&self, token: &str) -> Vec<u8> {
        let mut m = format!("n,,\x01auth=Bearer {token}\x01");
        for (k, v) in &self.extensions {
            m.push_str(&format!("{k}={v}\x01"));
        }
        m.push('\x01');
        m.into_bytes()
    }
}

/// The form fields of a client assertion (RFC 7523 §2.2).
fn assertion_form(client_id: &str, assertion: String) -> [(&'static str, String); 3] {
    [
        ("client_id", client_id.to_string()),
        ("client_assertion_type", JWT_BEARER.to_string()),
        ("client_assertion", assertion),
    ]
}

/// A file's trimmed contents, which must not be empty; errors name `what` and the path.
fn read_nonempty(what: &str, path: &std::path::Path) -> Result<String, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{what} {}: {e}", path.display()))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{what} {} is empty", path.display()));
    }
    Ok(text.to_string())
}

/// reqwest's error without the URL it carries (the URL is said once, by the caller).
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(&format!(" for url ({url})"), "");
    }
    s
}

/// The seconds between a JWT's `iat` (or now) and `exp`, when the token is a JWT that says.
fn jwt_lifetime_s(token: &str) -> Option<f64> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    let iat = claims
        .get("iat")
        .and_then(|v| v.as_f64())
        .unwrap_or_else(|| burrow_core::now_ms() as f64 / 1000.0);
    Some(exp - iat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_carries_the_token_and_the_extensions() {
        let o = OAuthBearer::new(
            TokenSource::File("/x".into()),
            BTreeMap::from([("logicalCluster".to_string(), "lkc-1".to_string())]),
        );
        assert_eq!(
            o.message("T"),
            b"n,,\x01auth=Bearer T\x01logicalCluster=lkc-1\x01\x01".to_vec()
        );
        let plain = OAuthBearer::new(TokenSource::File("/x".into()), BTreeMap::new());
        assert_eq!(plain.message("T"), b"n,,\x01auth=Bearer T\x01\x01".to_vec());
    }

    #[test]
    fn a_jwt_says_its_lifetime() {
        use base64::Engine;
        let e = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!("{}.{}.sig", e("{}"), e(r#"{"iat":100,"exp":400}"#));
        assert_eq!(jwt_lifetime_s(&token), Some(300.0));
        assert_eq!(jwt_lifetime_s("opaque"), None);
    }

    #[test]
    fn the_secret_is_not_in_debug() {
        let s = TokenSource::ClientCredentials {
            url: "http://idp/token".into(),
            client_id: "burrow".into(),
            client_auth: ClientAuth::Secret("s3cret".into()),
            scope: "kafka".into(),
        };
        assert!(!format!("{s:?}").contains("s3cret"));
    }

    /// The claims of an assertion made with `key` (not verified: PyJWT verifies them in
    /// `tests/oauthbearer.rs`).
    fn claims_of(assertion: &str) -> (serde_json::Value, serde_json::Value) {
        use base64::Engine;
        let part = |i: usize| {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(assertion.split('.').nth(i).unwrap())
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        };
        (part(0), part(1))
    }

    #[test]
    fn an_assertion_says_who_for_whom_until_when_once() {
        let pki = burrow_testkit::TestPki::new("assertion", &["localhost"]);
        let key = AssertionKey {
            file: pki.path("key.pem"),
            algorithm: "ES256".into(),
            key_id: Some("k1".into()),
            audience: None,
        };
        key.check_key().unwrap();
        let a = key
            .assertion("burrow", "https://idp/token", 1_000_000)
            .unwrap();
        let (header, claims) = claims_of(&a);
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], "k1");
        assert_eq!(claims["iss"], "burrow");
        assert_eq!(claims["sub"], "burrow");
        assert_eq!(claims["aud"], "https://idp/token");
        assert_eq!(claims["iat"], 1_000_000);
        assert_eq!(claims["nbf"], 1_000_000 - 60);
        assert_eq!(claims["exp"], 1_000_000 + 300);
        let b = key
            .assertion("burrow", "https://idp/token", 1_000_000)
            .unwrap();
        assert_ne!(
            claims["jti"],
            claims_of(&b).1["jti"],
            "every assertion is new"
        );
        let other = AssertionKey {
            audience: Some("https://idp".into()),
            ..key.clone()
        };
        let (_, claims) = claims_of(&other.assertion("burrow", "https://idp/token", 0).unwrap());
        assert_eq!(claims["aud"], "https://idp");
        // An EC key is not an RSA key, and a missing file is named; neither quotes the key.
        let rsa = AssertionKey {
            algorithm: "RS256".into(),
            ..key.clone()
        };
        let err = rsa.check_key().unwrap_err();
        assert!(err.contains("not a RS256 private key"), "{err}");
        assert!(!err.contains("PRIVATE KEY"), "{err}");
        let missing = AssertionKey {
            file: "/nonexistent/key.pem".into(),
            ..key
        };
        assert!(missing
            .check_key()
            .unwrap_err()
            .contains("/nonexistent/key.pem"));
        assert!(AssertionKey::check_algorithm("HS256").is_err());
        assert!(
            AssertionKey::check_algorithm("").is_ok(),
            "RS256 by default"
        );
    }

    #[tokio::test]
    async fn a_file_is_read_at_every_call() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "first\n").unwrap();
        let o = OAuthBearer::new(TokenSource::File(path.clone()), BTreeMap::new());
        assert_eq!(o.token(0).await.unwrap(), "first");
        std::fs::write(&path, "second").unwrap();
        assert_eq!(o.token(0).await.unwrap(), "second");
        std::fs::write(&path, "").unwrap();
        assert!(o.token(0).await.unwrap_err().contains("empty"));
    }
}
