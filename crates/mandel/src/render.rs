//! Scheduling: maps rows onto a pool of workers. The kernels do the arithmetic; this layer only
//! slices the grid into rows and hands them out.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;

use std::ops::Range;
use std::sync::atomic::AtomicU64;

use mandel_kernel::{Kernel, Shortcuts, Viewport};

use crate::error::{Error, Field, Result};
use crate::grid::Grid;
use crate::process_pool::{self, WorkerCommand};
use crate::tuning::{AHEAD_PER_THREAD, PIXELS_PER_TASK, SMALL_RENDER};

/// What to render: a pixel grid over the plane, the iteration limit, and the rows wanted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Params {
    pub viewport: Viewport,
    pub max_iter: u32,
    /// The rows computed, row 0 being `ymin`: a grid holds these rows only.
    pub rows: Range<u32>,
}

impl Params {
    /// Every row of `viewport`.
    pub fn new(viewport: Viewport, max_iter: u32) -> Result<Self> {
        if max_iter == 0 {
            return Err(Error::invalid(
                Field::MaxIter,
                max_iter,
                "must be at least 1",
            ));
        }
        Ok(Params {
            viewport,
            max_iter,
            rows: 0..viewport.height(),
        })
    }

    /// Pixels in the rows wanted.
    pub fn pixels(&self) -> u64 {
        u64::from(self.viewport.width()) * u64::from(self.rows.len() as u32)
    }
}

/// How rows are mapped onto workers: the seed's plain `map`, or a pool of threads or of
/// processes. None of them changes a count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pool {
    /// One row after another on the calling thread, as the seed's `map`.
    Sequential,
    /// `jobs` threads taking rows dynamically (work stealing), so that the costly rows through
    /// the set's interior do not leave a thread idle at the end.
    Threads {
        /// Threads in the pool.
        jobs: NonZeroUsize,
    },
    /// Threads on every core, except for a render of less than [`crate::SMALL_RENDER`]
    /// pixel-iterations, which stays on the calling thread: handing it out costs about as
    /// much as it saves (a server's choice: its requests keep the cores busy).
    Auto,
    /// `jobs` worker processes, each started with `worker` and fed rows over pipes, as the
    /// seed's `multiprocessing.Pool` (see [`crate::run_worker`]). Passes beyond the counts
    /// (smooth colour, supersampling) run on threads.
    Processes {
        /// Worker processes in the pool.
        jobs: NonZeroUsize,
        /// How to start one.
        worker: WorkerCommand,
    },
}

impl Pool {
    /// Threads on every core the process may use.
    pub fn all_cores() -> Self {
        Pool::Threads {
            jobs: available_cores(),
        }
    }

    /// Workers in the pool (1 for the sequential one).
    pub fn jobs(&self) -> NonZeroUsize {
        match self {
            Pool::Sequential => NonZeroUsize::MIN,
            Pool::Auto => available_cores(),
            Pool::Threads { jobs } | Pool::Processes { jobs, .. } => *jobs,
        }
    }

    /// The pool for passes that run in this process: threads in place of processes, and for
    /// [`Pool::Auto`] the choice made.
    fn in_process(&self, params: &Params) -> Pool {
        let work = params.pixels().saturating_mul(u64::from(params.max_iter));
        match self {
            Pool::Auto if work < SMALL_RENDER => Pool::Sequential,
            Pool::Sequential => Pool::Sequential,
            pool => Pool::Threads { jobs: pool.jobs() },
        }
    }
}

impl Default for Pool {
    /// Threads on every core.
    fn default() -> Self {
        Pool::all_cores()
    }
}

/// How a render is carried out: which pool maps the work, which kernel computes it, and when
/// to give up. None of them changes a single count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Engine {
    pub pool: Pool,
    pub kernel: Kernel,
    pub shortcuts: Shortcuts,
    /// A render still running at this instant stops with [`Error::DeadlineExceeded`]. It is
    /// checked between tasks, so a render overruns it by at most one task per thread.
    pub deadline: Option<Instant>,
}

impl Engine {
    /// `pool` and `kernel`, with proven shortcuts allowed and no deadline.
    pub fn new(pool: Pool, kernel: Kernel) -> Self {
        Engine {
            pool,
            kernel,
            shortcuts: Shortcuts::On,
            deadline: None,
        }
    }

