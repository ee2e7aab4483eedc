//! Tests of reading the configuration.

use super::*;
use serde_json::{json, Value};

#[test]
fn reads_burrow_sections() {
    let c = Config::parse(
        r#"
        [general]
        pidfile = "burrow.pid"
        [storage.mem]
        class-name = "inmemory"
        intervals = 15
        expire-group = 3600
        min-distance = 1
        workers = 4
        group-denylist = "^console-"
        [evaluator.default]
        class-name = "caching"
        expire-cache = 5
        minimum-complete = 0.5
        allowed-lag = 1
        [cluster.local]
        class-name = "kafka"
        servers = ["localhost:9092"]
        [cluster.Remote]
        class-name = "kafka"
        servers = ["kafka01:9092"]
        offset-refresh = 30
        "#,
    )
    .unwrap();
    assert_eq!(
        (
            c.storage.intervals,
            c.storage.expire_group,
            c.storage.min_distance
        ),
        (15, 3600, 1)
    );
    assert_eq!(c.storage_name, "mem");
    assert_eq!(
        (
            c.evaluator.expire_cache,
            c.evaluator.minimum_complete,
            c.evaluator.allowed_lag
        ),
        (5, 0.5, 1)
    );
    // Decision 1: names keep their case.
    assert_eq!(c.clusters, vec!["local", "Remote"]);
    assert_eq!(c.cluster_modules[1].1.offset_refresh.secs(), 30);
    assert_eq!(c.cluster_modules[0].1.topic_refresh.secs(), 60);
}

#[test]
fn zookeeper_tls_profile_is_read_at_the_check() {
    let pki = burrow_testkit::TestPki::new("cli-zk-tls", &["127.0.0.1"]);
    let with = |tls: &str| {
        Config::parse(&format!(
            "[zookeeper]\nservers = [\"z:2281\"]\ntls = \"zk\"\n[tls.zk]\n{tls}"
        ))
    };
    let ca = pki.path("ca.pem").display().to_string();
    let c = with(&format!("cafile = \"{ca}\"")).unwrap();
    assert!(c.zookeeper_tls().unwrap().is_some());
    let err = |tls: &str| format!("{:#}", with(tls).unwrap().zookeeper_tls().unwrap_err());
    assert!(err("").contains("tls.zk.cafile: required"), "{}", err(""));
    // Burrow never reads noverify for ZooKeeper: verified anyway, with a warning.
    let c = with(&format!("cafile = \"{ca}\"\nnoverify = true")).unwrap();
    assert!(c.zookeeper_tls().unwrap().is_some());
    assert_eq!(c.warnings[0].key, "tls.zk.noverify");
    let e = err("cafile = \"/nonexistent/ca.pem\"");
    assert!(e.contains("tls.zk.cafile: /nonexistent/ca.pem"), "{e}");
}

#[test]
fn state_file_keys_are_checked() {
    let dir = std::env::temp_dir();
    let ok = format!(
        "[general]\nstate-file = \"{}/burrow-state.json\"",
        dir.display()
    );
    let c = Config::parse(&ok).unwrap();
    assert_eq!(c.general.state_interval.secs(), 300);
    assert!(c.general.check_files().is_ok());
    let err = |text: &str| match Config::parse(text) {
        Ok(c) => format!("{:#}", c.general.check_files().unwrap_err()),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err("[general]\nstate-file = \"/nonexistent-dir/state.json\"")
            .contains("general.state-file: /nonexistent-dir/state.json: the directory")
    );
    assert!(
        err(&format!("[general]\nstate-file = \"{}\"", dir.display())).contains("is a directory")
    );
    assert!(err("[general]\nstate-interval = 0").contains("general.state-interval"));
}

#[test]
fn email_auth_types_are_the_ones_the_notifier_speaks() {
    let email = |auth: &str| {
        Config::parse(&format!(
            "[zookeeper]\nservers = [\"z:2181\"]\n[notifier.m]\nclass-name = \"email\"\n\
             template-open = \"open.tmpl\"\nserver = \"smtp\"\nport = 587\n\
             from = \"a@example.com\"\nto = \"b@example.com\"\nauth-type = \"{auth}\""
        ))
    };
    for ok in ["", "plain", "PLAIN", "login", "Login"] {
        email(ok).unwrap_or_else(|e| panic!("{ok:?}: {e:#}"));
    }
    let err = format!("{:#}", email("crammd5").unwrap_err());
    assert!(err.contains("notifier.m.auth-type"), "{err}");
    assert!(err.contains("CRAM-MD5 is not supported"), "{err}");
}

