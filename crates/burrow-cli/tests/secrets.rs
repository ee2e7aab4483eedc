//! Secrets never leave: `serve` configured with a secret in every place one can be (a SASL
//! password, AWS keys in the environment for MSK IAM, notifier passwords and `extras` keys,
//! HTTP Basic hashes and bearer tokens) runs at every log level against brokers and notifier
//! receivers that fail (so every error path logs), and none of the secrets appears in its log,
//! any `/v3/config` route, the cluster and consumer module routes, `/metrics`, the dashboard's
//! data, the state file or the output of `--check-config`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Server;

const SASL_PASSWORD: &str = "SASL-PASSWORD-9f8e7d6c";
const AWS_SECRET: &str = "AWS-SECRET-KEY-0a1b2c3d4e5f";
const AWS_SESSION: &str = "AWS-SESSION-TOKEN-6a7b8c9d";
const HTTP_NOTIFIER_PASSWORD: &str = "HTTP-NOTIFIER-PASSWORD-1a2b";
const SMTP_PASSWORD: &str = "SMTP-PASSWORD-5e6f7a8b";
const EXTRA_API_KEY: &str = "EXTRA-API-KEY-3c4d5e6f";
const EXTRA_TOKEN: &str = "EXTRA-TOKEN-7081a2b3";
const BASIC_PASSWORD: &str = "BASIC-PASSWORD-c4d5e6f7";
const BEARER_TOKEN: &str = "BEARER-TOKEN-0123456789abcdef";
const OIDC_CLIENT_SECRET: &str = "OIDC-CLIENT-SECRET-5a6b7c8d";

fn get(port: u16, path: &str) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn config(dir: &std::path::Path, level: &str, basic_hash: &str) -> String {
    let open = dir.join("open.tmpl");
    std::fs::write(
        &open,
        r#"{"group": "{{.Group}}", "status": "{{.Result.Status}}", "app": "{{index .Extras "app"}}"}"#,
    )
    .unwrap();
    std::fs::write(dir.join("tokens"), format!("{BEARER_TOKEN}\n")).unwrap();
    format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
state-file = "@DIR@/state.json"
state-interval = 1
[logging]
level = "{level}"
[sasl.scram]
username = "scan-user"
password = "{SASL_PASSWORD}"
mechanism = "SCRAM-SHA-256"
[sasl.oidc]
mechanism = "OAUTHBEARER"
token-endpoint-url = "http://127.0.0.1:1/token"
client-id = "burrow"
client-secret = "{OIDC_CLIENT_SECRET}"
scope = "kafka"
[sasl.oidc.extensions]
logicalCluster = "lkc-1"
[client-profile.oidc]
sasl = "oidc"
[cluster.idp]
class-name = "kafka"
servers = ["127.0.0.1:3"]
client-profile = "oidc"
[client-profile.scram]
client-id = "secret-scan"
sasl = "scram"
[tls.aws]
[iam.aws]
region = "us-east-1"
[client-profile.aws]
tls = "aws"
iam = "aws"
[cluster.local]
class-name = "kafka"
servers = ["127.0.0.1:1"]
client-profile = "scram"
offset-refresh = 1
[cluster.msk]
class-name = "kafka"
servers = ["127.0.0.1:2"]
client-profile = "aws"
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["127.0.0.1:1"]
client-profile = "scram"
[consumer.msk]
class-name = "kafka_admin"
cluster = "msk"
servers = ["127.0.0.1:2"]
client-profile = "aws"
[httpserver.default]
address = "127.0.0.1:@PORT@"
auth = "mutating"
bearer-tokens-file = "{tokens}"
[httpserver.default.basic-auth-users]
ops = "{basic_hash}"
[notifier.web]
class-name = "http"
interval = 1
threshold = 1
url-open = "http://127.0.0.1:1/alerts"
template-open = "{open}"
username = "notify-user"
password = "{HTTP_NOTIFIER_PASSWORD}"
[notifier.web.extras]
app = "burrow"
api_key = "{EXTRA_API_KEY}"
auth_token = "{EXTRA_TOKEN}"
[notifier.mail]
class-name = "email"
interval = 1
threshold = 1
server = "127.0.0.1"
port = 1
auth-type = "plain"
username = "mailer"
password = "{SMTP_PASSWORD}"
from = "burrow@example.com"
to = "ops@example.com"
template-open = "{open}"
"#,
        tokens = dir.join("tokens").display(),
        open = open.display(),
    )
}

