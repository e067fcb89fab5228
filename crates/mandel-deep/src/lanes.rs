//! Perturbation in lanes: `L` pixels in double mode stepped side by side, each at its own
//! point of the reference, so that their independent chains of dependent multiplies and adds
//! overlap (and, under the per-ISA shims, run in vector registers). The one generic body
//! [`fill`] is instantiated per ISA by the `#[target_feature]` entry points at the bottom.
//!
//! Exactness: a lane performs the scalar loop's operations on the same doubles in the same
//! order. Where the table may offer a skip it asks it as the scalar loop does and takes the
//! skip or the plain step, and it rebases as the scalar loop does (where z is nearer 0 than
//! `Z_m`, or at the reference's end); it hands its pixel to the scalar loop
//! ([`perturb::run`]) for an iteration whenever that iteration may be anything else: an
//! escape (or |z|² within 10^-12 of the bailout, where the exact test decides), max-iter, or
//! a delta below the doubles' range. So every pixel's count, norm and skipped iterations are
//! the scalar loop's, bit for bit (tested in `tests.rs`).

use mandel_kernel::{Kernel, Meter, Stop, Stopped};

use crate::bla::BlaTable;
use crate::floatexp::FloatExp;
use crate::lattice::{Lattice, Work};
use crate::orbit::ReferenceOrbit;
use crate::perturb::{self, Escape, Offset, Progress, State};

/// Lane steps between reports to the [`Meter`].
const REPORT_EVERY: u32 = 1 << 12;

/// What a lane's pixel carries besides the state it steps: for handing it to the scalar loop.
#[derive(Clone, Copy)]
struct Held {
    index: usize,
    c: Offset,
    skipped: u32,
}

/// `L` pixels in double mode, as arrays of their parts: each z is `Z_m + (dr, di)` after `n`
/// iterations, at offset `(cr, ci)`.
struct Lanes<const L: usize> {
    dr: [f64; L],
    di: [f64; L],
    cr: [f64; L],
    ci: [f64; L],
    m: [usize; L],
    n: [u32; L],
    held: [Option<Held>; L],
}

impl<const L: usize> Default for Lanes<L> {
    fn default() -> Self {
        Lanes {
            dr: [0.0; L],
            di: [0.0; L],
            cr: [0.0; L],
            ci: [0.0; L],
            m: [0; L],
            n: [0; L],
            held: [None; L],
        }
    }
}

impl<const L: usize> Lanes<L> {
    /// Puts `taken` in lane `i`; false if there is none.
    fn load(&mut self, i: usize, taken: Option<(Held, State)>) -> bool {
        let Some((h, s)) = taken else {
            return false;
        };
        debug_assert!(!s.wide);
        (self.dr[i], self.di[i]) = s.d;
        (self.cr[i], self.ci[i]) = h.c.dc;
        (self.m[i], self.n[i]) = (s.m, s.n);
        self.held[i] = Some(h);
        true
    }

    /// Takes lane `i`'s pixel out, in the scalar loop's terms; `wide` if its last step took
    /// the delta below the doubles' range.
    fn take(&mut self, i: usize, wide: bool) -> (Held, State) {
        let h = self.held[i].take().expect("a full lane");
        let d = (self.dr[i], self.di[i]);
        let state = State {
            n: self.n[i],
            m: self.m[i],
            wide,
            d,
            dw: (FloatExp::from(d.0), FloatExp::from(d.1)),
            skipped: h.skipped,
        };
        (h, state)
    }
}

