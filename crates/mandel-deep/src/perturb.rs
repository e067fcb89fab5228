//! Perturbation: a pixel's orbit as the reference orbit plus a small delta, iterated in
//! doubles while the delta has their range and in [`FloatExp`] below it, with rebasing
//! (Zhuoran, 2021): when the pixel's orbit comes closer to 0 than to the reference's, or the
//! reference ends, the delta restarts from the reference's first point. Without a
//! [`BlaTable`] no approximation is made: the counts follow direct iteration except where a
//! pixel's orbit amplifies the rounding of its delta, a double, past its count's margin (rare;
//! `docs/deep-zoom.md`). With one, a pixel skips along the reference wherever its delta is
//! small enough for a map to stand for the steps.

use mandel_kernel::{Meter, Stopped};

use crate::bla::{BlaTable, Skip};
use crate::floatexp::{ComplexExp, FloatExp};
use crate::orbit::ReferenceOrbit;

/// Below this binary exponent of |delta| the loop leaves doubles for [`FloatExp`], and above
/// [`DOUBLE_ENTER`] it returns: where delta² and the pixel's offset, which both enter every
/// step, are still normal doubles or too small beside delta to matter.
const DOUBLE_EXIT: i32 = -500;
/// See [`DOUBLE_EXIT`]; the gap keeps a pixel from switching at every step.
const DOUBLE_ENTER: i32 = -480;
/// 2^[`DOUBLE_EXIT`] as a double.
const DOUBLE_EXIT_SIZE: f64 = f64::from_bits(((DOUBLE_EXIT + 1023) as u64) << 52);

/// Iterations a pixel runs between reports to its [`Meter`] (which polls the stop once per
/// `POLL_STEPS` reported): a long orbit is stopped within that many steps.
const REPORT_EVERY: u64 = 1 << 16;

/// What one pixel's iteration ended with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Escape {
    /// Iterations done: the escape count, or max-iter for a point taken to be in the set.
    pub count: u32,
    /// |z|² at the end (at or past the bailout for an escaped point).
    pub norm: f64,
    /// Of `count`, the iterations skipped by BLA ([`BlaTable`]).
    pub skipped: u32,
}

/// The iteration of the pixel at offset `(dx, dy)` from the reference's point, to the orbit's
/// max-iter and bailout, skipping by `bla`'s maps where they are valid.
pub fn pixel(
    orbit: &ReferenceOrbit,
    bla: Option<&BlaTable>,
    dx: FloatExp,
    dy: FloatExp,
    meter: &mut Meter,
) -> Result<Escape, Stopped> {
    let c = Offset::new(dx, dy);
    match run(orbit, bla, &c, State::start(&c), false, meter)? {
        Progress::Done(e) => Ok(e),
        Progress::Double(_) => unreachable!("run hands back only when asked"),
    }
}

/// A pixel's offset from the reference's point, in the forms the loop uses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Offset {
    pub dc: (f64, f64),
    pub wide: (FloatExp, FloatExp),
    pub skip: ComplexExp,
    /// `δc²`, for a skip's second-order terms.
    pub square: ComplexExp,
}

impl Offset {
    pub fn new(dx: FloatExp, dy: FloatExp) -> Offset {
        let skip = ComplexExp::from_wide((dx, dy));
        Offset {
            dc: (dx.to_f64(), dy.to_f64()),
            wide: (dx, dy),
            skip,
            square: skip * skip,
        }
    }
}

/// A pixel's iteration in progress: its z is the reference's `Z_m` plus the delta (`d` in
/// doubles, or `dw` when `wide`), after `n` iterations, `skipped` of them by skips.
#[derive(Debug, Clone, Copy)]
pub(crate) struct State {
    pub n: u32,
    pub m: usize,
    pub wide: bool,
    pub d: (f64, f64),
    pub dw: (FloatExp, FloatExp),
    pub skipped: u32,
}

impl State {
    /// Before the first iteration: z = 0 = Z_0.
    pub fn start(c: &Offset) -> State {
        let (dx, dy) = c.wide;
        let larger = if dx.cmp_abs(dy).is_ge() { dx } else { dy };
        State {
            n: 0,
            m: 0,
            wide: !larger.is_zero() && larger.exponent() < DOUBLE_ENTER,
            d: (0.0, 0.0),
            dw: (FloatExp::ZERO, FloatExp::ZERO),
            skipped: 0,
        }
    }
}

/// Where [`run`] left a pixel.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Progress {
    /// It escaped, or reached max-iter.
    Done(Escape),
    /// It is in double mode at the start of an iteration (before its escape test).
    Double(State),
}

