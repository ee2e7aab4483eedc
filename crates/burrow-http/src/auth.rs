//! Who may use a listener (burrow-rs; Burrow has no authentication, linkedin/Burrow#646): HTTP
//! Basic against password hashes (argon2 or bcrypt), bearer tokens, or client certificates,
//! for the mutating routes only or for every route but the health checks; and, when `admins`
//! lists some, which of those let in may change anything.
//!
//! The credentials files are read again when their contents change ([`CredentialFiles`],
//! watched by the server), so a password or token is rotated or revoked without a restart.
//!
//! Nothing here keeps a secret in the clear: passwords are checked against their hashes (a
//! successful check is remembered for a while by the SHA-256 of user and password, so a
//! dashboard refreshing every few seconds does not pay argon2 each time), and tokens are kept
//! as SHA-256 digests compared in constant time.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
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

/// Whether a request changes the monitor's state (every DELETE, and POST
/// `/v3/admin/loglevel`): what `mutating` covers and what `admins` keeps to themselves.
pub fn changes_state(method: &Method) -> bool {
    *method == Method::DELETE || *method == Method::POST
}

impl AuthScope {
    /// Whether a request needs credentials.
    pub fn covers(self, method: &Method, path: &str) -> bool {
        match self {
            AuthScope::None => false,
            AuthScope::Mutating => changes_state(method),
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
    /// Let in, but not among `admins`, and the request changes state (403).
    NotAdmin,
}

impl Refusal {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Malformed => "malformed",
            Refusal::BadCredentials => "bad_credentials",
            Refusal::ForbiddenSubject => "forbidden_subject",
            Refusal::NotAdmin => "not_admin",
        }
    }

    /// 401 for missing or wrong credentials, 403 for a known client that is not allowed.
    pub fn forbidden(self) -> bool {
        matches!(self, Refusal::ForbiddenSubject | Refusal::NotAdmin)
    }
}

/// Who was let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Nobody needed to be: the route is not covered.
    Anonymous,
    /// An HTTP Basic user.
    User(String),
    /// A bearer token, by its name in the file, or `#N` (its position, 1-based) for a token
    /// without a name; the token itself is never kept.
    Token(String),
    /// A client certificate's subject.
    Certificate(String),
}

impl std::fmt::Display for Principal {
    /// As the audit log says it: `user ops`, `bearer token prometheus`, `certificate CN=…`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::Anonymous => f.write_str("anonymous"),
            Principal::User(u) => write!(f, "user {u}"),
            Principal::Token(name) => write!(f, "bearer token {name}"),
            Principal::Certificate(s) => write!(f, "certificate {s}"),
        }
    }
}

/// One entry of `admins`: `user:NAME`, `token:NAME` or `subject:DN`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Admin {
    User(String),
    Token(String),
    Subject(String),
}

impl std::fmt::Display for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Admin::User(u) => write!(f, "user:{u}"),
            Admin::Token(t) => write!(f, "token:{t}"),
            Admin::Subject(s) => write!(f, "subject:{s}"),
        }
    }
}

impl Admin {
    fn parse(key: &str, entry: &str) -> Result<Admin, ConfigError> {
        let bad = || {
            ConfigError::new(
                key,
                format!("{entry:?}: expected user:NAME, token:NAME or subject:DN"),
            )
        };
        let (kind, name) = entry.split_once(':').ok_or_else(bad)?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad());
        }
        match kind.trim() {
            "user" => Ok(Admin::User(name.to_string())),
            "token" => Ok(Admin::Token(name.to_string())),
            "subject" => Ok(Admin::Subject(name.to_string())),
            _ => Err(bad()),
        }
    }

    fn is(&self, principal: &Principal) -> bool {
        match (self, principal) {
            (Admin::User(a), Principal::User(b)) | (Admin::Token(a), Principal::Token(b)) => a == b,
            (Admin::Subject(a), Principal::Certificate(b)) => same_subject(a, b),
            _ => false,
        }
    }
}

/// How long a successful password check is remembered.
const REMEMBER: Duration = Duration::from_secs(300);
/// Remembered checks at most (the oldest are forgotten first).
const REMEMBER_AT_MOST: usize = 1024;

/// A listener's credentials and scope.
pub struct Auth {
    scope: AuthScope,
    /// Client certificate subjects allowed; `None`: certificates do not authenticate.
    subjects: Option<Vec<String>>,
    /// Who may change state; `None`: everyone let in.
    admins: Option<Vec<Admin>>,
    /// The users and tokens, replaced whole when their files change.
    credentials: RwLock<Arc<Credentials>>,
    remembered: Mutex<HashMap<[u8; 32], Instant>>,
    /// Where the credentials come from, when some come from files.
    files: Option<CredentialFiles>,
}

