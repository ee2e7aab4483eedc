//! Authentication on a real listener (burrow-rs's `[httpserver.X] auth`): what each scope
//! protects, Burrow-shaped 401 and 403 answers, HTTP Basic against argon2 and bcrypt hashes,
//! bearer tokens, client certificates over TLS, admins alone changing state, credentials files
//! read again when they change, and refusals counted in `/metrics` and logged without the
//! credential.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use burrow_eval::{CachingEvaluator, EvaluatorConfig};
use burrow_http::{
    tls_acceptor_with_clients, Api, AuthMetrics, AuthScope, ListenerSection, MetricsExporter,
};
use burrow_storage::{Storage, StorageConfig};
use burrow_testkit::TestPki;

const TOKEN: &str = "s3cr3t-token-for-prometheus-0001";

fn argon2_hash(password: &str) -> String {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string()
}

struct Listener {
    addr: std::net::SocketAddr,
    registry: prometheus::Registry,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A listener of `section` (its files written to `dir`), TLS with client certificates when
/// `pki` is given.
async fn start(
    mut section: ListenerSection,
    dir: &std::path::Path,
    pki: Option<&TestPki>,
) -> Listener {
    std::fs::create_dir_all(dir).unwrap();
    if section.basic_auth_file.is_empty() {
        let users = dir.join("users");
        std::fs::write(
            &users,
            format!("# ops\nbob:{}\n", bcrypt::hash("builder", 4).unwrap()),
        )
        .unwrap();
        section.basic_auth_file = users.display().to_string();
    }
    if section.bearer_tokens_file.is_empty() {
        let tokens = dir.join("tokens");
        std::fs::write(&tokens, format!("# scraper\n{TOKEN}\n")).unwrap();
        section.bearer_tokens_file = tokens.display().to_string();
    }
    let tls = pki.map(|pki| {
        section.client_cafile = pki.path("ca.pem").display().to_string();
        tls_acceptor_with_clients(
            "tls.web",
            pki.path("cert.pem").to_str().unwrap(),
            pki.path("key.pem").to_str().unwrap(),
            Some((
                "httpserver.web.client-cafile",
                pki.path("ca.pem").to_str().unwrap(),
            )),
        )
        .unwrap()
    });
    let mut options = section.options("httpserver.web", tls).unwrap();
    let registry = prometheus::Registry::new();
    options.auth_metrics = Some(AuthMetrics::new(&registry).unwrap());
    options.name = "web".into();
    let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
    let evaluator =
        Arc::new(CachingEvaluator::new(storage.clone(), EvaluatorConfig::default()).unwrap());
    let exporter = Arc::new(MetricsExporter::new(
        storage.clone(),
        evaluator.clone(),
        registry.clone(),
    ));
    let api = Api::builder(storage, evaluator)
        .host("test")
        .metrics(exporter)
        .build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(burrow_http::serve(listener, api, options, async {
        let _ = stopped.await;
    }));
    Listener {
        addr,
        registry,
        _stop: stop,
    }
}

fn section(scope: AuthScope) -> ListenerSection {
    ListenerSection {
        address: "127.0.0.1:0".into(),
        auth: scope,
        basic_auth_users: BTreeMap::from([("alice".to_string(), argon2_hash("wonderland"))]),
        ..ListenerSection::default()
    }
}

/// One request over `stream`; the status, the headers (lowercase names) and the body.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
) -> (u16, BTreeMap<String, String>, String) {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        let body = r#"{"level":"debug"}"#;
        req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    } else {
        req.push_str("\r\n");
    }
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    (status, headers, body.to_string())
}

async fn plain(
    l: &Listener,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
) -> (u16, BTreeMap<String, String>, String) {
    exchange(
        TcpStream::connect(l.addr).await.unwrap(),
        method,
        path,
        headers,
    )
    .await
}

fn basic(user: &str, password: &str) -> (&'static str, String) {
    let e = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    ("Authorization", format!("Basic {e}"))
}

