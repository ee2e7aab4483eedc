//! The AWS STS calls behind the credentials Burrow's signer library also gets from STS:
//! `AssumeRoleWithWebIdentity` (web identity: EKS IRSA, `AWS_WEB_IDENTITY_TOKEN_FILE` and
//! `AWS_ROLE_ARN`; unsigned) and `AssumeRole` (`role-arn`; a GET presigned with the base
//! credentials). The endpoint is `https://sts.{region}.amazonaws.com`, or
//! `AWS_ENDPOINT_URL_STS` as the AWS SDKs read it.

use std::time::Duration;

use super::sigv4::{self, uri_encode};
use super::Credentials;
use crate::error::{KafkaError, Result};

/// STS's API version.
const VERSION: &str = "2011-06-15";

/// The session name Burrow gives assumed roles.
pub const SESSION_NAME: &str = "burrow-session";

fn error(message: String) -> KafkaError {
    KafkaError::Config {
        key: "iam".into(),
        message,
    }
}

/// The STS endpoint (`scheme://host[:port]`) for `region`.
pub fn endpoint(region: &str, env: super::credentials::Env<'_>) -> String {
    env("AWS_ENDPOINT_URL_STS")
        .filter(|e| !e.is_empty())
        .map(|e| e.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com"))
}

fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k), uri_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `AssumeRoleWithWebIdentity`: credentials for `role_arn` from the identity token.
pub async fn assume_role_with_web_identity(
    endpoint: &str,
    role_arn: &str,
    session_name: &str,
    token: &str,
) -> Result<(Credentials, Option<String>)> {
    let url = format!(
        "{endpoint}/?{}",
        query(&[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", VERSION),
            ("RoleArn", role_arn),
            ("RoleSessionName", session_name),
            ("WebIdentityToken", token),
        ])
    );
    call(&url, "AssumeRoleWithWebIdentity").await
}

/// `AssumeRole` with `base` credentials: a GET presigned for the `sts` service.
pub async fn assume_role(
    endpoint: &str,
    region: &str,
    base: &Credentials,
    role_arn: &str,
    session_name: &str,
    now: i64,
) -> Result<(Credentials, Option<String>)> {
    let (scheme, host) = endpoint.split_once("://").unwrap_or(("https", endpoint));
    let url = sigv4::presign(
        &sigv4::Presign {
            scheme,
            host,
            query: vec![
                ("Action".into(), "AssumeRole".into()),
                ("Version".into(), VERSION.into()),
                ("RoleArn".into(), role_arn.into()),
                ("RoleSessionName".into(), session_name.into()),
            ],
            service: "sts",
            region,
            expires: 300,
            now,
        },
        base,
    );
    call(&url, "AssumeRole").await
}

async fn call(url: &str, action: &str) -> Result<(Credentials, Option<String>)> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| error(format!("STS {action}: {e}")))?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| error(format!("STS {action}: {e}")))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| error(format!("STS {action}: {e}")))?;
    if !status.is_success() {
        let code = element(&body, "Code").unwrap_or_default();
        let message = element(&body, "Message").unwrap_or_default();
        return Err(error(format!(
            "STS {action} answered {status}: {code} {message}"
        )));
    }
    parse_credentials(&body)
        .ok_or_else(|| error(format!("STS {action}: no credentials in the answer")))
}

/// The text of the first `<name>…</name>` in an XML answer.
fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(unescape(&xml[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The credentials of an AssumeRole* answer and their expiration (ISO 8601).
pub fn parse_credentials(xml: &str) -> Option<(Credentials, Option<String>)> {
    let creds = Credentials {
        access_key_id: element(xml, "AccessKeyId")?,
        secret_access_key: element(xml, "SecretAccessKey")?,
        session_token: element(xml, "SessionToken"),
    };
    Some((creds, element(xml, "Expiration")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_as_sts_writes_them() {
        let xml = "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s&amp;k</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
        let (c, exp) = parse_credentials(xml).unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.secret_access_key.as_str()),
            ("ASIA1", "s&k")
        );
        assert_eq!(c.session_token.as_deref(), Some("tok"));
        assert_eq!(exp.as_deref(), Some("2030-01-01T00:00:00Z"));
        assert!(parse_credentials("<ErrorResponse/>").is_none());
    }
}