/// Iterates the pixel at offset `c` from `state` to its end, or, with `hand_back`, to the
/// start of the first iteration after one at least that finds it in double mode.
pub(crate) fn run(
    orbit: &ReferenceOrbit,
    bla: Option<&BlaTable>,
    c: &Offset,
    state: State,
    hand_back: bool,
    meter: &mut Meter,
) -> Result<Progress, Stopped> {
    let max_iter = orbit.max_iter();
    let (dc, wide_c) = (c.dc, c.wide);
    let State {
        mut n,
        mut m,
        mut wide,
        mut d,
        mut dw,
        mut skipped,
    } = state;
    let last = orbit.len() - 1;
    let mut unspent = 0u64;
    let mut first = true;
    loop {
        if hand_back && !wide && !first {
            meter.spend(unspent)?;
            return Ok(Progress::Double(State {
                n,
                m,
                wide,
                d,
                dw,
                skipped,
            }));
        }
        first = false;
        if wide {
            // The stretch that needs no FloatExp arithmetic, in scaled doubles.
            let budget = (REPORT_EVERY - unspent).min(u64::from(max_iter - n));
            let steps = scaled_run(orbit, bla, &mut m, &mut dw, wide_c, budget);
            n += steps as u32;
            unspent += steps;
            if unspent >= REPORT_EVERY {
                meter.spend(unspent)?;
                unspent = 0;
            }
            // |delta| < 2^-480: z is Z_m to far beyond a double's precision.
            let (zr, zi) = orbit.z(m);
            let norm = zr * zr + zi * zi;
            if n >= max_iter || orbit.escaped_at(m, (dw.0.to_f64(), dw.1.to_f64()), norm) {
                meter.spend(unspent)?;
                return Ok(Progress::Done(Escape {
                    count: n,
                    norm,
                    skipped,
                }));
            }
            let (wzr, wzi) = orbit.z_wide(m);
            let (zr, zi) = (wzr + dw.0, wzi + dw.1);
            if m == last || norm_wide(zr, zi).cmp_abs(norm_wide(dw.0, dw.1)).is_lt() {
                dw = (zr, zi);
                m = 0;
            }
            let skip = bla.and_then(|t| t.skip(m, max_iter - n, || norm_wide(dw.0, dw.1)));
            if let Some(skip) = skip {
                let next = skip.apply(ComplexExp::from_wide(dw), c);
                (m, n, skipped) = (
                    m + skip.steps as usize,
                    n + skip.steps,
                    skipped + skip.steps,
                );
                wide = next.exponent() < DOUBLE_ENTER;
                (d, dw) = (next.to_f64(), next.to_wide());
            } else {
                let (wzr, wzi) = orbit.z_wide(m);
                // delta <- 2 Z delta + delta² + dc
                let (a, b) = dw;
                let re = (wzr * a - wzi * b).double() + (a * a - b * b) + wide_c.0;
                let im = (wzr * b + wzi * a).double() + (a * b).double() + wide_c.1;
                dw = (re, im);
                m += 1;
                n += 1;
                let larger = if re.cmp_abs(im).is_ge() { re } else { im };
                if larger.exponent() >= DOUBLE_ENTER {
                    d = (re.to_f64(), im.to_f64());
                    wide = false;
                }
            }
        } else {
            let (zr0, zi0) = orbit.z(m);
            let (zr, zi) = (zr0 + d.0, zi0 + d.1);
            let norm = zr * zr + zi * zi;
            if n >= max_iter || orbit.escaped_at(m, d, norm) {
                meter.spend(unspent)?;
                return Ok(Progress::Done(Escape {
                    count: n,
                    norm,
                    skipped,
                }));
            }
            if m == last || norm < d.0 * d.0 + d.1 * d.1 {
                d = (zr, zi);
                m = 0;
            }
            let skip = bla.and_then(|t| t.skip_double(m, max_iter - n, d.0 * d.0 + d.1 * d.1));
            if let Some(skip) = skip {
                let below;
                (d, below) = skip_from_double(&skip, d, c);
                (m, n, skipped) = (
                    m + skip.steps as usize,
                    n + skip.steps,
                    skipped + skip.steps,
                );
                if let Some(full) = below {
                    dw = full;
                    wide = true;
                }
            } else {
                let (re, im) = double_step(orbit.z(m), d, dc);
                d = (re, im);
                m += 1;
                n += 1;
                if below_doubles((re, im)) {
                    dw = (FloatExp::from(re), FloatExp::from(im));
                    wide = true;
                }
            }
        }
        unspent += 1;
        if unspent >= REPORT_EVERY {
            meter.spend(unspent)?;
            unspent = 0;
        }
    }
}

/// The delta after one perturbation step from `Z_m = z` with delta `d`, at offset `dc`, in
/// doubles: `δ ← 2·Z_m·δ + δ² + δc`, in this order of operations (every path that steps in
/// doubles takes it here, so that they agree bit for bit).
#[inline(always)]
pub(crate) fn double_step(z: (f64, f64), d: (f64, f64), dc: (f64, f64)) -> (f64, f64) {
    let ((zr, zi), (a, b)) = (z, d);
    (
        2.0 * (zr * a - zi * b) + (a * a - b * b) + dc.0,
        2.0 * (zr * b + zi * a) + 2.0 * a * b + dc.1,
    )
}

