//! `GET /tile`: the map's 256×256 tiles, addressed so that neighbours align pixel for pixel
//! and a tile's colours depend on its parameters alone; immutable, so kept in a bounded cache
//! on disk that every worker shares, and by browsers.
//!
//! **Addressing.** Tile `(level, x, y)` covers `[x, x+1)·s × [y, y+1)·s` of the plane, with
//! side `s = 4/2^level` (level 0: four tiles cover |re|, |im| < 4), and row 0 of its pixels
//! samples its bottom edge, as every render does. `x` and `y` are integers of any size (a
//! level-3000 tile's have some 900 digits). Its pixel spacing is `s/256 = 2^-(level+6)` and
//! its edges, centre and every sample point are dyadic rationals, written as exact decimals:
//! exact in doubles to level [`EDGE_LEVELS`] (where tiles are given by their edges, and
//! rendered with the seed's arithmetic while doubles are faithful) and in the perturbation
//! path's arbitrary precision at every level (beyond, where tiles are given by centre and
//! zoom). So a tile's pixels are those of one larger render of the same view.
//!
//! **Reference orbits.** A tile past double precision is perturbed about the centre of its
//! ancestor [`FAMILY_LEVELS`] levels up, so that its 8×8 cousins share one reference orbit
//! (kept in the server's [`mandel::OrbitCache`]). Its counts then match those of a render of
//! the whole view by the perturbation criterion (`docs/deep-zoom.md`), not always bit for
//! bit: perturbation about another point may differ at a pixel that direct iteration itself
//! cannot settle.
//!
//! **Colours** come from a cycle, never from the tile's own range (imshow's min–max and the
//! histogram see only the tile, so neighbours would disagree): `cycle` if given, else
//! `max_iter` (counts scaled by the limit). `color=histogram` is refused.

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use mandel::{ColorMode, Format, Job, OrbitCache, Pool, Precision};
use num_bigint::BigInt;
use rusqlite::{Connection, OptionalExtension, params};

use crate::config::Limits;
use crate::error::ApiError;
use crate::scoreboard::Scoreboard;

/// Pixels along a tile's side.
pub const TILE_SIZE: u32 = 256;

/// The deepest level served: its tiles are 2^-9998 wide, a zoom of about 10^3000, where one
/// reference step takes tens of microseconds and a tile's address some 6,000 digits.
pub const MAX_LEVEL: u32 = 10_000;

/// The deepest level whose tiles are given by their edges: every edge within |re|, |im| < 4
/// is an exact double to here (2^-38 wide, a zoom of about 10^12).
pub const EDGE_LEVELS: u32 = 40;

/// A deep tile's reference point is the centre of its ancestor this many levels up.
pub const FAMILY_LEVELS: u32 = 3;

/// The query keys of `/tile` that describe the colouring and the limit (the others are
/// `level`, `x` and `y`).
const STYLE_KEYS: [&str; 6] = ["max_iter", "color", "colormap", "cycle", "offset", "inside"];

