//! Warm restarts: the server's state saved to a file (`[general] state-file`) every
//! `state-interval` seconds and at shutdown, and restored at start.
//!
//! The file is a storage snapshot (docs/snapshot.md) whose `readers` record how far each Kafka
//! consumer module had stored its offsets topic. At start the windows, owners and broker offsets
//! come back at once, and each consumer goes on from its saved positions instead of reading the
//! whole offsets topic again (what it wrote meanwhile is read then). A file that cannot be read
//! or restored is moved aside (`<file>.rejected-<unix time>`), never overwritten, and the server
//! starts cold.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use prometheus::{Gauge, IntCounterVec, Opts, Registry};
use tracing::{info, warn};

use burrow_notify::SavedIncidents;
use burrow_storage::{Snapshot, Storage};

/// Positions per consumer module: partition of its offsets topic → next offset to read.
pub type Readers = BTreeMap<String, BTreeMap<i32, i64>>;

/// What a saved state gives back besides storage.
#[derive(Debug, Default, PartialEq)]
pub struct Restored {
    /// Where each consumer module goes on reading.
    pub readers: Readers,
    /// The notifiers' incidents.
    pub incidents: SavedIncidents,
}

/// The positions to save: each module's, over the positions it was resumed from (a module that
/// has not started reading yet, or a partition it has not reached, keeps its saved position).
pub fn readers(modules: &[burrow_ingest::consumer::Positions], resumed: &Readers) -> Readers {
    modules
        .iter()
        .map(|m| {
            let mut at = resumed.get(m.name()).cloned().unwrap_or_default();
            at.extend(m.get());
            (m.name().to_string(), at)
        })
        .collect()
}

/// The state file of a server.
pub struct StateFile {
    path: PathBuf,
    /// Held while a save writes: the periodic save and the shutdown save never overlap.
    writing: std::sync::Mutex<()>,
    saves: IntCounterVec,
    last_save_seconds: Gauge,
    last_save_time: Gauge,
}

impl StateFile {
    /// The state file at `path`, with its metrics registered in `registry`.
    pub fn new(path: &Path, registry: &Registry) -> Result<StateFile> {
        let saves = IntCounterVec::new(
            Opts::new(
                "burrow_state_saves_total",
                "Saves of the state file, by result (ok, error)",
            ),
            &["result"],
        )?;
        let last_save_seconds = Gauge::new(
            "burrow_state_save_duration_seconds",
            "How long the last successful save of the state file took",
        )?;
        let last_save_time = Gauge::new(
            "burrow_state_last_save_timestamp_seconds",
            "Unix time of the last successful save of the state file",
        )?;
        registry.register(Box::new(saves.clone()))?;
        registry.register(Box::new(last_save_seconds.clone()))?;
        registry.register(Box::new(last_save_time.clone()))?;
        Ok(StateFile {
            path: path.to_path_buf(),
            writing: std::sync::Mutex::new(()),
            saves,
            last_save_seconds,
            last_save_time,
        })
    }