#[test]
fn what_burrow_ignores_is_a_warning_naming_the_key() {
    let warnings = |text: &str| -> Vec<String> {
        Config::parse(text)
            .unwrap()
            .warnings
            .iter()
            .map(|w| w.to_string())
            .collect()
    };
    let w = warnings(
        "[storage.s]\nbogus = 1\n[evaluator.e]\ncluster = \"local\"\n[logging]\nlevel = \"loud\"",
    );
    assert!(w[0].starts_with("logging.level: unknown level"), "{w:?}");
    assert!(
        w[1].starts_with("storage.s.bogus: unknown field `bogus`"),
        "{w:?}"
    );
    assert!(w[1].ends_with("; ignored, as Burrow ignores it"), "{w:?}");
    assert!(
        w[2].starts_with("evaluator.e.cluster: unknown field"),
        "{w:?}"
    );
    let w = warnings("[storagee.a]\n[storage.s]\ngroup-whitelist = \"a\"");
    assert!(w[0].starts_with("storagee: unknown section"), "{w:?}");
    assert!(
        w[1].starts_with("storage.s.group-whitelist: renamed"),
        "{w:?}"
    );
    let c = Config::parse("[storage.s]\ngroup-whitelist = \"^a\"").unwrap();
    assert_eq!(c.storage.group_allowlist, "^a");
}

#[test]
fn errors_name_the_key() {
    let err = |text: &str| format!("{:#}", Config::parse(text).unwrap_err());
    assert!(err("[storage.s]\nintervals = \"ten\"").contains("storage.s.intervals"));
    assert!(err("[evaluator.e]\nallowed-lag = -1").contains("evaluator.e.allowed-lag"));
    assert!(err("[evaluator.e]\nminimum-complete = 2.0").contains("evaluator.e.minimum-complete"));
    assert!(err("[storage.s]\ngroup-allowlist = \"(\"").contains("storage.s.group-allowlist"));
    assert!(err("[storage.a]\n[storage.b]").contains("only one storage module"));
    assert!(err("storage = 1").contains("storage: must be a table"));
    let cluster = "[cluster.local]\nclass-name = \"kafka\"\nservers = [\"k:9092\"]\n";
    assert!(err(&format!("{cluster}[consumer.c]\nclass-name = \"kafka\"\ncluster = \"Local\"\nservers = [\"k:9092\"]")).contains("consumer.c.cluster: no [cluster.Local] section"));
    assert!(err(&format!("{cluster}[consumer.c]\nclass-name = \"kafka\"\ncluster = \"local\"\nservers = [\"k:9092\"]\nclient-profile = \"nope\"")).contains("consumer.c.client-profile: no [client-profile.nope]"));
    assert!(
        err("[cluster.c]\nclass-name = \"kafka\"\nservers = [\"k\"]").contains("cluster.c.servers")
    );
    assert!(
        err("[cluster.c]\nclass-name = \"kafka\"\nservers = [\"k:1\"]\noffset-refresh = 0")
            .contains("cluster.c.offset-refresh")
    );
    assert!(
        err("[cluster.c]\nclass-name = \"kafak\"\nservers = [\"k:1\"]")
            .contains("cluster.c.class-name")
    );
    assert!(err("[httpserver.h]\naddress = \"nope\"").contains("httpserver.h.address"));
    assert!(err("[httpserver.h]\naddress = \":80\"\ntls = \"t\"")
        .contains("httpserver.h.tls: no [tls.t]"));
    // Profiles are converted (and so checked) once, with the server's settings.
    let unknown_version = Config::parse("[client-profile.p]\nkafka-version = \"9.x\"").unwrap();
    let e = crate::Settings::from_config(unknown_version, &crate::Extensions::default())
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(e.contains("client-profile.p.kafka-version"), "{e}");
    assert!(err("[notifier.n]\nclass-name = \"slack\"").contains("notifier.n.class-name"));
}

#[test]
fn environment_overrides_keys_of_present_sections() {
    let text =
        "[cluster.local]\nclass-name = \"kafka\"\nservers = [\"k:9092\"]\n[storage.default]\n";
    let env = vars(&[
        ("BURROW_CLUSTER_LOCAL_OFFSET_REFRESH", "30"),
        ("BURROW_CLUSTER_LOCAL_SERVERS", "a:1 b:2"),
        ("BURROW_STORAGE_DEFAULT_INTERVALS", "20"),
        ("BURROW_GENERAL_PIDFILE", "/run/burrow.pid"),
        ("BURROW_CLUSTER_OTHER_OFFSET_REFRESH", "1"),
        ("BURROW_CLUSTER_LOCAL_OFSET_REFRESH", "1"),
        ("PATH", "/usr/bin"),
    ]);
    let c = Config::parse_with_env(text, &env).unwrap();
    assert_eq!(c.cluster_modules[0].1.offset_refresh.secs(), 30);
    assert_eq!(c.cluster_modules[0].1.servers, vec!["a:1", "b:2"]);
    assert_eq!(c.storage.intervals, 20);
    assert_eq!(c.general.pidfile, "/run/burrow.pid");
    assert_eq!(c.clusters, vec!["local"], "overrides never create modules");
    // Variables with the prefix that set nothing are reported (a typo, a missing section).
    assert_eq!(
        c.env.unknown,
        [
            "BURROW_CLUSTER_LOCAL_OFSET_REFRESH",
            "BURROW_CLUSTER_OTHER_OFFSET_REFRESH"
        ]
    );
    let bad = vars(&[("BURROW_STORAGE_DEFAULT_INTERVALS", "many")]);
    let e = format!("{:#}", Config::parse_with_env(text, &bad).unwrap_err());
    assert!(
        e.starts_with(
            "BURROW_STORAGE_DEFAULT_INTERVALS (environment override of storage.default.intervals)"
        ),
        "{e}"
    );
    // A value out of range names the variable, not only the key.
    let far = vars(&[("BURROW_CLUSTER_LOCAL_OFFSET_REFRESH", "9223372036854775807")]);
    let e = format!("{:#}", Config::parse_with_env(text, &far).unwrap_err());
    assert!(
        e.contains("BURROW_CLUSTER_LOCAL_OFFSET_REFRESH (environment override of cluster.local.offset-refresh): must be between 1 and"),
        "{e}"
    );
    let zero = vars(&[("BURROW_STORAGE_DEFAULT_INTERVALS", "0")]);
    let e = format!("{:#}", Config::parse_with_env(text, &zero).unwrap_err());
    assert!(e.starts_with("BURROW_STORAGE_DEFAULT_INTERVALS (environment override of storage.default.intervals): "), "{e}");
    let prefixed = "[general]\nenv-var-prefix = \"lag\"\n";
    let env = vars(&[("LAG_GENERAL_PIDFILE", "x.pid")]);
    assert_eq!(
        Config::parse_with_env(prefixed, &env)
            .unwrap()
            .general
            .pidfile,
        "x.pid"
    );
}

