//! Ctrl-C: neither worker processes nor a half-written temporary file outlive the process.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the SIGINT handler: kill and reap worker processes, remove the pending temporary
/// files, exit 130.
pub fn install() {
    // Failing to install (a handler already set) only loses the clean-up.
    let _ = ctrlc::set_handler(|| {
        mandel::process_pool::kill_all_workers();
        if let Ok(paths) = PENDING.lock() {
            for p in paths.iter() {
                let _ = std::fs::remove_file(p);
            }
        }
        std::process::exit(130);
    });
}

/// Keeps `path` on the clean-up list while the guard lives.
pub struct PendingFile(PathBuf);

impl PendingFile {
    pub fn new(path: &Path) -> Self {
        if let Ok(mut paths) = PENDING.lock() {
            paths.push(path.to_path_buf());
        }
        PendingFile(path.to_path_buf())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Ok(mut paths) = PENDING.lock() {
            paths.retain(|p| p != &self.0);
        }
    }
}
