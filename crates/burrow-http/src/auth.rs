//! Who may use a listener (burrow-rs; Burrow has no authentication, linkedin/Burrow#646): HTTP
//! Basic against password hashes (argon2 or bcrypt), bearer tokens, or client certificates,
//! for the mutating routes only or for every route but the health checks.
//!
//! Nothing here keeps a secret in the clear: passwords are checked against their hashes (a
//! successful check is remembered for a while by the SHA-256 of user and password, so a
//! dashboard refreshing every few seconds does not pay argon2 each time), and tokens are kept
//! as SHA-256 digests compared in constant time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use hyper::header::{HeaderMap, AUTHORIZATION};
use hyper::Method;
use prometheus::{IntCounterVec, Opts, Registry};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use burrow_core::config::ConfigError;

/// Which routes need credentials (`[httpserver.X] auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthScope {
    /// None (Burrow's behaviour).
    #[default]
    None,
    /// The routes that change state: every DELETE and every POST (`/v3/admin/loglevel`).
    Mutating,
    /// Every route but `/burrow/admin` and `/burrow/admin/ready` (and CORS preflights).
    All,
}

impl AuthScope {
    /// Whether a request needs credentials.
    pub fn covers(self, method: &Method, path: &str) -> bool {
        match self {
            AuthScope::None => false,
            AuthScope::Mutating => *method == Method::DELETE || *method == Method::POST,
            AuthScope::All => {
                *method != Method::OPTIONS
                    && path != "/burrow/admin"
                    && path != "/burrow/admin/ready"
            }
        }
    }
}

/// A password hash in PHC (argon2) or modular crypt (bcrypt) form, checked at start.
#[derive(Debug, Clone)]
enum PasswordHash {
    Argon2(String),
    Bcrypt(String),
}

impl PasswordHash {
    fn parse(key: &str, hash: &str) -> Result<Self, ConfigError> {
        let hash = hash.trim();
        if hash.starts_with("$argon2") {
            argon2::PasswordHash::new(hash)
                .map_err(|e| ConfigError::new(key, format!("not an argon2 hash: {e}")))?;
            Ok(PasswordHash::Argon2(hash.to_string()))
        } else if ["$2a$", "$2b$", "$2y$", "$2x$"]
            .iter()
            .any(|p| hash.starts_with(p))
        {
            // bcrypt hashes are 60 characters; `verify` refuses others at every request.
            if hash.len() != 60 {
                return Err(ConfigError::new(key, "not a bcrypt hash (60 characters)"));
            }
            Ok(PasswordHash::Bcrypt(hash.to_string()))
        } else {
            Err(ConfigError::new(
                key,
                "a password hash is needed: argon2 ($argon2id$…) or bcrypt ($2b$…), never the password itself",
            ))
        }
    }

    fn verify(&self, password: &str) -> bool {
        use argon2::PasswordVerifier;
        match self {
            PasswordHash::Argon2(h) => argon2::PasswordHash::new(h).is_ok_and(|parsed| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            }),
            PasswordHash::Bcrypt(h) => bcrypt::verify(password, h).unwrap_or(false),
        }
    }
}

/// Why a request was refused, as counted in `burrow_http_auth_failures_total{reason}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials (401).
    Missing,
    /// An `Authorization` header this listener does not take, or cannot read (401).
    Malformed,
    /// A user, password or token that does not match (401).
    BadCredentials,
    /// A client certificate whose subject is not allowed (403).
    ForbiddenSubject,
}

impl Refusal {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Malformed => "malformed",
            Refusal::BadCredentials => "bad_credentials",
            Refusal::ForbiddenSubject => "forbidden_subject",
        }
    }

    /// 401 for missing or wrong credentials, 403 for a known client that is not allowed.
    pub fn forbidden(self) -> bool {
        self == Refusal::ForbiddenSubject
    }
}

/// Who was let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Nobody needed to be: the route is not covered.
    Anonymous,
    /// An HTTP Basic user.
    User(String),
    /// A bearer token (its position in the file, 1-based; the token itself is never kept).
    Token(usize),
    /// A client certificate's subject.
    Certificate(String),
}

/// How long a successful password check is remembered.
const REMEMBER: Duration = Duration::from_secs(300);
/// Remembered checks at most (the oldest are forgotten first).
const REMEMBER_AT_MOST: usize = 1024;