    /// Fails if this CPU cannot run the engine's kernel.
    pub fn check_kernel(&self) -> Result<()> {
        if self.kernel.is_available() {
            Ok(())
        } else {
            Err(Error::invalid(
                Field::Kernel,
                self.kernel,
                "is not supported by this CPU",
            ))
        }
    }

    /// This engine for passes that run in this process (see [`Pool::in_process`]).
    pub fn in_process(&self, params: &Params) -> Engine {
        Engine {
            pool: self.pool.in_process(params),
            ..self.clone()
        }
    }

    /// Whether the deadline, if any, has passed.
    pub fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

impl Default for Engine {
    /// Threads on every core, the fastest kernel this CPU has.
    fn default() -> Self {
        Engine::new(Pool::all_cores(), Kernel::best())
    }
}

/// Rows per task for a grid `width` pixels wide.
pub(crate) fn rows_per_task(width: u32) -> usize {
    PIXELS_PER_TASK.div_ceil(width as usize).max(1)
}

/// A pool of `jobs` threads, started on first use and kept for the process's lifetime, so
/// that a short render does not pay for starting threads.
pub(crate) fn thread_pool(jobs: NonZeroUsize) -> Result<Arc<rayon::ThreadPool>> {
    static POOLS: Mutex<Vec<(NonZeroUsize, Arc<rayon::ThreadPool>)>> = Mutex::new(Vec::new());
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, pool)) = pools.iter().find(|(n, _)| *n == jobs) {
        return Ok(pool.clone());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.get())
        .thread_name(|i| format!("mandel-row-{i}"))
        .build()
        .map_err(|e| Error::invalid(Field::Jobs, jobs, format!("cannot start threads: {e}")))?;
    let pool = Arc::new(pool);
    pools.push((jobs, pool.clone()));
    Ok(pool)
}

/// The number of cores this process may run on (at least 1).
pub fn available_cores() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// Finished rows, handed to a [`render`] caller as soon as they are computed (for a progress
/// bar, or a writer that streams rows).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Band<'a> {
    /// The grid row of `counts[0]` (row 0 samples `ymin`). (Read by sinks that place bands.)
    #[cfg_attr(not(test), allow(dead_code))]
    pub first_row: u32,
    /// Whole rows of counts, row `first_row` first.
    pub counts: &'a [u32],
    pub width: u32,
}

impl Band<'_> {
    pub fn rows(&self) -> u32 {
        (self.counts.len() / self.width as usize) as u32
    }
}

/// Renders the rows of `params` and returns their count grid, rows in the seed's order, with
/// the iterations the kernels' shortcuts skipped.
///
/// `on_band` receives each band of rows as soon as it is finished, from whichever thread
/// finished it, in no particular order. The grid is identical for every engine.
pub(crate) fn render(
    params: &Params,
    engine: &Engine,
    on_band: &(dyn Fn(Band) + Sync),
) -> Result<(Grid, u64)> {
    let mut grid = Grid::new(params.viewport.width(), params.rows.len() as u32)?;
    let skipped = render_into(params, engine, &mut grid, on_band)?;
    Ok((grid, skipped))
}

/// As [`render`], into a grid the caller allocated for the rows of `params`.
pub(crate) fn render_into(
    params: &Params,
    engine: &Engine,
    grid: &mut Grid,
    on_band: &(dyn Fn(Band) + Sync),
) -> Result<u64> {
    let vp = &params.viewport;
    assert_eq!(
        (grid.width(), grid.height()),
        (vp.width(), params.rows.len() as u32),
        "grid size must match the rows wanted"
    );
    engine.check_kernel()?;
    if let Pool::Processes { jobs, worker } = &engine.pool {
        let (kernel, shortcuts) = (engine.kernel, engine.shortcuts);
        return process_pool::render_into(params, kernel, shortcuts, *jobs, worker, grid, on_band);
    }
    let rows = rows_per_task(vp.width());
    let chunk = rows * vp.width() as usize;
    let late = AtomicBool::new(false);
    let skipped = AtomicU64::new(0);
    let task = |(i, out): (usize, &mut [u32])| {
        // Once late, the remaining tasks are skipped rather than cancelled mid-row: a kernel
        // has no way to stop, and no thread is ever left waiting on another.
        if late.load(Ordering::Relaxed) || engine.past_deadline() {
            late.store(true, Ordering::Relaxed);
            return;
        }
        let first_row = params.rows.start + (i * rows) as u32;
        let n = engine
            .kernel
            .render_rows(vp, first_row, params.max_iter, engine.shortcuts, out);
        skipped.fetch_add(n, Ordering::Relaxed);
        on_band(Band {
            first_row,
            counts: out,
            width: vp.width(),
        });
    };
    match engine.pool.in_process(params) {
        Pool::Threads { jobs } => {
            let threads = thread_pool(jobs)?;
            // Work stealing hands tasks out dynamically, so the costly rows through the set
            // do not leave a thread idle at the end.
            threads.install(|| {
                grid.counts_mut()
                    .par_chunks_mut(chunk)
                    .enumerate()
                    .with_max_len(1)
                    .for_each(task)
            });
        }
        _ => grid
            .counts_mut()
            .chunks_mut(chunk)
            .enumerate()
            .for_each(task),
    }
    if late.into_inner() {
        return Err(Error::DeadlineExceeded);
    }
    Ok(skipped.into_inner())
}