/// Users and tokens: what a reload replaces.
#[derive(Default)]
struct Credentials {
    users: HashMap<String, PasswordHash>,
    /// SHA-256 of each token, with its name.
    tokens: Vec<([u8; 32], String)>,
}

impl Credentials {
    fn new(settings: &AuthSettings) -> Result<Credentials, ConfigError> {
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
        let mut tokens: Vec<([u8; 32], String)> = Vec::new();
        for (i, (from, name, token)) in settings.tokens.iter().enumerate() {
            if token.len() < 16 {
                return Err(ConfigError::new(
                    from,
                    "a bearer token needs 16 characters at least",
                ));
            }
            let name = name.clone().unwrap_or_else(|| format!("#{}", i + 1));
            let digest = sha256(token.as_bytes());
            if tokens.iter().any(|(d, n)| *n == name || *d == digest) {
                return Err(ConfigError::new(
                    from,
                    format!("token {name:?}: its name or the token itself is there twice"),
                ));
            }
            tokens.push((digest, name));
        }
        Ok(Credentials { users, tokens })
    }

    /// The entries of `admins` that name a user or token these credentials do not have.
    fn unknown_admins<'a>(&self, admins: &'a [Admin]) -> Vec<&'a Admin> {
        admins
            .iter()
            .filter(|a| match a {
                Admin::User(u) => !self.users.contains_key(u),
                Admin::Token(t) => !self.tokens.iter().any(|(_, n)| n == t),
                Admin::Subject(_) => false,
            })
            .collect()
    }
}

/// The credentials files of a listener, read again by [`Auth::reload_if_changed`] when their
/// contents change.
pub struct CredentialFiles {
    paths: Vec<PathBuf>,
    /// What the files held when last read (SHA-256 of each, in `paths` order).
    seen: Mutex<Vec<Option<[u8; 32]>>>,
    read: Box<dyn Fn() -> Result<AuthSettings, ConfigError> + Send + Sync>,
}

impl CredentialFiles {
    /// `paths` as they are now, and how to read the settings again (the listener's section
    /// with its files).
    pub fn new(
        paths: Vec<PathBuf>,
        read: impl Fn() -> Result<AuthSettings, ConfigError> + Send + Sync + 'static,
    ) -> CredentialFiles {
        let seen = paths.iter().map(|p| fingerprint(p)).collect();
        CredentialFiles {
            paths,
            seen: Mutex::new(seen),
            read: Box::new(read),
        }
    }

    /// Whether a file's contents differ from when they were last seen (and remembers them).
    fn changed(&self) -> bool {
        let now: Vec<Option<[u8; 32]>> = self.paths.iter().map(|p| fingerprint(p)).collect();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if *seen == now {
            return false;
        }
        *seen = now;
        true
    }
}

/// The SHA-256 of a file's contents; `None` when it cannot be read.
fn fingerprint(path: &std::path::Path) -> Option<[u8; 32]> {
    std::fs::read(path).ok().map(|bytes| sha256(&bytes))
}

/// What [`Auth::new`] is built from (a listener's section, files already read).
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// The routes covered.
    pub scope: AuthScope,
    /// `user → hash`, with the key each came from (for errors).
    pub users: Vec<(String, String, String)>,
    /// Bearer tokens: the key each came from, its name if it has one, the token.
    pub tokens: Vec<(String, Option<String>, String)>,
    /// Allowed client certificate subjects (`None` when client certificates are not asked).
    pub subjects: Option<Vec<String>>,
    /// Who may change state (`user:NAME`, `token:NAME`, `subject:DN`); empty: everyone let in.
    pub admins: Vec<String>,
}

impl Auth {
    /// Checks `settings` (every hash parsed, something to authenticate with when a scope is
    /// set, every admin one that can be let in); errors name the key.
    pub fn new(key: &str, settings: AuthSettings) -> Result<Auth, ConfigError> {
        let credentials = Credentials::new(&settings)?;
        if settings.scope != AuthScope::None
            && credentials.users.is_empty()
            && credentials.tokens.is_empty()
            && settings.subjects.is_none()
        {
            return Err(ConfigError::new(
                format!("{key}.auth"),
                "needs a way to authenticate: basic-auth-users, basic-auth-file, bearer-tokens-file or client-cafile",
            ));
        }
        let admins = Self::admins(key, &settings, &credentials)?;
        Ok(Auth {
            scope: settings.scope,
            subjects: settings.subjects,
            admins,
            credentials: RwLock::new(Arc::new(credentials)),
            remembered: Mutex::new(HashMap::new()),
            files: None,
        })
    }

