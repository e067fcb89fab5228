//! Deep zoom for mandel: views past double precision, at any depth.
//!
//! A deep view is a centre given in decimal (any number of digits) and a width in the plane
//! down to 10^-50000 and beyond. [`DeepView`] holds the centre at the precision the view needs
//! ([`bits_for`]) and the pixel [`Lattice`] as offsets from it. Two ways to count:
//!
//! - **perturbation** ([`DeepView::reference`], [`DeepView::bla`], then
//!   [`DeepView::perturbed_span`]): one [`ReferenceOrbit`] of the centre in arbitrary
//!   precision, then every pixel as that orbit plus a delta in doubles (or [`FloatExp`] where
//!   doubles underflow), rebased to the orbit's start whenever the pixel's orbit passes closer
//!   to 0 than to the reference's, and skipping along the orbit by the BLA maps of a
//!   [`BlaTable`] wherever its delta is small enough for them;
//! - **direct** ([`DeepView::direct_span`]): every pixel iterated in arbitrary precision,
//!   the slow ground truth that perturbation is tested against.
//!
//! Pixels are numbered row-major from row 0 at the bottom, as the double-precision kernels'
//! `Viewport`. Std and a bignum crate only: no I/O, no threads.

mod big;
mod bla;
mod direct;
mod floatexp;
mod lanes;
mod lattice;
mod orbit;
mod perturb;

pub use big::{NotANumber, Real};
pub use bla::{BlaTable, EPSILON};
pub use floatexp::{ComplexExp, FloatExp};
pub use lattice::{Lattice, Work};
pub use orbit::ReferenceOrbit;
pub use perturb::Escape;

use mandel_kernel::{Kernel, SMOOTH_RADIUS, Stop, Stopped};

/// The most bits of precision a view may need: zooms to about 10^60000. Past it one reference
/// step takes milliseconds and a picture days.
pub const MAX_BITS: usize = 200_000;

/// Bits beyond those that tell neighbouring pixels apart: the headroom against rounding in
/// the reference orbit, whose errors grow as the orbit nears the set.
pub const GUARD_BITS: usize = 64;

/// The precision a view of pixels `spacing` apart needs: enough to tell neighbouring pixels
/// apart near |c| = 2, and [`GUARD_BITS`] more.
pub fn bits_for(spacing: FloatExp) -> usize {
    let below_one = (-i64::from(spacing.exponent())).max(0) as usize;
    (below_one + 2 + GUARD_BITS).next_multiple_of(64)
}

/// The squared escape radius for counts (the seed's |z| < 2).
pub const COUNT_BAILOUT: f64 = 4.0;
/// The squared escape radius for smooth colouring.
pub const SMOOTH_BAILOUT: f64 = SMOOTH_RADIUS * SMOOTH_RADIUS;

/// A view of the plane at any depth: its reference point (the centre, unless another is
/// chosen) at `bits` precision, and its pixels as offsets from that point.
#[derive(Debug, Clone)]
pub struct DeepView {
    // The reference point: its texts, and its value at `bits`.
    re_text: String,
    im_text: String,
    re: Real,
    im: Real,
    bits: usize,
    lattice: Lattice,
}

/// What is wrong with a deep view's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeepError {
    /// The real part of the centre (the text) is not a decimal number.
    Re(String),
    /// The imaginary part of the centre is not a decimal number.
    Im(String),
    /// The view needs this many bits, more than [`MAX_BITS`].
    TooDeep(usize),
    /// The reference point given is further than [`MAX_REFERENCE_DISTANCE`] view widths
    /// from the centre.
    FarReference,
}

/// How far from a view's centre its reference point may be, in view widths (the larger of
/// its width and height): far enough for a map's tiles to share one point among many, near
/// enough that offsets from it keep a pixel's place to far below a pixel.
pub const MAX_REFERENCE_DISTANCE: f64 = 64.0;

impl DeepView {
    /// The view `view_width` × `view_height` (in the plane) centred on `re + im·i` (decimal
    /// texts), at `width` × `height` pixels.
    pub fn new(
        re: &str,
        im: &str,
        view_width: FloatExp,
        view_height: FloatExp,
        width: u32,
        height: u32,
    ) -> Result<DeepView, DeepError> {
        let lattice = Lattice::new(view_width, view_height, width, height);
        let bits = bits_for(lattice.spacing());
        if bits > MAX_BITS {
            return Err(DeepError::TooDeep(bits));
        }
        DeepView::at_bits(re, im, lattice, bits)
    }

    fn at_bits(re: &str, im: &str, lattice: Lattice, bits: usize) -> Result<DeepView, DeepError> {
        Ok(DeepView {
            re: Real::parse(re, bits).map_err(|_| DeepError::Re(re.to_string()))?,
            im: Real::parse(im, bits).map_err(|_| DeepError::Im(im.to_string()))?,
            re_text: re.to_string(),
            im_text: im.to_string(),
            bits,
            lattice,
        })
    }

    /// The same view with its centre read again at `bits` and every arbitrary-precision step
    /// taken at `bits` (for checking one precision against another).
    pub fn with_bits(&self, bits: usize) -> DeepView {
        DeepView::at_bits(&self.re_text, &self.im_text, self.lattice, bits)
            .expect("the texts parsed once")
    }

