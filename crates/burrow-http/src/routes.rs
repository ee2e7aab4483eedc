//! Routing and handlers: Burrow's httprouter table, answered without a socket.

use std::sync::OnceLock;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ACCESS_CONTROL_ALLOW_ORIGIN, ALLOW, CONTENT_TYPE, LOCATION};
use hyper::{Method, Response, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};

use burrow_core::{ConsumerGroupStatus, ConsumerTopics, DeleteGroupEvent, Status};

use crate::router::{self, Miss};
use crate::timing::{partition_timing, status_partition_timing, PartitionWindow, Timing};
use crate::{Api, LogLevel};
use burrow_eval::timing::EstimateKind;

/// The response type of every handler.
pub type HttpResponse = Response<Full<Bytes>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Admin,
    Ready,
    Metrics,
    Clusters,
    Cluster,
    Topics,
    Topic,
    TopicConsumers,
    Consumers,
    Consumer,
    ConsumerStatus,
    ConsumerLag,
    ConsumerTopic,
    Config,
    ConfigList(Kind),
    ConfigModule(Kind),
    LogLevel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Storage,
    Evaluator,
    Cluster,
    Consumer,
    Notifier,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Storage => "storage",
            Kind::Evaluator => "evaluator",
            Kind::Cluster => "cluster",
            Kind::Consumer => "consumer",
            Kind::Notifier => "notifier",
        }
    }
}

/// Every path, with the methods it answers.
fn table() -> Vec<(&'static str, Route, &'static [Method])> {
    const GET: &[Method] = &[Method::GET];
    const GET_DELETE: &[Method] = &[Method::GET, Method::DELETE];
    const DELETE: &[Method] = &[Method::DELETE];
    const GET_POST: &[Method] = &[Method::GET, Method::POST];
    let mut t = vec![
        ("/burrow/admin", Route::Admin, GET),
        ("/burrow/admin/ready", Route::Ready, GET),
        ("/metrics", Route::Metrics, GET),
        ("/v3/kafka", Route::Clusters, GET),
        ("/v3/kafka/{cluster}", Route::Cluster, GET),
        ("/v3/kafka/{cluster}/topic", Route::Topics, GET),
        ("/v3/kafka/{cluster}/topic/{topic}", Route::Topic, GET),
        (
            "/v3/kafka/{cluster}/topic/{topic}/consumers",
            Route::TopicConsumers,
            GET,
        ),
        ("/v3/kafka/{cluster}/consumer", Route::Consumers, GET),
        (
            "/v3/kafka/{cluster}/consumer/{consumer}",
            Route::Consumer,
            GET_DELETE,
        ),
        (
            "/v3/kafka/{cluster}/consumer/{consumer}/status",
            Route::ConsumerStatus,
            GET,
        ),
        (
            "/v3/kafka/{cluster}/consumer/{consumer}/lag",
            Route::ConsumerLag,
            GET,
        ),
        (
            "/v3/kafka/{cluster}/consumer/{consumer}/topic/{topic}",
            Route::ConsumerTopic,
            DELETE,
        ),
        ("/v3/config", Route::Config, GET),
        ("/v3/admin/loglevel", Route::LogLevel, GET_POST),
    ];
    for (list, module, kind) in [
        (
            "/v3/config/storage",
            "/v3/config/storage/{name}",
            Kind::Storage,
        ),
        (
            "/v3/config/evaluator",
            "/v3/config/evaluator/{name}",
            Kind::Evaluator,
        ),
        (
            "/v3/config/cluster",
            "/v3/config/cluster/{name}",
            Kind::Cluster,
        ),
        (
            "/v3/config/consumer",
            "/v3/config/consumer/{name}",
            Kind::Consumer,
        ),
        (
            "/v3/config/notifier",
            "/v3/config/notifier/{name}",
            Kind::Notifier,
        ),
    ] {
        t.push((list, Route::ConfigList(kind), GET));
        t.push((module, Route::ConfigModule(kind), GET));
    }
    t
}

type Router = matchit::Router<(Route, &'static [Method])>;

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let mut r = Router::new();
        for (path, route, methods) in table() {
            // The table is fixed and has no conflicting paths (checked by a test).
            let _ = r.insert(path, (route, methods));
        }
        r
    })
}

