//! Where in the plane a job looks: the view's edges, or a centre and a zoom, as people give
//! them; resolved into the pixel lattice the kernels sample ([`Viewport`]).

use crate::error::{Error, Field, Result};
use mandel_kernel::{Bounds, SEED_BOUNDS, Viewport};

/// A view of the complex plane: either edges (each defaulting to the seed's) or a centre and
/// a zoom (defaulting to -0.75+0i and 1), never both.
///
/// Views are built from numbers ([`View::edges`], [`View::centered`]) or from text
/// ([`View::set`]: the canonical form's keys `xmin`, `xmax`, `ymin`, `ymax`, `center`,
/// `zoom`). Its fields are private so that precision beyond doubles can be added to the
/// centre and zoom without changing any caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    edges: [Option<f64>; 4],
    center: Option<(f64, f64)>,
    zoom: Option<f64>,
}

/// The edge fields in the order of `View::edges`.
const EDGES: [Field; 4] = [Field::Xmin, Field::Xmax, Field::Ymin, Field::Ymax];

impl View {
    /// The seed's view: real axis -2.5 to 1, imaginary axis -1 to 1.
    pub fn seed() -> Self {
        View::default()
    }

    /// The rectangle `bounds`.
    pub fn edges(bounds: Bounds) -> Self {
        View {
            edges: [bounds.xmin, bounds.xmax, bounds.ymin, bounds.ymax].map(Some),
            ..View::default()
        }
    }

    /// The view 3.5/`zoom` wide centred on `re + im·i`; its height follows the picture's
    /// aspect ratio, so that pixels are square.
    pub fn centered(re: f64, im: f64, zoom: f64) -> Self {
        View {
            center: Some((re, im)),
            zoom: Some(zoom),
            ..View::default()
        }
    }

    /// Sets one parameter from its text: `xmin`, `xmax`, `ymin`, `ymax` (numbers), `center`
    /// (`RE,IM`) or `zoom`. Mixing edges with a centre or zoom is refused when the view is
    /// resolved ([`View::viewport`]), naming the first edge given.
    pub fn set(&mut self, field: Field, text: &str) -> Result<()> {
        let text = text.trim();
        match field {
            Field::Center => {
                let (re, im) = text.split_once(',').ok_or_else(|| {
                    Error::invalid(
                        field,
                        text,
                        "is not RE,IM (two numbers separated by a comma)",
                    )
                })?;
                self.center = Some((number(field, re)?, number(field, im)?));
            }
            Field::Zoom => self.zoom = Some(number(field, text)?),
            _ => {
                let i = EDGES
                    .iter()
                    .position(|&f| f == field)
                    .ok_or_else(|| Error::invalid(field, text, "is not a parameter of the view"))?;
                self.edges[i] = Some(number(field, text)?);
            }
        }
        Ok(())
    }

    /// Whether the view is given by its centre and zoom rather than its edges.
    pub fn is_centered(&self) -> bool {
        self.center.is_some() || self.zoom.is_some()
    }

    /// The pixel lattice of this view at `width` x `height`: which point each pixel samples.
    /// Checks every value; the error names the first bad one.
    pub fn viewport(&self, width: u32, height: u32) -> Result<Viewport> {
        let bounds = if self.is_centered() {
            if let Some((field, v)) = EDGES
                .iter()
                .zip(self.edges)
                .find_map(|(&f, v)| v.map(|v| (f, v)))
            {
                return Err(Error::invalid(
                    field,
                    v,
                    "cannot be combined with center/zoom",
                ));
            }
            let (re, im) = self.center.unwrap_or((-0.75, 0.0));
            from_center_zoom(re, im, self.zoom.unwrap_or(1.0), width, height)?
        } else {
            let d = [
                SEED_BOUNDS.xmin,
                SEED_BOUNDS.xmax,
                SEED_BOUNDS.ymin,
                SEED_BOUNDS.ymax,
            ];
            let [xmin, xmax, ymin, ymax] = [0, 1, 2, 3].map(|i| self.edges[i].unwrap_or(d[i]));
            Bounds {
                xmin,
                xmax,
                ymin,
                ymax,
            }
        };
        Ok(Viewport::new(bounds, width, height)?)
    }

