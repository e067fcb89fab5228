//! Writing the render log through one writer: a thread in the server process owns the only
//! connection that writes, and commits whatever entries are waiting in one transaction.
//!
//! Why one writer: with a connection per worker, every render paid for two write
//! transactions of its own, and under load the writers queued on SQLite's file lock; every
//! worker process also opened the database and parsed its schema before its first render.
//! With one writer, entries that arrive while a transaction commits go into the next one
//! (group commit), no writer ever waits for a lock, and a worker process that only renders
//! never opens the database. Reads (the pages, `/renders`) still use a connection of the
//! worker's own: WAL readers never wait for the writer.
//!
//! The writer is reached through [`RenderLog`]: in the server process a [`LogWriter`]
//! handle; in a worker process a [`LogClient`], which sends each entry to its supervisor
//! over a socket (the worker's standard output) and waits for the answer.
//!
//! A render's end is answered once it is committed: a client that got its 200 finds its
//! render logged `ok` even if the whole server is killed the moment after. Its beginning is
//! answered at once, with the id the writer will give it (the writer is the database's only
//! writer, so it numbers renders itself), and committed with the next batch, usually while
//! the render runs: a render costs one wait for a commit, not two, and a small render's two
//! entries often share one transaction. If a worker process dies mid-render, the
//! supervisor's entry that fails it follows its beginning through the same queue.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::db::{Db, NewRender, Outcome};
use crate::scoreboard::Scoreboard;

/// Entries committed in one transaction at most: a bound on how long one commit holds the
/// writer while others wait for their answers.
const MAX_BATCH: usize = 256;

/// How long a render's beginning may wait for company before it is committed alone: long
/// enough for a small render to end (its end then shares the commit), short enough that a
/// render is in the log as `running` a few milliseconds after it starts.
const BEGIN_LINGER: Duration = Duration::from_millis(5);

/// Why an entry could not be logged.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("the log writer: {0}")]
    Writer(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where renders are logged: as `running` before they start, then with their outcome.
pub trait RenderLog: Send + Sync {
    /// The render's id, at once; the entry is committed with the writer's next batch.
    fn begin(&self, render: &NewRender) -> Result<i64>;
    /// Returns once the outcome is committed (and fails if the beginning could not be).
    fn finish(&self, id: i64, took: Duration, outcome: &Outcome) -> Result<()>;
}

/// What a worker process asks of its supervisor, a line of JSON each: [`RenderLog`]'s calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    Begin(NewRender),
    Finish {
        id: i64,
        took: Duration,
        outcome: Outcome,
    },
}

/// One entry for the writer.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A render starting, with the id the writer numbered it with.
    Begin { id: i64, render: NewRender },
    Finish {
        id: i64,
        took: Duration,
        outcome: Outcome,
    },
    /// Renders still `running` that a worker left behind when it died.
    Fail { ids: Vec<i64>, reason: String },
    /// Deletes the renders older than `age` (answers how many).
    Prune { age: Duration },
    /// Nothing: answered once every entry queued before it is committed.
    Flush,
}

/// What the writer answers: how many renders a `Fail` or `Prune` changed, 0 otherwise; or
/// why the entry failed. (Over the socket: the id for a `Begin`.)
pub type Answer = std::result::Result<i64, String>;

type Pending = (Entry, Box<dyn FnOnce(Answer) + Send>);

/// A handle to the writer thread; clones share it. The thread ends when the last handle is
/// dropped.
#[derive(Clone)]
pub struct LogWriter {
    tx: mpsc::Sender<Pending>,
    /// The next render's id.
    next_id: Arc<AtomicI64>,
    /// Where renders begun and not yet finished are counted (`mandel_renders_in_flight`):
    /// here, where each render's beginning and end pass, rather than in the workers, so that
    /// the renders of a worker that dies are counted off too.
    board: Option<Arc<Scoreboard>>,
}

impl LogWriter {
    /// Starts the writer thread on `db`, which no other process writes while it runs.
    pub fn start(db: Db) -> Result<Self> {
        let next_id = Arc::new(AtomicI64::new(db.next_id()?));
        let (tx, rx) = mpsc::channel::<Pending>();
        std::thread::Builder::new()
            .name("mandel-log".into())
            .spawn(move || write_batches(&db, &rx))
            .map_err(|e| Error::Writer(format!("cannot start: {e}")))?;
        Ok(LogWriter {
            tx,
            next_id,
            board: None,
        })
    }