    /// `admins` parsed; each must name someone who can be let in.
    fn admins(
        key: &str,
        settings: &AuthSettings,
        credentials: &Credentials,
    ) -> Result<Option<Vec<Admin>>, ConfigError> {
        if settings.admins.is_empty() {
            return Ok(None);
        }
        let admins_key = format!("{key}.admins");
        if settings.scope == AuthScope::None {
            return Err(ConfigError::new(
                admins_key,
                "needs auth = \"mutating\" or \"all\"",
            ));
        }
        let admins = settings
            .admins
            .iter()
            .map(|entry| Admin::parse(&admins_key, entry))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(unknown) = credentials.unknown_admins(&admins).first() {
            return Err(ConfigError::new(
                admins_key,
                format!("{unknown} is not among the users or named tokens"),
            ));
        }
        for admin in &admins {
            let Admin::Subject(subject) = admin else {
                continue;
            };
            let allowed = match &settings.subjects {
                None => false,
                Some(list) => list.is_empty() || list.iter().any(|s| same_subject(s, subject)),
            };
            if !allowed {
                return Err(ConfigError::new(
                    &admins_key,
                    format!("subject {subject:?} cannot be let in: it needs client-cafile, and to be among client-subjects when those are listed"),
                ));
            }
        }
        Ok(Some(admins))
    }

    /// Reads the credentials again from `files` when they change ([`Self::reload_if_changed`]).
    pub fn with_files(mut self, files: CredentialFiles) -> Auth {
        self.files = Some(files);
        self
    }

    /// Whether some credentials come from files that can change.
    pub fn has_files(&self) -> bool {
        self.files.is_some()
    }

    /// Reads the credentials files again if their contents changed since last read, and uses
    /// what they hold from now on; `Ok(false)` when nothing changed. On an error the
    /// credentials in use stay. Remembered password checks are forgotten on a change, so a
    /// removed user or changed password is refused at once.
    pub fn reload_if_changed(&self) -> Result<bool, ConfigError> {
        let Some(files) = &self.files else {
            return Ok(false);
        };
        if !files.changed() {
            return Ok(false);
        }
        let settings = (files.read)()?;
        let credentials = Credentials::new(&settings)?;
        if let Some(admins) = &self.admins {
            for unknown in credentials.unknown_admins(admins) {
                tracing::warn!(admin = %unknown, "an admin is no longer among the credentials");
            }
        }
        *self.credentials.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(credentials);
        self.remembered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(true)
    }

    /// How many users and tokens are in use.
    pub fn counts(&self) -> (usize, usize) {
        let c = self.current();
        (c.users.len(), c.tokens.len())
    }