fn refusals(l: &Listener, reason: &str) -> u64 {
    l.registry
        .gather()
        .iter()
        .filter(|f| f.name() == "burrow_http_auth_failures_total")
        .flat_map(|f| f.get_metric())
        .filter(|m| {
            m.get_label()
                .iter()
                .any(|p| p.name() == "reason" && p.value() == reason)
        })
        .map(|m| m.get_counter().get_value() as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutating_scope_guards_delete_and_loglevel_only() {
    let dir = std::env::temp_dir().join(format!("burrow-auth-mut-{}", std::process::id()));
    let l = start(section(AuthScope::Mutating), &dir, None).await;
    // Reads are open, as in Burrow.
    assert_eq!(plain(&l, "GET", "/v3/kafka", &[]).await.0, 200);
    assert_eq!(plain(&l, "GET", "/v3/admin/loglevel", &[]).await.0, 200);
    // Changes need credentials: 401 in Burrow's error shape, with the challenge.
    let (code, headers, body) = plain(&l, "DELETE", "/v3/kafka/local/consumer/g", &[]).await;
    assert_eq!(code, 401);
    assert!(
        headers["www-authenticate"].starts_with("Basic realm=\"burrow\""),
        "{headers:?}"
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], true);
    assert_eq!(v["message"], "authentication required");
    assert_eq!(v["request"]["url"], "/v3/kafka/local/consumer/g");
    let (code, _, _) = plain(&l, "POST", "/v3/admin/loglevel", &[basic("alice", "nope")]).await;
    assert_eq!(code, 401);
    // argon2 (config) and bcrypt (file) users, and a bearer token from the file.
    assert_eq!(
        plain(
            &l,
            "POST",
            "/v3/admin/loglevel",
            &[basic("alice", "wonderland")]
        )
        .await
        .0,
        200
    );
    assert_eq!(
        plain(
            &l,
            "DELETE",
            "/v3/kafka/local/consumer/g",
            &[basic("bob", "builder")]
        )
        .await
        .0,
        200
    );
    let bearer = ("Authorization", format!("Bearer {TOKEN}"));
    assert_eq!(
        plain(&l, "DELETE", "/v3/kafka/local/consumer/g", &[bearer])
            .await
            .0,
        200
    );
    // Counted by reason.
    assert_eq!(refusals(&l, "missing"), 1);
    assert_eq!(refusals(&l, "bad_credentials"), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_scope_guards_everything_but_the_health_checks() {
    let dir = std::env::temp_dir().join(format!("burrow-auth-all-{}", std::process::id()));
    let mut s = section(AuthScope::All);
    s.dashboard = true;
    let l = start(s, &dir, None).await;
    for path in [
        "/v3/kafka",
        "/metrics",
        "/ui/",
        "/ui/api/overview",
        "/v3/config",
    ] {
        assert_eq!(plain(&l, "GET", path, &[]).await.0, 401, "{path}");
        assert_eq!(
            plain(&l, "GET", path, &[basic("bob", "builder")]).await.0,
            200,
            "{path}"
        );
    }
    assert_eq!(plain(&l, "GET", "/burrow/admin", &[]).await.0, 200);
    assert_ne!(plain(&l, "GET", "/burrow/admin/ready", &[]).await.0, 401);
    // A scheme the listener does not take, or a header that is not base64.
    let (code, _, _) = plain(
        &l,
        "GET",
        "/v3/kafka",
        &[("Authorization", "Digest x".into())],
    )
    .await;
    assert_eq!(code, 401);
    let (code, _, _) = plain(
        &l,
        "GET",
        "/v3/kafka",
        &[("Authorization", "Basic %%%".into())],
    )
    .await;
    assert_eq!(code, 401);
    assert_eq!(refusals(&l, "malformed"), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_let_listed_subjects_in() {
    let pki = TestPki::new("auth-mtls", &["127.0.0.1"]);
    let dir = pki.dir().join("listener");
    let mut s = section(AuthScope::All);
    s.client_subjects = vec!["CN=ops, O=burrow tests".into()];
    let l = start(s, &dir, Some(&pki)).await;
    let connect = |identity| {
        let config = pki.client_config(identity);
        let addr = l.addr;
        async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
            tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
        }
    };
    // A listed subject: in, without a password.
    let tls = connect(Some(pki.client_identity("ops", false)))
        .await
        .unwrap();
    assert_eq!(exchange(tls, "GET", "/v3/kafka", &[]).await.0, 200);
    // Another subject of the same CA: known but not let in, 403.
    let tls = connect(Some(pki.client_identity("intern", false)))
        .await
        .unwrap();
    let (code, _, body) = exchange(tls, "GET", "/v3/kafka", &[]).await;
    assert_eq!(code, 403);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["message"], "forbidden");
    // …unless it also brings a password.
    let tls = connect(Some(pki.client_identity("intern", false)))
        .await
        .unwrap();
    assert_eq!(
        exchange(tls, "GET", "/v3/kafka", &[basic("alice", "wonderland")])
            .await
            .0,
        200
    );
    // No certificate: Basic still works; nothing: 401.
    let tls = connect(None).await.unwrap();
    assert_eq!(exchange(tls, "GET", "/v3/kafka", &[]).await.0, 401);
    // A certificate of a CA the listener does not trust: the handshake fails.
    let refused = match connect(Some(pki.client_identity("ops", true))).await {
        Err(_) => true,
        Ok(tls) => exchange(tls, "GET", "/v3/kafka", &[]).await.0 == 0,
    };
    assert!(refused, "an untrusted client certificate was accepted");
    assert_eq!(refusals(&l, "forbidden_subject"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_alone_change_state_and_credentials_files_are_read_again() {
    const VIEWER: &str = "viewer-token-for-a-dashboard-0002";
    let dir = std::env::temp_dir().join(format!("burrow-auth-admins-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let users = dir.join("users");
    let tokens = dir.join("tokens");
    let bob = |password: &str| format!("bob:{}\n", bcrypt::hash(password, 4).unwrap());
    std::fs::write(&users, bob("builder")).unwrap();
    std::fs::write(&tokens, format!("prometheus {TOKEN}\nviewer {VIEWER}\n")).unwrap();
    let mut s = section(AuthScope::All);
    s.basic_auth_file = users.display().to_string();
    s.bearer_tokens_file = tokens.display().to_string();
    s.admins = vec!["user:alice".into(), "token:prometheus".into()];
    let l = start(s, &dir, None).await;
    let delete = "/v3/kafka/local/consumer/g";
    let bearer = |t: &str| ("Authorization", format!("Bearer {t}"));
    // Everyone let in reads; only admins change anything, the others get Burrow's 403.
    assert_eq!(
        plain(&l, "GET", "/v3/kafka", &[basic("bob", "builder")])
            .await
            .0,
        200
    );
    assert_eq!(
        plain(&l, "GET", "/v3/kafka", &[bearer(VIEWER)]).await.0,
        200
    );
    let (code, _, body) = plain(&l, "DELETE", delete, &[basic("bob", "builder")]).await;
    assert_eq!(code, 403);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["message"], "forbidden");
    assert_eq!(plain(&l, "DELETE", delete, &[bearer(VIEWER)]).await.0, 403);
    assert_eq!(
        plain(&l, "POST", "/v3/admin/loglevel", &[bearer(VIEWER)])
            .await
            .0,
        403
    );
    assert_eq!(
        plain(&l, "DELETE", delete, &[basic("alice", "wonderland")])
            .await
            .0,
        200
    );
    assert_eq!(plain(&l, "DELETE", delete, &[bearer(TOKEN)]).await.0, 200);
    assert_eq!(refusals(&l, "not_admin"), 3);

    // Rotated: bob's password changes, the prometheus token is revoked. The files are read
    // again within seconds, without a restart; what they no longer hold is refused at once,
    // though bob's old password was checked (and remembered) a moment ago.
    std::fs::write(&users, bob("rebuilt")).unwrap();
    std::fs::write(&tokens, format!("viewer {VIEWER}\n")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while plain(&l, "GET", "/v3/kafka", &[basic("bob", "rebuilt")])
        .await
        .0
        != 200
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the users file was not read again"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(
        plain(&l, "GET", "/v3/kafka", &[basic("bob", "builder")])
            .await
            .0,
        401
    );
    assert_eq!(plain(&l, "GET", "/v3/kafka", &[bearer(TOKEN)]).await.0, 401);
    assert_eq!(
        plain(&l, "GET", "/v3/kafka", &[bearer(VIEWER)]).await.0,
        200
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_settings_name_their_key() {
    let mut s = section(AuthScope::All);
    s.basic_auth_users = BTreeMap::new();
    let e = s.options("httpserver.web", None).err().unwrap();
    assert_eq!(e.key, "httpserver.web.auth");
    let mut s = section(AuthScope::All);
    s.basic_auth_file = "/nonexistent/users".into();
    let e = s.options("httpserver.web", None).err().unwrap();
    assert_eq!(e.key, "httpserver.web.basic-auth-file");
    let mut s = section(AuthScope::None);
    s.client_cafile = "/etc/ca.pem".into();
    let e = s.options("httpserver.web", None).err().unwrap();
    assert_eq!(e.key, "httpserver.web.client-cafile");
    // A line of a users file that is not user:hash is named by its line, never quoted.
    let dir = std::env::temp_dir().join(format!("burrow-auth-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("users"), "alice wonderland\n").unwrap();
    let mut s = section(AuthScope::All);
    s.basic_auth_file = dir.join("users").display().to_string();
    let e = s.options("httpserver.web", None).err().unwrap();
    assert!(e.message.contains(":1: not a user:hash line"), "{e}");
    assert!(!e.to_string().contains("wonderland"), "{e}");
    // Nor a tokens line of three fields.
    std::fs::write(dir.join("tokens"), "a b 0123456789abcdef-secret\n").unwrap();
    let mut s = section(AuthScope::All);
    s.bearer_tokens_file = dir.join("tokens").display().to_string();
    let e = s.options("httpserver.web", None).err().unwrap();
    assert_eq!(e.key, "httpserver.web.bearer-tokens-file");
    assert!(
        e.message.contains(":1: not a TOKEN or NAME TOKEN line"),
        "{e}"
    );
    assert!(!e.to_string().contains("secret"), "{e}");
    // An admin nobody can be.
    let mut s = section(AuthScope::All);
    s.admins = vec!["user:mallory".into()];
    let e = s.options("httpserver.web", None).err().unwrap();
    assert_eq!(e.key, "httpserver.web.admins");
    let _ = std::fs::remove_dir_all(&dir);
}
