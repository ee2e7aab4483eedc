//! The configuration as Burrow's `/v3/config` endpoints show it: Burrow's key names and
//! values, no passwords.

use serde_json::{json, Value};

use burrow_kafka::ClientProfile;
use burrow_notify::NotifierConfig;

use super::Config;

impl Config {
    /// The client-profile object of the config endpoints (no password).
    fn profile_view(&self, name: &str) -> Value {
        let default = ClientProfile::default();
        let p = self.client_profiles.get(name).unwrap_or(&default);
        let tls = self.tls.get(&p.tls).map_or(Value::Null, |t| {
            json!({"name": p.tls, "noverify": t.noverify, "certfile": t.certfile, "keyfile": t.keyfile, "cafile": t.cafile})
        });
        let sasl = self.sasl.get(&p.sasl).map_or(Value::Null, |s| {
            json!({"name": p.sasl, "handshake-first": s.handshake_first, "username": s.username})
        });
        json!({"name": name, "client-id": p.client_id, "kafka-version": p.kafka_version, "tls": tls, "sasl": sasl})
    }

    /// The configuration as the HTTP config endpoints show it.
    pub fn view(&self) -> burrow_http::ConfigView {
        let mut main = serde_json::Map::new();
        main.insert(
            "general".into(),
            json!({
                "pidfile": self.general.pidfile,
                "stdout-logfile": self.general.stdout_logfile,
                "access-control-allow-origin": self.general.access_control_allow_origin,
            }),
        );
        let l = &self.logging;
        main.insert("logging".into(), json!({
            "filename": l.filename, "max-size": l.maxsize, "max-backups": l.maxbackups, "max-age": l.maxage,
            "use-local-time": l.use_localtime, "use-compression": l.use_compression, "level": l.level,
        }));
        let zk = self.zookeeper.clone().unwrap_or_default();
        main.insert(
            "zookeeper".into(),
            json!({"servers": zk.servers, "timeout": zk.timeout, "root-path": zk.root_path}),
        );
        let mut http = serde_json::Map::new();
        for (name, h) in &self.httpservers {
            http.insert(
                name.clone(),
                json!({"address": h.address, "tls": h.tls, "timeout": h.timeout}),
            );
        }
        main.insert("httpserver".into(), Value::Object(http));
        burrow_http::ConfigView {
            main,
            storage: vec![(self.storage_name.clone(), json!({
                "class-name": self.storage.class_name, "intervals": self.storage.intervals,
                "min-distance": self.storage.min_distance, "group-allowlist": self.storage.group_allowlist,
                "expire-group": self.storage.expire_group,
            }))],
            evaluator: vec![(self.evaluator_name.clone(), json!({
                "class-name": self.evaluator.class_name, "expire-cache": self.evaluator.expire_cache,
            }))],
            cluster: self.cluster_modules.iter().map(|(name, c)| (name.clone(), json!({
                "class-name": c.class_name, "servers": c.servers, "client-profile": self.profile_view(&c.client_profile),
                "topic-refresh": c.topic_refresh, "offset-refresh": c.offset_refresh,
            }))).collect(),
            consumer: self.consumers.iter().map(|(name, c)| {
                let zk_timeout = if c.class_name == "kafka_zk" { c.zookeeper_timeout.secs() } else { 0 };
                (name.clone(), json!({
                    "class-name": c.class_name, "cluster": c.cluster, "servers": c.servers,
                    "group-allowlist": c.group_allowlist, "zookeeper-path": c.zookeeper_path,
                    "zookeeper-timeout": zk_timeout, "client-profile": self.profile_view(&c.client_profile),
                    "offsets-topic": c.offsets_topic, "start-latest": c.start_latest,
                }))
            }).collect(),
            notifier: self.notifiers.iter().map(|(name, n)| (name.clone(), notifier_view(n))).collect(),
        }
    }
}

fn notifier_view(n: &NotifierConfig) -> Value {
    let noverify = n.noverify.map(|b| b.to_string()).unwrap_or_default();
    let mut v = json!({
        "class-name": n.class_name, "group-allowlist": n.group_allowlist, "interval": n.interval,
        "threshold": n.threshold,
    });
    let Value::Object(m) = &mut v else { return v };
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    match n.class_name.as_str() {
        "http" => {
            put("timeout", json!(n.timeout));
            put("keepalive", json!(n.keepalive));
            put("url-open", json!(n.url_open));
            put("url-close", json!(n.url_close));
            put("method-open", json!(n.method_open));
            put("method-close", json!(n.method_close));
            put("template-open", json!(n.template_open));
            put("template-close", json!(n.template_close));
            put("extra", json!(n.extras));
            put("send-close", json!(n.send_close));
            put("extra-ca", json!(n.extra_ca));
            put("noverify", json!(noverify));
        }
        "email" => {
            put("template-open", json!(n.template_open));
            put("template-close", json!(n.template_close));
            put("extra", json!(n.extras));
            put("send-close", json!(n.send_close));
            put("server", json!(n.server));
            put("port", json!(n.port));
            put("auth-type", json!(n.auth_type));
            put("username", json!(n.username));
            put("from", json!(n.from));
            put("to", json!(n.to));
            put("extra-ca", json!(n.extra_ca));
            put("noverify", json!(noverify));
        }
        _ => {
            put("template-open", json!(n.template_open));
            put("template-close", json!(n.template_close));
            put("extra", json!(n.extras));
            put("send-close", json!(n.send_close));
        }
    }
    v
}
