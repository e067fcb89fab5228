//! Proven shortcuts for the main cardioid and the period-2 bulb: discs around the attracting
//! fixed point or 2-cycle that the kernel's rounded orbit, once inside, never leaves.
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
//! Let `0 < q <= 1 - 2|p|` and `r = 3q/4` ([`RADIUS`]). For `|w| <= r`:
//! `|z*z + c - p| <= |e| + r (2|p| + r) <= |e| + r (1 - q + r) = |e| + r - 3q*q/16`.
//! The kernel's step rounds four times on values below 1 in magnitude
//! (`|z| <= |p| + r <= 3/4 - |p|/2 < 1`, `|c| < 1`), which moves the result by less than
//! `d = 1e-15`. So when `|e| + d <= 3q*q/16`, the disc `|z - p| <= r` maps into itself under
//! the rounded step, and it lies inside `|z| < 1`: an orbit that enters it never reaches
//! `|z| >= 2`, and its count is max-iter.
//!
//! What is computed, each bound on the safe side by a margin far above its rounding error:
//! - `q = (1 - 2|p|) - 1e-15`, `|p|` being the rounded square root of the rounded `|p|²`,
//!   within 4e-16 of the true one (for `|p| < 1`), so `q <= 1 - 2|p|`.
//! - The disc is used only if `q > 0`, `t = 3q*q/32 - 1e-13 > 0` and the computed `|e|²` is at
//!   most `t*t`. The computed e is within 2e-15 of the true one (a few roundings on values
//!   below 2), so the true `|e| <= 3q*q/32 - 9e-14`, and `|e| + d <= 3q*q/16` with room to
//!   spare.
//! - A lane is inside the disc when the computed `|z - p|²` is at most
//!   `9q*q/16 * (1 - 1e-12)`: the computed square distance is within a relative 1e-15 of the
//!   true one, so the true `|z - p| < r`.
//!
//! Comparisons are ordered: a NaN anywhere (e.g. `0/0` on the real axis right of 1/4) means
//! no disc.
//!
//! The period-2 bulb gets a pair of discs that the step swaps. Its points c have an
//! attracting 2-cycle a, b (`a + b = -1`, `a*b = c + 1`, `4|c + 1| < 1`). With a and b any
//! complex numbers (computed as `(-1 ± sqrt(-3 - 4c)) / 2`), `e_a = a*a + c - b` and
//! `e_b = b*b + c - a`, the same algebra gives, for `|z - a| <= ra`,
//! `|z*z + c - b| <= |e_a| + ra (2|a| + ra)`, and for `|z - b| <= rb`,
//! `|z*z + c - a| <= |e_b| + rb (2|b| + rb)`. So if, with the rounding `d` of a step (below
//! 1e-14 for `|z| < 2`, `|c| < 2`),
//!
//! ```text
//!   |e_a| + ra (2|a| + ra) + d <= rb   and   |e_b| + rb (2|b| + rb) + d <= ra,
//! ```
//!
//! and both discs lie inside `|z| < 2`, an orbit in either disc stays in their union and never
//! escapes. The radii are chosen (`ra = (1 - 4|a||b|) / (2 (2|a| + 2|b| + 1))`, `rb` the
//! smallest the first inequality allows), then the inequalities are checked in doubles on
//! upper bounds: every `|.|` is a rounded square root raised by a relative 1e-12 and, for the
//! residuals, 1e-14; `d` is taken as 1e-13; `rb` is raised by a relative 1e-9, and the second
//! inequality must hold with `ra` lowered by a relative 1e-9. Those margins are far above the
//! relative rounding (a few 1e-16) of the handful of operations on non-negative values that
//! compute each side. The lanes' test is as for the cardioid's disc.

use super::portable::Portable;
use super::simd::Simd;

/// The main-cardioid disc's radius as a fraction of `q` (module comment). A wider disc traps
/// orbits sooner but leaves less room (`RADIUS * (1 - RADIUS) * q*q`) for the error of p and
/// for sharing the disc along a row: 3/4 took 1.8% fewer instructions than 1/2 on the
/// Benchmarks Game view (2000², cachegrind) and 0.6-4% fewer at max-iter 1000 to 20000, and
/// 7/8 was no better.
const RADIUS: f64 = 0.75;
/// `RADIUS * (1 - RADIUS)`, exact in binary.
const ROOM: f64 = RADIUS * (1.0 - RADIUS);

