//! Ctrl-C: neither worker processes nor a half-written temporary file outlive the process.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Set by the handler before it kills anything, and held while it cleans up and exits.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static CLEANING_UP: Mutex<()> = Mutex::new(());

/// Installs the SIGINT handler: kill and reap worker processes, remove the pending temporary
/// files, exit 130.
pub fn install() {
    // Failing to install (a handler already set) only loses the clean-up.
    let _ = ctrlc::set_handler(|| {
        let _exiting = CLEANING_UP.lock();
        INTERRUPTED.store(true, Ordering::SeqCst);
        mandel::kill_all_workers();
        if let Ok(paths) = PENDING.lock() {
            for p in paths.iter() {
                let _ = std::fs::remove_file(p);
            }
        }
        std::process::exit(130);
    });
}

/// For the main thread about to exit on an error: if the error came from an interrupt (the
/// handler killed the workers under a render), waits for the handler, which exits with 130,
/// instead of racing it to exit with the error's status.
pub fn defer_to_handler() {
    if INTERRUPTED.load(Ordering::SeqCst) {
        // The handler holds the lock until the process exits: this never returns.
        let _never = CLEANING_UP.lock();
    }
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

/// Where a command writes its output: standard output, or a file that appears at its path
/// only when complete and is removed if the command is interrupted.
pub enum Output {
    Stdout(std::io::Stdout),
    File(mandel::AtomicFile, PendingFile),
}

impl Output {
    /// Opens `path` (`-`: standard output) and installs the interrupt handler. Called before
    /// any work, so that an unwritable path fails at once.
    pub fn open(path: &Path) -> mandel::Result<Output> {
        install();
        if path == Path::new("-") {
            return Ok(Output::Stdout(std::io::stdout()));
        }
        let file = mandel::AtomicFile::create(path)?;
        let pending = PendingFile::new(file.temp_path());
        Ok(Output::File(file, pending))
    }

    /// What to write to.
    pub fn writer(&mut self) -> &mut (dyn std::io::Write + Send) {
        match self {
            Output::Stdout(out) => out,
            Output::File(file, _) => file.file(),
        }
    }

    /// Puts a file in place, complete.
    pub fn commit(self) -> mandel::Result<()> {
        match self {
            Output::Stdout(_) => Ok(()),
            Output::File(file, _pending) => file.commit(),
        }
    }
}
