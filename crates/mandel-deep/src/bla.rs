//! Bivariate linear approximation (BLA; Zhuoran, 2021): where a pixel's delta is small beside
//! the reference, `l` perturbation steps `δ ← 2·Z_m·δ + δ² + δc` are, to a relative error
//! below [`EPSILON`], the one linear map `δ ← A·δ + B·δc`. One step is `A = 2·Z_m`, `B = 1`,
//! valid while `|δ| < EPSILON·|Z_m|`; two neighbouring maps compose into one, level by level,
//! so that a pixel skips up to `2^k` steps with one complex multiply-add. The coefficients
//! are [`ComplexExp`]s: at depth `A` outgrows a double's range as fast as `δ` leaves it.

use crate::floatexp::{ComplexExp, FloatExp};
use crate::orbit::ReferenceOrbit;

/// The largest relative size of the term a linear step drops (`δ²` beside `2·Z_m·δ`). Each
/// skipped step moves the pixel's orbit by up to this fraction of its delta, where
/// perturbation's own rounding moves it by 2^-53: a skip is an approximation, and this
/// trades its accuracy for its length. Some pixels' counts change when their `c` moves by a
/// billionth of a pixel (found in seahorse valley at 1e16, tested in the command's
/// integration tests); there 2^-40 changes one pixel of 768 and 2^-44 none, and 2^-28
/// changes one of 384 of Kalles Fraktaler's "1e14". 2^-48 leaves every test view's counts
/// as plain perturbation's, with a factor of 16 to spare; `docs/deep-zoom.md` has the sweep.
pub const EPSILON: f64 = 1.0 / (1u64 << 48) as f64;

/// The shortest skip the table keeps: 2^[`MIN_LEVEL`] steps. A skip costs the lanes some
/// hundred plain steps: it stops every lane's run of plain steps, and then climbs the levels
/// and takes one multiply-add in [`ComplexExp`]. So shorter skips lose time: at 256² in one
/// run (AVX-512 lanes), a shortest skip of 32 steps took 1.22× the time of 128 on KF2's
/// "1e50", 1.07× on "5e113" and 1.13× on "5e227"; one of 256 steps took 1.03×, 1.07× and
/// 1.02×.
const MIN_LEVEL: u32 = 7;

/// One linear map while the table is built: `l` steps from `Z_m` as `δ ← A·δ + B·δc`,
/// valid for `|δ| < r`.
#[derive(Debug, Clone, Copy)]
struct Map {
    a: ComplexExp,
    b: ComplexExp,
    r: FloatExp,
}

/// The linear maps of one reference orbit for one picture: for every level `k` from
/// [`MIN_LEVEL`], the maps of the `2^k` steps from `Z_{1 + i·2^k}`, each with its validity
/// radius, which depends on the picture's largest `|δc|`. About one map for every 64
/// reference steps in all (72 bytes each).
#[derive(Debug, Clone)]
pub struct BlaTable {
    /// The maps' coefficients, level by level.
    levels: Vec<Vec<(ComplexExp, ComplexExp)>>,
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

/// A skip a pixel may take: `steps` iterations by `δ ← a·δ + b·δc`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Skip {
    a: ComplexExp,
    b: ComplexExp,
    pub steps: u32,
}

impl Skip {
    /// The delta after the skip.
    #[inline]
    pub fn apply(&self, delta: ComplexExp, dc: ComplexExp) -> ComplexExp {
        self.a * delta + self.b * dc
    }

    /// The delta after the skip, for a delta in doubles (of at least 2^-1022) at offset `dc`
    /// (`dc_double` in doubles, which may have underflowed): in doubles where `A`, `B` and
    /// `δc` all have their range (a valid skip's `A` is below `r / |δ|`), otherwise `B·δc` in
    /// [`ComplexExp`].
    #[inline]
    pub fn apply_double(&self, d: (f64, f64), dc: ComplexExp, dc_double: (f64, f64)) -> (f64, f64) {
        if self.a.exponent() > 1000 {
            return self.apply(ComplexExp::from_f64(d), dc).to_f64();
        }
        let (ar, ai) = self.a.to_f64();
        let (br, bi) = if (-900..=900).contains(&self.b.exponent()) && dc.exponent() > -900 {
            let (b0, b1) = self.b.to_f64();
            let (c0, c1) = dc_double;
            (b0 * c0 - b1 * c1, b0 * c1 + b1 * c0)
        } else {
            (self.b * dc).to_f64()
        };
        (ar * d.0 - ai * d.1 + br, ar * d.1 + ai * d.0 + bi)
    }
}

