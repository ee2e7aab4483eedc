//! HTTPS on a listener: `[httpserver.X] tls` with a certificate and key; clients that trust the
//! issuing CA get the API, plain HTTP on that port does not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use burrow_testkit::TestPki;
use common::{free_port, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_over_https() {
    let pki = TestPki::new("https", &["localhost"]);
    // No broker is needed for the API itself: the cluster is retried in the background.
    let dead = free_port();
    let config = format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
[tls.web]
certfile = "{cert}"
keyfile = "{key}"
[cluster.local]
class-name = "kafka"
servers = ["127.0.0.1:{dead}"]
[httpserver.default]
address = "127.0.0.1:@PORT@"
tls = "web"
"#,
        cert = pki.path("cert.pem").display(),
        key = pki.path("key.pem").display(),
    );
    let mut server = Server::start(pki.dir(), &config);
    let trusted = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca_pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = format!("https://localhost:{}/burrow/admin", server.port);
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        match trusted.get(&url).send().await {
            Ok(r) => {
                assert_eq!(r.status(), 200);
                break r.text().await.unwrap();
            }
            Err(e) => {
                assert!(Instant::now() < deadline, "{e}\n{}", server.log());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    assert_eq!(body, "GOOD");
    let v: serde_json::Value = trusted
        .get(format!("https://localhost:{}/v3/kafka", server.port))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["clusters"][0], "local");
    // A client that does not trust the CA is refused; plain HTTP gets no API answer.
    let untrusted = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let e = untrusted
        .get(&url)
        .send()
        .await
        .err()
        .map(|e| format!("{e:?}"));
    assert!(
        e.is_some_and(|e| e.contains("ertificate")),
        "refused for want of trust"
    );
    assert!(
        common::http(server.port, "GET", "/burrow/admin").is_none_or(|(s, _)| s != 200),
        "plain HTTP is not served on a TLS listener"
    );
    let status = server.terminate();
    assert!(status.success(), "{}", server.log());
}
