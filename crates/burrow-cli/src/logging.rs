//! The process's logs: text or JSON, to standard output or Burrow's log file (rotated as
//! `[logging]` says: [`crate::log_file`]), with a level that `/v3/admin/loglevel` changes at run
//! time.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Context, Result};
use clap::ValueEnum;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{filter::LevelFilter, reload, Layer, Registry};

use burrow_http::{LogLevel, LogLevelControl};

use crate::config::Config;
use crate::log_file::LogFile;

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

/// Burrow's `stdout-logfile` (the rotating `[logging]` file is [`LogFile`]).
fn open_log(path: &str) -> Result<std::fs::File> {
    let p = Path::new(path);
    if p.exists() {
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
        "dpanic" => LogLevel::Error,
        "panic" | "fatal" => LogLevel::Fatal,
        _ => LogLevel::Info,
    };
    let (filter, handle) = reload::Layer::new(LevelFilter::INFO);
    let file: Option<Box<dyn Write + Send>> = if !config.logging.filename.is_empty() {
        Some(Box::new(
            LogFile::open(
                Path::new(&config.logging.filename),
                config.logging.rotation(),
            )
            .with_context(|| format!("logging.filename: {}", config.logging.filename))?,
        ))
    } else if !config.general.stdout_logfile.is_empty() {
        Some(Box::new(
            open_log(&config.general.stdout_logfile).context("general.stdout-logfile")?,
        ))
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
