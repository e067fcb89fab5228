//! Bivariate approximation (BLA; Zhuoran, 2021, here carried to second order): where a
//! pixel's delta is small beside the reference, `l` perturbation steps
//! `δ ← 2·Z_m·δ + δ² + δc` are, to a relative error below [`EPSILON`] a step, the one map
//! `δ ← A·δ + B·δc + C·δ² + D·δ·δc + E·δc²`. One step is that map exactly (`A = 2·Z_m`,
//! `B = C = 1`); two neighbouring maps compose into one, dropping the terms of third order and
//! above, level by level, so that a pixel skips up to `2^k` steps with a few complex
//! multiply-adds. The quadratic terms matter because pixels leave the reference slowly: a
//! linear map holds only while `|δ|` is below `EPSILON·|Z|`, a quadratic one while the cubic
//! terms are, about `√EPSILON·|Z|`, which skips most of the steps in between. The
//! coefficients are [`ComplexExp`]s: at depth `A` outgrows a double's range as fast as `δ`
//! leaves it.

use crate::floatexp::{ComplexExp, FloatExp};
use crate::orbit::ReferenceOrbit;
use crate::perturb::Offset;

/// The largest relative error a skip may add per step it stands for: each composition drops
/// at most half of this of the delta it returns, where perturbation's own rounding moves it
/// by 2^-53. A skip is an approximation, and this trades its accuracy for its length. Some
/// pixels' counts change when their `c` moves by a billionth of a pixel (found in seahorse
/// valley at 1e16, tested in the command's integration tests); `docs/deep-zoom.md` has the
/// sweep of this constant against direct iteration.
pub const EPSILON: f64 = 1.0 / (1u64 << 48) as f64;

/// How far a delta may be from the reference, as a fraction of `|Z_m|`, for a step from
/// `Z_m` to be part of a skip: far enough inside `|Z_m|` that the pixel can neither need a
/// rebase (`|Z_m + δ| < |δ|`) nor escape before the skip lands, where the loop checks both.
const STEP_REACH: f64 = 1.0 / 256.0;

/// The largest share of a map's linear coefficient `A` that its quadratic terms may add to
/// its derivative over the deltas it takes, so that an error coming into it grows by at most
/// that much more than `A` says.
const BEND: f64 = 1.0 / 64.0;

/// The shortest skip the table keeps: 2^[`MIN_LEVEL`] steps. A skip costs the lanes some
/// hundred plain steps: it stops every lane's run of plain steps, and then climbs the levels
/// and takes its multiply-adds in [`ComplexExp`]. So shorter skips lose time: at 256² in one
/// run (AVX-512 lanes, linear maps), a shortest skip of 32 steps took 1.22× the time of 128
/// on KF2's "1e50", 1.07× on "5e113" and 1.13× on "5e227"; one of 256 steps took 1.03×,
/// 1.07× and 1.02×.
const MIN_LEVEL: u32 = 7;

/// A map's coefficients: `δ ← A·δ + B·δc + C·δ² + D·δ·δc + E·δc²`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Coefficients {
    a: ComplexExp,
    b: ComplexExp,
    c: ComplexExp,
    d: ComplexExp,
    e: ComplexExp,
}

impl Coefficients {
    /// `x` then `y`: `y`'s map of `x`'s, to second order in `δ` and `δc`.
    fn then(&self, y: &Coefficients) -> Coefficients {
        let x = self;
        let two = ComplexExp::from_f64((2.0, 0.0));
        Coefficients {
            a: y.a * x.a,
            b: y.a * x.b + y.b,
            c: y.a * x.c + y.c * (x.a * x.a),
            d: y.a * x.d + y.c * (x.a * x.b) * two + y.d * x.a,
            e: y.a * x.e + y.c * (x.b * x.b) + y.d * x.b + y.e,
        }
    }

    /// [`Coefficients::then`] with `y` the single step from `Z_m` (`A = 2·Z_m`, `B = C = 1`,
    /// `D = E = 0`), without the products by 1 and 0: the table's shortest maps are chains
    /// of these.
    fn then_step(&self, two_z: ComplexExp) -> Coefficients {
        let x = self;
        let one = ComplexExp::from_f64((1.0, 0.0));
        let two = ComplexExp::from_f64((2.0, 0.0));
        Coefficients {
            a: two_z * x.a,
            b: two_z * x.b + one,
            c: two_z * x.c + x.a * x.a,
            d: two_z * x.d + (x.a * x.b) * two,
            e: two_z * x.e + x.b * x.b,
        }
    }

