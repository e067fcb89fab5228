//! `FloatExp`: a double's mantissa with an exponent of its own, for the deltas and pixel
//! spacings of views past about 1e300, where doubles underflow. Only the few operations the
//! perturbation loop needs, each rounded once like the double operation it stands for.

use std::cmp::Ordering;
use std::ops::{Add, Mul, Neg, Sub};

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
    pub fn new(m: f64, e: i32) -> FloatExp {
        debug_assert!(m.is_finite(), "{m}");
        if m == 0.0 {
            return FloatExp::ZERO;
        }
        let bits = m.to_bits();
        let field = ((bits >> 52) & 0x7ff) as i32;
        if field == 0 {
            // Subnormal: scale it into the normal range first.
            return FloatExp::new(m * pow2(64), e - 64);
        }
        let mantissa = f64::from_bits((bits & !(0x7ff << 52)) | (1023 << 52));
        FloatExp {
            m: mantissa,
            e: e + field - 1023,
        }
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
    fn mul(self, rhs: FloatExp) -> FloatExp {
        if self.is_zero() || rhs.is_zero() {
            return FloatExp::ZERO;
        }
        // The product of the mantissas lies in [1, 4): one rounding, as a double product.
        FloatExp::new(self.m * rhs.m, self.e + rhs.e)
    }
}

impl Add for FloatExp {
    type Output = FloatExp;
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
    fn neg(self) -> FloatExp {
        FloatExp {
            m: -self.m,
            e: self.e,
        }
    }
}

impl Sub for FloatExp {
    type Output = FloatExp;
    fn sub(self, rhs: FloatExp) -> FloatExp {
        self + -rhs
    }
}

impl From<f64> for FloatExp {
    fn from(x: f64) -> FloatExp {
        FloatExp::from_f64(x)
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
