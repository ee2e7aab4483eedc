//! The custom notifier example runs and receives real alerts.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../examples/custom_notifier.rs"]
mod example;

use burrow_core::Status;
use burrow_notify::NotificationKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_notifier_receives_open_then_close() {
    let got = example::run().await;
    assert_eq!(got.len(), 2);
    let (open, close) = (&got[0], &got[1]);
    assert_eq!(open.kind, NotificationKind::Open);
    assert_eq!(
        (open.cluster.as_str(), open.group.as_str()),
        ("local", "billing")
    );
    assert_eq!(open.result.status, Status::Warn);
    assert_eq!(open.result.totallag, 3);
    assert_eq!(
        open.result.partitions.len(),
        1,
        "notifiers see the partitions worse than OK"
    );
    assert_eq!(open.id.len(), 36, "a UUID");
    assert!(open.start_ms > 0);
    assert_eq!(close.kind, NotificationKind::Close);
    assert_eq!(close.result.status, Status::Ok);
    assert_eq!(
        (close.id.as_str(), close.start_ms),
        (open.id.as_str(), open.start_ms)
    );
}
