//! `FloatExp`: a double's mantissa with an exponent of its own, for the deltas and pixel
//! spacings of views past about 1e300, where doubles underflow. Only the few operations the
//! perturbation loop needs, each rounded once like the double operation it stands for.

use std::cmp::Ordering;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// `m · 2^e` with `1 <= |m| < 2`, or zero (`m == 0`, `e == 0`). The exponent's range (±2^31)
/// reaches zooms of 10^600,000,000.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatExp {
    m: f64,
    e: i32,
}

/// 2^k as a double, for `-1022 <= k <= 1023`.
fn pow2(k: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

impl FloatExp {
    /// Zero.
    pub const ZERO: FloatExp = FloatExp { m: 0.0, e: 0 };

    /// `m · 2^e`, normalised; `m` must be finite.
    #[inline]
    pub fn new(m: f64, e: i32) -> FloatExp {
        debug_assert!(m.is_finite(), "{m}");
        if m == 0.0 {
            return FloatExp::ZERO;
        }
        let bits = m.to_bits();
        let field = ((bits >> 52) & 0x7ff) as i32;
        if field == 0 {
            return FloatExp::subnormal(m, e);
        }
        let mantissa = f64::from_bits((bits & !(0x7ff << 52)) | (1023 << 52));
        FloatExp {
            m: mantissa,
            e: e + field - 1023,
        }
    }

    /// [`FloatExp::new`] for a subnormal `m`: scaled into the normal range first (apart, so
    /// that the common case inlines small).
    #[cold]
    fn subnormal(m: f64, e: i32) -> FloatExp {
        FloatExp::new(m * pow2(64), e - 64)
    }

    /// The double `x` (finite).
    pub fn from_f64(x: f64) -> FloatExp {
        FloatExp::new(x, 0)
    }

    /// The nearest double: zero below the smallest subnormal, infinite past the largest.
    pub fn to_f64(self) -> f64 {
        match self.e {
            _ if self.m == 0.0 => 0.0,
            e if e > 1023 => self.m * f64::INFINITY,
            e if e >= -1022 => self.m * pow2(e),
            // Two steps, so that the rounding into the subnormals happens once.
            e if e >= -1022 - 60 => self.m * pow2(e + 60) * pow2(-60),
            _ => self.m * 0.0,
        }
    }

    /// The mantissa, `1 <= |m| < 2` (or 0).
    pub fn mantissa(self) -> f64 {
        self.m
    }

    /// The exponent: `self = mantissa · 2^exponent` (0 for zero).
    pub fn exponent(self) -> i32 {
        self.e
    }

    /// Whether this is zero.
    pub fn is_zero(self) -> bool {
        self.m == 0.0
    }

    /// `2 · self`, exactly.
    pub fn double(self) -> FloatExp {
        if self.is_zero() {
            self
        } else {
            FloatExp {
                m: self.m,
                e: self.e + 1,
            }
        }
    }

    /// `|self|`.
    pub fn abs(self) -> FloatExp {
        FloatExp {
            m: self.m.abs(),
            e: self.e,
        }
    }

    /// Whether this is below zero.
    pub fn is_negative(self) -> bool {
        self.m < 0.0
    }

    /// `√self`, for `self >= 0`, rounded once.
    pub fn sqrt(self) -> FloatExp {
        debug_assert!(!self.is_negative(), "{self:?}");
        // An even exponent halves exactly; an odd one lends a factor of two to the mantissa.
        let odd = self.e & 1;
        FloatExp::new((self.m * f64::from(1 + odd)).sqrt(), (self.e - odd) / 2)
    }

    /// Compares magnitudes: `|self|` against `|other|`.
    pub fn cmp_abs(self, other: FloatExp) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => self
                .e
                .cmp(&other.e)
                .then(self.m.abs().total_cmp(&other.m.abs())),
        }
    }
}

impl Mul for FloatExp {
    type Output = FloatExp;
    #[inline]
    fn mul(self, rhs: FloatExp) -> FloatExp {
        if self.is_zero() || rhs.is_zero() {
            return FloatExp::ZERO;
        }
        // The product of the mantissas lies in [1, 4): one rounding, as a double product.
        FloatExp::new(self.m * rhs.m, self.e + rhs.e)
    }
}