/// A listener's credentials and scope.
pub struct Auth {
    scope: AuthScope,
    users: HashMap<String, PasswordHash>,
    tokens: Vec<[u8; 32]>,
    /// Client certificate subjects allowed; `None`: certificates do not authenticate.
    subjects: Option<Vec<String>>,
    remembered: Mutex<HashMap<[u8; 32], Instant>>,
}

/// What [`Auth::new`] is built from (a listener's section, files already read).
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// The routes covered.
    pub scope: AuthScope,
    /// `user → hash`, with the key each came from (for errors).
    pub users: Vec<(String, String, String)>,
    /// Bearer tokens, with the key they came from.
    pub tokens: Vec<(String, String)>,
    /// Allowed client certificate subjects (`None` when client certificates are not asked).
    pub subjects: Option<Vec<String>>,
}

impl Auth {
    /// Checks `settings` (every hash parsed, something to authenticate with when a scope is
    /// set); errors name the key.
    pub fn new(key: &str, settings: AuthSettings) -> Result<Auth, ConfigError> {
        let mut users = HashMap::new();
        for (from, user, hash) in &settings.users {
            if user.is_empty() || user.contains(':') {
                return Err(ConfigError::new(
                    from,
                    format!("user name {user:?} is empty or has a ':'"),
                ));
            }
            users.insert(user.clone(), PasswordHash::parse(from, hash)?);
        }
        let mut tokens = Vec::new();
        for (from, token) in &settings.tokens {
            if token.len() < 16 {
                return Err(ConfigError::new(
                    from,
                    "a bearer token needs 16 characters at least",
                ));
            }
            tokens.push(sha256(token.as_bytes()));
        }
        if settings.scope != AuthScope::None
            && users.is_empty()
            && tokens.is_empty()
            && settings.subjects.is_none()
        {
            return Err(ConfigError::new(
                format!("{key}.auth"),
                "needs a way to authenticate: basic-auth-users, basic-auth-file, bearer-tokens-file or client-cafile",
            ));
        }
        Ok(Auth {
            scope: settings.scope,
            users,
            tokens,
            subjects: settings.subjects,
            remembered: Mutex::new(HashMap::new()),
        })
    }

    /// The routes covered.
    pub fn scope(&self) -> AuthScope {
        self.scope
    }

    /// The `WWW-Authenticate` challenge of a 401.
    pub fn challenge(&self) -> &'static str {
        match (self.users.is_empty(), self.tokens.is_empty()) {
            (false, true) => "Basic realm=\"burrow\", charset=\"UTF-8\"",
            (true, false) => "Bearer realm=\"burrow\"",
            // Browsers prompt for Basic only when it comes first.
            _ => "Basic realm=\"burrow\", charset=\"UTF-8\", Bearer realm=\"burrow\"",
        }
    }

    /// Decides a request: `client_subject` is the verified client certificate's subject, when
    /// the connection presented one. Password checks are CPU work (tens of milliseconds for
    /// argon2): call this off the I/O threads.
    pub fn check(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        client_subject: Option<&str>,
    ) -> Result<Principal, Refusal> {
        if !self.scope.covers(method, path) {
            return Ok(Principal::Anonymous);
        }
        if let (Some(subject), Some(allowed)) = (client_subject, &self.subjects) {
            if allowed.is_empty() || allowed.iter().any(|a| same_subject(a, subject)) {
                return Ok(Principal::Certificate(subject.to_string()));
            }
            if self.users.is_empty() && self.tokens.is_empty() {
                return Err(Refusal::ForbiddenSubject);
            }
        }
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Err(if client_subject.is_some() && self.subjects.is_some() {
                Refusal::ForbiddenSubject
            } else {
                Refusal::Missing
            });
        };
        let value = value.to_str().map_err(|_| Refusal::Malformed)?;
        let (scheme, rest) = scheme_and_credentials(value).ok_or(Refusal::Malformed)?;
        if scheme.eq_ignore_ascii_case("basic") && !self.users.is_empty() {
            self.basic(rest)
        } else if scheme.eq_ignore_ascii_case("bearer") && !self.tokens.is_empty() {
            self.bearer(rest)
        } else {
            Err(Refusal::Malformed)
        }
    }

    fn basic(&self, encoded: &str) -> Result<Principal, Refusal> {
        let text = decode_basic(encoded).ok_or(Refusal::Malformed)?;
        let (user, password) = text.split_once(':').ok_or(Refusal::Malformed)?;
        let key = sha256(text.as_bytes());
        if self.was_verified(&key) {
            return Ok(Principal::User(user.to_string()));
        }
        let ok = match self.users.get(user) {
            Some(hash) => hash.verify(password),
            None => {
                // The same work for an unknown user, so timing does not tell users apart.
                dummy_hash().verify(password);
                false
            }
        };
        if !ok {
            return Err(Refusal::BadCredentials);
        }
        self.remember(key);
        Ok(Principal::User(user.to_string()))
    }

    fn bearer(&self, token: &str) -> Result<Principal, Refusal> {
        let digest = sha256(token.as_bytes());
        // Every stored digest is compared, so the time does not say which one matched.
        let mut found = 0usize;
        for (i, t) in self.tokens.iter().enumerate() {
            let hit = t.ct_eq(&digest).unwrap_u8() as usize;
            found |= hit * (i + 1);
        }
        if found == 0 {
            return Err(Refusal::BadCredentials);
        }
        Ok(Principal::Token(found))
    }

    fn was_verified(&self, key: &[u8; 32]) -> bool {
        let remembered = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        remembered
            .get(key)
            .is_some_and(|at| at.elapsed() < REMEMBER)
    }

    fn remember(&self, key: [u8; 32]) {
        let mut remembered = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        remembered.retain(|_, at| at.elapsed() < REMEMBER);
        if remembered.len() >= REMEMBER_AT_MOST {
            if let Some(oldest) = remembered
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(k, _)| *k)
            {
                remembered.remove(&oldest);
            }
        }
        remembered.insert(key, Instant::now());
    }
}

