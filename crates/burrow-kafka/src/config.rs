//! Client configuration, in Burrow's terms: `[client-profile.X]`, `[tls.X]` and `[sasl.X]`
//! sections deserialize into [`ClientProfile`], [`TlsProfile`] and [`SaslProfile`]; the server
//! resolves the names and builds a [`ClientConfig`] with [`ClientConfig::from_profiles`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use burrow_core::config::{none_as_default, Seconds};

use crate::error::{KafkaError, Result};

/// `[client-profile.X]`: the Kafka client settings shared by clusters and consumers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ClientProfile {
    /// Kafka client id (default `burrow-lagchecker`).
    pub client_id: String,
    /// Burrow's `kafka-version`: validated with Burrow's rules and aliases. Request versions are
    /// negotiated with each broker (ApiVersions), so this only gates version-dependent features
    /// (the groups reaper needs 0.11 or later).
    pub kafka_version: String,
    /// Name of a `[tls.X]` section; empty = plaintext.
    pub tls: String,
    /// Name of a `[sasl.X]` section; empty = no SASL.
    pub sasl: String,
    /// Name of an `[iam.X]` section: MSK IAM authentication (SASL OAUTHBEARER with an AWS
    /// Signature Version 4 token; needs `tls`).
    pub iam: String,
    /// Connect timeout (default 30 s, at most an hour).
    pub dial_timeout: Seconds<1, 3600>,
    /// Response timeout (default 30 s, at most an hour).
    pub read_timeout: Seconds<1, 3600>,
    /// Accepted for compatibility with Burrow's profile; unused.
    #[serde(serialize_with = "none_as_default")]
    pub write_timeout: Option<u64>,
    /// Accepted for compatibility with Burrow's profile; unused.
    #[serde(serialize_with = "none_as_default")]
    pub class_name: Option<String>,
}

impl Default for ClientProfile {
    fn default() -> Self {
        Self {
            client_id: "burrow-lagchecker".to_string(),
            kafka_version: "2.8.0".to_string(),
            tls: String::new(),
            sasl: String::new(),
            iam: String::new(),
            dial_timeout: Seconds::new(30),
            read_timeout: Seconds::new(30),
            write_timeout: None,
            class_name: None,
        }
    }
}

/// `[tls.X]`: TLS to the brokers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct TlsProfile {
    /// PEM file of the CA certificates to trust; empty = the system trust store.
    pub cafile: String,
    /// PEM client certificate (loaded whenever `certfile` and `keyfile` are both given; Burrow
    /// ignored it without `cafile`, which this project fixes).
    pub certfile: String,
    /// PEM private key of the client certificate.
    pub keyfile: String,
    /// Skip verification of the broker's certificate and name.
    pub noverify: bool,
}

/// `[sasl.X]`: SASL authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct SaslProfile {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// `PLAIN` (default, and anything unrecognised as in Burrow), `SCRAM-SHA-256`, `SCRAM-SHA-512`.
    pub mechanism: String,
    /// Send Kafka's SaslHandshake first (default **true** here; Burrow defaulted to false).
    pub handshake_first: bool,
    /// burrow-rs, OAUTHBEARER: the OAuth 2 / OIDC token endpoint (client credentials grant).
    pub token_endpoint_url: String,
    /// burrow-rs, OAUTHBEARER: the client id at the token endpoint.
    pub client_id: String,
    /// burrow-rs, OAUTHBEARER: the client secret at the token endpoint.
    pub client_secret: String,
    /// burrow-rs, OAUTHBEARER: instead of a secret, a PEM private key signing a client
    /// assertion for every token request (`private_key_jwt`).
    pub client_assertion_key_file: String,
    /// burrow-rs, OAUTHBEARER: the assertion's algorithm (default `RS256`).
    pub client_assertion_algorithm: String,
    /// burrow-rs, OAUTHBEARER: the assertion's `kid` header (none when empty).
    pub client_assertion_key_id: String,
    /// burrow-rs, OAUTHBEARER: the assertion's audience (default: the token endpoint's URL).
    pub client_assertion_audience: String,
    /// burrow-rs, OAUTHBEARER: instead of a secret, a file holding a client assertion made
    /// elsewhere, read at every token request.
    pub client_assertion_file: String,
    /// burrow-rs, OAUTHBEARER: the scope asked for (empty: none).
    pub scope: String,
    /// burrow-rs, OAUTHBEARER: a file holding the token instead, read at every connection.
    pub token_file: String,
    /// burrow-rs, OAUTHBEARER: SASL extensions sent with the token (KIP-342).
    pub extensions: BTreeMap<String, String>,
}

