//! The dashboard's files and data without a browser: headers (same-origin policy, gzip,
//! validators), the `/ui/api/*` bodies against storage, and lag in time estimated from the end
//! offsets where the record's timestamp is not known.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::Method;
use serde_json::Value;

use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent, StorageEvent};
use burrow_eval::{CachingEvaluator, EvaluatorConfig};
use burrow_http::{Api, LagSeconds};
use burrow_storage::{Storage, StorageConfig};

const NOW_MS: i64 = 1_700_000_730_000;

fn clock() -> i64 {
    NOW_MS
}

/// `growing` (WARN: lag up at every commit) and `caught-up` (OK) on `orders`; end offsets
/// every minute from 100 at 1_700_000_400 s, 10 messages a minute.
fn storage() -> Arc<Storage> {
    let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
    let apply = |now: i64, e: StorageEvent| assert!(storage.apply(now, &e).is_applied(), "{e:?}");
    for i in 0..6 {
        let ts = 1_700_000_400_000 + i * 60_000;
        let end = 100 + i * 10;
        apply(
            ts,
            StorageEvent::BrokerOffset(BrokerOffsetEvent {
                cluster: "local".into(),
                topic: "orders".into(),
                partition: 0,
                partition_count: 1,
                offset: end,
                timestamp: ts,
            }),
        );
        for (group, offset) in [("growing", 90 + i * 2), ("caught-up", end)] {
            apply(
                ts + 1000,
                StorageEvent::ConsumerOffset(ConsumerOffsetEvent {
                    cluster: "local".into(),
                    group: group.into(),
                    topic: "orders".into(),
                    partition: 0,
                    offset,
                    order: i,
                    timestamp: ts + 1000,
                }),
            );
        }
    }
    storage
}

fn api(lag_seconds: Option<LagSeconds>) -> Api {
    let storage = storage();
    let evaluator =
        Arc::new(CachingEvaluator::new(storage.clone(), EvaluatorConfig::default()).unwrap());
    let mut b = Api::builder(storage, evaluator).host("test").clock(clock);
    if let Some(s) = lag_seconds {
        b = b.lag_seconds(BTreeSet::from(["local".to_string()]), s);
    }
    b.build()
}