    /// Counts the renders in flight on `board`.
    pub fn with_board(self, board: Arc<Scoreboard>) -> Self {
        LogWriter {
            board: Some(board),
            ..self
        }
    }

    /// Queues a render's end; `answer` is called once it is committed.
    pub fn submit_finish(
        &self,
        id: i64,
        took: Duration,
        outcome: Outcome,
        answer: impl FnOnce(Answer) + Send + 'static,
    ) {
        self.count_off(1);
        self.submit(Entry::Finish { id, took, outcome }, answer);
    }

    /// Queues the failure of renders that a dead worker left `running`.
    pub fn submit_abandoned(&self, ids: Vec<i64>, reason: String) {
        self.count_off(ids.len() as u64);
        self.submit(Entry::Fail { ids, reason }, |answer| {
            if let Err(e) = answer {
                tracing::error!("cannot mark a dead worker's renders failed: {e}");
            }
        });
    }

    fn count_off(&self, renders: u64) {
        if let Some(board) = &self.board {
            board
                .renders_in_flight
                .fetch_sub(renders, Ordering::Relaxed);
        }
    }

    /// Queues `entry`; `answer` is called from the writer thread once it is committed (or
    /// failed).
    pub fn submit(&self, entry: Entry, answer: impl FnOnce(Answer) + Send + 'static) {
        if let Err(mpsc::SendError((_, answer))) = self.tx.send((entry, Box::new(answer))) {
            answer(Err("the log writer has stopped".into()));
        }
    }

    /// Waits until every entry queued so far is committed (before the server exits: the
    /// writer is a thread, which the process's end would cut short).
    pub fn flush(&self) -> Result<()> {
        self.write(Entry::Flush).map(drop)
    }

    /// Queues `entry` and waits for its answer.
    pub fn write(&self, entry: Entry) -> Result<i64> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(entry, move |answer| {
            let _ = tx.send(answer);
        });
        rx.recv()
            .map_err(|_| Error::Writer("no answer".into()))?
            .map_err(Error::Writer)
    }
}

impl RenderLog for LogWriter {
    fn begin(&self, render: &NewRender) -> Result<i64> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Some(board) = &self.board {
            board.renders_in_flight.fetch_add(1, Ordering::Relaxed);
        }
        let render = render.clone();
        // An entry that fails is reported by the render's `finish`, which finds no row.
        self.submit(Entry::Begin { id, render }, move |answer| {
            if let Err(e) = answer {
                tracing::error!("logging render {id}: {e}");
            }
        });
        Ok(id)
    }

    fn finish(&self, id: i64, took: Duration, outcome: &Outcome) -> Result<()> {
        self.count_off(1);
        let outcome = outcome.clone();
        self.write(Entry::Finish { id, took, outcome }).map(drop)
    }
}

/// The writer thread: takes every entry waiting (up to [`MAX_BATCH`]), applies them in one
/// transaction, commits, then answers each.
fn write_batches(db: &Db, rx: &mpsc::Receiver<Pending>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        let linger_until = Instant::now() + BEGIN_LINGER;
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                // Nobody waits for a beginning: a batch of beginnings only waits a moment
                // for more, so that a short render's beginning and end share one commit.
                Err(mpsc::TryRecvError::Empty)
                    if batch.iter().all(|(e, _)| matches!(e, Entry::Begin { .. })) =>
                {
                    match rx.recv_timeout(linger_until.saturating_duration_since(Instant::now())) {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                Err(_) => break,
            }
        }
        let entries: Vec<&Entry> = batch.iter().map(|(entry, _)| entry).collect();
        let answers: Vec<Answer> = match db.apply(&entries) {
            Ok(results) => results
                .into_iter()
                .map(|r| r.map_err(|e| e.to_string()))
                .collect(),
            Err(e) => {
                tracing::error!("committing the render log: {e}");
                vec![Err(e.to_string()); batch.len()]
            }
        };
        for ((_, answer), result) in batch.into_iter().zip(answers) {
            answer(result);
        }
    }
}

