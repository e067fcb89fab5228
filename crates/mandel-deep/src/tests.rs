//! Perturbation against direct iteration, at depths from 1e15 to 1e1000.

use super::*;

/// A period-`period` nucleus (a minibrot's centre) near `re + im·i`, by Newton's method on
/// `z_period(c) = 0` at `bits`; as decimal texts.
fn nucleus(re: &str, im: &str, period: u32, bits: usize) -> (String, String) {
    let (mut cr, mut ci) = (
        Real::parse(re, bits).unwrap(),
        Real::parse(im, bits).unwrap(),
    );
    for _ in 0..60 {
        let (mut zr, mut zi) = (Real::zero(bits), Real::zero(bits));
        let (mut dr, mut di) = (Real::zero(bits), Real::zero(bits));
        let one = Real::from_f64(1.0, bits);
        for _ in 0..period {
            // dz <- 2 z dz + 1, z <- z² + c
            let ndr = zr
                .mul(&dr, bits)
                .sub(&zi.mul(&di, bits), bits)
                .double()
                .add(&one, bits);
            let ndi = zr.mul(&di, bits).add(&zi.mul(&dr, bits), bits).double();
            let nzr = zr
                .mul(&zr, bits)
                .sub(&zi.mul(&zi, bits), bits)
                .add(&cr, bits);
            let nzi = zr.mul(&zi, bits).double().add(&ci, bits);
            (zr, zi, dr, di) = (nzr, nzi, ndr, ndi);
        }
        // c <- c - z / dz
        let norm = dr.mul(&dr, bits).add(&di.mul(&di, bits), bits);
        let qr = zr
            .mul(&dr, bits)
            .add(&zi.mul(&di, bits), bits)
            .div(&norm, bits);
        let qi = zi
            .mul(&dr, bits)
            .sub(&zr.mul(&di, bits), bits)
            .div(&norm, bits);
        cr = cr.sub(&qr, bits);
        ci = ci.sub(&qi, bits);
    }
    (cr.to_decimal(bits * 3 / 10), ci.to_decimal(bits * 3 / 10))
}

/// The first n at which the disc of radius `r` about `c` may hold a period-n nucleus: where
/// the disc about `z_n` (to first order, radius r·|dz_n/dc|) reaches 0.
fn ball_period(re: f64, im: f64, r: f64, limit: u32) -> Option<u32> {
    let (mut zr, mut zi, mut dr, mut di) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for n in 1..=limit {
        (dr, di) = (2.0 * (zr * dr - zi * di) + 1.0, 2.0 * (zr * di + zi * dr));
        (zr, zi) = (zr * zr - zi * zi + re, 2.0 * zr * zi + im);
        if zr.hypot(zi) < r * dr.hypot(di) {
            return Some(n);
        }
    }
    None
}

/// How perturbation compares with direct iteration on a view.
#[derive(Debug)]
struct Agreement {
    /// Pixels compared: those whose direct count is the same at P and P + 64 bits.
    stable: usize,
    /// Of those, pixels whose perturbed count equals the direct one.
    equal: usize,
    /// Of those, pixels whose count perturbed with BLA equals the direct one.
    equal_bla: usize,
    /// The fraction of the iterations that BLA skipped.
    skipped: f64,
    /// Pixels left out: their direct counts differ between the two precisions.
    unstable: usize,
    /// The largest count difference on a stable pixel.
    worst: u32,
    /// The distinct counts seen: a view of one count tests little.
    distinct: usize,
    /// Whether the reference orbit escaped before max-iter.
    reference_escaped: bool,
}

impl Agreement {
    fn fraction(&self) -> f64 {
        self.equal as f64 / self.stable.max(1) as f64
    }

    fn fraction_bla(&self) -> f64 {
        self.equal_bla as f64 / self.stable.max(1) as f64
    }

