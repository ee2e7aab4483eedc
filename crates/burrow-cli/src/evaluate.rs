//! `burrow-cli evaluate`: evaluate the groups of a snapshot, offline.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use burrow_core::{ConsumerGroupStatus, Status};
use burrow_eval::CachingEvaluator;
use burrow_storage::{Snapshot, Storage, StorageConfig};

/// Arguments of `evaluate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Snapshot file (JSON, as written by `replay` or a server).
    snapshot: PathBuf,
    /// Burrow configuration: `[storage.*]` and `[evaluator.*]` apply (defaults otherwise; the
    /// window size is the snapshot's unless the file has a storage section).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Evaluation time in seconds since the epoch (default: the snapshot's `taken_at`).
    #[arg(long)]
    now: Option<f64>,
    /// Only this cluster.
    #[arg(long)]
    cluster: Option<String>,
    /// Only this group (in every cluster, or in `--cluster`).
    #[arg(long)]
    group: Option<String>,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let config = crate::load_config(args.config.as_ref())?;
    let text = std::fs::read_to_string(&args.snapshot)
        .with_context(|| format!("cannot read snapshot {}", args.snapshot.display()))?;
    let snapshot: Snapshot = serde_json::from_str(&text)
        .with_context(|| format!("snapshot {}", args.snapshot.display()))?;
    let storage_config = if config.storage_configured {
        config.storage.clone()
    } else {
        StorageConfig {
            intervals: snapshot.intervals.max(1),
            ..config.storage.clone()
        }
    };
    let (storage, report) = Storage::from_snapshot(storage_config, &snapshot)?;
    if report.trimmed_windows > 0 {
        eprintln!(
            "burrow-cli: {} windows were longer than intervals = {}; their newest commits were kept",
            report.trimmed_windows,
            storage.intervals()
        );
    }
    if report.filtered_groups > 0 {
        eprintln!(
            "burrow-cli: {} groups rejected by the storage allow/deny lists were not loaded",
            report.filtered_groups
        );
    }
    let now_ms = match args.now {
        Some(s) if s.is_finite() => (s * 1000.0) as i64,
        Some(s) => bail!("--now: not a time: {s}"),
        None => snapshot.taken_at,
    };
    let evaluator = CachingEvaluator::new(&storage, config.evaluator.clone())?;

    let clusters: Vec<String> = match &args.cluster {
        Some(c) if storage.fetch_clusters().contains(c) => vec![c.clone()],
        Some(c) => {
            eprintln!("burrow-cli: cluster {c:?} is not in the snapshot");
            return Ok(ExitCode::from(3));
        }
        None => storage.fetch_clusters(),
    };

    let mut statuses: Vec<ConsumerGroupStatus> = Vec::new();
    let mut missing = false;
    match &args.group {
        Some(group) => {
            for cluster in &clusters {
                let status = evaluator.evaluate(now_ms, cluster, group, true);
                if status.status != Status::NotFound {
                    statuses.push(status);
                }
            }
            if statuses.is_empty() {
                missing = true;
                let cluster = clusters.first().cloned().unwrap_or_default();
                eprintln!("burrow-cli: group {group:?} not found");
                statuses.push(ConsumerGroupStatus::not_found(cluster, group.clone()));
            }
        }
        None => {
            for cluster in &clusters {
                for group in storage.fetch_consumers(cluster).unwrap_or_default() {
                    statuses.push(evaluator.evaluate(now_ms, cluster, &group, true));
                }
            }
        }
    }

    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &statuses)?;
    writeln!(out)?;
    out.flush()?;

    let worst = statuses
        .iter()
        .map(|s| s.status)
        .filter(|s| *s != Status::NotFound)
        .max()
        .unwrap_or(Status::Ok);
    Ok(ExitCode::from(if missing {
        3
    } else {
        match worst {
            Status::Warn => 1,
            s if s >= Status::Error => 2,
            _ => 0,
        }
    }))
}