/// The scheme and the credentials of an `Authorization` value.
fn scheme_and_credentials(value: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = value.split_once(' ')?;
    Some((scheme, rest.trim()))
}

/// The `user:password` text of Basic credentials.
fn decode_basic(encoded: &str) -> Option<String> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    String::from_utf8(decoded).ok()
}

/// The user name a Basic `Authorization` header claims, for logs (never the password; at most
/// 64 characters).
pub(crate) fn claimed_user(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = scheme_and_credentials(value)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let text = decode_basic(rest)?;
    let (user, _) = text.split_once(':')?;
    Some(user.chars().take(64).collect())
}

/// Subjects compared as RFC 4514 strings, ignoring the spaces after commas and case.
fn same_subject(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.split(',')
            .map(|part| part.trim().to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    norm(a) == norm(b)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A hash of nothing anyone knows, checked for unknown users (made once, on first use).
fn dummy_hash() -> &'static PasswordHash {
    static DUMMY: std::sync::OnceLock<PasswordHash> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let hash = SaltString::encode_b64(b"burrow-rs-dummy!")
            .ok()
            .and_then(|salt| {
                argon2::Argon2::default()
                    .hash_password(b"not a password anyone has", &salt)
                    .ok()
                    .map(|h| h.to_string())
            })
            .unwrap_or_default();
        PasswordHash::Argon2(hash)
    })
}

/// `burrow_http_auth_failures_total{listener, reason}`.
#[derive(Clone)]
pub struct AuthMetrics {
    failures: IntCounterVec,
}