impl<const L: usize> Lanes<L> {
    /// Takes plain double steps in every lane together until some lane's next iteration is
    /// anything else (see [`fill`]'s loop, which then takes that iteration); returns the
    /// steps taken. With no lane to watch but for its step, this is the loop where deep
    /// pixels spend most of their time.
    #[inline(always)]
    fn run_plain(
        &mut self,
        points: &[(f64, f64)],
        bla: Option<&BlaTable>,
        near_bailout: f64,
        max_iter: u32,
        last: usize,
    ) -> u32 {
        // Max-iter and the reference's end are this many steps away at the nearest lane.
        let mut budget = u32::MAX;
        for i in 0..L {
            let to_end = u32::try_from(last.saturating_sub(self.m[i])).unwrap_or(u32::MAX);
            budget = budget.min(max_iter.saturating_sub(self.n[i]).min(to_end));
        }
        let Lanes {
            dr,
            di,
            cr,
            ci,
            m,
            n,
            ..
        } = self;
        let (mut d_r, mut d_i) = (*dr, *di);
        // Each lane's points from where it stands, as far as the budget goes.
        let ahead: [&[(f64, f64)]; L] = std::array::from_fn(|i| &points[m[i]..][..budget as usize]);
        let mut taken = 0;
        'run: while taken < budget {
            // A skip may open only where a map starts: there a lane's delta is tested against
            // the shortest map's radius, and the steps up to the next such point need no test.
            let mut chunk = budget - taken;
            if let Some(table) = bla {
                let open = table.open_radii();
                for i in 0..L {
                    let at = m[i] + taken as usize;
                    let to_start = match BlaTable::steps_to_start(at) {
                        // At a start: the lane's test now, and its next start a span on.
                        0 if size((d_r[i], d_i[i])) < open[at] => break 'run,
                        0 => BlaTable::steps_to_start(at + 1) + 1,
                        steps => steps,
                    };
                    chunk = chunk.min(u32::try_from(to_start).unwrap_or(u32::MAX));
                }
            }
            for _ in 0..chunk {
                let t = taken as usize;
                let (mut zr, mut zi) = ([0.0f64; L], [0.0f64; L]);
                for i in 0..L {
                    debug_assert!(t < ahead[i].len());
                    // SAFETY: `t < budget`, the length of every lane's slice. (A bounds check
                    // here cost the loop 5-13% on KF2's "1e50".)
                    (zr[i], zi[i]) = unsafe { *ahead[i].get_unchecked(t) };
                }
                let (mut next_r, mut next_i, mut other) = ([0.0f64; L], [0.0f64; L], false);
                for i in 0..L {
                    let (z, d) = ((zr[i], zi[i]), (d_r[i], d_i[i]));
                    let (watch, _) = look(z, d, near_bailout);
                    let next = perturb::double_step(z, d, (cr[i], ci[i]));
                    (next_r[i], next_i[i]) = next;
                    other |= watch | perturb::below_doubles(next);
                }
                if other {
                    break 'run;
                }
                (d_r, d_i) = (next_r, next_i);
                taken += 1;
            }
        }
        (*dr, *di) = (d_r, d_i);
        for (m, n) in m.iter_mut().zip(n) {
            *m += taken as usize;
            *n += taken;
        }
        taken
    }
}

/// A span of pixels to perturb: pixels `first..` of `lattice` around `orbit`, skipping by
/// `bla` if given, stopping at `stop`.
#[derive(Clone, Copy)]
pub(crate) struct Span<'a> {
    pub orbit: &'a ReferenceOrbit,
    pub bla: Option<&'a BlaTable>,
    pub lattice: &'a Lattice,
    pub first: u64,
    pub stop: Stop<'a>,
}

