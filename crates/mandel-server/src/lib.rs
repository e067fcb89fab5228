//! `mandel serve`: the renderer over HTTP, built as the seed's comment thread describes its
//! daemon. A supervisor accepts connections and hands each to a new worker process (or, with
//! thread isolation, to a task), caps the workers alive at once, and reaps them; workers log
//! every render in SQLite and answer with pictures, JSON, metrics and an HTML summary.
//!
//! - [`app`]: the HTTP interface, one router per connection, testable without a socket;
//! - [`render_api`]: `/render`'s parameters and the render job; [`tiles`]: `/tile`'s
//!   addressing and the tile cache;
//! - [`db`]: every SQL statement; [`scoreboard`]: counters shared between processes;
//! - [`serve`]: binds, then runs the supervisor ([`Isolation::Process`]) or the task loop
//!   ([`Isolation::Thread`]) until SIGTERM or SIGINT; [`worker`]: a worker process.

pub mod app;
pub mod config;
mod connection;
pub mod db;
pub mod error;
mod explore;
pub mod log;
pub mod pages;
pub mod render_api;
pub mod scoreboard;
mod supervisor;
mod threads;
pub mod tiles;
pub mod worker;

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use config::{Config, Isolation, Limits};
use db::Db;
use log::LogWriter;
use scoreboard::Scoreboard;

/// After an accept error (out of descriptors, say), both isolations wait this long before
/// accepting again rather than spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// How often renders older than `--log-retention` are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Why the server could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("--listen {addr}: {err}")]
    Bind {
        addr: SocketAddr,
        err: std::io::Error,
    },
    #[error("--db {}: {err}", path.display())]
    Db { path: PathBuf, err: db::Error },
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("database: {0}")]
    Sql(#[from] db::Error),
    #[error("render log: {0}")]
    Log(#[from] log::Error),
}

impl ServeError {
    /// Whether the user can fix it by changing the command (a bad address or database path).
    pub fn is_usage(&self) -> bool {
        matches!(self, ServeError::Bind { .. } | ServeError::Db { .. })
    }
}

/// How to start a worker process: this same binary, with the hidden subcommand that calls
/// [`worker::main`]; the scoreboard's descriptor number and the configuration (JSON) are
/// appended as its last two arguments.
#[derive(Debug, Clone)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

/// Runs the server until SIGTERM or SIGINT, then shuts it down gracefully.
pub fn serve(config: Config, worker: WorkerCommand) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(run(config, worker));
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn run(config: Config, worker: WorkerCommand) -> Result<(), ServeError> {
    // Bind first: a taken port should not leave a new database file behind.
    let listener = bind(config.listen, config.backlog)?;
    // The database is created, migrated and cleaned of an earlier run's leftovers before the
    // first connection, so a bad path fails here, once, with its name.
    let db = {
        let path = config.db.clone();
        tokio::task::spawn_blocking(move || {
            let db = Db::open(&path).map_err(|err| ServeError::Db { path, err })?;
            let orphans = db.fail_orphans()?;
            if orphans > 0 {
                tracing::warn!("marked {orphans} render(s) of an earlier run failed");
            }
            Ok::<_, ServeError>(db)
        })
        .await
        .map_err(|e| ServeError::Setup(e.to_string()))??
    };
    let addr = listener.local_addr()?;
    let shutdown = shutdown_signal()?;
    let config = Arc::new(config);
    let log = LogWriter::start(db)?;
    let maintenance = tokio::spawn(prune_log(log.clone(), config.log_retention));
    tracing::info!(
        isolation = config.isolation.name(),
        max_workers = config.max_workers,
        db = %config.db.display(),
        "listening on http://{addr}"
    );
    match config.isolation {
        Isolation::Process => {
            let (board, board_file) = Scoreboard::shared(config.max_workers)?;
            let board = Arc::new(board);
            let supervisor = supervisor::Supervisor {
                config,
                board: board.clone(),
                board_file,
                worker,
                log: log.clone().with_board(board),
            };
            supervisor.run(listener, shutdown).await?;
        }
        Isolation::Thread => {
            let board = Arc::new(Scoreboard::private(config.max_workers)?);
            let counted = log.clone().with_board(board.clone());
            threads::run(config, board, counted, listener, shutdown).await?;
        }
    }
    maintenance.abort();
    // The last entries (a dead worker's renders failed, say) are committed before exit.
    match tokio::task::spawn_blocking(move || log.flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!("flushing the render log: {e}"),
        Err(e) => tracing::error!("flushing the render log: {e}"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Deletes renders older than `retention` from the log, at start and every [`PRUNE_EVERY`].
async fn prune_log(log: LogWriter, retention: Duration) {
    let mut every = tokio::time::interval(PRUNE_EVERY);
    loop {
        every.tick().await;
        let (tx, rx) = tokio::sync::oneshot::channel();
        log.submit(log::Entry::Prune { age: retention }, move |answer| {
            let _ = tx.send(answer);
        });
        match rx.await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!("deleted {n} render(s) older than {retention:?}"),
            Ok(Err(e)) => tracing::error!("pruning the log: {e}"),
            Err(_) => return,
        }
    }
}

/// A listening socket with room for `backlog` connections to wait while accepting is paused.
fn bind(addr: SocketAddr, backlog: u32) -> Result<tokio::net::TcpListener, ServeError> {
    let bind = || {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(backlog)
    };
    bind().map_err(|err| ServeError::Bind { addr, err })
}

/// Resolves on the first SIGTERM or SIGINT. The handlers are installed when this is called,
/// so a signal that arrives before the future is polled is not lost.
pub(crate) fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}
