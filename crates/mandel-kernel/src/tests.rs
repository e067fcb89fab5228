//! Every kernel this CPU can run against the scalar one, pixel for pixel.

use proptest::prelude::*;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use super::{Kernel, Shortcuts, escape_time};
use crate::{Bounds, Stop, Stopped, Viewport};

fn scalar_grid(vp: &Viewport, max_iter: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for r in 0..vp.height() {
        for c in 0..vp.width() {
            out.push(escape_time(vp.cx(c), vp.cy(r), max_iter));
        }
    }
    out
}

fn kernel_grid(kernel: Kernel, vp: &Viewport, max_iter: u32, shortcuts: Shortcuts) -> Vec<u32> {
    let mut out = vec![u32::MAX; vp.pixels() as usize];
    kernel.render_rows(vp, 0, max_iter, shortcuts, &mut out);
    out
}

/// Every kernel, with and without shortcuts.
fn variants() -> Vec<(Kernel, Shortcuts)> {
    Kernel::available()
        .into_iter()
        .flat_map(|k| [(k, Shortcuts::On), (k, Shortcuts::Off)])
        .collect()
}

fn assert_all_kernels_agree(vp: &Viewport, max_iter: u32) {
    let expected = scalar_grid(vp, max_iter);
    for (kernel, shortcuts) in variants() {
        let got = kernel_grid(kernel, vp, max_iter, shortcuts);
        if let Some(i) = got.iter().zip(&expected).position(|(a, b)| a != b) {
            let (r, c) = (i as u32 / vp.width(), i as u32 % vp.width());
            panic!(
                "{kernel} ({shortcuts:?}) differs from scalar at row {r} col {c} ({:?}): {} != {} on {vp:?} max_iter {max_iter}",
                (vp.cx(c), vp.cy(r)),
                got[i],
                expected[i]
            );
        }
    }
}

fn view(xmin: f64, xmax: f64, ymin: f64, ymax: f64, w: u32, h: u32) -> Viewport {
    Viewport::new(
        Bounds {
            xmin,
            xmax,
            ymin,
            ymax,
        },
        w,
        h,
    )
    .unwrap()
}

#[test]
fn the_portable_and_scalar_kernels_are_always_available() {
    assert!(Kernel::available().contains(&Kernel::Scalar));
    assert!(Kernel::available().contains(&Kernel::Portable));
    assert!(Kernel::best().is_available());
}

#[test]
fn widths_that_are_not_a_multiple_of_the_lanes() {
    for w in [1, 2, 3, 5, 7, 9, 15, 17, 31, 33, 63, 65] {
        assert_all_kernels_agree(&Viewport::seed(w, 7).unwrap(), 200);
    }
}

#[test]
fn max_iter_from_one_to_a_million() {
    for max_iter in [1, 2, 3, 7, 8, 9, 15, 16, 17, 100, 1000] {
        assert_all_kernels_agree(&Viewport::seed(37, 23).unwrap(), max_iter);
    }
    // A view on the boundary, where many counts are large but below the limit.
    let vp = view(-0.7445, -0.7425, 0.1305, 0.1325, 12, 9);
    assert_all_kernels_agree(&vp, 1_000_000);
    // Inside the set: every lane runs to the limit, through many whole blocks.
    assert_all_kernels_agree(&view(-0.15, -0.05, 0.05, 0.1, 5, 3), 1_000_000);
}

#[test]
fn views_on_the_boundary() {
    // Seahorse valley, the tip of the antenna, and a spiral, each straddling the boundary.
    assert_all_kernels_agree(&view(-0.7512, -0.7388, 0.0951, 0.1047, 64, 48), 5000);
    assert_all_kernels_agree(&view(-2.001, -1.999, -0.001, 0.001, 40, 21), 3000);
    assert_all_kernels_agree(&view(-0.7436, -0.7434, 0.1317, 0.1319, 33, 33), 20000);
    // c = -2 exactly and points with |c| = 2 exactly on the grid.
    assert_all_kernels_agree(&view(-2.0, 2.0, -2.0, 2.0, 16, 16), 100);
}

