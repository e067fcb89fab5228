//! Which point each pixel of a deep view samples, as an offset from the view's reference
//! point (its centre, unless another was chosen):
//! `x0 + col·dx`, `y0 + row·dy` in [`FloatExp`], the mapping `--center/--zoom` has at every
//! depth (pixel (r, c) samples `re − w/2 + c·w/W`, `im − h/2 + r·h/H`).

use mandel_kernel::{Meter, Stop, Stopped};

use crate::floatexp::FloatExp;
use crate::perturb::Escape;

/// The iterations a span of pixels took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// The sum of the counts: the iterations direct iteration would run.
    pub iterations: u64,
    /// Of those, the iterations skipped by BLA rather than stepped.
    pub skipped: u64,
}

/// The pixel offsets of a `width` × `height` picture: row-major, row 0 at the bottom (the
/// smallest imaginary part), as the double-precision `Viewport`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lattice {
    width: u32,
    height: u32,
    x0: FloatExp,
    y0: FloatExp,
    dx: FloatExp,
    dy: FloatExp,
}

impl Lattice {
    /// The picture `view_width` × `view_height` (in the plane) at `width` × `height` pixels,
    /// centred on the reference point.
    pub fn new(view_width: FloatExp, view_height: FloatExp, width: u32, height: u32) -> Lattice {
        assert!(width > 0 && height > 0, "a picture has pixels");
        let (w, h) = (view_width, view_height);
        let half = FloatExp::from(0.5);
        Lattice {
            width,
            height,
            x0: -(w * half),
            y0: -(h * half),
            dx: w * FloatExp::from(1.0 / f64::from(width)),
            dy: h * FloatExp::from(1.0 / f64::from(height)),
        }
    }

    /// The lattice of k × k samples per pixel, each centred in its part of the pixel.
    pub fn supersampled(&self, k: u32) -> Lattice {
        let inv = FloatExp::from(1.0 / f64::from(k));
        let shift = FloatExp::from(0.5 / f64::from(k) - 0.5);
        Lattice {
            width: self.width * k,
            height: self.height * k,
            x0: self.x0 + shift * self.dx,
            y0: self.y0 + shift * self.dy,
            dx: self.dx * inv,
            dy: self.dy * inv,
        }
    }

    /// The same pixels as offsets from another point: `(dx, dy)` is the centre less it.
    pub fn shifted(&self, dx: FloatExp, dy: FloatExp) -> Lattice {
        Lattice {
            x0: self.x0 + dx,
            y0: self.y0 + dy,
            ..*self
        }
    }

    /// The larger of the picture's width and height in the plane.
    pub fn extent(&self) -> FloatExp {
        let w = self.dx * FloatExp::from(f64::from(self.width));
        let h = self.dy * FloatExp::from(f64::from(self.height));
        if w.cmp_abs(h).is_ge() {
            w.abs()
        } else {
            h.abs()
        }
    }

    /// Pixels per row.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Rows.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Pixels in all.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// The smaller of the distances between neighbouring pixels across and up.
    pub fn spacing(&self) -> FloatExp {
        if self.dx.cmp_abs(self.dy).is_le() {
            self.dx.abs()
        } else {
            self.dy.abs()
        }
    }

    /// Fills `out` with the values of pixels `first..first + out.len()`: `iterate` runs a
    /// pixel from its offset, `value` turns its end into what `out` holds. Returns the
    /// iterations done (the sum of the counts) and skipped.
    pub(crate) fn fill<T>(
        &self,
        first: u64,
        stop: Stop,
        out: &mut [T],
        mut iterate: impl FnMut(FloatExp, FloatExp, &mut Meter) -> Result<Escape, Stopped>,
        value: impl Fn(Escape) -> T,
    ) -> Result<Work, Stopped> {
        let mut meter = Meter::new(stop);
        let mut work = Work::default();
        for (i, slot) in out.iter_mut().enumerate() {
            let (dx, dy) = self.offset(first + i as u64);
            let e = iterate(dx, dy, &mut meter)?;
            *slot = value(e);
            work.iterations += u64::from(e.count);
            work.skipped += u64::from(e.skipped);
        }
        Ok(work)
    }

    /// The largest distance of a pixel (or a sample within one) from the reference point, or
    /// a little more.
    pub fn max_offset(&self) -> FloatExp {
        let far = |start: FloatExp, step: FloatExp, n: u32| {
            let end = start + FloatExp::from(f64::from(n)) * step;
            if start.cmp_abs(end).is_ge() {
                start.abs()
            } else {
                end.abs()
            }
        };
        let (x, y) = (
            far(self.x0, self.dx, self.width),
            far(self.y0, self.dy, self.height),
        );
        (x * x + y * y).sqrt()
    }

    /// The offset of pixel `index` (row-major) from the reference point.
    pub fn offset(&self, index: u64) -> (FloatExp, FloatExp) {
        let (row, col) = (index / u64::from(self.width), index % u64::from(self.width));
        (
            self.x0 + FloatExp::from(col as f64) * self.dx,
            self.y0 + FloatExp::from(row as f64) * self.dy,
        )
    }
}
