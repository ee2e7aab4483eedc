//! The email notifier against a real SMTP server (aiosmtpd, started here) that requires
//! STARTTLS and authenticates over it: trusted through `extra-ca`, refused without it or with
//! the wrong CA, accepted with `noverify`; `require-starttls` refuses a server without TLS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use burrow_core::ConsumerGroupStatus;
use burrow_notify::{
    EmailNotifier, EmailSettings, Notification, NotificationKind, Notifier, SmtpAuth, Templates,
};
use burrow_testkit::TestPki;

const SERVER: &str = r#"
import os, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

class Store:
    async def handle_DATA(self, server, session, envelope):
        n = len(os.listdir(out))
        with open(os.path.join(out, f"{n}.eml"), "wb") as f:
            f.write(b"X-Rcpt: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(b"X-Tls: " + (b"yes" if session.ssl else b"no") + b"\r\n")
            f.write(envelope.content)
        return "250 OK"

def authenticate(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == b"burrow" and data.password == b"s3cret"
    return AuthResult(success=ok)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
c = Controller(Store(), hostname="127.0.0.1", port=port, tls_context=ctx,
               require_starttls=True, authenticator=authenticate, auth_require_tls=True)
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"#;

/// The SMTP server; stopped (stdin closed, then killed) on drop.
struct Smtp {
    child: Child,
    port: u16,
    pki: TestPki,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Smtp {
    fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(self.pki.path("out"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

/// The server, with a certificate for 127.0.0.1 from a test CA.
fn start(python: &str) -> Smtp {
    let pki = TestPki::new("email-tls", &["127.0.0.1", "localhost"]);
    std::fs::create_dir_all(pki.path("out")).unwrap();
    std::fs::write(pki.path("server.py"), SERVER).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(python)
        .arg(pki.path("server.py"))
        .arg(port.to_string())
        .arg(pki.path("cert.pem"))
        .arg(pki.path("key.pem"))
        .arg(pki.path("out"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // The handshakes refused below log tracebacks; keep them out of the test output.
        .stderr(std::fs::File::create(pki.path("server.log")).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "the SMTP server did not start");
    Smtp { child, port, pki }
}

fn notifier(
    port: u16,
    extra_ca: Option<&Path>,
    noverify: bool,
    require_starttls: bool,
) -> EmailNotifier {
    let templates = Templates::from_sources(
        (
            "open".into(),
            "Subject: [Burrow] {{ Group }} is {{ Result.Status }}\n\nGroup {{ Group }} in {{ Cluster }}.".into(),
        ),
        None,
        &BTreeMap::new(),
    )
    .unwrap();
    EmailNotifier::new(
        "notifier.mail",
        templates,
        EmailSettings {
            server: "127.0.0.1".into(),
            port,
            require_starttls,
            from: "burrow@example.com".into(),
            to: vec!["ops@example.com".into(), "oncall@example.com".into()],
            auth: SmtpAuth::Login,
            username: "burrow".into(),
            password: "s3cret".into(),
            extra_ca: extra_ca.map(Path::to_path_buf),
            noverify,
            timeout: Duration::from_secs(10),
        },
    )
    .unwrap()
}

fn notification(group: &str) -> Notification {
    Notification {
        kind: NotificationKind::Open,
        cluster: "local".into(),
        group: group.into(),
        id: "id".into(),
        start_ms: 1,
        extras: Arc::new(BTreeMap::new()),
        result: Arc::new(ConsumerGroupStatus::not_found("local", group)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_login_trusted_ca_wrong_ca_noverify_and_required_tls() {
    let Some(python) = burrow_testkit::service("BURROW_TEST_PYTHON") else {
        return;
    };
    let smtp = start(&python);
    let ca = smtp.pki.path("ca.pem");

    // Trusted through extra-ca: STARTTLS, then LOGIN, then the message.
    notifier(smtp.port, Some(&ca), false, true)
        .notify(&notification("trusted"))
        .await
        .unwrap();
    let got = smtp.messages();
    assert_eq!(got.len(), 1);
    assert!(
        got[0].contains("X-Rcpt: ops@example.com,oncall@example.com"),
        "{}",
        got[0]
    );
    assert!(got[0].contains("X-Tls: yes"), "{}", got[0]);
    assert!(
        got[0].contains("Subject: [Burrow] trusted is NOTFOUND"),
        "{}",
        got[0]
    );

    // Not trusted (system roots only, or another CA): refused, nothing sent.
    for (what, extra) in [
        ("no CA", None),
        ("another CA", Some(smtp.pki.path("other-ca.pem"))),
    ] {
        let err = notifier(smtp.port, extra.as_deref(), false, true)
            .notify(&notification("untrusted"))
            .await
            .unwrap_err();
        eprintln!("{what}: {err}");
    }
    assert_eq!(smtp.messages().len(), 1, "an untrusted server gets nothing");

    // noverify: accepted.
    notifier(smtp.port, None, true, false)
        .notify(&notification("noverify"))
        .await
        .unwrap();
    let got = smtp.messages();
    assert_eq!(got.len(), 2);
    assert!(
        got[1].contains("X-Tls: yes"),
        "STARTTLS when offered: {}",
        got[1]
    );

    // require-starttls against a server without TLS: refused before anything is sent.
    let Ok(plain) = std::env::var("BURROW_TEST_SMTP") else {
        return;
    };
    let port: u16 = plain.rsplit(':').next().unwrap().parse().unwrap();
    let err = notifier(port, Some(&ca), false, true)
        .notify(&notification("cleartext"))
        .await
        .unwrap_err();
    eprintln!("require-starttls on a plain server: {err}");
}
