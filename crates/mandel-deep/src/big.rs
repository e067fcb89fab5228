//! `Real`: an arbitrary-precision binary float (astro-float's `BigFloat`, rounded to nearest
//! at a precision given with every operation), with the few conversions the deep renderer
//! needs: decimal text in, doubles and [`FloatExp`] out.

use astro_float::{BigFloat, Consts, Radix, RoundingMode, Sign};

use crate::floatexp::FloatExp;

const RM: RoundingMode = RoundingMode::ToEven;

/// A real number held to a precision of whole 64-bit words.
#[derive(Debug, Clone)]
pub struct Real(BigFloat);

/// Why a text is not a decimal number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotANumber;

impl Real {
    /// Zero, at `bits` precision.
    pub fn zero(bits: usize) -> Real {
        Real(BigFloat::new(bits))
    }

    /// The decimal `text` (`-1.25`, `4.00000000000E533`, any number of digits), rounded to
    /// `bits`. Infinities, NaN and anything but plain decimal notation are refused.
    pub fn parse(text: &str, bits: usize) -> Result<Real, NotANumber> {
        let text = text.trim();
        if !is_decimal(text) {
            return Err(NotANumber);
        }
        let text = text.strip_prefix('+').unwrap_or(text);
        let mut consts = Consts::new().map_err(|_| NotANumber)?;
        let x = BigFloat::parse(text, Radix::Dec, bits, RM, &mut consts);
        if x.is_nan() || x.is_inf() {
            return Err(NotANumber);
        }
        Ok(Real(x))
    }

    /// The double `x` (finite), exactly, at `bits` precision (at least 64).
    pub fn from_f64(x: f64, bits: usize) -> Real {
        Real(BigFloat::from_f64(x, bits))
    }

    /// `x`, exactly, at `bits` precision (at least 64).
    pub fn from_floatexp(x: FloatExp, bits: usize) -> Real {
        let mut r = BigFloat::from_f64(x.mantissa(), bits);
        if let Some(e) = r.exponent() {
            r.set_exponent(e + x.exponent());
        }
        Real(r)
    }

    /// The nearest double (to within one unit in the last place), 0 below a double's range.
    pub fn to_f64(&self) -> f64 {
        self.to_floatexp().to_f64()
    }

    /// The value as a double's mantissa with a wide exponent (to within one unit in the last
    /// place of the mantissa).
    pub fn to_floatexp(&self) -> FloatExp {
        let Some((words, _, sign, e, _)) = self.0.as_raw_parts() else {
            return FloatExp::ZERO;
        };
        let top = words.last().copied().unwrap_or(0);
        if top == 0 {
            return FloatExp::ZERO;
        }
        // value = 0.m · 2^e with m's top word first: top · 2^(e - 64), to 53 of its 64 bits.
        let m = top as f64;
        let m = if sign == Sign::Neg { -m } else { m };
        FloatExp::new(m, e - 64)
    }

    /// The value in decimal scientific notation, rounded to `digits` significant digits
    /// (trailing zeros dropped): `8.75e1085`.
    pub fn to_decimal(&self, digits: usize) -> String {
        let mut consts = Consts::new().expect("astro-float's constants");
        let text = self
            .0
            .format(Radix::Dec, RM, &mut consts)
            .expect("a finite number formats");
        round_decimal(&text, digits.max(1))
    }

    /// `self + other`, rounded to `bits`.
    pub fn add(&self, other: &Real, bits: usize) -> Real {
        Real(self.0.add(&other.0, bits, RM))
    }

    /// `self - other`, rounded to `bits`.
    pub fn sub(&self, other: &Real, bits: usize) -> Real {
        Real(self.0.sub(&other.0, bits, RM))
    }

    /// `self · other`, rounded to `bits`.
    pub fn mul(&self, other: &Real, bits: usize) -> Real {
        Real(self.0.mul(&other.0, bits, RM))
    }

    /// `self / other`, rounded to `bits`.
    pub fn div(&self, other: &Real, bits: usize) -> Real {
        Real(self.0.div(&other.0, bits, RM))
    }

    /// `2 · self`, exactly.
    pub fn double(mut self) -> Real {
        if let Some(e) = self.0.exponent() {
            self.0.set_exponent(e + 1);
        }
        self
    }

