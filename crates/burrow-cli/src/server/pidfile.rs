//! Burrow's PID file: refuses to start when another live process holds it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The PID file, removed when dropped.
pub struct PidFile(Option<PathBuf>);

impl PidFile {
    /// Writes this process's id to `path` (empty = no file).
    pub fn create(path: &str) -> Result<PidFile> {
        if path.is_empty() {
            return Ok(PidFile(None));
        }
        let p = PathBuf::from(path);
        let own = std::process::id();
        if let Ok(text) = std::fs::read_to_string(&p) {
            if let Ok(pid) = text.trim().parse::<u32>() {
                if pid != own && Path::new(&format!("/proc/{pid}")).exists() {
                    bail!("general.pidfile: {path} names process {pid}, which is running (another Burrow?)");
                }
            }
        }
        std::fs::write(&p, format!("{own}\n"))
            .with_context(|| format!("general.pidfile: cannot write {path}"))?;
        Ok(PidFile(Some(p)))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}
