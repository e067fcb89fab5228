//! Scheduling: maps pixels onto a pool of workers. The kernels do the arithmetic; this layer
//! only slices the grid into tasks (rows, or stretches of a very wide row), hands them out, and
//! stops them all when the render's deadline passes or it is cancelled.

use std::num::NonZeroUsize;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;

use mandel_kernel::{Kernel, Shortcuts, Stop, Stopped, Viewport};

use crate::cancel::Cancel;
use crate::deep::{DeepCounter, DeepParams};
use crate::error::{Error, Field, Result};
use crate::grid::Grid;
use crate::orbits::OrbitCache;
use crate::process_pool::{self, WorkerCommand};
use crate::tuning::{AHEAD_PER_THREAD, PIXELS_PER_TASK, SMALL_RENDER, WIDE_ROW};

/// What to render: a pixel grid over the plane, the iteration limit, and the rows wanted.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    /// The pixels, and for a double-precision render the point each samples.
    pub viewport: Viewport,
    pub max_iter: u32,
    /// The rows computed, row 0 being `ymin`: a grid holds these rows only.
    pub rows: Range<u32>,
    /// Past double precision: the deep view whose points the pixels sample, and how they are
    /// counted (the viewport then only gives the lattice's size).
    pub deep: Option<Arc<DeepParams>>,
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
            deep: None,
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
    /// A render still running at this instant stops with [`Error::DeadlineExceeded`].
    pub deadline: Option<Instant>,
    /// Raised, it stops the render with [`Error::Cancelled`]; a passed deadline raises it too.
    /// The kernels poll both every [`mandel_kernel::POLL_STEPS`] iterations or so, and the
    /// process pool's parent every `STOP_POLL`, so a render stops within a millisecond or two.
    pub cancel: Cancel,
    /// Where deep renders find and leave their reference orbits, if anywhere.
    pub orbits: Option<OrbitCache>,
}

impl Engine {
    /// `pool` and `kernel`, with proven shortcuts allowed and no deadline.
    pub fn new(pool: Pool, kernel: Kernel) -> Self {
        Engine {
            pool,
            kernel,
            shortcuts: Shortcuts::On,
            deadline: None,
            cancel: Cancel::new(),
            orbits: None,
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

    /// What the kernels poll.
    pub fn stop(&self) -> Stop<'_> {
        Stop::new(self.cancel.flag(), self.deadline)
    }

    /// Fails if the render should stop now (between passes, and before each task).
    pub fn check_stop(&self) -> Result<()> {
        if self.stop().poll() {
            Err(self.stopped())
        } else {
            Ok(())
        }
    }

    /// The error of a render that was stopped: the deadline's, if it has passed.
    pub fn stopped(&self) -> Error {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            Error::DeadlineExceeded
        } else {
            Error::Cancelled
        }
    }
}

impl Default for Engine {
    /// Threads on every core, the fastest kernel this CPU has.
    fn default() -> Self {
        Engine::new(Pool::all_cores(), Kernel::best())
    }
}

/// Rows per task for a grid `width` pixels wide (1 for rows of [`PIXELS_PER_TASK`] or more).
pub(crate) fn rows_per_task(width: u32) -> usize {
    PIXELS_PER_TASK.div_ceil(width as usize).max(1)
}

/// How the pixels of a render are cut into tasks: several whole rows of a narrow grid (about
/// [`PIXELS_PER_TASK`] pixels), one row, or a stretch of [`WIDE_ROW`] pixels of a wider one,
/// so that neither a single huge row nor a single huge column makes one task that a pool
/// cannot share out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tasks {
    width: u64,
    first_row: u64,
    height: u64,
    /// Whole rows per task, for a narrow grid (1 for a wide one).
    rows: u64,
    /// Tasks per row, for a wide grid (1 for a narrow one).
    per_row: u64,
}

impl Tasks {
    pub fn new(params: &Params) -> Self {
        let width = u64::from(params.viewport.width());
        let per_row = width.div_ceil(WIDE_ROW as u64).max(1);
        Tasks {
            width,
            first_row: u64::from(params.rows.start),
            height: params.rows.len() as u64,
            rows: rows_per_task(params.viewport.width()) as u64,
            per_row,
        }
    }

