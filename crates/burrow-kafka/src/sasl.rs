//! SASL authentication: PLAIN (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802, RFC 7677), over
//! Kafka's SaslHandshake + SaslAuthenticate, or raw tokens for `handshake-first = false`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use kafka_protocol::messages::{SaslAuthenticateRequest, SaslHandshakeRequest};
use kafka_protocol::protocol::{Message, Request};
use rand::Rng;
use sha2::{Digest, Sha256, Sha512};

use crate::config::{SaslConfig, SaslMechanism};
use crate::error::{KafkaError, Result};
use crate::handshake::{BrokerVersions, Setup};

/// How tokens travel after the mechanism is agreed.
#[derive(Clone, Copy)]
enum Framing {
    /// SaslAuthenticate requests (Kafka 1.0+).
    Authenticate(i16),
    /// Length-prefixed raw tokens.
    Raw,
}

pub(crate) async fn authenticate(
    setup: &mut Setup<'_>,
    versions: &BrokerVersions,
    cfg: &SaslConfig,
) -> Result<()> {
    let mech = cfg.mechanism.name();
    let fail = |message: String, addr: &str| KafkaError::Sasl {
        broker: addr.to_string(),
        mechanism: mech.to_string(),
        message,
    };
    let mut framing = Framing::Raw;
    if cfg.handshake {
        let (_, max) = versions
            .range(SaslHandshakeRequest::KEY)
            .ok_or_else(|| fail("broker does not support SaslHandshake".into(), setup.addr))?;
        let hv = max.clamp(0, SaslHandshakeRequest::VERSIONS.max);
        let resp = setup.sasl_handshake(hv, mech).await?;
        if resp.error_code != 0 {
            let enabled: Vec<&str> = resp.mechanisms.iter().map(|m| m.as_str()).collect();
            return Err(fail(
                format!(
                    "mechanism rejected (error {}); broker enables {enabled:?}",
                    resp.error_code
                ),
                setup.addr,
            ));
        }
        if hv >= 1 {
            if let Some((_, amax)) = versions.range(SaslAuthenticateRequest::KEY) {
                framing =
                    Framing::Authenticate(amax.clamp(0, SaslAuthenticateRequest::VERSIONS.max));
            }
        }
    }
    match cfg.mechanism {
        SaslMechanism::Plain => {
            let token = plain_token(&cfg.username, &cfg.password);
            exchange(setup, framing, token)
                .await
                .map_err(|e| reword(e, mech))?;
            Ok(())
        }
        SaslMechanism::OAuthBearer if cfg.msk_iam.is_none() => {
            let Some(oauth) = &cfg.oauth else {
                return Err(fail(
                    "OAUTHBEARER without a token source".into(),
                    setup.addr,
                ));
            };
            let token = oauth
                .token(burrow_core::now_ms())
                .await
                .map_err(|m| fail(m, setup.addr))?;
            let result = exchange(setup, framing, oauth.message(&token)).await;
            if result.is_err() {
                // Refused: the next connection asks for a new token.
                oauth.forget().await;
            }
            result.map_err(|e| reword(e, mech))?;
            Ok(())
        }
        SaslMechanism::OAuthBearer => {
            let Some(iam) = &cfg.msk_iam else {
                return Err(fail(
                    "OAUTHBEARER without a token source".into(),
                    setup.addr,
                ));
            };
            let creds = crate::msk_iam::Credentials::load(&iam.source, &iam.region, &|k| {
                std::env::var(k).ok()
            })
            .await
            .map_err(|e| fail(format!("MSK IAM: {e}"), setup.addr))?;
            let now = burrow_core::now_ms().div_euclid(1000);
            let (token, _) = crate::msk_iam::auth_token(&iam.region, &creds, now);
            // The server answers an empty message on success, an error (and a failed
            // SaslAuthenticate) otherwise.
            exchange(setup, framing, crate::msk_iam::oauthbearer_message(&token))
                .await
                .map_err(|e| reword(e, mech))?;
            Ok(())
        }
        SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {
            let nonce: String = {
                let bytes: [u8; 24] = rand::rng().random();
                B64.encode(bytes)
            };
            let mut scram = Scram::new(cfg.mechanism, &cfg.username, &cfg.password, nonce);
            let server_first = exchange(setup, framing, scram.client_first().into_bytes())
                .await
                .map_err(|e| reword(e, mech))?;
            let client_final = scram
                .client_final(&String::from_utf8_lossy(&server_first))
                .map_err(|m| fail(m, setup.addr))?;
            let server_final = exchange(setup, framing, client_final.into_bytes())
                .await
                .map_err(|e| reword(e, mech))?;
            scram
                .verify_server_final(&String::from_utf8_lossy(&server_final))
                .map_err(|m| fail(m, setup.addr))
        }
    }
}

fn reword(e: KafkaError, mech: &str) -> KafkaError {
    match e {
        KafkaError::Server { code, message, .. } => KafkaError::Sasl {
            broker: String::new(),
            mechanism: mech.to_string(),
            message: format!(
                "authentication failed (error {code}){}",
                message.map(|m| format!(": {m}")).unwrap_or_default()
            ),
        },
        other => other,
    }
}

async fn exchange(setup: &mut Setup<'_>, framing: Framing, token: Vec<u8>) -> Result<Vec<u8>> {
    match framing {
        Framing::Raw => Ok(setup.raw_roundtrip(&token).await?.to_vec()),
        Framing::Authenticate(v) => {
            let resp = setup.sasl_authenticate(v, token).await?;
            if resp.error_code != 0 {
                return Err(KafkaError::server(
                    "SaslAuthenticate",
                    resp.error_code,
                    resp.error_message.map(|m| m.to_string()),
                ));
            }
            Ok(resp.auth_bytes.to_vec())
        }
    }
}