impl Div for FloatExp {
    type Output = FloatExp;
    /// `self / rhs`, rounded once; `rhs` must not be zero.
    #[inline]
    fn div(self, rhs: FloatExp) -> FloatExp {
        debug_assert!(!rhs.is_zero(), "division by zero");
        if self.is_zero() {
            return FloatExp::ZERO;
        }
        // The quotient of the mantissas lies in (1/2, 2).
        FloatExp::new(self.m / rhs.m, self.e - rhs.e)
    }
}

impl Add for FloatExp {
    type Output = FloatExp;
    #[inline]
    fn add(self, rhs: FloatExp) -> FloatExp {
        let (big, small) = if self.cmp_abs(rhs) == Ordering::Less {
            (rhs, self)
        } else {
            (self, rhs)
        };
        if small.is_zero() {
            return big;
        }
        let gap = big.e - small.e;
        if gap > 60 {
            // Below half an ulp of `big` whatever the mantissas: the rounded sum is `big`.
            return big;
        }
        // `small.m · 2^-gap` is exact (no underflow at |gap| <= 60), so the sum is rounded once.
        FloatExp::new(big.m + small.m * pow2(-gap), big.e)
    }
}

impl Neg for FloatExp {
    type Output = FloatExp;
    #[inline]
    fn neg(self) -> FloatExp {
        FloatExp {
            m: -self.m,
            e: self.e,
        }
    }
}

impl Sub for FloatExp {
    type Output = FloatExp;
    #[inline]
    fn sub(self, rhs: FloatExp) -> FloatExp {
        self + -rhs
    }
}

impl From<f64> for FloatExp {
    #[inline]
    fn from(x: f64) -> FloatExp {
        FloatExp::from_f64(x)
    }
}

/// `x · 2^k` for any `k`: exact while the result is a normal double, zero far below them.
fn scale(x: f64, k: i32) -> f64 {
    match k {
        -1022..=1023 => x * pow2(k),
        k if k > 0 => x * pow2(1023) * pow2((k - 1023).min(1023)),
        k if k >= -2044 => x * pow2(-1022) * pow2(k + 1022),
        _ => x * 0.0,
    }
}

/// A complex number `(re + im·i) · 2^e` whose parts share one exponent, the larger part's
/// magnitude in `[1, 2)` (or both zero): the BLA maps' coefficients, which
/// outgrow a double's range at depth, with a product that costs a double complex one and one
/// rescaling. The smaller part keeps only the bits above the larger's 2^-1074.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComplexExp {
    re: f64,
    im: f64,
    e: i32,
}

impl ComplexExp {
    /// Zero.
    pub const ZERO: ComplexExp = ComplexExp {
        re: 0.0,
        im: 0.0,
        e: 0,
    };

    /// `(re + im·i) · 2^e`, normalised; the parts must be finite.
    #[inline]
    pub fn new(re: f64, im: f64, e: i32) -> ComplexExp {
        let larger = re.abs().max(im.abs());
        if larger == 0.0 {
            return ComplexExp::ZERO;
        }
        let k = FloatExp::from(larger).exponent();
        ComplexExp {
            re: scale(re, -k),
            im: scale(im, -k),
            e: e + k,
        }
    }

    /// The doubles `re + im·i`.
    pub fn from_f64(z: (f64, f64)) -> ComplexExp {
        ComplexExp::new(z.0, z.1, 0)
    }

    /// The parts `re + im·i` as [`FloatExp`]s.
    pub fn from_wide(z: (FloatExp, FloatExp)) -> ComplexExp {
        let e = match (z.0.is_zero(), z.1.is_zero()) {
            (true, true) => return ComplexExp::ZERO,
            (true, false) => z.1.exponent(),
            (false, true) => z.0.exponent(),
            (false, false) => z.0.exponent().max(z.1.exponent()),
        };
        let part = |x: FloatExp| scale(x.mantissa(), x.exponent() - e);
        ComplexExp::new(part(z.0), part(z.1), e)
    }

    /// The nearest doubles (zero below their range, infinite past it).
    #[inline]
    pub fn to_f64(self) -> (f64, f64) {
        (scale(self.re, self.e), scale(self.im, self.e))
    }

