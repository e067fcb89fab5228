//! Process isolation: the supervisor only accepts and supervises, as the seed's comment thread
//! describes. Each accepted connection goes to a new worker process; the supervisor closes its
//! copy, goes back to waiting on accept and on child exits at once, stops accepting while the
//! cap of workers is alive and resumes when one ends, and reaps every child.

use std::collections::HashSet;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::config::Config;
use crate::db::Db;
use crate::scoreboard::Scoreboard;
use crate::{ACCEPT_BACKOFF, ServeError, WorkerCommand};

pub struct Supervisor {
    pub config: Arc<Config>,
    pub board: Arc<Scoreboard>,
    pub board_file: File,
    pub worker: WorkerCommand,
    pub db: Arc<Mutex<Db>>,
}

impl Supervisor {
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), ServeError> {
        let config_json =
            serde_json::to_string(&*self.config).map_err(|e| ServeError::Setup(e.to_string()))?;
        let cap = self.config.max_workers as usize;
        // Every worker inherits the scoreboard at the same descriptor number (the supervisor
        // starts no other process). Clearing close-on-exec once, rather than moving the
        // descriptor between fork and exec, keeps unsafe code out of the child and leaves the
        // standard library free to start workers with posix_spawn.
        // SAFETY: fcntl on a descriptor this struct owns; no pointers.
        if unsafe { libc::fcntl(self.board_file.as_raw_fd(), libc::F_SETFD, 0) } < 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        let (exits_tx, mut exits) = mpsc::unbounded_channel::<(u32, ExitStatus)>();
        // Signals for every worker go through the task that waits for it: only that task
        // knows whether the pid is still its child's (a reaped pid may already be reused).
        let (signals, _) = watch::channel(0);
        let mut alive: HashSet<u32> = HashSet::new();
        tokio::pin!(shutdown);

        loop {
            let at_cap = alive.len() >= cap;
            self.board.set_accept_paused(at_cap);
            tokio::select! {
                // Exits first: a slot freed is a slot to accept into.
                biased;
                () = &mut shutdown => break,
                Some((pid, status)) = exits.recv() => {
                    alive.remove(&pid);
                    self.reaped(pid, status).await;
                }
                accepted = listener.accept(), if !at_cap => match accepted {
                    Ok((stream, peer)) => {
                        self.board.connections_accepted.fetch_add(1, Relaxed);
                        match self.spawn(stream, &config_json, &exits_tx, &signals) {
                            Ok(pid) => {
                                alive.insert(pid);
                                self.board.workers_busy.fetch_add(1, Relaxed);
                            }
                            Err(e) => tracing::error!(%peer, "cannot start a worker: {e}"),
                        }
                    }
                    Err(e) => {
                        tracing::warn!("accept: {e}");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
            }
        }

        // Shutting down: no new connections (the listener closes), running requests finish.
        drop(listener);
        self.board.set_accept_paused(false);
        tracing::info!(
            workers = alive.len(),
            "shutting down: waiting up to {:?} for workers",
            self.config.shutdown_timeout
        );
        signals.send_replace(libc::SIGTERM);
        let deadline = tokio::time::Instant::now() + self.config.shutdown_timeout;
        while !alive.is_empty() {
            match tokio::time::timeout_at(deadline, exits.recv()).await {
                Ok(Some((pid, status))) => {
                    alive.remove(&pid);
                    self.reaped(pid, status).await;
                }
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!(workers = alive.len(), "shutdown deadline passed: killing");
                    signals.send_replace(libc::SIGKILL);
                    // Killed children still have to be reaped: keep receiving their exits.
                    while let Some((pid, status)) = exits.recv().await {
                        alive.remove(&pid);
                        self.reaped(pid, status).await;
                        if alive.is_empty() {
                            break;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Starts a worker for `stream` and a task that reaps it. Returns its pid.
    fn spawn(
        &self,
        stream: TcpStream,
        config_json: &str,
        exits: &mpsc::UnboundedSender<(u32, ExitStatus)>,
        signals: &watch::Sender<i32>,
    ) -> std::io::Result<u32> {
        let socket = OwnedFd::from(stream.into_std()?);
        let board = self.board_file.as_raw_fd().to_string();
        let mut cmd = tokio::process::Command::new(&self.worker.program);
        cmd.args(&self.worker.args)
            .args([board.as_str(), config_json])
            .stdin(Stdio::from(socket))
            .stdout(Stdio::null())
            .kill_on_drop(false);
        let mut child = cmd.spawn()?;
        // The supervisor's copy of the connection goes with `cmd`: only the worker holds it.
        drop(cmd);
        let pid = child.id().expect("a child just spawned has a pid");
        let exits = exits.clone();
        let mut signals = signals.subscribe();
        tokio::spawn(async move {
            // `wait` reaps the child: it never lingers as a zombie.
            let status = loop {
                tokio::select! {
                    status = child.wait() => break status,
                    Ok(()) = signals.changed() => {
                        let sig = *signals.borrow_and_update();
                        // `id` is None once the child is reaped: never signal a reused pid.
                        if let Some(pid) = child.id() {
                            // SAFETY: kill takes plain integers; the pid is our live child's.
                            unsafe { libc::kill(pid as i32, sig) };
                        }
                    }
                }
            };
            let status = status.unwrap_or_else(|e| {
                tracing::error!(pid, "waiting for a worker: {e}");
                // Counted as a failure (exit status 1), so its renders are marked failed.
                ExitStatus::from_raw(1 << 8)
            });
            let _ = exits.send((pid, status));
        });
        Ok(pid)
    }

    /// Bookkeeping for a reaped worker; renders a failed worker left running are marked
    /// failed in the log.
    async fn reaped(&self, pid: u32, status: ExitStatus) {
        self.board.workers_busy.fetch_sub(1, Relaxed);
        if status.success() {
            return;
        }
        self.board.workers_failed.fetch_add(1, Relaxed);
        let reason = match status.signal() {
            Some(sig) => format!("worker {pid} was killed by signal {sig}"),
            None => format!("worker {pid} exited with {status}"),
        };
        tracing::warn!(pid, "{reason}");
        let db = self.db.clone();
        let marked = tokio::task::spawn_blocking(move || {
            let db = db.lock().unwrap_or_else(|p| p.into_inner());
            db.fail_running(pid, &reason)
        })
        .await;
        match marked {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::warn!(pid, "marked {n} running render(s) failed"),
            Ok(Err(e)) => tracing::error!(pid, "cannot mark its renders failed: {e}"),
            Err(e) => tracing::error!(pid, "cannot mark its renders failed: {e}"),
        }
    }
}
