//! The result of a render: one escape count per pixel.

use crate::error::{Error, Result};
use crate::memory;

/// Escape counts, `height` rows of `width`, row 0 first (row 0 samples `ymin`, as the seed's
/// `yPos = 0`). This is the layout numpy sees in a `.npy` file: shape (height, width), C order.
#[derive(Clone, PartialEq, Eq)]
pub struct Grid {
    width: u32,
    height: u32,
    counts: Vec<u32>,
}

impl std::fmt::Debug for Grid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grid")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl Grid {
    /// A zeroed grid, refused with [`Error::TooLarge`] before allocating if it cannot fit in
    /// this machine's memory.
    pub fn new(width: u32, height: u32) -> Result<Self> {
        let len = u64::from(width) * u64::from(height);
        let counts = memory::try_zeroed_u32(&format!("a {width}x{height} count grid"), len)?;
        Ok(Grid {
            width,
            height,
            counts,
        })
    }

    /// Wraps counts computed elsewhere (a file, another program); `counts.len()` must be
    /// `width * height`.
    pub fn from_counts(width: u32, height: u32, counts: Vec<u32>) -> Result<Self> {
        let expected = u64::from(width) * u64::from(height);
        if counts.len() as u64 != expected {
            return Err(Error::Worker(format!(
                "{} counts do not fill a {width}x{height} grid",
                counts.len()
            )));
        }
        Ok(Grid {
            width,
            height,
            counts,
        })
    }

    /// The counts, row 0 first, given up without a copy (to hand them to numpy, say).
    pub fn into_counts(self) -> Vec<u32> {
        self.counts
    }

    /// Pixels per row.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Rows.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// All counts, row 0 first.
    pub fn counts(&self) -> &[u32] {
        &self.counts
    }
    pub(crate) fn counts_mut(&mut self) -> &mut [u32] {
        &mut self.counts
    }
    /// Row `r` (row 0 samples `ymin`).
    pub fn row(&self, r: u32) -> &[u32] {
        let w = self.width as usize;
        &self.counts[r as usize * w..][..w]
    }
    /// Rows in the seed's order, row 0 first.
    pub fn rows(&self) -> impl DoubleEndedIterator<Item = &[u32]> + ExactSizeIterator {
        self.counts.chunks_exact(self.width as usize)
    }
    /// The sum of all counts: the number of times `z <- z*z + c` ran.
    pub fn total_iterations(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }
    /// Smallest and largest count (a grid always has at least one pixel).
    pub fn min_max(&self) -> (u32, u32) {
        self.counts
            .iter()
            .fold((u32::MAX, 0), |(lo, hi), &c| (lo.min(c), hi.max(c)))
    }
}
