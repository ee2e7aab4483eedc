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
use burrow_testkit::TestPki;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An HTTPS server answering 200 to everything; returns its port and the PKI (`ca.pem` is its
/// issuer, `other-ca.pem` another CA).
async fn https_receiver() -> (u16, TestPki) {
    let pki = TestPki::new("notify-tls", &["localhost"]);
    let acceptor = tokio_rustls::TlsAcceptor::from(pki.server_config());
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
    (port, pki)
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
        timing: None,
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
    let (port, pki) = https_receiver().await;
    let n = notification();
    assert_eq!(n.result.status, Status::NotFound);
    notifier(port, Some(pki.path("ca.pem")), false)
        .notify(&n)
        .await
        .unwrap();
    notifier(port, None, true).notify(&n).await.unwrap();
    for ca in [None, Some(pki.path("other-ca.pem"))] {
        match notifier(port, ca.clone(), false).notify(&n).await {
            Err(NotifyError::Delivery(e)) => assert!(e.contains("certificate"), "{ca:?}: {e}"),
            other => panic!("{ca:?}: {other:?}"),
        }
    }
    // A file that holds no certificate is a config error naming the key.
    let empty = pki.path("empty.pem");
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
}
