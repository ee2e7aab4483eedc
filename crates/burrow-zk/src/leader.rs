//! Notifier leader election: the standard ZooKeeper lock recipe under `<root-path>/notifier`.
//!
//! Each instance creates an ephemeral sequential node `<root-path>/notifier/_c_<uuid>-lock-<seq>`
//! (Curator's layout, so that `zkCli.sh` shows who holds it) and watches the node just before its
//! own; the lowest sequence holds the lock. The holder is the leader while its session is
//! connected: on a disconnection it stops at once (another instance may take over as soon as the
//! session expires on the server), on a reconnection within the session it resumes (its node
//! still exists), and on expiry it competes again with a new session. Nodes are ephemeral and
//! deleted on a clean stop, so they never pile up.

use std::time::Duration;

use burrow_notify::Role;
use tokio::sync::watch;
use tracing::{info, warn};
use zookeeper_client as zk;

use crate::{connect, ensure_path, ZkError, ZkSettings};

/// A running election.
#[derive(Debug)]
pub struct Leadership {
    leader: watch::Receiver<Role>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Leadership {
    /// [`Role::Leader`] while this instance holds the lock with a connected session,
    /// [`Role::Paused`] while it holds it but is disconnected, [`Role::Follower`] otherwise.
    pub fn role(&self) -> watch::Receiver<Role> {
        self.leader.clone()
    }

    /// Leaves the election: the lock node is deleted and the session closed.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Joins the election for `<root_path>/notifier`. The root path is created (every missing
/// prefix) once connected. Connection failures are retried with backoff; the role stays
/// [`Role::Follower`] meanwhile.
pub fn start(settings: ZkSettings, root_path: String) -> Leadership {
    let (leader_tx, leader) = watch::channel(Role::Follower);
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(run(settings, root_path, leader_tx, stop_rx));
    Leadership { leader, stop, task }
}

enum Ended {
    Stopped,
    SessionLost,
}

async fn run(
    settings: ZkSettings,
    root_path: String,
    leader: watch::Sender<Role>,
    mut stop: watch::Receiver<bool>,
) {
    let dir = if root_path == "/" {
        "/notifier".to_string()
    } else {
        format!("{root_path}/notifier")
    };
    let mut backoff = Duration::from_millis(100);
    loop {
        let _ = leader.send(Role::Follower);
        // The session watches `stop` itself at every wait, so that a leader deletes its node
        // before returning.
        let attempt = session(&settings, &root_path, &dir, &leader, &mut stop).await;
        match attempt {
            Ok(Ended::Stopped) => {
                let _ = leader.send(Role::Follower);
                return;
            }
            Ok(Ended::SessionLost) => backoff = Duration::from_millis(100),
            Err(e) => {
                warn!(error = %e, "notifier leader election: retrying in {backoff:?}");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// One session: connect, take the lock, lead while connected.
async fn session(
    settings: &ZkSettings,
    root_path: &str,
    dir: &str,
    leader: &watch::Sender<Role>,
    stop: &mut watch::Receiver<bool>,
) -> Result<Ended, ZkError> {
    let client = tokio::select! {
        c = connect(settings) => c?,
        _ = async { let _ = stop.wait_for(|s| *s).await; } => return Ok(Ended::Stopped),
    };
    ensure_path(&client, root_path).await?;
    let mut state = client.state_watcher();
    let prefix = zk::LockPrefix::new_curator(dir, "lock-")
        .map_err(ZkError::request(format!("lock path {dir}")))?;
    let options = zk::LockOptions::new(zk::Acls::anyone_all())
        .with_ancestor_options(zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all()))
        .map_err(ZkError::request("lock options"))?;
    // Waits (watching the predecessor) until this node is the lowest.
    let lock = tokio::select! {
        l = client.lock(prefix, b"", options) => l.map_err(ZkError::request(format!("locking {dir}")))?,
        s = wait_terminal(&mut state) => {
            warn!(state = ?s, "zookeeper session lost while waiting for the notifier lock");
            return Ok(Ended::SessionLost);
        }
        _ = async { let _ = stop.wait_for(|s| *s).await; } => return Ok(Ended::Stopped),
    };
    info!(lock = lock.lock_path(), session = %client.session_id(), "notifier leader: this instance sends notifications");
    let _ = leader.send(Role::Leader);
    loop {
        tokio::select! {
            s = state.changed() => match s {
                zk::SessionState::SyncConnected => {
                    info!("zookeeper reconnected within the session: still the notifier leader");
                    let _ = leader.send(Role::Leader);
                }
                zk::SessionState::Disconnected | zk::SessionState::ConnectedReadOnly => {
                    warn!("zookeeper disconnected: notifications held until the session is back");
                    let _ = leader.send(Role::Paused);
                }
                other => {
                    let _ = leader.send(Role::Follower);
                    warn!(state = ?other, "zookeeper session lost: no longer the notifier leader; competing again");
                    drop(lock);
                    return Ok(Ended::SessionLost);
                }
            },
            _ = async { let _ = stop.wait_for(|s| *s).await; } => {
                let _ = leader.send(Role::Follower);
                let path = lock.lock_path().to_string();
                drop(lock);
                // Delete now rather than in the background, then end the session.
                let _ = client.delete(&path, None).await;
                return Ok(Ended::Stopped);
            }
        }
    }
}

/// Waits for a terminal session state (expired, closed, auth failed).
async fn wait_terminal(state: &mut zk::StateWatcher) -> zk::SessionState {
    loop {
        let s = state.changed().await;
        if s.is_terminated() {
            return s;
        }
    }
}