/// Whether a delta in doubles has left their range for [`FloatExp`]: both parts below
/// 2^[`DOUBLE_EXIT`]. (Two compares rather than one of the larger part: `f64::max` also
/// handles NaN, which costs the lanes a compare and a blend a step.)
#[inline(always)]
pub(crate) fn below_doubles(d: (f64, f64)) -> bool {
    (d.0.abs() < DOUBLE_EXIT_SIZE) & (d.1.abs() < DOUBLE_EXIT_SIZE)
}

/// The delta after `skip` from the double delta `d` of the pixel at `c`, in doubles, and,
/// where a contracting skip took it below their range, again in full range (which the
/// doubles may have lost).
pub(crate) fn skip_from_double(
    skip: &Skip,
    d: (f64, f64),
    c: &Offset,
) -> ((f64, f64), Option<(FloatExp, FloatExp)>) {
    let next = skip.apply_double(d, c);
    let below = below_doubles(next).then(|| skip.apply(ComplexExp::from_f64(d), c).to_wide());
    (next, below)
}

/// Below this |Z_m| (in both parts) a step of a delta below a double's range is taken in
/// [`FloatExp`], where delta² and the pixel's offset may outweigh 2·Z_m·delta; above it
/// delta² is below 2^-420 of 2·Z_m·delta and scaled doubles serve.
const TINY_Z: f64 = 1.0 / (1u64 << 60) as f64;

/// Steps the wide-range delta `dw` (|delta| < 2^-480) at most `budget` times as a double
/// scaled by a power of two: `delta = (a, b) · 2^s`, so that one step costs what a double
/// one does. Stops, leaving the rest to [`FloatExp`] arithmetic, where that is needed: |Z_m|
/// below [`TINY_Z`], the reference's last point (a rebase), |Z_m|² near the bailout (the
/// exact escape test), |delta| grown past 2^[`DOUBLE_ENTER`], and a point from which `bla`
/// has a skip for the delta. Returns the steps taken.
fn scaled_run(
    orbit: &ReferenceOrbit,
    bla: Option<&BlaTable>,
    m: &mut usize,
    dw: &mut (FloatExp, FloatExp),
    c: (FloatExp, FloatExp),
    budget: u64,
) -> u64 {
    let last = orbit.len() - 1;
    let near_bailout = orbit.bailout() * (1.0 - 1e-12);
    // The scale: the larger part's exponent, so that (a, b) starts near 1.
    let larger = if dw.0.cmp_abs(dw.1).is_ge() {
        dw.0
    } else {
        dw.1
    };
    if larger.is_zero() {
        return 0;
    }
    let mut s = larger.exponent();
    let unscale = |x: FloatExp, s: i32| (x * FloatExp::new(1.0, -s)).to_f64();
    let (mut a, mut b) = (unscale(dw.0, s), unscale(dw.1, s));
    let (mut ca, mut cb) = (unscale(c.0, s), unscale(c.1, s));
    // delta² · 2^s, where 2^s is still a double; below that delta² is negligible.
    let mut square = if s >= -1000 {
        FloatExp::new(1.0, s).to_f64()
    } else {
        0.0
    };
    let mut steps = 0;
    while steps < budget && *m != last {
        let (zr, zi) = orbit.z(*m);
        if zr.abs() < TINY_Z && zi.abs() < TINY_Z || zr * zr + zi * zi >= near_bailout {
            break;
        }
        if bla.is_some_and(|t| t.opens_at(*m, || FloatExp::new(a * a + b * b, 2 * s))) {
            break;
        }
        let na = 2.0 * (zr * a - zi * b) + (a * a - b * b) * square + ca;
        let nb = 2.0 * (zr * b + zi * a) + 2.0 * a * b * square + cb;
        (a, b) = (na, nb);
        *m += 1;
        steps += 1;
        let mag = a.abs().max(b.abs());
        if !(1.0 / 65536.0..=65536.0).contains(&mag) && mag != 0.0 {
            // Keep (a, b) near 1: move the exponent into the scale.
            let k = FloatExp::from(mag).exponent();
            (a, b) = (unscale(FloatExp::from(a), k), unscale(FloatExp::from(b), k));
            s += k;
            (ca, cb) = (unscale(c.0, s), unscale(c.1, s));
            square = if s >= -1000 {
                FloatExp::new(1.0, s).to_f64()
            } else {
                0.0
            };
            if s >= DOUBLE_ENTER {
                break;
            }
        }
    }
    *dw = (FloatExp::new(a, s), FloatExp::new(b, s));
    steps
}

/// |(re, im)|², in [`FloatExp`].
fn norm_wide(re: FloatExp, im: FloatExp) -> FloatExp {
    re * re + im * im
}
