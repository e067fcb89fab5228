//! The rectangle of the complex plane being sampled, and the pixel grid over it.

use crate::error::{Error, Result};

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
    pub xmin: f64,
    pub xmax: f64,
    pub ymin: f64,
    pub ymax: f64,
}

impl Default for Bounds {
    fn default() -> Self {
        SEED_BOUNDS
    }
}

impl Bounds {
    /// The explorer's way of naming a view: a centre and a magnification.
    ///
    /// At zoom 1 the view is 3.5 wide, as the seed's; the height follows from the pixel aspect
    /// ratio so that pixels stay square.
    pub fn from_center_zoom(re: f64, im: f64, zoom: f64, width: u32, height: u32) -> Result<Self> {
        check_finite("center real part", re)?;
        check_finite("center imaginary part", im)?;
        check_finite("zoom", zoom)?;
        if zoom <= 0.0 {
            return Err(Error::invalid("zoom", zoom, "must be greater than 0"));
        }
        if width == 0 || height == 0 {
            return Err(Error::invalid("width/height", 0, "must be at least 1"));
        }
        let view_width = 3.5 / zoom;
        let view_height = view_width * f64::from(height) / f64::from(width);
        Ok(Bounds {
            xmin: re - view_width / 2.0,
            xmax: re + view_width / 2.0,
            ymin: im - view_height / 2.0,
            ymax: im + view_height / 2.0,
        })
    }
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
            return Err(Error::invalid("width", width, "must be at least 1"));
        }
        if height == 0 {
            return Err(Error::invalid("height", height, "must be at least 1"));
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
            return Err(Error::invalid(
                "xmin",
                xmin,
                format!("must be less than xmax ({xmax})"),
            ));
        }
        if ymin >= ymax {
            return Err(Error::invalid(
                "ymin",
                ymin,
                format!("must be less than ymax ({ymax})"),
            ));
        }
        let dx = (xmax - xmin) / f64::from(width);
        let dy = (ymax - ymin) / f64::from(height);
        // Both differences can overflow to infinity (xmin = -1e308, xmax = 1e308).
        check_finite("xmax - xmin", xmax - xmin)?;
        check_finite("ymax - ymin", ymax - ymin)?;
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

    pub fn bounds(&self) -> Bounds {
        self.bounds
    }
    pub fn width(&self) -> u32 {
        self.width
    }
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
}

fn check_finite(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(name, v, "must be a finite number"))
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

    #[test]
    fn center_zoom_keeps_pixels_square() {
        let b = Bounds::from_center_zoom(-0.75, 0.1, 2.0, 800, 400).unwrap();
        assert!((b.xmax - b.xmin - 1.75).abs() < 1e-12);
        assert!((b.ymax - b.ymin - 0.875).abs() < 1e-12);
        assert!(((b.xmin + b.xmax) / 2.0 + 0.75).abs() < 1e-12);
        assert!(Bounds::from_center_zoom(0.0, 0.0, 0.0, 1, 1).is_err());
        assert!(Bounds::from_center_zoom(0.0, 0.0, -1.0, 1, 1).is_err());
        assert!(Bounds::from_center_zoom(f64::NAN, 0.0, 1.0, 1, 1).is_err());
    }
}
