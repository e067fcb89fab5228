//! The continuous ("smooth") iteration count, for pictures without bands: the seed's loop with a
//! large escape radius, and a fractional part from how far past it the orbit landed.

use crate::Viewport;
use crate::stop::{Meter, Stop, Stopped};

/// Escape radius of the smooth count: large, so that the fractional part is smooth.
pub const SMOOTH_RADIUS: f64 = 256.0;

/// Fills `out` with the smooth counts of the span of pixels that starts at pixel `first`
/// (counted row by row, as in [`crate::Kernel::render_span`]): `n + 1 - log2(ln |z_n|)`,
/// where `n` is the count with escape radius [`SMOOTH_RADIUS`], or NaN for a point whose
/// orbit stays within it for `max_iter` steps. Returns the steps taken, or [`Stopped`] once
/// `stop` says so (polled about every [`crate::POLL_STEPS`] steps).
///
/// # Panics
/// If the span runs past the viewport's last pixel.
pub fn smooth_span(
    viewport: &Viewport,
    first: u64,
    max_iter: u32,
    stop: Stop,
    out: &mut [f64],
) -> Result<u64, Stopped> {
    assert!(
        first
            .checked_add(out.len() as u64)
            .is_some_and(|end| end <= viewport.pixels()),
        "the span must lie within the viewport"
    );
    let mut meter = Meter::new(stop);
    let mut steps = 0;
    let points = viewport.span_points(first, out.len());
    for ((cx, cy), value) in points.zip(out.iter_mut()) {
        let (v, n) = smooth_count(cx, cy, max_iter, &mut meter)?;
        *value = v.unwrap_or(f64::NAN);
        steps += u64::from(n);
    }
    Ok(steps)
}

/// The smooth count of c, or None if the orbit stays within [`SMOOTH_RADIUS`] for `max_iter`
/// steps; and the steps taken.
pub(crate) fn smooth_count(
    cx: f64,
    cy: f64,
    max_iter: u32,
    meter: &mut Meter,
) -> Result<(Option<f64>, u32), Stopped> {
    let r2 = SMOOTH_RADIUS * SMOOTH_RADIUS;
    let (mut x, mut y) = (0.0f64, 0.0f64);
    let mut n = 0u32;
    while n < max_iter {
        let allowance = u32::try_from(meter.allowance()).unwrap_or(u32::MAX);
        let end = max_iter.min(n.saturating_add(allowance));
        let start = n;
        while n < end {
            let (xx, yy) = (x * x, y * y);
            if xx + yy >= r2 {
                meter.spend(u64::from(n - start))?;
                let ln_abs = 0.5 * (xx + yy).ln();
                let nu = f64::from(n) + 1.0 - ln_abs.ln() / std::f64::consts::LN_2;
                return Ok((Some(nu), n));
            }
            let xy = x * y;
            x = (xx - yy) + cx;
            y = (xy + xy) + cy;
            n += 1;
        }
        meter.spend(u64::from(n - start))?;
    }
    Ok((None, max_iter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn smooth_counts_lie_between_the_counts_around_them() {
        let vp = Viewport::seed(64, 48).unwrap();
        let mut smooth = vec![0.0; 64 * 48];
        smooth_span(&vp, 0, 500, Stop::never(), &mut smooth).unwrap();
        for (i, &nu) in smooth.iter().enumerate() {
            let (cx, cy) = (vp.cx(i as u32 % 64), vp.cy(i as u32 / 64));
            let n = crate::escape_time(cx, cy, 500);
            if nu.is_nan() {
                assert_eq!(n, 500, "a point inside to the smooth count is inside");
            } else {
                // The smooth count runs on past radius 2 to radius 256: a few steps more.
                assert!(
                    nu > f64::from(n) - 1.0 && nu < f64::from(n) + 8.0,
                    "{nu} vs {n}"
                );
            }
        }
    }

    #[test]
    fn a_raised_stop_ends_a_long_orbit() {
        let flag = AtomicBool::new(true);
        let vp = Viewport::seed(4, 4).unwrap();
        let mut out = [0.0; 1];
        // (-1.1, ...) inside the set would run four billion steps unstopped.
        let inside = 2 * 4 + 1;
        let got = smooth_span(&vp, inside, u32::MAX, Stop::new(&flag, None), &mut out);
        assert_eq!(got, Err(Stopped));
    }
}
