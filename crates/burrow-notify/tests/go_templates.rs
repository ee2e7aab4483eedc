//! Burrow's Go templates render the bytes Go renders. Every template of the corpus
//! (`tests/go-templates/burrow`: every version of the templates Burrow shipped, from its
//! history; `tests/go-templates/corpus`: user-style templates covering the language and every
//! helper) is rendered for every scenario of `scenarios.json` and compared with what Go's own
//! `text/template` rendered (`goldens/`, made by `scripts/gen-template-goldens.sh` with the
//! oracle `tests/go-oracle/main.go`). Where Go fails, burrow-rs must fail too.
//!
//! With `go` installed the goldens are also made again and compared with the committed ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burrow_core::ConsumerGroupStatus;
use burrow_notify::{GoTemplate, Notification, NotificationKind};
use serde::Deserialize;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go-templates")
}

#[derive(Deserialize)]
struct Scenario {
    name: String,
    cluster: String,
    group: String,
    id: String,
    start_ms: i64,
    extras: BTreeMap<String, String>,
    result: ConsumerGroupStatus,
}

fn scenarios() -> Vec<(String, Notification)> {
    let text = std::fs::read_to_string(dir().join("scenarios.json")).unwrap();
    let scenarios: Vec<Scenario> = serde_json::from_str(&text).unwrap();
    scenarios
        .into_iter()
        .map(|s| {
            let n = Notification {
                timing: None,
                kind: NotificationKind::Open,
                cluster: s.cluster,
                group: s.group,
                id: s.id,
                start_ms: s.start_ms,
                extras: Arc::new(s.extras),
                result: Arc::new(s.result),
            };
            (s.name, n)
        })
        .collect()
}

fn templates() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["burrow", "corpus"]
        .iter()
        .flat_map(|d| std::fs::read_dir(dir().join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tmpl"))
        .collect();
    files.sort();
    files
}

/// What Go did: rendered these bytes, or failed.
enum Golden {
    Rendered(String),
    Failed(String),
}

fn golden(goldens: &Path, template: &Path, scenario: &str) -> Golden {
    let stem = template.file_stem().unwrap().to_string_lossy();
    let base = goldens.join(format!("{stem}__{scenario}"));
    match std::fs::read_to_string(base.with_extension("out")) {
        Ok(text) => Golden::Rendered(text),
        Err(_) => Golden::Failed(
            std::fs::read_to_string(base.with_extension("err"))
                .unwrap_or_else(|_| panic!("no golden for {}", base.display())),
        ),
    }
}

fn local_zone_is_utc() -> bool {
    let now = jiff::Timestamp::now();
    jiff::tz::TimeZone::system().to_offset(now).seconds() == 0
}

#[test]
fn every_template_renders_what_go_renders() {
    assert!(
        local_zone_is_utc(),
        "the goldens are made with TZ=UTC; run the tests with TZ=UTC (scripts/test.sh does)"
    );
    let goldens = dir().join("goldens");
    let scenarios = scenarios();
    let mut failures = Vec::new();
    let mut compared = 0;
    for template in templates() {
        let source = std::fs::read_to_string(&template).unwrap();
        let name = template.file_name().unwrap().to_string_lossy().into_owned();
        let parsed = GoTemplate::parse(&source, true);
        for (scenario, n) in &scenarios {
            compared += 1;
            let ours = parsed
                .as_ref()
                .map_err(|e| e.to_string())
                .and_then(|t| t.render(n).map_err(|e| e.to_string()));
            match (golden(&goldens, &template, scenario), ours) {
                (Golden::Rendered(want), Ok(got)) if want == got => {}
                (Golden::Failed(_), Err(_)) => {}
                (Golden::Rendered(want), Ok(got)) => failures.push(format!(
                    "{name} / {scenario}: rendered differently\n  go:   {want:?}\n  ours: {got:?}"
                )),
                (Golden::Rendered(want), Err(e)) => failures.push(format!(
                    "{name} / {scenario}: failed where Go rendered {want:?}: {e}"
                )),
                (Golden::Failed(why), Ok(got)) => failures.push(format!(
                    "{name} / {scenario}: rendered {got:?} where Go failed: {}",
                    why.trim()
                )),
            }
        }
    }
    assert!(compared >= 280, "only {compared} renders compared");
    assert!(
        failures.is_empty(),
        "{} of {compared} renders differ from Go's:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Burrow's templates of releases 1.2.1 to 1.9.5 (per MANIFEST) render without error.
#[test]
fn burrows_released_templates_render() {
    let manifest = std::fs::read_to_string(dir().join("burrow/MANIFEST")).unwrap();
    let released: Vec<&str> = manifest
        .lines()
        .filter(|l| l.contains("v1.9.5") || l.contains("v1.2.1"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(released.len() >= 6, "{released:?}");
    for (scenario, n) in scenarios() {
        for name in &released {
            let source = std::fs::read_to_string(dir().join("burrow").join(name)).unwrap();
            let t = GoTemplate::parse(&source, true).unwrap_or_else(|e| panic!("{name}: {e}"));
            t.render(&n)
                .unwrap_or_else(|e| panic!("{name} / {scenario}: {e}"));
        }
    }
}

/// The committed goldens are what Go renders now (only where `go` is installed).
#[test]
fn the_goldens_are_what_go_renders() {
    if std::process::Command::new("go")
        .arg("version")
        .output()
        .is_err()
    {
        // CI installs Go (scripts/test-services.sh); elsewhere the committed goldens serve.
        assert!(
            std::env::var_os("CI").is_none(),
            "go is not installed (scripts/test-services.sh installs golang-go)"
        );
        eprintln!("go is not installed: the committed goldens are used as they are");
        return;
    }
    let fresh = std::env::temp_dir().join(format!("burrow-goldens-{}", std::process::id()));
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gen-template-goldens.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .arg(&fresh)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = dir().join("goldens");
    let list = |d: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(list(&fresh), list(&committed), "the set of goldens changed");
    for name in list(&fresh) {
        if name.ends_with(".err") {
            continue; // Go's error texts name the oracle's types; only the failure matters
        }
        assert_eq!(
            std::fs::read(fresh.join(&name)).unwrap(),
            std::fs::read(committed.join(&name)).unwrap(),
            "{name}: the committed golden is not what Go renders; run scripts/gen-template-goldens.sh"
        );
    }
    let _ = std::fs::remove_dir_all(&fresh);
}
