//! The http notifier over HTTPS: trusted through `extra-ca`, refused without it or with the
//! wrong CA, accepted with `noverify`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use burrow_core::{ConsumerGroupStatus, Status};
use burrow_notify::{
    HttpNotifier, HttpSettings, Notification, NotificationKind, Notifier, NotifyError, Templates,
};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An HTTPS server answering 200 to everything; returns its port and a dir with `ca.pem` (its
/// issuer) and `other-ca.pem`.
async fn https_receiver() -> (u16, PathBuf) {
    let dir = std::env::temp_dir().join(format!("burrow-notify-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "burrow notify test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let other_key = KeyPair::generate().unwrap();
    let mut other = CertificateParams::new(Vec::<String>::new()).unwrap();
    other.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let other = other.self_signed(&other_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("other-ca.pem"), other.pem()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
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
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0; 65536];
                let _ = tls.read(&mut buf).await;
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, dir)
}

fn notifier(port: u16, extra_ca: Option<PathBuf>, noverify: bool) -> HttpNotifier {
    let t = Templates::from_sources(("open".into(), "{}".into()), None, &BTreeMap::new())
        .unwrap()
        .with_urls(
            "notifier.t",
            &format!("https://localhost:{port}/{{{{ Group }}}}"),
            None,
            &BTreeMap::new(),
        )
        .unwrap();
    HttpNotifier::new(
        "notifier.t",
        t,
        HttpSettings {
            extra_ca,
            noverify,
            ..HttpSettings::default()
        },
    )
    .unwrap()
}

fn notification() -> Notification {
    Notification {
        kind: NotificationKind::Open,
        cluster: "c".into(),
        group: "g".into(),
        id: "id".into(),
        start_ms: 1,
        extras: Arc::new(BTreeMap::new()),
        result: Arc::new(ConsumerGroupStatus::not_found("c", "g")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_ca_noverify_and_wrong_ca() {
    let (port, dir) = https_receiver().await;
    let n = notification();
    assert_eq!(n.result.status, Status::NotFound);
    notifier(port, Some(dir.join("ca.pem")), false)
        .notify(&n)
        .await
        .unwrap();
    notifier(port, None, true).notify(&n).await.unwrap();
    for ca in [None, Some(dir.join("other-ca.pem"))] {
        match notifier(port, ca.clone(), false).notify(&n).await {
            Err(NotifyError::Delivery(e)) => assert!(e.contains("certificate"), "{ca:?}: {e}"),
            other => panic!("{ca:?}: {other:?}"),
        }
    }
    // A file that holds no certificate is a config error naming the key.
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let t = Templates::from_sources(("open".into(), "{}".into()), None, &BTreeMap::new()).unwrap();
    let e = HttpNotifier::new(
        "notifier.t",
        t,
        HttpSettings {
            extra_ca: Some(empty),
            ..HttpSettings::default()
        },
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.starts_with("notifier.t.extra-ca"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
