//! `scripts/demo.sh` as a newcomer runs it: the URL it prints serves the dashboard, every
//! status shows within a minute of it, and Ctrl-C stops the broker, the feed and the server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::browser::{browser, Dashboard};
use common::{free_port, get_json, service};

#[test]
fn the_demo_shows_every_status_within_a_minute_and_stops_on_ctrl_c() {
    let Some(noida) = service("BURROW_TEST_NOIDA_BIN") else {
        return;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let port = free_port();
    // The binaries this test run built (`--all-targets` builds the feed example too), so the
    // script does not build again with other features.
    let serve = std::path::PathBuf::from(env!("CARGO_BIN_EXE_burrow-cli"));
    let feed = serve.with_file_name("examples").join("demo-feed");
    let mut demo = Command::new("bash");
    demo.arg(root.join("scripts/demo.sh"))
        .env("BURROW_DEMO_PORT", port.to_string())
        .env("BURROW_DEMO_NOIDA", &noida)
        .env("BURROW_DEMO_BIN", &serve);
    if feed.exists() {
        demo.env("BURROW_DEMO_FEED", &feed);
    }
    let mut demo = demo
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The banner names the dashboard once everything is up.
    let mut lines = BufReader::new(demo.stderr.take().unwrap()).lines();
    let mut said = Vec::new();
    let url = loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("the demo ended before printing the URL: {said:#?}");
        };
        said.push(line.clone());
        if let Some(url) = line.trim().strip_prefix("Dashboard:") {
            break url.trim().to_string();
        }
    };
    assert_eq!(url, format!("http://127.0.0.1:{port}/ui/"));
    let shown = Instant::now();
    std::thread::spawn(move || for _ in lines {});
    let (code, _) = common::http(port, "GET", "/ui/").unwrap();
    assert_eq!(code, 200);

    let want = [
        ("checkout", "OK", "OK"),
        ("billing", "WARN", "WARN"),
        ("reports", "ERR", "STOP"),
        ("archiver", "ERR", "STALL"),
        ("replayer", "ERR", "REWIND"),
    ];
    let reached = loop {
        let last: Vec<(String, String)> = want
            .iter()
            .map(|(group, _, _)| {
                get_json(port, &format!("/v3/kafka/demo/consumer/{group}/lag"))
                    .map(|(_, v)| {
                        let s = &v["status"];
                        let worst = s["partitions"]
                            .as_array()
                            .and_then(|ps| {
                                ps.iter()
                                    .map(|p| p["status"].as_str().unwrap_or(""))
                                    .max_by_key(|st| rank(st))
                            })
                            .unwrap_or("")
                            .to_string();
                        (s["status"].as_str().unwrap_or("").to_string(), worst)
                    })
                    .unwrap_or_default()
            })
            .collect();
        let all = want
            .iter()
            .zip(&last)
            .all(|((_, group, part), (g, p))| g == group && p == part);
        if all {
            break shown.elapsed();
        }
        if shown.elapsed() > Duration::from_secs(60) {
            let _ = Command::new("kill")
                .args(["-INT", &demo.id().to_string()])
                .status();
            let _ = demo.wait();
            panic!("not every status within a minute: {last:?}");
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    eprintln!("every status shown {reached:?} after the URL");
    pictures(port);

    // Ctrl-C: everything stops, the ports close.
    Command::new("kill")
        .args(["-INT", &demo.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if demo.try_wait().unwrap().is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the demo did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(100));
    }
    let broker: u16 = said
        .iter()
        .find_map(|l| l.split("127.0.0.1:").nth(1))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no broker port in {said:#?}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    for (what, port) in [("server", port), ("broker", broker)] {
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "the {what} still listens after Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The pictures of the README and docs (`BURROW_SCREENSHOTS=docs/img` writes them there):
/// each page of the dashboard over the demo, as a browser shows it.
fn pictures(port: u16) {
    let Some(browser) = browser() else { return };
    let page = Dashboard::open(&browser, port);
    for (hash, ready, name) in [
        ("", "#worst", "demo-overview"),
        ("#/groups", ".row", "demo-groups"),
        (
            "#/group/demo/billing",
            ".partition-chart",
            "demo-group-warn",
        ),
        (
            "#/group/demo/replayer",
            ".partition-chart",
            "demo-group-rewind",
        ),
        ("#/topic/demo/demo-orders", "#consumers", "demo-topic"),
        ("#/help", ".help", "demo-help"),
    ] {
        page.visit(hash, ready);
        page.screenshot(name);
    }
    page.phone_dark();
    page.visit("", "#worst");
    page.screenshot("demo-overview-phone-dark");
    page.assert_clean();
}

/// Partition statuses from best to worst, as the group takes them.
fn rank(status: &str) -> u8 {
    match status {
        "OK" => 1,
        "WARN" => 2,
        "STOP" => 4,
        "STALL" => 5,
        "REWIND" => 6,
        _ => 0,
    }
}