    /// The coefficients' sizes.
    fn sizes(&self) -> Sizes {
        Sizes {
            a: self.a.abs(),
            b: self.b.abs(),
            c: self.c.abs(),
            d: self.d.abs(),
            e: self.e.abs(),
        }
    }
}

/// The sizes of a map's coefficients, for its radius.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    a: FloatExp,
    b: FloatExp,
    c: FloatExp,
    d: FloatExp,
    e: FloatExp,
}

/// One map while the table is built: `l` steps from `Z_m`, valid for `|δ| < r`.
#[derive(Debug, Clone, Copy)]
struct Map {
    k: Coefficients,
    sizes: Sizes,
    r: FloatExp,
}

/// The maps of one reference orbit for one picture: for every level `k` from
/// [`MIN_LEVEL`], the maps of the `2^k` steps from `Z_{1 + i·2^k}`, each with its validity
/// radius, which depends on the picture's largest `|δc|`. About one map for every 64
/// reference steps in all (144 bytes each).
#[derive(Debug, Clone)]
pub struct BlaTable {
    /// The maps' coefficients, level by level.
    levels: Vec<Vec<Coefficients>>,
    /// The maps' squared radii, level by level, apart from the coefficients: a climb tests
    /// one map of every level and takes only the last.
    radii: Vec<Vec<FloatExp>>,
    /// The same as doubles rounded down (0 below their range): the test for a delta in
    /// doubles.
    radii_double: Vec<Vec<f64>>,
    /// For every m, the squared radius of the shortest map from `Z_m` rounded up to a
    /// double (0 where none starts): a test in doubles that passes wherever a skip may open.
    open: Vec<f64>,
    last: usize,
}

/// A skip a pixel may take: `steps` iterations by one map.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Skip {
    k: Coefficients,
    pub steps: u32,
}

impl Skip {
    /// The delta after the skip, for the pixel at `c`.
    #[inline]
    pub fn apply(&self, delta: ComplexExp, c: &Offset) -> ComplexExp {
        let k = &self.k;
        k.a * delta + k.b * c.skip + self.second_order(delta, c)
    }

    /// The terms of second order: `(C·δ + D·δc)·δ + E·δc²`.
    #[inline]
    fn second_order(&self, delta: ComplexExp, c: &Offset) -> ComplexExp {
        let k = &self.k;
        (k.c * delta + k.d * c.skip) * delta + k.e * c.square
    }

    /// The delta after the skip, for a delta in doubles of at least 2^-1022 (in either
    /// part), of the pixel at `c`: each term a double complex product of mantissas and one
    /// scaling, so that only the sums round otherwise than in [`Skip::apply`], which takes
    /// over where a term is past the doubles' range (a valid skip's terms are below 1, and
    /// the partial products `C·δ` and `D·δc` below `1/|δ|`: never, in practice).
    #[inline]
    pub fn apply_double(&self, d: (f64, f64), c: &Offset) -> (f64, f64) {
        let k = &self.k;
        let (ar, ai) = k.a.mul_f64(d);
        let (br, bi) = k.b.mul_to_f64(c.skip);
        let (cr, ci) = k.c.mul_f64(d);
        let (dr, di) = k.d.mul_to_f64(c.skip);
        let (er, ei) = k.e.mul_to_f64(c.square);
        let (sr, si) = (cr + dr, ci + di);
        let (qr, qi) = (sr * d.0 - si * d.1 + er, sr * d.1 + si * d.0 + ei);
        let next = (ar + br + qr, ai + bi + qi);
        if next.0.is_finite() && next.1.is_finite() {
            next
        } else {
            self.apply(ComplexExp::from_f64(d), c).to_f64()
        }
    }
}

impl BlaTable {
    /// The bytes the table holds.
    pub fn bytes(&self) -> usize {
        fn count<T>(levels: &[Vec<T>]) -> usize {
            levels.iter().map(Vec::len).sum()
        }
        count(&self.levels) * size_of::<Coefficients>()
            + count(&self.radii) * size_of::<FloatExp>()
            + (count(&self.radii_double) + self.open.len()) * size_of::<f64>()
    }

