//! What `mandel serve` is told on its command line, handed as one value to the supervisor and,
//! serialised, to every worker process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How connections are isolated from each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// A new worker process per connection, as the seed's comment thread describes.
    Process,
    /// A task per connection in the one server process, for comparison.
    Thread,
}

impl Isolation {
    pub fn name(self) -> &'static str {
        match self {
            Isolation::Process => "process",
            Isolation::Thread => "thread",
        }
    }
}

/// Per-request limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Limits {
    /// Most pixels one render may compute (supersampled pixels included).
    pub max_pixels: u64,
    /// Highest max-iter a request may ask for.
    pub max_iter: u32,
    /// A render still running after this long is abandoned with 503.
    pub render_timeout: Duration,
    /// Largest request body accepted (the API takes none; this bounds what a client can make
    /// the server read).
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: 16_777_216,
            max_iter: 1_000_000,
            render_timeout: Duration::from_secs(30),
            max_body_bytes: 16 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub listen: SocketAddr,
    pub max_workers: u32,
    pub isolation: Isolation,
    pub db: PathBuf,
    /// The tile cache, an SQLite file every worker shares.
    pub tile_cache: PathBuf,
    /// Most bytes of tiles the cache keeps (the least recently used go first).
    pub tile_cache_bytes: u64,
    /// Most bytes of reference orbits and BLA maps each worker process keeps for deep
    /// renders and tiles that share a reference point (the least recently used go first).
    /// Per process: with process isolation, up to `max_workers` times this in all, for as
    /// long as their connections last.
    pub orbit_cache_bytes: usize,
    pub limits: Limits,
    /// A client must send a request's whole header within this time, and an idle keep-alive
    /// connection is closed after it.
    pub header_timeout: Duration,
    /// A connection whose writes make no progress for this long (a client that stopped
    /// reading its response) is dropped, and its render cancelled.
    pub write_timeout: Duration,
    /// Renders older than this are deleted from the log (the totals keep counting them).
    pub log_retention: Duration,
    /// Requests served on one connection before the server closes it, so that connections
    /// waiting in the backlog get a worker in turn: with twice as many busy clients as
    /// workers, a waiting client waits about this many requests' time of another client.
    pub keep_alive_requests: u32,
    /// On SIGTERM or SIGINT, how long running requests may take to finish.
    pub shutdown_timeout: Duration,
    /// Connections the kernel queues while accepting is paused at the cap.
    pub backlog: u32,
}

impl Config {
    /// The defaults of `mandel serve`, listening on `listen`.
    pub fn new(listen: SocketAddr, db: PathBuf) -> Self {
        Config {
            listen,
            max_workers: 100,
            isolation: Isolation::Process,
            tile_cache: default_tile_cache(&db),
            tile_cache_bytes: 256 << 20,
            orbit_cache_bytes: 64 << 20,
            db,
            limits: Limits::default(),
            header_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            log_retention: Duration::from_secs(30 * 86_400),
            keep_alive_requests: 10,
            shutdown_timeout: Duration::from_secs(30),
            backlog: 1024,
        }
    }
}

/// The tile cache beside the render log: `mandel.db` has `mandel-tiles.db`.
pub fn default_tile_cache(db: &std::path::Path) -> PathBuf {
    let stem = db
        .file_stem()
        .map_or("mandel".into(), |s| s.to_string_lossy());
    db.with_file_name(format!("{stem}-tiles.db"))
}