    /// The parts as [`FloatExp`]s.
    pub fn to_wide(self) -> (FloatExp, FloatExp) {
        (
            FloatExp::new(self.re, self.e),
            FloatExp::new(self.im, self.e),
        )
    }

    /// `|self|`, to within a rounding or two (the parts are below 2, so their squares
    /// cannot overflow: no need for `hypot`'s care, or its cost).
    pub fn abs(self) -> FloatExp {
        FloatExp::new((self.re * self.re + self.im * self.im).sqrt(), self.e)
    }

    /// The exponent: the larger part is below `2^(exponent + 1)` (0 for zero).
    pub fn exponent(self) -> i32 {
        self.e
    }

    /// `self · w` as doubles (zero below their range, infinite past it): one double complex
    /// product and one scaling, the bits of `(self * ComplexExp::from_f64(w)).to_f64()`
    /// wherever `w` and the product are normal doubles.
    #[inline]
    pub fn mul_f64(self, w: (f64, f64)) -> (f64, f64) {
        let (re, im) = complex_mul((self.re, self.im), w);
        (scale(re, self.e), scale(im, self.e))
    }

    /// `self · rhs` as doubles (zero below their range, infinite past it), without
    /// normalising the product: the bits of `(self * rhs).to_f64()` wherever the product is
    /// a normal double.
    #[inline]
    pub fn mul_to_f64(self, rhs: ComplexExp) -> (f64, f64) {
        let (re, im) = complex_mul((self.re, self.im), (rhs.re, rhs.im));
        let e = self.e.saturating_add(rhs.e);
        (scale(re, e), scale(im, e))
    }
}

/// `x · y` in doubles: the operations of [`ComplexExp`]'s product, in its order, so that
/// the two round alike.
#[inline(always)]
fn complex_mul(x: (f64, f64), y: (f64, f64)) -> (f64, f64) {
    (x.0 * y.0 - x.1 * y.1, x.0 * y.1 + x.1 * y.0)
}

impl Mul for ComplexExp {
    type Output = ComplexExp;
    #[inline]
    fn mul(self, rhs: ComplexExp) -> ComplexExp {
        // Parts below 2 in magnitude: the double products stay far from overflow.
        ComplexExp::new(
            self.re * rhs.re - self.im * rhs.im,
            self.re * rhs.im + self.im * rhs.re,
            self.e + rhs.e,
        )
    }
}

