//! `serve` with `[httpserver.X] auth` from `burrow.toml`: DELETE and the log level need
//! credentials (and to be among `admins`), reads stay open, refusals are logged and counted, and no password, token or
//! hash shows in the log, `/v3/config` or `/metrics`. A password written in the clear instead
//! of its hash is a start error naming the key, without the password.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use common::Server;

const PASSWORD: &str = "correct-horse-battery";
const WRONG: &str = "tr0ub4dor-and-3";
const TOKEN: &str = "prometheus-scrape-token-0123456789";

/// Status and body of one request with an optional `Authorization` header.
fn request(port: u16, method: &str, path: &str, authorization: Option<&str>) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    let body = if method == "POST" {
        r#"{"level":"info"}"#
    } else {
        ""
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let code = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (code, body)
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[test]
fn mutating_routes_need_credentials_and_secrets_never_show() {
    let dir = std::env::temp_dir().join(format!("burrow-cli-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    std::fs::write(dir.join("tokens"), format!("prometheus {TOKEN}\n")).unwrap();
    let config = format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
[cluster.local]
class-name = "kafka"
servers = ["127.0.0.1:1"]
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["127.0.0.1:1"]
[httpserver.default]
address = "127.0.0.1:@PORT@"
auth = "mutating"
bearer-tokens-file = "@DIR@/tokens"
admins = ["user:ops", "token:prometheus"]
[httpserver.default.basic-auth-users]
ops = "{hash}"
viewer = "{hash}"
"#
    );
    let server = Server::start(&dir, &config);
    let deadline = Instant::now() + Duration::from_secs(30);
    while request(server.port, "GET", "/burrow/admin", None).0 != 200 {
        assert!(Instant::now() < deadline, "{}", server.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let path = "/v3/kafka/local/consumer/someone";
    assert_eq!(request(server.port, "GET", "/v3/kafka", None).0, 200);
    let (code, body) = request(server.port, "DELETE", path, None);
    assert_eq!(code, 401, "{body}");
    assert!(
        body.contains(r#""message":"authentication required""#),
        "{body}"
    );
    assert_eq!(
        request(server.port, "DELETE", path, Some(&basic("ops", WRONG))).0,
        401
    );
    assert_eq!(
        request(
            server.port,
            "POST",
            "/v3/admin/loglevel",
            Some(&basic("ops", WRONG))
        )
        .0,
        401
    );
    // Let in but not an admin: 403.
    let (code, body) = request(
        server.port,
        "DELETE",
        path,
        Some(&basic("viewer", PASSWORD)),
    );
    assert_eq!(code, 403, "{body}");
    assert!(body.contains(r#""message":"forbidden""#), "{body}");
    assert_eq!(
        request(server.port, "DELETE", path, Some(&basic("ops", PASSWORD))).0,
        200
    );
    assert_eq!(
        request(
            server.port,
            "POST",
            "/v3/admin/loglevel",
            Some(&format!("Bearer {TOKEN}"))
        )
        .0,
        200
    );
    let (_, metrics) = request(server.port, "GET", "/metrics", None);
    assert!(
        metrics.contains(
            r#"burrow_http_auth_failures_total{listener="default",reason="bad_credentials"} 2"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"burrow_http_auth_failures_total{listener="default",reason="not_admin"} 1"#
        ),
        "{metrics}"
    );
    let (_, config) = request(server.port, "GET", "/v3/config", None);
    // The log is written by a background writer.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.log().contains("bearer token prometheus") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = server.log();
    assert!(log.contains("request refused"), "{log}");
    assert!(
        log.contains("user=ops") || log.contains("user=\"ops\""),
        "the refused user is named: {log}"
    );
    // Changes let in are audited with who made them.
    assert!(
        log.lines().any(|l| l.contains("request authorized")
            && l.contains("user ops")
            && l.contains("DELETE")),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("request authorized") && l.contains("bearer token prometheus")),
        "{log}"
    );
    for (what, text) in [
        ("log", &log),
        ("/metrics", &metrics),
        ("/v3/config", &config),
    ] {
        for secret in [PASSWORD, WRONG, TOKEN, hash.as_str()] {
            assert!(!text.contains(secret), "{what} shows a secret");
        }
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_password_in_the_clear_is_refused_without_repeating_it() {
    let dir = std::env::temp_dir().join(format!("burrow-cli-auth-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("burrow.toml"),
        format!(
            "[httpserver.default]\naddress = \"127.0.0.1:0\"\nauth = \"all\"\n[httpserver.default.basic-auth-users]\nops = \"{PASSWORD}\"\n"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_burrow-cli"))
        .args(["serve", "--check-config", "--config"])
        .arg(dir.join("burrow.toml"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("httpserver.default.basic-auth-users.ops"),
        "{text}"
    );
    assert!(!text.contains(PASSWORD), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
