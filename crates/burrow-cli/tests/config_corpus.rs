//! The configuration corpus: malformed and edge-case configurations (`tests/config-corpus/*.toml`,
//! plus garbage made here), each run through `serve --check-config` and through a real start.
//! For every one both must refuse it with exit code 1, name the key, file or variable the case
//! expects, and never panic: `--check-config` says nothing passes that a start would refuse.
//!
//! A case file starts with `# expect: <text the message must contain>` and optionally
//! `# env: NAME=value` (an environment override for both runs) and `# args: --flag` (more
//! arguments of `serve` for both runs, as `--strict`). `{dir}` is a scratch directory
//! holding `open.tmpl` (a valid template), `broken.tmpl`, `notpem.pem` and the directory `adir`;
//! `{port}` is a free port and `{busy}` a port this test holds open.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A start that runs this long accepted the configuration.
const START_LIMIT: Duration = Duration::from_secs(20);

struct Case {
    name: String,
    text: Vec<u8>,
    expect: String,
    env: Option<(String, String)>,
    args: Vec<String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config-corpus")
}

fn read_cases() -> Vec<Case> {
    let mut cases: Vec<Case> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let header = |tag: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("# {tag}: ")))
                    .map(str::to_string)
            };
            let expect =
                header("expect").unwrap_or_else(|| panic!("{}: no '# expect:' line", p.display()));
            let env = header("env").map(|e| {
                let (k, v) = e.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            });
            let args = header("args")
                .map(|a| a.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
            Case {
                name: p.file_stem().unwrap().to_string_lossy().into_owned(),
                text: text.into_bytes(),
                expect,
                env,
                args,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

fn case(name: &str, text: Vec<u8>, expect: &str) -> Case {
    Case {
        name: name.into(),
        text,
        expect: expect.into(),
        env: None,
        args: Vec::new(),
    }
}

/// Inputs that are not configuration files at all.
fn garbage_cases() -> Vec<Case> {
    let mut oversized = b"# a comment line padding the file\n".repeat(40_000);
    oversized.extend_from_slice(b"[general]\n");
    vec![
        case("garbage-oversized", oversized, "larger than 1024 KiB"),
        case(
            "garbage-binary",
            vec![0xff, 0xfe, 0x00, 0x9c, 0x80, 0x01],
            "not UTF-8",
        ),
        case(
            "garbage-nul-bytes",
            b"[general]\x00\x00".to_vec(),
            "TOML parse error",
        ),
        case(
            "garbage-json",
            br#"{"general": {"pidfile": "x"}}"#.to_vec(),
            "TOML parse error",
        ),
    ]
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("burrow-corpus-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("adir")).unwrap();
    std::fs::write(dir.join("open.tmpl"), burrow_notify::defaults::HTTP_POST).unwrap();
    std::fs::write(dir.join("broken.tmpl"), "{{ .Group \n").unwrap();
    std::fs::write(dir.join("notpem.pem"), "this is not a certificate\n").unwrap();
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(dir: &Path, config: &Path, case: &Case, check: bool) -> Command {
    let env = &case.env;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_burrow-cli"));
    cmd.arg("serve")
        .arg("--config")
        .arg(config)
        .args(&case.args)
        .current_dir(dir);
    if check {
        cmd.arg("--check-config");
    }
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs a start; one still running after [`START_LIMIT`] accepted the file and is stopped.
fn start(mut cmd: Command) -> Result<Output, String> {
    let mut child = cmd.spawn().unwrap();
    let began = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return Ok(child.wait_with_output().unwrap());
        }
        if began.elapsed() > START_LIMIT {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            return Err(format!(
                "the start accepted it and ran; its log:\n{}",
                String::from_utf8_lossy(&out.stdout)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What is wrong with one run's answer, if anything.
fn judge(run: &str, out: &Output, expect: &str) -> Option<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if stderr.contains("panicked") || stdout.contains("panicked") {
        return Some(format!("{run} panicked:\n{stderr}"));
    }
    if out.status.code() != Some(1) {
        return Some(format!(
            "{run} exited with {:?}, not 1:\n{stdout}{stderr}",
            out.status.code()
        ));
    }
    if !stderr.contains(expect) {
        return Some(format!("{run} does not say {expect:?}:\n{stderr}"));
    }
    None
}

fn run_case(case: &Case) -> Vec<String> {
    let dir = scratch(&case.name);
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    let port = free_port().to_string();
    let fill = |s: &str| {
        s.replace("{dir}", &dir.display().to_string())
            .replace("{port}", &port)
            .replace("{busy}", &busy_port)
    };
    let text = match std::str::from_utf8(&case.text) {
        Ok(t) => fill(t).into_bytes(),
        Err(_) => case.text.clone(),
    };
    let config = dir.join("burrow.toml");
    std::fs::write(&config, text).unwrap();
    let expect = fill(&case.expect);
    let mut failures = Vec::new();
    let check = command(&dir, &config, case, true).output().unwrap();
    if let Some(f) = judge("--check-config", &check, &expect) {
        failures.push(format!("{}: {f}", case.name));
    }
    match start(command(&dir, &config, case, false)) {
        Ok(out) => {
            if let Some(f) = judge("the start", &out, &expect) {
                failures.push(format!("{}: {f}", case.name));
            }
        }
        Err(f) => failures.push(format!("{}: {f}", case.name)),
    }
    drop(busy);
    let _ = std::fs::remove_dir_all(&dir);
    failures
}

#[test]
fn check_config_and_a_start_refuse_every_case_alike() {
    let cases: Vec<Case> = read_cases().into_iter().chain(garbage_cases()).collect();
    assert!(cases.len() >= 60, "the corpus has {} cases", cases.len());
    let failures: Vec<String> = cases.iter().flat_map(run_case).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn inputs_that_are_not_files_are_refused() {
    let dir = scratch("not-files");
    for (path, expect) in [
        ("/dev/zero", "larger than 1024 KiB"),
        ("adir", "cannot read config"),
        ("missing.toml", "cannot read config"),
    ] {
        let out = command(&dir, Path::new(path), &case("none", vec![], ""), true)
            .output()
            .unwrap();
        if let Some(f) = judge("--check-config", &out, expect) {
            panic!("{path}: {f}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_valid_file_passes_and_unknown_variables_are_named() {
    let dir = scratch("valid");
    let config = dir.join("burrow.toml");
    let port = free_port();
    std::fs::write(
        &config,
        format!(
            "[cluster.local]\nclass-name = \"kafka\"\nservers = [\"127.0.0.1:9092\"]\n\
             [httpserver.default]\naddress = \"127.0.0.1:{port}\"\n"
        ),
    )
    .unwrap();
    let mut typo = case("valid", vec![], "");
    typo.env = Some((
        "BURROW_CLUSTER_LOCAL_OFSET_REFRESH".to_string(),
        "5".to_string(),
    ));
    let out = command(&dir, &config, &typo, true).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration OK"));
    assert!(
        stderr.contains("warning: BURROW_CLUSTER_LOCAL_OFSET_REFRESH"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
