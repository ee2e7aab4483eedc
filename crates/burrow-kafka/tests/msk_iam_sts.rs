//! MSK IAM credentials through STS, against a local STS (`fixtures/fake_sts.py`, which checks
//! the AssumeRole signature with botocore) and the SASL front that verifies the final token
//! with botocore: web identity (EKS IRSA) from the environment, and a `role-arn` assumed with
//! those credentials. One test in its own binary: it sets the process environment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use burrow_kafka::msk_iam::CredentialSource;
use burrow_kafka::{ClientConfig, KafkaClient, MskIam, SaslConfig, TlsProfile};
use burrow_testkit::{BrokerKind, OwnBroker, SaslFront, TestPki};

const ROLE: &str = "arn:aws:iam::123456789012:role/burrow-irsa";

struct FakeSts {
    child: Child,
    port: u16,
    said: Arc<Mutex<Vec<String>>>,
}

impl Drop for FakeSts {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fake_sts(python: &str) -> FakeSts {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fake_sts.py");
    let mut child = Command::new(python)
        .args([
            script,
            ROLE,
            "web-id-token",
            "ASIAWEB",
            "web-secret",
            "web-token",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let port = first.strip_prefix("listening ").unwrap().parse().unwrap();
    let said = Arc::new(Mutex::new(Vec::new()));
    let sink = said.clone();
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(l);
        }
    });
    FakeSts { child, port, said }
}

fn config(pki: &TestPki, source: CredentialSource) -> ClientConfig {
    ClientConfig {
        tls: Some(TlsProfile {
            cafile: pki.path("ca.pem").to_string_lossy().into_owned(),
            ..Default::default()
        }),
        sasl: Some(SaslConfig::msk_iam(MskIam {
            region: "eu-central-1".into(),
            source,
        })),
        dial_timeout: std::time::Duration::from_secs(5),
        read_timeout: std::time::Duration::from_secs(10),
        ..ClientConfig::default()
    }
}

#[test]
fn web_identity_and_an_assumed_role_reach_the_cluster() {
    let Some(python) = burrow_testkit::service("BURROW_TEST_PYTHON") else {
        return;
    };
    let sts = fake_sts(&python);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "web-id-token\n").unwrap();
    // Before any thread of this process reads the environment.
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ] {
        std::env::remove_var(var);
    }
    std::env::set_var("HOME", dir.path());
    std::env::set_var(
        "AWS_ENDPOINT_URL_STS",
        format!("http://127.0.0.1:{}", sts.port),
    );
    std::env::set_var("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file);
    std::env::set_var("AWS_ROLE_ARN", ROLE);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pki = TestPki::new("msk-iam-sts", &["localhost", "127.0.0.1"]);
    for (source, key, secret, expect) in [
        (
            CredentialSource::Default,
            "ASIAWEB",
            "web-secret",
            "web identity ok burrow-session",
        ),
        (
            CredentialSource::AssumeRole("arn:aws:iam::123456789012:role/assumed".into()),
            "ASIAROLE",
            "role-secret",
            "assume role ok arn:aws:iam::123456789012:role/assumed burrow-session",
        ),
    ] {
        let port = burrow_testkit::free_port();
        let Some(broker) = OwnBroker::start(BrokerKind::TansuSrc, Some(port)) else {
            return;
        };
        let front = SaslFront::start(
            port,
            &broker.addr(),
            "msk-iam",
            &[key, secret],
            Some((&pki.path("cert.pem"), &pki.path("key.pem"))),
        )
        .unwrap();
        runtime.block_on(async {
            let c = KafkaClient::connect(&[front.addr()], config(&pki, source.clone()))
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "{e}; front {:?}, sts {:?}",
                        front.said(),
                        sts.said.lock().unwrap()
                    )
                });
            assert!(!c.metadata().brokers.is_empty());
        });
        assert!(
            front.said().iter().all(|l| l == "auth ok"),
            "{:?}",
            front.said()
        );
        assert!(
            sts.said.lock().unwrap().iter().any(|l| l == expect),
            "{:?}",
            sts.said.lock().unwrap()
        );
    }
}
