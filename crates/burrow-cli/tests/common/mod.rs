//! Shared by the broker tests of this crate.
#![allow(dead_code)]

pub mod browser;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use burrow_kafka::offsets;
use burrow_kafka::{ClientConfig, Compression, KafkaClient};
use bytes::Bytes;

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[allow(unused_imports)] // each test binary uses its own part of this module
pub use burrow_testkit::{brokers, service};

/// A test broker with `__consumer_offsets` (created with 50 partitions where missing), and the
/// writes a group coordinator would make.
pub struct Kafka {
    /// The client.
    pub client: KafkaClient,
    /// Partitions of `__consumer_offsets`.
    pub partitions: i32,
}

impl Kafka {
    pub async fn connect(addr: &str) -> Kafka {
        let client = KafkaClient::connect(&[addr.to_string()], ClientConfig::default())
            .await
            .unwrap();
        if !client.metadata().topics.contains_key("__consumer_offsets") {
            client
                .create_topic("__consumer_offsets", 50, 1)
                .await
                .unwrap();
        }
        let partitions = client.refresh_metadata().await.unwrap().topics["__consumer_offsets"]
            .partitions
            .len() as i32;
        Kafka { client, partitions }
    }

    /// A one-partition topic holding `n` records (one per batch: tansu miscounts multi-record
    /// batches).
    pub async fn topic(&self, name: &str, n: usize) {
        self.client.create_topic(name, 1, 1).await.unwrap();
        for _ in 0..60 {
            if self
                .client
                .refresh_metadata()
                .await
                .unwrap()
                .leader(name, 0)
                .is_some()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.produce(name, n).await;
    }

    pub async fn produce(&self, topic: &str, n: usize) {
        for _ in 0..n {
            self.produce_at(topic, now_ms()).await;
        }
    }

    /// One record with create time `timestamp` (ms) on partition 0.
    pub async fn produce_at(&self, topic: &str, timestamp: i64) {
        self.client
            .produce_at(
                topic,
                0,
                &[(None, Some(Bytes::from_static(b"x")))],
                Compression::None,
                timestamp,
            )
            .await
            .unwrap();
    }

    /// Writes an offset commit for `group` where Kafka would: its `__consumer_offsets` partition.
    pub async fn commit(&self, group: &str, topic: &str, offset: i64, timestamp: i64) {
        let (k, v) = commit_record(group, topic, offset, timestamp);
        self.write(group, k, Some(v)).await;
    }

    /// An offset commit of `group` in an offsets topic of the test's own with `partitions`
    /// partitions, in the group's partition there.
    pub async fn commit_to(
        &self,
        offsets_topic: &str,
        partitions: i32,
        (group, topic, offset, timestamp): (&str, &str, i64, i64),
    ) {
        let (k, v) = commit_record(group, topic, offset, timestamp);
        self.client
            .produce(
                offsets_topic,
                offsets::partition_for_group(group, partitions),
                &[(Some(Bytes::from(k)), Some(Bytes::from(v)))],
                Compression::None,
            )
            .await
            .unwrap();
    }

    pub async fn write(&self, group: &str, key: Vec<u8>, value: Option<Vec<u8>>) {
        let p = offsets::partition_for_group(group, self.partitions);
        self.client
            .produce(
                "__consumer_offsets",
                p,
                &[(Some(Bytes::from(key)), value.map(Bytes::from))],
                Compression::None,
            )
            .await
            .unwrap();
    }

    /// Group metadata: one member owning partition 0 of `topic`.
    pub async fn owner(&self, group: &str, topic: &str) {
        let (k, v) = offsets::one_member_group_record(
            group,
            topic,
            &[0],
            "client-1",
            "/127.0.0.1",
            now_ms(),
        )
        .unwrap();
        self.write(group, k, Some(v)).await;
    }
}

/// The key and value of an offset commit of `group` on partition 0 of `topic`.
pub fn commit_record(group: &str, topic: &str, offset: i64, timestamp: i64) -> (Vec<u8>, Vec<u8>) {
    offsets::commit_record(group, topic, 0, offset, timestamp).unwrap()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.1 request; returns status and body.
pub fn http(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let status = raw.split(' ').nth(1)?.parse().ok()?;
    let body = raw.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

pub fn get_json(port: u16, path: &str) -> Option<(u16, Value)> {
    let (status, body) = http(port, "GET", path)?;
    Some((status, serde_json::from_str(&body).ok()?))
}

pub struct Server {
    /// The process.
    pub child: Child,
    /// Its HTTP port.
    pub port: u16,
    /// Its directory (config, log).
    pub dir: PathBuf,
}

impl Server {
    pub fn start(dir: &Path, config: &str) -> Server {
        Self::start_with_env(dir, config, &[])
    }

    /// [`Server::start`] with environment variables for the server process.
    pub fn start_with_env(dir: &Path, config: &str, env: &[(&str, &str)]) -> Server {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_port();
        let config = config
            .replace("@PORT@", &port.to_string())
            .replace("@DIR@", dir.to_str().unwrap());
        std::fs::write(dir.join("burrow.toml"), config).unwrap();
        let log = std::fs::File::create(dir.join("serve.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_burrow-cli"))
            .args(["serve", "--config"])
            .arg(dir.join("burrow.toml"))
            .args(["--log-format", "text"])
            .envs(env.iter().copied())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Server {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("serve.log")).unwrap_or_default()
    }

    /// Polls `path` until `check` accepts the reply.
    pub fn wait_for(&self, what: &str, path: &str, check: impl Fn(u16, &Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(40);
        let mut last = None;
        while Instant::now() < deadline {
            if let Some((status, v)) = get_json(self.port, path) {
                if check(status, &v) {
                    return v;
                }
                last = Some((status, v));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "{what}: {path} never matched; last reply {last:?}\nserver log:\n{}",
            self.log()
        );
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop on SIGTERM\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A webhook receiver: records every request; answers 500 to the first `fail_first`, 200 after.
pub fn receiver(fail_first: usize) -> (u16, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    std::thread::spawn(move || {
        let mut answered = 0;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() || line.is_empty() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or_default().to_string();
            let path = parts.next().unwrap_or_default().to_string();
            let mut headers = Vec::new();
            let mut length = 0;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    headers.push((k.to_string(), v.trim().to_string()));
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let status = if answered < fail_first {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            answered += 1;
            seen.lock().unwrap().push(Seen {
                method,
                path,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (port, out)
}

/// A ZooKeeper of the test's own (Debian's package; `BURROW_TEST_ZK_CLASSPATH`), so that it can
/// be stopped and restarted on the same data.
pub struct OwnZk {
    child: Option<Child>,
    dir: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl OwnZk {
    /// Starts one, or `None` when ZooKeeper is not installed (an error in CI).
    pub fn start() -> Option<OwnZk> {
        if std::env::var("BURROW_TEST_ZK_CLASSPATH").is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "BURROW_TEST_ZK_CLASSPATH is not set in CI"
            );
            eprintln!(
                "skipping: BURROW_TEST_ZK_CLASSPATH not set (scripts/test-services.sh start)"
            );
            return None;
        }
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("burrow-ownzk-{}-{port}", std::process::id()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(
            dir.join("zoo.cfg"),
            format!(
                "tickTime=500\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nminSessionTimeout=1000\nmaxSessionTimeout=60000\nadmin.enableServer=false\n",
                dir.join("data").display()
            ),
        )
        .unwrap();
        let mut zk = OwnZk {
            child: None,
            dir,
            port,
        };
        zk.spawn();
        Some(zk)
    }

    fn spawn(&mut self) {
        let classpath = std::env::var("BURROW_TEST_ZK_CLASSPATH").unwrap();
        let child = Command::new("java")
            .args(["-Xmx128m", "-cp", &classpath])
            .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
            .arg(self.dir.join("zoo.cfg"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "zookeeper did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills it, waits `down`, and starts it again on the same data; returns how long it was
    /// away.
    pub fn restart(&mut self, down: Duration) -> Duration {
        let t = Instant::now();
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        std::thread::sleep(down);
        self.spawn();
        t.elapsed()
    }
}

impl Drop for OwnZk {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
