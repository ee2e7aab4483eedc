//! Test brokers started by `scripts/test-services.sh`.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

/// A broker under test: its name and bootstrap address.
pub struct TestBroker {
    pub name: &'static str,
    pub addr: String,
}

/// The brokers configured in the environment. Without any, tests skip locally and fail in CI
/// (`CI` set), so a CI run can never pass by testing nothing.
pub fn brokers() -> Vec<TestBroker> {
    let mut out = Vec::new();
    for (name, var) in [
        ("noida", "BURROW_TEST_NOIDA"),
        ("tansu", "BURROW_TEST_TANSU"),
        ("tansu-src", "BURROW_TEST_TANSU_SRC"),
    ] {
        match std::env::var(var) {
            Ok(addr) if !addr.is_empty() => out.push(TestBroker { name, addr }),
            _ if std::env::var_os("CI").is_some() => {
                panic!("{var} is not set in CI: scripts/test-services.sh must start {name}")
            }
            _ => eprintln!("skipping {name}: {var} not set (run scripts/test-services.sh start)"),
        }
    }
    out
}

/// One broker by name, if configured (same CI rule).
pub fn broker(name: &str) -> Option<TestBroker> {
    brokers().into_iter().find(|b| b.name == name)
}

/// The Python with confluent-kafka.
pub fn python() -> Option<String> {
    match std::env::var("BURROW_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ if std::env::var_os("CI").is_some() => panic!("BURROW_TEST_PYTHON is not set in CI"),
        _ => None,
    }
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{}", std::process::id(), nanos % 1_000_000_000)
}
