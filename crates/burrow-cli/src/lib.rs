//! `burrow-cli`: the command line of burrow-rs, as a library so that a program can run it with
//! its own notifier classes ([`main_with`], [`Extensions`]) or embed the server ([`Server`]).
//!
//! - [`config`]: `burrow.toml` read once into checked sections (each section's type lives in
//!   the crate that runs it), with Burrow's environment overrides.
//! - [`Settings`]: the checked file converted into what each module runs with; everything a
//!   start refuses is refused there, so `serve --check-config` and a start agree.
//! - [`Server`]: the server as a value: `build` assembles it, `run` runs it until a shutdown
//!   future resolves and stops it in order.
//! - [`state`]: the state file of warm restarts.
//! - The subcommands (`serve`, `check`, `evaluate`, `replay`, `dump-offsets`), private.
//!
//! ```no_run
//! use std::sync::Arc;
//! use burrow_cli::{main_with, Extensions};
//! use burrow_notify::{async_trait, Notification, Notifier, NotifyError};
//!
//! struct Pager;
//!
//! #[async_trait]
//! impl Notifier for Pager {
//!     async fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
//!         eprintln!("page: {} {} is {}", n.cluster, n.group, n.result.status);
//!         Ok(())
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     // `[notifier.oncall] class-name = "pager"` in burrow.toml now uses Pager, with the
//!     // policy keys (interval, threshold, send-close, …) of that section.
//!     main_with(Extensions::default().notifier_class("pager", |_section| Ok(Arc::new(Pager))))
//! }
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod args;
mod check;
pub mod config;
mod dump;
mod evaluate;
mod log_file;
mod logging;
pub mod notifiers;
mod replay;
mod serve;
mod server;
mod settings;
pub mod state;

pub use notifiers::{Extensions, NotifierSection};
pub use server::{Server, ServerOptions};
pub use settings::{ClusterPlan, ConsumerPlan, ElectionPlan, ListenerPlan, Settings};

/// Kafka consumer lag monitoring without thresholds: a Rust reimplementation of LinkedIn's Burrow.
#[derive(Debug, Parser)]
#[command(name = "burrow-cli", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs Burrow: reads `__consumer_offsets` and broker end offsets from every configured
    /// cluster and serves the v3 HTTP API and /metrics. Stops on SIGINT, SIGTERM or SIGQUIT.
    ///
    /// Exit code: 0 after a signal, 1 when the configuration is bad or a start step fails.
    Serve(serve::Args),
    /// A one-shot verdict for one consumer group, straight from the cluster: reads the group's
    /// recent commits from its `__consumer_offsets` partition, samples the end offsets during
    /// `--window`, and evaluates with Burrow's rules. Or asks a running server (`--server`).
    ///
    /// Exit code: 0 OK, 1 WARN, 2 ERR (a partition in STOP, STALL or REWIND), 3 unknown (group
    /// not found, cluster or server unreachable, bad arguments) with the reason on stderr.
    Check(check::Args),
    /// Evaluates the groups of a storage snapshot and prints their statuses (Burrow's status
    /// objects, all partitions) as a JSON array.
    ///
    /// Exit code: 0 all OK, 1 worst is WARN, 2 worst is ERR, 3 a requested group is not found (or
    /// the input is unusable).
    Evaluate(evaluate::Args),
    /// Applies a JSON-lines file of storage events in order and prints the resulting snapshot.
    Replay(replay::Args),
    /// Prints each record of `__consumer_offsets` as one JSON line (partition, offset, record
    /// type, decoded key and value): what the group coordinator wrote.
    ///
    /// Records that do not decode are printed with an `error` naming the field, and counted.
    /// A summary of record types goes to stderr at the end.
    DumpOffsets(dump::Args),
}

/// Exit code for unusable input (usage, files, config), in the monitoring-plugin convention.
const EXIT_UNKNOWN: u8 = 3;

/// Runs the command line with the notifier classes of `extensions` (`burrow-cli`'s own `main` is
/// `main_with(Extensions::default())`).
pub fn main_with(extensions: Extensions) -> ExitCode {
    let cli = match Cli::try_parse_from(args::command_line(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_UNKNOWN)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Serve(args) => serve::run(&args, &extensions),
        Command::Check(args) => check::run(&args),
        Command::Evaluate(args) => evaluate::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::DumpOffsets(args) => dump::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("burrow-cli: {e:#}");
            ExitCode::from(EXIT_UNKNOWN)
        }
    }
}

/// Reads `--config` or returns the defaults.
fn load_config(path: Option<&PathBuf>) -> anyhow::Result<config::Config> {
    match path {
        Some(p) => {
            let config = config::Config::load(p)?;
            for w in &config.warnings {
                eprintln!("burrow-cli: warning: {w}");
            }
            Ok(config)
        }
        None => Ok(config::Config::defaults()),
    }
}
