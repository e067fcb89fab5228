//! The render log in SQLite: every statement the server runs is in this module, so that moving
//! to a server database later means rewriting this file only.
//!
//! Each worker (process or connection task) opens its own connection. WAL mode lets readers
//! run beside the one writer, and a busy handler makes concurrent writers queue instead of
//! failing. A render is recorded twice: as `running` before it starts (committed, so a worker
//! killed mid-render leaves a trace the supervisor can mark `failed`), then with its outcome,
//! committed before the response is sent: a client that got a 200 finds its render `ok` in
//! the log even if the whole server is killed the moment after (WAL with `synchronous =
//! NORMAL` loses nothing to a killed process; only a power cut can lose the last commits).
//!
//! Triggers keep per-day totals beside the log, so the summary page's totals read a row per
//! day, not the whole log, and still count renders that retention has deleted.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::log::Entry;

pub use rusqlite::Error;
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How often a connection that finds the database locked retries before giving up: each wait
/// is at most a millisecond (see [`busy`]), so about ten seconds pass before a writer gives up.
const BUSY_RETRIES: i32 = 10_000;

/// Renders deleted per statement by [`Db::prune`], so that no one transaction holds the
/// write lock for long.
const PRUNE_BATCH: u32 = 5_000;

/// Schema versions, applied in order; `PRAGMA user_version` holds how many have been applied.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE renders (
        id            INTEGER PRIMARY KEY,
        requested_at  INTEGER NOT NULL,          -- Unix time, milliseconds
        client        TEXT    NOT NULL,          -- peer address
        user_agent    TEXT    NOT NULL,
        pid           INTEGER NOT NULL,          -- the worker that served it
        width         INTEGER NOT NULL,
        height        INTEGER NOT NULL,
        max_iter      INTEGER NOT NULL,
        xmin          REAL    NOT NULL,
        xmax          REAL    NOT NULL,
        ymin          REAL    NOT NULL,
        ymax          REAL    NOT NULL,
        colormap      TEXT    NOT NULL,
        color         TEXT    NOT NULL,
        format        TEXT    NOT NULL,
        query         TEXT    NOT NULL,          -- canonical /render query: re-renders it
        status        TEXT    NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'timeout')),
        error         TEXT,
        duration_ms   REAL,
        iterations    INTEGER,
        bytes         INTEGER
    );
    CREATE INDEX renders_by_time ON renders (requested_at);
    CREATE INDEX renders_running ON renders (pid) WHERE status = 'running';
",
    "
    -- 2: a 'cancelled' status (the client went away), and totals per day kept by triggers.
    CREATE TABLE renders_v2 (
        id            INTEGER PRIMARY KEY,
        requested_at  INTEGER NOT NULL,
        client        TEXT    NOT NULL,
        user_agent    TEXT    NOT NULL,
        pid           INTEGER NOT NULL,
        width         INTEGER NOT NULL,
        height        INTEGER NOT NULL,
        max_iter      INTEGER NOT NULL,
        xmin          REAL    NOT NULL,
        xmax          REAL    NOT NULL,
        ymin          REAL    NOT NULL,
        ymax          REAL    NOT NULL,
        colormap      TEXT    NOT NULL,
        color         TEXT    NOT NULL,
        format        TEXT    NOT NULL,
        query         TEXT    NOT NULL,
        status        TEXT    NOT NULL
                      CHECK (status IN ('running', 'ok', 'failed', 'timeout', 'cancelled')),
        error         TEXT,
        duration_ms   REAL,
        iterations    INTEGER,
        bytes         INTEGER
    );
    INSERT INTO renders_v2 SELECT * FROM renders;
    DROP TABLE renders;
    ALTER TABLE renders_v2 RENAME TO renders;
    -- (No index of running renders by pid any more: renders a dead worker left are failed by
    -- id, and each render paid for two writes to that index.)
    CREATE INDEX renders_by_time ON renders (requested_at);

    CREATE TABLE daily_totals (
        day         TEXT    PRIMARY KEY,         -- UTC, YYYY-MM-DD
        renders     INTEGER NOT NULL,
        iterations  INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO daily_totals
        SELECT date(requested_at / 1000, 'unixepoch'), count(*), coalesce(sum(iterations), 0)
        FROM renders GROUP BY 1;
    CREATE TRIGGER count_render AFTER INSERT ON renders BEGIN
        INSERT INTO daily_totals
            VALUES (date(NEW.requested_at / 1000, 'unixepoch'), 1, coalesce(NEW.iterations, 0))
            ON CONFLICT (day) DO UPDATE
                SET renders = renders + 1, iterations = iterations + excluded.iterations;
    END;
    CREATE TRIGGER count_iterations AFTER UPDATE OF iterations ON renders
        WHEN NEW.iterations IS NOT OLD.iterations
    BEGIN
        UPDATE daily_totals
            SET iterations = iterations + coalesce(NEW.iterations, 0) - coalesce(OLD.iterations, 0)
            WHERE day = date(NEW.requested_at / 1000, 'unixepoch');
    END;
",
];