#[test]
fn both_strategies_on_either_side_of_the_switch() {
    // Counting up to each kernel's limit, refilling above: the same grids either way.
    let limits = [
        super::simd::COUNTING_MAX_ITER,
        <super::portable::Portable as super::simd::Simd>::COUNTING_MAX_ITER,
    ];
    for max_iter in limits
        .into_iter()
        .flat_map(|limit| [limit - 1, limit, limit + 1])
    {
        assert_all_kernels_agree(&view(-1.5, 0.5, -1.0, 1.0, 61, 37), max_iter);
        assert_all_kernels_agree(&view(-0.7512, -0.7388, 0.0951, 0.1047, 29, 17), max_iter);
    }
    // The Benchmarks Game view at its own limit, and views with points on |c| = 2.
    assert_all_kernels_agree(&view(-1.5, 0.5, -1.0, 1.0, 99, 64), 50);
    assert_all_kernels_agree(&view(-2.0, 2.0, -2.0, 2.0, 16, 16), 50);
    assert_all_kernels_agree(&view(-2.001, -1.999, -0.001, 0.001, 40, 21), 100);
    assert_all_kernels_agree(&view(1e300, 1.5e300, -1e300, 1e300, 9, 5), 20);
}

#[test]
fn periodic_orbits_stop_early_with_the_same_counts() {
    // Interior points of the cardioid and of the period-2 and period-3 bulbs fall into cycles
    // of several periods; pixels just outside take many iterations without being periodic.
    assert_all_kernels_agree(&view(-0.3, 0.3, -0.3, 0.3, 20, 20), 200_000);
    assert_all_kernels_agree(&view(-1.1, -0.9, -0.1, 0.1, 20, 20), 200_000);
    assert_all_kernels_agree(&view(-0.16, -0.08, 1.0, 1.06, 24, 16), 100_000);
    assert_all_kernels_agree(&view(0.2499, 0.2501, -0.0001, 0.0001, 16, 9), 300_000);
    // Row 8 is the real axis exactly, right of the cusp: y stays 0 while x creeps out, so a
    // cycle test that looked at one coordinate only would stop these orbits wrongly.
    assert_all_kernels_agree(&view(0.25, 0.375, -0.125, 0.125, 16, 16), 5_000);
}

#[test]
fn views_across_the_edges_of_the_main_cardioid_and_the_period_2_bulb() {
    // Where the trap discs shrink to nothing: the cusp, the bulbs' attachment points, a
    // spiral on the edge, the period-2 bulb's far end and top; each at limits of both
    // strategies.
    let views = [
        view(0.2499, 0.2501, -0.0001, 0.0001, 23, 11),
        view(-0.7501, -0.7499, -0.0001, 0.0001, 23, 11),
        view(-0.126, -0.124, 0.648, 0.65, 23, 11),
        view(0.27, 0.29, 0.52, 0.54, 23, 11),
        view(-0.8, 0.3, -0.7, 0.7, 47, 31),
        view(-1.2501, -1.2499, -0.0001, 0.0001, 23, 11),
        view(-1.001, -0.999, 0.249, 0.251, 23, 11),
        view(-1.3, -0.7, -0.3, 0.3, 47, 31),
    ];
    for vp in &views {
        for max_iter in [1, 8, 50, 128, 129, 1000, 1001, 5000] {
            assert_all_kernels_agree(vp, max_iter);
        }
    }
}

#[test]
fn rows_fine_enough_to_share_trap_discs() {
    // Tiles narrower than a row disc's reach, so that the counting strategy shares discs
    // along rows and the refilling one reuses them from pixel to pixel: rows across the
    // cardioid's cusp and edges, through the period-2 bulb, and past both.
    let views = [
        view(-0.24, 0.72, -0.06, 0.06, 64, 5),
        view(-0.8, 0.4, -0.66, 0.66, 400, 9),
        view(-1.26, -0.74, -0.26, 0.26, 300, 7),
    ];
    for vp in &views {
        for max_iter in [50, 129, 500, 1000, 1001, 5000] {
            assert_all_kernels_agree(vp, max_iter);
        }
    }
}

#[test]
fn max_iter_around_whole_blocks_of_the_refilling_strategy() {
    // The refilling strategy runs whole blocks and throws away the steps past max-iter.
    let first = super::simd::COUNTING_MAX_ITER + 1;
    let vp = view(-0.7512, -0.7388, 0.0951, 0.1047, 21, 13);
    for max_iter in first..=first + 2 * crate::tuning::BLOCK {
        assert_all_kernels_agree(&vp, max_iter);
    }
}

#[test]
fn pixels_handed_from_the_sieve_to_the_refilling_strategy() {
    // Above the counting limit every pixel first runs the sieve's steps in tiles, and those
    // still running go on refilled from the z they reached. Views near the boundary whose
    // counts straddle the hand-off (checked, so that the test keeps reaching it), some pixels
    // going on to max-iter, at limits just above the switch and far above it.
    let sieves = [
        super::simd::SIEVE_STEPS,
        <super::portable::Portable as super::simd::Simd>::SIEVE_STEPS,
    ];
    let views = [
        view(-0.7512, -0.7388, 0.0951, 0.1047, 48, 29),
        view(-0.75, -0.74, 0.1, 0.11, 37, 23),
        view(-1.25, -1.24, 0.04, 0.05, 31, 19),
    ];
    for vp in &views {
        let counts = scalar_grid(vp, 5000);
        let near = |lo: u32, hi: u32| counts.iter().any(|n| (lo..hi).contains(n));
        for steps in sieves {
            assert!(
                near(steps - 16, steps) && near(steps, steps + 16) && near(5000, 5001),
                "{vp:?} misses the hand-off at {steps}"
            );
        }
        for max_iter in [super::simd::COUNTING_MAX_ITER + 1, 5000] {
            assert_all_kernels_agree(vp, max_iter);
        }
    }
}