    /// The maps of `orbit` for pixels at most `max_dc` from the reference.
    pub fn new(orbit: &ReferenceOrbit, max_dc: FloatExp) -> BlaTable {
        let last = orbit.len() - 1;
        let escape = FloatExp::from(orbit.bailout().sqrt() / (1.0 + STEP_REACH));
        let reach = FloatExp::from(STEP_REACH);
        let one = ComplexExp::from_f64((1.0, 0.0));
        // The single step from Z_m, exact as a map. Where |Z_m| could put the pixel past the
        // bailout, the step itself is fine but no skip may pass over Z_m unchecked: its
        // radius is zero.
        let single = |m: usize| {
            let (zr, zi) = orbit.z_wide(m);
            let z = ComplexExp::from_wide((zr, zi));
            let size = z.abs();
            let r = if size.cmp_abs(escape).is_lt() {
                reach * size
            } else {
                FloatExp::ZERO
            };
            let k = Coefficients {
                a: z * ComplexExp::from_f64((2.0, 0.0)),
                b: one,
                c: one,
                d: ComplexExp::ZERO,
                e: ComplexExp::ZERO,
            };
            let sizes = Sizes {
                a: size.double(),
                b: FloatExp::from(1.0),
                c: FloatExp::from(1.0),
                d: FloatExp::ZERO,
                e: FloatExp::ZERO,
            };
            Map { k, sizes, r }
        };
        // The shortest maps straight from the single steps, composed in a chain (a radius as
        // valid as pairs give, and no smaller), so that the single steps are never all held
        // at once; then level k + 1 from level k.
        let span = 1usize << MIN_LEVEL;
        let first: Vec<Map> = (0..(last - 1) / span)
            .map(|i| {
                let start = 1 + i * span;
                (start + 1..start + span).fold(single(start), |map, m| {
                    let step = single(m);
                    let k = map.k.then_step(step.k.a);
                    let r = radius(&map, &step, max_dc);
                    Map {
                        sizes: k.sizes(),
                        k,
                        r,
                    }
                })
            })
            .collect();
        let mut levels = vec![first];
        while let Some(below) = levels.last().filter(|maps| maps.len() >= 2) {
            let next = below
                .chunks_exact(2)
                .map(|pair| compose(&pair[0], &pair[1], max_dc))
                .collect();
            levels.push(next);
        }
        let radii: Vec<Vec<FloatExp>> = levels
            .iter()
            .map(|maps| maps.iter().map(|map| map.r * map.r).collect())
            .collect();
        // The squared radii as doubles: rounded down for the table's own test, up for the
        // lanes' (which must pass wherever the table's may).
        let radii_double = radii
            .iter()
            .map(|level| {
                level
                    .iter()
                    .map(|r2| match r2.to_f64() {
                        x if x > 0.0 => f64::from_bits(x.to_bits() - 1),
                        _ => 0.0,
                    })
                    .collect()
            })
            .collect();
        let mut open = vec![0.0; last + 1];
        for (i, r2) in radii[0].iter().enumerate() {
            open[1 + (i << MIN_LEVEL)] = match r2.to_f64() {
                _ if r2.is_zero() => 0.0,
                0.0 => f64::from_bits(1),
                x => f64::from_bits(x.to_bits() + 1),
            };
        }
        let levels = levels
            .into_iter()
            .map(|maps| maps.into_iter().map(|map| map.k).collect())
            .collect();
        BlaTable {
            levels,
            radii,
            radii_double,
            open,
            last,
        }
    }

    /// For every point of the orbit, a squared delta size below which a skip from it may be
    /// open (and at or above which none is): the lanes' cheap test.
    pub(crate) fn open_radii(&self) -> &[f64] {
        &self.open
    }

    /// The longest skip from `Z_m` of at most `limit` steps that a delta of squared size
    /// `norm()` may take, if any (`norm` is called only where some map starts).
    #[inline]
    pub(crate) fn skip(
        &self,
        m: usize,
        limit: u32,
        norm: impl FnOnce() -> FloatExp,
    ) -> Option<Skip> {
        if !self.maps_start_at(m) {
            return None;
        }
        let norm = norm();
        self.climb(m, limit, |level, i| {
            norm.cmp_abs(self.radii[level][i]).is_lt()
        })
    }