/// A disc: its centre (x, y) and the bound that [`inside`] tests the square distance from it
/// against, -1 (nothing is inside) where no disc is proven.
pub type Disc<V> = (V, V, V);

/// The main-cardioid construction for a vector of points `c`: the centre p, q, `t` and the
/// computed `|e|²` of the module comment.
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
unsafe fn cardioid_parts<S: Simd>(cx: S::V, cy: S::V) -> [S::V; 5] {
    // SAFETY: passed on from the caller.
    unsafe {
        let (half, one, four) = (S::splat(0.5), S::splat(1.0), S::splat(4.0));
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
        let t = S::sub(S::mul(S::mul(q, q), S::splat(0.5 * ROOM)), S::splat(1e-13));
        [px, py, q, t, e2]
    }
}

/// The bound [`inside`] tests against for a disc of radius `RADIUS * q`.
#[inline(always)]
unsafe fn radius_bound<S: Simd>(q: S::V) -> S::V {
    // SAFETY: passed on from the caller.
    unsafe {
        S::mul(
            S::mul(S::mul(q, q), S::splat(RADIUS * RADIUS)),
            S::splat(1.0 - 1e-12),
        )
    }
}

/// The main-cardioid disc of a vector of points `c`.
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
unsafe fn cardioid_disc<S: Simd>(cx: S::V, cy: S::V) -> Disc<S::V> {
    // SAFETY: passed on from the caller.
    unsafe {
        let [px, py, q, t, e2] = cardioid_parts::<S>(cx, cy);
        let none = S::splat(-1.0);
        let tiny = S::splat(f64::MIN_POSITIVE);
        let bound = S::select_ge(q, tiny, radius_bound::<S>(q), none);
        let bound = S::select_ge(t, tiny, bound, none);
        let bound = S::select_ge(S::mul(t, t), e2, bound, none);
        (px, py, bound)
    }
}

/// Trap discs proven for a stretch of one row: for every point whose imaginary part is `cy`
/// and whose real part lies in `lo..=hi` (see [`cardioid_row_disc`], [`bulb_row_discs`]).
#[derive(Clone, Copy, Debug)]
pub struct RowDiscs {
    pub cy: f64,
    pub lo: f64,
    pub hi: f64,
    /// A main-cardioid disc and none, or the period-2 bulb's pair.
    pub discs: [Disc<f64>; 2],
}

/// A disc that nothing is inside.
pub const NO_DISC: Disc<f64> = (0.0, 0.0, -1.0);

impl RowDiscs {
    /// Covers no point.
    pub const NONE: RowDiscs = RowDiscs {
        cy: f64::NAN,
        lo: f64::INFINITY,
        hi: f64::NEG_INFINITY,
        discs: [NO_DISC; 2],
    };

    /// Whether the discs are proven for every point of row `cy` with real part in
    /// `first..=last`.
    pub fn covers(&self, cy: f64, first: f64, last: f64) -> bool {
        cy == self.cy && self.lo <= first && last <= self.hi
    }
}

/// The main-cardioid disc of the point `(cx, cy)`, shared with the points of its row within
/// a reach of it: None where the point has no disc, or one with no room to share.
///
/// Why it holds for a point `c' = c + δ` (δ real) of the row: with p, q and e those of c,
/// `z*z + c' - p = (e + δ) + w (2p + w)`, so the module comment's argument goes through with
/// `e + δ` in place of e (and `|c'| < 1` still: `|c| < 3/4` in the cardioid, `|δ| < 1/4`); it
/// needs `|e + δ| + d <= 3q*q/16`. The computed e is within 2e-15 of the true one, and the
/// computed `|e|` (the square root of its rounded square) within a relative 1e-15 of that, so
/// with the reach `(3q*q/16 - 1e-13) - sqrt(|e|²) (1 + 1e-12) - 1e-14`, every `|δ|` up to it
/// (plus 3e-16, the rounding of `lo` and `hi` at these magnitudes) leaves `|e + δ| + d` below
/// `3q*q/16` by more than 1e-14.
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn cardioid_row_disc<S: Simd>(cx: f64, cy: f64) -> Option<RowDiscs> {
    let mut lanes = [[0.0f64; 8]; 5];
    // SAFETY: each store writes `S::LANES <= 8` doubles; the caller vouches for the ISA.
    unsafe {
        let parts = cardioid_parts::<S>(S::splat(cx), S::splat(cy));
        for (lane, part) in lanes.iter_mut().zip(parts) {
            S::store(lane.as_mut_ptr(), part);
        }
    }
    let [px, py, q, t, e2] = lanes.map(|lane| lane[0]);
    let reach = (q * q * ROOM - 1e-13) - e2.sqrt() * (1.0 + 1e-12) - 1e-14;
    // Ordered comparisons: NaN anywhere means no disc.
    if !(q >= f64::MIN_POSITIVE && t >= f64::MIN_POSITIVE && reach > 0.0) {
        return None;
    }
    // SAFETY: the portable vector is plain Rust.
    let [bound, ..] = unsafe { radius_bound::<Portable>([q; 4]) };
    Some(RowDiscs {
        cy,
        lo: cx - reach,
        hi: cx + reach,
        discs: [(px, py, bound), NO_DISC],
    })
}

