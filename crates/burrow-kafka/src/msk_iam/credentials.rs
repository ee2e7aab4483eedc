//! AWS credentials for MSK IAM, from the places Burrow's signer library reads them: the
//! environment, web identity (EKS IRSA: `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`,
//! through STS), the shared credentials and config files, and an assumed role (`role-arn`,
//! through STS, with the credentials of the rest). Credentials from STS are kept until five
//! minutes before they expire.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{KafkaError, Result};

/// An access key, its secret, and the session token of temporary credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    /// The key id only: the secret and the token never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Where `[iam.X]` says the credentials are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// The environment, then web identity, then the shared files' `AWS_PROFILE` (or
    /// `default`) profile.
    Default,
    /// `role-arn`: the role assumed with the [`CredentialSource::Default`] credentials.
    AssumeRole(String),
    /// A named profile of the shared files (`profile`).
    Profile(String),
    /// Credentials given by the program (embedding; tests).
    Static(Credentials),
}

/// The process environment, or a test's.
pub type Env<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

impl Credentials {
    /// Loads credentials from `source` for `region`, reading the environment through `env`
    /// and calling STS where the source needs it.
    pub async fn load(
        source: &CredentialSource,
        region: &str,
        env: Env<'_>,
    ) -> Result<Credentials> {
        match source {
            CredentialSource::Static(c) => Ok(c.clone()),
            CredentialSource::Profile(name) => from_files(name, env),
            CredentialSource::Default => default_chain(region, env).await,
            CredentialSource::AssumeRole(role) => {
                let key = format!("role|{region}|{role}");
                if let Some(c) = cached(&key) {
                    return Ok(c);
                }
                let base = default_chain(region, env).await?;
                let endpoint = super::sts::endpoint(region, env);
                let now = burrow_core::now_ms().div_euclid(1000);
                let (c, expires) = super::sts::assume_role(
                    &endpoint,
                    region,
                    &base,
                    role,
                    super::sts::SESSION_NAME,
                    now,
                )
                .await?;
                keep(key, &c, expires.as_deref());
                Ok(c)
            }
        }
    }
}

/// The environment, then web identity, then the shared files.
async fn default_chain(region: &str, env: Env<'_>) -> Result<Credentials> {
    if let Some(c) = from_env(env) {
        return Ok(c);
    }
    if let (Some(file), Some(role)) = (
        env("AWS_WEB_IDENTITY_TOKEN_FILE").filter(|v| !v.is_empty()),
        env("AWS_ROLE_ARN").filter(|v| !v.is_empty()),
    ) {
        let key = format!("web|{region}|{role}|{file}");
        if let Some(c) = cached(&key) {
            return Ok(c);
        }
        let token = std::fs::read_to_string(&file).map_err(|e| KafkaError::Config {
            key: "iam".into(),
            message: format!("AWS_WEB_IDENTITY_TOKEN_FILE {file}: {e}"),
        })?;
        let session =
            env("AWS_ROLE_SESSION_NAME").unwrap_or_else(|| super::sts::SESSION_NAME.into());
        let (c, expires) = super::sts::assume_role_with_web_identity(
            &super::sts::endpoint(region, env),
            &role,
            &session,
            token.trim(),
        )
        .await?;
        keep(key, &c, expires.as_deref());
        return Ok(c);
    }
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    from_files(&profile, env).map_err(|e| KafkaError::Config {
        key: "iam".into(),
        message: format!(
            "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, no web identity (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN), and {e}"
        ),
    })
}

/// Credentials from STS, by what they were asked for, with their expiry (Unix seconds).
type Cache = std::sync::Mutex<BTreeMap<String, (Credentials, i64)>>;

fn cache() -> &'static Cache {
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

fn cached(key: &str) -> Option<Credentials> {
    let now = burrow_core::now_ms().div_euclid(1000);
    let cache = cache().lock().unwrap_or_else(|p| p.into_inner());
    cache
        .get(key)
        .filter(|(_, expires)| now < expires - 300)
        .map(|(c, _)| c.clone())
}

fn keep(key: String, c: &Credentials, expiration: Option<&str>) {
    let Some(expires) = expiration.and_then(iso8601_seconds) else {
        return;
    };
    cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, (c.clone(), expires));
}

/// `2030-01-01T00:00:00Z` (fractions allowed) as Unix seconds.
fn iso8601_seconds(s: &str) -> Option<i64> {
    let num = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hh, mm, ss) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3_600 + mm * 60 + ss)
}