#[test]
fn lanes_that_overflow_to_infinity_and_nan_within_a_block() {
    // Points just inside the safe disc escape in a step or two, then square their way past
    // f64::MAX and on to infinity and NaN before the block ends; the test must still see them.
    let (r, n) = (1.999, 64);
    let mut overflowed = 0;
    for i in 0..n {
        let t = std::f64::consts::TAU * f64::from(i) / f64::from(n);
        let (cx, cy) = (r * t.cos(), r * t.sin());
        assert_all_kernels_agree(
            &view(cx - 1e-3, cx + 1e-3, cy - 1e-3, cy + 1e-3, 5, 3),
            1000,
        );
        // The premise: one block of untested steps from z = 0 leaves z non-finite.
        let (mut x, mut y) = (0.0f64, 0.0f64);
        for _ in 0..crate::tuning::BLOCK {
            (x, y) = ((x * x - y * y) + cx, (x * y + x * y) + cy);
        }
        overflowed += u32::from(!(x.is_finite() && y.is_finite()));
    }
    assert!(
        overflowed > n / 2,
        "only {overflowed} of {n} points overflowed"
    );
}

#[test]
fn views_far_outside_and_huge_values() {
    assert_all_kernels_agree(&view(1e300, 1.5e300, -1e300, 1e300, 9, 5), 1000);
    assert_all_kernels_agree(&view(1.9, 2.1, -0.1, 0.1, 17, 9), 1000);
    assert_all_kernels_agree(&view(-3.0, 3.0, -3.0, 3.0, 33, 29), 500);
}

#[test]
fn a_span_of_rows_in_the_middle_of_the_grid() {
    let vp = Viewport::seed(13, 11).unwrap();
    let expected = scalar_grid(&vp, 300);
    for kernel in Kernel::available() {
        let mut out = vec![0; 13 * 4];
        kernel.render_rows(&vp, 5, 300, Shortcuts::On, &mut out);
        assert_eq!(out, expected[5 * 13..9 * 13], "{kernel}");
    }
}

#[test]
fn names_and_selection() {
    for k in Kernel::ALL {
        assert_eq!(k.name().parse::<Kernel>().unwrap(), k);
    }
    assert_eq!(Kernel::select("auto").unwrap(), Kernel::best());
    assert_eq!(Kernel::select("scalar").unwrap(), Kernel::Scalar);
    assert!(
        Kernel::select("sse9")
            .unwrap_err()
            .to_string()
            .contains("sse9")
    );
    for k in Kernel::ALL.into_iter().filter(|k| !k.is_available()) {
        let e = Kernel::select(k.name()).unwrap_err().to_string();
        assert!(e.contains("not supported"), "{e}");
    }
}

/// Every pixel strategy a stop must reach: the counting tiles (max-iter up to 1000), the
/// sieve and the refilling loop (above), and the scalar code for points near c = -2.
fn endless_spans() -> Vec<(&'static str, Viewport, u32)> {
    vec![
        // Inside the main cardioid, where every pixel runs to max-iter (without shortcuts).
        ("refilling", view(-0.3, 0.1, -0.2, 0.2, 64, 1), u32::MAX),
        ("counting", view(-0.3, 0.1, -0.2, 0.2, 1 << 22, 1), 1000),
        // (-2 + 1e-10, 0) lies in the set and outside the vectors' safe disc.
        (
            "scalar edge",
            view(-2.0 + 1e-10, -2.0 + 2e-10, 0.0, 1e-12, 8, 1),
            u32::MAX,
        ),
    ]
}

#[test]
fn a_raised_stop_ends_every_kernel_within_a_poll() {
    for (what, vp, max_iter) in endless_spans() {
        for kernel in Kernel::available() {
            let flag = AtomicBool::new(true);
            let mut out = vec![0; vp.pixels() as usize];
            let got = kernel.render_span(
                &vp,
                0,
                max_iter,
                Shortcuts::Off,
                Stop::new(&flag, None),
                &mut out,
            );
            assert_eq!(got, Err(Stopped), "{kernel} {what}");
        }
    }
}