/// `\0user\0password`.
pub(crate) fn plain_token(user: &str, password: &str) -> Vec<u8> {
    let mut t = Vec::with_capacity(user.len() + password.len() + 2);
    t.push(0);
    t.extend_from_slice(user.as_bytes());
    t.push(0);
    t.extend_from_slice(password.as_bytes());
    t
}

/// The client side of one SCRAM exchange.
pub(crate) struct Scram {
    mechanism: SaslMechanism,
    client_first_bare: String,
    password: String,
    nonce: String,
    server_signature: Vec<u8>,
}

impl Scram {
    pub(crate) fn new(mechanism: SaslMechanism, user: &str, password: &str, nonce: String) -> Self {
        let user = user.replace('=', "=3D").replace(',', "=2C");
        Self {
            mechanism,
            client_first_bare: format!("n={user},r={nonce}"),
            password: password.to_string(),
            nonce,
            server_signature: Vec::new(),
        }
    }

    pub(crate) fn client_first(&self) -> String {
        format!("n,,{}", self.client_first_bare)
    }

    pub(crate) fn client_final(
        &mut self,
        server_first: &str,
    ) -> std::result::Result<String, String> {
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for part in server_first.split(',') {
            match part.split_at_checked(2) {
                Some(("r=", v)) => nonce = Some(v),
                Some(("s=", v)) => {
                    salt = Some(
                        B64.decode(v)
                            .map_err(|_| "server salt is not base64".to_string())?,
                    )
                }
                Some(("i=", v)) => iterations = v.parse::<u32>().ok(),
                Some(("e=", v)) => return Err(format!("server error: {v}")),
                _ => {}
            }
        }
        let (nonce, salt, iterations) = match (nonce, salt, iterations) {
            (Some(n), Some(s), Some(i)) if i > 0 => (n, s, i),
            _ => return Err(format!("malformed server-first message {server_first:?}")),
        };
        if !nonce.starts_with(&self.nonce) {
            return Err("server nonce does not extend the client nonce".into());
        }
        let salted = self.pbkdf2(&salt, iterations);
        let client_key = self.hmac(&salted, b"Client Key");
        let stored_key = self.hash(&client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let signature = self.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = self.hmac(&salted, b"Server Key");
        self.server_signature = self.hmac(&server_key, auth_message.as_bytes());
        Ok(format!("{without_proof},p={}", B64.encode(proof)))
    }

    pub(crate) fn verify_server_final(
        &self,
        server_final: &str,
    ) -> std::result::Result<(), String> {
        if let Some(err) = server_final.strip_prefix("e=") {
            return Err(format!("server error: {err}"));
        }
        let v = server_final
            .split(',')
            .find_map(|p| p.strip_prefix("v="))
            .ok_or_else(|| format!("malformed server-final message {server_final:?}"))?;
        let got = B64
            .decode(v)
            .map_err(|_| "server signature is not base64".to_string())?;
        if got != self.server_signature {
            return Err("server signature does not verify".into());
        }
        Ok(())
    }

    fn pbkdf2(&self, salt: &[u8], rounds: u32) -> Vec<u8> {
        match self.mechanism {
            SaslMechanism::ScramSha512 => {
                let mut out = vec![0u8; 64];
                pbkdf2::pbkdf2_hmac::<Sha512>(self.password.as_bytes(), salt, rounds, &mut out);
                out
            }
            _ => {
                let mut out = vec![0u8; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(self.password.as_bytes(), salt, rounds, &mut out);
                out
            }
        }
    }

    fn hmac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
        match self.mechanism {
            SaslMechanism::ScramSha512 => Hmac::<Sha512>::new_from_slice(key)
                .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
                .unwrap_or_default(),
            _ => Hmac::<Sha256>::new_from_slice(key)
                .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
                .unwrap_or_default(),
        }
    }

    fn hash(&self, data: &[u8]) -> Vec<u8> {
        match self.mechanism {
            SaslMechanism::ScramSha512 => Sha512::digest(data).to_vec(),
            _ => Sha256::digest(data).to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3: the SCRAM-SHA-256 example exchange, byte for byte.
    #[test]
    fn rfc7677_vector() {
        let mut s = Scram::new(
            SaslMechanism::ScramSha256,
            "user",
            "pencil",
            "rOprNGfwEbeRWgbNEkqO".into(),
        );
        assert_eq!(s.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let fin = s.client_final(server_first).unwrap();
        assert_eq!(
            fin,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        s.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
        assert!(s.verify_server_final("v=AAAA").is_err());
        assert!(s.verify_server_final("e=invalid-proof").is_err());
    }

    #[test]
    fn scram_rejects_a_foreign_nonce_and_escapes_names() {
        let mut s = Scram::new(SaslMechanism::ScramSha512, "a=b,c", "pw", "abc".into());
        assert_eq!(s.client_first(), "n,,n=a=3Db=2Cc,r=abc");
        assert!(s.client_final("r=zzz,s=AAAA,i=10").is_err());
        assert!(s.client_final("r=abcdef,s=AAAA").is_err());
        assert!(s
            .client_final("r=abcdef,s=AAAA,i=10")
            .unwrap()
            .starts_with("c=biws,r=abcdef,p="));
    }

    #[test]
    fn plain_token_layout() {
        assert_eq!(plain_token("u", "p"), b"\0u\0p");
    }
}
