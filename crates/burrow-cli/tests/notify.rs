//! Notifiers end to end: `burrow-cli serve` on a real broker with an `http` notifier posting to a
//! receiver in this test (default webhook templates, basic auth, headers, a failing first answer
//! that is retried) and an `email` notifier sending to the aiosmtpd server of
//! `scripts/test-services.sh`. A group goes ERR (open notifications), then catches up (close).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{brokers, now_ms, receiver, Kafka, Seen, Server};

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

fn templates() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../burrow-notify/templates")
}

/// A received email: subject, recipients, text body.
#[derive(Debug, Clone)]
struct Mail {
    subject: String,
    to: Vec<String>,
    body: String,
}

/// Messages in the maildir of the test SMTP server addressed to `to`, parsed.
fn mails_to(to: &str) -> Vec<Mail> {
    let Ok(dir) = std::env::var("BURROW_TEST_MAILDIR") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(PathBuf::from(&dir).join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let raw = std::fs::read(e.path()).unwrap_or_default();
            let Some(m) = mail_parser::MessageParser::default().parse(&raw) else {
                continue;
            };
            let recipients: Vec<String> = m
                .to()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.address().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            if recipients.iter().any(|r| r == to) {
                out.push(Mail {
                    subject: m.subject().unwrap_or_default().to_string(),
                    to: recipients,
                    body: m.body_text(0).map(|b| b.to_string()).unwrap_or_default(),
                });
            }
        }
    }
    out
}