    /// The perturbation issue's criterion, with BLA and without: 99.9% of
    /// the stable pixels equal.
    fn assert_close(&self, what: &str) {
        println!(
            "{what}: {self:?}, {:.4} equal, {:.4} with BLA",
            self.fraction(),
            self.fraction_bla()
        );
        assert!(self.fraction() >= 0.999, "{what}: {self:?}");
        assert!(self.fraction_bla() >= 0.999, "{what}: {self:?}");
        assert!(
            self.stable * 10 >= (self.stable + self.unstable) * 9,
            "{what}: {self:?}"
        );
    }
}

/// The view `3.5 / zoom` wide about `re + im·i` at `size`.
fn view(re: &str, im: &str, zoom: &str, size: (u32, u32)) -> DeepView {
    let zoom = Real::parse(zoom, 128).unwrap();
    let width = Real::from_f64(3.5, 128).div(&zoom, 128).to_floatexp();
    let height = width * FloatExp::from(f64::from(size.1) / f64::from(size.0));
    DeepView::new(re, im, width, height, size.0, size.1).unwrap()
}

/// Perturbation on every `step`-th pixel of `size` pixels about `re + im·i`, `3.5 / zoom`
/// wide, against direct iteration at the view's precision and 64 bits more.
fn agreement(
    re: &str,
    im: &str,
    zoom: &str,
    size: (u32, u32),
    max_iter: u32,
    step: usize,
) -> Agreement {
    agreement_of(&view(re, im, zoom, size), max_iter, step)
}

