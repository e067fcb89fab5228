//! The scoreboard: the server's counters in one page of shared memory, as in Apache's prefork
//! server. The supervisor and every worker process map the same page, so a worker can answer
//! `/metrics` and `/` with figures that cover all of them; with thread isolation the page is
//! simply private to the one process.
//!
//! Every field is an atomic integer and a zeroed page is a valid board, so no lock and no
//! initialisation protocol is needed between processes.

use std::fs::File;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use memmap2::{MmapMut, MmapOptions};

/// Upper bounds, in seconds, of the render-time histogram's buckets (Prometheus `le`).
pub const RENDER_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Status codes are counted in one slot each, from 100 to 599.
const STATUS_SLOTS: usize = 500;

/// Written by the creator and checked by every process that maps the board, so that a worker
/// handed the wrong descriptor fails at start rather than reporting nonsense.
const MAGIC: u64 = u64::from_le_bytes(*b"mandelS2");

/// The counters. `repr(C)` because several processes (of the same binary) map one layout.
#[repr(C)]
pub struct Counters {
    magic: AtomicU64,
    /// The cap on workers alive at once (`--max-workers`).
    pub max_workers: AtomicU64,
    /// Workers alive now: processes (process isolation) or connection tasks (threads).
    pub workers_busy: AtomicU64,
    /// Connections accepted since start.
    pub connections_accepted: AtomicU64,
    /// Times the supervisor stopped accepting because the cap was reached.
    pub accept_paused_total: AtomicU64,
    /// 1 while accepting is paused at the cap.
    pub accept_paused: AtomicU64,
    /// Renders being computed now.
    pub renders_in_flight: AtomicU64,
    /// Workers that ended abnormally (killed by a signal or a non-zero exit).
    pub workers_failed: AtomicU64,
    /// Map tiles rendered (each also counts as a render in the histogram).
    pub tiles_rendered: AtomicU64,
    /// Map tiles sent from the tile cache.
    pub tiles_cached: AtomicU64,
    /// Map tile requests answered 304 Not Modified (the browser had the tile).
    pub tiles_not_modified: AtomicU64,
    requests_by_status: [AtomicU64; STATUS_SLOTS],
    render_buckets: [AtomicU64; RENDER_BUCKETS.len()],
    render_count: AtomicU64,
    render_micros: AtomicU64,
}

impl Counters {
    /// Records whether accepting is paused at the cap now; a change to paused counts once in
    /// `accept_paused_total`.
    pub fn set_accept_paused(&self, paused: bool) {
        let was = self.accept_paused.swap(paused.into(), Relaxed) == 1;
        if paused && !was {
            self.accept_paused_total.fetch_add(1, Relaxed);
            tracing::debug!(
                "at the cap of {} workers: accept paused",
                self.max_workers.load(Relaxed)
            );
        }
    }

    /// Counts one response with `status`.
    pub fn count_response(&self, status: u16) {
        let slot = usize::from(status)
            .saturating_sub(100)
            .min(STATUS_SLOTS - 1);
        self.requests_by_status[slot].fetch_add(1, Relaxed);
    }

    /// (status, responses) for every status seen, lowest first.
    pub fn responses(&self) -> Vec<(u16, u64)> {
        (100u16..)
            .zip(&self.requests_by_status)
            .map(|(status, n)| (status, n.load(Relaxed)))
            .filter(|&(_, n)| n > 0)
            .collect()
    }

    /// Records one finished render's duration.
    pub fn observe_render(&self, took: Duration) {
        let secs = took.as_secs_f64();
        for (bound, bucket) in RENDER_BUCKETS.iter().zip(&self.render_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.render_count.fetch_add(1, Relaxed);
        self.render_micros
            .fetch_add(took.as_micros().try_into().unwrap_or(u64::MAX), Relaxed);
    }

    /// Cumulative bucket counts (one per [`RENDER_BUCKETS`] bound), the count, and the sum in
    /// seconds.
    pub fn render_histogram(&self) -> (Vec<u64>, u64, f64) {
        let buckets = self
            .render_buckets
            .iter()
            .map(|b| b.load(Relaxed))
            .collect();
        let sum = self.render_micros.load(Relaxed) as f64 / 1e6;
        (buckets, self.render_count.load(Relaxed), sum)
    }
}

/// A mapped scoreboard.
pub struct Scoreboard {
    map: MmapMut,
}

impl Scoreboard {
    /// A board in a file with no name, and that file: worker processes that inherit its
    /// descriptor map the same board with [`Scoreboard::attach`].
    pub fn shared(max_workers: u32) -> std::io::Result<(Self, File)> {
        let file = tempfile::tempfile()?;
        file.set_len(std::mem::size_of::<Counters>() as u64)?;
        // SAFETY: the file is ours alone (unnamed) and sized for the board; other processes
        // touch it only through atomics.
        let map = unsafe { MmapOptions::new().map_mut(&file)? };
        let board = Self::init(map, max_workers);
        Ok((board, file))
    }

