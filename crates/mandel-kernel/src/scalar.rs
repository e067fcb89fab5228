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
pub fn escape_time_from(
    mut x: f64,
    mut y: f64,
    cx: f64,
    cy: f64,
    mut n: u32,
    max_iter: u32,
) -> u32 {
    while n < max_iter {
        let (xx, yy) = (x * x, y * y);
        if xx + yy >= 4.0 {
            break;
        }
        let xy = x * y;
        x = (xx - yy) + cx;
        y = (xy + xy) + cy;
        n += 1;
    }
    n
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