fn wait<T>(what: &str, server: &Server, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{what} never happened\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_and_email_notifications_open_and_close() {
    let Some(smtp) = common::service("BURROW_TEST_SMTP") else {
        return;
    };
    let (smtp_host, smtp_port) = smtp.split_once(':').unwrap();
    // The notifier logic does not depend on the broker: one is enough.
    let Some((name, addr)) = brokers().into_iter().next() else {
        return;
    };
    let kafka = Kafka::connect(&addr).await;
    let id = format!("{name}-{}-{}", std::process::id(), now_ms() % 100_000);
    let topic = format!("notify-{id}");
    let group = format!("g-notify-{id}");
    kafka.topic(&topic, 100).await;
    let (port, seen) = receiver(1);
    let to = format!("ops-{id}@example.com");
    let t = templates();
    let config = format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
[cluster.local]
class-name = "kafka"
servers = ["{addr}"]
offset-refresh = 1
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["{addr}"]
[storage.default]
intervals = 3
[evaluator.default]
expire-cache = 1
[httpserver.default]
address = "127.0.0.1:@PORT@"
[notifier.web]
class-name = "http"
interval = 1
send-interval = 3600
threshold = 2
send-close = true
group-allowlist = "^{group}"
group-denylist = "-quiet$"
url-open = "http://127.0.0.1:{port}/alerts/{{{{ Group }}}}"
url-close = "http://127.0.0.1:{port}/alerts/{{{{ Group }}}}/{{{{ ID }}}}"
method-close = "DELETE"
template-open = "{open}"
template-close = "{close}"
username = "burrow"
password = "s3cret"
[notifier.web.extras]
api_key = "KEY"
app = "burrow"
tier = "STG"
[notifier.web.headers]
X-Burrow-Test = "yes"
[notifier.mail]
class-name = "email"
interval = 1
send-interval = 3600
threshold = 3
send-close = true
group-allowlist = "^{group}$"
server = "{smtp_host}"
port = {smtp_port}
from = "burrow@example.com"
to = "{to},second-{to}"
template-open = "{email}"
template-close = "{email_close}"
"#,
        open = t.join("default-http-post.tmpl").display(),
        close = t.join("default-http-delete.tmpl").display(),
        email = t.join("default-email.tmpl").display(),
        email_close = t.join("default-email-close.tmpl").display(),
    );
    let dir = std::env::temp_dir().join(format!("burrow-notify-{id}"));
    let mut server = Server::start(&dir, &config);
    // Decision 6 keeps Burrow's drop of commits whose topic has no broker offsets yet: the
    // commits go in once the server knows the topic.
    server.wait_for(
        "the topic",
        &format!("/v3/kafka/local/topic/{topic}"),
        |c, _| c == 200,
    );
    // ERR at once: lagging commits that stopped ten minutes ago.
    let now = now_ms();
    for (i, o) in [40, 45, 50].iter().enumerate() {
        kafka
            .commit(&group, &topic, *o, now - 620_000 + i as i64 * 10_000)
            .await;
    }
    // Another group the notifiers must ignore (denylist).
    for (i, o) in [40, 45, 50].iter().enumerate() {
        kafka
            .commit(
                &format!("{group}-quiet"),
                &topic,
                *o,
                now - 620_000 + i as i64 * 10_000,
            )
            .await;
    }

    // Open: the first POST got a 500 and was retried.
    let posts = wait("two POSTs (one failed, one retried)", &server, || {
        let s = seen.lock().unwrap();
        let posts: Vec<Seen> = s.iter().filter(|r| r.method == "POST").cloned().collect();
        (posts.len() >= 2).then_some(posts)
    });
    let post = &posts[1];
    assert_eq!(post.path, format!("/alerts/{group}"));
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(post.header("x-burrow-test"), Some("yes"));
    // "burrow:s3cret"
    assert_eq!(
        post.header("authorization"),
        Some("Basic YnVycm93OnMzY3JldA==")
    );
    let body: Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(posts[0].body, post.body, "the retry sends the same body");
    assert_eq!(body["api_key"], "KEY");
    assert_eq!(body["app"], "burrow");
    let event = &body["events"][0];
    let incident = event["id"].as_str().unwrap().to_string();
    assert_eq!(incident.len(), 36, "{body}");
    assert_eq!(event["event"]["severity"], "ERR");
    assert_eq!(event["event"]["tier"], "STG");
    assert_eq!(event["event"]["group"], group.as_str());
    let p = &event["event"]["partitions"][0];
    assert_eq!(p["topic"], topic.as_str());
    assert_eq!(p["status"], "STOP");
    assert_eq!(p["current_lag"], 50);
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .all(|r| !r.path.contains("-quiet")),
        "denylisted group notified"
    );

    let mail = wait("the open email", &server, || {
        mails_to(&to)
            .into_iter()
            .find(|m| m.subject.contains("Lag Alert"))
    });
    assert_eq!(
        mail.subject,
        format!("[Burrow] Kafka Consumer Lag Alert: {group} on local is ERR")
    );
    assert_eq!(mail.to, [to.clone(), format!("second-{to}")]);
    assert!(
        mail.body.contains(&format!("STOP {topic}:0 lag 50")),
        "{mail:?}"
    );
    assert!(mail.body.contains(&incident), "{mail:?}");

    // The group catches up: close notifications with the same incident.
    kafka.commit(&group, &topic, 100, now_ms()).await;
    let delete = wait("the DELETE", &server, || {
        seen.lock()
            .unwrap()
            .iter()
            .find(|r| r.method == "DELETE")
            .cloned()
    });
    assert_eq!(delete.path, format!("/alerts/{group}/{incident}"));
    let body: Value = serde_json::from_str(&delete.body).unwrap();
    assert_eq!(body["ids"][0], incident.as_str());
    assert_eq!(body["group"], group.as_str());
    let mail = wait("the close email", &server, || {
        mails_to(&to)
            .into_iter()
            .find(|m| m.subject.contains("Lag Resolved"))
    });
    assert!(mail.body.contains(&incident), "{mail:?}");

    // Metrics: one failed attempt, opens and closes sent.
    let (_, m) = common::http(server.port, "GET", "/metrics").unwrap();
    assert!(
        m.contains(r#"burrow_notifier_delivery_attempts_total{notifier="web",result="error"} 1"#),
        "{m}"
    );
    assert!(
        m.contains(
            r#"burrow_notifier_notifications_total{kind="close",notifier="web",result="sent"} 1"#
        ),
        "{m}"
    );
    assert!(
        m.contains(
            r#"burrow_notifier_notifications_total{kind="open",notifier="mail",result="sent"} 1"#
        ),
        "{m}"
    );
    // One open per notifier: no repeat within send-interval, the retry is not a new one.
    assert!(
        m.contains(
            r#"burrow_notifier_notifications_total{kind="open",notifier="web",result="sent"} 1"#
        ),
        "{m}"
    );
    let status = server.terminate();
    assert!(status.success(), "{}", server.log());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Templates get the lag in time: from the record on a `lag-seconds` cluster, estimated from
/// the end offsets elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_carry_the_lag_in_time() {
    let Some((name, addr)) = brokers().into_iter().next() else {
        return;
    };
    let kafka = Kafka::connect(&addr).await;
    let id = format!("{name}-{}-{}", std::process::id(), now_ms() % 100_000);
    let topic = format!("behind-{id}");
    let group = format!("g-behind-{id}");
    kafka.topic(&topic, 0).await;
    // Offsets 0..9 written 600..510 s ago.
    let now = now_ms();
    for i in 0..10 {
        kafka.produce_at(&topic, now - 600_000 + i * 10_000).await;
    }
    let (port, seen) = receiver(0);
    let dir = std::env::temp_dir().join(format!("burrow-notify-seconds-{id}"));
    std::fs::create_dir_all(&dir).unwrap();
    let tmpl = dir.join("open.tmpl");
    std::fs::write(
        &tmpl,
        r#"{"behind": {{.LagSeconds}}, "estimated": {{.LagSecondsEstimated}}, "drain": "{{.Drain}}", "partitions": [{{range $i, $p := .Result.Partitions}}{{if $i}},{{end}}{"topic": "{{$p.Topic}}", "behind": {{$p.LagSeconds}}}{{end}}]}"#,
    )
    .unwrap();
    let config = format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
[cluster.local]
class-name = "kafka"
servers = ["{addr}"]
offset-refresh = 1
lag-seconds = true
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["{addr}"]
[storage.default]
intervals = 3
[evaluator.default]
expire-cache = 1
[httpserver.default]
address = "127.0.0.1:@PORT@"
[notifier.web]
class-name = "http"
interval = 1
threshold = 2
group-allowlist = "^{group}$"
url-open = "http://127.0.0.1:{port}/alerts"
template-open = "{tmpl}"
"#,
        tmpl = tmpl.display()
    );
    let server = Server::start(&dir, &config);
    server.wait_for(
        "the topic",
        &format!("/v3/kafka/local/topic/{topic}"),
        |c, _| c == 200,
    );
    // Stopped at offset 5 (written 550 s ago) ten minutes ago: STOP, so ERR.
    for (i, o) in [3, 4, 5].iter().enumerate() {
        kafka
            .commit(&group, &topic, *o, now - 620_000 + i as i64 * 10_000)
            .await;
    }
    let body = wait("a POST with the lag in time", &server, || {
        let s = seen.lock().unwrap();
        s.iter()
            .filter(|r| r.method == "POST")
            .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
            .find(|b| b["behind"].is_number())
    });
    let behind = body["behind"].as_f64().unwrap();
    assert!((550.0..620.0).contains(&behind), "{name}: {body}");
    assert_eq!(body["estimated"], false, "{body}");
    assert_eq!(body["drain"], "not_draining", "{body}");
    assert_eq!(body["partitions"][0]["topic"], topic.as_str());
    assert_eq!(body["partitions"][0]["behind"], body["behind"]);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_templates_are_config_errors_naming_file_and_line() {
    let dir = std::env::temp_dir().join(format!("burrow-badtmpl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tmpl = dir.join("open.tmpl");
    std::fs::write(&tmpl, "line one\n{{ Result.Status \n").unwrap();
    let config = dir.join("burrow.toml");
    for (extra, want) in [
        (
            format!(
                "template-open = \"{}\"\nurl-open = \"http://x/\"",
                tmpl.display()
            ),
            format!("template {} line 2", tmpl.display()),
        ),
        (
            format!(
                "template-open = \"{}\"\nurl-open = \"http://x/{{{{ Nope }}}}\"",
                templates().join("default-http-post.tmpl").display()
            ),
            "template notifier.web.url-open line 1".to_string(),
        ),
        (
            format!(
                "template-open = \"{}\"\nurl-open = \"http://x/\"\nmethod-open = \"PO ST\"",
                templates().join("default-http-post.tmpl").display()
            ),
            "notifier.web.method-open".to_string(),
        ),
    ] {
        std::fs::write(
            &config,
            format!("[notifier.web]\nclass-name = \"http\"\n{extra}\n"),
        )
        .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_burrow-cli"))
            .args(["serve", "--check-config", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(&want), "{want:?} not in {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