    /// [`BlaTable::skip`] for a delta in doubles (of at least 2^-1022), of squared size
    /// `norm`: the same skips, but where a radius lies within a rounding of `norm`.
    #[inline]
    pub(crate) fn skip_double(&self, m: usize, limit: u32, norm: f64) -> Option<Skip> {
        if !self.maps_start_at(m) {
            return None;
        }
        self.climb(m, limit, |level, i| norm < self.radii_double[level][i])
    }

    /// The longest map from `Z_m` (one starts there) of at most `limit` steps for which
    /// `valid(level, index)` holds.
    #[inline]
    fn climb(&self, m: usize, limit: u32, valid: impl Fn(usize, usize) -> bool) -> Option<Skip> {
        // Maps of 2^k steps start where m - 1 is a multiple of 2^k, and shorter ones are
        // valid wherever a longer one from the same start is: climb while they are.
        let offset = m - 1;
        let top = (offset.trailing_zeros().min(limit.max(1).ilog2()) + 1)
            .saturating_sub(MIN_LEVEL)
            .min(self.levels.len() as u32) as usize;
        let mut found = None;
        for i in 0..top {
            let index = offset >> (i as u32 + MIN_LEVEL);
            if index >= self.levels[i].len() || !valid(i, index) {
                break;
            }
            found = Some((i, index));
        }
        found.map(|(i, index)| Skip {
            k: self.levels[i][index],
            steps: 1 << (i as u32 + MIN_LEVEL),
        })
    }

    /// Whether some skip from `Z_m` is open to a delta of squared size `norm()` (called
    /// only where some map starts).
    #[inline]
    pub(crate) fn opens_at(&self, m: usize, norm: impl FnOnce() -> FloatExp) -> bool {
        self.maps_start_at(m)
            && self
                .radii
                .first()
                .and_then(|radii| radii.get((m - 1) >> MIN_LEVEL))
                .is_some_and(|&r2| norm().cmp_abs(r2).is_lt())
    }

    /// The steps from `Z_m` to the next point where maps start (0 if they start at `Z_m`):
    /// only there may [`BlaTable::open_radii`] be other than 0.
    #[inline(always)]
    pub(crate) fn steps_to_start(m: usize) -> usize {
        let span = 1 << MIN_LEVEL;
        (span + 1 - m % span) % span
    }

    /// Whether the shortest maps have one from `Z_m`.
    #[inline]
    fn maps_start_at(&self, m: usize) -> bool {
        m > 0 && m < self.last && (m - 1).trailing_zeros() >= MIN_LEVEL
    }

