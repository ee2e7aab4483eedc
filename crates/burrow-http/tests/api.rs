//! Every route of the API against golden bodies (`tests/golden/`, regenerate with
//! `UPDATE_GOLDEN=1`), and the shape of every body (field names, order, JSON types) against
//! Burrow's samples (`tests/samples/`, copied from the spec).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::Method;
use serde_json::{json, Value};

use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent, ConsumerOwnerEvent, StorageEvent};
use burrow_eval::{CachingEvaluator, EvaluatorConfig};
use burrow_http::{Api, ConfigView, FixedLogLevel, LogLevel, MetricsExporter, Readiness};
use burrow_storage::{Storage, StorageConfig};

const NOW_MS: i64 = 1_700_000_730_000;

fn clock() -> i64 {
    NOW_MS
}

/// A store like the samples': group `my-group` on topic `orders` (2 partitions; partition 1 only
/// pads the topic), with a window whose lag grows (WARN).
fn fixture() -> (Api, Readiness, Arc<MetricsExporter>) {
    let storage = Arc::new(
        Storage::new(
            StorageConfig {
                intervals: 10,
                ..StorageConfig::default()
            },
            ["local"],
        )
        .unwrap(),
    );
    let apply = |now: i64, e: StorageEvent| assert!(storage.apply(now, &e).is_applied(), "{e:?}");
    let broker = |p: i32, offset: i64, ts: i64| {
        StorageEvent::BrokerOffset(BrokerOffsetEvent {
            cluster: "local".into(),
            topic: "orders".into(),
            partition: p,
            partition_count: 2,
            offset,
            timestamp: ts,
        })
    };
    apply(NOW_MS, broker(1, 2301, 1_700_000_390_000));
    let commits = [(2218, 12), (2230, 14), (2245, 15), (2251, 20), (2260, 22)];
    for (i, (offset, lag)) in commits.iter().enumerate() {
        let ts = 1_700_000_400_000 + i as i64 * 60_000;
        apply(ts, broker(0, offset + lag, ts - 1000));
        apply(
            ts,
            StorageEvent::ConsumerOffset(ConsumerOffsetEvent {
                cluster: "local".into(),
                group: "my-group".into(),
                topic: "orders".into(),
                partition: 0,
                offset: *offset,
                order: i as i64,
                timestamp: ts,
            }),
        );
    }
    apply(NOW_MS, broker(0, 2290, NOW_MS - 5000));
    apply(
        NOW_MS,
        StorageEvent::ConsumerOwner(ConsumerOwnerEvent {
            cluster: "local".into(),
            group: "my-group".into(),
            topic: "orders".into(),
            partition: 0,
            owner: "/10.1.2.3".into(),
            client_id: "consumer-my-group-1".into(),
        }),
    );
    let evaluator =
        Arc::new(CachingEvaluator::new(storage.clone(), EvaluatorConfig::default()).unwrap());
    let sample = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(samples().join(name)).unwrap()).unwrap()
    };
    let module = |name: &str| sample(name)["module"].clone();
    let mut main = serde_json::Map::new();
    for k in ["general", "logging", "zookeeper", "httpserver"] {
        main.insert(k.into(), sample("get-v3-config.json")[k].clone());
    }
    let mut notifier = module("get-v3-config-notifier-http-detail.json");
    notifier["extra"]["api_key"] = json!("xoxb-secret");
    let config = ConfigView {
        main,
        storage: vec![(
            "default".into(),
            module("get-v3-config-storage-detail.json"),
        )],
        evaluator: vec![(
            "default".into(),
            module("get-v3-config-evaluator-detail.json"),
        )],
        cluster: vec![("local".into(), module("get-v3-kafka-cluster.json"))],
        consumer: vec![("local".into(), module("get-v3-config-consumer-detail.json"))],
        notifier: vec![("default".into(), notifier)],
    };
    let readiness = Readiness::new();
    let exporter = Arc::new(MetricsExporter::new(
        storage.clone(),
        evaluator.clone(),
        prometheus::Registry::new(),
    ));
    let api = Api::builder(storage, evaluator)
        .config(config)
        .readiness(readiness.clone())
        .log_level(Arc::new(FixedLogLevel::new(LogLevel::Info)))
        .metrics(exporter.clone())
        .host("burrow-01.example.com")
        .clock(clock)
        .build();
    (api, readiness, exporter)
}

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/samples")
}