    /// How many tasks there are.
    pub fn len(&self) -> usize {
        if self.per_row > 1 {
            (self.height * self.per_row) as usize
        } else {
            self.height.div_ceil(self.rows) as usize
        }
    }

    /// Task `t`'s pixels, counted in the grid of `params.rows` (0 is the first row wanted):
    /// the first and how many. Tasks are numbered from the end of the grid that `order`
    /// names; within a task, pixels are in grid order.
    pub fn span(&self, t: usize, order: RowOrder) -> (u64, u64) {
        let t = t as u64;
        if self.per_row > 1 {
            let (r, c) = (t / self.per_row, t % self.per_row);
            let row = match order {
                RowOrder::BottomFirst => r,
                RowOrder::TopFirst => self.height - 1 - r,
            };
            let col = c * WIDE_ROW as u64;
            let len = (WIDE_ROW as u64).min(self.width - col);
            (row * self.width + col, len)
        } else {
            let (start, end) = match order {
                RowOrder::BottomFirst => (t * self.rows, ((t + 1) * self.rows).min(self.height)),
                RowOrder::TopFirst => (
                    self.height.saturating_sub((t + 1) * self.rows),
                    self.height - t * self.rows,
                ),
            };
            (start * self.width, (end - start) * self.width)
        }
    }

    /// The viewport's index of the grid's pixel `i`.
    pub fn in_viewport(&self, i: u64) -> u64 {
        self.first_row * self.width + i
    }
}

/// The thread pools started so far, by size.
static POOLS: Mutex<Vec<(NonZeroUsize, Arc<rayon::ThreadPool>)>> = Mutex::new(Vec::new());

/// A pool of `jobs` threads, started on first use and kept for the process's lifetime, so
/// that a short render does not pay for starting threads.
pub(crate) fn thread_pool(jobs: NonZeroUsize) -> Result<Arc<rayon::ThreadPool>> {
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

/// Forgets, without touching them, the thread pools this process started: for a child
/// process forked from one that rendered on threads (Python's `multiprocessing`), where those
/// pools' threads do not exist and a render on them would wait forever. The next render starts
/// new ones. Call it in the child, right after the fork, and nowhere else.
pub fn forget_thread_pools_after_fork() {
    // (try_lock: a lock held by a thread of the parent at the fork is never released here.)
    if let Ok(mut pools) = POOLS.try_lock() {
        for pool in pools.drain(..) {
            std::mem::forget(pool);
        }
    } else {
        // Leaked with its contents, a poisoned or held lock cannot be replaced; a render in
        // this child then runs on the pools' threads, which do not exist: say so.
        eprintln!("mandel: the thread pools were in use at the fork; render sequentially here");
    }
}

/// The number of cores this process may run on (at least 1), as found on first use.
pub fn available_cores() -> NonZeroUsize {
    // Asked once: the answer reads cgroup files, which cost a server 6% of its time when
    // every request's job asked again.
    static CORES: std::sync::OnceLock<NonZeroUsize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN))
}

/// Finished pixels, handed to a [`render`] caller as soon as they are computed (for a progress
/// bar, or a writer that streams rows).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Band<'a, T = u32> {
    /// The grid's index of `values[0]` (0 is the first pixel of the first row wanted).
    pub first: u64,
    /// Pixels in grid order: whole rows, or a stretch of one row.
    pub values: &'a [T],
}

impl<T> Band<'_, T> {
    pub fn pixels(&self) -> u64 {
        self.values.len() as u64
    }
}

/// Computes the values of a span of pixels: see [`fill_spans`].
pub(crate) type FillFn<'a, T> =
    dyn Fn(u64, &mut [T]) -> std::result::Result<u64, Stopped> + Sync + 'a;

