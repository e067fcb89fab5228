//! Where in the plane a job looks: the view's edges, or a centre and a zoom, as people give
//! them; resolved into the pixel lattice the double-precision kernels sample ([`Viewport`]),
//! or, past double precision, into a [`DeepView`] (the centre to as many digits as given and
//! needed, the pixels as offsets from it).

use crate::error::{Error, Field, Result};
use mandel_deep::{DeepError, DeepView, FloatExp, Real};
use mandel_kernel::{Bounds, SEED_BOUNDS, Viewport};

/// A view of the complex plane: either edges (each defaulting to the seed's) or a centre and
/// a zoom (defaulting to -0.75+0i and 1), never both.
///
/// Views are built from numbers ([`View::edges`], [`View::centered`]) or from text
/// ([`View::set`]: the canonical form's keys `xmin`, `xmax`, `ymin`, `ymax`, `center`,
/// `zoom`). A centre and a zoom given as text keep every digit: a centre of a thousand digits
/// and a zoom of `1e1086` are read exactly, for the deep renderer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    edges: [Option<f64>; 4],
    center: Option<Point>,
    zoom: Option<Zoom>,
    /// The point deep pixels are perturbed about, if not the centre.
    reference: Option<Point>,
}

/// A point as given: its two decimal texts, and the nearest doubles.
#[derive(Debug, Clone, PartialEq)]
struct Point {
    re: String,
    im: String,
    value: (f64, f64),
}

/// A zoom as given: its decimal text, and its value to a double's precision at any size.
#[derive(Debug, Clone, PartialEq)]
struct Zoom {
    text: String,
    value: FloatExp,
}

/// The edge fields in the order of `View::edges`.
const EDGES: [Field; 4] = [Field::Xmin, Field::Xmax, Field::Ymin, Field::Ymax];