    fn current(&self) -> Arc<Credentials> {
        self.credentials
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The routes covered.
    pub fn scope(&self) -> AuthScope {
        self.scope
    }

    /// The `WWW-Authenticate` challenge of a 401.
    pub fn challenge(&self) -> &'static str {
        let c = self.current();
        match (c.users.is_empty(), c.tokens.is_empty()) {
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
        let principal = self.authenticate(headers, client_subject)?;
        match &self.admins {
            Some(admins) if changes_state(method) && !admins.iter().any(|a| a.is(&principal)) => {
                Err(Refusal::NotAdmin)
            }
            _ => Ok(principal),
        }
    }

    /// Who the request comes from, by its client certificate or its `Authorization`.
    fn authenticate(
        &self,
        headers: &HeaderMap,
        client_subject: Option<&str>,
    ) -> Result<Principal, Refusal> {
        let credentials = self.current();
        if let (Some(subject), Some(allowed)) = (client_subject, &self.subjects) {
            if allowed.is_empty() || allowed.iter().any(|a| same_subject(a, subject)) {
                return Ok(Principal::Certificate(subject.to_string()));
            }
            if credentials.users.is_empty() && credentials.tokens.is_empty() {
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
        if scheme.eq_ignore_ascii_case("basic") && !credentials.users.is_empty() {
            self.basic(&credentials, rest)
        } else if scheme.eq_ignore_ascii_case("bearer") && !credentials.tokens.is_empty() {
            bearer(&credentials, rest)
        } else {
            Err(Refusal::Malformed)
        }
    }

    fn basic(&self, credentials: &Credentials, encoded: &str) -> Result<Principal, Refusal> {
        let text = decode_basic(encoded).ok_or(Refusal::Malformed)?;
        let (user, password) = text.split_once(':').ok_or(Refusal::Malformed)?;
        let key = sha256(text.as_bytes());
        if self.was_verified(&key) {
            return Ok(Principal::User(user.to_string()));
        }
        let ok = match credentials.users.get(user) {
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

/// The token's name, when `token` is one of `credentials`.
fn bearer(credentials: &Credentials, token: &str) -> Result<Principal, Refusal> {
    let digest = sha256(token.as_bytes());
    // Every stored digest is compared, so the time does not say which one matched.
    let mut found = 0usize;
    for (i, (t, _)) in credentials.tokens.iter().enumerate() {
        let hit = t.ct_eq(&digest).unwrap_u8() as usize;
        found |= hit * (i + 1);
    }
    match found.checked_sub(1).and_then(|i| credentials.tokens.get(i)) {
        Some((_, name)) => Ok(Principal::Token(name.clone())),
        None => Err(Refusal::BadCredentials),
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
        auth_with_admins(scope, Vec::new())
    }

    fn auth_with_admins(scope: AuthScope, admins: Vec<String>) -> Auth {
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
                tokens: vec![
                    ("t".into(), None, "0123456789abcdef-token".into()),
                    (
                        "t".into(),
                        Some("prometheus".into()),
                        "fedcba9876543210-token".into(),
                    ),
                ],
                subjects: Some(vec!["CN=ops, O=Example".into(), "CN=viewer".into()]),
                admins,
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
            Ok(Principal::Token("#1".into()))
        );
        assert_eq!(
            a.check(&d, path, &with("Bearer fedcba9876543210-token"), None),
            Ok(Principal::Token("prometheus".into()))
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
            tokens: vec![(
                "httpserver.x.bearer-tokens-file".into(),
                None,
                "short".into(),
            )],
            ..AuthSettings::default()
        });
        assert_eq!(err.key, "httpserver.x.bearer-tokens-file");
        let err = e(AuthSettings {
            users: vec![("k".into(), "a:b".into(), bcrypt::hash("x", 4).unwrap())],
            ..AuthSettings::default()
        });
        assert_eq!(err.key, "k");
        let token = |name: &str, t: &str| ("f".to_string(), Some(name.to_string()), t.to_string());
        // A name twice, or a token twice: refused without quoting the token.
        for second in [
            token("a", "0123456789abcdef-2"),
            token("b", "0123456789abcdef-1"),
        ] {
            let err = e(AuthSettings {
                tokens: vec![token("a", "0123456789abcdef-1"), second],
                ..AuthSettings::default()
            });
            assert!(err.message.contains("twice"), "{err}");
            assert!(!err.message.contains("0123456789abcdef"), "{err}");
        }
    }

    #[test]
    fn admins_alone_change_state() {
        let a = auth_with_admins(
            AuthScope::All,
            vec![
                "user:alice".into(),
                "token:prometheus".into(),
                "subject:CN=ops,O=Example".into(),
            ],
        );
        let path = "/v3/kafka/c/consumer/g";
        let (get, del, post) = (Method::GET, Method::DELETE, Method::POST);
        // Everyone let in reads; only admins delete or change the log level.
        assert!(a.check(&get, path, &basic("bob", "builder"), None).is_ok());
        assert_eq!(
            a.check(&del, path, &basic("bob", "builder"), None),
            Err(Refusal::NotAdmin)
        );
        assert_eq!(
            a.check(&post, "/v3/admin/loglevel", &basic("bob", "builder"), None),
            Err(Refusal::NotAdmin)
        );
        assert!(Refusal::NotAdmin.forbidden());
        assert_eq!(
            a.check(&del, path, &basic("alice", "wonderland"), None),
            Ok(Principal::User("alice".into()))
        );
        assert_eq!(
            a.check(&del, path, &with("Bearer 0123456789abcdef-token"), None),
            Err(Refusal::NotAdmin)
        );
        assert!(a
            .check(&del, path, &with("Bearer fedcba9876543210-token"), None)
            .is_ok());
        assert!(a
            .check(&del, path, &HeaderMap::new(), Some("cn=ops, o=example"))
            .is_ok());
        assert_eq!(
            a.check(&del, path, &HeaderMap::new(), Some("CN=viewer")),
            Err(Refusal::NotAdmin)
        );
        // Wrong credentials stay a 401, whoever they claim to be.
        assert_eq!(
            a.check(&del, path, &basic("alice", "wrong"), None),
            Err(Refusal::BadCredentials)
        );
    }

    #[test]
    fn admins_must_be_someone_who_can_be_let_in() {
        let e = |scope: AuthScope, admin: &str| {
            Auth::new(
                "httpserver.x",
                AuthSettings {
                    scope,
                    users: vec![("u".into(), "alice".into(), bcrypt::hash("x", 4).unwrap())],
                    subjects: Some(vec!["CN=ops".into()]),
                    admins: vec![admin.into()],
                    ..AuthSettings::default()
                },
            )
            .err()
        };
        assert!(e(AuthScope::All, "user:alice").is_none());
        for (scope, admin, says) in [
            (AuthScope::None, "user:alice", "needs auth"),
            (AuthScope::All, "alice", "expected user:NAME"),
            (AuthScope::All, "group:ops", "expected user:NAME"),
            (AuthScope::All, "user:", "expected user:NAME"),
            (AuthScope::All, "user:carol", "not among"),
            (AuthScope::All, "token:prometheus", "not among"),
            (AuthScope::All, "subject:CN=other", "cannot be let in"),
        ] {
            let err = e(scope, admin).unwrap_or_else(|| panic!("{admin} accepted"));
            assert_eq!(err.key, "httpserver.x.admins", "{admin}");
            assert!(err.message.contains(says), "{admin}: {err}");
        }
    }

    #[test]
    fn credentials_files_are_read_again_when_they_change() {
        let dir = std::env::temp_dir().join(format!("burrow-auth-reload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tokens");
        let write = |text: &str| std::fs::write(&file, text).unwrap();
        write("first 0123456789abcdef-first\n");
        let read = {
            let file = file.clone();
            move || {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| ConfigError::new("tokens", e.to_string()))?;
                let tokens = text
                    .lines()
                    .filter_map(|l| l.split_once(' '))
                    .map(|(n, t)| ("tokens".to_string(), Some(n.to_string()), t.to_string()))
                    .collect();
                Ok(AuthSettings {
                    scope: AuthScope::All,
                    tokens,
                    ..AuthSettings::default()
                })
            }
        };
        let a = Auth::new("x", read().unwrap())
            .unwrap()
            .with_files(CredentialFiles::new(vec![file.clone()], read));
        let get = |t: &str| {
            a.check(
                &Method::GET,
                "/v3/kafka",
                &with(&format!("Bearer {t}")),
                None,
            )
        };
        assert!(get("0123456789abcdef-first").is_ok());
        assert_eq!(a.reload_if_changed(), Ok(false));
        write("second 0123456789abcdef-second\n");
        assert_eq!(a.reload_if_changed(), Ok(true));
        assert_eq!(get("0123456789abcdef-first"), Err(Refusal::BadCredentials));
        assert_eq!(
            get("0123456789abcdef-second"),
            Ok(Principal::Token("second".into()))
        );
        // A file that does not parse: said, and the credentials in use stay.
        write("third short\n");
        assert!(a.reload_if_changed().is_err());
        assert!(get("0123456789abcdef-second").is_ok());
        assert_eq!(a.reload_if_changed(), Ok(false), "said once per change");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_changed_password_is_refused_at_once_though_it_was_remembered() {
        let dir = std::env::temp_dir().join(format!("burrow-auth-forget-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("users");
        let write = |pw: &str| {
            std::fs::write(&file, format!("bob:{}\n", bcrypt::hash(pw, 4).unwrap())).unwrap()
        };
        write("builder");
        let read = {
            let file = file.clone();
            move || {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| ConfigError::new("users", e.to_string()))?;
                let (user, hash) = text.trim().split_once(':').unwrap_or_default();
                Ok(AuthSettings {
                    scope: AuthScope::All,
                    users: vec![("users".into(), user.into(), hash.into())],
                    ..AuthSettings::default()
                })
            }
        };
        let a = Auth::new("x", read().unwrap())
            .unwrap()
            .with_files(CredentialFiles::new(vec![file.clone()], read));
        let get = |pw: &str| a.check(&Method::GET, "/v3/kafka", &basic("bob", pw), None);
        assert!(get("builder").is_ok());
        write("rebuilt");
        assert_eq!(a.reload_if_changed(), Ok(true));
        assert_eq!(get("builder"), Err(Refusal::BadCredentials));
        assert!(get("rebuilt").is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
