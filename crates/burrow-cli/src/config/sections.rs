//! The sections the command line itself owns: `[general]` and `[logging]`. Every other
//! section's type lives in the crate that runs it.

use std::path::Path;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use burrow_core::config::{Bounded, Seconds, MAX_SECONDS};

/// `[general]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct General {
    /// PID lock file.
    pub pidfile: String,
    /// File that receives the process's output (logs when `logging.filename` is not set).
    pub stdout_logfile: String,
    /// Sent as `Access-Control-Allow-Origin` when set.
    pub access_control_allow_origin: String,
    /// Prefix of environment overrides.
    pub env_var_prefix: String,
    /// burrow-rs: the file the server's state is saved to for warm restarts ("" = none).
    pub state_file: String,
    /// burrow-rs: time between two saves of the state file (it is also saved at shutdown).
    pub state_interval: Seconds<1, MAX_SECONDS>,
    /// burrow-rs: `/burrow/admin/ready` stops answering `READY` once every cluster has been
    /// unreachable for longer than this (0: never).
    pub unreachable_limit: Seconds<0, MAX_SECONDS>,
}

impl Default for General {
    fn default() -> Self {
        General {
            pidfile: "burrow.pid".into(),
            stdout_logfile: String::new(),
            access_control_allow_origin: String::new(),
            env_var_prefix: "burrow".into(),
            state_file: String::new(),
            state_interval: Seconds::new(300),
            unreachable_limit: Seconds::new(300),
        }
    }
}

impl General {
    /// The files `[general]` names can be written: their directories exist, they are not
    /// directories. (Checked by the server's settings, not when the file is read.)
    pub fn check_files(&self) -> Result<()> {
        writable_file("general.pidfile", &self.pidfile)?;
        writable_file("general.stdout-logfile", &self.stdout_logfile)?;
        writable_file("general.state-file", &self.state_file)
    }
}

/// The log levels `[logging] level` accepts.
pub const LEVELS: &[&str] = &["debug", "info", "warn", "error", "dpanic", "panic", "fatal"];

/// `[logging]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Logging {
    /// Log file; empty = standard output.
    pub filename: String,
    /// debug, info, warn, error, panic, fatal.
    pub level: String,
    /// MB before rotation (0: 100, as lumberjack).
    pub maxsize: Bounded<0, 1_048_576>,
    /// Rotated files kept (0: all).
    pub maxbackups: Bounded<0, 100_000>,
    /// Days rotated files are kept (0: no limit).
    pub maxage: Bounded<0, 36_500>,
    /// Rotated file names in local time.
    pub use_localtime: bool,
    /// Gzip rotated files.
    pub use_compression: bool,
}

impl Default for Logging {
    fn default() -> Self {
        Logging {
            filename: String::new(),
            level: "info".into(),
            maxsize: Bounded::new(100),
            maxbackups: Bounded::new(10),
            maxage: Bounded::new(30),
            use_localtime: false,
            use_compression: false,
        }
    }
}

impl Logging {
    /// How the log file rotates (lumberjack's meaning of the keys).
    pub fn rotation(&self) -> crate::log_file::Limits {
        let mb = match self.maxsize.get() {
            0 => 100,
            n => n,
        };
        crate::log_file::Limits {
            max_bytes: usize::try_from(mb)
                .unwrap_or(100)
                .saturating_mul(1024 * 1024),
            max_backups: usize::try_from(self.maxbackups.get()).unwrap_or(0),
            max_age_days: u64::try_from(self.maxage.get()).unwrap_or(0),
            local_time: self.use_localtime,
            compress: self.use_compression,
        }
    }

    /// The level is one Burrow knows.
    pub fn validate(&self) -> Result<()> {
        if !LEVELS.contains(&self.level.as_str()) {
            bail!(
                "logging.level: unknown level {:?} (expected one of {})",
                self.level,
                LEVELS.join(", ")
            );
        }
        Ok(())
    }

    /// The log file can be written: its directory exists or can be created, as Burrow's log
    /// file (lumberjack) creates it. (Checked by the server's settings.)
    pub fn check_files(&self) -> Result<()> {
        if self.filename.is_empty() {
            return Ok(());
        }
        let file = Path::new(&self.filename);
        if file.is_dir() {
            bail!("logging.filename: {} is a directory", self.filename);
        }
        // The nearest ancestor that exists must be a directory.
        let existing = file
            .ancestors()
            .skip(1)
            .find(|a| a.as_os_str().is_empty() || a.exists());
        match existing {
            Some(a) if !a.as_os_str().is_empty() && !a.is_dir() => bail!(
                "logging.filename: {}: {} is not a directory",
                self.filename,
                a.display()
            ),
            _ => Ok(()),
        }
    }
}

/// A file the server will create or append to: empty (none), or a path whose directory exists
/// and that is not itself a directory.
pub fn writable_file(key: &str, path: &str) -> Result<()> {
    if path.is_empty() {
        return Ok(());
    }
    let file = Path::new(path);
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        bail!(
            "{key}: {path}: the directory {} does not exist",
            dir.display()
        );
    }
    if file.is_dir() {
        bail!("{key}: {path} is a directory");
    }
    Ok(())
}