impl Default for SaslProfile {
    fn default() -> Self {
        Self {
            username: String::new(),
            password: String::new(),
            mechanism: String::new(),
            handshake_first: true,
            token_endpoint_url: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            client_assertion_key_file: String::new(),
            client_assertion_algorithm: String::new(),
            client_assertion_key_id: String::new(),
            client_assertion_audience: String::new(),
            client_assertion_file: String::new(),
            scope: String::new(),
            token_file: String::new(),
            extensions: BTreeMap::new(),
        }
    }
}

impl SaslProfile {
    /// The OAUTHBEARER token source of `[sasl.<name>]`: a token endpoint or a token file.
    fn oauth(&self, name: &str) -> Result<crate::oauth::OAuthBearer> {
        use crate::oauth::{OAuthBearer, TokenSource};
        let key = |k: &str| format!("sasl.{name}.{k}");
        let source = match (self.token_endpoint_url.is_empty(), self.token_file.is_empty()) {
            (false, true) => {
                if self.client_id.is_empty() {
                    return Err(config_error(
                        key("client-id"),
                        "the token endpoint needs client-id",
                    ));
                }
                if !(self.token_endpoint_url.starts_with("https://")
                    || self.token_endpoint_url.starts_with("http://"))
                {
                    return Err(config_error(
                        key("token-endpoint-url"),
                        format!("{:?} is not an http(s) URL", self.token_endpoint_url),
                    ));
                }
                TokenSource::ClientCredentials {
                    url: self.token_endpoint_url.clone(),
                    client_id: self.client_id.clone(),
                    client_auth: self.client_auth(name)?,
                    scope: self.scope.clone(),
                }
            }
            (true, false) => TokenSource::File(self.token_file.clone().into()),
            (true, true) => {
                return Err(config_error(
                    key("token-endpoint-url"),
                    "OAUTHBEARER needs token-endpoint-url (with client-id and client-secret, client-assertion-key-file or client-assertion-file) or token-file",
                ))
            }
            (false, false) => {
                return Err(config_error(
                    key("token-file"),
                    "give token-endpoint-url or token-file, not both",
                ))
            }
        };
        Ok(OAuthBearer::new(source, self.extensions.clone()))
    }

    /// How the client proves itself to the token endpoint: exactly one of client-secret,
    /// client-assertion-key-file (its key read and checked now) and client-assertion-file.
    fn client_auth(&self, name: &str) -> Result<crate::oauth::ClientAuth> {
        use crate::oauth::{AssertionKey, ClientAuth};
        let key = |k: &str| format!("sasl.{name}.{k}");
        let given: Vec<&str> = [
            ("client-secret", &self.client_secret),
            ("client-assertion-key-file", &self.client_assertion_key_file),
            ("client-assertion-file", &self.client_assertion_file),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, _)| k)
        .collect();
        match given[..] {
            [] => {
                return Err(config_error(
                    key("client-secret"),
                    "the token endpoint needs client-secret, client-assertion-key-file or client-assertion-file",
                ))
            }
            [first, second, ..] => {
                return Err(config_error(
                    key(second),
                    format!("give one of client-secret, client-assertion-key-file and client-assertion-file, not {first} and {second}"),
                ))
            }
            [_] => {}
        }
        if !self.client_secret.is_empty() {
            return Ok(ClientAuth::Secret(self.client_secret.clone()));
        }
        if !self.client_assertion_file.is_empty() {
            return Ok(ClientAuth::AssertionFile(
                self.client_assertion_file.clone().into(),
            ));
        }
        AssertionKey::check_algorithm(&self.client_assertion_algorithm)
            .map_err(|m| config_error(key("client-assertion-algorithm"), m))?;
        let assertion_key = AssertionKey {
            file: self.client_assertion_key_file.clone().into(),
            algorithm: self.client_assertion_algorithm.clone(),
            key_id: Some(self.client_assertion_key_id.clone()).filter(|k| !k.is_empty()),
            audience: Some(self.client_assertion_audience.clone()).filter(|a| !a.is_empty()),
        };
        assertion_key
            .check_key()
            .map_err(|m| config_error(key("client-assertion-key-file"), m))?;
        Ok(ClientAuth::PrivateKeyJwt(assertion_key))
    }
}