/// The period-2 bulb's pair of discs of the point `(cx, cy)`, shared with the points of its
/// row within a reach of it, the reach being the largest of `half * 4^i` (one per lane) for
/// which the pair can be proven: None where not even `half` is possible.
///
/// Why it holds for a point `c' = c + δ` (δ real) of the row: with a and b those of c,
/// `a*a + c' - b = e_a + δ` and `b*b + c' - a = e_b + δ`, so the module comment's
/// inequalities, checked with `|e_a| + s` and `|e_b| + s` for upper bounds of the residuals,
/// hold for every `|δ| <= s`; the discs' centres and their distance from 0 do not depend on δ,
/// and `|c'| < 2` still. The stretch is `s - 1e-14` either side: the margin covers the
/// rounding of `lo` and `hi` (below 3e-16 at these magnitudes).
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn bulb_row_discs<S: Simd>(cx: f64, cy: f64, half: f64) -> Option<RowDiscs> {
    let mut slack = [0.0f64; 8];
    for (i, s) in slack.iter_mut().enumerate().take(S::LANES) {
        *s = half * f64::from(1u32 << (2 * i)) + 1e-14;
    }
    let mut lanes = [[0.0f64; 8]; 6];
    // SAFETY: each load and store covers `S::LANES <= 8` doubles; the caller vouches for the
    // ISA.
    unsafe {
        let [(ax, ay, bound_a), (bx, by, bound_b)] =
            bulb_discs::<S>(S::splat(cx), S::splat(cy), S::load(slack.as_ptr()));
        for (lane, v) in lanes.iter_mut().zip([ax, ay, bound_a, bx, by, bound_b]) {
            S::store(lane.as_mut_ptr(), v);
        }
    }
    let [ax, ay, bound_a, bx, by, bound_b] = lanes;
    // The slack grows with the lane, and a larger one is never easier to prove.
    let widest = (0..S::LANES)
        .rev()
        .find(|&i| bound_a[i] >= 0.0 && bound_b[i] >= 0.0)?;
    let reach = slack[widest] - 1e-14;
    Some(RowDiscs {
        cy,
        lo: cx - reach,
        hi: cx + reach,
        discs: [
            (ax[widest], ay[widest], bound_a[widest]),
            (bx[widest], by[widest], bound_b[widest]),
        ],
    })
}

