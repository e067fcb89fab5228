//! Scheduling: maps rows onto a pool of workers. The kernels do the arithmetic; this layer only
//! slices the grid into rows and hands them out.

use std::num::NonZeroUsize;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::kernel;
use crate::viewport::Viewport;

/// What to render: a pixel grid over the plane and the iteration limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub viewport: Viewport,
    pub max_iter: u32,
}

impl Params {
    pub fn new(viewport: Viewport, max_iter: u32) -> Result<Self> {
        if max_iter == 0 {
            return Err(Error::invalid("max-iter", max_iter, "must be at least 1"));
        }
        Ok(Params { viewport, max_iter })
    }
}

/// How rows are mapped onto workers: the seed's plain `map`, or a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// One row after another on the calling thread, as the seed's `map`.
    Sequential,
    /// `jobs` threads taking rows dynamically (work stealing), so that the costly rows through
    /// the set's interior do not leave a thread idle at the end.
    Threads { jobs: NonZeroUsize },
}

impl Pool {
    /// Threads on every core the process may use.
    pub fn all_cores() -> Self {
        Pool::Threads { jobs: available_cores() }
    }
}

/// The number of cores this process may run on (at least 1).
pub fn available_cores() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// Renders every row of `params` and returns the count grid, rows in the seed's order.
///
/// `on_row` is called once per finished row, from whichever thread finished it (for progress
/// bars). The grid is identical for every pool and job count.
pub fn render(params: &Params, pool: Pool, on_row: &(dyn Fn() + Sync)) -> Result<Grid> {
    let mut grid = Grid::new(params.viewport.width(), params.viewport.height())?;
    render_into(params, pool, &mut grid, on_row)?;
    Ok(grid)
}

/// As [`render`], into a grid the caller allocated with the viewport's size.
pub fn render_into(
    params: &Params,
    pool: Pool,
    grid: &mut Grid,
    on_row: &(dyn Fn() + Sync),
) -> Result<()> {
    let vp = &params.viewport;
    assert_eq!(
        (grid.width(), grid.height()),
        (vp.width(), vp.height()),
        "grid size must match the viewport"
    );
    let width = vp.width() as usize;
    match pool {
        Pool::Sequential => {
            for (out, r) in grid.counts_mut().chunks_exact_mut(width).zip(0u32..) {
                kernel::render_row(vp, r, params.max_iter, out);
                on_row();
            }
        }
        Pool::Threads { jobs } => {
            let threads = rayon::ThreadPoolBuilder::new()
                .num_threads(jobs.get())
                .thread_name(|i| format!("mandel-row-{i}"))
                .build()
                .map_err(|e| Error::invalid("jobs", jobs, format!("cannot start threads: {e}")))?;
            threads.install(|| {
                grid.counts_mut()
                    .par_chunks_exact_mut(width)
                    .zip(0u32..vp.height())
                    .with_max_len(1)
                    .for_each(|(out, r)| {
                        kernel::render_row(vp, r, params.max_iter, out);
                        on_row();
                    });
            });
        }
    }
    Ok(())
}