fn config_error(key: String, message: impl Into<String>) -> KafkaError {
    KafkaError::Config {
        key,
        message: message.into(),
    }
}

/// A SASL mechanism this client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    /// RFC 4616 PLAIN.
    Plain,
    /// RFC 7677 SCRAM-SHA-256.
    ScramSha256,
    /// SCRAM-SHA-512.
    ScramSha512,
    /// RFC 7628 OAUTHBEARER (MSK IAM's token).
    OAuthBearer,
}

impl SaslMechanism {
    /// Burrow's rule: the two SCRAM names, anything else is PLAIN; and burrow-rs's
    /// `OAUTHBEARER`.
    pub fn from_burrow(name: &str) -> Self {
        match name {
            "SCRAM-SHA-256" => Self::ScramSha256,
            "SCRAM-SHA-512" => Self::ScramSha512,
            "OAUTHBEARER" => Self::OAuthBearer,
            _ => Self::Plain,
        }
    }

    /// The mechanism's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
            Self::OAuthBearer => "OAUTHBEARER",
        }
    }
}

/// `[iam.X]`: MSK IAM, as Burrow 1.9.5 reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct IamProfile {
    /// AWS region of the cluster (required).
    pub region: String,
    /// Role to assume (through STS, with the default credentials; session `burrow-session`).
    pub role_arn: String,
    /// Named profile of the shared credentials and config files; empty = the environment,
    /// then `AWS_PROFILE` (or `default`).
    pub profile: String,
}

/// Resolved MSK IAM settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MskIam {
    /// AWS region of the cluster.
    pub region: String,
    /// Where the credentials are read, at every connection.
    pub source: crate::msk_iam::CredentialSource,
}

/// Resolved SASL settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslConfig {
    /// Mechanism.
    pub mechanism: SaslMechanism,
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// Send SaslHandshake first (otherwise raw SASL tokens, Kafka's pre-0.10 framing).
    pub handshake: bool,
    /// The token of MSK IAM (mechanism OAUTHBEARER).
    pub msk_iam: Option<MskIam>,
    /// The token of OAUTHBEARER from a token endpoint or a file.
    pub oauth: Option<crate::oauth::OAuthBearer>,
}

impl SaslConfig {
    /// MSK IAM: OAUTHBEARER with the token made from `iam` at every connection.
    pub fn msk_iam(iam: MskIam) -> SaslConfig {
        SaslConfig {
            mechanism: SaslMechanism::OAuthBearer,
            username: String::new(),
            password: String::new(),
            handshake: true,
            msk_iam: Some(iam),
            oauth: None,
        }
    }
}

/// A Kafka release, as parsed from Burrow's `kafka-version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KafkaVersion(pub [u16; 4]);

