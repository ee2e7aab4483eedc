//! Burrow's own example configurations start here unchanged: every version of
//! `config/burrow.toml` and `docker-config/burrow.toml` in Burrow's history
//! (`tests/burrow-configs`, MANIFEST names the releases that ship each; 1.0.0 to 1.9.5), with
//! the templates they name (`conf/default-http-post.tmpl`, … as Burrow 1.9.5 ships them), pass
//! `serve --check-config`, which runs every check a start runs. What Burrow accepts and
//! burrow-rs only takes with a warning is named in the warnings; `--strict` refuses it. The two
//! files Burrow itself cannot start with are refused for the same reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/burrow-configs")
}

/// Burrow 1.9.5's shipped templates, as the configurations name them.
fn templates(dir: &Path) {
    let shipped =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../burrow-notify/tests/go-templates/burrow");
    std::fs::create_dir_all(dir.join("conf")).unwrap();
    for (name, blob) in [
        (
            "default-http-post.tmpl",
            "default-http-post@d95128313a.tmpl",
        ),
        (
            "default-http-delete.tmpl",
            "default-http-delete@70aa797275.tmpl",
        ),
        ("default-email.tmpl", "default-email@9fec7ac93f.tmpl"),
    ] {
        std::fs::copy(shipped.join(blob), dir.join("conf").join(name)).unwrap();
    }
}

fn check(file: &Path, strict: bool) -> Output {
    let dir = std::env::temp_dir().join(format!(
        "burrow-configs-{}-{}",
        std::process::id(),
        file.file_stem().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    templates(&dir);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_burrow-cli"));
    cmd.args(["serve", "--check-config", "--config"])
        .arg(file)
        .current_dir(&dir)
        // Burrow's examples listen on :8000; a free port instead (Burrow's environment override).
        .env(
            "BURROW_HTTPSERVER_DEFAULT_ADDRESS",
            format!("127.0.0.1:{port}"),
        );
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd.output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// Files Burrow itself fails on, and why.
const BURROW_REFUSES: [(&str, &str); 3] = [
    // 1.0.0: the group blacklist is not a regex (an unclosed group; Burrow panics "Failed to
    // compile group blacklist").
    (
        "config-burrow@87224ac441.toml",
        "consumer.local.group-denylist is written group-blacklist in the file",
    ),
    // 2017-12-02, between releases: `root-path=/burrow` without quotes is not TOML.
    ("config-burrow@ccb2efcbd1.toml", "TOML parse error"),
    // 2020-12-31, between releases: a client-profile without its section (Burrow panics
    // "unknown client-profile 'profile'").
    (
        "docker-config-burrow@0cd5b1b4be.toml",
        "no [client-profile.profile] section",
    ),
];

#[test]
fn every_example_configuration_of_burrow_starts() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(configs())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 13, "{files:?}");
    let mut failures = Vec::new();
    let mut warned = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let out = check(file, false);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        match BURROW_REFUSES.iter().find(|(n, _)| *n == name) {
            Some((_, why)) => {
                if out.status.code() != Some(1) || !stderr.contains(why) {
                    failures.push(format!("{name}: should be refused with {why:?}: {stderr}"));
                }
            }
            None if out.status.success() => {
                if stderr.contains("warning:") {
                    warned += 1;
                    // --strict refuses what was only a warning.
                    let strict = check(file, true);
                    if strict.status.code() != Some(1) {
                        failures.push(format!("{name}: --strict accepted it: {stderr}"));
                    }
                }
            }
            None => failures.push(format!("{name}: refused: {stderr}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The old list names and the notifier's `cluster` key are warned about.
    assert!(warned >= 3, "only {warned} files gave warnings");
}

/// What the warnings say for Burrow 1.2.1's example: the old group-list names, read as the new.
#[test]
fn burrow_1_2_1_example_names_its_old_keys() {
    let out = check(&configs().join("config-burrow@aae38dfa4d.toml"), false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: consumer.local.group-whitelist: renamed in Burrow 1.5; read as group-allowlist"),
        "{stderr}"
    );
}