impl AuthMetrics {
    /// Registers the counter in `registry` (the process's health metrics).
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let failures = IntCounterVec::new(
            Opts::new(
                "burrow_http_auth_failures_total",
                "Requests refused for want of valid credentials, per listener and reason",
            ),
            &["listener", "reason"],
        )?;
        registry.register(Box::new(failures.clone()))?;
        Ok(AuthMetrics { failures })
    }

    /// Counts one refusal.
    pub fn refused(&self, listener: &str, why: Refusal) {
        self.failures
            .with_label_values(&[listener, why.as_str()])
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn argon2_hash(password: &str) -> String {
        use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    fn auth(scope: AuthScope) -> Auth {
        Auth::new(
            "httpserver.default",
            AuthSettings {
                scope,
                users: vec![
                    ("u.alice".into(), "alice".into(), argon2_hash("wonderland")),
                    (
                        "u.bob".into(),
                        "bob".into(),
                        bcrypt::hash("builder", 4).unwrap(),
                    ),
                ],
                tokens: vec![("t".into(), "0123456789abcdef-token".into())],
                subjects: Some(vec!["CN=ops, O=Example".into()]),
            },
        )
        .unwrap()
    }

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    fn basic(user: &str, password: &str) -> HeaderMap {
        let e = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        with(&format!("Basic {e}"))
    }

    #[test]
    fn scopes_cover_the_routes_they_say() {
        let (get, del, post) = (Method::GET, Method::DELETE, Method::POST);
        assert!(!AuthScope::None.covers(&del, "/v3/kafka/c/consumer/g"));
        assert!(AuthScope::Mutating.covers(&del, "/v3/kafka/c/consumer/g"));
        assert!(AuthScope::Mutating.covers(&post, "/v3/admin/loglevel"));
        assert!(!AuthScope::Mutating.covers(&get, "/v3/admin/loglevel"));
        assert!(AuthScope::All.covers(&get, "/v3/kafka"));
        assert!(AuthScope::All.covers(&get, "/metrics"));
        assert!(AuthScope::All.covers(&get, "/ui/"));
        assert!(!AuthScope::All.covers(&get, "/burrow/admin"));
        assert!(!AuthScope::All.covers(&get, "/burrow/admin/ready"));
        assert!(!AuthScope::All.covers(&Method::OPTIONS, "/v3/kafka"));
    }

    #[test]
    fn basic_checks_argon2_and_bcrypt_hashes() {
        let a = auth(AuthScope::All);
        let m = Method::GET;
        assert_eq!(
            a.check(&m, "/v3/kafka", &basic("alice", "wonderland"), None),
            Ok(Principal::User("alice".into()))
        );
        // Remembered: the same again needs no argon2.
        assert_eq!(
            a.check(&m, "/v3/kafka", &basic("alice", "wonderland"), None),
            Ok(Principal::User("alice".into()))
        );
        assert_eq!(
            a.check(&m, "/v3/kafka", &basic("bob", "builder"), None),
            Ok(Principal::User("bob".into()))
        );
        assert_eq!(
            a.check(&m, "/v3/kafka", &basic("alice", "Wonderland"), None),
            Err(Refusal::BadCredentials)
        );
        assert_eq!(
            a.check(&m, "/v3/kafka", &basic("carol", "wonderland"), None),
            Err(Refusal::BadCredentials)
        );
        assert_eq!(
            a.check(&m, "/v3/kafka", &HeaderMap::new(), None),
            Err(Refusal::Missing)
        );
        assert_eq!(
            a.check(&m, "/v3/kafka", &with("Basic !!!"), None),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            a.check(&m, "/v3/kafka", &with("Digest x"), None),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            a.check(&m, "/burrow/admin", &HeaderMap::new(), None),
            Ok(Principal::Anonymous)
        );
    }

    #[test]
    fn bearer_tokens_and_client_certificates() {
        let a = auth(AuthScope::Mutating);
        let d = Method::DELETE;
        let path = "/v3/kafka/c/consumer/g";
        assert_eq!(
            a.check(&d, path, &with("Bearer 0123456789abcdef-token"), None),
            Ok(Principal::Token(1))
        );
        assert_eq!(
            a.check(&d, path, &with("bearer 0123456789abcdef-tokeN"), None),
            Err(Refusal::BadCredentials)
        );
        assert_eq!(
            a.check(&d, path, &HeaderMap::new(), Some("cn=ops,o=example")),
            Ok(Principal::Certificate("cn=ops,o=example".into()))
        );
        // A certificate not listed: forbidden unless other credentials come with it.
        assert_eq!(
            a.check(&d, path, &HeaderMap::new(), Some("CN=intruder")),
            Err(Refusal::ForbiddenSubject)
        );
        assert_eq!(
            a.check(&d, path, &basic("alice", "wonderland"), Some("CN=intruder")),
            Ok(Principal::User("alice".into()))
        );
    }

    #[test]
    fn settings_are_checked_with_the_key_named() {
        let e = |s: AuthSettings| Auth::new("httpserver.x", s).err().unwrap();
        let err = e(AuthSettings {
            scope: AuthScope::All,
            ..AuthSettings::default()
        });
        assert_eq!(err.key, "httpserver.x.auth");
        let err = e(AuthSettings {
            users: vec![(
                "httpserver.x.basic-auth-users.a".into(),
                "a".into(),
                "plaintext".into(),
            )],
            ..AuthSettings::default()
        });
        assert_eq!(err.key, "httpserver.x.basic-auth-users.a");
        assert!(err.message.contains("never the password itself"), "{err}");
        let err = e(AuthSettings {
            tokens: vec![("httpserver.x.bearer-tokens-file".into(), "short".into())],
            ..AuthSettings::default()
        });
        assert_eq!(err.key, "httpserver.x.bearer-tokens-file");
        let err = e(AuthSettings {
            users: vec![("k".into(), "a:b".into(), bcrypt::hash("x", 4).unwrap())],
            ..AuthSettings::default()
        });
        assert_eq!(err.key, "k");
    }
}