#[test]
fn a_deadline_ends_every_kernel_soon_after_it_passes() {
    // Unstopped, these spans would run for hours; a bound of a second is generous next to
    // the tens of microseconds between polls, and still fails if the kernels never poll.
    for (what, vp, max_iter) in endless_spans() {
        for kernel in Kernel::available() {
            let flag = AtomicBool::new(false);
            let deadline = Instant::now() + Duration::from_millis(20);
            let mut out = vec![0; vp.pixels() as usize];
            let stop = Stop::new(&flag, Some(deadline));
            let got = kernel.render_span(&vp, 0, max_iter, Shortcuts::Off, stop, &mut out);
            let late = Instant::now().saturating_duration_since(deadline);
            assert_eq!(got, Err(Stopped), "{kernel} {what}");
            assert!(
                flag.load(Relaxed),
                "{kernel} {what}: the deadline raised the flag"
            );
            assert!(
                late < Duration::from_secs(1),
                "{kernel} {what}: {late:?} late"
            );
        }
    }
}

#[test]
fn a_stop_that_is_never_raised_changes_no_count() {
    let vp = Viewport::seed(97, 13).unwrap();
    let flag = AtomicBool::new(false);
    let later = Some(Instant::now() + Duration::from_secs(3600));
    for max_iter in [50, 700, 5000] {
        let expected = scalar_grid(&vp, max_iter);
        for (kernel, shortcuts) in variants() {
            let mut out = vec![0; vp.pixels() as usize];
            let stop = Stop::new(&flag, later);
            kernel
                .render_span(&vp, 0, max_iter, shortcuts, stop, &mut out)
                .unwrap();
            assert_eq!(out, expected, "{kernel} {shortcuts:?} {max_iter}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn spans_that_start_and_end_mid_row_equal_scalar(
        width in 1u32..80, height in 1u32..6,
        a in 0.0f64..1.0, b in 0.0f64..1.0,
        max_iter in prop_oneof![1u32..200, 200u32..3000],
    ) {
        let vp = view(-1.9, 0.6, -1.1, 1.2, width, height);
        let expected = scalar_grid(&vp, max_iter);
        let n = vp.pixels() as f64;
        let (first, end) = ((a.min(b) * n) as usize, (a.max(b) * n).ceil() as usize);
        for (kernel, shortcuts) in variants() {
            let mut out = vec![u32::MAX; end - first];
            kernel
                .render_span(&vp, first as u64, max_iter, shortcuts, Stop::never(), &mut out)
                .unwrap();
            prop_assert_eq!(&out[..], &expected[first..end], "{} {:?}", kernel, shortcuts);
        }
    }

    #[test]
    fn random_viewports_equal_scalar(
        cx in -2.2f64..0.8, cy in -1.3f64..1.3,
        log_span in -12.0f64..0.6,
        width in 1u32..48, height in 1u32..12,
        max_iter in prop_oneof![1u32..20, 20u32..3000],
    ) {
        let span = 10f64.powf(log_span);
        let vp = view(cx - span, cx + span, cy - span, cy + span, width, height);
        let expected = scalar_grid(&vp, max_iter);
        for (kernel, shortcuts) in variants() {
            let got = kernel_grid(kernel, &vp, max_iter, shortcuts);
            prop_assert_eq!(&got, &expected, "{} {:?}", kernel, shortcuts);
        }
    }
}

#[test]
fn skipped_iterations_are_reported_and_never_exceed_the_counts() {
    // Deep in the main cardioid at a high limit the shortcuts skip nearly everything; at the
    // seed's view some; without them nothing is skipped.
    for (vp, max_iter, least_share) in [
        (view(-0.3, 0.1, -0.2, 0.2, 37, 11), 1_000_000, 0.99),
        (Viewport::seed(64, 48).unwrap(), 5000, 0.5),
        (Viewport::seed(64, 48).unwrap(), 300, 0.1),
    ] {
        for (kernel, shortcuts) in variants() {
            let mut out = vec![0; vp.pixels() as usize];
            let skipped = kernel.render_rows(&vp, 0, max_iter, shortcuts, &mut out);
            let sum: u64 = out.iter().map(|&n| u64::from(n)).sum();
            assert!(skipped <= sum, "{kernel} {shortcuts:?}: {skipped} > {sum}");
            if kernel == Kernel::Scalar || shortcuts == Shortcuts::Off {
                assert_eq!(skipped, 0, "{kernel} {shortcuts:?}");
            } else {
                let share = skipped as f64 / sum as f64;
                assert!(share >= least_share, "{kernel}: {share} at {max_iter}");
            }
        }
    }
}
