//! Exact, parallel Mandelbrot escape-time rendering: one render pipeline for every front end.
//!
//! The grid, iteration rule and counts are those of the seed program (a Python blog post that
//! maps `mandelbrotCalcRow` over the rows of a 400x400 picture): pixel (r, c) samples
//! `c*dx + xmin + i(r*dy + ymin)`, and its count is how many times `z <- z*z + c` runs from 0
//! while `|z| < 2` and the count is below the limit. Every kernel and every pool gives the
//! seed's counts bit for bit.
//!
//! A render is described by a [`Job`]: the view, the size, the limit, the rows, the style, the
//! format (what the output holds), and the kernel, pool, deadline and progress callback (how
//! it is computed). [`Job::run`] validates it, computes it and encodes it; [`Job::counts`]
//! returns the count grid. A job has one canonical text form ([`Job::canonical`]), which
//! pictures carry and the server's links and log use.
//!
//! ```
//! use mandel::{Format, Job};
//! let job = Job {
//!     width: 40,
//!     height: 20,
//!     max_iter: 100,
//!     format: Format::Pbm,
//!     ..Job::default()
//! };
//! let mut pbm = Vec::new();
//! let summary = job.run(&mut pbm)?;
//! assert!(pbm.starts_with(b"P4\n40 20\n"));
//! assert!(summary.computed <= summary.iterations);
//! # Ok::<(), mandel::Error>(())
//! ```
//!
//! The escape-time kernels themselves are in the `mandel-kernel` crate, re-exported here.

#![warn(missing_docs)]

mod cancel;
pub mod color;
mod deep;
mod error;
mod grid;
mod job;
mod kfr;
mod memory;
mod orbits;
mod output;
mod pipeline;
mod process_pool;
mod render;
mod shard;
mod stream;
mod style;
mod tuning;
mod view;

pub use cancel::Cancel;
pub use color::Colormap;
pub use deep::Precision;
pub use error::{Error, Field, Result};
pub use grid::Grid;
pub use job::{Job, PICTURE_PREFIX, ProgressFn, Streaming};
pub use kfr::KfLocation;
pub use mandel_kernel::{
    Bounds, KERNEL_ENV, Kernel, SEED_BOUNDS, Shortcuts, Viewport, escape_time,
};
pub use orbits::OrbitCache;
pub use output::{AtomicFile, Format};
pub use pipeline::Summary;
pub use process_pool::{WorkerCommand, kill_all_workers, run_worker};
pub use render::{Pool, available_cores, forget_thread_pools_after_fork};
pub use shard::{MergeSummary, Shard, ShardSet};
pub use style::{ColorMode, SMOOTH_RADIUS, Style, parse_color};
pub use tuning::SMALL_RENDER;
pub use view::View;