fn from_env(env: Env<'_>) -> Option<Credentials> {
    let id = env("AWS_ACCESS_KEY_ID").filter(|v| !v.is_empty())?;
    let secret = env("AWS_SECRET_ACCESS_KEY").filter(|v| !v.is_empty())?;
    Some(Credentials {
        access_key_id: id,
        secret_access_key: secret,
        session_token: env("AWS_SESSION_TOKEN").filter(|v| !v.is_empty()),
    })
}

fn home(env: Env<'_>) -> PathBuf {
    PathBuf::from(env("HOME").unwrap_or_default())
}

/// The profile's keys: `[name]` in the credentials file, over `[profile name]` (or `[default]`)
/// in the config file.
fn from_files(profile: &str, env: Env<'_>) -> Result<Credentials> {
    let credentials_file = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home(env).join(".aws/credentials"));
    let config_file = env("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home(env).join(".aws/config"));
    let mut keys = BTreeMap::new();
    let config_section = if profile == "default" {
        "default".to_string()
    } else {
        format!("profile {profile}")
    };
    if let Some(section) = read_ini(&config_file)?.remove(&config_section) {
        keys.extend(section);
    }
    if let Some(section) = read_ini(&credentials_file)?.remove(profile) {
        keys.extend(section);
    }
    let missing = || KafkaError::Config {
        key: "iam".into(),
        message: format!(
            "profile {profile:?} has no aws_access_key_id and aws_secret_access_key in {} or {}",
            credentials_file.display(),
            config_file.display()
        ),
    };
    Ok(Credentials {
        access_key_id: keys.remove("aws_access_key_id").ok_or_else(missing)?,
        secret_access_key: keys.remove("aws_secret_access_key").ok_or_else(missing)?,
        session_token: keys.remove("aws_session_token"),
    })
}

type Ini = BTreeMap<String, BTreeMap<String, String>>;

/// An INI file's sections (a missing file is empty).
fn read_ini(path: &Path) -> Result<Ini> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ini::new()),
        Err(e) => {
            return Err(KafkaError::Config {
                key: "iam".into(),
                message: format!("cannot read {}: {e}", path.display()),
            })
        }
    };
    Ok(parse_ini(&text))
}

fn parse_ini(text: &str) -> Ini {
    let mut out = Ini::new();
    let mut section: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.trim().to_string());
            continue;
        }
        if let (Some(s), Some((k, v))) = (&section, line.split_once('=')) {
            out.entry(s.clone())
                .or_default()
                .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn sts_expirations_are_unix_seconds() {
        assert_eq!(iso8601_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            iso8601_seconds("2023-11-14T22:13:20.000Z"),
            Some(1_700_000_000)
        );
        assert_eq!(iso8601_seconds("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(iso8601_seconds("garbage"), None);
    }

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| vars.get(k).cloned()
    }

    #[test]
    fn the_environment_comes_first() {
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRET"),
            ("AWS_SESSION_TOKEN", "TOKEN"),
        ]);
        let c = block_on(Credentials::load(
            &CredentialSource::Default,
            "us-east-1",
            &env,
        ))
        .unwrap();
        assert_eq!(c.access_key_id, "AKID");
        assert_eq!(c.session_token.as_deref(), Some("TOKEN"));
        assert!(!format!("{c:?}").contains("SECRET"));
    }

    #[test]
    fn profiles_come_from_the_shared_files() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("credentials");
        let config = dir.path().join("config");
        std::fs::write(
            &creds,
            "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n[prod]\naws_access_key_id=P\naws_secret_access_key=PS\n",
        )
        .unwrap();
        std::fs::write(
            &config,
            "[profile prod]\naws_session_token = PT\nregion = eu-west-1\n",
        )
        .unwrap();
        let c = creds.display().to_string();
        let f = config.display().to_string();
        let env = env_of(&[("AWS_SHARED_CREDENTIALS_FILE", &c), ("AWS_CONFIG_FILE", &f)]);
        let d = block_on(Credentials::load(
            &CredentialSource::Default,
            "us-east-1",
            &env,
        ))
        .unwrap();
        assert_eq!(d.access_key_id, "D");
        let p = block_on(Credentials::load(
            &CredentialSource::Profile("prod".into()),
            "us-east-1",
            &env,
        ))
        .unwrap();
        assert_eq!(
            (p.access_key_id.as_str(), p.session_token.as_deref()),
            ("P", Some("PT"))
        );
        let e = block_on(Credentials::load(
            &CredentialSource::Profile("nope".into()),
            "us-east-1",
            &env,
        ))
        .unwrap_err();
        assert!(e.to_string().contains("profile \"nope\""), "{e}");
    }
}
