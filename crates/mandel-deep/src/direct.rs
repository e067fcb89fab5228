//! Direct iteration of every pixel in arbitrary precision: `z <- z² + c` with `c` the
//! reference point plus the pixel's offset, all at the same precision. Slow (microseconds a
//! step); the ground truth that perturbation is tested against.

use mandel_kernel::{Meter, Stop, Stopped};

use crate::COUNT_BAILOUT;
use crate::big::Real;
use crate::lattice::Lattice;
use crate::perturb::Escape;

/// The iteration of the point `re + im·i` at `bits`, to `max_iter` and `bailout` (|z|²),
/// compared exactly.
pub fn point(
    re: &Real,
    im: &Real,
    bits: usize,
    max_iter: u32,
    bailout: f64,
    meter: &mut Meter,
) -> Result<Escape, Stopped> {
    let limit = Real::from_f64(bailout, 64);
    let (mut zr, mut zi) = (Real::zero(bits), Real::zero(bits));
    for n in 0..max_iter {
        let zr2 = zr.mul(&zr, bits);
        let zi2 = zi.mul(&zi, bits);
        let norm = zr2.add(&zi2, bits);
        if norm.ge(&limit) {
            return Ok(Escape {
                count: n,
                norm: norm.to_f64(),
                skipped: 0,
            });
        }
        let zri = zr.mul(&zi, bits);
        zr = zr2.sub(&zi2, bits).add(re, bits);
        zi = zri.double().add(im, bits);
        meter.spend(1)?;
    }
    let norm = zr.mul(&zr, bits).add(&zi.mul(&zi, bits), bits);
    Ok(Escape {
        count: max_iter,
        norm: norm.to_f64(),
        skipped: 0,
    })
}

/// The counts of pixels `first..first + out.len()` of `lattice` about `re + im·i`, iterated
/// directly at `bits`; returns the iterations done.
#[allow(clippy::too_many_arguments)]
pub fn counts_span(
    re: &Real,
    im: &Real,
    lattice: &Lattice,
    bits: usize,
    max_iter: u32,
    first: u64,
    stop: Stop,
    out: &mut [u32],
) -> Result<u64, Stopped> {
    let iterate = |dx, dy, meter: &mut Meter| {
        let cr = re.add(&Real::from_floatexp(dx, bits), bits);
        let ci = im.add(&Real::from_floatexp(dy, bits), bits);
        point(&cr, &ci, bits, max_iter, COUNT_BAILOUT, meter)
    };
    Ok(lattice
        .fill(first, stop, out, iterate, |e| e.count)?
        .iterations)
}
