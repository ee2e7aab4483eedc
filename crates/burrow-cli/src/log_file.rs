//! Burrow's log file as its `[logging]` keys say (Burrow rotates it with lumberjack): when it
//! passes `maxsize` MB it is renamed `<name>-<time>.<ext>` (`burrow-2023-11-14T22-13-20.123.log`,
//! UTC or with `use-localtime` local time), gzipped with `use-compression`
//! (`….log.gz`), and of the rotated files at most `maxbackups` are kept (0: all) and none older
//! than `maxage` days (0: no limit).
//!
//! Rotating, compressing and deleting are the `file-rotate` crate's; the names and the limits
//! are lumberjack's ([`Lumberjack`], a `file-rotate` suffix scheme). `file-rotate` panics when
//! it cannot create the log's directory; such a panic is caught and becomes a write error.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use chrono::{Duration, Local, NaiveDateTime, Utc};
use file_rotate::compression::Compression;
use file_rotate::suffix::{Representation, SuffixScheme};
use file_rotate::{ContentLimit, FileRotate, SuffixInfo};

/// lumberjack's time layout in backup names (Go `2006-01-02T15-04-05.000`).
const STAMP: &str = "%Y-%m-%dT%H-%M-%S%.3f";

/// The limits of one log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Rotate once the file passes this many bytes.
    pub max_bytes: usize,
    /// Rotated files kept (0: all).
    pub max_backups: usize,
    /// Rotated files older than this many days are deleted (0: none is).
    pub max_age_days: u64,
    /// Local time in backup names (else UTC).
    pub local_time: bool,
    /// Gzip rotated files.
    pub compress: bool,
}

/// A rotated file's time (and a number when two rotations fall in one millisecond).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The rotation time, formatted as [`STAMP`].
    time: String,
    number: Option<u32>,
}

impl Ord for Stamp {
    /// Newest first, as file-rotate orders suffixes.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .time
            .cmp(&self.time)
            .then_with(|| other.number.cmp(&self.number))
    }
}

impl PartialOrd for Stamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.number {
            Some(n) => write!(f, "{}.{n}", self.time),
            None => f.write_str(&self.time),
        }
    }
}

/// `dir/stem` and `.ext` of a log path (`logs/burrow.log` → `logs/burrow`, `.log`).
fn stem_and_ext(basepath: &Path) -> (PathBuf, String) {
    let ext = basepath
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let stem = basepath
        .file_stem()
        .map(|s| s.to_os_string())
        .unwrap_or_default();
    (basepath.with_file_name(stem), ext)
}

impl Representation for Stamp {
    /// lumberjack's backup name: the time between the name and the extension.
    fn to_path(&self, basepath: &Path) -> PathBuf {
        let (stem, ext) = stem_and_ext(basepath);
        PathBuf::from(format!("{}-{self}{ext}", stem.display()))
    }
}

/// lumberjack's names and limits as a `file-rotate` suffix scheme.
#[derive(Debug, Clone)]
pub struct Lumberjack {
    limits: Limits,
}

impl Lumberjack {
    /// The time `days` ago in the names' zone and layout (0: now).
    fn stamp(&self, days: u64) -> String {
        let age = Duration::days(i64::try_from(days).unwrap_or(i64::MAX / 86_400_000));
        if self.limits.local_time {
            (Local::now() - age).format(STAMP).to_string()
        } else {
            (Utc::now() - age).format(STAMP).to_string()
        }
    }
}

impl SuffixScheme for Lumberjack {
    type Repr = Stamp;

    fn rotate_file(
        &mut self,
        _basepath: &Path,
        newest: Option<&Stamp>,
        suffix: &Option<Stamp>,
    ) -> io::Result<Stamp> {
        if suffix.is_some() {
            // Only the live file is ever renamed (each backup has its own time).
            return Err(io::Error::other(
                "a rotated log file cannot be rotated again",
            ));
        }
        let time = self.stamp(0);
        let number = newest
            .filter(|n| n.time == time)
            .map(|n| n.number.unwrap_or(0) + 1);
        Ok(Stamp { time, number })
    }

    fn parse(&self, suffix: &str) -> Option<Stamp> {
        let (time, number) = match suffix.get(23..) {
            Some(rest) if !rest.is_empty() => (
                suffix.get(..23)?,
                Some(rest.strip_prefix('.')?.parse().ok()?),
            ),
            _ => (suffix, None),
        };
        NaiveDateTime::parse_from_str(time, STAMP).ok()?;
        Some(Stamp {
            time: time.to_string(),
            number,
        })
    }

    fn too_old(&self, suffix: &Stamp, file_number: usize) -> bool {
        let l = &self.limits;
        (l.max_backups > 0 && file_number >= l.max_backups)
            || (l.max_age_days > 0 && suffix.time < self.stamp(l.max_age_days))
    }

    /// The backups beside the log: `<stem>-<time><ext>` and `<stem>-<time><ext>.gz`.
    fn scan_suffixes(&self, basepath: &Path) -> BTreeSet<SuffixInfo<Stamp>> {
        let (stem, ext) = stem_and_ext(basepath);
        let prefix = format!(
            "{}-",
            stem.file_name()
                .map(|s| s.to_string_lossy())
                .unwrap_or_default()
        );
        let dir = match basepath.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return BTreeSet::new();
        };
        entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let (name, compressed) = match name.strip_suffix(".gz") {
                    Some(n) => (n.to_string(), true),
                    None => (name, false),
                };
                let middle = name.strip_prefix(&prefix)?.strip_suffix(ext.as_str())?;
                let suffix = self.parse(middle)?;
                Some(SuffixInfo { suffix, compressed })
            })
            .collect()
    }
}