fn secrets(basic_hash: &str) -> Vec<String> {
    [
        SASL_PASSWORD,
        AWS_SECRET,
        AWS_SESSION,
        HTTP_NOTIFIER_PASSWORD,
        SMTP_PASSWORD,
        EXTRA_API_KEY,
        EXTRA_TOKEN,
        BASIC_PASSWORD,
        BEARER_TOKEN,
        OIDC_CLIENT_SECRET,
        basic_hash,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(!text.contains(s.as_str()), "{what} shows the secret {s:?}");
    }
}

#[test]
fn no_secret_shows_anywhere_at_any_log_level() {
    let basic_hash = bcrypt::hash(BASIC_PASSWORD, 4).unwrap();
    let secrets = secrets(&basic_hash);
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDSECRETSCAN"),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        ("AWS_SESSION_TOKEN", AWS_SESSION),
    ];
    for level in ["debug", "info", "warn", "error"] {
        let dir =
            std::env::temp_dir().join(format!("burrow-secret-scan-{level}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = config(&dir, level, &basic_hash);
        let server = Server::start_with_env(&dir, &config, &env);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !get(server.port, "/burrow/admin").contains("GOOD") {
            assert!(
                Instant::now() < deadline,
                "{level}: never up\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // A tokens file changed into one that does not parse, the token on the bad line: the
        // error names the line, never the token.
        std::fs::write(
            dir.join("tokens"),
            format!("scraper extra {BEARER_TOKEN}\n"),
        )
        .unwrap();
        // Failed logins of every kind, with the secrets as wrong guesses too.
        for auth in [
            format!("Bearer {BEARER_TOKEN}x"),
            format!(
                "Basic {}",
                base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    format!("ops:{BASIC_PASSWORD}x")
                )
            ),
        ] {
            let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            write!(
                s,
                "DELETE /v3/kafka/local/consumer/g HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {auth}\r\n\r\n"
            )
            .unwrap();
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            assert!(out.starts_with("HTTP/1.1 401"), "{out}");
            assert_clean(&format!("{level}: a 401"), &out, &secrets);
        }
        // Let the modules fail to connect a few times, the state file be written, and the
        // tokens file be read again (it is looked at every 5 s).
        std::thread::sleep(Duration::from_secs(3));
        let deadline = Instant::now() + Duration::from_secs(15);
        while !server.log().contains("cannot be used") {
            assert!(
                Instant::now() < deadline,
                "{level}: the bad tokens file was not said\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let mut pages = Vec::new();
        for path in [
            "/v3/config",
            "/v3/config/storage",
            "/v3/config/evaluator",
            "/v3/config/cluster",
            "/v3/config/consumer",
            "/v3/config/notifier",
            "/v3/config/storage/default",
            "/v3/config/evaluator/default",
            "/v3/config/cluster/local",
            "/v3/config/cluster/msk",
            "/v3/config/cluster/idp",
            "/v3/config/consumer/local",
            "/v3/config/consumer/msk",
            "/v3/config/notifier/web",
            "/v3/config/notifier/mail",
            "/v3/kafka",
            "/v3/kafka/local",
            "/v3/kafka/msk",
            "/v3/admin/loglevel",
            "/metrics",
            "/ui/api/overview",
        ] {
            let body = get(server.port, path);
            assert!(body.starts_with("HTTP/1.1 200"), "{level} {path}: {body}");
            pages.push((path, body));
        }
        // The routes do show the modules (the scan reads something).
        let notifier = &pages
            .iter()
            .find(|(p, _)| *p == "/v3/config/notifier/web")
            .unwrap()
            .1;
        assert!(
            notifier.contains("REDACTED") && notifier.contains("\"app\":\"burrow\""),
            "{notifier}"
        );
        drop(server);
        let log = std::fs::read_to_string(dir.join("serve.log")).unwrap();
        // Down to info there is always something (the start lines) to scan.
        if level == "debug" || level == "info" {
            assert!(!log.is_empty(), "{level}: no log");
        }
        assert_clean(&format!("the {level} log"), &log, &secrets);
        for (path, body) in &pages {
            assert_clean(&format!("{level}: {path}"), body, &secrets);
        }
        let state = std::fs::read_to_string(dir.join("state.json")).unwrap_or_default();
        assert_clean(&format!("{level}: the state file"), &state, &secrets);
        // What --check-config prints.
        let out = Command::new(env!("CARGO_BIN_EXE_burrow-cli"))
            .args(["serve", "--check-config", "--config"])
            .arg(dir.join("burrow.toml"))
            .envs(env)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_clean(&format!("{level}: --check-config"), &text, &secrets);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
