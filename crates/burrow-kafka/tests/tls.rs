//! TLS to a real broker (noida-db behind a rustls TLS front with a certificate from a test CA).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use burrow_kafka::{ClientConfig, KafkaClient, KafkaError, TlsProfile};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

/// A TLS front for a real broker: a rustls server on loopback that terminates TLS and forwards
/// the bytes to noida-db (TLS termination in front of a broker, as load balancers do). tansu 0.6's
/// own `tls://` listener never completes a handshake, so it cannot serve here.
struct TlsFront {
    addr: String,
    dir: std::path::PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes a CA, a server certificate for 127.0.0.1/localhost signed by it, and a second
/// unrelated CA; starts the TLS front before the broker.
async fn tls_front() -> Option<TlsFront> {
    let backend = match std::env::var("BURROW_TEST_NOIDA") {
        Ok(b) if !b.is_empty() => b,
        _ if std::env::var_os("CI").is_some() => panic!("BURROW_TEST_NOIDA is not set in CI"),
        _ => {
            eprintln!("skipping: BURROW_TEST_NOIDA not set");
            return None;
        }
    };
    let dir = std::env::temp_dir().join(format!("burrow-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "burrow test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let other_key = KeyPair::generate().unwrap();
    let mut other = CertificateParams::new(Vec::<String>::new()).unwrap();
    other.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let other = other.self_signed(&other_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("other-ca.pem"), other.pem()).unwrap();

    let server = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(server));
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
    Some(TlsFront { addr, dir, task })
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
    let ca = b.dir.join("ca.pem").to_string_lossy().into_owned();
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

    let other = b.dir.join("other-ca.pem").to_string_lossy().into_owned();
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