/// A render about to start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewRender {
    /// When the render was asked for, Unix time in milliseconds ([`unix_millis`]): taken by
    /// the worker, since the log writer may commit the entry a few milliseconds later.
    pub requested_at: i64,
    pub client: String,
    pub user_agent: String,
    pub pid: u32,
    pub width: u32,
    pub height: u32,
    pub max_iter: u32,
    #[serde(with = "BoundsDef")]
    pub bounds: mandel::Bounds,
    pub colormap: String,
    pub color: String,
    pub format: String,
    pub query: String,
}

/// [`mandel::Bounds`] as serde sees it (the kernel crate has no dependencies).
#[derive(Serialize, Deserialize)]
#[serde(remote = "mandel::Bounds")]
struct BoundsDef {
    xmin: f64,
    xmax: f64,
    ymin: f64,
    ymax: f64,
}

/// How a render ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Outcome {
    Ok {
        iterations: u64,
        bytes: u64,
    },
    Timeout,
    /// The client went away (or stopped reading) before the render was done.
    Cancelled,
    Failed(String),
}

/// One row of the log, as the pages and the JSON API show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RenderRecord {
    pub id: i64,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub requested_at: String,
    pub client: String,
    pub user_agent: String,
    pub pid: i64,
    pub width: i64,
    pub height: i64,
    pub max_iter: i64,
    pub xmin: f64,
    pub xmax: f64,
    pub ymin: f64,
    pub ymax: f64,
    pub colormap: String,
    pub color: String,
    pub format: String,
    pub query: String,
    pub status: String,
    pub error: Option<String>,
    pub duration_ms: Option<f64>,
    pub iterations: Option<i64>,
    pub bytes: Option<i64>,
}

/// Figures for the summary page.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Totals {
    pub renders_today: i64,
    pub renders_total: i64,
    pub iterations_total: i64,
}

const RECORD_COLUMNS: &str = "id, strftime('%Y-%m-%d %H:%M:%S', requested_at / 1000, 'unixepoch'),
    client, user_agent, pid, width, height, max_iter, xmin, xmax, ymin, ymax, colormap, color,
    format, query, status, error, duration_ms, iterations, bytes";

fn record(row: &rusqlite::Row) -> Result<RenderRecord> {
    Ok(RenderRecord {
        id: row.get(0)?,
        requested_at: row.get(1)?,
        client: row.get(2)?,
        user_agent: row.get(3)?,
        pid: row.get(4)?,
        width: row.get(5)?,
        height: row.get(6)?,
        max_iter: row.get(7)?,
        xmin: row.get(8)?,
        xmax: row.get(9)?,
        ymin: row.get(10)?,
        ymax: row.get(11)?,
        colormap: row.get(12)?,
        color: row.get(13)?,
        format: row.get(14)?,
        query: row.get(15)?,
        status: row.get(16)?,
        error: row.get(17)?,
        duration_ms: row.get(18)?,
        iterations: row.get(19)?,
        bytes: row.get(20)?,
    })
}

/// One connection to the render log.
pub struct Db {
    conn: Connection,
}

