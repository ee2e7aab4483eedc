//! The dashboard in a real browser: headless Chromium (Debian's `chromium`, from
//! `scripts/test-services.sh`) driven over the DevTools protocol against `serve` fed by a real
//! broker (noida). Every page renders, shows what `/v3` says, search and filters work, charts
//! hold the window's points, there is no console error, no request leaves the origin, and each
//! page stays under its byte budget. Screenshots of every page are written to
//! `$CARGO_TARGET_TMPDIR/dashboard/` (or `$BURROW_SCREENSHOTS`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

use burrow_kafka::{offsets, Compression};
use common::browser::{browser, Dashboard};
use common::{get_json, now_ms, service, Kafka, Server};

/// A page's transferred bytes at most (the issue's budget).
const PAGE_BYTES: f64 = 300.0 * 1024.0;

fn config(addr: &str) -> String {
    config_reading(addr, "__consumer_offsets")
}

/// [`config`] with the consumer reading `offsets_topic`.
fn config_reading(addr: &str, offsets_topic: &str) -> String {
    format!(
        r#"
[general]
pidfile = "@DIR@/burrow.pid"
[storage.default]
class-name = "inmemory"
intervals = 4
[cluster.local]
class-name = "kafka"
servers = ["{addr}"]
offset-refresh = 1
[consumer.local]
class-name = "kafka"
cluster = "local"
servers = ["{addr}"]
offsets-topic = "{offsets_topic}"
[evaluator.default]
expire-cache = 1
[httpserver.default]
address = "127.0.0.1:@PORT@"
"#
    )
}

