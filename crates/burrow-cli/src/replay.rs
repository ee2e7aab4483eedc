//! `burrow-cli replay`: apply a JSON-lines file of storage events and print the snapshot.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use burrow_core::TimedEvent;
use burrow_storage::{DropReason, Outcome, Storage};

/// Arguments of `replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// JSON-lines file: one storage event per line, each with `now` (ms) and `type`.
    events: PathBuf,
    /// Burrow configuration: `[storage.*]` applies; `[cluster.*]` sections name the clusters storage
    /// keeps (without any, every cluster the events name is kept).
    #[arg(long)]
    config: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let config = crate::load_config(args.config.as_ref())?;
    let text = std::fs::read_to_string(&args.events)
        .with_context(|| format!("cannot read events {}", args.events.display()))?;

    // Parse everything first: a malformed line stops the replay before anything is applied.
    let mut events: Vec<(usize, TimedEvent)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let event: TimedEvent = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: malformed event", args.events.display(), index + 1))?;
        events.push((index + 1, event));
    }

    let clusters: Vec<String> = if config.clusters.is_empty() {
        let mut names: Vec<String> = events
            .iter()
            .map(|(_, e)| e.event.cluster().to_owned())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    } else {
        config.clusters.clone()
    };
    let storage = Storage::with_key_prefix(
        config.storage.clone(),
        &clusters,
        &format!("storage.{}", config.storage_name),
    )?;

    let mut applied = 0usize;
    let mut dropped: BTreeMap<DropReason, (usize, usize)> = BTreeMap::new();
    let mut taken_at = 0i64;
    for (line, timed) in &events {
        taken_at = taken_at.max(timed.now);
        match storage.apply(timed.now, &timed.event) {
            Outcome::Applied => applied += 1,
            Outcome::Dropped(reason) => dropped.entry(reason).or_insert((0, *line)).0 += 1,
        }
    }

    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &storage.snapshot(taken_at))?;
    writeln!(out)?;
    out.flush()?;

    let total_dropped: usize = dropped.values().map(|(n, _)| n).sum();
    eprintln!(
        "burrow-cli: replayed {} events: {applied} applied, {total_dropped} dropped",
        events.len()
    );
    for (reason, (count, first_line)) in &dropped {
        eprintln!("burrow-cli:   dropped {count} as {reason} (first at line {first_line})");
    }
    Ok(ExitCode::SUCCESS)
}