    /// A board private to this process (thread isolation, tests).
    pub fn private(max_workers: u32) -> std::io::Result<Self> {
        let map = MmapOptions::new()
            .len(std::mem::size_of::<Counters>())
            .map_anon()?;
        Ok(Self::init(map, max_workers))
    }

    /// Maps the board a supervisor created and passed down as `fd`.
    pub fn attach(fd: impl AsFd) -> std::io::Result<Self> {
        let file = File::from(fd.as_fd().try_clone_to_owned()?);
        let len = file.metadata()?.len();
        if len != std::mem::size_of::<Counters>() as u64 {
            return Err(std::io::Error::other(format!(
                "the scoreboard is {len} bytes, not {}",
                std::mem::size_of::<Counters>()
            )));
        }
        // SAFETY: as in `shared`; the length was checked against the layout.
        let map = unsafe { MmapOptions::new().map_mut(&file)? };
        let board = Scoreboard { map };
        if board.magic.load(Relaxed) != MAGIC {
            return Err(std::io::Error::other(
                "the descriptor is not a mandel scoreboard",
            ));
        }
        Ok(board)
    }

    fn init(map: MmapMut, max_workers: u32) -> Self {
        let board = Scoreboard { map };
        board.max_workers.store(max_workers.into(), Relaxed);
        board.magic.store(MAGIC, Relaxed);
        board
    }
}

impl std::ops::Deref for Scoreboard {
    type Target = Counters;

    fn deref(&self) -> &Counters {
        const _: () = assert!(std::mem::align_of::<Counters>() <= 4096);
        // SAFETY: the map is page aligned and exactly `size_of::<Counters>()` long (checked at
        // creation and attach); all-zero bytes are valid atomics; the map lives as long as
        // `self`, and all access goes through atomics.
        unsafe { &*self.map.as_ptr().cast::<Counters>() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_mapping_sees_the_first_ones_counts() {
        let (board, file) = Scoreboard::shared(7).unwrap();
        let other = Scoreboard::attach(&file).unwrap();
        board.connections_accepted.fetch_add(3, Relaxed);
        board.count_response(200);
        other.count_response(200);
        other.count_response(404);
        other.count_response(999);
        assert_eq!(other.connections_accepted.load(Relaxed), 3);
        assert_eq!(other.max_workers.load(Relaxed), 7);
        assert_eq!(board.responses(), vec![(200, 2), (404, 1), (599, 1)]);
    }

    #[test]
    fn the_histogram_is_cumulative() {
        let board = Scoreboard::private(1).unwrap();
        board.observe_render(Duration::from_millis(3));
        board.observe_render(Duration::from_secs(60));
        let (buckets, count, sum) = board.render_histogram();
        assert_eq!(count, 2);
        assert!((sum - 60.003).abs() < 1e-9);
        assert_eq!(buckets[0], 0, "3 ms is over 1 ms");
        assert_eq!(buckets[2], 1, "3 ms is within 5 ms");
        assert_eq!(*buckets.last().unwrap(), 1, "60 s only counts in +Inf");
    }

    #[test]
    fn attach_refuses_a_file_that_is_not_a_board() {
        let file = tempfile::tempfile().unwrap();
        file.set_len(std::mem::size_of::<Counters>() as u64)
            .unwrap();
        assert!(Scoreboard::attach(&file).is_err());
        assert!(Scoreboard::attach(tempfile::tempfile().unwrap()).is_err());
    }
}
