//! `GET /tile`: the map's 256×256 tiles, addressed so that neighbours align pixel for pixel
//! and a tile's colours depend on its parameters alone; immutable, so kept in a bounded cache
//! on disk that every worker shares, and by browsers.
//!
//! **Addressing.** Tile `(level, x, y)` covers `[x, x+1)·s × [y, y+1)·s` of the plane, with
//! side `s = 4/2^level` (level 0: four tiles cover |re|, |im| < 4), and row 0 of its pixels
//! samples its bottom edge, as every render does. Its pixel spacing `s/256 = 2^-(level+6)`
//! and its edges are dyadic rationals, written as exact decimals: every sample point of
//! every tile is exact in doubles (to level [`MAX_LEVEL`]) and in the perturbation path's
//! arbitrary precision, so a tile's pixels are those of one larger `/render` of the same
//! edges, whatever the rounding of `c*dx + xmin`.
//!
//! **Colours** come from a cycle, never from the tile's own range (imshow's min–max and the
//! histogram see only the tile, so neighbours would disagree): `cycle` if given, else
//! `max_iter` (counts scaled by the limit). `color=histogram` is refused.

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use mandel::{ColorMode, Format, Job, Pool};
use rusqlite::{Connection, OptionalExtension, params};

use crate::config::Limits;
use crate::error::ApiError;
use crate::scoreboard::Scoreboard;

/// Pixels along a tile's side.
pub const TILE_SIZE: u32 = 256;

/// The deepest level served: its tiles are 2^-38 wide, a zoom of about 10^12, where every
/// tile edge of the plane within |re|, |im| < 4 is still an exact double.
pub const MAX_LEVEL: u32 = 40;

/// The query keys of `/tile` that describe the colouring and the limit (the others are
/// `level`, `x` and `y`).
const STYLE_KEYS: [&str; 6] = ["max_iter", "color", "colormap", "cycle", "offset", "inside"];

/// A validated `/tile` request: its place and the render job that makes it.
#[derive(Debug, Clone)]
pub struct TileRequest {
    pub level: u32,
    pub x: i64,
    pub y: i64,
    /// A 256×256 PNG of the tile's edges.
    pub job: Job,
}

impl TileRequest {
    /// Reads `/tile`'s query pairs: `level`, `x`, `y` (required), and the colouring keys of
    /// `/render`. Every bad value is named (400); max-iter is held to `limits` (422).
    pub fn parse(pairs: &[(String, String)], limits: &Limits) -> Result<Self, ApiError> {
        let (mut level, mut x, mut y) = (None, None, None);
        let mut style = Vec::new();
        for (key, value) in pairs {
            let slot = match key.as_str() {
                "level" => &mut level,
                "x" => &mut x,
                "y" => &mut y,
                // The explorer's version, in the URL only so that browsers, which keep tiles
                // for a year, ask again after an upgrade.
                "v" => continue,
                k if STYLE_KEYS.contains(&k) => {
                    style.push((key.as_str(), value.as_str()));
                    continue;
                }
                _ => {
                    return Err(ApiError::bad(
                        key,
                        value,
                        "is not a parameter of /tile (level, x, y, max_iter, color, colormap, \
                         cycle, offset, inside, v)",
                    ));
                }
            };
            if slot.is_some() {
                return Err(ApiError::bad(key, value, "is given more than once"));
            }
            *slot = Some(
                value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| ApiError::bad(key, value, "is not a whole number"))?,
            );
        }
        let required = |name: &str| ApiError::bad(name, "", "is required");
        let level = level.ok_or_else(|| required("level"))?;
        let level = u32::try_from(level)
            .map_err(|_| ApiError::bad("level", level.to_string(), "is not a level from 0"))?;
        if level > MAX_LEVEL {
            return Err(ApiError::bad(
                "level",
                level.to_string(),
                format!("is deeper than tiles go (at most {MAX_LEVEL})"),
            ));
        }
        let span = 1i64 << level;
        let place = |name: &str, v: Option<i64>| {
            let v = v.ok_or_else(|| required(name))?;
            if !(-span..span).contains(&v) {
                return Err(ApiError::bad(
                    name,
                    v.to_string(),
                    format!(
                        "is outside the tiles of level {level} ({} to {})",
                        -span,
                        span - 1
                    ),
                ));
            }
            Ok(v)
        };
        let (x, y) = (place("x", x)?, place("y", y)?);