impl BlaTable {
    /// The bytes the table holds.
    pub fn bytes(&self) -> usize {
        fn count<T>(levels: &[Vec<T>]) -> usize {
            levels.iter().map(Vec::len).sum()
        }
        count(&self.levels) * size_of::<(ComplexExp, ComplexExp)>()
            + count(&self.radii) * size_of::<FloatExp>()
            + (count(&self.radii_double) + self.open.len()) * size_of::<f64>()
    }

    /// The maps of `orbit` for pixels at most `max_dc` from the reference.
    pub fn new(orbit: &ReferenceOrbit, max_dc: FloatExp) -> BlaTable {
        let last = orbit.len() - 1;
        let escape = FloatExp::from(orbit.bailout().sqrt() / (1.0 + EPSILON));
        let epsilon = FloatExp::from(EPSILON);
        // The single step from Z_m. Where |Z_m| could put the pixel past the bailout, the
        // step itself is fine but no skip may pass over Z_m unchecked: its radius is zero.
        let single = |m: usize| {
            let (zr, zi) = orbit.z_wide(m);
            let z = ComplexExp::from_wide((zr, zi));
            let size = z.abs();
            let r = if size.cmp_abs(escape).is_lt() {
                epsilon * size
            } else {
                FloatExp::ZERO
            };
            Map {
                a: z * ComplexExp::from_f64((2.0, 0.0)),
                b: ComplexExp::from_f64((1.0, 0.0)),
                r,
            }
        };
        // The shortest maps straight from the single steps, composed in a chain (a radius as
        // valid as pairs give, and no smaller), so that the single steps are never all held
        // at once; then level k + 1 from level k.
        let span = 1usize << MIN_LEVEL;
        let first: Vec<Map> = (0..(last - 1) / span)
            .map(|i| {
                let start = 1 + i * span;
                (start + 1..start + span)
                    .fold(single(start), |map, m| compose(&map, &single(m), max_dc))
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
            .map(|maps| maps.into_iter().map(|map| (map.a, map.b)).collect())
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
        found.map(|(i, index)| {
            let (a, b) = self.levels[i][index];
            Skip {
                a,
                b,
                steps: 1 << (i as u32 + MIN_LEVEL),
            }
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

/// `x` then `y` as one map: `A = A_y·A_x`, `B = A_y·B_x + B_y`, valid where `x` is and where
/// `x` lands every delta of the picture inside `y`'s radius: `|A_x|·|δ| + |B_x|·max|δc| <
/// r_y`.
fn compose(x: &Map, y: &Map, max_dc: FloatExp) -> Map {
    let a = y.a * x.a;
    let b = y.a * x.b + y.b;
    let room = y.r - x.b.abs() * max_dc;
    let r = if x.r.is_zero() || room.is_negative() || room.is_zero() {
        FloatExp::ZERO
    } else {
        let reach = room / x.a.abs();
        if reach.cmp_abs(x.r).is_lt() {
            reach
        } else {
            x.r
        }
    };
    Map { a, b, r }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::big::Real;
    use mandel_kernel::Stop;

    #[test]
    fn a_skip_lands_where_the_steps_it_stands_for_do() {
        // A point of the main cardioid, whose orbit settles on a fixed point away from 0:
        // skips of any length.
        let (re, im) = (
            Real::parse("-0.5", 128).unwrap(),
            Real::parse("0.3", 128).unwrap(),
        );
        let orbit = ReferenceOrbit::compute(&re, &im, 128, 20_000, 4.0, Stop::never()).unwrap();
        let dc = (3e-31, -7e-31);
        let table = BlaTable::new(&orbit, FloatExp::from(1e-30));
        let mut longest = 0;
        for m in (1..orbit.len() - 1).step_by(1 << MIN_LEVEL) {
            // Deltas at 0.9 and at 0.01 of the radius of the shortest map from Z_m.
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
                let approx = skip.apply_double(d, ComplexExp::from_f64(dc), dc);
                let mut exact = d;
                for k in m..m + skip.steps as usize {
                    let (zr, zi) = orbit.z(k);
                    let (a, b) = exact;
                    exact = (
                        2.0 * (zr * a - zi * b) + (a * a - b * b) + dc.0,
                        2.0 * (zr * b + zi * a) + 2.0 * a * b + dc.1,
                    );
                }
                let error = (approx.0 - exact.0).hypot(approx.1 - exact.1);
                let size = exact.0.hypot(exact.1);
                assert!(
                    error <= 2.0 * f64::from(skip.steps) * EPSILON * size,
                    "from {m}, {} steps: {approx:?} against {exact:?}",
                    skip.steps
                );
            }
        }
        assert!(longest >= 1024, "{longest}");
    }
}
