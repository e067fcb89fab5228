use crate::stop::{Meter, Stopped};

/// The seed's `iteration` for the point `c = cx + i*cy`: the number of times `z <- z*z + c`
/// runs from `z = 0` while `|z| < 2` and the count is below `max_iter`.
///
/// The seed tests `abs(z) < 2`; this tests `x*x + y*y < 4`, which the tests compare against the
/// seed's own Python on every grid they render. `z*z` is computed as CPython's complex product
/// does: real part `x*x - y*y`, imaginary part `x*y + y*x` (the same value as `x*y + x*y`).
#[inline]
pub fn escape_time(cx: f64, cy: f64, max_iter: u32) -> u32 {
    escape_time_from(0.0, 0.0, cx, cy, 0, max_iter)
}

/// The count of a point whose orbit is at `z = x + iy` after `n` steps: the same loop as
/// [`escape_time`], resumed. Vector kernels use it to finish a lane one step at a time.
#[inline]
pub fn escape_time_from(x: f64, y: f64, cx: f64, cy: f64, n: u32, max_iter: u32) -> u32 {
    steps(x, y, cx, cy, n, max_iter).2
}

/// [`escape_time`], polling `meter` as it goes: a point of billions of iterations stops within
/// one allowance of its stop being raised.
#[inline]
pub(crate) fn escape_time_metered(
    cx: f64,
    cy: f64,
    max_iter: u32,
    meter: &mut Meter,
) -> Result<u32, Stopped> {
    let (mut x, mut y, mut n) = (0.0, 0.0, 0u32);
    loop {
        let allowance = u32::try_from(meter.allowance()).unwrap_or(u32::MAX);
        let end = max_iter.min(n.saturating_add(allowance));
        let start = n;
        let escaped;
        (x, y, n, escaped) = steps(x, y, cx, cy, n, end);
        meter.spend(u64::from(n - start))?;
        if escaped || n == max_iter {
            return Ok(n);
        }
    }
}

/// The seed's loop from step `n` at `z = x + iy` until `|z|` reaches 2 or the count reaches
/// `end`: the z and count it stopped at, and whether it stopped by escaping.
#[inline(always)]
fn steps(mut x: f64, mut y: f64, cx: f64, cy: f64, mut n: u32, end: u32) -> (f64, f64, u32, bool) {
    while n < end {
        let (xx, yy) = (x * x, y * y);
        if xx + yy >= 4.0 {
            return (x, y, n, true);
        }
        let xy = x * y;
        x = (xx - yy) + cx;
        y = (xy + xy) + cy;
        n += 1;
    }
    (x, y, n, false)
}

#[cfg(test)]
mod tests {
    use super::escape_time;

    #[test]
    fn known_points() {
        // The origin and -1 are in the set: they run to the limit.
        assert_eq!(escape_time(0.0, 0.0, 1000), 1000);
        assert_eq!(escape_time(-1.0, 0.0, 1000), 1000);
        // c = 2: z goes 0 -> 2, and |2| is not < 2.
        assert_eq!(escape_time(2.0, 0.0, 1000), 1);
        // c = -2: z goes 0 -> -2 -> 2 -> 2 ..., stopped once |z| reaches 2.
        assert_eq!(escape_time(-2.0, 0.0, 1000), 1);
        // c = 1: 0, 1, 2 -> stops after two iterations.
        assert_eq!(escape_time(1.0, 0.0, 1000), 2);
        // Far away: one step takes z out.
        assert_eq!(escape_time(10.0, 10.0, 1000), 1);
    }

    #[test]
    fn max_iter_bounds_the_count() {
        assert_eq!(escape_time(0.0, 0.0, 0), 0);
        assert_eq!(escape_time(0.0, 0.0, 1), 1);
        assert_eq!(escape_time(10.0, 0.0, 1), 1);
    }
}