impl Add for ComplexExp {
    type Output = ComplexExp;
    #[inline]
    fn add(self, rhs: ComplexExp) -> ComplexExp {
        if rhs.re == 0.0 && rhs.im == 0.0 {
            return self;
        }
        if self.re == 0.0 && self.im == 0.0 {
            return rhs;
        }
        let (big, small) = if self.e >= rhs.e {
            (self, rhs)
        } else {
            (rhs, self)
        };
        let gap = big.e - small.e;
        if gap > 60 {
            return big;
        }
        ComplexExp::new(
            big.re + scale(small.re, -gap),
            big.im + scale(small.im, -gap),
            big.e,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn finite() -> impl Strategy<Value = f64> {
        prop_oneof![
            -1e300..1e300f64,
            -1e-300..1e-300f64,
            -1.0..1.0f64,
            Just(0.0),
            Just(f64::MIN_POSITIVE / 8.0),
        ]
    }

    proptest! {
        #[test]
        fn operations_round_as_the_double_ones_do(a in finite(), b in finite()) {
            let (fa, fb) = (FloatExp::from(a), FloatExp::from(b));
            prop_assert_eq!(fa.to_f64(), a);
            let p = a * b;
            if p.is_finite() && (p == 0.0 || p.abs() >= f64::MIN_POSITIVE) {
                prop_assert_eq!((fa * fb).to_f64(), p);
            }
            let s = a + b;
            if s.is_finite() && (s == 0.0 || s.abs() >= f64::MIN_POSITIVE) {
                prop_assert_eq!((fa + fb).to_f64(), s);
                prop_assert_eq!((fa - fb).to_f64(), a - b);
            }
            prop_assert_eq!(fa.cmp_abs(fb), a.abs().total_cmp(&b.abs()));
            let q = a / b;
            if b != 0.0 && q.is_finite() && (q == 0.0 || q.abs() >= f64::MIN_POSITIVE) {
                prop_assert_eq!((fa / fb).to_f64(), q);
            }
            if a.abs() >= f64::MIN_POSITIVE {
                prop_assert_eq!(fa.abs().sqrt().to_f64(), a.abs().sqrt());
            }
        }

        #[test]
        fn products_to_doubles_are_the_normalised_ones_where_normal(
            a in (-1e100..1e100f64, -1e100..1e100f64),
            b in (-1e100..1e100f64, -1e100..1e100f64),
            k in -2000i32..2000,
        ) {
            let normal = |z: (f64, f64)| {
                [z.0, z.1].iter().all(|x| *x == 0.0 || x.abs() >= f64::MIN_POSITIVE)
                    && z.0.is_finite() && z.1.is_finite()
            };
            let (ca, cb) = (ComplexExp::new(a.0, a.1, k), ComplexExp::from_f64(b));
            let normalised = (ca * cb).to_f64();
            prop_assume!(normal(normalised));
            prop_assert_eq!(ca.mul_f64(b), normalised);
            prop_assert_eq!(ca.mul_to_f64(cb), normalised);
            prop_assert_eq!(cb.mul_to_f64(ca), (cb * ca).to_f64());
        }

        #[test]
        fn complex_operations_follow_the_double_ones(
            a in (-1e100..1e100f64, -1e100..1e100f64),
            b in (-1e100..1e100f64, -1e100..1e100f64),
            k in -5000i32..5000,
        ) {
            // Scaled far out of a double's range and back, the product and sum are the
            // double ones to a few roundings of the largest part in play.
            let size = |z: (f64, f64)| z.0.abs().max(z.1.abs());
            let within = |x: (f64, f64), y: (f64, f64), size: f64| {
                (x.0 - y.0).abs() <= 8.0 * f64::EPSILON * size
                    && (x.1 - y.1).abs() <= 8.0 * f64::EPSILON * size
            };
            let close = |x, y| within(x, y, size(y));
            let (ca, cb) = (ComplexExp::from_f64(a), ComplexExp::from_f64(b));
            let scale_by = |z: ComplexExp, k: i32| z * ComplexExp::new(1.0, 0.0, k);
            let product = (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0);
            let far = scale_by(scale_by(ca, k) * cb, -k);
            prop_assert!(close(far.to_f64(), product), "{far:?} {product:?}");
            let sum = (a.0 + b.0, a.1 + b.1);
            let far = scale_by(scale_by(ca, k) + scale_by(cb, k), -k);
            prop_assert!(within(far.to_f64(), sum, size(a).max(size(b))), "{far:?} {sum:?}");
            let wide = ComplexExp::from_wide((FloatExp::new(a.0, k), FloatExp::new(a.1, k)));
            prop_assert!(close(scale_by(wide, -k).to_f64(), a));
            let back = scale_by(ca, k).to_wide();
            prop_assert_eq!((back.0.exponent(), back.1.exponent()),
                (FloatExp::new(a.0, k).exponent(), FloatExp::new(a.1, k).exponent()));
            prop_assert!((ca.abs().to_f64() - a.0.hypot(a.1)).abs()
                <= 4.0 * f64::EPSILON * a.0.hypot(a.1));
        }

        #[test]
        fn scaling_out_of_range_and_back_is_exact(a in finite(), k in -100_000i32..100_000) {
            let scaled = FloatExp::new(a, k) * FloatExp::new(1.0, -k);
            prop_assert_eq!(scaled.to_f64(), a);
        }
    }

    #[test]
    fn far_below_doubles() {
        let tiny = FloatExp::new(1.5, -40_000);
        assert_eq!(tiny.to_f64(), 0.0);
        assert_eq!((tiny * tiny).exponent(), -80_000 + 1);
        assert_eq!((tiny + tiny).exponent(), -39_999);
        assert_eq!((tiny - tiny), FloatExp::ZERO);
        assert_eq!(tiny.double().exponent(), -39_999);
        let big = FloatExp::new(1.0, 2000);
        assert_eq!(big.to_f64(), f64::INFINITY);
        assert_eq!((big * tiny).exponent(), -38_000);
    }
}