impl Db {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// Cheap when the schema is current and WAL is on (every worker process opens one):
    /// neither check takes the write lock then.
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        conn.busy_handler(Some(busy))?;
        // WAL: readers never block the writer. NORMAL sync is durable against a killed
        // process (the case the server must survive); only a power cut can lose the last
        // transactions.
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(mode, "SQLite refused WAL mode");
            }
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut db = Db { conn };
        let applied: u32 = db.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if (applied as usize) < MIGRATIONS.len() {
            db.migrate()?;
        }
        Ok(db)
    }

    fn migrate(&mut self) -> Result<()> {
        // IMMEDIATE: two processes starting at once must not both apply a migration (the
        // version is read again under the lock).
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let applied: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (version, sql) in (1u32..).zip(MIGRATIONS).skip(applied as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
        }
        tx.commit()
    }

    /// Records a render as `running` and returns its id. (The server's renders are numbered
    /// by its log writer, which calls `begin_render_as`; the tests use this.)
    #[cfg(test)]
    pub(crate) fn begin_render(&self, r: &NewRender) -> Result<i64> {
        let id = self.next_id()?;
        self.begin_render_as(id, r)?;
        Ok(id)
    }

    /// The id the next render gets: one past the largest in the log, or past the number of
    /// renders ever logged if that is more (ids are numbered 1, 2, ... so this does not give
    /// an id again even after retention deleted every render).
    pub fn next_id(&self) -> Result<i64> {
        self.conn.query_row(
            "SELECT max(coalesce((SELECT max(id) FROM renders), 0),
                        coalesce((SELECT sum(renders) FROM daily_totals), 0))
                    + 1",
            [],
            |r| r.get(0),
        )
    }

    /// Records a render as `running` with the id `id`.
    pub fn begin_render_as(&self, id: i64, r: &NewRender) -> Result<()> {
        // Cached: preparing the statement anew cost as much as running it.
        self.conn
            .prepare_cached(
                "INSERT INTO renders (id, requested_at, client, user_agent, pid, width, height,
                 max_iter, xmin, xmax, ymin, ymax, colormap, color, format, query, status)
             VALUES (?16, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                 'running')",
            )?
            .execute(params![
                r.requested_at,
                r.client,
                r.user_agent,
                r.pid,
                r.width,
                r.height,
                r.max_iter,
                r.bounds.xmin,
                r.bounds.xmax,
                r.bounds.ymin,
                r.bounds.ymax,
                r.colormap,
                r.color,
                r.format,
                r.query,
                id,
            ])?;
        Ok(())
    }

    /// Records how render `id` ended.
    pub fn finish_render(&self, id: i64, took: Duration, outcome: &Outcome) -> Result<()> {
        let ms = took.as_secs_f64() * 1e3;
        let (status, error, iterations, bytes) = match outcome {
            Outcome::Ok { iterations, bytes } => {
                ("ok", None, Some(*iterations as i64), Some(*bytes as i64))
            }
            Outcome::Timeout => ("timeout", Some("passed the render deadline"), None, None),
            Outcome::Cancelled => ("cancelled", Some("the client went away"), None, None),
            Outcome::Failed(e) => ("failed", Some(e.as_str()), None, None),
        };
        let updated = self
            .conn
            .prepare_cached(
                "UPDATE renders SET status = ?2, error = ?3, duration_ms = ?4, iterations = ?5,
                     bytes = ?6
                 WHERE id = ?1",
            )?
            .execute(params![id, status, error, ms, iterations, bytes])?;
        if updated == 0 {
            // Its beginning failed to be logged (see `log`): the failure surfaces here.
            return Err(Error::QueryReturnedNoRows);
        }
        Ok(())
    }

    /// Applies `entries` in one transaction: the id of each `Begin`'s new render, 0 for a
    /// `Finish`, how many renders a `Fail` or `Prune` changed; or the entry's own error (the
    /// others are kept). An error of the transaction itself fails them all.
    pub fn apply(&self, entries: &[&Entry]) -> Result<Vec<Result<i64>>> {
        let tx = self.conn.unchecked_transaction()?;
        let results = entries
            .iter()
            .map(|entry| match entry {
                Entry::Begin { id, render } => self.begin_render_as(*id, render).map(|()| 0),
                Entry::Finish { id, took, outcome } => {
                    self.finish_render(*id, *took, outcome).map(|()| 0)
                }
                Entry::Fail { ids, reason } => self.fail_renders(ids, reason).map(|n| n as i64),
                Entry::Prune { age } => self.prune(*age).map(|n| n as i64),
                Entry::Flush => Ok(0),
            })
            .collect();
        tx.commit()?;
        Ok(results)
    }

    /// Marks the renders `ids` failed with `reason` where they are still `running`; returns
    /// how many were.
    pub fn fail_renders(&self, ids: &[i64], reason: &str) -> Result<usize> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE renders SET status = 'failed', error = ?2 WHERE id = ?1 AND status = 'running'",
        )?;
        let mut failed = 0;
        for &id in ids {
            failed += stmt.execute(params![id, reason])?;
        }
        Ok(failed)
    }

    /// Marks renders left `running` by an earlier server (one that was killed) as failed, so
    /// that their pids cannot be confused with this server's workers.
    pub fn fail_orphans(&self) -> Result<usize> {
        self.conn.execute(
            "UPDATE renders SET status = 'failed', error = 'the server stopped during the render'
             WHERE status = 'running'",
            [],
        )
    }

    /// Renders today (UTC) and ever, and their iterations: from the per-day totals, a row a
    /// day, so this costs the same however long the log.
    pub fn totals(&self) -> Result<Totals> {
        self.conn.query_row(
            "SELECT coalesce(sum(renders) FILTER (WHERE day = date('now')), 0),
                    coalesce(sum(renders), 0),
                    coalesce(sum(iterations), 0)
             FROM daily_totals",
            [],
            |r| {
                Ok(Totals {
                    renders_today: r.get(0)?,
                    renders_total: r.get(1)?,
                    iterations_total: r.get(2)?,
                })
            },
        )
    }

    /// Up to `limit` renders, newest first, with ids below `before` when given.
    pub fn latest(&self, limit: u32, before: Option<i64>) -> Result<Vec<RenderRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM renders WHERE id < ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        stmt.query_map(params![before.unwrap_or(i64::MAX), limit], record)?
            .collect()
    }

    pub fn get(&self, id: i64) -> Result<Option<RenderRecord>> {
        self.conn
            .query_row(
                &format!("SELECT {RECORD_COLUMNS} FROM renders WHERE id = ?1"),
                [id],
                record,
            )
            .optional()
    }

    /// Deletes the renders requested more than `age` ago (none still running), a batch at a
    /// time; returns how many. The per-day totals keep counting them.
    pub fn prune(&self, age: Duration) -> Result<usize> {
        let cutoff = unix_millis().saturating_sub(age.as_millis().try_into().unwrap_or(i64::MAX));
        let mut deleted = 0;
        loop {
            let n = self.conn.execute(
                "DELETE FROM renders WHERE id IN (
                     SELECT id FROM renders
                     WHERE requested_at < ?1 AND status != 'running' LIMIT ?2)",
                params![cutoff, PRUNE_BATCH],
            )?;
            deleted += n;
            if n < PRUNE_BATCH as usize {
                return Ok(deleted);
            }
        }
    }

    /// `PRAGMA integrity_check`: "ok", or SQLite's list of problems.
    pub fn integrity_check(&self) -> Result<String> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
    }

    /// A cheap query that proves the file is readable (for `/healthz`).
    pub fn ping(&self) -> Result<()> {
        self.conn
            .prepare_cached("SELECT 1")?
            .query_row([], |_| Ok(()))
    }
}

