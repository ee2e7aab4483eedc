//! The process's log level as `/v3/admin/loglevel` reads and changes it.

/// A log level as Burrow's `/v3/admin/loglevel` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// `debug` (also set by `trace`).
    Debug,
    /// `info`.
    Info,
    /// `warn` (also set by `warning`).
    Warn,
    /// `error`.
    Error,
    /// `fatal`: only errors are logged.
    Fatal,
}

impl LogLevel {
    /// Parses the names Burrow accepts, case-insensitively: debug, trace (→ debug), info,
    /// warning/warn, error, fatal.
    pub fn parse(name: &str) -> Option<LogLevel> {
        match name.to_ascii_lowercase().as_str() {
            "debug" | "trace" => Some(LogLevel::Debug),
            "info" => Some(LogLevel::Info),
            "warn" | "warning" => Some(LogLevel::Warn),
            "error" => Some(LogLevel::Error),
            "fatal" => Some(LogLevel::Fatal),
            _ => None,
        }
    }

    /// The name Burrow reports (zap's level names).
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Fatal => "fatal",
        }
    }
}

/// Reads and changes the process's log level (the CLI implements it on tracing-subscriber's
/// reload handle).
pub trait LogLevelControl: Send + Sync {
    /// The current level.
    fn level(&self) -> LogLevel;
    /// Sets the level.
    fn set_level(&self, level: LogLevel);
}

/// A log level that is only remembered (for tests and embedders without a logger).
#[derive(Debug)]
pub struct FixedLogLevel(std::sync::Mutex<LogLevel>);

impl FixedLogLevel {
    /// Starts at `level`.
    pub fn new(level: LogLevel) -> Self {
        FixedLogLevel(std::sync::Mutex::new(level))
    }
}

impl LogLevelControl for FixedLogLevel {
    fn level(&self) -> LogLevel {
        self.0.lock().map(|l| *l).unwrap_or(LogLevel::Info)
    }
    fn set_level(&self, level: LogLevel) {
        if let Ok(mut l) = self.0.lock() {
            *l = level;
        }
    }
}
