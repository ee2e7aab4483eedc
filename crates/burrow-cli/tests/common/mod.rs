//! Shared by the broker tests of this crate.

/// The test brokers from `.test-services/env`, as (name, address). In CI a missing broker fails
/// the run instead of skipping it.
pub fn brokers() -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (name, var) in [
        ("noida", "BURROW_TEST_NOIDA"),
        ("tansu", "BURROW_TEST_TANSU"),
    ] {
        match std::env::var(var) {
            Ok(a) if !a.is_empty() => out.push((name, a)),
            _ if std::env::var_os("CI").is_some() => panic!("{var} is not set in CI"),
            _ => eprintln!("skipping {name}: {var} not set"),
        }
    }
    out
}