/// SQLite's busy handler: waits a little and tries again, up to [`BUSY_RETRIES`] times.
/// SQLite's own busy timeout sleeps 1, 2, 5, 10 ... up to 100 ms between tries, so under load
/// a writer sleeps on long after the lock was freed and writers queue up behind the sleeps;
/// these waits stay under a millisecond.
fn busy(tries: i32) -> bool {
    if tries >= BUSY_RETRIES {
        return false;
    }
    std::thread::sleep(Duration::from_micros((20u64 << tries.min(6)).min(1000)));
    true
}

/// Now, as Unix time in milliseconds.
pub fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample(client: &str) -> NewRender {
        NewRender {
            requested_at: unix_millis(),
            client: client.into(),
            user_agent: "test".into(),
            pid: 4242,
            width: 8,
            height: 6,
            max_iter: 50,
            bounds: mandel::SEED_BOUNDS,
            colormap: "viridis".into(),
            color: "counts".into(),
            format: "png".into(),
            query: "width=8&height=6".into(),
        }
    }

    #[test]
    fn a_render_is_logged_running_then_with_its_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("m.db")).unwrap();
        let id = db.begin_render(&sample("127.0.0.1:1")).unwrap();
        let row = db.get(id).unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.width, row.xmin),
            ("running", 8, -2.5)
        );
        assert_eq!(row.requested_at.len(), "2026-01-01 00:00:00".len());

        let ok = Outcome::Ok {
            iterations: 1234,
            bytes: 99,
        };
        db.finish_render(id, Duration::from_millis(5), &ok).unwrap();
        let row = db.get(id).unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.iterations, row.bytes),
            ("ok", Some(1234), Some(99))
        );
        assert_eq!(
            db.totals().unwrap(),
            Totals {
                renders_today: 1,
                renders_total: 1,
                iterations_total: 1234
            }
        );
        assert_eq!(db.get(id + 1).unwrap(), None);
    }

    #[test]
    fn only_the_dead_workers_running_renders_are_failed() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("m.db")).unwrap();
        let mine = db.begin_render(&sample("a")).unwrap();
        let done = db.begin_render(&sample("b")).unwrap();
        db.finish_render(done, Duration::ZERO, &Outcome::Timeout)
            .unwrap();
        let other = db
            .begin_render(&NewRender {
                pid: 7,
                ..sample("c")
            })
            .unwrap();
        assert_eq!(
            db.fail_renders(&[mine, done], "killed by signal 9")
                .unwrap(),
            1,
            "a render already ended keeps its outcome"
        );
        let status = |id| db.get(id).unwrap().unwrap().status;
        assert_eq!(status(mine), "failed");
        assert_eq!(status(done), "timeout");
        assert_eq!(status(other), "running");
        assert_eq!(db.fail_orphans().unwrap(), 1);
        assert_eq!(status(other), "failed");
    }

    #[test]
    fn pages_go_backwards_from_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let db = Db::open(&path).unwrap();
        let ids: Vec<i64> = (0..5)
            .map(|i| db.begin_render(&sample(&i.to_string())).unwrap())
            .collect();
        let page: Vec<i64> = db.latest(2, None).unwrap().iter().map(|r| r.id).collect();
        assert_eq!(page, [ids[4], ids[3]]);
        let page: Vec<i64> = db
            .latest(2, Some(ids[3]))
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(page, [ids[2], ids[1]]);
        // A second connection sees the same file, and reopening does not migrate twice.
        let again = Db::open(&path).unwrap();
        assert_eq!(again.totals().unwrap().renders_total, 5);
        assert_eq!(again.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn totals_count_renders_that_retention_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("m.db")).unwrap();
        let ok = |n| Outcome::Ok {
            iterations: n,
            bytes: 1,
        };
        let old = db.begin_render(&sample("old")).unwrap();
        db.finish_render(old, Duration::ZERO, &ok(100)).unwrap();
        let new = db.begin_render(&sample("new")).unwrap();
        db.finish_render(new, Duration::ZERO, &ok(23)).unwrap();
        let running = db.begin_render(&sample("running")).unwrap();
        // Forty days ago, as the clock goes: the old render and the running one.
        db.conn
            .execute(
                "UPDATE renders SET requested_at = requested_at - 40 * 86400000 WHERE id != ?1",
                [new],
            )
            .unwrap();
        assert_eq!(db.prune(Duration::from_secs(30 * 86_400)).unwrap(), 1);
        assert_eq!(db.get(old).unwrap(), None);
        assert!(db.get(new).unwrap().is_some());
        assert!(
            db.get(running).unwrap().is_some(),
            "a running render is never pruned"
        );
        // The totals were counted when the renders were logged, on the day they were.
        let totals = db.totals().unwrap();
        assert_eq!((totals.renders_total, totals.iterations_total), (3, 123));
    }

    #[test]
    fn a_first_version_log_is_migrated_with_its_renders() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO renders (requested_at, client, user_agent, pid, width, height,
                     max_iter, xmin, xmax, ymin, ymax, colormap, color, format, query, status,
                     iterations)
                 VALUES (0, 'c', 'ua', 1, 2, 2, 9, -2, 1, -1, 1, 'viridis', 'counts', 'png',
                     'width=2', 'ok', 77)",
                [],
            )
            .unwrap();
        }
        let db = Db::open(&path).unwrap();
        assert_eq!(db.get(1).unwrap().unwrap().iterations, Some(77));
        let totals = db.totals().unwrap();
        assert_eq!((totals.renders_total, totals.iterations_total), (1, 77));
        let id = db.begin_render(&sample("new")).unwrap();
        db.finish_render(id, Duration::ZERO, &Outcome::Cancelled)
            .unwrap();
        assert_eq!(db.get(id).unwrap().unwrap().status, "cancelled");
        assert_eq!(db.integrity_check().unwrap(), "ok");
    }
}