async fn get(
    api: &Api,
    path: &str,
    headers: &[(&'static str, &'static str)],
) -> (u16, HeaderMap, Vec<u8>) {
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let mut h = HeaderMap::new();
    for (k, v) in headers {
        h.insert(*k, HeaderValue::from_static(v));
    }
    let resp = api
        .respond_dashboard(&Method::GET, path, query, &h)
        .unwrap_or_else(|| panic!("{path} is not the dashboard's"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

async fn data(api: &Api, path: &str) -> (u16, Value) {
    let (status, headers, body) = get(api, path, &[]).await;
    assert_eq!(headers["content-type"], "application/json");
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn the_page_and_its_files_are_served_same_origin_only() {
    let api = api(None);
    let (status, headers, body) = get(&api, "/ui/", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(
        csp.contains("connect-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(String::from_utf8(body).unwrap().contains("app.js"));
    // The same file under its name; the others with their types.
    assert_eq!(get(&api, "/ui/index.html", &[]).await.0, 200);
    for (file, kind) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let (status, headers, _) = get(&api, &format!("/ui/{file}"), &[]).await;
        assert_eq!(
            (status, headers["content-type"].to_str().unwrap()),
            (200, kind)
        );
    }
    // /ui goes to /ui/; a missing file is a 404; other paths are not the dashboard's.
    let (status, headers, _) = get(&api, "/ui", &[]).await;
    assert_eq!(
        (status, headers["location"].to_str().unwrap()),
        (301, "/ui/")
    );
    assert_eq!(get(&api, "/ui/nothing.js", &[]).await.0, 404);
    assert!(api
        .respond_dashboard(&Method::GET, "/v3/kafka", None, &HeaderMap::new())
        .is_none());
    let post = api
        .respond_dashboard(&Method::POST, "/ui/", None, &HeaderMap::new())
        .unwrap();
    assert_eq!(post.status(), 405);
}

#[tokio::test]
async fn files_are_gzipped_for_clients_that_take_it_and_revalidated_by_etag() {
    let api = api(None);
    let (_, plain_headers, plain) = get(&api, "/ui/app.js", &[]).await;
    assert!(plain_headers.get("content-encoding").is_none());
    let (_, headers, gz) = get(&api, "/ui/app.js", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["vary"], "Accept-Encoding");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);
    assert!(
        gz.len() < plain.len() / 2,
        "{} of {}",
        gz.len(),
        plain.len()
    );
    let etag = headers["etag"].to_str().unwrap().to_string();
    let etag: &'static str = Box::leak(etag.into_boxed_str());
    let (status, _, body) = get(&api, "/ui/app.js", &[("if-none-match", etag)]).await;
    assert_eq!((status, body.len()), (304, 0));
}

#[tokio::test]
async fn the_overview_counts_and_lists_every_group() {
    let api = api(None);
    let (status, v) = data(&api, "/ui/api/overview").await;
    assert_eq!(status, 200);
    let cluster = &v["clusters"][0];
    assert_eq!(cluster["name"], "local");
    assert_eq!(cluster["groups"], 2);
    assert_eq!(cluster["topics"], 1);
    assert_eq!(cluster["by_status"]["WARN"], 1);
    assert_eq!(cluster["by_status"]["OK"], 1);
    assert_eq!(cluster["broker_offsets_at"], 1_700_000_700_000i64);
    assert_eq!(cluster["last_commit_at"], 1_700_000_701_000i64);
    let rows = v["groups"].as_array().unwrap();
    let growing = rows.iter().find(|r| r[1] == "growing").unwrap();
    // [cluster index, group, status, total lag, seconds, estimated, partitions]
    assert_eq!(growing[0], 0);
    assert_eq!(growing[2], "WARN");
    assert_eq!(growing[3], 50);
    assert_eq!(growing[5], 1, "no record source: estimated");
    assert_eq!(growing[6], 1);
}

#[tokio::test]
async fn a_group_has_its_windows_and_an_estimated_lag_in_time() {
    let api = api(None);
    let (status, v) = data(&api, "/ui/api/group?cluster=local&group=growing").await;
    assert_eq!(status, 200);
    assert_eq!(v["summary"]["status"], "WARN");
    assert_eq!(v["summary"]["totallag"], 50);
    let p = &v["partitions"][0];
    assert_eq!(p["commits"].as_array().unwrap().len(), 6);
    assert_eq!(
        p["commits"][5],
        serde_json::json!([1_700_000_701_000i64, 100, 50])
    );
    assert_eq!(p["broker"].as_array().unwrap().len(), 6);
    // The next record is offset 100, written when the end offset went to 101: a tenth of the
    // way from 100 (at 400 s) to 110 (at 460 s), so at 406 s; 324 s before 730 s.
    assert_eq!(p["lag_seconds_estimate"], "interpolated");
    assert_eq!(p["lag_seconds"], 324.0);
    // Consumes 10 in 300 s, produces 50 in 300 s: not draining.
    assert_eq!(p["drain"], "not_draining");
    assert_eq!(p["drain_seconds"], Value::Null);
    let (_, ok) = data(&api, "/ui/api/group?cluster=local&group=caught-up").await;
    assert_eq!(ok["summary"]["lag_seconds"], 0.0);
    assert_eq!(ok["summary"]["drain"], "caught_up");
    assert_eq!(
        data(&api, "/ui/api/group?cluster=local&group=none").await.0,
        404
    );
    assert_eq!(data(&api, "/ui/api/group?cluster=local").await.0, 400);
    assert_eq!(data(&api, "/ui/api/nothing").await.0, 404);
}

#[tokio::test]
async fn a_topic_has_its_partitions_and_consumers() {
    let api = api(None);
    let (status, v) = data(&api, "/ui/api/topic?cluster=local&topic=orders").await;
    assert_eq!(status, 200);
    assert_eq!(v["partitions"][0]["end"], 150);
    assert_eq!(v["partitions"][0]["broker"].as_array().unwrap().len(), 6);
    let consumers = v["consumers"].as_array().unwrap();
    assert_eq!(consumers.len(), 2);
    let growing = consumers.iter().find(|c| c["group"] == "growing").unwrap();
    assert_eq!(growing["topic_status"], "WARN");
    assert_eq!(growing["partition_lag"], serde_json::json!([50]));
    assert_eq!(
        data(&api, "/ui/api/topic?cluster=local&topic=x").await.0,
        404
    );
}

/// With `lag-seconds`, `/v3` bodies give the record's seconds where known and the estimate,
/// marked, where not.
#[tokio::test]
async fn lag_bodies_mark_estimates() {
    let unknown: LagSeconds = Arc::new(|_, _, _, _, _, _| None);
    let api = api(Some(unknown));
    let resp = api.respond(&Method::GET, "/v3/kafka/local/consumer/growing/lag", b"");
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap();
    let p = &v["status"]["partitions"][0];
    assert_eq!(p["lag_seconds"], 324);
    assert_eq!(p["lag_seconds_estimate"], "interpolated");
    assert_eq!(v["status"]["lag_seconds_estimate"], "interpolated");
    assert_eq!(v["status"]["drain"], "not_draining");

    let known: LagSeconds = Arc::new(|_, _, _, _, _, _| Some(12.5));
    let api = self::api(Some(known));
    let resp = api.respond(&Method::GET, "/v3/kafka/local/consumer/growing/lag", b"");
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status"]["partitions"][0]["lag_seconds"], 12.5);
    assert_eq!(
        v["status"]["partitions"][0]["lag_seconds_estimate"],
        Value::Null
    );
}