/// The view at zoom 1 is this wide, as the seed's.
const UNZOOMED_WIDTH: f64 = 3.5;

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
            center: Some(Point {
                re: format!("{re:?}"),
                im: format!("{im:?}"),
                value: (re, im),
            }),
            zoom: Some(Zoom {
                text: format!("{zoom:?}"),
                value: if zoom.is_finite() {
                    FloatExp::from(zoom)
                } else {
                    FloatExp::ZERO
                },
            }),
            ..View::default()
        }
    }

    /// Sets one parameter from its text: `xmin`, `xmax`, `ymin`, `ymax` (numbers), `center`
    /// (`RE,IM`, decimals of any length), `zoom` (a decimal of any size: `4.0E533`) or
    /// `reference` (`RE,IM`: the point whose orbit a deep view's pixels are perturbed about,
    /// the centre by default; within [`mandel_deep::MAX_REFERENCE_DISTANCE`] view widths of
    /// it; doubles ignore it). Mixing edges with a centre or zoom is refused when the view is
    /// resolved ([`View::viewport`]), naming the first edge given.
    pub fn set(&mut self, field: Field, text: &str) -> Result<()> {
        let text = text.trim();
        match field {
            Field::Center => self.center = Some(point(field, text)?),
            Field::Reference => self.reference = Some(point(field, text)?),
            Field::Zoom => {
                let wide = Real::parse(text, 128)
                    .map_err(|_| Error::invalid(field, text, "is not a number"))?
                    .to_floatexp();
                // Where a double holds it, the zoom is the double the text reads as (correctly
                // rounded, as it always was), so that the doubles' views keep their bytes.
                let value = match text.parse::<f64>() {
                    Ok(z) if z.is_normal() => FloatExp::from(z),
                    _ => wide,
                };
                self.zoom = Some(Zoom {
                    text: text.to_string(),
                    value,
                });
            }
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

    /// The pixel lattice of this view at `width` x `height` in doubles: which point each
    /// pixel samples. Checks every value; the error names the first bad one.
    pub fn viewport(&self, width: u32, height: u32) -> Result<Viewport> {
        let bounds = if self.is_centered() {
            self.check_no_edges()?;
            let (re, im) = self.center_value();
            let zoom = self.zoom_value()?.to_f64();
            if !zoom.is_finite() {
                let text = self.zoom.as_ref().map_or("", |z| z.text.as_str());
                return Err(Error::invalid(
                    Field::Zoom,
                    text,
                    "is beyond a double's range",
                ));
            }
            from_center_zoom(re, im, zoom, width, height)?
        } else {
            self.bounds()
        };
        Ok(Viewport::new(bounds, width, height)?)
    }

    /// The view's edges in doubles, for logs and summaries: those of [`View::viewport`] where
    /// doubles can render the view, else the nearest doubles to the true edges (which may
    /// coincide at depth). Checks the values the view needs at any precision.
    pub fn approximate_bounds(&self, width: u32, height: u32) -> Result<Bounds> {
        if let Ok(viewport) = self.viewport(width, height) {
            return Ok(viewport.bounds());
        }
        let deep = self.deep_about_centre(width, height)?;
        let (re, im) = self.finite_center()?;
        let (x0, y0) = deep.lattice().offset(0);
        let (x1, y1) = (x0.to_f64(), y0.to_f64());
        Ok(Bounds {
            xmin: re + x1,
            xmax: re - x1,
            ymin: im + y1,
            ymax: im - y1,
        })
    }

    /// The view at `width` x `height` for the deep renderer: its reference point (the centre,
    /// unless given) at the precision its pixels need. Checks every value; the error names
    /// the first bad one.
    pub fn deep(&self, width: u32, height: u32) -> Result<DeepView> {
        let deep = self.deep_about_centre(width, height)?;
        let Some(point) = &self.reference else {
            return Ok(deep);
        };
        deep.with_reference(&point.re, &point.im)
            .map_err(|e| self.deep_error(e, Field::Reference))
    }

    /// [`View::deep`] with the centre as its reference point.
    fn deep_about_centre(&self, width: u32, height: u32) -> Result<DeepView> {
        let (re, im, view_width, view_height) = if self.is_centered() {
            self.check_no_edges()?;
            self.finite_center()?;
            let (re, im) = self.center_texts();
            let zoom = self.zoom_value()?;
            let bits = 128;
            let w = Real::from_f64(UNZOOMED_WIDTH, bits)
                .div(&Real::from_floatexp(zoom, bits), bits)
                .to_floatexp();
            let h = w * FloatExp::from(f64::from(height)) * FloatExp::from(1.0 / f64::from(width));
            (re, im, w, h)
        } else {
            // Checked as the double lattice is; then the same rectangle about its centre.
            let b = Viewport::new(self.bounds(), width, height)?.bounds();
            let (re, im) = ((b.xmin + b.xmax) / 2.0, (b.ymin + b.ymax) / 2.0);
            let (w, h) = (b.xmax - b.xmin, b.ymax - b.ymin);
            (format!("{re:?}"), format!("{im:?}"), w.into(), h.into())
        };
        DeepView::new(&re, &im, view_width, view_height, width, height)
            .map_err(|e| self.deep_error(e, Field::Center))
    }

    /// A deep view's error in the view's terms; `point` is the field whose texts were read.
    fn deep_error(&self, e: DeepError, point: Field) -> Error {
        match e {
            DeepError::Re(t) | DeepError::Im(t) => Error::invalid(point, t, "is not a number"),
            DeepError::TooDeep(bits) => Error::invalid(
                Field::Zoom,
                self.zoom.as_ref().map_or("1", |z| z.text.as_str()),
                format!(
                    "needs {bits} bits of precision at this size, more than the {} this \
                     renderer allows",
                    mandel_deep::MAX_BITS
                ),
            ),
            DeepError::FarReference => {
                let text = self
                    .reference
                    .as_ref()
                    .map_or(String::new(), |p| format!("{},{}", p.re, p.im));
                Error::invalid(
                    Field::Reference,
                    text,
                    format!(
                        "is more than {} view widths from the centre",
                        mandel_deep::MAX_REFERENCE_DISTANCE
                    ),
                )
            }
        }
    }

    /// The distance between neighbouring pixels at `width` (as a multiple of a power of two
    /// at any depth), and the largest |coordinate| in the view, for choosing the precision.
    pub(crate) fn scale(&self, width: u32) -> Result<(FloatExp, f64)> {
        if self.is_centered() {
            self.check_no_edges()?;
            let zoom = self.zoom_value()?;
            let (re, im) = self.finite_center()?;
            let spacing = Real::from_f64(UNZOOMED_WIDTH / f64::from(width.max(1)), 128)
                .div(&Real::from_floatexp(zoom, 128), 128)
                .to_floatexp();
            Ok((spacing, re.abs().max(im.abs())))
        } else {
            let b = Viewport::new(self.bounds(), width.max(1), 1)?.bounds();
            let spacing = (b.xmax - b.xmin) / f64::from(width.max(1));
            let largest = [b.xmin, b.xmax, b.ymin, b.ymax]
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            Ok((FloatExp::from(spacing.abs()), largest))
        }
    }

    /// The view's parameters as the canonical form's key-value pairs: the centre and zoom if
    /// it has them, else its four edges (each exact: printed so that it parses back to the
    /// same double). With `every_digit`, the centre and zoom keep the digits they were given
    /// (for deep views); otherwise they are the doubles the kernels use.
    pub(crate) fn canonical_pairs(
        &self,
        width: u32,
        height: u32,
        every_digit: bool,
    ) -> Result<Vec<(Field, String)>> {
        let mut pairs = Vec::new();
        if self.is_centered() {
            let (center, zoom) = if every_digit {
                let (re, im) = self.center_texts();
                let zoom = self
                    .zoom
                    .as_ref()
                    .map_or("1".to_string(), |z| z.text.clone());
                (format!("{re},{im}"), zoom)
            } else {
                let (re, im) = self.center_value();
                let zoom = self.zoom_value()?.to_f64();
                (format!("{re:?},{im:?}"), format!("{zoom:?}"))
            };
            pairs.extend([(Field::Center, center), (Field::Zoom, zoom)]);
        } else {
            let b = self.viewport(width, height)?.bounds();
            pairs.extend(
                EDGES
                    .into_iter()
                    .zip([b.xmin, b.xmax, b.ymin, b.ymax])
                    .map(|(f, v)| (f, format!("{v:?}"))),
            );
        }
        if let Some(point) = &self.reference {
            pairs.push((Field::Reference, format!("{},{}", point.re, point.im)));
        }
        Ok(pairs)
    }

    fn check_no_edges(&self) -> Result<()> {
        match EDGES
            .iter()
            .zip(self.edges)
            .find_map(|(&f, v)| v.map(|v| (f, v)))
        {
            Some((field, v)) => Err(Error::invalid(
                field,
                v,
                "cannot be combined with center/zoom",
            )),
            None => Ok(()),
        }
    }

    fn bounds(&self) -> Bounds {
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
    }

    /// The centre's doubles, checked to be finite.
    fn finite_center(&self) -> Result<(f64, f64)> {
        let (re, im) = self.center_value();
        let (re_text, im_text) = self.center_texts();
        for (v, text, what) in [(re, re_text, "real"), (im, im_text, "imaginary")] {
            if !v.is_finite() {
                return Err(Error::invalid(
                    Field::Center,
                    text,
                    format!("must be a finite number (the {what} part)"),
                ));
            }
        }
        Ok((re, im))
    }

    fn center_value(&self) -> (f64, f64) {
        self.center.as_ref().map_or((-0.75, 0.0), |c| c.value)
    }

    fn center_texts(&self) -> (String, String) {
        self.center
            .as_ref()
            .map_or(("-0.75".into(), "0".into()), |c| {
                (c.re.clone(), c.im.clone())
            })
    }

    /// The zoom, checked to be greater than 0.
    fn zoom_value(&self) -> Result<FloatExp> {
        let Some(zoom) = &self.zoom else {
            return Ok(FloatExp::from(1.0));
        };
        if zoom.value.mantissa() <= 0.0 {
            let v = if zoom.text.is_empty() {
                "0"
            } else {
                &zoom.text
            };
            return Err(Error::invalid(Field::Zoom, v, "must be greater than 0"));
        }
        Ok(zoom.value)
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
    let view_width = UNZOOMED_WIDTH / zoom;
    let view_height = view_width * f64::from(height) / f64::from(width.max(1));
    Ok(Bounds {
        xmin: re - view_width / 2.0,
        xmax: re + view_width / 2.0,
        ymin: im - view_height / 2.0,
        ymax: im + view_height / 2.0,
    })
}

/// A point given as `RE,IM` (decimals of any length).
fn point(field: Field, text: &str) -> Result<Point> {
    let (re, im) = text.split_once(',').ok_or_else(|| {
        Error::invalid(
            field,
            text,
            "is not RE,IM (two numbers separated by a comma)",
        )
    })?;
    let (re, im) = (re.trim(), im.trim());
    Ok(Point {
        value: (number(field, re)?, number(field, im)?),
        re: re.to_string(),
        im: im.to_string(),
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
            for (field, text) in view.canonical_pairs(320, 200, false).unwrap() {
                again.set(field, &text).unwrap();
            }
            assert_eq!(
                again.viewport(320, 200).unwrap(),
                view.viewport(320, 200).unwrap()
            );
        }
    }
}