/// Perturbation on every `step`-th pixel of `view` against direct iteration at the view's
/// precision and 64 bits more.
fn agreement_of(view: &DeepView, max_iter: u32, step: usize) -> Agreement {
    let finer = view.with_bits(view.bits() + 64);
    let orbit = view
        .reference(max_iter, COUNT_BAILOUT, Stop::never())
        .unwrap();
    let bla = view.bla(&orbit);
    let mut a = Agreement {
        stable: 0,
        equal: 0,
        equal_bla: 0,
        skipped: 0.0,
        unstable: 0,
        worst: 0,
        distinct: 0,
        reference_escaped: orbit.escaped(),
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut work = Work::default();
    for index in (0..view.lattice().pixels()).step_by(step) {
        let (mut perturbed, mut approximated, mut direct, mut check) = ([0], [0], [0], [0]);
        view.perturbed_span(
            &orbit,
            None,
            Kernel::Scalar,
            index,
            Stop::never(),
            &mut perturbed,
        )
        .unwrap();
        let w = view
            .perturbed_span(
                &orbit,
                Some(&bla),
                Kernel::Scalar,
                index,
                Stop::never(),
                &mut approximated,
            )
            .unwrap();
        work.iterations += w.iterations;
        work.skipped += w.skipped;
        view.direct_span(max_iter, index, Stop::never(), &mut direct)
            .unwrap();
        finer
            .direct_span(max_iter, index, Stop::never(), &mut check)
            .unwrap();
        seen.insert(perturbed[0]);
        if direct != check {
            a.unstable += 1;
            continue;
        }
        a.stable += 1;
        a.equal_bla += usize::from(approximated == direct);
        if perturbed == direct {
            a.equal += 1;
        } else {
            a.worst = a.worst.max(perturbed[0].abs_diff(direct[0]));
        }
        a.worst = a.worst.max(approximated[0].abs_diff(direct[0]));
    }
    a.distinct = seen.len();
    a.skipped = work.skipped as f64 / work.iterations.max(1) as f64;
    a
}

/// c = i, a Misiurewicz point: spirals at every depth, counts that grow only with the
/// logarithm of the zoom, and a centre whose orbit, computed in finite precision, leaves its
/// repelling cycle and escapes after a few hundred steps.
const SPIRAL: (&str, &str) = ("0", "1");

/// A centre 1e-40 from i: in the view of the spiral at 1e30, but outside the set, so that
/// its orbit leaves i's cycle and escapes after about a hundred steps.
const OFF_SPIRAL: (&str, &str) = ("0.0000000000000000000000000000000000000001", "1");

/// Kalles Fraktaler 2's benchmark location "1e14" (its own depth: boundary everywhere).
const KF_1E14: (&str, &str) = (
    "-1.759817130804847813610825010561798238243999999999999999999800",
    "-0.012593310799749865383746631843264858450340000000000000000000",
);

#[test]
fn perturbation_matches_direct_iteration_at_every_depth() {
    for (zoom, step) in [
        ("1e15", 3),
        ("1e30", 3),
        ("1e100", 5),
        ("1e300", 7),
        ("1e320", 7),
        ("1e1000", 13),
    ] {
        let a = agreement(SPIRAL.0, SPIRAL.1, zoom, (32, 24), 4000, step);
        assert!(a.distinct >= 8, "{zoom}: {a:?}");
        a.assert_close(&format!("spiral at {zoom}"));
    }
}

#[test]
fn a_centre_whose_own_orbit_escapes_early_is_rebased_past() {
    let v = view(OFF_SPIRAL.0, OFF_SPIRAL.1, "1e30", (32, 24));
    let orbit = v.reference(4000, COUNT_BAILOUT, Stop::never()).unwrap();
    assert!(orbit.escaped() && orbit.len() < 200, "{}", orbit.len());
    let a = agreement(OFF_SPIRAL.0, OFF_SPIRAL.1, "1e30", (32, 24), 4000, 1);
    assert!(a.reference_escaped);
    // Pixels go on well past the reference's last point.
    assert!(a.distinct >= 10, "{a:?}");
    a.assert_close("spiral at 1e30, every pixel");
}

#[test]
fn a_reference_point_off_the_centre_gives_the_same_counts() {
    let v = view(SPIRAL.0, SPIRAL.1, "1e30", (32, 24));
    // 2^-97, some 6e-30: about two view widths to the left, and exact in decimal.
    let shift = Real::from_f64(2f64.powi(-97), 128);
    let left = Real::parse(SPIRAL.0, 128).unwrap().sub(&shift, 128);
    let moved = v.with_reference(&left.to_decimal(80), SPIRAL.1).unwrap();
    assert_eq!(moved.reference_point().1, SPIRAL.1);
    for i in [0, 31, 400, 767] {
        let ((x, y), (mx, my)) = (v.lattice().offset(i), moved.lattice().offset(i));
        assert_eq!((mx - FloatExp::from(2f64.powi(-97))).to_f64(), x.to_f64());
        assert_eq!(my.to_f64(), y.to_f64());
    }
    let a = agreement_of(&moved, 4000, 1);
    assert!(a.distinct >= 8, "{a:?}");
    a.assert_close("spiral at 1e30 from a reference two widths away");
    // And the counts are those of the view about its own centre, but where direct
    // iteration itself is unsure of them.
    let counts = |view: &DeepView| {
        let orbit = view.reference(4000, COUNT_BAILOUT, Stop::never()).unwrap();
        let bla = view.bla(&orbit);
        let mut out = vec![0; 768];
        let k = Kernel::best();
        view.perturbed_span(&orbit, Some(&bla), k, 0, Stop::never(), &mut out)
            .unwrap();
        out
    };
    let (here, there) = (counts(&v), counts(&moved));
    let same = here.iter().zip(&there).filter(|(a, b)| a == b).count();
    assert!(here.len() - same <= a.unstable, "{same} of {}", here.len());
    // A point a hundred view widths away is refused.
    let far = Real::parse(SPIRAL.0, 128)
        .unwrap()
        .sub(&Real::from_f64(3.5e-28, 128), 128);
    let far = v.with_reference(&far.to_decimal(40), SPIRAL.1);
    assert_eq!(far.unwrap_err(), DeepError::FarReference);
    assert_eq!(
        v.with_reference("1x", "0").unwrap_err(),
        DeepError::Re("1x".into())
    );
}

#[test]
fn a_boundary_heavy_view() {
    let a = agreement(KF_1E14.0, KF_1E14.1, "8.75e13", (32, 24), 4036, 2);
    assert!(a.distinct >= 50, "{a:?}");
    a.assert_close("Kalles Fraktaler's 1e14");
}

#[test]
fn a_minibrot_past_double_precision() {
    // A nucleus of period 80 near c = i, found by Newton's method: its minibrot is about
    // 1/|dz/dc|² across, some 5e-28.
    let bits = 512;
    let (cr, ci) = (0.001, 1.0003);
    let first = nucleus("0.001", "1.0003", 18, 256);
    let first = (
        Real::parse(&first.0, bits).unwrap().to_f64(),
        Real::parse(&first.1, bits).unwrap().to_f64(),
    );
    assert!(
        (first.0 - cr).abs() < 1e-3 && (first.1 - ci).abs() < 1e-3,
        "{first:?}"
    );
    let s1 = 1.0 / 8.925573305903148e5f64.powi(2);
    let near = (first.0 + 5.0 * s1, first.1);
    let period = ball_period(near.0, near.1, s1 / 50.0, 10_000).unwrap();
    let (re, im) = nucleus(
        &format!("{:?}", near.0),
        &format!("{:?}", near.1),
        period,
        bits,
    );
    let v = view(&re, &im, "3e26", (32, 24));
    let orbit = v.reference(2000, COUNT_BAILOUT, Stop::never()).unwrap();
    assert!(!orbit.escaped(), "the nucleus is in the set");
    let a = agreement(&re, &im, "3e26", (32, 24), 2000, 2);
    assert!(a.distinct >= 10, "{a:?}");
    a.assert_close(&format!("period-{period} minibrot at 3e26"));
}

#[test]
fn zoom_1e10000_works() {
    // Direct iteration at 33,000 bits takes minutes here; instead two perturbed renders
    // whose references differ (the view's centre, and one pixel to its right) must agree on
    // the pixels they share, as they can only if both are right.
    let (width, height) = (4, 3);
    let pixel = format!("0.{}875", "0".repeat(10_000)); // 3.5e-10000 / 4
    let max_iter = 40_000;
    let counts = |re: &str| {
        let v = view(re, SPIRAL.1, "1e10000", (width, height));
        assert!(v.bits() > 33_000, "{}", v.bits());
        let orbit = v.reference(max_iter, COUNT_BAILOUT, Stop::never()).unwrap();
        let mut out = vec![0; (width * height) as usize];
        let bla = v.bla(&orbit);
        v.perturbed_span(
            &orbit,
            Some(&bla),
            Kernel::best(),
            0,
            Stop::never(),
            &mut out,
        )
        .unwrap();
        out
    };
    let (here, right) = (counts(SPIRAL.0), counts(&pixel));
    println!("{here:?}\n{right:?}");
    for row in 0..height as usize {
        for col in 1..width as usize {
            let w = width as usize;
            assert_eq!(
                here[row * w + col],
                right[row * w + col - 1],
                "row {row} column {col}"
            );
        }
    }
    assert!(here.iter().all(|&n| n > 20_000 && n < max_iter), "{here:?}");
}

mod random_views {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

        /// Views 1e14 to 1e40 deep about points on the main cardioid's boundary and on the
        /// period-2 bulb's, where the boundary is everywhere and counts run long, moved off
        /// it by a random fraction of the view.
        #[test]
        fn perturbation_matches_direct_iteration_near_the_boundary(
            angle in 0.05f64..6.2,
            bulb in any::<bool>(),
            exponent in 14i32..40,
            shift in -0.5f64..0.5,
        ) {
            let (re, im) = if bulb {
                (-1.0 + 0.25 * angle.cos(), 0.25 * angle.sin())
            } else {
                let (c, s) = (angle.cos(), angle.sin());
                let (c2, s2) = ((2.0 * angle).cos(), (2.0 * angle).sin());
                (0.5 * c - 0.25 * c2, 0.5 * s - 0.25 * s2)
            };
            let zoom = format!("1e{exponent}");
            let offset = shift * 3.5 * 10f64.powi(-exponent);
            // The f64 point, written out to 60 places, plus an offset below its last bit.
            let re = Real::parse(&format!("{re:.60}"), 256).unwrap()
                .add(&Real::from_f64(offset, 64), 256).to_decimal(70);
            let im = format!("{im:.60}");
            let a = agreement(&re, &im, &zoom, (12, 9), 3000, 1);
            prop_assert!(a.fraction() >= 0.999, "{re},{im} at {zoom}: {a:?}");
            prop_assert!(a.fraction_bla() >= 0.999, "{re},{im} at {zoom}: {a:?}");
        }
    }
}

