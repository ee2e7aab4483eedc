//! SASL OAUTHBEARER with tokens from an OAuth 2 / OIDC token endpoint (client credentials
//! grant, scope, extensions) or a file, against a SASL front that verifies each JWT with PyJWT
//! (signature, expiry, audience, extension) in front of a test broker: tokens are refreshed
//! before they expire, a session is renewed with a new token before the expiry ends it, an
//! endpoint that is down is named and recovered from, a client proves itself with a signed
//! assertion instead of a secret, and wrong credentials, keys, audiences or extensions are
//! refused with clear errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use burrow_kafka::oauth::{AssertionKey, ClientAuth, OAuthBearer, TokenSource};
use burrow_kafka::{ClientConfig, KafkaClient, SaslConfig, SaslMechanism};
use burrow_testkit::{free_port, BrokerKind, OidcServer, OidcSettings, OwnBroker, SaslFront};

const SECRET: &str = "client-secret-7d1e";

struct Setup {
    oidc: OidcServer,
    front: SaslFront,
    _broker: OwnBroker,
    dir: std::path::PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An endpoint issuing tokens for `kafka-broker` living `lifetime_s`, and a front wanting
/// `audience` and the extension `logicalCluster=lkc-42`, before a broker of the test's own.
fn setup(name: &str, lifetime_s: u64, audience: &str) -> Option<Setup> {
    let dir = std::env::temp_dir().join(format!("burrow-oauth-{name}-{}", std::process::id()));
    let oidc = OidcServer::start(
        &dir,
        OidcSettings {
            client_id: "burrow".into(),
            client_secret: SECRET.into(),
            audience: "kafka-broker".into(),
            lifetime_s,
            scope: "kafka".into(),
        },
    )?;
    let port = free_port();
    let broker = OwnBroker::start(BrokerKind::TansuSrc, Some(port))?;
    let key = oidc.public_key().to_str().unwrap().to_string();
    let front = SaslFront::start(
        port,
        &broker.addr(),
        "oauthbearer",
        &[&key, audience, "logicalCluster=lkc-42"],
        None,
    )?;
    Some(Setup {
        oidc,
        front,
        _broker: broker,
        dir,
    })
}

fn endpoint(s: &Setup, secret: &str, scope: &str) -> OAuthBearer {
    endpoint_with(s, ClientAuth::Secret(secret.into()), scope)
}

fn endpoint_with(s: &Setup, client_auth: ClientAuth, scope: &str) -> OAuthBearer {
    OAuthBearer::new(
        TokenSource::ClientCredentials {
            url: s.oidc.url(),
            client_id: "burrow".into(),
            client_auth,
            scope: scope.into(),
        },
        BTreeMap::from([("logicalCluster".to_string(), "lkc-42".to_string())]),
    )
}

fn config(oauth: OAuthBearer) -> ClientConfig {
    ClientConfig {
        sasl: Some(SaslConfig {
            mechanism: SaslMechanism::OAuthBearer,
            username: String::new(),
            password: String::new(),
            handshake: true,
            msk_iam: None,
            oauth: Some(oauth),
        }),
        dial_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(10),
        ..ClientConfig::default()
    }
}

async fn connect(s: &Setup, oauth: OAuthBearer) -> Result<KafkaClient, String> {
    KafkaClient::connect(&[s.front.addr()], config(oauth))
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_fetched_refreshed_and_sessions_renewed_before_expiry() {
    let Some(s) = setup("refresh", 4, "kafka-broker") else {
        return;
    };
    let oauth = endpoint(&s, SECRET, "kafka");
    let client = connect(&s, oauth.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}; front said {:?}", s.front.said()));
    client.create_topic("oauth-topic", 1, 1).await.unwrap();
    assert_eq!(s.oidc.issued(), 1, "{:?}", s.oidc.said());
    // The front ends the session when the token expires and closes the connection at the first
    // request after. The client opens a new connection with a new token before (the old token
    // is past 80 % of its life), so that request, after the expiry, succeeds at once.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let md = client
        .refresh_metadata()
        .await
        .unwrap_or_else(|e| panic!("{e}; the front said {:?}", s.front.said()));
    assert!(md.topics.contains_key("oauth-topic"));
    assert!(s.oidc.issued() >= 2, "{:?}", s.oidc.said());
    let said = s.front.said();
    assert!(
        said.iter().filter(|l| *l == "auth ok").count() >= 2,
        "{said:?}"
    );
    assert!(!said.iter().any(|l| l == "session expired"), "{said:?}");
    assert!(
        said.iter().all(|l| !l.starts_with("auth failed")),
        "{said:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_scope_audience_or_extension_are_refused_clearly() {
    let Some(s) = setup("refused", 60, "kafka-broker") else {
        return;
    };
    let err = connect(&s, endpoint(&s, "wrong-secret-0000", "kafka"))
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong client secret got a token"));
    assert!(err.contains("invalid_client"), "{err}");
    assert!(err.contains(&s.oidc.url()), "the endpoint is named: {err}");
    assert!(
        !err.contains("wrong-secret-0000"),
        "the secret is shown: {err}"
    );
    let err = connect(&s, endpoint(&s, SECRET, "admin"))
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong scope got a token"));
    assert!(err.contains("invalid_scope"), "{err}");
    let no_extension = OAuthBearer::new(
        TokenSource::ClientCredentials {
            url: s.oidc.url(),
            client_id: "burrow".into(),
            client_auth: ClientAuth::Secret(SECRET.into()),
            scope: "kafka".into(),
        },
        BTreeMap::new(),
    );
    let err = connect(&s, no_extension)
        .await
        .err()
        .unwrap_or_else(|| panic!("a token without the extension was let in"));
    assert!(
        err.contains("authentication failed") && err.contains("extension"),
        "{err}"
    );
    // A front that wants another audience.
    drop(s);
    let Some(s) = setup("audience", 60, "other-cluster") else {
        return;
    };
    let err = connect(&s, endpoint(&s, SECRET, "kafka"))
        .await
        .err()
        .unwrap_or_else(|| panic!("a token for another audience was let in"));
    assert!(err.to_lowercase().contains("audience"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_is_down_is_named_and_recovered_from() {
    let Some(mut s) = setup("down", 60, "kafka-broker") else {
        return;
    };
    s.oidc.stop();
    let oauth = endpoint(&s, SECRET, "kafka");
    let err = connect(&s, oauth.clone())
        .await
        .err()
        .unwrap_or_else(|| panic!("connected without a token endpoint"));
    assert!(err.contains(&s.oidc.url()), "{err}");
    s.oidc.start_again().unwrap();
    let client = connect(&s, oauth)
        .await
        .unwrap_or_else(|e| panic!("{e}; front said {:?}", s.front.said()));
    client.refresh_metadata().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_file_is_read_at_every_connection() {
    let Some(s) = setup("file", 60, "kafka-broker") else {
        return;
    };
    let token = endpoint(&s, SECRET, "kafka").token(0).await.unwrap();
    let file = s.dir.join("token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let from_file = OAuthBearer::new(
        TokenSource::File(file.clone()),
        BTreeMap::from([("logicalCluster".to_string(), "lkc-42".to_string())]),
    );
    let client = connect(&s, from_file.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}; front said {:?}", s.front.said()));
    client.refresh_metadata().await.unwrap();
    // A token the front cannot verify, written by whoever keeps the file: refused.
    std::fs::write(&file, "not-a-jwt").unwrap();
    let err = connect(&s, from_file)
        .await
        .err()
        .unwrap_or_else(|| panic!("a bad token from the file was let in"));
    assert!(err.contains("authentication failed"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_proves_itself_with_a_signed_assertion_instead_of_a_secret() {
    let Some(s) = setup("assertion", 60, "kafka-broker") else {
        return;
    };
    for (file, algorithm, kid) in [
        ("client-rsa.pem", "RS256", ""),
        ("client-rsa.pem", "PS256", "rsa-2026"),
        ("client-ec.pem", "ES256", "ec-1"),
    ] {
        let key = AssertionKey {
            file: s.oidc.client_file(file),
            algorithm: algorithm.into(),
            key_id: Some(kid.to_string()).filter(|k| !k.is_empty()),
            audience: None,
        };
        let oauth = endpoint_with(&s, ClientAuth::PrivateKeyJwt(key), "kafka");
        let client = connect(&s, oauth.clone())
            .await
            .unwrap_or_else(|e| panic!("{algorithm}: {e}; endpoint said {:?}", s.oidc.said()));
        client.refresh_metadata().await.unwrap();
        // Every token request makes a new assertion: the endpoint refuses a replayed one.
        oauth.forget().await;
        oauth
            .token(burrow_core::now_ms())
            .await
            .unwrap_or_else(|e| panic!("{algorithm}, again: {e}"));
        let accepted = format!("assertion ok {algorithm} kid={kid}");
        let said = s.oidc.said();
        assert_eq!(
            said.iter().filter(|l| **l == accepted).count(),
            2,
            "{said:?}"
        );
    }
    // A key the endpoint does not know: refused there, with the endpoint's reason.
    let stranger = AssertionKey {
        file: s.oidc.client_file("stranger.pem"),
        algorithm: "RS256".into(),
        key_id: None,
        audience: None,
    };
    let err = connect(
        &s,
        endpoint_with(&s, ClientAuth::PrivateKeyJwt(stranger), "kafka"),
    )
    .await
    .expect_err("a stranger's key was let in");
    assert!(
        err.contains("invalid_client") && err.contains(&s.oidc.url()),
        "{err}"
    );
    assert!(err.contains("Signature verification failed"), "{err}");
    assert!(!err.contains("PRIVATE KEY"), "{err}");
    // An assertion for another audience.
    let elsewhere = AssertionKey {
        file: s.oidc.client_file("client-ec.pem"),
        algorithm: "ES256".into(),
        key_id: None,
        audience: Some("https://other.example/token".into()),
    };
    let err = connect(
        &s,
        endpoint_with(&s, ClientAuth::PrivateKeyJwt(elsewhere), "kafka"),
    )
    .await
    .expect_err("an assertion for another audience was let in");
    assert!(err.to_lowercase().contains("audience"), "{err}");
    // An assertion made elsewhere, in a file.
    let file = ClientAuth::AssertionFile(s.oidc.client_file("client-assertion.jwt"));
    connect(&s, endpoint_with(&s, file, "kafka"))
        .await
        .unwrap_or_else(|e| panic!("{e}; endpoint said {:?}", s.oidc.said()));
}