#[derive(Serialize)]
struct RequestInfo<'a> {
    url: &'a str,
    host: &'a str,
}

/// Body of `/status` and `/lag`: serialized straight from the evaluation, no JSON tree.
#[derive(Serialize)]
struct StatusBody<'a> {
    error: bool,
    message: &'static str,
    status: &'a ConsumerGroupStatus,
    request: RequestInfo<'a>,
}

/// [`StatusBody`] of a cluster with `lag-seconds`: the status with `lag_seconds` added.
#[derive(Serialize)]
struct StatusBodyWithLag<'a> {
    error: bool,
    message: &'static str,
    status: StatusWithLag<'a>,
    request: RequestInfo<'a>,
}

/// Seconds behind, as Go prints a float64 (`12`, `12.345`), to the millisecond.
#[derive(Debug, Clone, Copy)]
struct Seconds(f64);

impl Serialize for Seconds {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let seconds = burrow_eval::timing::to_millisecond(self.0);
        if seconds.fract() == 0.0 && seconds.abs() < 9e12 {
            serializer.serialize_i64(seconds as i64)
        } else {
            serializer.serialize_f64(seconds)
        }
    }
}

/// A partition's lag in time and drain, as the bodies of a `lag-seconds` cluster show them
/// after Burrow's fields.
#[derive(Serialize)]
struct TimingFields {
    lag_seconds: Option<Seconds>,
    lag_seconds_estimate: Option<EstimateKind>,
    drain: &'static str,
    drain_seconds: Option<Seconds>,
}

impl From<Timing> for TimingFields {
    fn from(t: Timing) -> Self {
        TimingFields {
            lag_seconds: t.seconds.map(Seconds),
            lag_seconds_estimate: t.estimate,
            drain: t.drain.state(),
            drain_seconds: t.drain.seconds().map(Seconds),
        }
    }
}

/// A partition status with its lag in time after Burrow's fields.
#[derive(Serialize)]
struct PartitionWithLag<'a> {
    #[serde(flatten)]
    partition: &'a burrow_core::PartitionStatus,
    #[serde(flatten)]
    timing: TimingFields,
}

/// A group status with the lag in time of each partition and of the group (its largest).
#[derive(Serialize)]
struct StatusWithLag<'a> {
    cluster: &'a str,
    group: &'a str,
    status: Status,
    #[serde(serialize_with = "burrow_core::serialize_go_f32")]
    complete: f32,
    partitions: Vec<PartitionWithLag<'a>>,
    partition_count: usize,
    maxlag: Option<PartitionWithLag<'a>>,
    totallag: u64,
    #[serde(flatten)]
    timing: TimingFields,
}

impl<'a> StatusWithLag<'a> {
    /// `s` as shown (all partitions, or those above OK), the group's value over `all` of its
    /// partitions.
    fn new(
        s: &'a ConsumerGroupStatus,
        all: &[burrow_core::PartitionStatus],
        timing: impl Fn(&burrow_core::PartitionStatus) -> Timing,
    ) -> Self {
        // Each partition's timing once, shown or not.
        let known: std::collections::HashMap<(&str, i32), Timing> = all
            .iter()
            .map(|p| ((p.topic.as_str(), p.partition), timing(p)))
            .collect();
        let with = |p: &'a burrow_core::PartitionStatus| PartitionWithLag {
            partition: p,
            timing: known
                .get(&(p.topic.as_str(), p.partition))
                .copied()
                .unwrap_or_else(|| timing(p))
                .into(),
        };
        let partitions: Vec<PartitionWithLag<'a>> = s.partitions.iter().map(with).collect();
        let group = Timing::of_group(known.values().copied());
        StatusWithLag {
            cluster: &s.cluster,
            group: &s.group,
            status: s.status,
            complete: s.complete,
            partitions,
            partition_count: s.partition_count,
            maxlag: s.maxlag.as_ref().map(with),
            totallag: s.totallag,
            timing: group.into(),
        }
    }
}

/// [`DetailBody`] of a cluster with `lag-seconds`: each partition with its `lag_seconds`.
#[derive(Serialize)]
struct DetailBodyWithLag<'a> {
    error: bool,
    message: &'static str,
    topics: TopicsWithLag<'a>,
    request: RequestInfo<'a>,
}