struct Reply {
    status: u16,
    content_type: String,
    headers: hyper::HeaderMap,
    body: String,
}

fn call(api: &Api, method: Method, path: &str, body: &str) -> Reply {
    let resp = api.respond(&method, path, body.as_bytes());
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = futures_body(resp.into_body());
    Reply {
        status,
        content_type,
        headers,
        body: String::from_utf8(bytes).unwrap(),
    }
}

fn futures_body(body: http_body_util::Full<bytes::Bytes>) -> Vec<u8> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(body.collect())
        .unwrap()
        .to_bytes()
        .to_vec()
}

/// Field names in order and JSON types, recursively; arrays by their first element; values of
/// keys that name data (topic names) are compared by shape too.
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(a) => match a.iter().find(|x| !x.is_null()) {
            Some(x) => json!([shape(x)]),
            None => json!([]),
        },
        Value::Object(m) => {
            let keys: Vec<Value> = m.iter().map(|(k, v)| json!([k, shape(v)])).collect();
            Value::Array(keys)
        }
    }
}

/// Compares shapes, treating an empty array or a null on either side as compatible.
fn same_shape(ours: &Value, theirs: &Value, at: &str) {
    match (ours, theirs) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(x), Some(y)) = (
                a.iter().find(|x| !x.is_null()),
                b.iter().find(|x| !x.is_null()),
            ) {
                same_shape(x, y, &format!("{at}[]"));
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let ka: Vec<&String> = a.keys().collect();
            let kb: Vec<&String> = b.keys().collect();
            assert_eq!(ka, kb, "field names or order differ at {at}");
            for (k, v) in a {
                same_shape(v, &b[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(shape(ours), shape(theirs), "type differs at {at}"),
    }
}

fn golden(name: &str, reply: &Reply) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let text = format!("{} {}\n{}", reply.status, reply.content_type, reply.body);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing golden {name}; run with UPDATE_GOLDEN=1"));
    assert_eq!(text, want, "golden {name}");
}

#[test]
fn every_route_matches_its_golden_body_and_burrows_shape() {
    let (api, _, _) = fixture();
    // (method, path, body, sample whose shape the reply must have, expected status, golden)
    type Case<'a> = (Method, &'a str, &'a str, Option<&'a str>, u16, &'a str);
    let cases: &[Case<'_>] = &[
        (
            Method::GET,
            "/v3/kafka",
            "",
            Some("get-v3-kafka.json"),
            200,
            "clusters.json",
        ),
        (
            Method::GET,
            "/v3/kafka/local",
            "",
            Some("get-v3-kafka-cluster.json"),
            200,
            "cluster.json",
        ),
        (
            Method::GET,
            "/v3/kafka/nocluster",
            "",
            Some("get-v3-kafka-cluster-notfound.json"),
            404,
            "cluster-notfound.json",
        ),
        (
            Method::GET,
            "/v3/kafka/local/topic",
            "",
            Some("get-v3-kafka-topic-list.json"),
            200,
            "topics.json",
        ),
        (
            Method::GET,
            "/v3/kafka/nocluster/topic",
            "",
            Some("error-generic-404.json"),
            404,
            "topics-notfound.json",
        ),
        (
            Method::GET,
            "/v3/kafka/local/topic/orders",
            "",
            Some("get-v3-kafka-topic-detail.json"),
            200,
            "topic.json",
        ),
        (
            Method::GET,
            "/v3/kafka/local/topic/nope",
            "",
            Some("get-v3-kafka-topic-detail-notfound.json"),
            404,
            "topic-notfound.json",
        ),
        (
            Method::GET,
            "/v3/kafka/local/topic/orders/consumers",
            "",
            Some("get-v3-kafka-topic-consumers.json"),
            200,
            "topic-consumers.json",
        ),
        (
            Method::GET,
            "/v3/kafka/local/topic/nope/consumers",
            "",
            Some("get-v3-kafka-topic-consumers.json"),
            200,
            "topic-consumers-unknown-topic.json",
        ),
        (
            Method::GET,
            "/v3/kafka/local/consumer",
            "",
            Some("get-v3-kafka-consumer-list.json"),
            200,
            "consumers.json",
        ),
        (
            Method::GET,
            "/v3/kafka/nocluster/consumer",
            "",
            Some("error-generic-404.json"),
            404,
            "consumers-notfound.json",
        ),
        (
            Method::GET,
            "/v3/kafka/local/consumer/my-group",
            "",
            Some("get-v3-kafka-consumer-detail.json"),
            200,
            "consumer.json",
        ),
        (
            Method::GET,
            "/v3/kafka/local/consumer/nogroup",
            "",
            Some("get-v3-kafka-consumer-detail-notfound.json"),
            404,
            "consumer-notfound.json",
        ),
        (
            Method::GET,
            "/v3/kafka/local/consumer/my-group/status",
            "",
            Some("get-v3-kafka-consumer-status.json"),
            200,
            "status.json",
        ),
        (
            Method::GET,
            "/v3/kafka/local/consumer/my-group/lag",
            "",
            Some("get-v3-kafka-consumer-lag.json"),
            200,
            "lag.json",
        ),
        (
            Method::GET,
            "/v3/kafka/local/consumer/nogroup/status",
            "",
            Some("get-v3-kafka-consumer-status-notfound.json"),
            404,
            "status-notfound.json",
        ),
        (
            Method::GET,
            "/v3/kafka/local/consumer/nogroup/lag",
            "",
            Some("get-v3-kafka-consumer-status-notfound.json"),
            404,
            "lag-notfound.json",
        ),
        (
            Method::GET,
            "/v3/config",
            "",
            Some("get-v3-config.json"),
            200,
            "config.json",
        ),
        (
            Method::GET,
            "/v3/config/storage",
            "",
            Some("get-v3-config-module-list.json"),
            200,
            "config-storage-list.json",
        ),
        (
            Method::GET,
            "/v3/config/storage/default",
            "",
            Some("get-v3-config-storage-detail.json"),
            200,
            "config-storage.json",
        ),
        (
            Method::GET,
            "/v3/config/evaluator/default",
            "",
            Some("get-v3-config-evaluator-detail.json"),
            200,
            "config-evaluator.json",
        ),
        (
            Method::GET,
            "/v3/config/cluster/local",
            "",
            Some("get-v3-kafka-cluster.json"),
            200,
            "config-cluster.json",
        ),
        (
            Method::GET,
            "/v3/config/consumer/local",
            "",
            Some("get-v3-config-consumer-detail.json"),
            200,
            "config-consumer.json",
        ),
        (
            Method::GET,
            "/v3/config/consumer",
            "",
            Some("get-v3-config-module-list.json"),
            200,
            "config-consumer-list.json",
        ),
        (
            Method::GET,
            "/v3/config/notifier/default",
            "",
            Some("get-v3-config-notifier-http-detail.json"),
            200,
            "config-notifier.json",
        ),
        (
            Method::GET,
            "/v3/config/notifier/nope",
            "",
            Some("get-v3-config-module-notfound.json"),
            404,
            "config-notifier-notfound.json",
        ),
        (
            Method::GET,
            "/v3/admin/loglevel",
            "",
            Some("get-v3-admin-loglevel.json"),
            200,
            "loglevel.json",
        ),
        (
            Method::POST,
            "/v3/admin/loglevel",
            "{\"level\": \"nope\"}",
            Some("post-v3-admin-loglevel-unknown.json"),
            404,
            "loglevel-unknown.json",
        ),
        (
            Method::POST,
            "/v3/admin/loglevel",
            "level=debug",
            Some("post-v3-admin-loglevel-badbody.json"),
            400,
            "loglevel-badbody.json",
        ),
        (Method::GET, "/burrow/admin", "", None, 200, "admin.txt"),
        (
            Method::GET,
            "/no/such/route",
            "",
            None,
            404,
            "unknown-route.txt",
        ),
    ];
    for (method, path, body, sample, status, name) in cases {
        let reply = call(&api, method.clone(), path, body);
        assert_eq!(reply.status, *status, "{method} {path}: {}", reply.body);
        golden(name, &reply);
        if let Some(sample) = sample {
            assert_eq!(reply.content_type, "application/json", "{path}");
            let ours: Value = serde_json::from_str(&reply.body).unwrap();
            let theirs: Value =
                serde_json::from_str(&std::fs::read_to_string(samples().join(sample)).unwrap())
                    .unwrap();
            same_shape(&ours, &theirs, &format!("{method} {path}"));
        }
    }
}

#[test]
fn samples_with_exact_bodies() {
    let (api, readiness, _) = fixture();
    let text = |name: &str| std::fs::read_to_string(samples().join(name)).unwrap();
    assert_eq!(
        call(&api, Method::GET, "/no/such/route", "").body,
        text("unknown-route-404.txt")
    );
    let unknown = call(&api, Method::GET, "/no/such/route", "");
    assert_eq!(unknown.content_type, "text/plain; charset=utf-8");
    assert_eq!(
        call(&api, Method::GET, "/burrow/admin", "").body,
        text("get-burrow-admin.txt").trim_end()
    );
    let starting = call(&api, Method::GET, "/burrow/admin/ready", "");
    assert_eq!((starting.status, starting.body.as_str()), (503, "STARTING"));
    readiness.set(true);
    let ready = call(&api, Method::GET, "/burrow/admin/ready", "");
    assert_eq!(
        (ready.status, ready.body.as_str()),
        (200, text("get-burrow-admin-ready.txt").trim_end())
    );
    // Bodies whose data the fixture reproduces exactly.
    for (path, sample) in [
        ("/v3/kafka", "get-v3-kafka.json"),
        ("/v3/kafka/local", "get-v3-kafka-cluster.json"),
        (
            "/v3/kafka/local/consumer/nogroup/status",
            "get-v3-kafka-consumer-status-notfound.json",
        ),
        ("/v3/kafka/nocluster/consumer", "error-generic-404.json"),
        ("/v3/config", "get-v3-config.json"),
        (
            "/v3/config/storage/default",
            "get-v3-config-storage-detail.json",
        ),
        (
            "/v3/config/notifier/nope",
            "get-v3-config-module-notfound.json",
        ),
        ("/v3/admin/loglevel", "get-v3-admin-loglevel.json"),
        (
            "/v3/kafka/local/topic/orders",
            "get-v3-kafka-topic-detail.json",
        ),
    ] {
        let body = call(&api, Method::GET, path, "").body;
        let ours: Value = serde_json::from_str(&body).unwrap();
        let theirs: Value = serde_json::from_str(&text(sample)).unwrap();
        assert_eq!(ours, theirs, "{path}");
        // Byte for byte: Go's json.Marshal, compact, no trailing newline.
        assert_eq!(body, serde_json::to_string(&theirs).unwrap(), "{path}");
    }
}

#[test]
fn notfound_status_is_404_with_error_false_and_lag_keys_keep_both_spellings() {
    let (api, _, _) = fixture();
    let r = call(
        &api,
        Method::GET,
        "/v3/kafka/local/consumer/nogroup/status",
        "",
    );
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (r.status, &v["error"], &v["status"]["status"]),
        (404, &json!(false), &json!("NOTFOUND"))
    );
    let detail = call(&api, Method::GET, "/v3/kafka/local/consumer/my-group", "").body;
    assert!(
        detail.contains("\"current-lag\":30") && !detail.contains("current_lag"),
        "{detail}"
    );
    let lag = call(
        &api,
        Method::GET,
        "/v3/kafka/local/consumer/my-group/lag",
        "",
    )
    .body;
    assert!(
        lag.contains("\"current_lag\":30") && !lag.contains("current-lag"),
        "{lag}"
    );
    let v: Value = serde_json::from_str(&lag).unwrap();
    assert_eq!(v["status"]["status"], "WARN");
    assert_eq!(v["status"]["partitions"].as_array().unwrap().len(), 2);
    let status: Value = serde_json::from_str(
        &call(
            &api,
            Method::GET,
            "/v3/kafka/local/consumer/my-group/status",
            "",
        )
        .body,
    )
    .unwrap();
    assert_eq!(
        status["status"]["partitions"].as_array().unwrap().len(),
        1,
        "only partitions above OK"
    );
    assert_eq!(status["status"]["partition_count"], 2);
}

