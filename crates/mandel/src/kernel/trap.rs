//! A proven shortcut for the main cardioid: a disc around the attracting fixed point that the
//! kernel's rounded orbit, once inside, never leaves.
//!
//! A point c of the main cardioid is `p - p*p` for a fixed point p of `z*z + c` with
//! `|p| < 1/2`. Take any complex p (computed here as `(1 - sqrt(1 - 4c)) / 2`; its accuracy
//! only decides how often the shortcut applies, never whether it is right) and write
//! `w = z - p`, `e = p*p + c - p` (how far p is from being the fixed point). Then
//!
//! ```text
//!   z*z + c - p = e + w (2p + w).
//! ```
//!
//! Let `0 < q <= 1 - 2|p|` and `r = q/2`. For `|w| <= r`:
//! `|z*z + c - p| <= |e| + r (2|p| + r) <= |e| + r (1 - q + r) = |e| + r - q*q/4`.
//! The kernel's step rounds four times on values below 1 in magnitude (`|z| <= |p| + r < 1`,
//! `|c| < 1`), which moves the result by less than `d = 1e-15`. So when `|e| + d <= q*q/4`,
//! the disc `|z - p| <= r` maps into itself under the rounded step, and it lies inside
//! `|z| < 1`: an orbit that enters it never reaches `|z| >= 2`, and its count is max-iter.
//!
//! What is computed, each bound on the safe side by a margin far above its rounding error:
//! - `q = (1 - 2|p|) - 1e-15`, `|p|` being the rounded square root of the rounded `|p|²`,
//!   within 4e-16 of the true one (for `|p| < 1`), so `q <= 1 - 2|p|`.
//! - The disc is used only if `q > 0`, `t = q*q/8 - 1e-13 > 0` and the computed `|e|²` is at most
//!   `t*t`. The computed e is within 2e-15 of the true one (a few roundings on values below
//!   2), so the true `|e| <= q*q/8 - 9e-14`, and `|e| + d <= q*q/4` with room to spare.
//! - A lane is inside the disc when the computed `|z - p|²` is at most `q*q/4 * (1 - 1e-12)`:
//!   the computed square distance is within a relative 1e-15 of the true one, so the true
//!   `|z - p| < r`.
//!
//! Comparisons are ordered: a NaN anywhere (e.g. `0/0` on the real axis right of 1/4) means
//! no disc.

use super::portable::Portable;
use super::simd::Simd;

/// The disc of a vector of points `c`: its centre and the bound that [`inside`] tests the
/// square distance against, or -1 (nothing is inside) where no disc is proven.
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn disc<S: Simd>(cx: S::V, cy: S::V) -> (S::V, S::V, S::V) {
    // SAFETY: passed on from the caller.
    unsafe {
        let (half, one, four) = (S::splat(0.5), S::splat(1.0), S::splat(4.0));
        let none = S::splat(-1.0);
        // sqrt(1 - 4c), principal branch, from real square roots.
        let wx = S::sub(one, S::mul(four, cx));
        let wy = S::sub(S::splat(0.0), S::mul(four, cy));
        let m = S::sqrt(S::add(S::mul(wx, wx), S::mul(wy, wy)));
        let sx = S::sqrt(S::mul(S::add(m, wx), half));
        let sy = S::div(wy, S::add(sx, sx));
        let px = S::mul(S::sub(one, sx), half);
        let py = S::mul(S::sub(S::splat(0.0), sy), half);
        let ex = S::sub(S::add(S::sub(S::mul(px, px), S::mul(py, py)), cx), px);
        let xy = S::mul(px, py);
        let ey = S::sub(S::add(S::add(xy, xy), cy), py);
        let e2 = S::add(S::mul(ex, ex), S::mul(ey, ey));
        let p2 = S::add(S::mul(px, px), S::mul(py, py));
        let p_abs = S::sqrt(p2);
        let q = S::sub(S::sub(one, S::add(p_abs, p_abs)), S::splat(1e-15));
        let qq = S::mul(q, q);
        let t = S::sub(S::mul(qq, S::splat(0.125)), S::splat(1e-13));
        let bound = S::mul(S::mul(qq, S::splat(0.25)), S::splat(1.0 - 1e-12));
        let tiny = S::splat(f64::MIN_POSITIVE);
        let bound = S::select_ge(q, tiny, bound, none);
        let bound = S::select_ge(t, tiny, bound, none);
        let bound = S::select_ge(S::mul(t, t), e2, bound, none);
        (px, py, bound)
    }
}

