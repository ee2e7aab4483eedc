//! `burrow-cli replay` and `burrow-cli evaluate`, run as a user would, against golden files.
//!
//! Regenerate the golden files after an intended change with `UPDATE_GOLDEN=1 cargo test -p burrow-cli --test cli`
//! (twice: the evaluate goldens read the replay golden).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Evaluation time of the golden runs: 30 s after the fixture's last round.
const NOW: &str = "1700000570";

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(sub)
}

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burrow-cli"))
        .args(args)
        .output()
        .expect("run burrow-cli")
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn golden(name: &str, actual: &[u8]) {
    let file = dir("golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&file, actual).unwrap();
    }
    let expected = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(
        expected == actual,
        "{} differs from the output:\n{}",
        file.display(),
        String::from_utf8_lossy(actual)
    );
}

fn snapshot() -> PathBuf {
    dir("golden").join("replay-snapshot.json")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

#[test]
fn replay_of_the_fixture_matches_the_golden_snapshot() {
    let out = cli(&["replay", path(&dir("fixtures").join("events.jsonl"))]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    golden("replay-snapshot.json", &out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("111 events: 110 applied, 1 dropped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("dropped 1 as unknown_topic (first at line 34)"),
        "{stderr}"
    );
}

#[test]
fn evaluate_all_groups_matches_golden_and_exits_2_for_err() {
    let out = cli(&["evaluate", path(&snapshot()), "--now", NOW]);
    golden("evaluate-all.json", &out.stdout);
    assert_eq!(code(&out), 2);
}

#[test]
fn evaluate_one_group_matches_golden() {
    let out = cli(&[
        "evaluate",
        path(&snapshot()),
        "--now",
        NOW,
        "--cluster",
        "local",
        "--group",
        "mixed",
    ]);
    golden("evaluate-mixed.json", &out.stdout);
    assert_eq!(code(&out), 1);
}

#[test]
fn evaluate_exit_codes_follow_the_worst_status() {
    let snap = snapshot();
    let run = |extra: &[&str]| {
        let mut args = vec!["evaluate", path(&snap), "--now", NOW];
        args.extend_from_slice(extra);
        code(&cli(&args))
    };
    assert_eq!(run(&["--group", "ok-group"]), 0);
    assert_eq!(run(&["--group", "warn-group"]), 1);
    assert_eq!(run(&["--group", "stop-group"]), 2);
    assert_eq!(run(&["--group", "stall-group"]), 2);
    assert_eq!(run(&["--group", "rewind-group"]), 2);
    assert_eq!(run(&["--group", "no-such-group"]), 3);
    assert_eq!(
        run(&["--group", "idle"]),
        3,
        "owner-only groups are purged when fetched"
    );
    assert_eq!(run(&["--cluster", "nope"]), 3);
}

#[test]
fn not_found_group_prints_burrows_notfound_object() {
    let out = cli(&[
        "evaluate",
        path(&snapshot()),
        "--now",
        NOW,
        "--group",
        "no-such-group",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["status"], "NOTFOUND");
    assert_eq!(v[0]["complete"], 1);
    assert_eq!(v[0]["maxlag"], serde_json::Value::Null);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
}

#[test]
fn evaluate_defaults_to_the_snapshot_time() {
    let snap = snapshot();
    let taken_at = cli(&["evaluate", path(&snap)]);
    // The fixture's last event, and so the snapshot's taken_at, is at 1700000542000 ms.
    let explicit = cli(&["evaluate", path(&snap), "--now", "1700000542"]);
    let hours_later = cli(&["evaluate", path(&snap), "--now", "1700010000"]);
    let text = |o: &Output| String::from_utf8(o.stdout.clone()).unwrap();
    assert!(
        text(&taken_at) == text(&explicit),
        "default time is taken_at"
    );
    assert!(
        text(&taken_at) != text(&hours_later),
        "hours later every lagging group has stopped"
    );
}

#[test]
fn evaluate_reads_the_evaluator_section_of_a_burrow_config() {
    let tmp = std::env::temp_dir().join(format!("burrow-cli-test-{}.toml", std::process::id()));
    std::fs::write(
        &tmp,
        "[evaluator.default]\nclass-name = \"caching\"\nallowed-lag = 1000\n",
    )
    .unwrap();
    let out = cli(&[
        "evaluate",
        path(&snapshot()),
        "--now",
        NOW,
        "--group",
        "warn-group",
        "--config",
        path(&tmp),
    ]);
    assert_eq!(code(&out), 0, "lags up to 1000 count as zero");
    std::fs::write(&tmp, "[evaluator.default]\nallowed-lag = \"x\"\n").unwrap();
    let out = cli(&["evaluate", path(&snapshot()), "--config", path(&tmp)]);
    std::fs::remove_file(&tmp).unwrap();
    assert_eq!(code(&out), 3);
    assert!(String::from_utf8_lossy(&out.stderr).contains("evaluator.default.allowed-lag"));
}

#[test]
fn replay_reports_a_malformed_line_and_applies_nothing() {
    let tmp = std::env::temp_dir().join(format!("burrow-cli-bad-{}.jsonl", std::process::id()));
    let good = std::fs::read_to_string(dir("fixtures").join("events.jsonl")).unwrap();
    let mut lines: Vec<&str> = good.lines().take(4).collect();
    lines.push(r#"{"now":1,"type":"consumer_offset","cluster":"local"}"#);
    std::fs::write(&tmp, lines.join("\n")).unwrap();
    let out = cli(&["replay", path(&tmp)]);
    std::fs::remove_file(&tmp).unwrap();
    assert_ne!(code(&out), 0);
    assert!(out.stdout.is_empty(), "no snapshot is printed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(":5: malformed event"), "{stderr}");
}

#[test]
fn usage_errors_exit_3() {
    assert_eq!(code(&cli(&["evaluate"])), 3);
    assert_eq!(code(&cli(&["evaluate", "/nonexistent/snapshot.json"])), 3);
    assert_eq!(code(&cli(&["--help"])), 0);
}

/// A scratch directory holding `burrow.toml` with `text`.
fn config_dir(name: &str, text: Option<&str>) -> PathBuf {
    let d = std::env::temp_dir().join(format!("burrow-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    if let Some(text) = text {
        std::fs::write(d.join("burrow.toml"), text).unwrap();
    }
    d
}

/// A configuration that `--check-config` refuses, naming the key: proof the file was read.
const REFUSED: &str = "[general]\nunreachable-limit = -1\n";

fn run_in(dir: &Path, exe: &Path, args: &[&str]) -> Output {
    Command::new(exe)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn serve_reads_burrow_toml_in_the_working_directory() {
    let exe = Path::new(env!("CARGO_BIN_EXE_burrow-cli"));
    let d = config_dir("here", Some(REFUSED));
    let o = run_in(&d, exe, &["serve", "--check-config"]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unreachable-limit"));
    // Without the file: the defaults.
    let empty = config_dir("empty", None);
    let o = run_in(&empty, exe, &["serve", "--check-config"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn go_style_flags_and_the_burrow_name() {
    let exe = Path::new(env!("CARGO_BIN_EXE_burrow-cli"));
    let d = config_dir("go-flags", Some(REFUSED));
    let dir = d.to_str().unwrap();
    for args in [
        vec!["serve", "-config-dir", dir, "-check-config"],
        vec!["serve", &format!("-config-dir={dir}"), "--check-config"],
    ] {
        let o = run_in(&std::env::temp_dir(), exe, &args);
        assert_eq!(
            code(&o),
            1,
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("unreachable-limit"),
            "{args:?}"
        );
    }
    // `burrow` (a symlink to burrow-cli) is Burrow's command line: serve, `.` by default.
    let bin = config_dir("bin", None);
    let burrow = bin.join("burrow");
    std::os::unix::fs::symlink(exe, &burrow).unwrap();
    let o = run_in(&d, &burrow, &["-check-config"]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unreachable-limit"));
    let o = run_in(
        &std::env::temp_dir(),
        &burrow,
        &["-config-dir", dir, "-check-config"],
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("unreachable-limit"));
    // Burrow's default directory must hold the file.
    let o = run_in(&bin, &burrow, &["-check-config"]);
    assert_eq!(code(&o), 1);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no burrow.toml in ."),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_dir_all(&bin);
}
