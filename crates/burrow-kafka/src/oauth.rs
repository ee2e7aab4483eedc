//! SASL OAUTHBEARER (RFC 7628) tokens: from an OAuth 2 / OIDC token endpoint with the client
//! credentials grant (RFC 6749 §4.4: client id and secret in HTTP Basic, a scope), refreshed
//! once 80 % of a token's lifetime has passed (Kafka's `sasl.login.refresh.window.factor`), or
//! from a file re-read at every connection (a sidecar keeps it fresh). Extensions (KIP-342,
//! `logicalCluster=…` for Confluent Cloud, say) go into the client's message.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Mutex;

/// Where tokens come from.
#[derive(Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// An OAuth 2 token endpoint, client credentials grant.
    ClientCredentials {
        /// The token endpoint's URL.
        url: String,
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: String,
        /// The scope asked (empty: none).
        scope: String,
    },
    /// A file holding the token, read at every connection.
    File(PathBuf),
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::ClientCredentials {
                url,
                client_id,
                scope,
                ..
            } => f
                .debug_struct("ClientCredentials")
                .field("url", url)
                .field("client_id", client_id)
                .field("client_secret", &"REDACTED")
                .field("scope", scope)
                .finish(),
            TokenSource::File(p) => f.debug_tuple("File").field(p).finish(),
        }
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
            TokenSource::File(path) => std::fs::read_to_string(path)
                .map(|t| t.trim().to_string())
                .map_err(|e| format!("token file {}: {e}", path.display()))
                .and_then(|t| {
                    if t.is_empty() {
                        Err(format!("token file {} is empty", path.display()))
                    } else {
                        Ok(t)
                    }
                }),
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
            client_secret,
            scope,
        } = &self.source
        else {
            return Err("not a token endpoint".into());
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("token endpoint {url}: {e}"))?;
        let mut form = vec![("grant_type", "client_credentials")];
        if !scope.is_empty() {
            form.push(("scope", scope.as_str()));
        }
        let resp = client
            .post(url)
            .basic_auth(client_id, Some(client_secret))
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
            client_secret: "s3cret".into(),
            scope: "kafka".into(),
        };
        assert!(!format!("{s:?}").contains("s3cret"));
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