#[test]
fn every_kernels_lanes_give_the_scalar_loops_counts_and_values() {
    let kernels: Vec<Kernel> = Kernel::ALL
        .into_iter()
        .filter(|k| k.is_available())
        .collect();
    assert!(kernels.len() >= 2, "{kernels:?}");
    // Each view, its zoom, and whether it is the one below.
    let mut views: Vec<(DeepView, &str, bool)> = [
        (KF_1E14.0, KF_1E14.1, "8.75e13"),
        (SPIRAL.0, SPIRAL.1, "1e30"),
        (OFF_SPIRAL.0, OFF_SPIRAL.1, "1e30"),
        (SPIRAL.0, SPIRAL.1, "1e300"),
        (SPIRAL.0, SPIRAL.1, "1e1000"),
    ]
    .into_iter()
    .map(|(re, im, zoom)| (view(re, im, zoom, (40, 30)), zoom, false))
    .collect();
    // Inside a period-18 minibrot, about a point outside it, so that the pixels reach
    // max-iter in plain steps long after their last rebase.
    let (re, im) = nucleus("0.001", "1.0003", 18, 256);
    let outside = format!("{:?}", Real::parse(&re, 256).unwrap().to_f64() + 7e-12);
    let inside = view(&re, &im, "5e12", (40, 30));
    views.push((inside.with_reference(&outside, &im).unwrap(), "5e12", true));
    for (v, zoom, minibrot) in views {
        let orbit = v.reference(3000, COUNT_BAILOUT, Stop::never()).unwrap();
        assert!(
            !minibrot || orbit.len() < 1000,
            "the reference escapes early"
        );
        let smooth_orbit = v.reference(3000, SMOOTH_BAILOUT, Stop::never()).unwrap();
        let (bla, smooth_bla) = (v.bla(&orbit), v.bla(&smooth_orbit));
        for (table, smooth_table) in [(None, None), (Some(&bla), Some(&smooth_bla))] {
            let run = |kernel: Kernel, first: u64, len: usize| {
                let mut counts = vec![0; len];
                let work = v
                    .perturbed_span(&orbit, table, kernel, first, Stop::never(), &mut counts)
                    .unwrap();
                let mut values = vec![0.0; len];
                v.perturbed_smooth_span(
                    &smooth_orbit,
                    smooth_table,
                    kernel,
                    first,
                    Stop::never(),
                    &mut values,
                )
                .unwrap();
                let bits: Vec<u64> = values.iter().map(|x| x.to_bits()).collect();
                (counts, work, bits)
            };
            // Every pixel, and spans shorter than the lanes.
            for (first, len) in [(0, 1200), (617, 3), (1199, 1)] {
                let scalar = run(Kernel::Scalar, first, len);
                let inside = scalar.0.iter().filter(|&&n| n == 3000).count();
                assert!(!minibrot || len < 1000 || inside > 100, "{inside} inside");
                for &kernel in &kernels {
                    assert!(
                        run(kernel, first, len) == scalar,
                        "{kernel} at {zoom}, BLA {}, pixels {first}+{len}",
                        table.is_some()
                    );
                }
            }
        }
    }
}