/// Fills `out`, the pixels of `params.rows` in grid order, task by task ([`Tasks`]) on the
/// engine's in-process pool: `fill(first, values)` computes the values of the pixels from the
/// viewport's pixel `first` on, and returns a figure that is summed over all tasks. `on_band`
/// hears of each task finished, from whichever thread finished it, in no particular order.
/// The first task to be stopped stops the rest.
pub(crate) fn fill_spans<T: Send>(
    params: &Params,
    engine: &Engine,
    out: &mut [T],
    fill: &FillFn<'_, T>,
    on_band: &(dyn Fn(Band<T>) + Sync),
) -> Result<u64> {
    let tasks = Tasks::new(params);
    assert_eq!(
        out.len() as u64,
        params.pixels(),
        "one value per pixel wanted"
    );
    // Split once into the tasks' slices: tasks of a wide grid are not all the same length.
    let mut spans = Vec::with_capacity(tasks.len());
    let mut rest = out;
    for t in 0..tasks.len() {
        let (first, len) = tasks.span(t, RowOrder::BottomFirst);
        let (span, tail) = std::mem::take(&mut rest).split_at_mut(len as usize);
        spans.push((first, span));
        rest = tail;
    }
    let sum = AtomicU64::new(0);
    let task = |(first, values): (u64, &mut [T])| {
        // Once stopped, the remaining tasks are passed over; the kernel that saw the stop
        // raised the flag every later poll reads.
        if engine.stop().poll() {
            return;
        }
        if let Ok(n) = fill(tasks.in_viewport(first), values) {
            sum.fetch_add(n, Ordering::Relaxed);
            on_band(Band { first, values });
        }
    };
    match engine.pool.in_process(params) {
        Pool::Threads { jobs } => {
            // Work stealing hands tasks out dynamically, so the costly rows through the set
            // do not leave a thread idle at the end.
            thread_pool(jobs)?.install(|| spans.into_par_iter().with_max_len(1).for_each(task));
        }
        _ => spans.into_iter().for_each(task),
    }
    if engine.cancel.is_cancelled() {
        return Err(engine.stopped());
    }
    Ok(sum.into_inner())
}

/// Renders the rows of `params` and returns their count grid, rows in the seed's order, with
/// the iterations the kernels' shortcuts skipped.
///
/// `on_band` receives each band of pixels as soon as it is finished, from whichever thread
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
    engine.check_stop()?;
    if let Some(deep) = &params.deep {
        // Deep renders run in this process: the workers' protocol carries double lattices.
        let counter = deep_counter(deep, params, engine, false)?;
        let fill = |first: u64, out: &mut [u32]| counter.counts(first, engine.stop(), out);
        return fill_spans(params, engine, grid.counts_mut(), &fill, on_band);
    }
    if let Pool::Processes { jobs, worker } = &engine.pool {
        return process_pool::render_into(params, engine, *jobs, worker, grid, on_band);
    }
    let (kernel, shortcuts, max_iter, stop) = (
        engine.kernel,
        engine.shortcuts,
        params.max_iter,
        engine.stop(),
    );
    let fill =
        |first: u64, out: &mut [u32]| kernel.render_span(vp, first, max_iter, shortcuts, stop, out);
    fill_spans(params, engine, grid.counts_mut(), &fill, on_band)
}

/// The counter of a deep render's pixels, its reference orbit computed (escaping at |z| ≥ 2,
/// or with `smooth` at the smooth colouring's radius).
pub(crate) fn deep_counter<'a>(
    deep: &'a DeepParams,
    params: &Params,
    engine: &Engine,
    smooth: bool,
) -> Result<DeepCounter<'a>> {
    DeepCounter::new(deep, params.max_iter, smooth, engine).map_err(|Stopped| engine.stopped())
}

/// What computes the smooth values of a render's pixels: the deep counter (its reference
/// orbit computed at the smooth colouring's radius) past doubles, else the kernels.
pub(crate) struct SmoothFill<'a> {
    counter: Option<DeepCounter<'a>>,
    viewport: Viewport,
    max_iter: u32,
    stop: Stop<'a>,
}

impl<'a> SmoothFill<'a> {
    pub fn new(params: &'a Params, engine: &'a Engine) -> Result<Self> {
        let counter = match &params.deep {
            Some(deep) => Some(deep_counter(deep, params, engine, true)?),
            None => None,
        };
        Ok(SmoothFill {
            counter,
            viewport: params.viewport,
            max_iter: params.max_iter,
            stop: engine.stop(),
        })
    }

    /// The smooth values of the pixels from the viewport's pixel `first` on (a [`FillFn`]).
    pub fn fill(&self, first: u64, out: &mut [f64]) -> std::result::Result<u64, Stopped> {
        match &self.counter {
            Some(counter) => counter.smooth(first, self.stop, out),
            None => {
                mandel_kernel::smooth_span(&self.viewport, first, self.max_iter, self.stop, out)
            }
        }
    }

