//! The process's logs: text or JSON, to standard output or Burrow's log file, with a level that
//! `/v3/admin/loglevel` changes at run time.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Context, Result};
use clap::ValueEnum;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{filter::LevelFilter, reload, Layer, Registry};

use burrow_http::{LogLevel, LogLevelControl};

use crate::config::Config;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Text on a terminal, JSON otherwise.
    Auto,
    /// Human-readable lines.
    Text,
    /// One JSON object per line (like Burrow's zap logs).
    Json,
}

/// The log level, changeable at runtime through `/v3/admin/loglevel`.
pub struct TracingLevel {
    handle: reload::Handle<LevelFilter, Registry>,
    current: Mutex<LogLevel>,
}

impl LogLevelControl for TracingLevel {
    fn level(&self) -> LogLevel {
        self.current.lock().map(|l| *l).unwrap_or(LogLevel::Info)
    }
    fn set_level(&self, level: LogLevel) {
        let filter = match level {
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Error | LogLevel::Fatal => LevelFilter::ERROR,
        };
        if self.handle.reload(filter).is_ok() {
            if let Ok(mut l) = self.current.lock() {
                *l = level;
            }
        }
    }
}

fn open_log(path: &str, rotate_existing: bool) -> Result<std::fs::File> {
    let p = Path::new(path);
    if !rotate_existing {
        // Burrow's log file (lumberjack) creates its directory.
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the directory of log file {path}"))?;
        }
    }
    if rotate_existing && p.exists() {
        // Burrow's stdout-logfile: the previous file is kept under a timestamped name.
        let stamp = burrow_core::now_ms() / 1000;
        let _ = std::fs::rename(p, format!("{path}.{stamp}"));
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .with_context(|| format!("cannot open log file {path}"))
}

/// Installs the process's subscriber as `[logging]` and `[general] stdout-logfile` say.
pub fn init_logging(config: &Config, format: LogFormat) -> Result<Arc<TracingLevel>> {
    let level = match config.logging.level.as_str() {
        "debug" => LogLevel::Debug,
        "warn" => LogLevel::Warn,
        "error" => LogLevel::Error,
        "panic" | "fatal" => LogLevel::Fatal,
        _ => LogLevel::Info,
    };
    let (filter, handle) = reload::Layer::new(LevelFilter::INFO);
    let file = if !config.logging.filename.is_empty() {
        Some(open_log(&config.logging.filename, false).context("logging.filename")?)
    } else if !config.general.stdout_logfile.is_empty() {
        Some(open_log(&config.general.stdout_logfile, true).context("general.stdout-logfile")?)
    } else {
        None
    };
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => file.is_some() || !std::io::stdout().is_terminal(),
    };
    let fmt = tracing_subscriber::fmt::layer().with_target(false);
    let layer = match (file, json) {
        (Some(f), true) => fmt
            .json()
            .flatten_event(true)
            .with_writer(Mutex::new(f))
            .boxed(),
        (Some(f), false) => fmt.with_ansi(false).with_writer(Mutex::new(f)).boxed(),
        (None, true) => fmt
            .json()
            .flatten_event(true)
            .with_writer(std::io::stdout)
            .boxed(),
        (None, false) => fmt
            .with_ansi(std::io::stdout().is_terminal())
            .with_writer(std::io::stdout)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init()
        .map_err(|e| anyhow!("logging: {e}"))?;
    let control = Arc::new(TracingLevel {
        handle,
        current: Mutex::new(LogLevel::Info),
    });
    control.set_level(level);
    Ok(control)
}