fn vars(pairs: &[(&str, &str)]) -> Environment {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_without_sections() {
    let c = Config::parse("").unwrap();
    assert_eq!(c.storage.intervals, 10);
    assert!(!c.storage_configured);
    assert_eq!(c.evaluator.expire_cache, 10);
    assert!(c.clusters.is_empty());
    assert_eq!(c.general.pidfile, "burrow.pid");
    assert_eq!(c.logging.level, "info");
}

#[test]
fn example_config_views_match_burrows_samples() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(dir.join("tests/fixtures/burrow-example.toml")).unwrap();
    let c = Config::parse(&text).unwrap();
    let view = c.view();
    let sample = |name: &str| -> Value {
        let p = dir.join("../burrow-http/tests/samples").join(name);
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let main = sample("get-v3-config.json");
    for k in ["general", "logging", "zookeeper", "httpserver"] {
        assert_eq!(view.main[k], main[k], "{k}");
    }
    let keys: Vec<&String> = view.main.keys().collect();
    assert_eq!(keys, ["general", "logging", "zookeeper", "httpserver"]);
    assert_eq!(
        view.storage[0].1,
        sample("get-v3-config-storage-detail.json")["module"]
    );
    assert_eq!(
        view.notifier[0].1,
        sample("get-v3-config-notifier-http-detail.json")["module"]
    );
    let mut cluster = sample("get-v3-kafka-cluster.json")["module"].clone();
    cluster["servers"] = json!(c.cluster_modules[0].1.servers);
    assert_eq!(view.cluster[0].1, cluster);
    let mut consumer = sample("get-v3-config-consumer-detail.json")["module"].clone();
    consumer["servers"] = json!(c.consumers[0].1.servers);
    consumer["group-allowlist"] = json!("");
    assert_eq!(view.consumer[0].1, consumer);
    let names: Vec<&str> = view.consumer.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["local", "local_zk"], "file order");
}

#[test]
fn tls_and_sasl_profiles_show_without_password() {
    let c = Config::parse(
        r#"
        [tls.mytls]
        cafile = "/etc/burrow/ca.pem"
        certfile = "/etc/burrow/client.pem"
        keyfile = "/etc/burrow/client.key"
        [sasl.mysasl]
        username = "burrow"
        password = "hunter2"
        [client-profile.secure]
        client-id = "burrow"
        tls = "mytls"
        sasl = "mysasl"
        [cluster.local]
        class-name = "kafka"
        servers = ["k:9092"]
        client-profile = "secure"
        "#,
    )
    .unwrap();
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let p = dir
        .join("../burrow-http/tests/samples/get-v3-kafka-cluster-tls-sasl-profile-fragment.json");
    let want: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    let view = c.view();
    assert_eq!(view.cluster[0].1["client-profile"], want);
    assert!(!view.cluster[0].1.to_string().contains("hunter2"));
}

#[test]
fn serve_defaults_take_environment_overrides() {
    let c = Config::serve_defaults(&Environment::new()).unwrap();
    assert_eq!(c.clusters, ["local"]);
    assert_eq!(c.consumers[0].1.servers, ["localhost:9092"]);
    assert_eq!(c.httpservers[0].1.address, "127.0.0.1:8000");
    let env = vars(&[
        ("BURROW_CLUSTER_LOCAL_SERVERS", "kafka:9092"),
        ("BURROW_CONSUMER_LOCAL_SERVERS", "kafka:9092"),
        ("BURROW_CLUSTR_LOCAL_SERVERS", "typo:1"),
    ]);
    let c = Config::serve_defaults(&env).unwrap();
    assert_eq!(c.cluster_modules[0].1.servers, ["kafka:9092"]);
    assert_eq!(c.env.unknown, ["BURROW_CLUSTR_LOCAL_SERVERS"]);
}