/// A partition of the detail body with its lag in time after Burrow's fields.
#[derive(Serialize)]
struct DetailPartitionWithLag<'a> {
    #[serde(flatten)]
    partition: &'a burrow_core::ConsumerPartition,
    #[serde(flatten)]
    timing: TimingFields,
}

/// The detail body's topics with the lag in seconds of each partition.
#[derive(Serialize)]
#[serde(transparent)]
struct TopicsWithLag<'a>(std::collections::BTreeMap<&'a str, Vec<DetailPartitionWithLag<'a>>>);

impl<'a> TopicsWithLag<'a> {
    fn new(
        topics: &'a ConsumerTopics,
        timing: impl Fn(&str, i32, &burrow_core::ConsumerPartition) -> Timing,
    ) -> Self {
        TopicsWithLag(
            topics
                .iter()
                .map(|(topic, parts)| {
                    let parts = parts
                        .iter()
                        .enumerate()
                        .map(|(i, part)| DetailPartitionWithLag {
                            partition: part,
                            timing: timing(topic, i as i32, part).into(),
                        })
                        .collect();
                    (topic.as_str(), parts)
                })
                .collect(),
        )
    }
}

#[derive(Serialize)]
struct DetailBody<'a> {
    error: bool,
    message: &'static str,
    topics: &'a ConsumerTopics,
    request: RequestInfo<'a>,
}

/// Keys of notifier `extras` whose values are never shown.
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["key", "token", "secret", "pass", "auth", "credential"]
        .iter()
        .any(|s| k.contains(s))
}

impl Api {
    /// A request refused before it reached its route (a body too large, or not received within
    /// the listener's timeout): Burrow's JSON error object where the path names a route, Go's
    /// plain-text error elsewhere.
    pub fn refuse(&self, code: StatusCode, message: &str, path: &str) -> HttpResponse {
        let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
        if router().at(decoded.as_ref()).is_err() {
            return plain(code, format!("{message}\n"));
        }
        let req = RequestInfo {
            url: path,
            host: &self.inner.host,
        };
        self.error(code, message, &req)
    }

    /// A request refused for want of valid credentials (burrow-rs's `auth`), in Burrow's error
    /// shape: 401 with `challenge` as `WWW-Authenticate`, or 403 for a client that is known but
    /// not let in.
    pub fn deny(&self, why: crate::Refusal, path: &str, challenge: &'static str) -> HttpResponse {
        let req = RequestInfo {
            url: path,
            host: &self.inner.host,
        };
        if why.forbidden() {
            return self.error(StatusCode::FORBIDDEN, "forbidden", &req);
        }
        let mut resp = self.error(StatusCode::UNAUTHORIZED, "authentication required", &req);
        resp.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
        resp
    }

    /// Answers one request: `path` is the URL path (percent-encoded as received), `body` the
    /// request body (read only by `POST /v3/admin/loglevel`).
    pub fn respond(&self, method: &Method, path: &str, body: &[u8]) -> HttpResponse {
        self.respond_to(method, path, None, body)
    }

