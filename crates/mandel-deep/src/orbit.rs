//! The reference orbit: `Z_{n+1} = Z_n² + C` from `Z_0 = 0` at the view's reference point,
//! computed once per image (or per map, for its tiles) in arbitrary precision and kept as
//! doubles and as [`FloatExp`]s (the latter for the pixels whose deltas are below a double's
//! range, where `Z_n` can be as small).

use mandel_kernel::{Stop, Stopped};

use crate::big::Real;
use crate::floatexp::FloatExp;

/// Reference iterations between two looks at the [`Stop`] (each is a few microseconds at
/// thousands of bits).
const POLL_EVERY: u32 = 256;

/// The reference orbit is kept until |Z|² reaches this, whatever the pixels' bailout: a pixel
/// still inside its own bailout when the reference ends is then at least 250 away from it,
/// so restarting its delta from the orbit's start (a double of that size) loses nothing its
/// delta held.
const REFERENCE_BAILOUT: f64 = 65_536.0;

/// `Z_0 ..= Z_N` of the reference point, N being the first n with |Z_n| ≥ 256, or max-iter;
/// each as the nearest doubles, the rest of its value in a second pair of doubles, and as
/// [`FloatExp`]s.
#[derive(Debug, Clone)]
pub struct ReferenceOrbit {
    z: Vec<(f64, f64)>,
    z_rest: Vec<(f64, f64)>,
    z_wide: Vec<(FloatExp, FloatExp)>,
    max_iter: u32,
    bailout: f64,
}

impl ReferenceOrbit {
    /// The orbit of `re + im·i` at `bits` of precision, for pixels whose escape is |z|² ≥
    /// `bailout` (4 for escape counts; more for smooth colouring) within `max_iter` steps.
    pub fn compute(
        re: &Real,
        im: &Real,
        bits: usize,
        max_iter: u32,
        bailout: f64,
        stop: Stop,
    ) -> Result<ReferenceOrbit, Stopped> {
        let mut orbit = ReferenceOrbit {
            z: vec![(0.0, 0.0)],
            z_rest: vec![(0.0, 0.0)],
            z_wide: vec![(FloatExp::ZERO, FloatExp::ZERO)],
            max_iter,
            bailout,
        };
        let (mut zr, mut zi) = (Real::zero(bits), Real::zero(bits));
        for n in 0..max_iter {
            if n % POLL_EVERY == 0 && stop.poll() {
                return Err(Stopped);
            }
            // Two products a step: zr² − zi² as (zr + zi)·(zr − zi), as well conditioned
            // (no difference of near-equal squares) and a third faster at thousands of bits.
            let zri = zr.mul(&zi, bits);
            let squares = zr.add(&zi, bits).mul(&zr.sub(&zi, bits), bits);
            zr = squares.add(re, bits);
            zi = zri.double().add(im, bits);
            let wide = (zr.to_floatexp(), zi.to_floatexp());
            let near = (wide.0.to_f64(), wide.1.to_f64());
            let rest = |z: &Real, near: f64| z.sub(&Real::from_f64(near, 64), bits).to_f64();
            orbit.z.push(near);
            orbit.z_rest.push((rest(&zr, near.0), rest(&zi, near.1)));
            orbit.z_wide.push(wide);
            if near.0 * near.0 + near.1 * near.1 >= REFERENCE_BAILOUT.max(bailout) {
                break;
            }
        }
        Ok(orbit)
    }

    /// The bytes the orbit holds.
    pub fn bytes(&self) -> usize {
        self.len() * (2 * size_of::<(f64, f64)>() + size_of::<(FloatExp, FloatExp)>())
    }

    /// Points stored: N + 1.
    pub fn len(&self) -> usize {
        self.z.len()
    }

    /// Never: `Z_0` is always stored.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// `Z_n` as doubles.
    #[inline]
    pub fn z(&self, n: usize) -> (f64, f64) {
        self.z[n]
    }

    /// `Z_0 ..= Z_N` as doubles: for reading many points at once.
    #[inline]
    pub(crate) fn points(&self) -> &[(f64, f64)] {
        &self.z
    }

    /// `Z_n` less its nearest doubles ([`ReferenceOrbit::z`]), to the nearest doubles.
    #[inline]
    pub fn z_rest(&self, n: usize) -> (f64, f64) {
        self.z_rest[n]
    }

    /// `Z_n` as [`FloatExp`]s.
    #[inline]
    pub fn z_wide(&self, n: usize) -> (FloatExp, FloatExp) {
        self.z_wide[n]
    }

    /// The iteration limit.
    pub fn max_iter(&self) -> u32 {
        self.max_iter
    }

    /// The squared escape radius.
    pub fn bailout(&self) -> f64 {
        self.bailout
    }

    /// Whether the reference point itself escaped before max-iter (pixels then continue by
    /// rebasing).
    pub fn escaped(&self) -> bool {
        self.z.len() <= self.max_iter as usize
    }

    /// Whether the pixel at `Z_n + delta` has escaped: |Z_n + delta|² ≥ the bailout. `norm` is
    /// that in doubles; near the bailout, where a double's rounding of `Z_n` could decide, the
    /// sum is taken again with the rest of `Z_n`, to about 10^-30.
    #[inline]
    pub(crate) fn escaped_at(&self, n: usize, delta: (f64, f64), norm: f64) -> bool {
        if (norm - self.bailout).abs() > self.bailout * 1e-12 {
            return norm >= self.bailout;
        }
        self.escaped_exactly(n, delta)
    }

    /// [`ReferenceOrbit::escaped_at`] near the bailout.
    #[cold]
    #[inline(never)]
    fn escaped_exactly(&self, n: usize, delta: (f64, f64)) -> bool {
        let (hi, lo) = (self.z[n], self.z_rest[n]);
        let (ar, er) = two_sum(hi.0, delta.0);
        let (ai, ei) = two_sum(hi.1, delta.1);
        let (tr, ti) = (er + lo.0, ei + lo.1);
        let (p, pe) = two_product(ar, ar);
        let (q, qe) = two_product(ai, ai);
        let (s, se) = two_sum(p, q);
        let (u, ue) = two_sum(s, -self.bailout);
        let rest = (se + ue + pe + qe) + 2.0 * (ar * tr + ai * ti) + (tr * tr + ti * ti);
        u + rest >= 0.0
    }
}

/// `a + b` as the rounded sum and its exact error (Knuth).
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// `a · b` as the rounded product and its exact error (by a fused multiply-add).
fn two_product(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}
