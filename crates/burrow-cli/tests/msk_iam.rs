//! `serve` with Burrow 1.9.5's MSK IAM configuration (`[iam.X]` named by a client profile with
//! TLS) reaches a broker behind a SASL front that verifies every token with botocore, with the
//! credentials in the server's environment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use burrow_kafka::msk_iam::{CredentialSource, Credentials};
use burrow_testkit::{BrokerKind, OwnBroker, SaslFront, TestPki};
use common::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reads_a_cluster_through_msk_iam() {
    let port = burrow_testkit::free_port();
    let Some(broker) = OwnBroker::start(BrokerKind::TansuSrc, Some(port)) else {
        return;
    };
    let pki = TestPki::new("serve-msk-iam", &["localhost", "127.0.0.1"]);
    let Some(front) = SaslFront::start(
        port,
        &broker.addr(),
        "msk-iam",
        &["AKIDSERVE", "serve-secret"],
        Some((&pki.path("cert.pem"), &pki.path("key.pem"))),
    ) else {
        return;
    };
    let ca = pki.path("ca.pem").display().to_string();
    // A topic, written through the front with the same credentials.
    let client = burrow_kafka::KafkaClient::connect(
        &[front.addr()],
        burrow_kafka::ClientConfig {
            tls: Some(burrow_kafka::TlsProfile {
                cafile: ca.clone(),
                ..Default::default()
            }),
            sasl: Some(burrow_kafka::SaslConfig::msk_iam(burrow_kafka::MskIam {
                region: "us-east-1".into(),
                source: CredentialSource::Static(Credentials {
                    access_key_id: "AKIDSERVE".into(),
                    secret_access_key: "serve-secret".into(),
                    session_token: None,
                }),
            })),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    client.create_topic("iam-orders", 2, 1).await.unwrap();

    let config = format!(
        r#"
[tls.msk]
cafile = "{ca}"
[iam.eks]
region = "us-east-1"
[client-profile.msk]
tls = "msk"
iam = "eks"
[cluster.local]
class-name = "kafka"
servers = ["{front}"]
client-profile = "msk"
offset-refresh = 1
topic-refresh = 1
[httpserver.default]
address = "127.0.0.1:@PORT@"
"#,
        front = front.addr()
    );
    let dir = std::env::temp_dir().join(format!("burrow-serve-iam-{}", std::process::id()));
    let server = Server::start_with_env(
        &dir,
        &config,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDSERVE"),
            ("AWS_SECRET_ACCESS_KEY", "serve-secret"),
        ],
    );
    server.wait_for(
        "the topic through MSK IAM",
        "/v3/kafka/local/topic",
        |s, v| {
            s == 200
                && v["topics"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "iam-orders"))
        },
    );
    assert!(
        front.said().iter().all(|l| l == "auth ok"),
        "{:?}",
        front.said()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