    /// Restores the saved state into `storage` and returns the consumers' saved positions and
    /// the notifiers' incidents. No file: a cold start. A file that cannot be read, parsed or
    /// restored is moved aside with a warning and the start is cold.
    pub fn load(&self, storage: &Storage) -> Restored {
        let path = self.path.display();
        let text = match std::fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                info!(state_file = %path, "no saved state; starting cold");
                return Restored::default();
            }
            Err(e) => {
                warn!(state_file = %path, error = %e, "cannot read the saved state; starting cold");
                return Restored::default();
            }
        };
        let restored = serde_json::from_slice::<Snapshot>(&text)
            .map_err(anyhow::Error::from)
            .and_then(|snapshot| {
                let report = storage.restore(&snapshot)?;
                Ok((snapshot, report))
            });
        match restored {
            Ok((snapshot, report)) => {
                let age_s = (burrow_core::now_ms() - snapshot.taken_at) / 1000;
                info!(
                    state_file = %path,
                    age_s,
                    groups = report.groups,
                    skipped_clusters = ?report.skipped_clusters,
                    filtered_groups = report.filtered_groups,
                    trimmed_windows = report.trimmed_windows,
                    "saved state restored"
                );
                let incidents = match snapshot.notifiers {
                    None => SavedIncidents::new(),
                    Some(v) => serde_json::from_value(v).unwrap_or_else(|e| {
                        warn!(state_file = %path, error = %e, "the saved notifier incidents are not usable; they start afresh");
                        SavedIncidents::new()
                    }),
                };
                Restored {
                    readers: snapshot.readers,
                    incidents,
                }
            }
            Err(e) => {
                let aside = self.aside();
                let moved = std::fs::rename(&self.path, &aside);
                warn!(
                    state_file = %path,
                    error = %format!("{e:#}"),
                    moved_to = %aside.display(),
                    moved = moved.is_ok(),
                    "the saved state is not usable; it is kept aside and the start is cold"
                );
                Restored::default()
            }
        }
    }

    fn aside(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".rejected-{}", burrow_core::now_ms() / 1000));
        PathBuf::from(name)
    }

    /// Saves storage with the consumers' positions (read *before* the snapshot is taken, so that
    /// the snapshot holds at least everything before them) and the notifiers' incidents. Written
    /// to a temporary file beside the state file, synced, then renamed over it: a crash leaves
    /// the old file or the new one.
    pub fn save(
        &self,
        storage: &Storage,
        readers: Readers,
        incidents: &SavedIncidents,
    ) -> Result<()> {
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let started = Instant::now();
        let result = self.write(storage, readers, incidents);
        match &result {
            Ok(()) => {
                self.saves.with_label_values(&["ok"]).inc();
                self.last_save_seconds.set(started.elapsed().as_secs_f64());
                self.last_save_time
                    .set(burrow_core::now_ms() as f64 / 1000.0);
            }
            Err(_) => self.saves.with_label_values(&["error"]).inc(),
        }
        result
    }

    /// [`Self::save`] on a blocking thread (a save serializes the whole storage).
    pub async fn save_blocking(
        self: Arc<Self>,
        storage: Arc<Storage>,
        readers: Readers,
        incidents: SavedIncidents,
    ) -> Result<()> {
        tokio::task::spawn_blocking(move || self.save(&storage, readers, &incidents))
            .await
            .context("the state-file save task")?
    }

    fn write(&self, storage: &Storage, readers: Readers, incidents: &SavedIncidents) -> Result<()> {
        let notifiers = if incidents.is_empty() {
            None
        } else {
            Some(serde_json::to_value(incidents)?)
        };
        // Written as storage is walked: one group at a time in memory, not a copy of everything.
        let snapshot = storage.snapshot_view(burrow_core::now_ms(), &readers, notifiers.as_ref());
        let mut tmp = self.path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("general.state-file: cannot create {}", tmp.display()))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        serde_json::to_writer(&mut out, &snapshot)?;
        out.flush()?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, &self.path).with_context(|| {
            format!(
                "general.state-file: cannot rename {} to {}",
                tmp.display(),
                self.path.display()
            )
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent};
    use burrow_storage::StorageConfig;

    fn storage_with_a_group() -> Storage {
        let storage = Storage::new(StorageConfig::default(), ["local"]).unwrap();
        let now = burrow_core::now_ms();
        let _ = storage.set_broker_offset(&BrokerOffsetEvent {
            cluster: "local".into(),
            topic: "t".into(),
            partition: 0,
            partition_count: 1,
            offset: 100,
            timestamp: now,
        });
        for (i, offset) in [10, 20, 30].into_iter().enumerate() {
            let _ = storage.set_consumer_offset(
                now,
                &ConsumerOffsetEvent {
                    cluster: "local".into(),
                    group: "g".into(),
                    topic: "t".into(),
                    partition: 0,
                    offset,
                    order: i as i64,
                    timestamp: now - 30_000 + i as i64 * 10_000,
                },
            );
        }
        storage
    }

    fn window(storage: &Storage) -> Vec<i64> {
        storage
            .fetch_consumer(burrow_core::now_ms(), "local", "g")
            .map(|t| {
                t["t"][0]
                    .offsets
                    .iter()
                    .flatten()
                    .map(|o| o.offset)
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn saved_state_comes_back_with_the_readers_positions_and_incidents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let state = StateFile::new(&path, &Registry::new()).unwrap();
        let readers = Readers::from([("local".to_string(), BTreeMap::from([(0, 42), (3, 7)]))]);
        let incidents = SavedIncidents::from([(
            "local".to_string(),
            BTreeMap::from([(
                "g".to_string(),
                burrow_notify::SavedIncident {
                    id: "i-1".into(),
                    start: 5,
                    last_notify: BTreeMap::from([("mail".to_string(), 7)]),
                },
            )]),
        )]);
        state
            .save(&storage_with_a_group(), readers.clone(), &incidents)
            .unwrap();
        assert!(!dir.path().join("state.json.tmp").exists());
        assert_eq!(state.saves.with_label_values(&["ok"]).get(), 1);

        let fresh = Storage::new(StorageConfig::default(), ["local"]).unwrap();
        assert_eq!(state.load(&fresh), Restored { readers, incidents });
        assert_eq!(window(&fresh), vec![10, 20, 30]);
    }

    #[test]
    fn no_file_is_a_cold_start_and_a_bad_file_is_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let state = StateFile::new(&path, &Registry::new()).unwrap();
        let storage = Storage::new(StorageConfig::default(), ["local"]).unwrap();
        assert_eq!(state.load(&storage), Restored::default());

        for bad in [
            "{not json".to_string(),
            // Valid JSON, invalid snapshot: a null after a commit.
            r#"{"format":1,"taken_at":1,"intervals":2,"clusters":{"local":{"groups":{"g":{"last_commit":1,"topics":{"t":[{"offsets":[{"offset":1,"order":1,"timestamp":1,"observedAt":1,"lag":0},null]}]}}}}}}"#.to_string(),
            r#"{"format":9,"taken_at":1,"intervals":2,"clusters":{}}"#.to_string(),
        ] {
            std::fs::write(&path, &bad).unwrap();
            assert_eq!(state.load(&storage), Restored::default());
            assert!(!path.exists(), "moved aside: {bad}");
            let aside: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.to_string_lossy().contains(".rejected-"))
                .collect();
            assert_eq!(aside.len(), 1, "{bad}");
            assert_eq!(std::fs::read_to_string(&aside[0]).unwrap(), bad);
            std::fs::remove_file(&aside[0]).unwrap();
        }
        assert!(storage
            .fetch_consumer(burrow_core::now_ms(), "local", "g")
            .is_none());
    }

    #[test]
    fn a_failed_save_keeps_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let state = StateFile::new(&path, &Registry::new()).unwrap();
        state
            .save(
                &storage_with_a_group(),
                Readers::new(),
                &SavedIncidents::new(),
            )
            .unwrap();
        let before = std::fs::read_to_string(&path).unwrap();
        // The temporary file cannot be created: a directory stands in its way.
        std::fs::create_dir(dir.path().join("state.json.tmp")).unwrap();
        let err = state
            .save(
                &Storage::new(StorageConfig::default(), ["local"]).unwrap(),
                Readers::new(),
                &SavedIncidents::new(),
            )
            .unwrap_err();
        assert!(format!("{err:#}").contains("general.state-file"), "{err:#}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
        assert_eq!(state.saves.with_label_values(&["error"]).get(), 1);
    }
}