    /// The iterations that proven shortcuts skipped so far.
    pub fn skipped(&self) -> u64 {
        self.counter.as_ref().map_or(0, |c| c.skipped())
    }
}

/// Which end of the grid [`render_in_order`] delivers first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowOrder {
    /// Row 0 (ymin) first: the seed's order, and npy's.
    BottomFirst,
    /// The last row (ymax) first: the order of a picture's lines.
    TopFirst,
}

/// Renders `params` and hands every band of pixels to `sink` in `order`, one at a time,
/// without ever holding the whole grid: memory stays at a few bands per thread, so a grid
/// larger than memory can be streamed to a file. A band is whole rows (in grid order,
/// ascending, within the band) or a stretch of one row ([`Tasks`]); bands are delivered from
/// the end `order` names, and the stretches of a row from its first column. Returns the total
/// iterations (the sum of all counts) and those the kernels' shortcuts skipped. A sink error
/// stops the render and is returned. The pool runs in this process ([`Pool::in_process`]).
pub(crate) fn render_in_order(
    params: &Params,
    engine: &Engine,
    order: RowOrder,
    sink: &mut (dyn FnMut(Band) -> Result<()> + Send),
) -> Result<(u64, u64)> {
    let vp = &params.viewport;
    engine.check_kernel()?;
    let counter = match &params.deep {
        Some(deep) => Some(deep_counter(deep, params, engine, false)?),
        None => None,
    };
    let fill = |first: u64, out: &mut [u32]| match &counter {
        Some(counter) => counter.counts(first, engine.stop(), out),
        None => engine.kernel.render_span(
            vp,
            first,
            params.max_iter,
            engine.shortcuts,
            engine.stop(),
            out,
        ),
    };
    let mut total = 0u64;
    let skipped = stream_in_order(params, engine, order, &fill, &mut |band| {
        sink(band)?;
        total += band.values.iter().map(|&n| u64::from(n)).sum::<u64>();
        Ok(())
    })?;
    Ok((total, skipped))
}

