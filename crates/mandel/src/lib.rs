//! Exact, parallel Mandelbrot escape-time rendering.
//!
//! The grid, iteration rule and counts are those of the seed program (a Python blog post that
//! maps `mandelbrotCalcRow` over the rows of a 400x400 picture): pixel (r, c) samples
//! `c*dx + xmin + i(r*dy + ymin)`, and its count is how many times `z <- z*z + c` runs from 0
//! while `|z| < 2` and the count is below the limit. Every kernel and every pool gives the
//! seed's counts bit for bit.
//!
//! ```
//! use mandel::{render, Engine, Params, Viewport};
//! let params = Params::new(Viewport::seed(40, 20)?, 100)?;
//! let grid = render(&params, &Engine::default(), &|_band| {})?;
//! assert_eq!(grid.row(10)[16], 100); // (-1.1, 0) is in the set
//! # Ok::<(), mandel::Error>(())
//! ```

pub mod color;
mod error;
mod grid;
pub mod kernel;
pub mod memory;
pub mod output;
pub mod process_pool;
mod render;
pub mod style;
mod viewport;

pub use color::Colormap;
pub use error::{Error, Result};
pub use grid::Grid;
pub use kernel::{Kernel, Shortcuts, escape_time};
pub use output::{AtomicFile, Format};
pub use render::{
    Band, Engine, GridSpec, Params, Pool, RowOrder, available_cores, render, render_in_order,
    render_into, rows_per_task,
};
pub use style::{ColorMode, Style};
pub use viewport::{Bounds, SEED_BOUNDS, Viewport};
pub mod clock;