/// The period-2 bulb's pair of discs of a vector of points `c`, around a and around b, with
/// `slack` added to both residuals (see [`bulb_row_discs`]; zero for the points themselves).
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
unsafe fn bulb_discs<S: Simd>(cx: S::V, cy: S::V, slack: S::V) -> [Disc<S::V>; 2] {
    // SAFETY: passed on from the caller.
    unsafe {
        let (zero, half, one, two) = (S::splat(0.0), S::splat(0.5), S::splat(1.0), S::splat(2.0));
        let none = S::splat(-1.0);
        // (Helpers are functions, not closures: a closure would not get the target features
        // of the shim that inlines this, and its every intrinsic would become a call.)
        // sqrt(-3 - 4c), principal branch, from real square roots.
        let wx = S::sub(S::splat(-3.0), S::mul(S::splat(4.0), cx));
        let wy = S::sub(zero, S::mul(S::splat(4.0), cy));
        let m = S::sqrt(S::add(S::mul(wx, wx), S::mul(wy, wy)));
        let sx = S::sqrt(S::mul(S::add(m, wx), half));
        let sy = S::div(wy, S::add(sx, sx));
        let (ax, ay) = (S::mul(S::sub(sx, one), half), S::mul(sy, half));
        let (bx, by) = (
            S::mul(S::sub(S::sub(zero, one), sx), half),
            S::sub(zero, ay),
        );
        let (ea, eb) = (
            S::add(residual::<S>(ax, ay, bx, by, cx, cy), slack),
            S::add(residual::<S>(bx, by, ax, ay, cx, cy), slack),
        );
        let (a_abs, b_abs) = (abs_above::<S>(ax, ay), abs_above::<S>(bx, by));
        let (a2, b2) = (S::mul(two, a_abs), S::mul(two, b_abs));
        let d = S::splat(1e-13);
        let ra = S::div(
            S::sub(one, S::mul(a2, b2)),
            S::mul(two, S::add(S::add(a2, b2), one)),
        );
        let rb = S::mul(
            S::add(S::add(ea, d), S::mul(ra, S::add(a2, ra))),
            S::splat(1.0 + 1e-9),
        );
        let need = S::add(S::add(eb, d), S::mul(rb, S::add(b2, rb)));
        let ok = S::select_ge(ra, S::splat(f64::MIN_POSITIVE), one, none);
        let ok = S::select_ge(S::mul(ra, S::splat(1.0 - 1e-9)), need, ok, none);
        let limit = S::splat(1.9);
        let ok = S::select_ge(limit, S::add(a_abs, ra), ok, none);
        let ok = S::select_ge(limit, S::add(b_abs, rb), ok, none);
        let shrink = S::splat(1.0 - 1e-12);
        let bound_a = S::select_ge(ok, zero, S::mul(S::mul(ra, ra), shrink), none);
        let bound_b = S::select_ge(ok, zero, S::mul(S::mul(rb, rb), shrink), none);
        [(ax, ay, bound_a), (bx, by, bound_b)]
    }
}

/// An upper bound on `|(x, y)|`.
#[inline(always)]
unsafe fn abs_above<S: Simd>(x: S::V, y: S::V) -> S::V {
    // SAFETY: passed on from the caller.
    unsafe {
        S::mul(
            S::sqrt(S::add(S::mul(x, x), S::mul(y, y))),
            S::splat(1.0 + 1e-12),
        )
    }
}

/// An upper bound on `|u*u + c - v|`.
#[inline(always)]
unsafe fn residual<S: Simd>(ux: S::V, uy: S::V, vx: S::V, vy: S::V, cx: S::V, cy: S::V) -> S::V {
    // SAFETY: passed on from the caller.
    unsafe {
        let ex = S::sub(S::add(S::sub(S::mul(ux, ux), S::mul(uy, uy)), cx), vx);
        let xy = S::mul(ux, uy);
        let ey = S::sub(S::add(S::add(xy, xy), cy), vy);
        S::add(abs_above::<S>(ex, ey), S::splat(1e-14))
    }
}

/// The discs of a vector of points: for a point of the main cardioid its disc and none, for
/// one of the period-2 bulb its pair, for any other none. `cardioid` and `bulb` say whether any
/// lane may lie in either (the other half of the work is skipped).
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn discs<S: Simd>(cx: S::V, cy: S::V, cardioid: bool, bulb: bool) -> [Disc<S::V>; 2] {
    // SAFETY: passed on from the caller.
    unsafe {
        let (zero, none) = (S::splat(0.0), S::splat(-1.0));
        let mut first = (zero, zero, none);
        if cardioid {
            first = cardioid_disc::<S>(cx, cy);
        }
        let mut second = (zero, zero, none);
        if bulb {
            let [(ax, ay, bound_a), pair_b] = bulb_discs::<S>(cx, cy, zero);
            // No point has both; where the pair is proven, it replaces the (absent) disc.
            first = (
                S::select_ge(bound_a, zero, ax, first.0),
                S::select_ge(bound_a, zero, ay, first.1),
                S::select_ge(bound_a, zero, bound_a, first.2),
            );
            second = pair_b;
        }
        [first, second]
    }
}

/// Bit i set when lane i's z lies in its disc (ordered: never for NaN).
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn inside<S: Simd>(x: S::V, y: S::V, (px, py, bound): Disc<S::V>) -> u32 {
    // SAFETY: passed on from the caller.
    unsafe {
        let (dx, dy) = (S::sub(x, px), S::sub(y, py));
        S::le_mask(S::add(S::mul(dx, dx), S::mul(dy, dy)), bound)
    }
}