/// [`render_in_order`] for values of any kind: `fill` computes a span's values (see
/// [`fill_spans`]), and the sum of what it returns is returned.
pub(crate) fn stream_in_order<T: Copy + Default + Send>(
    params: &Params,
    engine: &Engine,
    order: RowOrder,
    fill: &FillFn<'_, T>,
    sink: &mut (dyn FnMut(Band<T>) -> Result<()> + Send),
) -> Result<u64> {
    let tasks = Tasks::new(params);
    let sum = AtomicU64::new(0);
    let compute = |t: usize, buf: &mut Vec<T>| -> Result<()> {
        engine.check_stop()?;
        let (first, len) = tasks.span(t, order);
        // The kernel writes every value: a reused buffer is not cleared first.
        buf.resize(len as usize, T::default());
        let n = fill(tasks.in_viewport(first), buf).map_err(|Stopped| engine.stopped())?;
        sum.fetch_add(n, Ordering::Relaxed);
        Ok(())
    };
    let deliver = |t: usize, values: &[T], sink: &mut (dyn FnMut(Band<T>) -> Result<()> + Send)| {
        let first = tasks.span(t, order).0;
        sink(Band { first, values })
    };

    let jobs = match engine.pool.in_process(params) {
        Pool::Sequential => 1,
        pool => pool.jobs().get(),
    };
    if jobs == 1 {
        let mut buf = Vec::new();
        for t in 0..tasks.len() {
            compute(t, &mut buf)?;
            deliver(t, &buf, sink)?;
        }
        return Ok(sum.into_inner());
    }

    // Threads take tasks in order from a counter; a band finished early waits in `ahead` for
    // the bands before it, and whichever thread completes the awaited band delivers it and
    // every band queued behind it, under the lock (so the sink needs no synchronisation).
    struct Shared<'s, T> {
        next: usize,
        ahead: std::collections::BTreeMap<usize, Vec<T>>,
        spare: Vec<Vec<T>>,
        failed: Option<Error>,
        sink: &'s mut (dyn FnMut(Band<T>) -> Result<()> + Send),
    }
    let shared = Mutex::new(Shared {
        next: 0,
        ahead: Default::default(),
        spare: Vec::new(),
        failed: None,
        sink,
    });
    let advanced = std::sync::Condvar::new();
    let next_task = std::sync::atomic::AtomicUsize::new(0);
    let window = AHEAD_PER_THREAD * jobs;
    let worker = || {
        loop {
            let t = next_task.fetch_add(1, Ordering::Relaxed);
            if t >= tasks.len() {
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
                if let Err(e) = deliver(next, &band, &mut *s.sink) {
                    s.failed = Some(e);
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
        None => Ok(sum.into_inner()),
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
    fn every_pixel_is_handed_out_once_with_its_counts() {
        // Narrow rows grouped into tasks, and rows wide enough to be cut into stretches.
        for (width, height) in [(1000, 29), (2 * WIDE_ROW as u32 + 5, 3)] {
            let params = Params::new(Viewport::seed(width, height).unwrap(), 50).unwrap();
            assert!(
                Tasks::new(&params).len() > 3,
                "the grid must span several tasks"
            );
            for pool in [Pool::Sequential, jobs(3)] {
                let bands = std::sync::Mutex::new(Vec::new());
                let engine = Engine::new(pool.clone(), Kernel::Scalar);
                let (grid, _) = render(&params, &engine, &|band| {
                    bands
                        .lock()
                        .unwrap()
                        .push((band.first, band.values.to_vec()));
                })
                .unwrap();
                let mut bands = bands.into_inner().unwrap();
                bands.sort_by_key(|b| b.0);
                let mut next = 0;
                for (first, counts) in bands {
                    assert_eq!(first, next, "pixels handed out twice or skipped");
                    let start = first as usize;
                    assert_eq!(counts, grid.counts()[start..start + counts.len()]);
                    next += counts.len() as u64;
                }
                assert_eq!(next, params.pixels(), "{pool:?}");
            }
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
        // Narrow rows make one task hold several rows (61 rows do not divide evenly); wide
        // ones are cut into stretches (the last one shorter).
        let wide = 2 * WIDE_ROW as u32 + 904;
        for (width, height) in [(700, 61), (wide, 3)] {
            let params = Params::new(Viewport::seed(width, height).unwrap(), 200).unwrap();
            let sequential = Engine::new(Pool::Sequential, Kernel::Scalar);
            let grid = render(&params, &sequential, &|_| {}).unwrap().0;
            let w = u64::from(width);
            for pool in [Pool::Sequential, jobs(2), jobs(3)] {
                for order in [RowOrder::BottomFirst, RowOrder::TopFirst] {
                    let mut bands: Vec<(u64, Vec<u32>)> = Vec::new();
                    let engine = Engine::new(pool.clone(), Kernel::best());
                    let (total, _) = render_in_order(&params, &engine, order, &mut |band| {
                        bands.push((band.first, band.values.to_vec()));
                        Ok(())
                    })
                    .unwrap();
                    assert_eq!(total, grid.total_iterations());
                    // Where each band starts in the order asked for: its row counted from
                    // that end, then its column.
                    let place = |first: u64| {
                        let (row, col) = (first / w, first % w);
                        match order {
                            RowOrder::BottomFirst => (row, col),
                            RowOrder::TopFirst => (u64::from(height) - 1 - row, col),
                        }
                    };
                    let places: Vec<_> = bands.iter().map(|b| place(b.0)).collect();
                    assert!(places.is_sorted(), "{pool:?} {order:?}: bands out of order");
                    let mut again = vec![u32::MAX; grid.counts().len()];
                    for (first, counts) in &bands {
                        let at = *first as usize;
                        assert!(again[at..at + counts.len()].iter().all(|&n| n == u32::MAX));
                        again[at..at + counts.len()].copy_from_slice(counts);
                    }
                    assert_eq!(again, grid.counts(), "{pool:?} {order:?}");
                }
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

            // (A new engine: the passed deadline raised the old one's cancel flag for good.)
            let later = Instant::now() + std::time::Duration::from_secs(3600);
            let engine = Engine {
                deadline: Some(later),
                ..Engine::new(pool.clone(), Kernel::Scalar)
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