    /// The view's parameters as the canonical form's key-value pairs: the centre and zoom if
    /// it has them, else its four edges (each exact: printed so that it parses back to the
    /// same double).
    pub(crate) fn canonical_pairs(&self, width: u32, height: u32) -> Result<Vec<(Field, String)>> {
        if self.is_centered() {
            let (re, im) = self.center.unwrap_or((-0.75, 0.0));
            Ok(vec![
                (Field::Center, format!("{re:?},{im:?}")),
                (Field::Zoom, format!("{:?}", self.zoom.unwrap_or(1.0))),
            ])
        } else {
            let b = self.viewport(width, height)?.bounds();
            Ok(EDGES
                .into_iter()
                .zip([b.xmin, b.xmax, b.ymin, b.ymax])
                .map(|(f, v)| (f, format!("{v:?}")))
                .collect())
        }
    }
}

/// At zoom 1 the view is 3.5 wide, as the seed's; the height follows from the pixel aspect
/// ratio so that pixels stay square.
fn from_center_zoom(re: f64, im: f64, zoom: f64, width: u32, height: u32) -> Result<Bounds> {
    for (v, what) in [(re, "real"), (im, "imaginary")] {
        if !v.is_finite() {
            return Err(Error::invalid(
                Field::Center,
                v,
                format!("must be a finite number (the {what} part)"),
            ));
        }
    }
    if !zoom.is_finite() {
        return Err(Error::invalid(Field::Zoom, zoom, "must be a finite number"));
    }
    if zoom <= 0.0 {
        return Err(Error::invalid(Field::Zoom, zoom, "must be greater than 0"));
    }
    let view_width = 3.5 / zoom;
    let view_height = view_width * f64::from(height) / f64::from(width.max(1));
    Ok(Bounds {
        xmin: re - view_width / 2.0,
        xmax: re + view_width / 2.0,
        ymin: im - view_height / 2.0,
        ymax: im + view_height / 2.0,
    })
}

/// A decimal number; non-finite values are refused when the view is resolved, with the
/// reason the kernels give.
fn number(field: Field, text: &str) -> Result<f64> {
    text.trim()
        .parse()
        .map_err(|_| Error::invalid(field, text.trim(), "is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn center_zoom_keeps_pixels_square() {
        let b = View::centered(-0.75, 0.1, 2.0)
            .viewport(800, 400)
            .unwrap()
            .bounds();
        assert!((b.xmax - b.xmin - 1.75).abs() < 1e-12);
        assert!((b.ymax - b.ymin - 0.875).abs() < 1e-12);
        assert!(((b.xmin + b.xmax) / 2.0 + 0.75).abs() < 1e-12);
        for (view, needle) in [
            (View::centered(0.0, 0.0, 0.0), "zoom = 0"),
            (View::centered(0.0, 0.0, -1.0), "zoom = -1"),
            (View::centered(f64::NAN, 0.0, 1.0), "center = NaN"),
        ] {
            let err = view.viewport(1, 1).unwrap_err().to_string();
            assert!(err.starts_with(needle), "{err}");
        }
    }

    #[test]
    fn a_view_takes_edges_or_a_centre_but_not_both() {
        assert_eq!(
            View::seed().viewport(400, 400).unwrap(),
            Viewport::seed(400, 400).unwrap()
        );
        let mut view = View::default();
        view.set(Field::Center, "-0.5, 0.25").unwrap();
        view.set(Field::Zoom, "2").unwrap();
        let b = view.viewport(400, 400).unwrap().bounds();
        assert_eq!((b.xmax - b.xmin, (b.xmin + b.xmax) / 2.0), (1.75, -0.5));
        view.set(Field::Ymax, "1").unwrap();
        let err = view.viewport(400, 400).unwrap_err().to_string();
        assert!(err.starts_with("ymax = 1 cannot"), "{err}");
        for (field, text, needle) in [
            (Field::Center, "1;2", "center = 1;2 is not RE,IM"),
            (Field::Center, "1,x", "center = x is not a number"),
            (Field::Xmin, "ten", "xmin = ten is not a number"),
        ] {
            let err = View::default().set(field, text).unwrap_err().to_string();
            assert!(err.starts_with(needle), "{err}");
        }
    }

    #[test]
    fn canonical_pairs_resolve_to_the_same_lattice() {
        for view in [
            View::seed(),
            View::centered(-0.743643887037151, 0.131825904205330, 3e5),
            View::edges(Bounds {
                xmin: -2.0 / 3.0,
                xmax: 0.1,
                ymin: -1e-3,
                ymax: 0.7,
            }),
        ] {
            let mut again = View::default();
            for (field, text) in view.canonical_pairs(320, 200).unwrap() {
                again.set(field, &text).unwrap();
            }
            assert_eq!(
                again.viewport(320, 200).unwrap(),
                view.viewport(320, 200).unwrap()
            );
        }
    }
}