/// Bit i set when lane i's z lies in its disc (ordered: never for NaN).
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn inside<S: Simd>(x: S::V, y: S::V, px: S::V, py: S::V, bound: S::V) -> u32 {
    // SAFETY: passed on from the caller.
    unsafe {
        let (dx, dy) = (S::sub(x, px), S::sub(y, py));
        S::le_mask(S::add(S::mul(dx, dx), S::mul(dy, dy)), bound)
    }
}

/// Bit i set when lane i's point may lie in the main cardioid (the textbook test, without
/// any rounding analysis): only tiles with such a lane pay for [`disc`].
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn maybe_in_cardioid<S: Simd>(cx: S::V, cy: S::V) -> u32 {
    // SAFETY: passed on from the caller.
    unsafe {
        let xq = S::sub(cx, S::splat(0.25));
        let yy = S::mul(cy, cy);
        let q = S::add(S::mul(xq, xq), yy);
        S::le_mask(S::mul(q, S::add(q, xq)), S::mul(yy, S::splat(0.25)))
    }
}

/// [`disc`] of one point, for code that handles one lane at a time.
pub fn disc_at(cx: f64, cy: f64) -> (f64, f64, f64) {
    // SAFETY: the portable vector is plain Rust.
    let (px, py, bound) = unsafe { disc::<Portable>([cx; 4], [cy; 4]) };
    (px[0], py[0], bound[0])
}

/// [`maybe_in_cardioid`] of one point.
pub fn maybe_in_cardioid_at(cx: f64, cy: f64) -> bool {
    // SAFETY: the portable vector is plain Rust.
    unsafe { maybe_in_cardioid::<Portable>([cx; 4], [cy; 4]) & 1 == 1 }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::scalar::escape_time;

    fn disc(cx: f64, cy: f64) -> Option<(f64, f64, f64)> {
        let (px, py, bound) = super::disc_at(cx, cy);
        (bound >= 0.0).then_some((px, py, bound))
    }

    fn step(x: f64, y: f64, cx: f64, cy: f64) -> (f64, f64) {
        let xy = x * y;
        ((x * x - y * y) + cx, (xy + xy) + cy)
    }

    #[test]
    fn points_deep_inside_have_a_disc_and_points_outside_none() {
        for (cx, cy) in [
            (0.0, 0.0),
            (-0.1, 0.05),
            (-0.5, 0.3),
            (0.2, 0.0),
            (-0.7, 0.0),
        ] {
            assert!(disc(cx, cy).is_some(), "{cx} {cy}");
        }
        // Outside the cardioid: right of the cusp (where the square root's real part is 0 and
        // 0/0 appears), the period-2 bulb, the antenna, far away.
        for (cx, cy) in [
            (0.26, 0.0),
            (0.3, 0.0),
            (-1.0, 0.0),
            (-1.9, 0.0),
            (0.0, 1.0),
            (2.0, 2.0),
        ] {
            assert!(disc(cx, cy).is_none(), "{cx} {cy}");
        }
    }

    #[test]
    fn orbits_of_interior_points_enter_their_disc() {
        // c = -0.1 + 0.05i: the orbit from 0 is inside its disc within one block of steps.
        let (cx, cy) = (-0.1, 0.05);
        let (px, py, bound) = disc(cx, cy).unwrap();
        let (mut x, mut y) = (0.0, 0.0);
        for _ in 0..8 {
            (x, y) = step(x, y, cx, cy);
        }
        assert!((x - px).powi(2) + (y - py).powi(2) <= bound);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The claim itself: from any point of the disc, the rounded orbit stays in it (tested
        /// against the true radius q/2, a hair above the bound) and never escapes.
        #[test]
        fn the_disc_maps_into_itself(
            cx in -0.8f64..0.3, cy in -0.7f64..0.7,
            angle in 0.0f64..std::f64::consts::TAU, frac in 0.0f64..=1.0,
        ) {
            if let Some((px, py, bound)) = disc(cx, cy) {
                let radius = (bound / (1.0 - 1e-12)).sqrt();
                let start = (bound.sqrt() * frac).min(bound.sqrt());
                let (mut x, mut y) = (px + start * angle.cos(), py + start * angle.sin());
                for _ in 0..2000 {
                    (x, y) = step(x, y, cx, cy);
                    let d = ((x - px).powi(2) + (y - py).powi(2)).sqrt();
                    prop_assert!(d <= radius * (1.0 + 1e-9), "left the disc: {d} > {radius}");
                }
                prop_assert_eq!(escape_time(cx, cy, 5000), 5000);
            }
        }
    }
}