    /// The maps kept, for reporting the table's size.
    pub fn len(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    /// Whether the table holds no map (a reference too short to skip along).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `x` then `y` as one map ([`Coefficients::then`]), valid where `x` is, where `x` lands
/// every delta of the picture inside `y`'s radius, and where what the composition drops is
/// below `EPSILON / 2` of what it keeps (see [`radius`]).
fn compose(x: &Map, y: &Map, max_dc: FloatExp) -> Map {
    let k = x.k.then(&y.k);
    Map {
        sizes: k.sizes(),
        k,
        r: radius(x, y, max_dc),
    }
}

/// The largest `r` (within a few percent, or 0) such that for every delta `|δ| <= r` and
/// offset `|δc| <= max_dc`, with `x` valid at `r`:
/// - `x` lands the delta inside `y`'s radius (with a margin for `x`'s own error);
/// - the terms the composition drops (`C_y`'s and `D_y`'s products with `x`'s second-order
///   terms) are below `EPSILON / 2` of the linear terms' sizes, `|A_y·A_x|·|δ|` for those in
///   `δ` and `(|A_y·B_x| + |B_y|)·|δc|` for those in `δc` alone;
/// - `y`'s second-order terms add at most [`BEND`] of `|A_y|` to its derivative there.
///
/// Each condition is a sum of sizes that grows with `r`, so the largest `r` is found by
/// shrinking a first guess (the exact root of the reach, and of the dominant dropped term)
/// until all hold.
fn radius(x: &Map, y: &Map, max_dc: FloatExp) -> FloatExp {
    let zero = FloatExp::ZERO;
    if x.r.is_zero() || y.r.is_zero() {
        return zero;
    }
    let below = |p: FloatExp, q: FloatExp| p.cmp_abs(q).is_le();
    let Sizes {
        a: ax,
        b: bx,
        c: cx,
        d: dx,
        e: ex,
    } = x.sizes;
    let Sizes {
        a: ay,
        b: by,
        c: cy,
        d: dy,
        ..
    } = y.sizes;
    let dc = max_dc;
    let half_epsilon = FloatExp::from(EPSILON / 2.0);
    let margin = FloatExp::from(1.0 + 1.0 / 1024.0);
    // Bounds on the sizes of x's linear and second-order terms at |δ| = r, of the delta it
    // lands (with room for its own error), and of the terms the composition drops.
    let linear = |r: FloatExp| ax * r + bx * dc;
    let second = |r: FloatExp| (cx * r + dx * dc) * r + ex * dc * dc;
    let landed = |r: FloatExp| (linear(r) + second(r)) * margin;
    let dropped = |r: FloatExp| {
        let (l, q) = (linear(r), second(r));
        cy * ((l * q).double() + q * q) + dy * q * dc
    };
    let floor = dropped(zero);
    if !below(floor, half_epsilon * (ay * bx + by) * dc) {
        return zero;
    }
    let holds = |r: FloatExp| {
        let to = landed(r);
        to.cmp_abs(y.r).is_lt()
            && below(dropped(r) - floor, half_epsilon * ay * ax * r)
            && below((cy * to).double() + dy * dc, FloatExp::from(BEND) * ay)
    };
    // The first guess: x's radius; the root of the reach, (ax + dx·dc)·r + cx·r² = room;
    // and that of the dominant dropped term, 2·cy·ax·r·cx·r² = half_epsilon·ay·ax·r.
    let room = y.r / margin - bx * dc - ex * dc * dc;
    if room.is_negative() || room.is_zero() {
        return zero;
    }
    let slope = ax + dx * dc;
    let root = (slope * slope + (cx * room).double().double()).sqrt();
    let mut r = room.double() / (slope + root);
    if !(cy * cx).is_zero() {
        let cubic = (half_epsilon * ay / (cy * cx).double()).sqrt();
        r = if below(cubic, r) { cubic } else { r };
    }
    r = if below(x.r, r) { x.r } else { r };
    // Rounding in the guess: start just inside it.
    r = r * FloatExp::from(1.0 - 1.0 / (1u64 << 20) as f64);
    let shrink = FloatExp::from(0.875);
    for _ in 0..64 {
        if holds(r) {
            return r;
        }
        r = r * shrink;
    }
    zero
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::big::Real;
    use crate::perturb;
    use mandel_kernel::Stop;

    /// Skips from every point of `c`'s orbit where one starts, for deltas at 0.9 and 0.01 of
    /// the radius of the shortest map there, against the steps they stand for (in doubles,
    /// from the pixel at `dc` in a picture `max_dc` across): each within `2·l·EPSILON` of
    /// the steps' delta. Returns the longest skip and the largest share of the landed delta
    /// that the second-order terms made.
    fn check_skips(c: (&str, &str), dc: (f64, f64), max_dc: f64) -> (u32, f64) {
        let (re, im) = (
            Real::parse(c.0, 128).unwrap(),
            Real::parse(c.1, 128).unwrap(),
        );
        let orbit = ReferenceOrbit::compute(&re, &im, 128, 20_000, 4.0, Stop::never()).unwrap();
        let offset = Offset::new(FloatExp::from(dc.0), FloatExp::from(dc.1));
        let table = BlaTable::new(&orbit, FloatExp::from(max_dc));
        let (mut longest, mut curved) = (0, 0.0f64);
        for m in (1..orbit.len() - 1).step_by(1 << MIN_LEVEL) {
            let Some(first) = table.radii[0].get((m - 1) >> MIN_LEVEL) else {
                continue;
            };
            let r = first.sqrt().to_f64();
            if r == 0.0 {
                continue;
            }
            for fraction in [0.9, 0.01] {
                let d = (fraction * r * 0.6, fraction * r * 0.8);
                let norm = FloatExp::from(d.0 * d.0 + d.1 * d.1);
                let Some(skip) = table.skip(m, u32::MAX, || norm) else {
                    panic!("no skip from {m} for {d:?}, under the radius {r}");
                };
                longest = longest.max(skip.steps);
                let approx = skip.apply_double(d, &offset);
                // The doubles' path is the ComplexExp one but for the rounding of its sums.
                let wide = skip.apply(ComplexExp::from_f64(d), &offset).to_f64();
                let gap = (approx.0 - wide.0).hypot(approx.1 - wide.1);
                assert!(
                    gap <= 8.0 * f64::EPSILON * wide.0.hypot(wide.1),
                    "from {m}: {approx:?} in doubles against {wide:?}"
                );
                let mut exact = d;
                for k in m..m + skip.steps as usize {
                    exact = perturb::double_step(orbit.z(k), exact, dc);
                }
                let error = (approx.0 - exact.0).hypot(approx.1 - exact.1);
                let size = exact.0.hypot(exact.1);
                assert!(
                    error <= 2.0 * f64::from(skip.steps) * EPSILON * size,
                    "from {m}, {} steps: {approx:?} against {exact:?}",
                    skip.steps
                );
                let (qr, qi) = skip.second_order(ComplexExp::from_f64(d), &offset).to_f64();
                curved = curved.max(qr.hypot(qi) / size);
            }
        }
        (longest, curved)
    }

    #[test]
    fn skips_open_only_where_maps_start() {
        // The lanes test a delta against `open_radii` only where `steps_to_start` says maps
        // start, and take the steps in between untested.
        let (re, im) = (
            Real::parse("-0.5", 128).unwrap(),
            Real::parse("0.3", 128).unwrap(),
        );
        let orbit = ReferenceOrbit::compute(&re, &im, 128, 2_000, 4.0, Stop::never()).unwrap();
        let table = BlaTable::new(&orbit, FloatExp::from(1e-30));
        let open = table.open_radii();
        assert!(open.iter().filter(|&&r| r > 0.0).count() >= 10);
        for (m, &r) in open.iter().enumerate() {
            let to_start = BlaTable::steps_to_start(m);
            assert!(
                r == 0.0 || to_start == 0,
                "a skip opens at {m}, not a start"
            );
            // The nearest start, within a span.
            assert!(to_start < 1 << MIN_LEVEL, "{m}");
            assert_eq!(BlaTable::steps_to_start(m + to_start), 0, "{m}");
            assert!(
                (1..to_start).all(|k| BlaTable::steps_to_start(m + k) > 0),
                "{m}"
            );
        }
    }

    #[test]
    fn a_single_step_after_a_map_is_the_general_composition() {
        let z = |re, im, e| ComplexExp::new(re, im, e);
        let x = Coefficients {
            a: z(1.5, -0.25, 40),
            b: z(-0.75, 1.125, 30),
            c: z(1.0, 0.5, 90),
            d: z(0.3, -1.7, 70),
            e: z(-1.1, 0.9, 55),
        };
        let two_z = z(0.6, -1.3, -2);
        let (one, zero) = (ComplexExp::from_f64((1.0, 0.0)), ComplexExp::ZERO);
        let step = Coefficients {
            a: two_z,
            b: one,
            c: one,
            d: zero,
            e: zero,
        };
        assert_eq!(x.then_step(two_z), x.then(&step));
    }

    #[test]
    fn a_skip_lands_where_the_steps_it_stands_for_do() {
        // A point of the main cardioid, whose orbit settles on a fixed point away from 0:
        // skips of any length.
        let (longest, _) = check_skips(("-0.5", "0.3"), (3e-31, -7e-31), 1e-30);
        assert!(longest >= 1024, "{longest}");
    }

    #[test]
    fn skips_hold_where_a_linear_map_would_not() {
        // c = i, whose orbit falls on a repelling cycle: deltas grow at every step, and a
        // skip's second-order terms are far more of the delta it lands than a linear map
        // could leave out (2·l·EPSILON).
        let (longest, curved) = check_skips(("0", "1"), (3e-61, -7e-61), 1e-60);
        assert!(longest >= 128, "{longest}");
        assert!(curved > 1e3 * 128.0 * EPSILON, "{curved}");
    }
}