impl KafkaVersion {
    /// Parses with Burrow's rules: sarama's format (`0.10.2.0`, `2.8.0`, `3.6.1`), the legacy
    /// aliases (`0.10` → 0.10.0.0, `0.8` → 0.8.2.0, …), empty → 0.10.2.0. Four-part versions at
    /// or above 1.0 are rejected, as in sarama.
    pub fn parse(s: &str) -> Option<Self> {
        let alias = match s {
            "" => Some([0, 10, 2, 0]),
            "0.8" | "0.8.0" => Some([0, 8, 2, 0]),
            "0.8.1" => Some([0, 8, 2, 1]),
            "0.8.2" => Some([0, 8, 2, 2]),
            "0.9" | "0.9.0" => Some([0, 9, 0, 0]),
            "0.10" | "0.10.0" => Some([0, 10, 0, 0]),
            "0.10.1" => Some([0, 10, 1, 0]),
            "0.10.2" => Some([0, 10, 2, 0]),
            "0.11" | "0.11.0" => Some([0, 11, 0, 0]),
            _ => None,
        };
        if let Some(v) = alias {
            return Some(Self(v));
        }
        let parts: Vec<u16> = s
            .split('.')
            .map(|p| {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    None
                } else {
                    p.parse().ok()
                }
            })
            .collect::<Option<_>>()?;
        match parts.as_slice() {
            [0, b, c, d] => Some(Self([0, *b, *c, *d])),
            [a, b, c] if *a >= 1 => Some(Self([*a, *b, *c, 0])),
            _ => None,
        }
    }

    /// Whether this version is at least `a.b.c`.
    pub fn at_least(self, a: u16, b: u16, c: u16) -> bool {
        self.0 >= [a, b, c, 0]
    }
}

/// Everything a [`crate::KafkaClient`] needs besides the bootstrap list.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Client id sent in every request header.
    pub client_id: String,
    /// Burrow's `kafka-version` (feature gates only; versions are negotiated).
    pub kafka_version: KafkaVersion,
    /// TLS settings, `None` for plaintext.
    pub tls: Option<TlsProfile>,
    /// Name of the `[tls.X]` section `tls` came from, for the keys named in errors.
    pub tls_section: String,
    /// SASL settings.
    pub sasl: Option<SaslConfig>,
    /// Connect timeout (TCP, TLS, ApiVersions and SASL together).
    pub dial_timeout: Duration,
    /// Time allowed for each response.
    pub read_timeout: Duration,
    /// First delay before reconnecting to a broker that failed; doubles up to `reconnect_max`.
    pub reconnect_backoff: Duration,
    /// Upper bound of the reconnect delay.
    pub reconnect_max: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            client_id: "burrow-lagchecker".to_string(),
            kafka_version: KafkaVersion([2, 8, 0, 0]),
            tls: None,
            tls_section: String::new(),
            sasl: None,
            dial_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(30),
            reconnect_backoff: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(10),
        }
    }
}

impl ClientConfig {
    /// Reads the TLS files (CA, client certificate and key) as a connection would, so that a
    /// server can refuse a bad file at start, naming the `[tls.X]` key that holds it, instead of
    /// failing every connection.
    pub fn check_tls_files(&self) -> Result<()> {
        if let Some(t) = &self.tls {
            crate::tls::connector(&self.tls_section, t)?;
        }
        Ok(())
    }

    /// Builds the config from a profile and the TLS/SASL sections it names (already looked up by
    /// the caller). `key` is the config path of the profile, for error messages
    /// (e.g. `client-profile.prod`).
    pub fn from_profiles(
        key: &str,
        profile: &ClientProfile,
        tls: Option<&TlsProfile>,
        sasl: Option<&SaslProfile>,
        iam: Option<&IamProfile>,
    ) -> Result<Self> {
        let kafka_version =
            KafkaVersion::parse(&profile.kafka_version).ok_or_else(|| KafkaError::Config {
                key: format!("{key}.kafka-version"),
                message: format!("unknown Kafka version {:?}", profile.kafka_version),
            })?;
        let msk_iam = Self::msk_iam(key, profile, tls, iam)?;
        if let Some(t) = tls {
            if t.certfile.is_empty() != t.keyfile.is_empty() {
                return Err(KafkaError::Config {
                    key: format!("tls.{}.certfile", profile.tls),
                    message: "certfile and keyfile must be given together".to_string(),
                });
            }
        }
        Ok(Self {
            client_id: profile.client_id.clone(),
            kafka_version,
            tls: tls.cloned(),
            // As in Burrow, MSK IAM replaces the profile's [sasl.X].
            sasl: match msk_iam {
                Some(iam) => Some(SaslConfig::msk_iam(iam)),
                None => match sasl {
                    None => None,
                    Some(s) => {
                        let mechanism = SaslMechanism::from_burrow(&s.mechanism);
                        let oauth = match mechanism {
                            SaslMechanism::OAuthBearer => Some(s.oauth(&profile.sasl)?),
                            _ => None,
                        };
                        Some(SaslConfig {
                            mechanism,
                            username: s.username.clone(),
                            password: s.password.clone(),
                            handshake: s.handshake_first,
                            msk_iam: None,
                            oauth,
                        })
                    }
                },
            },
            tls_section: profile.tls.clone(),
            dial_timeout: profile.dial_timeout.get(),
            read_timeout: profile.read_timeout.get(),
            ..Self::default()
        })
    }
}

