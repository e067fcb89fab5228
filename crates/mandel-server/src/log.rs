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
//! over a socket (the worker's standard output) and waits for the answer, which the
//! supervisor sends once the entry is committed. So a client that got its 200 finds its
//! render logged `ok` even if the whole server is killed the moment after.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::db::{Db, NewRender, Outcome};

/// Entries committed in one transaction at most: a bound on how long one commit holds the
/// writer while others wait for their answers.
const MAX_BATCH: usize = 256;

/// Why an entry could not be logged.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("the log writer: {0}")]
    Writer(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where renders are logged: as `running` before they start (the id returned), then with
/// their outcome. Both return once the entry is committed.
pub trait RenderLog: Send + Sync {
    fn begin(&self, render: &NewRender) -> Result<i64>;
    fn finish(&self, id: i64, took: Duration, outcome: &Outcome) -> Result<()>;
}

/// One entry for the writer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Entry {
    Begin(NewRender),
    Finish {
        id: i64,
        took: Duration,
        outcome: Outcome,
    },
    /// Renders still `running` that a worker left behind when it died.
    Fail {
        ids: Vec<i64>,
        reason: String,
    },
    /// Deletes the renders older than `age` (answers how many).
    Prune {
        age: Duration,
    },
}

/// What the writer answers: the new id for `Begin`, how many for `Fail` and `Prune`.
pub type Answer = std::result::Result<i64, String>;

type Pending = (Entry, Box<dyn FnOnce(Answer) + Send>);

/// A handle to the writer thread; clones share it. The thread ends when the last handle is
/// dropped.
#[derive(Clone)]
pub struct LogWriter {
    tx: mpsc::Sender<Pending>,
}

impl LogWriter {
    /// Starts the writer thread on `db`.
    pub fn start(db: Db) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Pending>();
        std::thread::Builder::new()
            .name("mandel-log".into())
            .spawn(move || write_batches(&db, &rx))?;
        Ok(LogWriter { tx })
    }

    /// Queues `entry`; `answer` is called from the writer thread once it is committed (or
    /// failed).
    pub fn submit(&self, entry: Entry, answer: impl FnOnce(Answer) + Send + 'static) {
        if let Err(mpsc::SendError((_, answer))) = self.tx.send((entry, Box::new(answer))) {
            answer(Err("the log writer has stopped".into()));
        }
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
        self.write(Entry::Begin(render.clone()))
    }

    fn finish(&self, id: i64, took: Duration, outcome: &Outcome) -> Result<()> {
        let outcome = outcome.clone();
        self.write(Entry::Finish { id, took, outcome }).map(drop)
    }
}

/// The writer thread: takes every entry waiting (up to [`MAX_BATCH`]), applies them in one
/// transaction, commits, then answers each.
fn write_batches(db: &Db, rx: &mpsc::Receiver<Pending>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
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

    fn write(&self, entry: &Entry) -> Result<i64> {
        let broken = |e: std::io::Error| Error::Writer(format!("the supervisor: {e}"));
        let mut line = serde_json::to_string(entry).map_err(|e| Error::Writer(e.to_string()))?;
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
        self.write(&Entry::Begin(render.clone()))
    }

    fn finish(&self, id: i64, took: Duration, outcome: &Outcome) -> Result<()> {
        let outcome = outcome.clone();
        self.write(&Entry::Finish { id, took, outcome }).map(drop)
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
    fn a_client_talks_to_the_writer_through_a_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let writer = LogWriter::start(Db::open(&path).unwrap()).unwrap();
        let (ours, theirs) = UnixStream::pair().unwrap();
        // The supervisor's side, in miniature: a line in, the writer's answer out.
        let relay = std::thread::spawn(move || {
            let mut out = theirs.try_clone().unwrap();
            for line in BufReader::new(theirs).lines() {
                let entry: Entry = serde_json::from_str(&line.unwrap()).unwrap();
                let answer = writer.write(entry).map_err(|e| e.to_string());
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
