//! `burrow-cli serve`: the command line around [`crate::Server`]: which file, the runtime, the
//! logs, the signals, the exit code.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tracing::{error, info, warn};

use crate::logging::{init_logging, LogFormat};
use crate::notifiers::Extensions;
use crate::server::{Server, ServerOptions};
use crate::settings::Settings;

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Burrow configuration file (`burrow.toml`). Without it and without `--config-dir`:
    /// `./burrow.toml` when there is one, else a cluster `local` at localhost:9092 with its
    /// consumer module and HTTP on 127.0.0.1:8000.
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// Burrow's flag (also `-config-dir`): the directory holding `burrow.toml`, which must exist.
    #[arg(long, conflicts_with = "config")]
    pub config_dir: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value = "auto")]
    pub log_format: LogFormat,
    /// Check the configuration as a start would (files read, addresses bound and released,
    /// templates rendered) and exit: 0 when it is valid, 1 with the reason otherwise.
    #[arg(long)]
    pub check_config: bool,
    /// Refuse what Burrow accepts and burrow-rs only warns about: unknown sections and keys,
    /// old key names, values Burrow ignores, environment variables that override nothing.
    #[arg(long)]
    pub strict: bool,
}

/// The configuration file to read, and whether it is `./burrow.toml` found without a flag.
/// `--config-dir DIR` needs `DIR/burrow.toml` (Burrow's viper also read `burrow.json`,
/// `.yaml`, …: such a file is named in the error).
fn config_path(args: &Args) -> Result<(Option<PathBuf>, bool)> {
    if let Some(p) = &args.config {
        return Ok((Some(p.clone()), false));
    }
    let here = args.config_dir.is_none();
    let dir = args
        .config_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    let file = dir.join("burrow.toml");
    if file.is_file() {
        return Ok((Some(file), here));
    }
    if here {
        return Ok((None, false));
    }
    let other = ["json", "yaml", "yml", "hcl", "properties", "ini", "env"]
        .iter()
        .map(|ext| dir.join(format!("burrow.{ext}")))
        .find(|p| p.is_file());
    match other {
        Some(o) => anyhow::bail!(
            "--config-dir: {} holds {} but no burrow.toml; burrow-rs reads TOML only",
            dir.display(),
            o.display()
        ),
        None => anyhow::bail!("--config-dir: no burrow.toml in {}", dir.display()),
    }
}

/// Exit code of a configuration or start failure (Burrow's).
const EXIT_FAILED: u8 = 1;

/// Raises the open-file limit to its hard limit: every Kafka connection, HTTP connection and
/// notifier request holds a descriptor, and a low soft limit (1,024 is common) lets a burst of
/// idle HTTP clients starve the rest.
fn raise_file_limit() {
    let before = rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft);
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(now) => {
            if before.as_ref().is_ok_and(|b| *b != now) {
                info!(from = ?before.ok(), to = now, "raised the open-file limit to its hard limit");
            }
        }
        Err(e) => warn!(error = %e, "could not raise the open-file limit; keeping it"),
    }
}

/// Runs the server until SIGINT, SIGTERM or SIGQUIT.
pub fn run(args: &Args, extensions: &Extensions) -> Result<ExitCode> {
    let (path, found_here) = match config_path(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("burrow-cli serve: {e:#}");
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("burrow")
        .build()?;
    // The notifiers' HTTP clients are built with the settings, within the runtime.
    let checked = runtime.block_on(async {
        let settings = Settings::check(path.as_deref(), extensions)?;
        if args.check_config {
            settings.probe_listeners()?;
        }
        Ok::<_, anyhow::Error>(settings)
    });
    let settings = match checked {
        Ok(s) => s,
        Err(e) => {
            eprintln!("burrow-cli serve: {e:#}");
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    };
    let unknown = settings.config.env.unknown.clone();
    let warnings: Vec<String> = settings
        .config
        .warnings
        .iter()
        .map(|w| w.to_string())
        .chain(
            unknown
                .iter()
                .map(|var| format!("{var}: {UNKNOWN_VARIABLE}")),
        )
        .collect();
    if args.strict && !warnings.is_empty() {
        for w in &warnings {
            eprintln!("burrow-cli serve: --strict: {w}");
        }
        return Ok(ExitCode::from(EXIT_FAILED));
    }
    if args.check_config {
        for w in &warnings {
            eprintln!("burrow-cli serve: warning: {w}");
        }
        println!("configuration OK");
        return Ok(ExitCode::SUCCESS);
    }
    let level = match init_logging(&settings.config, args.log_format) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("burrow-cli serve: {e:#}");
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    };
    for var in &unknown {
        warn!(variable = %var, "{UNKNOWN_VARIABLE}");
    }
    for w in &settings.config.warnings {
        warn!(key = %w.key, "configuration: {}", w.message);
    }
    match (&path, found_here) {
        (Some(p), true) => info!(config = %p.display(), "read the configuration in the working directory (no --config or --config-dir given)"),
        (Some(p), false) => info!(config = %p.display(), "read the configuration"),
        (None, _) => info!("no configuration file (none given, no ./burrow.toml): the defaults, a cluster local at localhost:9092"),
    }
    raise_file_limit();
    let options = ServerOptions {
        log_level: Some(level as Arc<dyn burrow_http::LogLevelControl>),
    };
    let result = runtime.block_on(async {
        let server = Server::build(settings, options).await?;
        server.run(shutdown_signal()).await
    });
    runtime.shutdown_timeout(Duration::from_secs(5));
    match result {
        Ok(()) => {
            eprintln!("Stopped Burrow at {}", now_text());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            error!(error = %format!("{e:#}"), "Burrow failed");
            eprintln!("Burrow failed at {}: {e:#}", now_text());
            Ok(ExitCode::from(EXIT_FAILED))
        }
    }
}

/// Said of an environment variable with the override prefix that names no key.
const UNKNOWN_VARIABLE: &str =
    "has the environment override prefix but names no key of a section of this configuration \
     (ignored; overrides never create sections)";

fn now_text() -> String {
    let ms = burrow_core::now_ms();
    format!("{}.{:03} (unix time)", ms / 1000, ms % 1000)
}

/// The first of SIGTERM, SIGINT and SIGQUIT.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut quit)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::quit()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
        _ = quit.recv() => "SIGQUIT",
    };
    tracing::info!(signal = name, "signal received");
}