impl ClientConfig {
    /// The profile's `[iam.X]`, checked as Burrow checks it: a region, and TLS.
    fn msk_iam(
        key: &str,
        profile: &ClientProfile,
        tls: Option<&TlsProfile>,
        iam: Option<&IamProfile>,
    ) -> Result<Option<MskIam>> {
        if profile.iam.is_empty() {
            return Ok(None);
        }
        let name = &profile.iam;
        let err = |key: String, message: &str| KafkaError::Config {
            key,
            message: message.to_string(),
        };
        let iam =
            iam.ok_or_else(|| err(format!("{key}.iam"), &format!("no [iam.{name}] section")))?;
        if iam.region.is_empty() {
            return Err(err(format!("iam.{name}.region"), "required"));
        }

        if tls.is_none() {
            return Err(err(
                format!("{key}.iam"),
                "MSK IAM needs TLS: name a [tls.X] section in tls (as Burrow requires)",
            ));
        }
        // Burrow's order: role-arn, then profile, then the default chain.
        let source = match (iam.role_arn.as_str(), iam.profile.as_str()) {
            ("", "") => crate::msk_iam::CredentialSource::Default,
            ("", p) => crate::msk_iam::CredentialSource::Profile(p.to_string()),
            (role, _) => crate::msk_iam::CredentialSource::AssumeRole(role.to_string()),
        };
        Ok(Some(MskIam {
            region: iam.region.clone(),
            source,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msk_iam_needs_a_region_and_tls_and_replaces_sasl() {
        let profile = ClientProfile {
            iam: "eks".into(),
            tls: "t".into(),
            ..Default::default()
        };
        let tls = TlsProfile::default();
        let iam = IamProfile {
            region: "us-west-1".into(),
            ..Default::default()
        };
        let c =
            ClientConfig::from_profiles("client-profile.p", &profile, Some(&tls), None, Some(&iam))
                .unwrap();
        let sasl = c.sasl.unwrap();
        assert_eq!(sasl.mechanism, SaslMechanism::OAuthBearer);
        assert_eq!(sasl.msk_iam.unwrap().region, "us-west-1");
        let e = |tls: Option<&TlsProfile>, iam: Option<&IamProfile>| {
            ClientConfig::from_profiles("client-profile.p", &profile, tls, None, iam)
                .unwrap_err()
                .to_string()
        };
        assert!(
            e(None, Some(&iam)).contains("client-profile.p.iam"),
            "{}",
            e(None, Some(&iam))
        );
        assert!(e(Some(&tls), None).contains("no [iam.eks] section"));
        let no_region = IamProfile::default();
        assert!(e(Some(&tls), Some(&no_region)).contains("iam.eks.region"));
    }

    #[test]
    fn kafka_versions_follow_burrow() {
        assert_eq!(KafkaVersion::parse(""), Some(KafkaVersion([0, 10, 2, 0])));
        assert_eq!(KafkaVersion::parse("0.8"), Some(KafkaVersion([0, 8, 2, 0])));
        assert_eq!(
            KafkaVersion::parse("0.10.1"),
            Some(KafkaVersion([0, 10, 1, 0]))
        );
        assert_eq!(
            KafkaVersion::parse("0.10.2.1"),
            Some(KafkaVersion([0, 10, 2, 1]))
        );
        assert_eq!(
            KafkaVersion::parse("2.8.0"),
            Some(KafkaVersion([2, 8, 0, 0]))
        );
        assert_eq!(KafkaVersion::parse("3.0.0.0"), None);
        assert_eq!(KafkaVersion::parse("banana"), None);
        assert_eq!(KafkaVersion::parse("2.8"), None);
        assert!(KafkaVersion::parse("0.11.0").unwrap().at_least(0, 11, 0));
        assert!(!KafkaVersion::parse("0.10.2").unwrap().at_least(0, 11, 0));
    }

    #[test]
    fn profiles_resolve_with_key_paths_in_errors() {
        let mut p = ClientProfile {
            kafka_version: "9.x".into(),
            ..ClientProfile::default()
        };
        let err =
            ClientConfig::from_profiles("client-profile.prod", &p, None, None, None).unwrap_err();
        assert!(
            err.to_string()
                .contains("client-profile.prod.kafka-version"),
            "{err}"
        );
        p.kafka_version = "3.6.0".into();
        let sasl = SaslProfile {
            mechanism: "SCRAM-SHA-512".into(),
            ..SaslProfile::default()
        };
        let c = ClientConfig::from_profiles("client-profile.prod", &p, None, Some(&sasl), None)
            .unwrap();
        let s = c.sasl.unwrap();
        assert_eq!(s.mechanism, SaslMechanism::ScramSha512);
        assert!(s.handshake, "handshake-first defaults to true (decision 2)");
        let tls = TlsProfile {
            certfile: "c.pem".into(),
            ..TlsProfile::default()
        };
        p.tls = "x".into();
        let err = ClientConfig::from_profiles("client-profile.prod", &p, Some(&tls), None, None)
            .unwrap_err();
        assert!(err.to_string().contains("tls.x.certfile"), "{err}");
    }

    #[test]
    fn oauthbearer_clients_prove_themselves_one_way() {
        use crate::oauth::{ClientAuth, TokenSource};
        let pki = burrow_testkit::TestPki::new("sasl-assertion", &["localhost"]);
        let p = ClientProfile {
            sasl: "idp".into(),
            ..ClientProfile::default()
        };
        let base = SaslProfile {
            mechanism: "OAUTHBEARER".into(),
            token_endpoint_url: "https://idp.example/token".into(),
            client_id: "burrow".into(),
            ..SaslProfile::default()
        };
        let auth_of = |s: &SaslProfile| {
            ClientConfig::from_profiles("client-profile.p", &p, None, Some(s), None).map(
                |c| match c.sasl.unwrap().oauth.unwrap().source {
                    TokenSource::ClientCredentials { client_auth, .. } => client_auth,
                    other => panic!("{other:?}"),
                },
            )
        };
        let keyed = SaslProfile {
            client_assertion_key_file: pki.path("key.pem").display().to_string(),
            client_assertion_algorithm: "ES256".into(),
            client_assertion_key_id: "k1".into(),
            ..base.clone()
        };
        match auth_of(&keyed).unwrap() {
            ClientAuth::PrivateKeyJwt(k) => {
                assert_eq!(k.algorithm, "ES256");
                assert_eq!(k.key_id.as_deref(), Some("k1"));
                assert_eq!(k.audience, None);
            }
            other => panic!("{other:?}"),
        }
        let filed = SaslProfile {
            client_assertion_file: "/run/assertion.jwt".into(),
            ..base.clone()
        };
        assert!(matches!(
            auth_of(&filed).unwrap(),
            ClientAuth::AssertionFile(_)
        ));
        let secret = SaslProfile {
            client_secret: "s".into(),
            ..base.clone()
        };
        assert!(matches!(auth_of(&secret).unwrap(), ClientAuth::Secret(_)));
        let key_of = |s: &SaslProfile| match auth_of(s).unwrap_err() {
            KafkaError::Config { key, .. } => key,
            other => panic!("{other}"),
        };
        assert_eq!(key_of(&base), "sasl.idp.client-secret");
        let both = SaslProfile {
            client_secret: "s".into(),
            ..keyed.clone()
        };
        assert_eq!(key_of(&both), "sasl.idp.client-assertion-key-file");
        let rsa = SaslProfile {
            client_assertion_algorithm: "RS256".into(),
            ..keyed.clone()
        };
        assert_eq!(key_of(&rsa), "sasl.idp.client-assertion-key-file");
        let hmac = SaslProfile {
            client_assertion_algorithm: "HS256".into(),
            ..keyed
        };
        assert_eq!(key_of(&hmac), "sasl.idp.client-assertion-algorithm");
    }
}