    /// The same pixels as offsets from `re + im·i` (decimal texts) instead of the centre:
    /// the reference orbit is that point's, so that views sharing a point (the tiles of a
    /// map) can share one orbit. The point must lie within [`MAX_REFERENCE_DISTANCE`] view
    /// widths of the centre. The offset between the two is taken exactly where it has at
    /// most 53 significant bits (as between points of a dyadic grid), else to a double's
    /// precision.
    pub fn with_reference(&self, re: &str, im: &str) -> Result<DeepView, DeepError> {
        let point = DeepView::at_bits(re, im, self.lattice, self.bits)?;
        let shift = |to: &Real, from: &Real| from.sub(to, self.bits).to_floatexp();
        let (sx, sy) = (shift(&point.re, &self.re), shift(&point.im, &self.im));
        let reach = self.lattice.extent() * FloatExp::from(MAX_REFERENCE_DISTANCE);
        if sx.cmp_abs(reach).is_gt() || sy.cmp_abs(reach).is_gt() {
            return Err(DeepError::FarReference);
        }
        Ok(DeepView {
            lattice: self.lattice.shifted(sx, sy),
            ..point
        })
    }

    /// The view sampled k × k times per pixel.
    pub fn supersampled(&self, k: u32) -> DeepView {
        DeepView {
            lattice: self.lattice.supersampled(k),
            ..self.clone()
        }
    }

    /// The precision of the centre and of every arbitrary-precision step.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The pixels.
    pub fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    /// The reference point's texts: the centre's unless [`DeepView::with_reference`] chose
    /// another.
    pub fn reference_point(&self) -> (&str, &str) {
        (&self.re_text, &self.im_text)
    }

    /// The reference orbit of the reference point, to `max_iter` and `bailout` (|z|²).
    pub fn reference(
        &self,
        max_iter: u32,
        bailout: f64,
        stop: Stop,
    ) -> Result<ReferenceOrbit, Stopped> {
        ReferenceOrbit::compute(&self.re, &self.im, self.bits, max_iter, bailout, stop)
    }

    /// The BLA maps along `orbit` for this view's pixels (its largest offset from the
    /// centre bounds their validity).
    pub fn bla(&self, orbit: &ReferenceOrbit) -> BlaTable {
        BlaTable::new(orbit, self.lattice.max_offset())
    }

    /// The escape counts of pixels `first..first + out.len()` by perturbation around `orbit`
    /// (made by [`DeepView::reference`] with [`COUNT_BAILOUT`]), skipping by `bla` (made by
    /// [`DeepView::bla`] for this view and orbit) if given, in `kernel`'s lanes (every kernel
    /// gives the same counts); returns the iterations done and skipped.
    pub fn perturbed_span(
        &self,
        orbit: &ReferenceOrbit,
        bla: Option<&BlaTable>,
        kernel: Kernel,
        first: u64,
        stop: Stop,
        out: &mut [u32],
    ) -> Result<Work, Stopped> {
        self.check_span(first, out.len());
        let value = |e: Escape| e.count;
        lanes::fill_with(kernel, self.span(orbit, bla, first, stop), out, value)
    }

    /// The smooth counts (NaN inside) of pixels `first..first + out.len()` by perturbation
    /// around `orbit` (made with [`SMOOTH_BAILOUT`]), `bla` and `kernel` as in
    /// [`DeepView::perturbed_span`]: the double kernels' `smooth_span` formula; returns the
    /// iterations done and skipped.
    pub fn perturbed_smooth_span(
        &self,
        orbit: &ReferenceOrbit,
        bla: Option<&BlaTable>,
        kernel: Kernel,
        first: u64,
        stop: Stop,
        out: &mut [f64],
    ) -> Result<Work, Stopped> {
        self.check_span(first, out.len());
        let value = |e| smooth_value(e, orbit.max_iter());
        lanes::fill_with(kernel, self.span(orbit, bla, first, stop), out, value)
    }

    /// The escape counts of pixels `first..first + out.len()`, each iterated directly at
    /// this view's precision; returns the iterations done.
    pub fn direct_span(
        &self,
        max_iter: u32,
        first: u64,
        stop: Stop,
        out: &mut [u32],
    ) -> Result<u64, Stopped> {
        self.check_span(first, out.len());
        direct::counts_span(
            &self.re,
            &self.im,
            &self.lattice,
            self.bits,
            max_iter,
            first,
            stop,
            out,
        )
    }

    fn span<'a>(
        &'a self,
        orbit: &'a ReferenceOrbit,
        bla: Option<&'a BlaTable>,
        first: u64,
        stop: Stop<'a>,
    ) -> lanes::Span<'a> {
        lanes::Span {
            orbit,
            bla,
            lattice: &self.lattice,
            first,
            stop,
        }
    }

    fn check_span(&self, first: u64, len: usize) {
        assert!(
            first
                .checked_add(len as u64)
                .is_some_and(|end| end <= self.lattice.pixels()),
            "the span must lie within the view"
        );
    }
}

/// The smooth count of an escape at [`SMOOTH_BAILOUT`], as the double kernels compute it:
/// `n + 1 - log2(ln |z|)`, NaN for a point taken to be in the set.
pub fn smooth_value(e: Escape, max_iter: u32) -> f64 {
    if e.count >= max_iter {
        return f64::NAN;
    }
    let ln_abs = 0.5 * e.norm.ln();
    f64::from(e.count) + 1.0 - ln_abs.ln() / std::f64::consts::LN_2
}

#[cfg(test)]
mod tests;
