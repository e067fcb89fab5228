//! The pixel source: the points of a span of pixels (rows in order, each row's columns in
//! order, starting anywhere in a row), computed with the seed's formula.

/// Pixels come from a span that runs across rows, so that vectors do not idle at the end of
/// every row.
pub(super) struct Pixels<'a> {
    pub(super) vp: &'a crate::Viewport,
    pub(super) width: u32,
    /// Index in the span of the next pixel, and its row and column in the viewport.
    pub(super) next: usize,
    pub(super) row: u32,
    pub(super) col: u32,
    pub(super) cy: f64,
    pub(super) len: usize,
}

/// 0, 1, 2, ... as doubles: a lane's offset from the first column of a vector.
pub(super) static LANE_OFFSETS: [f64; 8] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];

impl<'a> Pixels<'a> {
    /// The `len` pixels from `first` on (`first` counts pixels row by row from row 0, col 0).
    pub(super) fn new(vp: &'a crate::Viewport, first: u64, len: usize) -> Self {
        let width = vp.width();
        let row = (first / u64::from(width)) as u32;
        Pixels {
            vp,
            width,
            next: 0,
            row,
            col: (first % u64::from(width)) as u32,
            cy: vp.cy(row),
            len,
        }
    }

    /// Passes over `n` pixels of the current row (the caller computed them itself).
    #[inline]
    pub(super) fn skip(&mut self, n: usize) {
        debug_assert!(self.next + n <= self.len && self.col as usize + n <= self.width as usize);
        self.next += n;
        self.col += n as u32;
        if self.col == self.width && self.next < self.len {
            self.col = 0;
            self.row += 1;
            self.cy = self.vp.cy(self.row);
        }
    }

    /// The next pixel's index in the span and its point, or None when the span is done.
    #[inline]
    pub(super) fn next(&mut self) -> Option<(usize, f64, f64)> {
        if self.next == self.len {
            return None;
        }
        let item = (self.next, self.vp.cx(self.col), self.cy);
        self.next += 1;
        self.col += 1;
        if self.col == self.width && self.next < self.len {
            self.col = 0;
            self.row += 1;
            self.cy = self.vp.cy(self.row);
        }
        Some(item)
    }
}