/// Statuses of every group of `local` as `/v3` gives them.
fn api_statuses(port: u16) -> BTreeMap<String, Value> {
    let (_, list) = get_json(port, "/v3/kafka/local/consumer").unwrap();
    list["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let g = g.as_str().unwrap();
            let (_, lag) = get_json(port, &format!("/v3/kafka/local/consumer/{g}/lag")).unwrap();
            (g.to_string(), lag["status"].clone())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_what_the_api_says() {
    let Some(addr) = service("BURROW_TEST_NOIDA") else {
        return;
    };
    let Some(browser) = browser() else { return };
    let kafka = Kafka::connect(&addr).await;
    let id = format!("{}-{}", std::process::id(), now_ms() % 100_000);
    let topic = format!("orders-{id}");
    kafka.topic(&topic, 20).await;
    let now = now_ms();
    let g = |s: &str| format!("{s}-{id}");
    // STOP: the last commit is older than the window spans, with lag.
    for (i, o) in [1, 2, 3, 4].iter().enumerate() {
        kafka
            .commit(&g("stop"), &topic, *o, now - 400_000 + i as i64 * 10_000)
            .await;
    }
    // STALL: the offset does not move, commits keep coming.
    for i in 0..4 {
        kafka
            .commit(&g("stall"), &topic, 3, now - 60_000 + i * 20_000)
            .await;
    }
    // REWIND: the offset went back.
    for (i, o) in [6, 8, 10, 2].iter().enumerate() {
        kafka
            .commit(&g("rewind"), &topic, *o, now - 60_000 + i as i64 * 20_000)
            .await;
    }
    kafka.owner(&g("ok"), &topic).await;
    let dir = std::env::temp_dir().join(format!("burrow-dashboard-{id}"));
    let server = Server::start(&dir, &config(&addr));
    let deadline = Instant::now() + Duration::from_secs(40);
    while common::http(server.port, "GET", "/burrow/admin/ready").map(|r| r.0) != Some(200) {
        assert!(Instant::now() < deadline, "never ready:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    // WARN: produced faster than consumed, the lag grows at every commit (the end offsets are
    // refreshed every second); OK: caught up at every commit. Both keep committing while the
    // test looks, or their windows would end in STOP.
    let live = {
        let kafka = Kafka::connect(&addr).await;
        let (topic, warn, ok) = (topic.clone(), g("warn"), g("ok"));
        tokio::spawn(async move {
            let mut end = 20;
            for round in 0.. {
                kafka.produce(&topic, 5).await;
                end += 5;
                // Two end-offset refreshes at least, so every commit sees the new end.
                tokio::time::sleep(Duration::from_millis(2200)).await;
                kafka.commit(&warn, &topic, 5 + round, now_ms()).await;
                kafka.commit(&ok, &topic, end, now_ms()).await;
            }
        })
    };
    for (group, want) in [
        ("stop", "ERR"),
        ("stall", "ERR"),
        ("rewind", "ERR"),
        ("warn", "WARN"),
        ("ok", "OK"),
    ] {
        server.wait_for(
            &format!("{group} is {want}"),
            &format!("/v3/kafka/local/consumer/{}/status", g(group)),
            |_, v| v["status"]["status"] == want,
        );
    }
    let statuses = api_statuses(server.port);
    let mine: Vec<(&String, &Value)> = statuses.iter().filter(|(k, _)| k.ends_with(&id)).collect();
    assert_eq!(mine.len(), 5, "{statuses:?}");

    let page = Dashboard::open(&browser, server.port);

    // Overview: the cluster, its counts per status as /v3 has them, the worst groups first.
    let bytes = page.visit("", "#worst");
    assert!(bytes < PAGE_BYTES, "overview transferred {bytes} bytes");
    // Groups of other tests on the same broker change status meanwhile: the page must agree
    // with /v3 read right before or right after it.
    let count_page = || -> BTreeMap<String, usize> {
        let json = page.text(
            "JSON.stringify(Object.fromEntries([...document.querySelectorAll('.card[data-cluster=\"local\"] .chip')].map(c => [c.querySelector('.badge').textContent, Number(c.textContent.trim().split(' ').pop().replace(/,/g, ''))])))",
        );
        serde_json::from_str(&json).unwrap()
    };
    let count_api = || -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for s in api_statuses(server.port).values() {
            *counts
                .entry(s["status"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        counts
    };
    let mut agreed = false;
    for _ in 0..5 {
        let before = count_api();
        page.visit("", "#worst");
        let shown = count_page();
        let after = count_api();
        if shown == before || shown == after {
            agreed = true;
            break;
        }
        eprintln!("overview {shown:?}, api before {before:?}, after {after:?}: again");
    }
    assert!(agreed, "the overview's counts never matched /v3");
    let first = page.text("document.querySelector('#worst tbody tr .badge').textContent");
    assert_eq!(first, "ERR", "the worst groups come first");
    assert_eq!(
        page.text("document.querySelector('.card h3 span:last-child').textContent"),
        "healthy"
    );
    page.screenshot("overview");

    // Groups: search narrows to this test's groups, the status filter to WARN.
    let bytes = page.visit("#/groups", ".row");
    assert!(bytes < PAGE_BYTES, "groups transferred {bytes} bytes");
    page.tab.press_key("/").unwrap();
    assert_eq!(
        page.text("document.activeElement.id"),
        "q",
        "/ focuses the search"
    );
    page.tab.type_str(&id).unwrap();
    page.until("search", "document.querySelectorAll('.row').length === 5");
    page.text(
        "(() => { const s = document.getElementById('status'); s.value = 'WARN'; s.dispatchEvent(new Event('input')); return '' })()",
    );
    page.until("filter", "document.querySelectorAll('.row').length === 1");
    assert_eq!(
        page.text("document.querySelector('.row').dataset.group"),
        g("warn")
    );
    assert!(
        page.text("location.hash").contains("status=WARN"),
        "the filter is in the URL"
    );
    page.text(
        "(() => { const s = document.getElementById('status'); s.value = ''; s.dispatchEvent(new Event('input')); return '' })()",
    );
    page.until(
        "unfiltered",
        "document.querySelectorAll('.row').length === 5",
    );
    page.screenshot("groups");

    // A group: status, total lag and every partition as /v3 has them; the chart holds the
    // window's commits and end-offset samples.
    for name in ["warn", "stop", "rewind"] {
        let group = g(name);
        let status = &statuses[&group];
        // Producers keep writing and the WARN group keeps committing, so the lag moves while the
        // page loads: the page's total must lie between what /v3 said just before and just after
        // it, on one of a few tries (a commit between the three reads can put it outside).
        let api_lag = || {
            let (_, v) = get_json(
                server.port,
                &format!("/v3/kafka/local/consumer/{group}/lag"),
            )
            .unwrap();
            v
        };
        let mut now_status = serde_json::Value::Null;
        let mut agreed = false;
        for _ in 0..5 {
            let before = api_lag()["status"]["totallag"].as_u64().unwrap();
            page.visit(&format!("#/group/local/{group}"), ".partition-chart");
            assert_eq!(
                page.text("document.querySelector('#group-name .badge').textContent"),
                status["status"].as_str().unwrap()
            );
            let shown: u64 = page
                .text("document.getElementById('totallag').textContent")
                .replace(',', "")
                .parse()
                .unwrap();
            now_status = api_lag();
            let after = now_status["status"]["totallag"].as_u64().unwrap();
            if (before.min(after)..=before.max(after)).contains(&shown) {
                agreed = true;
                break;
            }
            eprintln!("{group}: page {shown}, api {before} before and {after} after: again");
        }
        assert!(agreed, "{group}: the page's total lag never matched /v3");
        let p = &now_status["status"]["partitions"][0];
        assert_eq!(
            page.text(
                "document.querySelector('#partitions tr[data-partition=\"0\"]').dataset.status"
            ),
            p["status"].as_str().unwrap(),
            "{group}"
        );
        let (_, detail) =
            get_json(server.port, &format!("/v3/kafka/local/consumer/{group}")).unwrap();
        let commits = detail["topics"][&topic][0]["offsets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| !o.is_null())
            .count();
        assert_eq!(
            page.text("document.querySelector('.partition-chart').dataset.commits"),
            commits.to_string(),
            "{group}: the chart has the window's commits"
        );
        assert_eq!(
            page.text("document.querySelectorAll('.partition-chart circle.pt').length"),
            commits.to_string()
        );
        assert!(
            page.text("document.querySelector('.partition-chart').dataset.ends")
                .parse::<usize>()
                .unwrap()
                >= 1
        );
        assert!(!page
            .text("document.getElementById('why').textContent")
            .is_empty());
        page.screenshot(&format!("group-{name}"));
    }

    // A topic: its partitions and the groups that consume it, as /v3 lists them; its end offset
    // between /v3's before and after.
    let end_offset = || {
        let (_, offsets) =
            get_json(server.port, &format!("/v3/kafka/local/topic/{topic}")).unwrap();
        offsets["offsets"][0].as_i64().unwrap()
    };
    let end_before = end_offset();
    page.visit(&format!("#/topic/local/{topic}"), "#consumers");
    let (_, consumers) = get_json(
        server.port,
        &format!("/v3/kafka/local/topic/{topic}/consumers"),
    )
    .unwrap();
    let mut want: Vec<String> = consumers["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    want.sort();
    let mut shown: Vec<String> = page
        .text("JSON.stringify([...document.querySelectorAll('#consumers tbody tr')].map(r => r.dataset.group))")
        .parse::<Value>()
        .map(|v| v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap();
    shown.sort();
    assert_eq!(shown, want);
    let shown_end: i64 = page
        .text("document.querySelector('#topic-partitions tbody td:nth-child(2)').textContent")
        .replace(',', "")
        .parse()
        .unwrap();
    let end_after = end_offset();
    assert!(
        (end_before..=end_after).contains(&shown_end),
        "end offset {shown_end}, /v3 {end_before} before and {end_after} after"
    );
    page.screenshot("topic");

    // The help page explains every status.
    page.visit("#/help", ".help");
    assert_eq!(
        page.text("document.querySelectorAll('.help dt').length"),
        "7"
    );

    // Live: the page refreshes by itself (every 5 s here).
    page.visit("", "#worst");
    page.text("(() => { const e = document.getElementById('every'); e.value = '5'; e.dispatchEvent(new Event('change')); return '' })()");
    let before = page.seen.lock().unwrap().requests.len();
    std::thread::sleep(Duration::from_secs(6));
    assert!(
        page.seen.lock().unwrap().requests.len() > before,
        "no refresh within 6 s"
    );

    // Dark, on a phone: nothing wider than the screen.
    page.phone_dark();
    page.visit("", "#worst");
    assert_eq!(
        page.text("String(document.documentElement.scrollWidth <= window.innerWidth)"),
        "true",
        "the overview is wider than a phone"
    );
    assert_eq!(
        page.text("getComputedStyle(document.body).backgroundColor"),
        "rgb(18, 22, 20)",
        "dark scheme"
    );
    page.screenshot("overview-phone-dark");
    page.visit(&format!("#/group/local/{}", g("warn")), ".partition-chart");
    page.screenshot("group-phone-dark");

    page.assert_clean();
    live.abort();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_groups_list_within_budget() {
    let Some(addr) = service("BURROW_TEST_NOIDA") else {
        return;
    };
    let Some(browser) = browser() else { return };
    let kafka = Kafka::connect(&addr).await;
    let id = format!("{}-{}", std::process::id(), now_ms() % 100_000);
    let topic = format!("many-{id}");
    kafka.topic(&topic, 50).await;
    const GROUPS: usize = 10_000;
    // An offsets topic of this test's own: the other tests' servers on this broker do not read
    // these groups.
    const OFFSETS_PARTITIONS: i32 = 10;
    let offsets_topic = format!("offsets-{id}");
    kafka
        .client
        .create_topic(&offsets_topic, OFFSETS_PARTITIONS, 1)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    kafka.client.refresh_metadata().await.unwrap();
    let now = now_ms();
    // One commit per group, written in one batch per offsets partition.
    type Records = Vec<(Option<Bytes>, Option<Bytes>)>;
    let mut by_partition: BTreeMap<i32, Records> = BTreeMap::new();
    for i in 0..GROUPS {
        let group = format!("{id}-svc-{i:05}");
        let (k, v) = common::commit_record(&group, &topic, (i % 50) as i64, now - 1000);
        by_partition
            .entry(offsets::partition_for_group(&group, OFFSETS_PARTITIONS))
            .or_default()
            .push((Some(Bytes::from(k)), Some(Bytes::from(v))));
    }
    for (p, records) in &by_partition {
        for chunk in records.chunks(500) {
            kafka
                .client
                .produce(&offsets_topic, *p, chunk, Compression::None)
                .await
                .unwrap();
        }
    }
    let dir = std::env::temp_dir().join(format!("burrow-dashboard-many-{id}"));
    let server = Server::start(&dir, &config_reading(&addr, &offsets_topic));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, v) = get_json(server.port, "/v3/kafka/local/consumer").unwrap_or_default();
        let seen = v["consumers"].as_array().map_or(0, |a| {
            a.iter()
                .filter(|g| g.as_str().unwrap_or("").starts_with(&id))
                .count()
        });
        if seen == GROUPS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{seen} of {GROUPS} groups read:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let page = Dashboard::open(&browser, server.port);
    let started = Instant::now();
    let bytes = page.visit(&format!("#/groups?q={id}"), ".row");
    let shown = started.elapsed();
    page.until(
        "count",
        &format!(
            "document.getElementById('count').textContent.startsWith('{}')",
            "10,000"
        ),
    );
    let render_ms: f64 = page
        .text("String(window.__burrowRenderMs)")
        .parse()
        .unwrap();
    eprintln!(
        "10,000 groups: list shown {shown:?} after navigation (data included), filter and draw {render_ms:.1} ms, {bytes:.0} bytes transferred"
    );
    assert!(render_ms < 1000.0, "the list took {render_ms} ms to render");
    assert!(bytes < PAGE_BYTES, "the list transferred {bytes} bytes");
    // Search stays usable at this size.
    page.text(
        "(() => { const q = document.getElementById('q'); q.value = ''; q.focus(); return '' })()",
    );
    page.tab.type_str(&format!("{id}-svc-0999")).unwrap();
    page.until(
        "search",
        "document.getElementById('count').textContent.startsWith('10 of')",
    );
    page.screenshot("groups-10000");
    page.assert_clean();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Behind `auth = "all"` the dashboard answers 401 to a browser without credentials and works
/// with them (every request of the page carries them, as a browser's Basic login does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_behind_authentication() {
    let Some(addr) = service("BURROW_TEST_NOIDA") else {
        return;
    };
    let Some(browser) = browser() else { return };
    let id = format!("{}-{}", std::process::id(), now_ms() % 100_000);
    let hash = bcrypt::hash("night-shift", 4).unwrap();
    let config = config(&addr).replace(
        "[httpserver.default]\naddress = \"127.0.0.1:@PORT@\"\n",
        &format!(
            "[httpserver.default]\naddress = \"127.0.0.1:@PORT@\"\nauth = \"all\"\n[httpserver.default.basic-auth-users]\noncall = \"{hash}\"\n"
        ),
    );
    assert!(config.contains("auth = \"all\""), "{config}");
    let dir = std::env::temp_dir().join(format!("burrow-dashboard-auth-{id}"));
    let server = Server::start(&dir, &config);
    let deadline = Instant::now() + Duration::from_secs(40);
    while common::http(server.port, "GET", "/burrow/admin").map(|r| r.0) != Some(200) {
        assert!(Instant::now() < deadline, "never up:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    let page = Dashboard::open(&browser, server.port);
    // Without credentials the browser gets the Basic challenge: headless, it cannot show the
    // login prompt and fails the navigation (a browser with a window asks).
    let refused = match page.tab.navigate_to(&format!("{}/ui/", page.origin)) {
        Err(e) => e.to_string().contains("AUTH"),
        Ok(tab) => {
            let _ = tab.wait_until_navigated();
            page.text("document.body.innerText")
                .contains("authentication required")
        }
    };
    assert!(refused, "the page opened without credentials");
    let (code, _) = common::http(server.port, "GET", "/ui/api/overview").unwrap();
    assert_eq!(code, 401);
    // Answering the challenge as a person typing into the prompt: the page and its data load.
    page.tab
        .authenticate(Some("oncall".into()), Some("night-shift".into()))
        .unwrap();
    page.tab.enable_fetch(None, Some(true)).unwrap();
    page.visit("", ".card");
    assert_eq!(
        page.text("document.querySelector('.card').dataset.cluster"),
        "local"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