/// Which end of the grid [`render_in_order`] delivers first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowOrder {
    /// Row 0 (ymin) first: the seed's order, and npy's. (No format streams in it yet.)
    #[cfg_attr(not(test), allow(dead_code))]
    BottomFirst,
    /// The last row (ymax) first: the order of a picture's lines.
    TopFirst,
}

/// Renders `params` and hands every band of rows to `sink` in `order`, one at a time, without
/// ever holding the whole grid: memory stays at a few bands per thread, so a grid larger than
/// memory can be streamed to a file. The rows inside a band are in grid order (ascending) as
/// in [`render`]; bands are delivered from the end `order` names. Returns the total iterations
/// (the sum of all counts) and those the kernels' shortcuts skipped. A sink error stops the
/// render and is returned. The pool runs in this process ([`Pool::in_process`]).
pub(crate) fn render_in_order(
    params: &Params,
    engine: &Engine,
    order: RowOrder,
    sink: &mut (dyn FnMut(Band) -> Result<()> + Send),
) -> Result<(u64, u64)> {
    let vp = &params.viewport;
    engine.check_kernel()?;
    let width = vp.width() as usize;
    let (first, height) = (params.rows.start as usize, params.rows.len());
    let rows = rows_per_task(vp.width());
    let tasks = height.div_ceil(rows);
    // Task t covers grid rows [start, end): counted from the first row wanted or from the top.
    let span = |t: usize| match order {
        RowOrder::BottomFirst => (first + t * rows, first + ((t + 1) * rows).min(height)),
        RowOrder::TopFirst => (
            first + height.saturating_sub((t + 1) * rows),
            first + height - t * rows,
        ),
    };
    let skipped = AtomicU64::new(0);
    let compute = |t: usize, buf: &mut Vec<u32>| -> Result<()> {
        if engine.past_deadline() {
            return Err(Error::DeadlineExceeded);
        }
        let (start, end) = span(t);
        // The kernel writes every count: a reused buffer is not cleared first.
        buf.resize((end - start) * width, 0);
        let n = engine
            .kernel
            .render_rows(vp, start as u32, params.max_iter, engine.shortcuts, buf);
        skipped.fetch_add(n, Ordering::Relaxed);
        Ok(())
    };
    let deliver = |t: usize, counts: &[u32], sink: &mut (dyn FnMut(Band) -> Result<()> + Send)| {
        let band = Band {
            first_row: span(t).0 as u32,
            counts,
            width: vp.width(),
        };
        sink(band).map(|()| counts.iter().map(|&n| u64::from(n)).sum::<u64>())
    };

    let jobs = match engine.pool.in_process(params) {
        Pool::Sequential => 1,
        pool => pool.jobs().get(),
    };
    if jobs == 1 {
        let mut buf = Vec::new();
        let mut total = 0;
        for t in 0..tasks {
            compute(t, &mut buf)?;
            total += deliver(t, &buf, sink)?;
        }
        return Ok((total, skipped.into_inner()));
    }

    // Threads take tasks in order from a counter; a band finished early waits in `ahead` for
    // the bands before it, and whichever thread completes the awaited band delivers it and
    // every band queued behind it, under the lock (so the sink needs no synchronisation).
    struct Shared<'s> {
        next: usize,
        ahead: std::collections::BTreeMap<usize, Vec<u32>>,
        spare: Vec<Vec<u32>>,
        total: u64,
        failed: Option<Error>,
        sink: &'s mut (dyn FnMut(Band) -> Result<()> + Send),
    }
    let shared = Mutex::new(Shared {
        next: 0,
        ahead: Default::default(),
        spare: Vec::new(),
        total: 0,
        failed: None,
        sink,
    });
    let advanced = std::sync::Condvar::new();
    let next_task = std::sync::atomic::AtomicUsize::new(0);
    let window = AHEAD_PER_THREAD * jobs;
    let worker = || {
        loop {
            let t = next_task.fetch_add(1, Ordering::Relaxed);
            if t >= tasks {
                return;
            }
            let mut buf = {
                let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                while s.failed.is_none() && t >= s.next + window {
                    s = advanced.wait(s).unwrap_or_else(|e| e.into_inner());
                }
                if s.failed.is_some() {
                    return;
                }
                s.spare.pop().unwrap_or_default()
            };
            let computed = compute(t, &mut buf);
            let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = computed {
                s.failed.get_or_insert(e);
                advanced.notify_all();
                return;
            }
            s.ahead.insert(t, buf);
            while s.failed.is_none() {
                let next = s.next;
                let Some(band) = s.ahead.remove(&next) else {
                    break;
                };
                match deliver(next, &band, &mut *s.sink) {
                    Ok(n) => s.total += n,
                    Err(e) => s.failed = Some(e),
                }
                s.spare.push(band);
                s.next += 1;
            }
            advanced.notify_all();
        }
    };
    let threads = thread_pool(NonZeroUsize::new(jobs).expect("jobs > 1"))?;
    threads.scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|_| worker());
        }
    });
    let s = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    match s.failed {
        Some(e) => Err(e),
        None => Ok((s.total, skipped.into_inner())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandel_kernel::Bounds;
    use proptest::prelude::*;

    fn jobs(n: usize) -> Pool {
        Pool::Threads {
            jobs: NonZeroUsize::new(n).unwrap(),
        }
    }

    #[test]
    fn rejects_max_iter_zero() {
        let vp = Viewport::seed(2, 2).unwrap();
        assert!(
            Params::new(vp, 0)
                .unwrap_err()
                .to_string()
                .contains("max_iter = 0")
        );
    }

    #[test]
    fn every_row_is_handed_out_once_with_its_counts() {
        let params = Params::new(Viewport::seed(1000, 29).unwrap(), 50).unwrap();
        for pool in [Pool::Sequential, jobs(3)] {
            let bands = std::sync::Mutex::new(Vec::new());
            let engine = Engine::new(pool.clone(), Kernel::Scalar);
            let (grid, _) = render(&params, &engine, &|band| {
                assert_eq!(band.width, 1000);
                bands
                    .lock()
                    .unwrap()
                    .push((band.first_row, band.counts.to_vec()));
            })
            .unwrap();
            let mut bands = bands.into_inner().unwrap();
            bands.sort_by_key(|b| b.0);
            let mut next_row = 0;
            for (first_row, counts) in bands {
                assert_eq!(first_row, next_row, "rows handed out twice or skipped");
                let start = first_row as usize * 1000;
                assert_eq!(counts, grid.counts()[start..start + counts.len()]);
                next_row += (counts.len() / 1000) as u32;
            }
            assert_eq!(next_row, 29);
            assert!(rows_per_task(1000) < 29, "the grid must span several bands");
        }
    }

    #[test]
    fn grid_rows_follow_the_viewport_rows() {
        let params = Params::new(Viewport::seed(17, 9).unwrap(), 300).unwrap();
        let engine = Engine::new(jobs(2), Kernel::best());
        let grid = render(&params, &engine, &|_| {}).unwrap().0;
        for r in 0..9 {
            for (c, &n) in (0u32..).zip(grid.row(r)) {
                let vp = &params.viewport;
                assert_eq!(n, mandel_kernel::escape_time(vp.cx(c), vp.cy(r), 300));
            }
        }
    }

    #[test]
    fn in_order_bands_equal_the_grid_in_either_order() {
        // Narrow rows make one task hold several rows; 61 rows do not divide evenly.
        let params = Params::new(Viewport::seed(700, 61).unwrap(), 200).unwrap();
        let grid = render(
            &params,
            &Engine::new(Pool::Sequential, Kernel::Scalar),
            &|_| {},
        )
        .unwrap()
        .0;
        assert!(rows_per_task(700) > 1 && 61 % rows_per_task(700) != 0);
        for pool in [Pool::Sequential, jobs(2), jobs(3)] {
            for order in [RowOrder::BottomFirst, RowOrder::TopFirst] {
                let mut bands: Vec<(u32, Vec<u32>)> = Vec::new();
                let engine = Engine::new(pool.clone(), Kernel::best());
                let (total, _) = render_in_order(&params, &engine, order, &mut |band| {
                    bands.push((band.first_row, band.counts.to_vec()));
                    Ok(())
                })
                .unwrap();
                assert_eq!(total, grid.total_iterations());
                let firsts: Vec<u32> = bands.iter().map(|b| b.0).collect();
                let mut sorted = firsts.clone();
                sorted.sort_unstable();
                if order == RowOrder::TopFirst {
                    sorted.reverse();
                }
                assert_eq!(firsts, sorted, "{pool:?} {order:?}: bands out of order");
                let mut again = vec![u32::MAX; grid.counts().len()];
                for (first, counts) in &bands {
                    let at = *first as usize * 700;
                    assert!(again[at..at + counts.len()].iter().all(|&n| n == u32::MAX));
                    again[at..at + counts.len()].copy_from_slice(counts);
                }
                assert_eq!(again, grid.counts(), "{pool:?} {order:?}");
            }
        }
    }

    #[test]
    fn an_in_order_sink_error_stops_the_render() {
        let params = Params::new(Viewport::seed(300, 300).unwrap(), 100).unwrap();
        for pool in [Pool::Sequential, jobs(2)] {
            let mut calls = 0;
            let err = render_in_order(
                &params,
                &Engine::new(pool.clone(), Kernel::best()),
                RowOrder::TopFirst,
                &mut |_| {
                    calls += 1;
                    if calls == 3 {
                        Err(Error::Worker("disk full".into()))
                    } else {
                        Ok(())
                    }
                },
            )
            .unwrap_err();
            assert_eq!(err.to_string(), "disk full");
            assert_eq!(calls, 3, "{pool:?}: the sink was called after it failed");
        }
    }

    #[test]
    fn a_passed_deadline_stops_the_render_and_a_later_one_does_not() {
        let params = Params::new(Viewport::seed(64, 64).unwrap(), 100).unwrap();
        for pool in [Pool::Sequential, jobs(2)] {
            let bands = std::sync::atomic::AtomicUsize::new(0);
            let count = |_: Band| {
                bands.fetch_add(1, Ordering::Relaxed);
            };
            let engine = Engine {
                deadline: Some(Instant::now()),
                ..Engine::new(pool.clone(), Kernel::Scalar)
            };
            let err = render(&params, &engine, &count).unwrap_err();
            assert!(matches!(err, Error::DeadlineExceeded), "{err}");
            let err = render_in_order(&params, &engine, RowOrder::TopFirst, &mut |_| Ok(()));
            assert!(matches!(err, Err(Error::DeadlineExceeded)), "{err:?}");
            assert_eq!(bands.load(Ordering::Relaxed), 0, "no task may start late");

            let later = Instant::now() + std::time::Duration::from_secs(3600);
            let engine = Engine {
                deadline: Some(later),
                ..engine
            };
            let grid = render(&params, &engine, &count).unwrap().0;
            assert_eq!(
                grid,
                render(&params, &Engine::new(pool.clone(), Kernel::Scalar), &|_| {})
                    .unwrap()
                    .0
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn threads_equal_sequential_on_random_viewports(
            xmin in -2.5f64..0.5, w in 1e-9f64..3.0,
            ymin in -1.5f64..1.0, h in 1e-9f64..2.0,
            width in 1u32..70, height in 1u32..40,
            max_iter in 1u32..400, n in 1usize..5,
        ) {
            let bounds = Bounds { xmin, xmax: xmin + w, ymin, ymax: ymin + h };
            let params = Params::new(Viewport::new(bounds, width, height).unwrap(), max_iter).unwrap();
            let seq = Engine::new(Pool::Sequential, Kernel::Scalar);
            let par = Engine::new(jobs(n), Kernel::best());
            let seq = render(&params, &seq, &|_| {}).unwrap().0;
            let par = render(&params, &par, &|_| {}).unwrap().0;
            prop_assert_eq!(seq, par);
        }
    }
}