/// `disc` in every lane.
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn splat_disc<S: Simd>((x, y, bound): Disc<f64>) -> Disc<S::V> {
    // SAFETY: passed on from the caller.
    unsafe { (S::splat(x), S::splat(y), S::splat(bound)) }
}

/// Whether z = (x, y) lies in `disc`: [`inside`] for one lane.
pub fn inside_one(x: f64, y: f64, (px, py, bound): Disc<f64>) -> bool {
    // SAFETY: the portable vector is plain Rust.
    unsafe { inside::<Portable>([x; 4], [y; 4], ([px; 4], [py; 4], [bound; 4])) & 1 == 1 }
}

/// Bit i set when lane i's point may lie in the main cardioid (the textbook test, without
/// any rounding analysis): only tiles with such a lane pay for [`cardioid_disc`].
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

/// Whether a stretch of row `cy`, real parts `lo..=hi`, may meet the main cardioid: its
/// bounding box `[-3/4, 3/8] x [-3√3/8, 3√3/8]`, with room.
pub fn may_touch_cardioid(cy: f64, lo: f64, hi: f64) -> bool {
    cy.abs() <= 0.66 && hi >= -0.76 && lo <= 0.38
}

/// Whether a stretch of row `cy`, real parts `lo..=hi`, may meet the disc that
/// [`maybe_in_bulb`] tests.
pub fn may_touch_bulb(cy: f64, lo: f64, hi: f64) -> bool {
    cy.abs() <= 0.26 && hi >= -1.26 && lo <= -0.74
}

/// Bit i set when lane i's point may lie in the period-2 bulb `|c + 1| < 1/4` (with room):
/// only tiles with such a lane pay for [`bulb_discs`].
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn maybe_in_bulb<S: Simd>(cx: S::V, cy: S::V) -> u32 {
    // SAFETY: passed on from the caller.
    unsafe {
        let xq = S::add(cx, S::splat(1.0));
        S::le_mask(S::add(S::mul(xq, xq), S::mul(cy, cy)), S::splat(0.0626))
    }
}

/// As [`discs_at`], for points taken along rows `dx` apart: a point of the main cardioid or
/// the period-2 bulb gets the row discs cached in `row` where they cover it, else ones built
/// for it (and cached in their place), so that most points cost a comparison instead of
/// square roots and divisions.
pub fn discs_along(cx: f64, cy: f64, dx: f64, row: &mut RowDiscs) -> Option<[Disc<f64>; 2]> {
    if !row.covers(cy, cx, cx) {
        let (vx, vy) = ([cx; 4], [cy; 4]);
        // SAFETY: the portable vector is plain Rust.
        let shared = unsafe {
            let cardioid = maybe_in_cardioid::<Portable>(vx, vy) & 1 == 1;
            let bulb = maybe_in_bulb::<Portable>(vx, vy) & 1 == 1;
            let shared = if cardioid {
                cardioid_row_disc::<Portable>(cx, cy)
            } else {
                None
            };
            match shared {
                None if bulb => bulb_row_discs::<Portable>(cx, cy, dx),
                shared => shared,
            }
        };
        // Without row discs the point has none of its own either, but for a bulb pair that
        // can be proven with no room at all to share.
        match shared {
            Some(shared) => *row = shared,
            None => return discs_at(cx, cy),
        }
    }
    Some(row.discs)
}

