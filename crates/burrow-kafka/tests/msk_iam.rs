//! The MSK IAM token against botocore's own SigV4 signer (PyPI `botocore`, installed by
//! `scripts/test-services.sh`), on fixed inputs: the presigned URL burrow-kafka computes is the
//! one botocore computes, with and without a session token, across regions and dates; and the
//! token is that URL with `User-Agent`, base64url without padding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use burrow_kafka::msk_iam::{self, Credentials};

fn botocore(region: &str, creds: &Credentials, now: i64) -> Option<String> {
    let python = burrow_testkit::service("BURROW_TEST_PYTHON")?;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/botocore_presign.py"
    );
    let out = std::process::Command::new(python)
        .args([
            script,
            region,
            &creds.access_key_id,
            &creds.secret_access_key,
            creds.session_token.as_deref().unwrap_or("-"),
            &now.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap().trim().to_string())
}

/// A URL's query parameters, sorted.
fn params(url: &str) -> Vec<String> {
    let mut p: Vec<String> = url
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .map(str::to_string)
        .collect();
    p.sort();
    p
}

#[test]
fn presigned_urls_are_botocores() {
    let cases = [
        (
            "us-east-1",
            Credentials {
                access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
                session_token: None,
            },
            1_700_000_000,
        ),
        (
            "eu-west-3",
            Credentials {
                access_key_id: "ASIAEXAMPLE123".into(),
                secret_access_key: "s3cr3t+/=key".into(),
                session_token: Some("IQoJb3JpZ2luX2VjE+/=token//with~chars".into()),
            },
            951_782_399,
        ),
        (
            "ap-southeast-2",
            Credentials {
                access_key_id: "AKIDZ".into(),
                secret_access_key: "z".into(),
                session_token: Some("short".into()),
            },
            4_102_444_800,
        ),
    ];
    for (region, creds, now) in cases {
        let Some(theirs) = botocore(region, &creds, now) else {
            return;
        };
        // The same parameters and signature; botocore appends X-Amz-Security-Token after the
        // others, Go's signer (and this one) sort them as the canonical form does.
        let ours = msk_iam::presigned_url(region, &creds, now);
        assert_eq!(
            params(&ours),
            params(&theirs),
            "{region} {now}\nours:   {ours}\ntheirs: {theirs}"
        );
        assert_eq!(
            ours.split_once('?').unwrap().0,
            theirs.split_once('?').unwrap().0
        );
    }
}

#[test]
fn the_token_is_the_url_with_its_user_agent_in_base64url() {
    let creds = Credentials {
        access_key_id: "AKID".into(),
        secret_access_key: "SECRET".into(),
        session_token: Some("TOKEN".into()),
    };
    let (token, expires_ms) = msk_iam::auth_token("us-west-2", &creds, 1_700_000_000);
    assert_eq!(expires_ms, (1_700_000_000 + 900) * 1000);
    let url = String::from_utf8(URL_SAFE_NO_PAD.decode(&token).unwrap()).unwrap();
    assert!(url.starts_with("https://kafka.us-west-2.amazonaws.com/?Action=kafka-cluster%3AConnect&User-Agent=burrow-rs%2F"), "{url}");
    // Keys sorted as Go's url.Values.Encode sorts them.
    let keys: Vec<&str> = url
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .map(|p| p.split('=').next().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(keys.contains(&"X-Amz-Security-Token") && keys.contains(&"X-Amz-Signature"));
    assert_eq!(
        msk_iam::oauthbearer_message("T"),
        b"n,,\x01auth=Bearer T\x01\x01".to_vec()
    );
}

/// A tansu broker of the test's own, advertising the port of a SASL front (TLS, MSK IAM
/// verified with botocore) so that every connection goes through the front.
struct Behind {
    front: burrow_testkit::SaslFront,
    _broker: burrow_testkit::OwnBroker,
    pki: burrow_testkit::TestPki,
}

fn behind_a_front(secret: &str) -> Option<Behind> {
    let port = burrow_testkit::free_port();
    let broker =
        burrow_testkit::OwnBroker::start(burrow_testkit::BrokerKind::TansuSrc, Some(port))?;
    let pki = burrow_testkit::TestPki::new("msk-iam", &["localhost", "127.0.0.1"]);
    let front = burrow_testkit::SaslFront::start(
        port,
        &broker.addr(),
        "msk-iam",
        &["AKIDFRONT", secret],
        Some((&pki.path("cert.pem"), &pki.path("key.pem"))),
    )?;
    Some(Behind {
        front,
        _broker: broker,
        pki,
    })
}

fn iam_config(b: &Behind, secret: &str, token: Option<&str>) -> burrow_kafka::ClientConfig {
    use burrow_kafka::msk_iam::CredentialSource;
    burrow_kafka::ClientConfig {
        tls: Some(burrow_kafka::TlsProfile {
            cafile: b.pki.path("ca.pem").to_string_lossy().into_owned(),
            ..Default::default()
        }),
        sasl: Some(burrow_kafka::SaslConfig::msk_iam(burrow_kafka::MskIam {
            region: "us-east-1".into(),
            source: CredentialSource::Static(Credentials {
                access_key_id: "AKIDFRONT".into(),
                secret_access_key: secret.into(),
                session_token: token.map(str::to_string),
            }),
        })),
        dial_timeout: std::time::Duration::from_secs(5),
        read_timeout: std::time::Duration::from_secs(10),
        ..burrow_kafka::ClientConfig::default()
    }
}

/// The handshake against a front that verifies the token with botocore: accepted with the
/// right secret (and a session token), and every request after it goes through; refused with
/// a clear error for a wrong secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_is_verified_by_an_independent_signer() {
    let Some(b) = behind_a_front("front-secret") else {
        return;
    };
    let client = burrow_kafka::KafkaClient::connect(
        &[b.front.addr()],
        iam_config(&b, "front-secret", Some("session+token/=")),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}; front said {:?}", b.front.said()));
    client.create_topic("iam-topic", 1, 1).await.unwrap();
    let md = client.refresh_metadata().await.unwrap();
    assert!(md.topics.contains_key("iam-topic"));
    assert!(
        b.front.said().iter().all(|l| l == "auth ok"),
        "{:?}",
        b.front.said()
    );

    let err = burrow_kafka::KafkaClient::connect(&[b.front.addr()], iam_config(&b, "wrong", None))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("OAUTHBEARER") && err.contains("authentication failed"),
        "{err}"
    );
    // The front's lines arrive on their own thread.
    let refused = || {
        b.front
            .said()
            .iter()
            .any(|l| l.contains("signature does not verify"))
    };
    for _ in 0..50 {
        if refused() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(40));
    }
    assert!(refused(), "{:?}", b.front.said());
}