#[test]
fn routing_rules_of_httprouter() {
    let (api, _, _) = fixture();
    let r = call(&api, Method::POST, "/v3/kafka", "");
    assert_eq!((r.status, r.body.as_str()), (405, "Method Not Allowed\n"));
    assert!(r
        .headers
        .get("allow")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("GET"));
    assert_eq!(r.headers.get("allow").unwrap(), "GET, OPTIONS");
    let r = call(&api, Method::GET, "/v3/kafka/", "");
    assert_eq!(r.status, 301);
    assert_eq!(r.headers.get("location").unwrap(), "/v3/kafka");
    // net/http's Redirect body and content type, as Go Burrow sends them.
    assert_eq!(r.content_type, "text/html; charset=utf-8");
    assert_eq!(r.body, "<a href=\"/v3/kafka\">Moved Permanently</a>.\n\n");
    let r = call(
        &api,
        Method::DELETE,
        "/v3/kafka/local/consumer/my-group/topic/orders/",
        "",
    );
    assert_eq!((r.status, r.body.as_str()), (307, ""));
    // The path fixed: cleaned and its fixed segments in their case (parameters as given).
    let r = call(
        &api,
        Method::GET,
        "/V3//KAFKA/local/Consumer/my-group/./lag",
        "",
    );
    assert_eq!(r.status, 301);
    assert_eq!(
        r.headers.get("location").unwrap(),
        "/v3/kafka/local/consumer/my-group/lag"
    );
    // OPTIONS: 200, Allow sorted with OPTIONS, no body.
    let r = call(&api, Method::OPTIONS, "/v3/admin/loglevel", "");
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    assert_eq!(r.headers.get("allow").unwrap(), "GET, OPTIONS, POST");
    let r = call(
        &api,
        Method::OPTIONS,
        "/v3/kafka/local/consumer/my-group",
        "",
    );
    assert_eq!(r.headers.get("allow").unwrap(), "DELETE, GET, OPTIONS");
    // A path with a trailing slash only GET has: no redirect for DELETE.
    let r = call(&api, Method::DELETE, "/v3/kafka/", "");
    assert_eq!(r.status, 404);
    // Percent-encoded names are decoded before matching, as Go's URL.Path is.
    let r = call(
        &api,
        Method::GET,
        "/v3/kafka/local/consumer/my%2Dgroup/lag",
        "",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn delete_and_loglevel_change_state() {
    let (api, _, _) = fixture();
    let r = call(
        &api,
        Method::POST,
        "/v3/admin/loglevel",
        "{\"level\": \"WARNING\"}",
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body.trim_end(),
        serde_json::to_string(
            &serde_json::from_str::<Value>(
                &std::fs::read_to_string(samples().join("post-v3-admin-loglevel.json")).unwrap()
            )
            .unwrap()
        )
        .unwrap()
    );
    let v: Value =
        serde_json::from_str(&call(&api, Method::GET, "/v3/admin/loglevel", "").body).unwrap();
    assert_eq!(v["level"], "warn");
    let r = call(
        &api,
        Method::DELETE,
        "/v3/kafka/local/consumer/my-group",
        "",
    );
    let v: Value = serde_json::from_str(&r.body).unwrap();
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(samples().join("delete-v3-kafka-consumer.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(v, sample);
    assert_eq!(
        call(&api, Method::GET, "/v3/kafka/local/consumer/my-group", "").status,
        404
    );
    // Unknown groups: still 200 (fire and forget).
    assert_eq!(
        call(&api, Method::DELETE, "/v3/kafka/local/consumer/ghost", "").status,
        200
    );
}

#[test]
fn notifier_secrets_are_redacted() {
    let (api, _, _) = fixture();
    let body = call(&api, Method::GET, "/v3/config/notifier/default", "").body;
    assert!(!body.contains("xoxb-secret"), "{body}");
    assert!(body.contains("\"api_key\":\"REDACTED\"") && body.contains("\"app\":\"burrow\""));
}

#[test]
fn metrics_follow_burrows_names_and_rules() {
    let (api, _, exporter) = fixture();
    exporter.refresh(NOW_MS).unwrap();
    let r = call(&api, Method::GET, "/metrics", "");
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/plain; version=0.0.4"));
    golden("metrics.txt", &r);
    let m = &r.body;
    assert!(
        m.contains(
            "burrow_kafka_consumer_lag_total{cluster=\"local\",consumer_group=\"my-group\"} 30\n"
        ),
        "{m}"
    );
    assert!(m.contains(
        "burrow_kafka_consumer_status{cluster=\"local\",consumer_group=\"my-group\"} 2\n"
    ));
    assert!(m.contains("burrow_kafka_consumer_partition_lag{cluster=\"local\",consumer_group=\"my-group\",partition=\"1\",topic=\"orders\"} 0\n"));
    // current_offset and partition_status only for complete partitions (partition 0 is 5/10).
    assert!(!m.contains("burrow_kafka_consumer_current_offset{"));
    assert!(m.contains("burrow_kafka_topic_partition_offset{cluster=\"local\",partition=\"1\",topic=\"orders\"} 2301\n"));
    assert!(m.contains("# HELP burrow_kafka_consumer_status The status of the consumer group. It is calculated from the highest status for the individual partitions. Statuses are an index list from NOTFOUND, OK, WARN, or ERR\n"));
    // A deleted group's series disappear at the next refresh.
    call(
        &api,
        Method::DELETE,
        "/v3/kafka/local/consumer/my-group",
        "",
    );
    exporter.refresh(NOW_MS + 20_000).unwrap();
    let m = call(&api, Method::GET, "/metrics", "").body;
    assert!(!m.contains("my-group"), "{m}");
}

#[test]
fn cors_header_when_configured() {
    let storage = Arc::new(Storage::new(StorageConfig::default(), ["local"]).unwrap());
    let evaluator =
        Arc::new(CachingEvaluator::new(storage.clone(), EvaluatorConfig::default()).unwrap());
    let api = Api::builder(storage, evaluator)
        .allow_origin(Some("mysite.example.com".into()))
        .build();
    for path in ["/v3/kafka", "/burrow/admin"] {
        let r = call(&api, Method::GET, path, "");
        assert_eq!(
            r.headers.get("access-control-allow-origin").unwrap(),
            "mysite.example.com",
            "{path}"
        );
    }
}