/// [`discs`] of one point, for code that handles one lane at a time; None where the point
/// lies in neither component.
pub fn discs_at(cx: f64, cy: f64) -> Option<[Disc<f64>; 2]> {
    let (vx, vy) = ([cx; 4], [cy; 4]);
    // SAFETY: the portable vector is plain Rust.
    unsafe {
        let cardioid = maybe_in_cardioid::<Portable>(vx, vy) & 1 == 1;
        let bulb = maybe_in_bulb::<Portable>(vx, vy) & 1 == 1;
        if !(cardioid || bulb) {
            return None;
        }
        let lane0 = |(x, y, bound): Disc<[f64; 4]>| (x[0], y[0], bound[0]);
        let [first, second] = discs::<Portable>(vx, vy, cardioid, bulb);
        Some([lane0(first), lane0(second)])
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::scalar::escape_time;
    use super::{Disc, Portable};

    fn proven(disc: Disc<f64>) -> bool {
        disc.2 >= 0.0
    }

    /// The point's main-cardioid disc, if it has one (and no bulb pair).
    fn cardioid(cx: f64, cy: f64) -> Option<Disc<f64>> {
        let [first, second] = super::discs_at(cx, cy)?;
        (proven(first) && !proven(second)).then_some(first)
    }

    /// The point's pair of period-2 discs, if it has one.
    fn bulb(cx: f64, cy: f64) -> Option<[Disc<f64>; 2]> {
        let [first, second] = super::discs_at(cx, cy)?;
        assert!(proven(first) || !proven(second), "half a pair");
        proven(second).then_some([first, second])
    }

    fn step(x: f64, y: f64, cx: f64, cy: f64) -> (f64, f64) {
        let xy = x * y;
        ((x * x - y * y) + cx, (xy + xy) + cy)
    }

    /// Whether z lies in the disc whose bound is `bound`, given the true radius: the bound
    /// less its safety margin, with a hair of room for this test's own rounding.
    fn in_disc(x: f64, y: f64, (px, py, bound): Disc<f64>) -> bool {
        let radius = (bound / (1.0 - 1e-12)).sqrt();
        ((x - px).powi(2) + (y - py).powi(2)).sqrt() <= radius * (1.0 + 1e-9)
    }

    #[test]
    fn which_points_have_discs() {
        for (cx, cy) in [
            (0.0, 0.0),
            (-0.1, 0.05),
            (-0.5, 0.3),
            (0.2, 0.0),
            (-0.7, 0.0),
        ] {
            assert!(cardioid(cx, cy).is_some(), "{cx} {cy}");
            assert!(bulb(cx, cy).is_none(), "{cx} {cy}");
        }
        for (cx, cy) in [(-1.0, 0.0), (-1.1, 0.1), (-0.9, -0.15), (-1.2, 0.0)] {
            assert!(bulb(cx, cy).is_some(), "{cx} {cy}");
        }
        // Outside both: right of the cusp (where the square root's real part is 0 and 0/0
        // appears), where cardioid and bulb touch, the bulb's far edge, the antenna, far away.
        for (cx, cy) in [
            (0.26, 0.0),
            (0.3, 0.0),
            (-0.75, 0.0),
            (-1.25, 0.0),
            (-1.3, 0.0),
            (-1.9, 0.0),
            (0.0, 1.0),
            (2.0, 2.0),
        ] {
            let discs = super::discs_at(cx, cy);
            assert!(
                discs.is_none_or(|d| d.iter().all(|&d| !proven(d))),
                "{cx} {cy}"
            );
        }
    }

    /// The row disc built for `(cx, cy)`, if any.
    fn row_disc(cx: f64, cy: f64) -> Option<super::RowDiscs> {
        // SAFETY: the portable vector is plain Rust.
        unsafe { super::cardioid_row_disc::<super::Portable>(cx, cy) }
    }

    #[test]
    fn which_points_have_row_discs() {
        for (cx, cy) in [(0.0, 0.0), (-0.1, 0.05), (-0.5, 0.3), (0.2, 0.0)] {
            let shared = row_disc(cx, cy).unwrap();
            // The point's own disc, shared over a stretch around it, and never the others'.
            assert_eq!(Some(shared.discs[0]), cardioid(cx, cy), "{cx} {cy}");
            assert!(!proven(shared.discs[1]));
            assert!(shared.lo < cx && cx < shared.hi);
            assert!(shared.covers(cy, shared.lo, shared.hi));
            assert!(!shared.covers(cy, shared.lo, shared.hi.next_up()));
            assert!(!shared.covers(cy, shared.lo.next_down(), shared.hi));
            assert!(!shared.covers(cy.next_up(), cx, cx));
        }
        // Deeper inside, more room.
        let reach = |cx, cy| row_disc(cx, cy).map(|shared| shared.hi - cx).unwrap();
        assert!(reach(0.0, 0.0) > reach(-0.5, 0.3));
        for (cx, cy) in [
            (0.26, 0.0),
            (-0.75, 0.0),
            (-1.0, 0.0),
            (0.0, 1.0),
            (2.0, 2.0),
        ] {
            assert!(row_disc(cx, cy).is_none(), "{cx} {cy}");
        }
        assert!(!super::RowDiscs::NONE.covers(0.0, 0.0, 0.0));
    }

    /// The bulb's row discs built for `(cx, cy)` with `half` the narrowest reach, if any.
    fn bulb_row(cx: f64, cy: f64, half: f64) -> Option<super::RowDiscs> {
        // SAFETY: the portable vector is plain Rust.
        unsafe { super::bulb_row_discs::<super::Portable>(cx, cy, half) }
    }

    #[test]
    fn which_points_have_bulb_row_discs() {
        for (cx, cy) in [(-1.0, 0.0), (-1.1, 0.1), (-0.9, -0.15), (-1.2, 0.0)] {
            let shared = bulb_row(cx, cy, 1e-6).unwrap();
            assert!(shared.discs.iter().all(|&d| proven(d)), "{cx} {cy}");
            // The point's own pair has the same centres and first radius; the second radius
            // is the smallest the first allows, so it grows with the reach.
            let own = bulb(cx, cy).unwrap();
            assert_eq!(shared.discs[0], own[0]);
            let (s, o) = (shared.discs[1], own[1]);
            assert!((s.0, s.1) == (o.0, o.1) && s.2 >= o.2);
            // The reach is one of the candidates, 1e-6 times a power of 4.
            let reach = shared.hi - cx;
            let power = (reach / 1e-6).log(4.0);
            assert!((power - power.round()).abs() < 1e-6, "{reach}");
            assert!(shared.lo < cx && shared.covers(cy, shared.lo, shared.hi));
        }
        // Deep inside, the widest candidate; near the edge, a narrower one or none.
        let reach = |cx: f64, cy, half| bulb_row(cx, cy, half).map(|shared| shared.hi - cx);
        assert!((reach(-1.0, 0.0, 1e-6).unwrap() - 64e-6).abs() < 1e-12);
        assert!(reach(-1.0, 0.0, 1e-3).unwrap() < 60e-3);
        for (cx, cy) in [
            (-0.75, 0.0),
            (-1.25, 0.0),
            (-1.3, 0.0),
            (0.0, 0.0),
            (-1.0, 0.3),
        ] {
            assert!(bulb_row(cx, cy, 1e-6).is_none(), "{cx} {cy}");
        }
    }

    #[test]
    fn points_along_a_row_share_its_disc() {
        for cy in [0.3, 0.1] {
            points_along_a_row_share_discs_at(cy);
        }
    }

    fn points_along_a_row_share_discs_at(cy: f64) {
        let mut row = super::RowDiscs::NONE;
        // Along the row through the cardioid (and at 0.1 the bulb), from outside and back.
        let mut built = 0;
        for i in 0..=2000 {
            let cx = -1.3 + f64::from(i) * 0.001;
            let before = row.discs;
            let along = super::discs_along(cx, cy, 0.001, &mut row);
            if row.covers(cy, cx, cx) {
                // The cached discs, proven for this point.
                assert_eq!(along, Some(row.discs), "{cx}");
                built += usize::from(row.discs != before);
            } else {
                assert_eq!(along, super::discs_at(cx, cy), "{cx}");
            }
        }
        // Far fewer discs built than points given one.
        assert!((1..400).contains(&built), "{built} discs");
        // A point of another row is not covered, and gets its own row's disc.
        let (cx, other) = (0.0, cy - 0.2);
        let [disc, _] = super::discs_along(cx, other, 0.001, &mut row).unwrap();
        assert!(row.covers(other, cx, cx) && !row.covers(cy, cx, cx));
        assert_eq!(Some(disc), cardioid(cx, other));
    }

    #[test]
    fn orbits_of_interior_points_enter_their_discs() {
        for (cx, cy) in [(-0.1, 0.05), (-1.05, 0.05)] {
            let [first, second] = super::discs_at(cx, cy).unwrap();
            let (mut x, mut y) = (0.0, 0.0);
            for _ in 0..8 {
                (x, y) = step(x, y, cx, cy);
            }
            assert!(in_disc(x, y, first) || in_disc(x, y, second), "{cx} {cy}");
        }
    }

    /// From a point of `discs[first]` (`frac` of its radius out, at `angle`), the rounded
    /// orbit of `c` visits the discs in turn for 2,000 steps, and `c`'s count is max-iter.
    fn orbit_keeps_to(
        discs: &[Disc<f64>],
        first: usize,
        angle: f64,
        frac: f64,
        (cx, cy): (f64, f64),
    ) -> Result<(), TestCaseError> {
        let mut which = first;
        let disc = discs[which];
        let start = disc.2.sqrt() * frac;
        let (mut x, mut y) = (disc.0 + start * angle.cos(), disc.1 + start * angle.sin());
        for _ in 0..2000 {
            (x, y) = step(x, y, cx, cy);
            which = (which + 1) % discs.len();
            prop_assert!(in_disc(x, y, discs[which]), "left at {x} {y} for {cx} {cy}");
        }
        prop_assert_eq!(escape_time(cx, cy, 5000), 5000);
        Ok(())
    }

    /// The point of `shared`'s stretch `along` (-1 to 1) from `cx` to its ends, which are drawn
    /// often.
    fn along_stretch(shared: &super::RowDiscs, cx: f64, along: f64) -> f64 {
        let reach = shared.hi - cx;
        (cx + along.clamp(-0.9, 0.9) / 0.9 * reach).clamp(shared.lo, shared.hi)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The claim itself for the cardioid: from any point of the disc, the rounded orbit
        /// stays in it and never escapes.
        #[test]
        fn the_cardioid_disc_maps_into_itself(
            cx in -0.8f64..0.3, cy in -0.7f64..0.7,
            angle in 0.0f64..std::f64::consts::TAU, frac in 0.0f64..=1.0,
        ) {
            if let Some(disc) = cardioid(cx, cy) {
                orbit_keeps_to(&[disc], 0, angle, frac, (cx, cy))?;
            }
        }

        /// And for the bulb: from any point of either disc, the orbit alternates between them.
        #[test]
        fn the_bulb_discs_swap(
            cx in -1.3f64..-0.7, cy in -0.3f64..0.3, from_b: bool,
            angle in 0.0f64..std::f64::consts::TAU, frac in 0.0f64..=1.0,
        ) {
            if let Some(pair) = bulb(cx, cy) {
                orbit_keeps_to(&pair, usize::from(from_b), angle, frac, (cx, cy))?;
            }
        }

        /// The claim for a row disc: for every point of its stretch of the row, from any
        /// point of the disc, the rounded orbit stays in it.
        #[test]
        fn the_row_disc_maps_into_itself_along_its_stretch(
            cx in -0.8f64..0.3, cy in -0.7f64..0.7, along in -1.0f64..=1.0,
            angle in 0.0f64..std::f64::consts::TAU, frac in 0.0f64..=1.0,
        ) {
            if let Some(shared) = row_disc(cx, cy) {
                let at = along_stretch(&shared, cx, along);
                prop_assert!(shared.covers(cy, at, at));
                orbit_keeps_to(&shared.discs[..1], 0, angle, frac, (at, cy))?;
            }
        }

        /// The bounding boxes that spare tiles the component tests hold every point that
        /// passes those tests: a box too small would only lose shortcuts, silently.
        #[test]
        fn the_boxes_hold_every_point_the_component_tests_pass(
            cx in -1.3f64..0.4, cy in -0.7f64..0.7,
        ) {
            // SAFETY: the portable vector is plain Rust.
            let (cardioid, bulb) = unsafe {
                (
                    super::maybe_in_cardioid::<Portable>([cx; 4], [cy; 4]) & 1 == 1,
                    super::maybe_in_bulb::<Portable>([cx; 4], [cy; 4]) & 1 == 1,
                )
            };
            prop_assert!(!cardioid || super::may_touch_cardioid(cy, cx, cx), "{cx} {cy}");
            prop_assert!(!bulb || super::may_touch_bulb(cy, cx, cx), "{cx} {cy}");
        }

        /// And for the bulb's row discs: for every point of their stretch of the row, from any
        /// point of either disc, the orbit alternates between them.
        #[test]
        fn the_bulb_row_discs_swap_along_their_stretch(
            cx in -1.3f64..-0.7, cy in -0.3f64..0.3, half_log in -9.0f64..-1.0,
            along in -1.0f64..=1.0, from_b: bool,
            angle in 0.0f64..std::f64::consts::TAU, frac in 0.0f64..=1.0,
        ) {
            if let Some(shared) = bulb_row(cx, cy, 10f64.powf(half_log)) {
                let at = along_stretch(&shared, cx, along);
                prop_assert!(shared.covers(cy, at, at));
                orbit_keeps_to(&shared.discs, usize::from(from_b), angle, frac, (at, cy))?;
            }
        }
    }
}