    /// [`Self::respond`] with the request's query string, which a redirect keeps.
    pub fn respond_to(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        body: &[u8],
    ) -> HttpResponse {
        let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
        let path = decoded.as_ref();
        let router = router();
        let found = match router.at(path) {
            Ok(found) if found.value.1.contains(method) => found,
            _ => return self.miss(method, path, query),
        };
        let (route, _) = *found.value;
        let p = |name: &str| found.params.get(name).unwrap_or_default();
        let req = RequestInfo {
            url: path,
            host: &self.inner.host,
        };
        let inner = &self.inner;
        match route {
            Route::Admin => self.text(StatusCode::OK, "GOOD"),
            Route::Ready => match inner.readiness.unavailable() {
                Some(reason) => self.text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("UNAVAILABLE: {reason}"),
                ),
                None if inner.readiness.is_ready() => self.text(StatusCode::OK, "READY"),
                None => self.text(StatusCode::SERVICE_UNAVAILABLE, "STARTING"),
            },
            Route::Metrics => match &inner.metrics {
                Some(m) => {
                    let mut resp = Response::new(Full::new(m.scrape()));
                    resp.headers_mut().insert(
                        CONTENT_TYPE,
                        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                    );
                    resp
                }
                None => self.error(StatusCode::NOT_FOUND, "metrics are not enabled", &req),
            },
            Route::Clusters => {
                let clusters = inner.storage.fetch_clusters();
                self.ok(json!({"error": false, "message": "cluster list returned", "clusters": clusters, "request": req}))
            }
            Route::Cluster => self.module(Kind::Cluster, p("cluster"), &req),
            Route::Topics => match inner.storage.fetch_topics(p("cluster")) {
                Some(topics) => self.ok(json!({"error": false, "message": "topic list returned", "topics": topics, "request": req})),
                None => self.error(StatusCode::NOT_FOUND, "cluster not found", &req),
            },
            Route::Topic => match inner.storage.fetch_topic(p("cluster"), p("topic")) {
                Some(offsets) => self.ok(json!({"error": false, "message": "topic offsets returned", "offsets": offsets, "request": req})),
                None => self.error(StatusCode::NOT_FOUND, "cluster or topic not found", &req),
            },
            Route::TopicConsumers => {
                match inner.storage.fetch_consumers_for_topic(p("cluster"), p("topic")) {
                    Some(groups) => self.ok(json!({"error": false, "message": "consumers of topic returned", "consumers": groups, "request": req})),
                    None => self.error(StatusCode::NOT_FOUND, "cluster not found", &req),
                }
            }
            Route::Consumers => match inner.storage.fetch_consumers(p("cluster")) {
                Some(groups) => self.ok(json!({"error": false, "message": "consumer list returned", "consumers": groups, "request": req})),
                None => self.error(StatusCode::NOT_FOUND, "cluster not found", &req),
            },
            Route::Consumer if *method == Method::DELETE => {
                self.delete(p("cluster"), p("consumer"), None, &req)
            }
            Route::Consumer => {
                let now = (inner.clock)();
                let cluster = p("cluster");
                let Some(topics) = inner.storage.fetch_consumer(now, cluster, p("consumer")) else {
                    return self.error(StatusCode::NOT_FOUND, "cluster or consumer not found", &req);
                };
                match inner.lag_seconds.as_ref().filter(|(_, c)| c.contains(cluster)) {
                    Some((seconds, _)) => {
                        let histories = inner.storage.broker_histories(cluster, topics.keys().map(String::as_str));
                        self.serialize(
                        StatusCode::OK,
                        &DetailBodyWithLag {
                            error: false,
                            message: "consumer detail returned",
                            topics: TopicsWithLag::new(&topics, |topic, partition, part| {
                                let window = PartitionWindow {
                                    topic,
                                    partition,
                                    first: part.offsets.iter().flatten().next(),
                                    last: part.offsets.iter().flatten().last(),
                                    lag: part.current_lag,
                                };
                                partition_timing(now, cluster, &window, Some(seconds), &histories)
                            }),
                            request: req,
                        },
                    )
                    }
                    None => self.serialize(
                        StatusCode::OK,
                        &DetailBody {
                            error: false,
                            message: "consumer detail returned",
                            topics: &topics,
                            request: req,
                        },
                    ),
                }
            }
            Route::ConsumerTopic => {
                self.delete(p("cluster"), p("consumer"), Some(p("topic")), &req)
            }
            Route::ConsumerStatus | Route::ConsumerLag => {
                let now = (inner.clock)();
                let (cluster, group) = (p("cluster"), p("consumer"));
                let evaluation = inner.evaluator.evaluation(now, cluster, group);
                let filtered;
                let status: &ConsumerGroupStatus = match (&evaluation, route) {
                    (Some(s), Route::ConsumerLag) => s,
                    (Some(s), _) => {
                        filtered = s.without_ok_partitions();
                        &filtered
                    }
                    (None, _) => {
                        filtered = ConsumerGroupStatus::not_found(cluster, group);
                        &filtered
                    }
                };
                // NOTFOUND: 404 with error=false and the full status object (Burrow's reply).
                let code = if status.status == Status::NotFound {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::OK
                };
                match inner.lag_seconds.as_ref().filter(|(_, c)| c.contains(cluster)) {
                    Some((seconds, _)) => {
                        let all = evaluation.as_ref().map_or(&[][..], |e| &e.partitions);
                        let histories = inner.storage.broker_histories(cluster, all.iter().map(|p| p.topic.as_str()));
                        self.serialize(
                        code,
                        &StatusBodyWithLag {
                            error: false,
                            message: "consumer status returned",
                            status: StatusWithLag::new(
                                status,
                                all,
                                |p| status_partition_timing(now, cluster, p, Some(seconds), &histories),
                            ),
                            request: req,
                        },
                    )
                    }
                    None => self.serialize(
                        code,
                        &StatusBody {
                            error: false,
                            message: "consumer status returned",
                            status,
                            request: req,
                        },
                    ),
                }
            }
            Route::Config => {
                let mut body = serde_json::Map::new();
                body.insert("error".into(), Value::Bool(false));
                body.insert("message".into(), "main config returned".into());
                body.insert("request".into(), json!(req));
                for (k, v) in &inner.config.main {
                    body.insert(k.clone(), v.clone());
                }
                self.ok(Value::Object(body))
            }
            Route::ConfigList(kind) => {
                let names: Vec<&str> = self.modules(kind).iter().map(|(n, _)| n.as_str()).collect();
                self.ok(json!({"error": false, "message": "module list returned", "request": req, "coordinator": kind.name(), "modules": names}))
            }
            Route::ConfigModule(kind) => self.module(kind, p("name"), &req),
            Route::LogLevel if *method == Method::POST => {
                #[derive(serde::Deserialize)]
                struct Body {
                    level: String,
                }
                match serde_json::from_slice::<Body>(body) {
                    Err(_) => self.error(StatusCode::BAD_REQUEST, "could not decode message body", &req),
                    Ok(b) => match LogLevel::parse(&b.level) {
                        None => self.error(StatusCode::NOT_FOUND, "unknown log level", &req),
                        Some(level) => {
                            inner.log_level.set_level(level);
                            tracing::info!(level = level.as_str(), "log level set through the API");
                            self.ok(json!({"error": false, "message": "set log level", "request": req}))
                        }
                    },
                }
            }
            Route::LogLevel => {
                let level = inner.log_level.level().as_str();
                self.ok(json!({"error": false, "message": "log level returned", "level": level, "request": req}))
            }
        }
    }

    fn modules(&self, kind: Kind) -> &[(String, Value)] {
        let c = &self.inner.config;
        match kind {
            Kind::Storage => &c.storage,
            Kind::Evaluator => &c.evaluator,
            Kind::Cluster => &c.cluster,
            Kind::Consumer => &c.consumer,
            Kind::Notifier => &c.notifier,
        }
    }

    fn module(&self, kind: Kind, name: &str, req: &RequestInfo<'_>) -> HttpResponse {
        let Some((_, module)) = self.modules(kind).iter().find(|(n, _)| n == name) else {
            let message = format!("{} module not found", kind.name());
            return self.error(StatusCode::NOT_FOUND, &message, req);
        };
        let mut module = module.clone();
        if kind == Kind::Notifier {
            if let Some(Value::Object(extra)) = module.get_mut("extra") {
                for (k, v) in extra.iter_mut() {
                    if is_secret_key(k) {
                        *v = Value::String("REDACTED".into());
                    }
                }
            }
        }
        let message = format!("{} module detail returned", kind.name());
        self.ok(json!({"error": false, "message": message, "module": module, "request": req}))
    }

    fn delete(
        &self,
        cluster: &str,
        group: &str,
        topic: Option<&str>,
        req: &RequestInfo<'_>,
    ) -> HttpResponse {
        let _ = self.inner.storage.delete_group(&DeleteGroupEvent {
            cluster: cluster.to_string(),
            group: group.to_string(),
            topic: topic.map(str::to_string),
        });
        self.ok(json!({"error": false, "message": "consumer group removed", "request": req}))
    }

    /// A request no route takes as it is: Go Burrow's router's redirects, OPTIONS, 405 or 404
    /// ([`crate::router`]).
    fn miss(&self, method: &Method, path: &str, query: Option<&str>) -> HttpResponse {
        match router::miss(&Table, method, path) {
            Miss::Redirect(to) => {
                let mut location = router::escape_path(&to);
                if let Some(q) = query {
                    location.push('?');
                    location.push_str(q);
                }
                redirect(method, &location)
            }
            Miss::Options(allow) => {
                let mut resp = Response::new(Full::new(Bytes::new()));
                if let Ok(v) = HeaderValue::from_str(&allow) {
                    resp.headers_mut().insert(ALLOW, v);
                }
                resp
            }
            Miss::NotAllowed(allow) => {
                let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
                if let Ok(v) = HeaderValue::from_str(&allow) {
                    resp.headers_mut().insert(ALLOW, v);
                }
                resp
            }
            // Go's http.Error: plain text, no CORS header.
            Miss::NotFound => plain(
                StatusCode::NOT_FOUND,
                "{\"error\":true,\"message\":\"invalid request type\",\"result\":{}}\n",
            ),
        }
    }

    fn error(&self, code: StatusCode, message: &str, req: &RequestInfo<'_>) -> HttpResponse {
        self.serialize(
            code,
            &json!({"error": true, "message": message, "request": req}),
        )
    }

    fn ok(&self, body: Value) -> HttpResponse {
        self.serialize(StatusCode::OK, &body)
    }

    fn serialize<T: Serialize>(&self, code: StatusCode, body: &T) -> HttpResponse {
        // Go Burrow: json.Marshal, the bytes as they are (no newline).
        let (code, bytes) = match crate::go_json::to_vec(body) {
            Ok(b) => (code, b),
            Err(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                b"{\"error\":true,\"message\":\"could not encode JSON\",\"result\":{}}".to_vec(),
            ),
        };
        let mut resp = Response::new(Full::new(Bytes::from(bytes)));
        *resp.status_mut() = code;
        resp.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.cors(&mut resp);
        resp
    }

    fn text(&self, code: StatusCode, body: impl Into<Bytes>) -> HttpResponse {
        let mut resp = plain(code, body);
        self.cors(&mut resp);
        resp
    }

    fn cors(&self, resp: &mut HttpResponse) {
        if let Some(origin) = &self.inner.allow_origin {
            if let Ok(v) = HeaderValue::from_str(origin) {
                resp.headers_mut().insert(ACCESS_CONTROL_ALLOW_ORIGIN, v);
            }
        }
    }
}