    /// Whether `self >= other`.
    pub fn ge(&self, other: &Real) -> bool {
        self.0.cmp(&other.0).is_some_and(|c| c >= 0)
    }

    /// Whether `self > 0`.
    pub fn is_positive(&self) -> bool {
        !self.0.is_zero() && self.0.sign() == Some(Sign::Pos)
    }
}

/// `text` (`-d.ddde±x`, as astro-float formats) rounded half up to `digits` significant
/// digits, as `-d.dde x` without trailing zeros or a `+`.
fn round_decimal(text: &str, digits: usize) -> String {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", text),
    };
    let (mantissa, exponent) = rest.split_once(['e', 'E']).unwrap_or((rest, "0"));
    let mut exponent: i64 = exponent.trim_start_matches('+').parse().unwrap_or(0);
    let mut d: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    if d.iter().all(|&x| x == 0) {
        return "0".into();
    }
    if d.len() > digits {
        let up = d[digits] >= 5;
        d.truncate(digits);
        if up {
            let mut i = digits;
            loop {
                if i == 0 {
                    d.insert(0, 1);
                    d.truncate(digits);
                    exponent += 1;
                    break;
                }
                i -= 1;
                if d[i] == 9 {
                    d[i] = 0;
                } else {
                    d[i] += 1;
                    break;
                }
            }
        }
    }
    while d.len() > 1 && d.last() == Some(&0) {
        d.pop();
    }
    let digits: String = d.iter().map(|&x| char::from(b'0' + x)).collect();
    let (first, more) = digits.split_at(1);
    let point = if more.is_empty() { "" } else { "." };
    if exponent == 0 {
        format!("{sign}{first}{point}{more}")
    } else {
        format!("{sign}{first}{point}{more}e{exponent}")
    }
}

/// `[+-]digits[.digits][(e|E)[+-]digits]`, with digits on at least one side of the point and
/// an exponent of at most nine digits.
fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.len() <= 9 && digits(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_to_the_nearest_value_at_any_depth() {
        let x = Real::parse("-1.25", 128).unwrap();
        assert_eq!(x.to_f64(), -1.25);
        let tiny = Real::parse("3.5e-1086", 256).unwrap().to_floatexp();
        // The exponent of the power of two at or below 3.5e-1086.
        let log2 = 3.5f64.log2() - 1086.0 * 10f64.log2();
        assert_eq!(tiny.exponent(), log2.floor() as i32);
        let huge = Real::parse("4.00000000000E533", 128).unwrap().to_floatexp();
        assert_eq!(huge.exponent(), (533.0 * 10f64.log2() + 2.0) as i32);
        let long = format!("0.{}", "1".repeat(3000));
        assert!((Real::parse(&long, 12_000).unwrap().to_f64() - 1.0 / 9.0).abs() < 1e-16);
    }

    #[test]
    fn text_that_is_not_a_decimal_is_refused() {
        for bad in [
            "",
            "-",
            ".",
            "e5",
            "1e",
            "1.2.3",
            "inf",
            "NaN",
            "0x10",
            "1,5",
            "1e1234567890",
        ] {
            assert_eq!(Real::parse(bad, 64).unwrap_err(), NotANumber, "{bad:?}");
        }
        for good in ["1", "+1", "-.5", "5.", "1E-5", "1e+400", "007"] {
            assert!(Real::parse(good, 64).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn decimals_are_written_to_the_digits_asked() {
        let x = Real::parse("4e533", 128).unwrap();
        let y = x.mul(&Real::parse("0.875", 128).unwrap(), 128);
        assert_eq!(y.to_decimal(17), "3.5e533");
        assert_eq!(
            Real::parse("-0.000125", 128).unwrap().to_decimal(17),
            "-1.25e-4"
        );
        assert_eq!(Real::parse("1", 64).unwrap().to_decimal(17), "1");
        assert_eq!(Real::parse("9.996", 64).unwrap().to_decimal(3), "1e1");
        assert_eq!(Real::parse("123456", 64).unwrap().to_decimal(2), "1.2e5");
    }

    #[test]
    fn conversions_round_trip() {
        for x in [1.0, -0.1, 1e-300, 3.75e200] {
            assert_eq!(Real::from_f64(x, 128).to_f64(), x);
        }
        let far = FloatExp::new(-1.375, -50_000);
        assert_eq!(Real::from_floatexp(far, 128).to_floatexp(), far);
    }
}