        let mut job = Job::from_pairs(style)?;
        if job.style.mode == ColorMode::Histogram {
            return Err(ApiError::bad(
                "color",
                "histogram",
                "needs every count of the picture, and a tile sees only its own: tiles \
                 colour counts or smooth values by a cycle",
            ));
        }
        crate::render_api::check_max_iter(&job, limits)?;
        // Colours by the limit where no cycle is given: the same for every tile.
        job.style.cycle = job.style.cycle.or(Some(f64::from(job.max_iter)));
        job.width = TILE_SIZE;
        job.height = TILE_SIZE;
        job.format = Format::Png;
        let edge = |i: i64| dyadic_decimal(i * i64::from(TILE_SIZE), level + 6);
        for (key, value) in [
            ("xmin", edge(x)),
            ("xmax", edge(x + 1)),
            ("ymin", edge(y)),
            ("ymax", edge(y + 1)),
        ] {
            job.set(key, &value)?;
        }
        job.check()?;
        job.pool = Pool::Auto;
        Ok(TileRequest { level, x, y, job })
    }

    /// What identifies the tile's bytes: this build's version and the job's canonical text
    /// (the cache's key, so that an upgrade never serves an older build's tiles).
    pub fn key(&self) -> String {
        let job = self.job.canonical();
        let job = job.expect("a checked job has a canonical text");
        format!("{} {job}", env!("CARGO_PKG_VERSION"))
    }

    /// The tile's strong entity tag: a hash of its key.
    pub fn etag(&self) -> String {
        let mut hasher = std::hash::DefaultHasher::new();
        self.key().hash(&mut hasher);
        format!("\"{:016x}\"", hasher.finish())
    }
}

/// Renders `req`'s tile as a PNG, by the deadline of `limits`, stopped early if `cancel` is
/// raised; counted among the renders in flight and in the render-time histogram (tiles are
/// not logged one row each: the board counts them, `mandel_tiles_total`). Blocking.
pub fn render(
    req: &TileRequest,
    board: &Scoreboard,
    limits: &Limits,
    cancel: mandel::Cancel,
) -> Result<Vec<u8>, ApiError> {
    let start = std::time::Instant::now();
    let job = Job {
        deadline: Some(start + limits.render_timeout),
        cancel: Some(cancel),
        ..req.job.clone()
    };
    board.renders_in_flight.fetch_add(1, Relaxed);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut body = Vec::new();
        job.run(&mut body).map(|_| body)
    }));
    board.renders_in_flight.fetch_sub(1, Relaxed);
    match result {
        Ok(Ok(body)) => {
            board.observe_render(start.elapsed());
            Ok(body)
        }
        Ok(Err(mandel::Error::DeadlineExceeded)) => Err(ApiError::Deadline {
            limit_seconds: limits.render_timeout.as_secs_f64(),
        }),
        Ok(Err(mandel::Error::Cancelled)) => Err(ApiError::Cancelled),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(ApiError::Internal("a tile's render panicked".into())),
    }
}

/// `m / 2^k` as an exact decimal: `m·5^k` with the point `k` digits from the right.
fn dyadic_decimal(m: i64, k: u32) -> String {
    // Little-endian decimal digits of |m|, multiplied by 5, k times.
    let mut digits: Vec<u8> = m
        .unsigned_abs()
        .to_string()
        .bytes()
        .rev()
        .map(|b| b - b'0')
        .collect();
    for _ in 0..k {
        let mut carry = 0;
        for d in &mut digits {
            let v = *d * 5 + carry;
            *d = v % 10;
            carry = v / 10;
        }
        if carry > 0 {
            digits.push(carry);
        }
    }
    let k = k as usize;
    digits.resize(digits.len().max(k + 1), 0);
    let text = |ds: &[u8]| {
        ds.iter()
            .rev()
            .map(|d| char::from(b'0' + d))
            .collect::<String>()
    };
    let whole = text(&digits[k..]);
    let whole = whole.trim_start_matches('0');
    let fraction = text(&digits[..k]);
    let fraction = fraction.trim_end_matches('0');
    let sign = if m < 0 { "-" } else { "" };
    match (whole.is_empty(), fraction.is_empty()) {
        (_, true) if whole.is_empty() => "0".into(),
        (_, true) => format!("{sign}{whole}"),
        (true, false) => format!("{sign}0.{fraction}"),
        (false, false) => format!("{sign}{whole}.{fraction}"),
    }
}

/// Tiles already rendered, in an SQLite file that every worker opens: bounded in bytes, the
/// least recently used evicted first.
pub struct TileCache {
    conn: Connection,
    limit: u64,
}