/// The log file: a writer that rotates as [`Limits`] say.
pub struct LogFile {
    inner: Option<FileRotate<Lumberjack>>,
}

impl LogFile {
    /// Opens (or creates) the log at `path`.
    pub fn open(path: &Path, limits: Limits) -> io::Result<LogFile> {
        let max_bytes = limits.max_bytes.max(1);
        let compression = if limits.compress {
            Compression::OnRotate(0)
        } else {
            Compression::None
        };
        let scheme = Lumberjack { limits };
        let path = path.to_path_buf();
        let inner = catch_unwind(AssertUnwindSafe(|| {
            FileRotate::new(
                &path,
                scheme,
                ContentLimit::BytesSurpassed(max_bytes),
                compression,
                None,
            )
        }))
        .map_err(|_| io::Error::other(format!("cannot create the log file {}", path.display())))?;
        Ok(LogFile { inner: Some(inner) })
    }

    fn guarded<T>(
        &mut self,
        f: impl FnOnce(&mut FileRotate<Lumberjack>) -> io::Result<T>,
    ) -> io::Result<T> {
        let Some(inner) = self.inner.as_mut() else {
            return Err(io::Error::other("the log file failed before"));
        };
        match catch_unwind(AssertUnwindSafe(|| f(inner))) {
            Ok(r) => r,
            Err(_) => {
                // file-rotate's state is unknown after a panic: no more writes.
                self.inner = None;
                Err(io::Error::other(
                    "the log file's directory cannot be created",
                ))
            }
        }
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.guarded(|f| f.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.guarded(|f| f.flush())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_backups: usize, compress: bool) -> Limits {
        Limits {
            max_bytes: 100,
            max_backups,
            max_age_days: 0,
            local_time: false,
            compress,
        }
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn write_lines(log: &mut LogFile, n: usize) {
        for i in 0..n {
            writeln!(log, "line {i:04} of a log that grows past its limit").unwrap();
        }
    }

    #[test]
    fn passing_the_size_rotates_to_lumberjack_names_and_keeps_max_backups() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = LogFile::open(&dir.path().join("burrow.log"), limits(3, false)).unwrap();
        write_lines(&mut log, 40);
        log.flush().unwrap();
        let names = listing(dir.path());
        assert!(names.contains(&"burrow.log".to_string()), "{names:?}");
        let backups: Vec<&String> = names.iter().filter(|n| *n != "burrow.log").collect();
        assert_eq!(backups.len(), 3, "{names:?}");
        for b in &backups {
            // burrow-2023-11-14T22-13-20.123.log (or .N before .log when in the same ms)
            let middle = b
                .strip_prefix("burrow-")
                .unwrap()
                .strip_suffix(".log")
                .unwrap();
            assert!(
                Lumberjack {
                    limits: limits(0, false)
                }
                .parse(middle)
                .is_some(),
                "{b}"
            );
        }
        // Nothing is lost from the live file; each backup passed the limit by one line at most.
        for b in &backups {
            let len = std::fs::metadata(dir.path().join(b)).unwrap().len();
            assert!((100..160).contains(&len), "{b}: {len}");
        }
    }

    #[test]
    fn compression_gzips_rotated_files() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let mut log = LogFile::open(&dir.path().join("app.log"), limits(0, true)).unwrap();
        write_lines(&mut log, 10);
        log.flush().unwrap();
        let names = listing(dir.path());
        let gz: Vec<&String> = names.iter().filter(|n| n.ends_with(".log.gz")).collect();
        assert!(!gz.is_empty(), "{names:?}");
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(dir.path().join(gz[0])).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert!(text.starts_with("line 0"), "{text}");
    }

    #[test]
    fn backups_older_than_max_age_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("burrow-2001-02-03T04-05-06.789.log");
        std::fs::write(&old, "from long ago\n").unwrap();
        let kept_by_count = Limits {
            max_age_days: 0,
            ..limits(0, false)
        };
        let mut log = LogFile::open(&dir.path().join("burrow.log"), kept_by_count).unwrap();
        write_lines(&mut log, 5);
        assert!(old.exists(), "no age limit: kept");
        drop(log);
        let aged = Limits {
            max_age_days: 30,
            ..limits(0, false)
        };
        let mut log = LogFile::open(&dir.path().join("burrow.log"), aged).unwrap();
        write_lines(&mut log, 5);
        assert!(!old.exists(), "{:?}", listing(dir.path()));
    }

    #[test]
    fn burrows_keys_map_to_limits() {
        let logging: crate::config::Logging = toml::from_str(
            "filename = \"x.log\"\nmaxsize = 0\nmaxbackups = 3\nmaxage = 7\nuse-localtime = true\nuse-compression = true",
        )
        .unwrap();
        assert_eq!(
            logging.rotation(),
            Limits {
                max_bytes: 100 * 1024 * 1024,
                max_backups: 3,
                max_age_days: 7,
                local_time: true,
                compress: true,
            }
        );
    }

    #[test]
    fn local_time_names_use_the_local_zone() {
        let scheme = Lumberjack {
            limits: Limits {
                local_time: true,
                ..limits(0, false)
            },
        };
        let local = scheme.stamp(0);
        let utc = Lumberjack {
            limits: limits(0, false),
        }
        .stamp(0);
        // Same instant within a second, formatted in each zone (equal where the zone is UTC).
        assert_eq!(local.len(), utc.len());
        assert!(scheme.parse(&local).is_some());
    }
}
