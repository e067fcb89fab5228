//! Process isolation: the supervisor only accepts and supervises, as the seed's comment thread
//! describes. Each accepted connection goes to a new worker process; the supervisor closes its
//! copy, goes back to waiting on accept and on child exits at once, stops accepting while the
//! cap of workers is alive and resumes when one ends, and reaps every child.
//!
//! The supervisor also relays each worker's render-log entries to the one log writer
//! ([`crate::log`]): a worker's standard output is a socket to its supervisor, on which it
//! sends an entry per line and reads the answer. So the supervisor knows the renders each
//! worker has in flight, and marks them failed if the worker dies.

use std::collections::HashSet;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::Config;
use crate::log::{Answer, LogWriter, RenderLog, Request};
use crate::scoreboard::Scoreboard;
use crate::{ACCEPT_BACKOFF, ServeError, WorkerCommand};

pub struct Supervisor {
    pub config: Arc<Config>,
    pub board: Arc<Scoreboard>,
    pub board_file: File,
    pub worker: WorkerCommand,
    pub log: LogWriter,
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

    /// Starts a worker for `stream` and a task that relays its log entries and reaps it.
    /// Returns its pid.
    fn spawn(
        &self,
        stream: TcpStream,
        config_json: &str,
        exits: &mpsc::UnboundedSender<(u32, ExitStatus)>,
        signals: &watch::Sender<i32>,
    ) -> std::io::Result<u32> {
        let socket = OwnedFd::from(stream.into_std()?);
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
        ours.set_nonblocking(true)?;
        let log_socket = UnixStream::from_std(ours)?;
        let board = self.board_file.as_raw_fd().to_string();
        let mut cmd = tokio::process::Command::new(&self.worker.program);
        cmd.args(&self.worker.args)
            .args([board.as_str(), config_json])
            .stdin(Stdio::from(socket))
            .stdout(Stdio::from(OwnedFd::from(theirs)))
            .kill_on_drop(false);
        let mut child = cmd.spawn()?;
        // The supervisor's copies of the connection and of the worker's end of the log
        // socket go with `cmd`: only the worker holds them.
        drop(cmd);
        let pid = child.id().expect("a child just spawned has a pid");
        let exits = exits.clone();
        let mut signals = signals.subscribe();
        let log = self.log.clone();
        tokio::spawn(async move {
            let (reader, mut writer) = log_socket.into_split();
            let mut lines = BufReader::new(reader).lines();
            let mut log_open = true;
            let mut in_flight = Vec::new();
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
                    // (Cancel-safe: a line half read stays buffered for the next call.)
                    line = lines.next_line(), if log_open => match line {
                        Ok(Some(line)) => {
                            let answer = relay(&log, &line, &mut in_flight).await;
                            let mut answer = serde_json::to_string(&answer)
                                .expect("an answer serialises");
                            answer.push('\n');
                            // A worker that died before reading it is reaped below.
                            let _ = writer.write_all(answer.as_bytes()).await;
                        }
                        _ => log_open = false,
                    },
                }
            };
            let status = status.unwrap_or_else(|e| {
                tracing::error!(pid, "waiting for a worker: {e}");
                // Counted as a failure (exit status 1).
                ExitStatus::from_raw(1 << 8)
            });
            if !in_flight.is_empty() {
                let reason = describe_exit(pid, status);
                let n = in_flight.len();
                tracing::warn!(pid, "{reason}: marking its {n} running render(s) failed");
                log.submit_abandoned(in_flight, reason);
            }
            let _ = exits.send((pid, status));
        });
        Ok(pid)
    }

    /// Bookkeeping for a reaped worker.
    async fn reaped(&self, pid: u32, status: ExitStatus) {
        self.board.workers_busy.fetch_sub(1, Relaxed);
        if !status.success() {
            self.board.workers_failed.fetch_add(1, Relaxed);
            tracing::warn!(pid, "{}", describe_exit(pid, status));
        }
    }
}

fn describe_exit(pid: u32, status: ExitStatus) -> String {
    match status.signal() {
        Some(sig) => format!("worker {pid} was killed by signal {sig}"),
        None => format!("worker {pid} exited with {status}"),
    }
}

/// Passes one line from a worker, a render's `Begin` or `Finish`, to the log writer and
/// returns its answer, keeping `in_flight` (the renders begun and not finished) up to date.
async fn relay(log: &LogWriter, line: &str, in_flight: &mut Vec<i64>) -> Answer {
    let request: Request = serde_json::from_str(line).map_err(|e| format!("a bad request: {e}"))?;
    match request {
        // Answered at once (see `log`).
        Request::Begin(render) => {
            let id = log.begin(&render).map_err(|e| e.to_string())?;
            in_flight.push(id);
            Ok(id)
        }
        Request::Finish { id, took, outcome } => {
            // Off the list at once: counted off in flight now, it must not be again if the
            // worker dies before the answer.
            let Some(at) = in_flight.iter().position(|&i| i == id) else {
                return Err(format!("render {id} is not this worker's"));
            };
            in_flight.swap_remove(at);
            let (tx, rx) = oneshot::channel();
            log.submit_finish(id, took, outcome, move |answer| {
                let _ = tx.send(answer);
            });
            rx.await
                .unwrap_or_else(|_| Err("the log writer has stopped".into()))
        }
    }
}