impl TileCache {
    /// Opens (or creates) the cache at `path`, holding at most `limit` bytes of tiles.
    pub fn open(path: &Path, limit: u64) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        // Many workers share the file: a writer waits for another rather than failing.
        conn.busy_timeout(Duration::from_secs(5))?;
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS tiles (
                 key TEXT PRIMARY KEY,
                 body BLOB NOT NULL,
                 bytes INTEGER NOT NULL,
                 -- Rises by one at every use: the order in which tiles were last used.
                 used INTEGER NOT NULL
             );
             CREATE INDEX IF NOT EXISTS tiles_by_use ON tiles (used);",
        )?;
        Ok(TileCache { conn, limit })
    }

    /// The tile stored under `key`, if any, marked as used now.
    pub fn get(&self, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
        self.conn
            .query_row(
                "UPDATE tiles SET used = (SELECT MAX(used) FROM tiles) + 1 WHERE key = ?1 \
                 RETURNING body",
                params![key],
                |r| r.get(0),
            )
            .optional()
    }

    /// Stores `body` under `key`, then evicts the least recently used tiles past the limit.
    pub fn put(&self, key: &str, body: &[u8]) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO tiles (key, body, bytes, used)
             VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(used), 0) + 1 FROM tiles))",
            params![key, body, body.len() as i64],
        )?;
        self.conn.execute(
            "DELETE FROM tiles WHERE key IN (
                 SELECT key FROM (
                     SELECT key, SUM(bytes) OVER (ORDER BY used DESC, key) AS kept FROM tiles
                 ) WHERE kept > ?1
             )",
            params![self.limit as i64],
        )?;
        Ok(())
    }

    /// Tiles and bytes held.
    pub fn size(&self) -> rusqlite::Result<(u64, u64)> {
        self.conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM tiles",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn parse(q: &str) -> Result<TileRequest, ApiError> {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(q.as_bytes()).into_owned().collect();
        TileRequest::parse(&pairs, &Limits::default())
    }

    #[test]
    fn dyadic_rationals_are_written_exactly() {
        for (m, k, text) in [
            (0, 0, "0"),
            (0, 9, "0"),
            (1, 1, "0.5"),
            (-3, 2, "-0.75"),
            (256, 6, "4"),
            (-512, 6, "-8"),
            (1, 46, "0.0000000000000142108547152020037174224853515625"),
            (-123_456_789, 20, "-117.73756885528564453125"),
        ] {
            assert_eq!(dyadic_decimal(m, k), text, "{m}/2^{k}");
        }
        // Every tile edge of the deepest level reads back as the same exact double.
        for m in [1i64, -7, 1 << 40, -(1 << 52) + 3] {
            let k = MAX_LEVEL + 6;
            let exact = m as f64 / 2f64.powi(k as i32);
            assert_eq!(dyadic_decimal(m, k).parse::<f64>().unwrap(), exact);
        }
    }

    #[test]
    fn a_tile_is_a_square_of_the_plane_with_exact_edges() {
        let t = parse("level=3&x=-3&y=1&max_iter=500&colormap=magma").unwrap();
        let b = t.job.viewport().unwrap().bounds();
        // Side 4/2^3 = 0.5.
        assert_eq!((b.xmin, b.xmax, b.ymin, b.ymax), (-1.5, -1.0, 0.5, 1.0));
        assert_eq!((t.job.width, t.job.height), (256, 256));
        assert_eq!(t.job.style.cycle, Some(500.0));
        assert_eq!(t.job.viewport().unwrap().dx(), 2f64.powi(-9));
        // The key and entity tag are those of its parameters.
        let again = parse("colormap=magma&y=1&x=-3&max_iter=500&level=3").unwrap();
        assert_eq!((t.key(), t.etag()), (again.key(), again.etag()));
        assert_ne!(
            t.etag(),
            parse("level=3&x=-3&y=1&max_iter=501").unwrap().etag()
        );
    }

    #[test]
    fn bad_tiles_are_named() {
        for (q, field) in [
            ("x=0&y=0", "level"),
            ("level=1&y=0", "x"),
            ("level=1&x=0", "y"),
            ("level=-1&x=0&y=0", "level"),
            ("level=41&x=0&y=0", "level"),
            ("level=2&x=4&y=0", "x"),
            ("level=2&x=0&y=-5", "y"),
            ("level=2&x=0.5&y=0", "x"),
            ("level=2&x=0&x=1&y=0", "x"),
            ("level=2&level=3&x=0&y=0", "level"),
            ("level=0&x=0&y=0&color=histogram", "color"),
            ("level=0&x=0&y=0&colormap=rainbow", "colormap"),
            ("level=0&x=0&y=0&width=512", "width"),
            ("level=0&x=0&y=0&max_iter=0", "max_iter"),
        ] {
            match parse(q) {
                Err(ApiError::BadParam { field: f, .. }) => assert_eq!(f, field, "{q}"),
                other => panic!("{q}: {other:?}"),
            }
        }
        let over = parse("level=0&x=0&y=0&max_iter=2000000").unwrap_err();
        assert_eq!(over.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn the_cache_keeps_the_most_recently_used_tiles_within_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiles.db");
        let cache = TileCache::open(&path, 250).unwrap();
        for key in ["a", "b", "c"] {
            cache.put(key, &[0; 100]).unwrap();
        }
        // 300 bytes over a bound of 250: the oldest went.
        assert_eq!(cache.size().unwrap(), (2, 200));
        assert_eq!(cache.get("a").unwrap(), None);
        // A second connection (another worker) sees what the first stored.
        let other = TileCache::open(&path, 250).unwrap();
        assert_eq!(other.get("b").unwrap(), Some(vec![0; 100]));
        other.put("d", &[1; 100]).unwrap();
        // "b" was used after "c": "c" is evicted.
        assert_eq!(cache.get("c").unwrap(), None);
        assert_eq!(cache.get("d").unwrap(), Some(vec![1; 100]));
    }
}
