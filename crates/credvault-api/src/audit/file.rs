//! `--audit-log-file`: every entry also appended to a file as one JSON line, for a SIEM to
//! drain (API.md §8). A line that cannot be written fails the change it records (fail
//! closed), as Vault's audit devices do.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use credvault_core::audit::AuditEntry;
use credvault_store::AuditSink;

use super::entry_json;

pub struct AuditFile {
    file: Mutex<File>,
}

impl AuditFile {
    /// Opens `path` for appending, creating it (mode 0600) if needed.
    pub fn open(path: &Path) -> std::io::Result<AuditFile> {
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        Ok(AuditFile {
            file: Mutex::new(options.open(path)?),
        })
    }
}

impl AuditSink for AuditFile {
    /// Writes the entries' lines with one `write` and flushes them to the kernel; they are
    /// written while the change's transaction is open, so the file's order is the chain's.
    fn write(&self, entries: &[AuditEntry]) -> std::io::Result<()> {
        let mut lines = Vec::new();
        for entry in entries {
            serde_json::to_writer(&mut lines, &entry_json(entry))?;
            lines.push(b'\n');
        }
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(&lines)?;
        file.flush()
    }
}
