//! TLS to a real broker (noida-db behind a rustls TLS front with a certificate from a test CA).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use burrow_kafka::{ClientConfig, KafkaClient, KafkaError, TlsProfile};
use burrow_testkit::TestPki;

/// A TLS front for a real broker: a rustls server on loopback that terminates TLS and forwards
/// the bytes to noida-db (TLS termination in front of a broker, as load balancers do). tansu 0.6's
/// own `tls://` listener never completes a handshake, so it cannot serve here.
struct TlsFront {
    addr: String,
    pki: TestPki,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Writes a CA, a server certificate for 127.0.0.1/localhost signed by it, and a second
/// unrelated CA; starts the TLS front before the broker.
async fn tls_front() -> Option<TlsFront> {
    let backend = burrow_testkit::service("BURROW_TEST_NOIDA")?;
    let pki = TestPki::new("kafka-tls", &["localhost", "127.0.0.1"]);
    let acceptor = tokio_rustls::TlsAcceptor::from(pki.server_config());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, backend) = (acceptor.clone(), backend.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut up) = tokio::net::TcpStream::connect(&backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
            });
        }
    });
    Some(TlsFront { addr, pki, task })
}

fn config(tls: TlsProfile) -> ClientConfig {
    ClientConfig {
        tls: Some(tls),
        dial_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_ca_file_noverify_and_a_wrong_ca() {
    let Some(b) = tls_front().await else { return };
    // Connecting = TLS handshake, ApiVersions and Metadata, all through TLS to the broker.
    let ca = b.pki.path("ca.pem").to_string_lossy().into_owned();
    let c = KafkaClient::connect(
        std::slice::from_ref(&b.addr),
        config(TlsProfile {
            cafile: ca,
            ..TlsProfile::default()
        }),
    )
    .await
    .unwrap();
    assert!(!c.metadata().brokers.is_empty());

    let c = KafkaClient::connect(
        std::slice::from_ref(&b.addr),
        config(TlsProfile {
            noverify: true,
            ..TlsProfile::default()
        }),
    )
    .await
    .unwrap();
    assert!(!c.metadata().brokers.is_empty());

    let other = b.pki.path("other-ca.pem").to_string_lossy().into_owned();
    let err = KafkaClient::connect(
        std::slice::from_ref(&b.addr),
        config(TlsProfile {
            cafile: other,
            ..TlsProfile::default()
        }),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("TLS"), "{err}");
}

#[test]
fn a_missing_ca_file_is_a_config_error_naming_the_key() {
    let Err(err) = burrow_kafka::tls::connector(
        "prod",
        &TlsProfile {
            cafile: "/nonexistent/ca.pem".into(),
            ..TlsProfile::default()
        },
    ) else {
        panic!("a missing CA file must fail")
    };
    assert!(
        matches!(err, KafkaError::Config { ref key, .. } if key == "tls.prod.cafile"),
        "{err}"
    );
}
