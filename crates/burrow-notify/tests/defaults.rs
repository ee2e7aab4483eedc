//! The shipped templates render Burrow's rendered examples (spec http-samples), field for field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use burrow_core::{ConsumerGroupStatus, ConsumerOffset, PartitionStatus, Status};
use burrow_notify::{defaults, Notification, NotificationKind, Templates};
use serde_json::Value;

fn sample(name: &str) -> Value {
    let path = format!("{}/tests/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn notification(kind: NotificationKind) -> Notification {
    // The incident of the samples: started 2023-11-14 22:15:00 UTC.
    let offset = |offset, timestamp, observed_at, lag| ConsumerOffset {
        offset,
        order: 0,
        timestamp,
        observed_at,
        lag: Some(lag),
    };
    let p = PartitionStatus {
        topic: "orders".into(),
        partition: 0,
        owner: "/10.1.2.3".into(),
        client_id: "consumer-my-group-1".into(),
        status: Status::Warn,
        start: Some(offset(2218, 1_700_000_400_000, 1_700_000_400_512, 12)),
        end: Some(offset(2281, 1_700_000_700_000, 1_700_000_700_300, 40)),
        current_lag: 52,
        complete: 0.6,
    };
    let extras: BTreeMap<String, String> =
        [("api_key", "REDACTED"), ("app", "burrow"), ("tier", "STG")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    Notification {
        timing: None,
        kind,
        cluster: "local".into(),
        group: "my-group".into(),
        id: "6ba7b810-9dad-41d1-80b4-00c04fd430c8".into(),
        start_ms: 1_700_000_100_000,
        extras: Arc::new(extras),
        result: Arc::new(ConsumerGroupStatus {
            cluster: "local".into(),
            group: "my-group".into(),
            status: Status::Warn,
            complete: 0.5,
            partitions: vec![p.clone()],
            partition_count: 2,
            maxlag: Some(p),
            totallag: 54,
        }),
    }
}

fn render(open: &str, close: &str, kind: NotificationKind) -> Value {
    // Burrow's samples were rendered on a UTC machine; this test process is its own (nextest).
    std::env::set_var("TZ", "UTC");
    let n = notification(kind);
    let t = Templates::from_sources(
        ("open".into(), open.into()),
        Some(("close".into(), close.into())),
        &n.extras,
    )
    .unwrap();
    let text = t.render(&n).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn http_post_renders_burrows_sample() {
    let got = render(
        defaults::HTTP_POST,
        defaults::HTTP_DELETE,
        NotificationKind::Open,
    );
    assert_eq!(
        got,
        sample("notifier-http-post-default-template-rendered.json")
    );
}

#[test]
fn slack_post_renders_burrows_sample() {
    let got = render(
        defaults::SLACK_POST,
        defaults::SLACK_DELETE,
        NotificationKind::Open,
    );
    assert_eq!(
        got,
        sample("notifier-slack-post-default-template-rendered.json")
    );
}

#[test]
fn close_templates_work_decision_15() {
    let got = render(
        defaults::HTTP_POST,
        defaults::HTTP_DELETE,
        NotificationKind::Close,
    );
    assert_eq!(got["ids"][0], "6ba7b810-9dad-41d1-80b4-00c04fd430c8");
    assert_eq!(got["group"], "my-group");
    let got = render(
        defaults::SLACK_POST,
        defaults::SLACK_DELETE,
        NotificationKind::Close,
    );
    assert_eq!(got["attachments"][0]["color"], "good");
    assert_eq!(
        got["attachments"][0]["fields"][3]["value"],
        "2023-11-14T22:15:00Z"
    );
}

#[test]
fn email_templates_render() {
    std::env::set_var("TZ", "UTC");
    let n = notification(NotificationKind::Open);
    let t = Templates::from_sources(
        ("default-email.tmpl".into(), defaults::EMAIL.into()),
        Some((
            "default-email-close.tmpl".into(),
            defaults::EMAIL_CLOSE.into(),
        )),
        &n.extras,
    )
    .unwrap();
    let text = t.render(&n).unwrap();
    assert!(
        text.starts_with("Subject: [Burrow] Kafka Consumer Lag Alert: my-group on local is WARN\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "since 2023-11-14 22:15:00 UTC (incident 6ba7b810-9dad-41d1-80b4-00c04fd430c8)"
        ),
        "{text}"
    );
    assert!(text.contains("WARN orders:0 lag 52: offset 2218 (22:20:00, lag 12) -> 2281 (22:25:00, lag 40) owner /10.1.2.3"), "{text}");
    assert!(
        text.contains("(warn 1, stop 0, stall 0, rewind 0)"),
        "{text}"
    );
    let mut close = n.clone();
    close.kind = NotificationKind::Close;
    assert!(t
        .render(&close)
        .unwrap()
        .starts_with("Subject: [Burrow] Kafka Consumer Lag Resolved: my-group on local\n"));
}