/// Fills `out` with the values of the pixels of `span` (as many as `out` holds), `L` at a
/// time; `value` turns a pixel's end into what `out` holds. The same values as
/// [`Lattice::fill`] with [`perturb::pixel`].
#[inline(always)]
fn fill<T, const L: usize>(
    span: Span,
    out: &mut [T],
    value: impl Fn(Escape) -> T,
) -> Result<Work, Stopped> {
    let Span {
        orbit,
        bla,
        lattice,
        first,
        stop,
    } = span;
    let mut meter = Meter::new(stop);
    let mut work = Work::default();
    let pixels = out.len();
    let mut finish = |index: usize, e: Escape| {
        out[index] = value(e);
        work.iterations += u64::from(e.count);
        work.skipped += u64::from(e.skipped);
    };
    let last = orbit.len() - 1;
    let max_iter = orbit.max_iter();
    let points = orbit.points();
    // A lane is looked at by the scalar loop where |z|² may have reached the bailout.
    let near_bailout = orbit.bailout() * (1.0 - 1e-12);
    let open = bla.map(BlaTable::open_radii);
    let mut next = 0usize;
    // Runs `state` of a held pixel (a new one if `None`) in the scalar loop for one
    // iteration at least, finishing pixels and starting new ones until one is in double mode
    // at the start of an iteration: it and its state, or `None` when no pixel is left.
    let mut advance = |mut held: Option<(Held, State)>,
                       meter: &mut Meter|
     -> Result<Option<(Held, State)>, Stopped> {
        loop {
            let (h, state) = match held.take() {
                Some(h) => h,
                None if next < pixels => {
                    let index = next;
                    next += 1;
                    let (dx, dy) = lattice.offset(first + index as u64);
                    let c = Offset::new(dx, dy);
                    let h = Held {
                        index,
                        c,
                        skipped: 0,
                    };
                    (h, State::start(&c))
                }
                None => return Ok(None),
            };
            match perturb::run(orbit, bla, &h.c, state, true, meter)? {
                Progress::Done(e) => finish(h.index, e),
                Progress::Double(s) => {
                    let h = Held {
                        skipped: s.skipped,
                        ..h
                    };
                    return Ok(Some((h, s)));
                }
            }
        }
    };
    let mut lanes = Lanes::<L>::default();
    let mut full = true;
    for i in 0..L {
        let taken = advance(None, &mut meter)?;
        full &= lanes.load(i, taken);
    }
    let mut steps = 0u32;
    while full {
        // Plain steps of every lane at once for as long as each lane's iteration is one.
        steps += lanes.run_plain(points, bla, near_bailout, max_iter, last);
        // Every lane's plain double step, as the scalar loop takes it, and which lanes'
        // iteration is something else (`attention`: they keep their state) or took the
        // delta below the doubles' range (`tiny`).
        let (mut attention, mut skips, mut tiny) = (0u32, 0u32, 0u32);
        let [mut next_r, mut next_i, mut sizes] = [[0.0f64; L]; 3];
        // A skip that took the delta below the doubles' range: the delta again in full range,
        // as the scalar loop redoes it.
        let mut contracted = [None; L];
        let Lanes {
            dr,
            di,
            cr,
            ci,
            m,
            n,
            held,
        } = &mut lanes;
        // The reference's points and skip thresholds of the lanes (gathered), then the
        // arithmetic and tests as straight-line array code the compiler can vectorize.
        let (zr, zi, open_at) = gather(points, open, m);
        let origin = points[0];
        // Each lane's step, taken where it is plain (after a rebase, if the lane needs one);
        // its flags, gathered into masks after (one loop of vector arithmetic and selects,
        // then one of mask bits).
        let [mut other, mut plain, mut skip, mut small] = [[false; L]; 4];
        for i in 0..L {
            let (z, d) = ((zr[i], zi[i]), (dr[i], di[i]));
            let (norm, size) = sizes_at(z, d);
            // The scalar loop's tests, in its order: max-iter or an escape (or |z|² within a
            // rounding of the bailout) are its to take; a rebase (z nearer 0 than Z_m, or
            // the reference's end) restarts the delta as z from Z_0, here.
            other[i] = (n[i] >= max_iter) | (norm >= near_bailout);
            let rebase = !other[i] & ((m[i] == last) | (norm < size));
            let (z, d) = if rebase {
                (origin, (z.0 + d.0, z.1 + d.1))
            } else {
                (z, d)
            };
            skip[i] = !other[i] & !rebase & (size < open_at[i]);
            let (re, im) = perturb::double_step(z, d, (cr[i], ci[i]));
            plain[i] = !other[i] & !skip[i];
            (next_r[i], next_i[i], sizes[i]) = (re, im, size);
            dr[i] = if plain[i] { re } else { d.0 };
            di[i] = if plain[i] { im } else { d.1 };
            m[i] = if rebase { 0 } else { m[i] } + usize::from(plain[i]);
            n[i] += u32::from(plain[i]);
            small[i] = plain[i] & perturb::below_doubles((re, im));
        }
        for i in 0..L {
            attention |= u32::from(other[i]) << i;
            skips |= u32::from(skip[i]) << i;
            tiny |= u32::from(small[i]) << i;
        }
        while skips != 0 {
            // The skip the scalar loop would take here, or its plain step; and after a
            // skip, the skips it takes next while it has nothing else to do (no escape,
            // rebase, max-iter or end between them), each tested as its iteration would be,
            // so that a run of skips costs the other lanes one stop, not one a skip.
            let i = skips.trailing_zeros() as usize;
            skips &= skips - 1;
            let table = bla.expect("skips come from a table");
            let open = open.expect("skips come from a table");
            let (mut d, mut size, mut first) = ((dr[i], di[i]), sizes[i], true);
            let d = loop {
                match table.skip_double(m[i], max_iter - n[i], size) {
                    Some(skip) => {
                        let h = held[i].as_mut().expect("a full lane");
                        (d, contracted[i]) = perturb::skip_from_double(&skip, d, &h.c);
                        h.skipped += skip.steps;
                        m[i] += skip.steps as usize;
                        n[i] += skip.steps;
                        if contracted[i].is_some() || n[i] >= max_iter || m[i] == last {
                            break d;
                        }
                        let watch;
                        (watch, size) = look(points[m[i]], d, near_bailout);
                        // (Below the doubles' range it was contracted, above.)
                        if watch || size >= open[m[i]] {
                            break d;
                        }
                        first = false;
                    }
                    None if first => {
                        m[i] += 1;
                        n[i] += 1;
                        break (next_r[i], next_i[i]);
                    }
                    // The iteration after the last skip is the lanes' again.
                    None => break d,
                }
            };
            (dr[i], di[i]) = d;
            tiny |= u32::from(perturb::below_doubles(d)) << i;
        }
        let mut pending = attention | tiny;
        while pending != 0 {
            // An iteration (at least) in the scalar loop, from the lane's state.
            let i = pending.trailing_zeros() as usize;
            pending &= pending - 1;
            let (h, mut state) = lanes.take(i, tiny & (1 << i) != 0);
            if let Some(dw) = contracted[i] {
                state.dw = dw;
            }
            let taken = advance(Some((h, state)), &mut meter)?;
            full &= lanes.load(i, taken);
        }
        steps += 1;
        if steps >= REPORT_EVERY {
            meter.spend(u64::from(steps) * L as u64)?;
            steps = 0;
        }
    }
    // No pixel left to start: the scalar loop finishes the lanes' pixels.
    for i in 0..L {
        if lanes.held[i].is_some() {
            let (h, state) = lanes.take(i, false);
            match perturb::run(orbit, bla, &h.c, state, false, &mut meter)? {
                Progress::Done(e) => finish(h.index, e),
                Progress::Double(_) => unreachable!("run hands back only when asked"),
            }
        }
    }
    meter.spend(u64::from(steps) * L as u64)?;
    Ok(work)
}