/// A worker process's way to the writer: entries go to the supervisor as lines of JSON over
/// `stream`, and each waits for its answer.
pub struct LogClient {
    stream: Mutex<(BufReader<UnixStream>, UnixStream)>,
}

impl LogClient {
    pub fn new(stream: UnixStream) -> std::io::Result<Self> {
        let reader = BufReader::new(stream.try_clone()?);
        Ok(LogClient {
            stream: Mutex::new((reader, stream)),
        })
    }

    fn write(&self, request: &Request) -> Result<i64> {
        let broken = |e: std::io::Error| Error::Writer(format!("the supervisor: {e}"));
        let mut line = serde_json::to_string(request).map_err(|e| Error::Writer(e.to_string()))?;
        line.push('\n');
        let mut guard = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        let (reader, writer) = &mut *guard;
        writer.write_all(line.as_bytes()).map_err(broken)?;
        let mut answer = String::new();
        if reader.read_line(&mut answer).map_err(broken)? == 0 {
            return Err(Error::Writer("the supervisor closed the log".into()));
        }
        serde_json::from_str::<Answer>(&answer)
            .map_err(|e| Error::Writer(format!("a bad answer from the supervisor: {e}")))?
            .map_err(Error::Writer)
    }
}

impl RenderLog for LogClient {
    fn begin(&self, render: &NewRender) -> Result<i64> {
        self.write(&Request::Begin(render.clone()))
    }

    fn finish(&self, id: i64, took: Duration, outcome: &Outcome) -> Result<()> {
        let outcome = outcome.clone();
        self.write(&Request::Finish { id, took, outcome }).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::tests::sample;

    #[test]
    fn entries_from_many_threads_are_all_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let writer = LogWriter::start(Db::open(&path).unwrap()).unwrap();
        std::thread::scope(|s| {
            for t in 0..8 {
                let writer = writer.clone();
                s.spawn(move || {
                    for _ in 0..50 {
                        let id = writer.begin(&sample(&t.to_string())).unwrap();
                        let ok = Outcome::Ok {
                            iterations: 2,
                            bytes: 1,
                        };
                        writer.finish(id, Duration::ZERO, &ok).unwrap();
                    }
                });
            }
        });
        // Another connection sees every answer's entry committed.
        let db = Db::open(&path).unwrap();
        let totals = db.totals().unwrap();
        assert_eq!((totals.renders_total, totals.iterations_total), (400, 800));
        assert!(
            db.latest(100, None)
                .unwrap()
                .iter()
                .all(|r| r.status == "ok")
        );
    }

    #[test]
    fn a_render_whose_beginning_was_not_logged_cannot_finish() {
        let dir = tempfile::tempdir().unwrap();
        let writer = LogWriter::start(Db::open(&dir.path().join("m.db")).unwrap()).unwrap();
        let id = writer.begin(&sample("a")).unwrap();
        let err = writer.finish(id + 1, Duration::ZERO, &Outcome::Timeout);
        assert!(err.is_err(), "{err:?}");
        writer
            .finish(id, Duration::ZERO, &Outcome::Timeout)
            .unwrap();
    }

    #[test]
    fn a_client_talks_to_the_writer_through_a_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let writer = LogWriter::start(Db::open(&path).unwrap()).unwrap();
        let (ours, theirs) = UnixStream::pair().unwrap();
        // The supervisor's side, in miniature: a line in, the writer's answer out.
        let relay = std::thread::spawn(move || {
            let mut out = theirs.try_clone().unwrap();
            for line in BufReader::new(theirs).lines() {
                let answer = match serde_json::from_str(&line.unwrap()).unwrap() {
                    Request::Begin(render) => writer.begin(&render),
                    Request::Finish { id, took, outcome } => {
                        writer.finish(id, took, &outcome).map(|()| 0)
                    }
                };
                let answer = answer.map_err(|e| e.to_string());
                writeln!(out, "{}", serde_json::to_string(&answer).unwrap()).unwrap();
            }
        });
        let client = LogClient::new(ours).unwrap();
        let id = client.begin(&sample("c")).unwrap();
        client
            .finish(id, Duration::from_millis(3), &Outcome::Timeout)
            .unwrap();
        drop(client);
        relay.join().unwrap();
        let row = Db::open(&path).unwrap().get(id).unwrap().unwrap();
        assert_eq!(row.status, "timeout");
    }
}
