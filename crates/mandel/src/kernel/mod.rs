//! Escape-time kernels: how many times `z <- z*z + c` runs before |z| reaches 2.
//!
//! Every kernel here computes the seed's count bit for bit. The arithmetic is spelled out as
//! separate multiplies and adds in the seed's order; Rust never contracts them into fused
//! multiply-adds, and no kernel may reassociate them.

mod scalar;

pub use scalar::escape_time;

use crate::Viewport;

/// Fills `out` with the counts of one row of `viewport`: `out[c]` is the count of pixel
/// (`row`, `c`). `out.len()` must equal the viewport's width.
pub fn render_row(viewport: &Viewport, row: u32, max_iter: u32, out: &mut [u32]) {
    assert_eq!(out.len(), viewport.width() as usize, "row buffer width");
    let cy = viewport.cy(row);
    for (col, count) in (0u32..).zip(out.iter_mut()) {
        *count = escape_time(viewport.cx(col), cy, max_iter);
    }
}
