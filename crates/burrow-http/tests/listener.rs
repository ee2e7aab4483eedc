//! The listener over a real socket: the timeout bounds a request's body, refused requests
//! answer in Burrow's JSON where a route matched, and connections beyond the maximum are
//! refused at once instead of queued.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use burrow_eval::{CachingEvaluator, EvaluatorConfig};
use burrow_http::{Api, ServeOptions};
use burrow_storage::{Storage, StorageConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn start(timeout: Duration) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    start_with(timeout, 0).await
}

async fn start_with(
    timeout: Duration,
    max_connections: usize,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
    let evaluator =
        Arc::new(CachingEvaluator::new(storage.clone(), EvaluatorConfig::default()).unwrap());
    let api = Api::builder(storage, evaluator).host("test").build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = ServeOptions {
        tls: None,
        timeout,
        max_connections,
        ..ServeOptions::default()
    };
    tokio::spawn(burrow_http::serve(listener, api, options, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Sends `head` (and `body`), returns the whole answer once the server closes the connection.
async fn exchange(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("the server answers and closes")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_body_that_never_arrives_is_answered_within_the_timeout() {
    let (addr, _stop) = start(Duration::from_secs(1)).await;
    let started = Instant::now();
    let head = "POST /v3/admin/loglevel HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
    let answer = exchange(addr, head, b"{\"level\":").await;
    let took = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error\":true"), "{answer}");
    assert!(
        answer.contains("request body not received within 1s"),
        "{answer}"
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

#[tokio::test]
async fn an_oversize_body_is_refused_in_burrows_shape_where_a_route_matched() {
    let (addr, _stop) = start(Duration::from_secs(5)).await;
    let body = vec![b'x'; 70 * 1024];
    let head = |path: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
    };
    let answer = exchange(addr, &head("/v3/admin/loglevel"), &body).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"error\":true"), "{answer}");
    assert!(
        answer.contains("\"request\":{\"url\":\"/v3/admin/loglevel\",\"host\":\"test\"}"),
        "{answer}"
    );
    // No route: Go's plain-text error.
    let answer = exchange(addr, &head("/nowhere"), &body).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("request body larger than 65536 bytes"),
        "{answer}"
    );
    assert!(!answer.contains("\"error\""), "{answer}");
}

#[tokio::test]
async fn connections_beyond_the_maximum_are_refused_not_queued() {
    let (addr, _stop) = start_with(Duration::from_secs(30), 2).await;
    // Two idle clients hold every slot (each would be allowed the whole timeout).
    let idle = [
        TcpStream::connect(addr).await.unwrap(),
        TcpStream::connect(addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let head = "GET /burrow/admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let started = Instant::now();
    let answer = exchange(addr, head, b"").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.ends_with("too many connections\n"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // A slot freed is a slot served.
    drop(idle);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answer = exchange(addr, head, b"").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("GOOD"), "{answer}");
}