/// [`fill`] through `kernel`'s shim: the scalar loop pixel by pixel for [`Kernel::Scalar`],
/// otherwise as many lanes as the ISA's vectors hold (the portable body where the CPU lacks
/// the kernel's ISA).
pub(crate) fn fill_with<T>(
    kernel: Kernel,
    span: Span,
    out: &mut [T],
    value: impl Fn(Escape) -> T,
) -> Result<Work, Stopped> {
    let kernel = if kernel.is_available() {
        kernel
    } else {
        Kernel::Portable
    };
    match kernel {
        Kernel::Scalar => {
            let Span { orbit, bla, .. } = span;
            let iterate = |dx, dy, meter: &mut Meter| perturb::pixel(orbit, bla, dx, dy, meter);
            span.lattice
                .fill(span.first, span.stop, out, iterate, value)
        }
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX2 (checked above).
        Kernel::Avx2 => unsafe { fill_avx2(span, out, value) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX-512F (checked above).
        Kernel::Avx512 => unsafe { fill_avx512(span, out, value) },
        Kernel::Neon => fill::<T, 2>(span, out, value),
        _ => fill::<T, 4>(span, out, value),
    }
}

/// A `#[target_feature]` entry point: [`fill`] in `$lanes` lanes, compiled for `$feature`.
macro_rules! shim {
    ($name:ident, $feature:literal, $lanes:literal) => {
        #[doc = concat!("[`fill`] in ", $lanes, " lanes, compiled for ", $feature, ".")]
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        unsafe fn $name<T>(
            span: Span,
            out: &mut [T],
            value: impl Fn(Escape) -> T,
        ) -> Result<Work, Stopped> {
            fill::<T, $lanes>(span, out, value)
        }
    };
}

// AVX2 takes eight lanes, two vectors: with four, each step waits on the one before (at 256²
// on KF2's "1e50", 1.7 s against 2.9 s in one run); AVX-512F gains nothing from sixteen.
shim!(fill_avx2, "avx2", 8);
shim!(fill_avx512, "avx512f", 8);

/// The tests a lane's iteration from `Z_m = z` with delta `d` starts with, as the scalar
/// loop's: whether the scalar loop's tests may find anything but a plain step or a skip
/// (|z|² may have reached the bailout, which `near_bailout` is a little below, or z is
/// nearer 0 than `Z_m`: a rebase), and `|d|²`.
#[inline(always)]
fn look(z: (f64, f64), d: (f64, f64), near_bailout: f64) -> (bool, f64) {
    let (norm, size) = sizes_at(z, d);
    ((norm >= near_bailout) | (norm < size), size)
}

/// `|z|²` for the pixel at `Z_m = z` with delta `d`, and `|d|²`.
#[inline(always)]
fn sizes_at(z: (f64, f64), d: (f64, f64)) -> (f64, f64) {
    (size((z.0 + d.0, z.1 + d.1)), size(d))
}

/// `|d|²`, as the scalar loop computes it.
#[inline(always)]
fn size(d: (f64, f64)) -> f64 {
    d.0 * d.0 + d.1 * d.1
}

/// The lanes' `Z_m` (real and imaginary parts) from `points`, and their skip thresholds from
/// `open` (0 without a table; as long as `points` if given). An `m` past the end reads the
/// last point, which spares a bounds check a lane (a lane never is past it).
#[inline(always)]
fn gather<const L: usize>(
    points: &[(f64, f64)],
    open: Option<&[f64]>,
    m: &[usize; L],
) -> ([f64; L], [f64; L], [f64; L]) {
    let last = points.len() - 1;
    let open = open.map(|o| &o[..=last]);
    let (mut zr, mut zi, mut open_at) = ([0.0f64; L], [0.0f64; L], [0.0f64; L]);
    for i in 0..L {
        let at = m[i].min(last);
        (zr[i], zi[i]) = points[at];
        open_at[i] = open.map_or(0.0, |o| o[at]);
    }
    (zr, zi, open_at)
}