/// A validated `/tile` request: its place and the render job that makes it.
#[derive(Debug, Clone)]
pub struct TileRequest {
    pub level: u32,
    pub x: BigInt,
    pub y: BigInt,
    /// A 256×256 PNG of the tile.
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
            *slot = Some(whole_number(key, value)?);
        }
        let required = |name: &str| ApiError::bad(name, "", "is required");
        let level = level.ok_or_else(|| required("level"))?;
        let level = u32::try_from(&level)
            .ok()
            .filter(|&l| l <= MAX_LEVEL)
            .ok_or_else(|| {
                ApiError::bad(
                    "level",
                    level.to_string(),
                    format!("is not a level from 0 to {MAX_LEVEL}"),
                )
            })?;
        let span = BigInt::from(1) << level;
        let place = |name: &str, v: Option<BigInt>| {
            let v = v.ok_or_else(|| required(name))?;
            if v < -&span || v >= span {
                return Err(ApiError::bad(
                    name,
                    short(&v.to_string()),
                    format!("is outside the tiles of level {level} (-2^{level} to 2^{level} - 1)"),
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
        for (key, value) in place_of(level, &x, &y) {
            job.set(key, &value)?;
        }
        if job.arithmetic()? != Precision::Double {
            let (ax, ay) = (x.clone() >> FAMILY_LEVELS, y.clone() >> FAMILY_LEVELS);
            let family = level.saturating_sub(FAMILY_LEVELS);
            let re = centre(family, &ax);
            job.set("reference", &format!("{re},{}", centre(family, &ay)))?;
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

/// An integer of any size, or a 400 naming `key`.
fn whole_number(key: &str, value: &str) -> Result<BigInt, ApiError> {
    let digits = value.trim();
    let plain = digits.strip_prefix('-').unwrap_or(digits);
    if plain.is_empty() || !plain.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad(key, short(value), "is not a whole number"));
    }
    Ok(digits.parse().expect("digits with an optional sign"))
}

/// A value to quote in an error: long ones cut to their first digits.
fn short(value: &str) -> String {
    match value.char_indices().nth(40) {
        Some((at, _)) => format!("{}...", &value[..at]),
        None => value.to_string(),
    }
}

/// The view parameters of tile `(level, x, y)`: its edges to [`EDGE_LEVELS`], its centre
/// and zoom beyond (both exact).
fn place_of(level: u32, x: &BigInt, y: &BigInt) -> Vec<(&'static str, String)> {
    if level <= EDGE_LEVELS {
        let edge = |i: &BigInt| dyadic_decimal(&(i * TILE_SIZE), level + 6);
        return vec![
            ("xmin", edge(x)),
            ("xmax", edge(&(x + 1))),
            ("ymin", edge(y)),
            ("ymax", edge(&(y + 1))),
        ];
    }
    // 3.5 / zoom = 4 / 2^level: zoom = 7·2^(level - 3).
    let zoom = BigInt::from(7) << (level - 3);
    vec![
        (
            "center",
            format!("{},{}", centre(level, x), centre(level, y)),
        ),
        ("zoom", zoom.to_string()),
    ]
}

/// The centre coordinate of the tiles `i` of `level`: `(2i + 1)/2^(level - 1)`, exactly.
fn centre(level: u32, i: &BigInt) -> String {
    let twice: BigInt = i * 2 + 1;
    // Level 0's side is 4: (2i + 1)·2.
    match level.checked_sub(1) {
        Some(k) => dyadic_decimal(&twice, k),
        None => (twice * 2u32).to_string(),
    }
}

/// Renders `req`'s tile as a PNG, by the deadline of `limits`, stopped early if `cancel` is
/// raised, perturbed (past doubles) about a reference orbit found in or left in `orbits`;
/// counted among the renders in flight and in the render-time histogram (tiles are not logged
/// one row each: the board counts them, `mandel_tiles_total`). Blocking.
pub fn render(
    req: &TileRequest,
    board: &Scoreboard,
    limits: &Limits,
    cancel: mandel::Cancel,
    orbits: &OrbitCache,
) -> Result<Vec<u8>, ApiError> {
    let start = std::time::Instant::now();
    let job = Job {
        deadline: Some(start + limits.render_timeout),
        cancel: Some(cancel),
        orbits: Some(orbits.clone()),
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
fn dyadic_decimal(m: &BigInt, k: u32) -> String {
    let scaled = m.magnitude() * num_bigint::BigUint::from(5u32).pow(k);
    let digits = format!("{scaled:0>width$}", width = k as usize + 1);
    let (whole, fraction) = digits.split_at(digits.len() - k as usize);
    let fraction = fraction.trim_end_matches('0');
    let sign = if m.sign() == num_bigint::Sign::Minus {
        "-"
    } else {
        ""
    };
    match (whole, fraction.is_empty()) {
        ("0", true) => "0".into(),
        (_, true) => format!("{sign}{whole}"),
        (_, false) => format!("{sign}{whole}.{fraction}"),
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
            assert_eq!(dyadic_decimal(&BigInt::from(m), k), text, "{m}/2^{k}");
        }
        // Every tile edge of the deepest level given by edges reads back as the same double.
        for m in [1i64, -7, 1 << 40, -(1 << 52) + 3] {
            let k = EDGE_LEVELS + 6;
            let exact = m as f64 / 2f64.powi(k as i32);
            let text = dyadic_decimal(&BigInt::from(m), k);
            assert_eq!(text.parse::<f64>().unwrap(), exact);
        }
        // And deeper: 2^-200 has 200 places, its last digit 5 (as 5^200's).
        let deep = dyadic_decimal(&BigInt::from(-3), 200);
        assert_eq!(deep.len(), "-0.".len() + 200);
        assert!(deep.starts_with("-0.00000000000000000000000000000000000000000000000000000000000"));
        assert!(deep.ends_with('5'));
    }

    #[test]
    fn a_deep_tile_is_given_by_its_exact_centre_and_zoom_and_shares_a_reference() {
        let t = parse("level=41&x=-1&y=0&max_iter=2000").unwrap();
        let text = t.job.canonical().unwrap();
        let pairs: std::collections::HashMap<String, String> =
            form_urlencoded::parse(text.as_bytes())
                .into_owned()
                .collect();
        // Side 4/2^41 = 2^-39: the centre of tile (-1, 0) is (-2^-40, 2^-40). (Doubles
        // render this one: the canonical text has their values.)
        assert_eq!(t.job.arithmetic().unwrap(), mandel::Precision::Double);
        let (re, im) = pairs["center"].split_once(',').unwrap();
        let values = (
            re.parse::<f64>(),
            im.parse::<f64>(),
            pairs["zoom"].parse::<f64>(),
        );
        let side = 2f64.powi(-39);
        assert_eq!(values, (Ok(-side / 2.0), Ok(side / 2.0), Ok(3.5 / side)));
        // Tiles of 256 pixels, each 2^-47: the view's width is 3.5/zoom.
        let b = t.job.approximate_bounds().unwrap();
        assert_eq!((b.xmin, b.xmax), (-(2f64.powi(-39)), 0.0));
        assert_eq!((b.ymin, b.ymax), (0.0, 2f64.powi(-39)));

        // Near the spiral about i at level 100 (a zoom of some 10^29), with 90-digit places.
        let x = BigInt::from(0) - 1;
        let y: BigInt = (BigInt::from(1) << 98) + 5;
        let q = |x: &BigInt, y: &BigInt| format!("level=100&x={x}&y={y}&max_iter=3000");
        let t = parse(&q(&x, &y)).unwrap();
        assert_eq!(t.job.arithmetic().unwrap(), mandel::Precision::Perturbation);
        let reference = |t: &TileRequest| {
            let text = t.job.canonical().unwrap();
            form_urlencoded::parse(text.as_bytes())
                .find(|(k, _)| k == "reference")
                .map(|(_, v)| v.into_owned())
                .unwrap()
        };
        // The 8×8 tiles of one ancestor share its centre; the next ancestor's differs.
        let mine = reference(&t);
        assert_eq!(reference(&parse(&q(&(&x - 7), &(&y + 2))).unwrap()), mine);
        assert_ne!(reference(&parse(&q(&(&x + 1), &y)).unwrap()), mine);
        let (re, im) = mine.split_once(',').unwrap();
        // Level 97's tile (-1, 2^95): centre (-1/2^96, (2^96 + 1)/2^96).
        assert_eq!(re, dyadic_decimal(&BigInt::from(-1), 96));
        assert_eq!(im, dyadic_decimal(&((BigInt::from(1) << 96) + 1), 96));
        // The deepest level takes the largest places; one more is refused, naming it.
        let edge = BigInt::from(1) << MAX_LEVEL;
        let deepest = format!("level={MAX_LEVEL}&x={}&y=0&max_iter=100", &edge - 1);
        assert!(parse(&deepest).is_ok());
        let over = format!("level={MAX_LEVEL}&x={edge}&y=0&max_iter=100");
        match parse(&over) {
            Err(ApiError::BadParam { field, value, .. }) => {
                assert_eq!(field, "x");
                assert!(value.len() < 50, "{value}");
            }
            other => panic!("{other:?}"),
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
            ("level=10001&x=0&y=0", "level"),
            ("level=99999999999999999999&x=0&y=0", "level"),
            ("level=2&x=1e3&y=0", "x"),
            ("level=2&x=--1&y=0", "x"),
            ("level=2&x=&y=0", "x"),
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
