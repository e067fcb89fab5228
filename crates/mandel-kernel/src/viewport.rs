//! The rectangle of the complex plane being sampled, and the pixel grid over it.

use crate::InvalidValue;

type Result<T> = std::result::Result<T, InvalidValue>;

/// The seed's view: real axis from -2.5 to 1, imaginary axis from -1 to 1.
pub const SEED_BOUNDS: Bounds = Bounds {
    xmin: -2.5,
    xmax: 1.0,
    ymin: -1.0,
    ymax: 1.0,
};

/// Edges of a rectangle in the complex plane (x is the real axis, y the imaginary one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// Left edge (real part of the first column's sample).
    pub xmin: f64,
    /// Right edge (excluded: the last column samples `xmax - dx`).
    pub xmax: f64,
    /// Bottom edge (imaginary part of row 0's sample).
    pub ymin: f64,
    /// Top edge (excluded).
    pub ymax: f64,
}

/// A validated pixel grid over [`Bounds`]: which point of the plane each pixel samples.
///
/// Pixel (row r, column c) samples `cx = c*dx + xmin`, `cy = r*dy + ymin`, with
/// `dx = (xmax-xmin)/width` and `dy = (ymax-ymin)/height`, each operation rounded on its own,
/// exactly as the seed's `xPos * (3.5/float(w)) - 2.5`. Row 0 is `ymin`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    bounds: Bounds,
    width: u32,
    height: u32,
    dx: f64,
    dy: f64,
}

impl Viewport {
    /// Checks the bounds and the size; the error names the first bad value.
    pub fn new(bounds: Bounds, width: u32, height: u32) -> Result<Self> {
        if width == 0 {
            return Err(InvalidValue::new("width", width, "must be at least 1"));
        }
        if height == 0 {
            return Err(InvalidValue::new("height", height, "must be at least 1"));
        }
        let Bounds {
            xmin,
            xmax,
            ymin,
            ymax,
        } = bounds;
        for (name, v) in [
            ("xmin", xmin),
            ("xmax", xmax),
            ("ymin", ymin),
            ("ymax", ymax),
        ] {
            check_finite(name, v)?;
        }
        if xmin >= xmax {
            return Err(InvalidValue::new(
                "xmin",
                xmin,
                format!("must be less than xmax ({xmax})"),
            ));
        }
        if ymin >= ymax {
            return Err(InvalidValue::new(
                "ymin",
                ymin,
                format!("must be less than ymax ({ymax})"),
            ));
        }
        let dx = (xmax - xmin) / f64::from(width);
        let dy = (ymax - ymin) / f64::from(height);
        // Both differences can overflow to infinity (xmin = -1e308, xmax = 1e308).
        for (name, max, min, span) in [
            ("xmax", xmax, xmin, xmax - xmin),
            ("ymax", ymax, ymin, ymax - ymin),
        ] {
            if !span.is_finite() {
                let other = if name == "xmax" { "xmin" } else { "ymin" };
                return Err(InvalidValue::new(
                    name,
                    format!("{max:?}"),
                    format!("is too far from {other} ({min:?}): {name} - {other} overflows"),
                ));
            }
        }
        Ok(Viewport {
            bounds,
            width,
            height,
            dx,
            dy,
        })
    }

    /// The seed's picture at the given size.
    pub fn seed(width: u32, height: u32) -> Result<Self> {
        Self::new(SEED_BOUNDS, width, height)
    }

    /// The edges of the view.
    pub fn bounds(&self) -> Bounds {
        self.bounds
    }
    /// Pixels per row.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Rows.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// Number of pixels, without overflow on any platform.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
    /// Distance between neighbouring columns, `(xmax - xmin) / width`.
    pub fn dx(&self) -> f64 {
        self.dx
    }
    /// Distance between neighbouring rows, `(ymax - ymin) / height`.
    pub fn dy(&self) -> f64 {
        self.dy
    }
    /// Real part sampled by column `col`: `col*dx + xmin`.
    #[inline]
    pub fn cx(&self, col: u32) -> f64 {
        f64::from(col) * self.dx + self.bounds.xmin
    }
    /// Imaginary part sampled by row `row`: `row*dy + ymin`.
    #[inline]
    pub fn cy(&self, row: u32) -> f64 {
        f64::from(row) * self.dy + self.bounds.ymin
    }
    /// The points `(cx, cy)` of the `len` pixels from pixel `first` on, counting row by row
    /// (pixel `first` is (row, col) = (`first / width`, `first % width`)), in that order.
    pub(crate) fn span_points(&self, first: u64, len: usize) -> impl Iterator<Item = (f64, f64)> {
        let width = u64::from(self.width);
        let (mut row, mut col) = ((first / width) as u32, (first % width) as u32);
        let mut cy = self.cy(row);
        (0..len).map(move |_| {
            let point = (self.cx(col), cy);
            col += 1;
            if col == self.width {
                (row, col) = (row + 1, 0);
                cy = self.cy(row);
            }
            point
        })
    }
}

fn check_finite(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(InvalidValue::new(name, v, "must be a finite number"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_grid_matches_the_seed_formula() {
        let vp = Viewport::seed(400, 400).unwrap();
        for i in [0u32, 1, 7, 199, 200, 399] {
            assert_eq!(vp.cx(i), f64::from(i) * (3.5 / 400.0) - 2.5);
            assert_eq!(vp.cy(i), f64::from(i) * (2.0 / 400.0) - 1.0);
        }
    }

    #[test]
    fn rejects_bad_values_by_name() {
        let b = SEED_BOUNDS;
        let err = |bounds, w, h| Viewport::new(bounds, w, h).unwrap_err().to_string();
        assert!(err(b, 0, 10).contains("width"));
        assert!(err(b, 10, 0).contains("height"));
        assert!(
            err(
                Bounds {
                    xmin: f64::NAN,
                    ..b
                },
                1,
                1
            )
            .contains("xmin = NaN")
        );
        assert!(
            err(
                Bounds {
                    ymax: f64::INFINITY,
                    ..b
                },
                1,
                1
            )
            .contains("ymax = inf")
        );
        assert!(err(Bounds { xmin: 1.0, ..b }, 1, 1).contains("xmin = 1"));
        assert!(err(Bounds { ymin: 2.0, ..b }, 1, 1).contains("ymin = 2"));
        let huge = Bounds {
            xmin: -1e308,
            xmax: 1e308,
            ..b
        };
        assert!(err(huge, 1, 1).contains("xmax - xmin"));
    }
}
