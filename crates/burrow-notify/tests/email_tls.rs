//! The email notifier against a real SMTP server (aiosmtpd, started here) that requires
//! STARTTLS and authenticates over it: trusted through `extra-ca`, refused without it or with
//! the wrong CA, accepted with `noverify`; `require-starttls` refuses a server without TLS. On
//! port 465 the notifier speaks implicit TLS (gomail's rule, which Burrow used).
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

host, port, cert, key, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
implicit = sys.argv[6] == "implicit"

class Store:
    async def handle_DATA(self, server, session, envelope):
        n = len(os.listdir(out))
        with open(os.path.join(out, f"{n}.eml"), "wb") as f:
            f.write(b"X-Rcpt: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            tls = server.transport.get_extra_info("ssl_object") is not None
            f.write(b"X-Tls: " + (b"yes" if tls else b"no") + b"\r\n")
            f.write(envelope.content)
        return "250 OK"

def authenticate(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == b"burrow" and data.password == b"s3cret"
    return AuthResult(success=ok)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
if implicit:
    # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; the whole session is TLS here.
    c = Controller(Store(), hostname=host, port=port, ssl_context=ctx,
                   authenticator=authenticate, auth_require_tls=False)
else:
    c = Controller(Store(), hostname=host, port=port, tls_context=ctx,
                   require_starttls=True, authenticator=authenticate, auth_require_tls=True)
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"#;

/// The SMTP server; stopped (stdin closed, then killed) on drop.
struct Smtp {
    child: Child,
    host: String,
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

/// The server on `host:port` (port 0: a free one), STARTTLS or implicit TLS, with a
/// certificate for `host` from a test CA.
fn start(python: &str, host: &str, port: u16, implicit: bool) -> Smtp {
    let pki = TestPki::new("email-tls", &[host, "localhost"]);
    std::fs::create_dir_all(pki.path("out")).unwrap();
    std::fs::write(pki.path("server.py"), SERVER).unwrap();
    let port = match port {
        0 => std::net::TcpListener::bind((host, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port(),
        p => p,
    };
    let mut child = Command::new(python)
        .arg(pki.path("server.py"))
        .arg(host)
        .arg(port.to_string())
        .arg(pki.path("cert.pem"))
        .arg(pki.path("key.pem"))
        .arg(pki.path("out"))
        .arg(if implicit { "implicit" } else { "starttls" })
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
    Smtp {
        child,
        host: host.into(),
        port,
        pki,
    }
}

fn notifier(
    host: &str,
    port: u16,
    extra_ca: Option<&Path>,
    noverify: bool,
    require_starttls: bool,
) -> EmailNotifier {
    with_settings(settings(host, port, extra_ca, noverify, require_starttls))
}

fn settings(
    host: &str,
    port: u16,
    extra_ca: Option<&Path>,
    noverify: bool,
    require_starttls: bool,
) -> EmailSettings {
    EmailSettings {
        server: host.into(),
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
    }
}

fn with_settings(settings: EmailSettings) -> EmailNotifier {
    let templates = Templates::from_sources(
        (
            "open".into(),
            "Subject: [Burrow] {{ Group }} is {{ Result.Status }}\n\nGroup {{ Group }} in {{ Cluster }}.".into(),
        ),
        None,
        &BTreeMap::new(),
    )
    .unwrap();
    EmailNotifier::new("notifier.mail", templates, settings).unwrap()
}

fn notification(group: &str) -> Notification {
    Notification {
        timing: None,
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
    let smtp = start(&python, "127.0.0.1", 0, false);
    let ca = smtp.pki.path("ca.pem");

    // Trusted through extra-ca: STARTTLS, then LOGIN, then the message.
    notifier(&smtp.host, smtp.port, Some(&ca), false, true)
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
        let err = notifier(&smtp.host, smtp.port, extra.as_deref(), false, true)
            .notify(&notification("untrusted"))
            .await
            .unwrap_err();
        eprintln!("{what}: {err}");
    }
    assert_eq!(smtp.messages().len(), 1, "an untrusted server gets nothing");

    // noverify: accepted.
    notifier(&smtp.host, smtp.port, None, true, false)
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
    let err = notifier("127.0.0.1", port, Some(&ca), false, true)
        .notify(&notification("cleartext"))
        .await
        .unwrap_err();
    eprintln!("require-starttls on a plain server: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_on_port_465() {
    let Some(python) = burrow_testkit::service("BURROW_TEST_PYTHON") else {
        return;
    };
    // Port 465 on a loopback address of its own (any 127.x.y.z answers on Linux), so that the
    // test neither needs nor takes the machine's 127.0.0.1:465. Binding below 1024 needs root
    // (or CAP_NET_BIND_SERVICE); without it the test says so and returns.
    let host = format!("127.0.{}.{}", std::process::id() % 250 + 1, 46);
    match std::net::TcpListener::bind((host.as_str(), 465)) {
        Ok(probe) => drop(probe),
        Err(e) => {
            eprintln!("skipped: cannot bind {host}:465 here ({e})");
            return;
        }
    }
    let smtp = start(&python, &host, 465, true);
    notifier(
        &smtp.host,
        465,
        Some(&smtp.pki.path("ca.pem")),
        false,
        false,
    )
    .notify(&notification("implicit"))
    .await
    .unwrap();
    let got = smtp.messages();
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("X-Tls: yes"), "{}", got[0]);
    assert!(
        got[0].contains("Subject: [Burrow] implicit is NOTFOUND"),
        "{}",
        got[0]
    );

    // Untrusted: refused during the TLS handshake, before any SMTP is spoken.
    notifier(
        &smtp.host,
        465,
        Some(&smtp.pki.path("other-ca.pem")),
        false,
        false,
    )
    .notify(&notification("untrusted"))
    .await
    .unwrap_err();
    assert_eq!(smtp.messages().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_is_cut_off_at_the_timeout() {
    // Accepts the connection and says nothing (no greeting): lettre bounds only the connect.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            open.push(socket);
        }
    });
    let n = with_settings(EmailSettings {
        timeout: Duration::from_secs(1),
        ..settings("127.0.0.1", port, None, true, false)
    });
    // Far below the minute the exchange would otherwise hang (the server never gives up); the
    // outer bound only keeps a regression from hanging the suite.
    let err = tokio::time::timeout(Duration::from_secs(30), n.notify(&notification("silent")))
        .await
        .expect("the notifier's own timeout did not fire")
        .unwrap_err();
    assert!(err.to_string().contains("within"), "{err}");
    held.abort();
}
