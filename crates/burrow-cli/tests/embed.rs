//! The server embedded as a library: settings checked with the program's extensions, the server
//! built, run until the program's shutdown future resolves, and stopped cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use burrow_cli::{Extensions, Server, ServerOptions, Settings};
use burrow_notify::{async_trait, Notification, Notifier, NotifyError};

struct Pager;

#[async_trait]
impl Notifier for Pager {
    async fn notify(&self, _: &Notification) -> Result<(), NotifyError> {
        Ok(())
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("burrow-embed-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_config(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("burrow.toml");
    std::fs::write(
        &path,
        format!(
            "[general]\npidfile = \"{}/burrow.pid\"\n[httpserver.default]\naddress = \"127.0.0.1:0\"\n{extra}",
            dir.display()
        ),
    )
    .unwrap();
    path
}

fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_builds_runs_and_stops_the_server() {
    let dir = scratch("run");
    let config = write_config(&dir, "");
    let settings = Settings::check(Some(&config), &Extensions::default()).unwrap();
    let server = Server::build(settings, ServerOptions::default())
        .await
        .unwrap();
    let (_, addr) = server.local_addrs().pop().unwrap();
    assert_ne!(addr.port(), 0);
    assert!(
        dir.join("burrow.pid").exists(),
        "the pidfile is written by build"
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async {
        let _ = stop_rx.await;
    }));
    let answer = tokio::task::spawn_blocking(move || get(addr, "/burrow/admin"))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("GOOD"), "{answer}");
    stop_tx.send(()).unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .expect("run returns once the shutdown future resolves")
        .unwrap();
    stopped.unwrap();
    assert!(
        !dir.join("burrow.pid").exists(),
        "the pidfile is removed at stop"
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the listener is closed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn notifier_classes_come_from_the_extensions_passed() {
    let dir = scratch("ext");
    let config = write_config(
        &dir,
        "[notifier.oncall]\nclass-name = \"pager\"\ninterval = 30\n",
    );
    let err = Settings::check(Some(&config), &Extensions::default())
        .err()
        .expect("an unknown class is refused");
    assert!(
        format!("{err:#}").contains("notifier.oncall.class-name"),
        "{err:#}"
    );
    let extensions = Extensions::default().notifier_class("pager", |_| Ok(Arc::new(Pager)));
    let settings = Settings::check(Some(&config), &extensions).unwrap();
    assert_eq!(settings.notifiers.len(), 1);
    assert_eq!(settings.notifiers[0].name, "oncall");
    assert_eq!(settings.notifiers[0].policy.interval, 30);
    let _ = std::fs::remove_dir_all(&dir);
}