/// The route table as Go's router sees it ([`crate::router`]).
struct Table;

impl router::Routes for Table {
    fn methods_at(&self, path: &str) -> Option<&'static [Method]> {
        router().at(path).ok().map(|m| m.value.1)
    }
    fn patterns(&self) -> Vec<(router::Pattern, &'static [Method])> {
        table().into_iter().map(|(p, _, m)| (p, m)).collect()
    }
}

/// `net/http`'s `Redirect` as httprouter calls it: 301 for GET, 307 otherwise; a GET gets the
/// small HTML body, a HEAD its content type only.
fn redirect(method: &Method, location: &str) -> HttpResponse {
    let (code, text) = if *method == Method::GET {
        (StatusCode::MOVED_PERMANENTLY, "Moved Permanently")
    } else {
        (StatusCode::TEMPORARY_REDIRECT, "Temporary Redirect")
    };
    let body = if *method == Method::GET {
        Bytes::from(router::redirect_body(location, text))
    } else {
        Bytes::new()
    };
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = code;
    if let Ok(l) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(LOCATION, l);
    }
    if *method == Method::GET || *method == Method::HEAD {
        resp.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
    }
    resp
}

/// A `text/plain` answer.
pub(crate) fn plain(code: StatusCode, body: impl Into<Bytes>) -> HttpResponse {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = code;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_no_conflicts() {
        let mut r = Router::new();
        for (path, route, methods) in table() {
            r.insert(path, (route, methods))
                .unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }

    #[test]
    fn seconds_print_as_go_prints_a_float64_to_the_millisecond() {
        let s = |v: f64| serde_json::to_string(&Seconds(v)).unwrap();
        assert_eq!(s(12.0), "12");
        assert_eq!(s(0.0), "0");
        assert_eq!(s(551.2345), "551.235");
        assert_eq!(s(0.1), "0.1");
    }

    #[test]
    fn secret_keys() {
        assert!(is_secret_key("api_key"));
        assert!(is_secret_key("Slack-Token"));
        assert!(!is_secret_key("app"));
        assert!(!is_secret_key("fabric"));
    }
}
