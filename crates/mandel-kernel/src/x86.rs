//! AVX2 (4 doubles) and AVX-512 (8 doubles) primitives for the generic kernel body.

#[cfg(target_arch = "x86")]
use std::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use std::arch::asm;

use super::simd::Simd;

/// `Simd::step` on one AVX2 vector, as one block of assembly: the scalar kernel's operations in
/// its order (`x*x`, `y*y`, `x*y`, `(xx - yy) + cx`, `(xy + xy) + cy`), leaving `x*x` and `y*y`
/// in `xx` and `yy`.
///
/// Why assembly: built from intrinsics, the loops that run many vectors' steps come out of
/// LLVM's scheduler with every vector's last two adds (the ones the next step waits for) moved
/// to the end of the loop body, behind the other vectors' work on Zen 3's two add pipes, so
/// each step waits longer for its inputs. Kept as one block per vector, the order stays as
/// written: on one core of an AVX2 Zen 3 the counting loop ran 1.15x as fast (a view inside
/// the set, max-iter 1000, no shortcuts), and the refilling strategy without shortcuts
/// 1.01-1.09x with 5 vectors and 1.12-1.20x with 7, which the intrinsics had spilled (A/B runs
/// at max-iter 5000, best of 9-25). The instructions round exactly as the intrinsics did; the
/// kernel tests compare this kernel with the scalar one, and the tests below compare each
/// block with the scalar formula. (The AVX-512 build, with 32 registers, keeps each vector's
/// operations together without help, and keeps the intrinsics.)
macro_rules! avx2_step {
    () => {
        concat!(
            "vmulpd {xx}, {x}, {x}\n",
            "vmulpd {yy}, {y}, {y}\n",
            "vmulpd {y}, {x}, {y}\n",
            "vsubpd {x}, {xx}, {yy}\n",
            "vaddpd {y}, {y}, {y}\n",
            "vaddpd {x}, {x}, ymmword ptr [{cx}]\n",
            "vaddpd {y}, {y}, ymmword ptr [{cy}]",
        )
    };
}

pub struct Avx2;

// SAFETY: only AVX and AVX2 instructions; the shims calling the generic body enable "avx2"
// and are called only after `is_x86_feature_detected!("avx2")`.
unsafe impl Simd for Avx2 {
    const LANES: usize = 4;
    type V = __m256d;
    type Counts = __m256i;
    #[inline(always)]
    unsafe fn splat(x: f64) -> __m256d {
        unsafe { _mm256_set1_pd(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> __m256d {
        unsafe { _mm256_loadu_pd(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f64, v: __m256d) {
        unsafe { _mm256_storeu_pd(p, v) }
    }
    #[inline(always)]
    unsafe fn add(a: __m256d, b: __m256d) -> __m256d {
        unsafe { _mm256_add_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn sub(a: __m256d, b: __m256d) -> __m256d {
        unsafe { _mm256_sub_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m256d, b: __m256d) -> __m256d {
        unsafe { _mm256_mul_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn div(a: __m256d, b: __m256d) -> __m256d {
        unsafe { _mm256_div_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn sqrt(a: __m256d) -> __m256d {
        unsafe { _mm256_sqrt_pd(a) }
    }
    #[inline(always)]
    unsafe fn le_mask(a: __m256d, b: __m256d) -> u32 {
        unsafe { _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(a, b)) as u32 }
    }
    #[inline(always)]
    unsafe fn nlt_mask(a: __m256d, b: __m256d) -> u32 {
        unsafe { _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_NLT_UQ>(a, b)) as u32 }
    }
    #[inline(always)]
    unsafe fn eq_mask(a: __m256d, b: __m256d) -> u32 {
        unsafe { _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_EQ_OQ>(a, b)) as u32 }
    }
    #[inline(always)]
    unsafe fn select_ge(a: __m256d, b: __m256d, t: __m256d, f: __m256d) -> __m256d {
        unsafe { _mm256_blendv_pd(f, t, _mm256_cmp_pd::<_CMP_GE_OQ>(a, b)) }
    }
    #[inline(always)]
    unsafe fn zero_counts() -> __m256i {
        unsafe { _mm256_setzero_si256() }
    }
    #[inline(always)]
    unsafe fn count_below(n: __m256i, a: __m256d, b: __m256d) -> __m256i {
        // The compare leaves -1 (all ones) in the lanes to count: one subtraction counts them.
        unsafe { _mm256_sub_epi64(n, _mm256_castpd_si256(_mm256_cmp_pd::<_CMP_LT_OQ>(a, b))) }
    }
    #[inline(always)]
    unsafe fn store_counts(p: *mut u64, n: __m256i) {
        unsafe { _mm256_storeu_si256(p.cast(), n) }
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn step(x: &mut __m256d, y: &mut __m256d, cx: &__m256d, cy: &__m256d) {
        // SAFETY: reads the two vectors `cx` and `cy` point to; AVX only.
        unsafe {
            asm!(
                avx2_step!(),
                x = inout(ymm_reg) *x,
                y = inout(ymm_reg) *y,
                xx = out(ymm_reg) _,
                yy = out(ymm_reg) _,
                cx = in(reg) cx,
                cy = in(reg) cy,
                options(pure, readonly, nostack, preserves_flags),
            );
        }
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn count_step(
        x: &mut __m256d,
        y: &mut __m256d,
        n: &mut __m256i,
        cx: &__m256d,
        cy: &__m256d,
    ) {
        // SAFETY: reads `cx`, `cy` and `FOUR`; AVX and AVX2 only.
        unsafe {
            asm!(
                avx2_step!(),
                // The squares, still in xx and yy: the test on the z the step started from.
                "vaddpd {xx}, {xx}, {yy}",
                // 0x11: less than, ordered (NaN is not below 4), quiet; as `count_below`.
                "vcmppd {xx}, {xx}, ymmword ptr [{four}], 0x11",
                "vpsubq {n}, {n}, {xx}",
                x = inout(ymm_reg) *x,
                y = inout(ymm_reg) *y,
                n = inout(ymm_reg) *n,
                xx = out(ymm_reg) _,
                yy = out(ymm_reg) _,
                cx = in(reg) cx,
                cy = in(reg) cy,
                four = in(reg) &FOUR,
                options(pure, readonly, nostack, preserves_flags),
            );
        }
    }
}

/// The escape test's bound, read from memory by `count_step`'s compare.
static FOUR: [f64; 4] = [4.0; 4];

pub struct Avx512;

// SAFETY: only AVX-512F instructions; the shim enables "avx512f" and is called only after
// `is_x86_feature_detected!("avx512f")`.
unsafe impl Simd for Avx512 {
    const LANES: usize = 8;
    type V = __m512d;
    type Counts = __m512i;
    #[inline(always)]
    unsafe fn splat(x: f64) -> __m512d {
        unsafe { _mm512_set1_pd(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> __m512d {
        unsafe { _mm512_loadu_pd(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f64, v: __m512d) {
        unsafe { _mm512_storeu_pd(p, v) }
    }
    #[inline(always)]
    unsafe fn add(a: __m512d, b: __m512d) -> __m512d {
        unsafe { _mm512_add_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn sub(a: __m512d, b: __m512d) -> __m512d {
        unsafe { _mm512_sub_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m512d, b: __m512d) -> __m512d {
        unsafe { _mm512_mul_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn div(a: __m512d, b: __m512d) -> __m512d {
        unsafe { _mm512_div_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn sqrt(a: __m512d) -> __m512d {
        unsafe { _mm512_sqrt_pd(a) }
    }
    #[inline(always)]
    unsafe fn le_mask(a: __m512d, b: __m512d) -> u32 {
        unsafe { u32::from(_mm512_cmp_pd_mask::<_CMP_LE_OQ>(a, b)) }
    }
    #[inline(always)]
    unsafe fn nlt_mask(a: __m512d, b: __m512d) -> u32 {
        unsafe { u32::from(_mm512_cmp_pd_mask::<_CMP_NLT_UQ>(a, b)) }
    }
    #[inline(always)]
    unsafe fn eq_mask(a: __m512d, b: __m512d) -> u32 {
        unsafe { u32::from(_mm512_cmp_pd_mask::<_CMP_EQ_OQ>(a, b)) }
    }
    #[inline(always)]
    unsafe fn select_ge(a: __m512d, b: __m512d, t: __m512d, f: __m512d) -> __m512d {
        unsafe { _mm512_mask_blend_pd(_mm512_cmp_pd_mask::<_CMP_GE_OQ>(a, b), f, t) }
    }
    #[inline(always)]
    unsafe fn zero_counts() -> __m512i {
        unsafe { _mm512_setzero_si512() }
    }
    #[inline(always)]
    unsafe fn count_below(n: __m512i, a: __m512d, b: __m512d) -> __m512i {
        unsafe {
            let below = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(a, b);
            _mm512_mask_add_epi64(n, below, n, _mm512_set1_epi64(1))
        }
    }
    #[inline(always)]
    unsafe fn store_counts(p: *mut u64, n: __m512i) {
        unsafe { _mm512_storeu_si512(p.cast(), n) }
    }
}

/// The AVX2 kernel: the vectors in flight of each strategy are in `tuning` (more refilling
/// vectors without shortcuts than with them).
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn render_span_avx2(
    vp: &crate::Viewport,
    first: u64,
    max_iter: u32,
    shortcuts: bool,
    stop: crate::Stop,
    out: &mut [u32],
) -> Result<u64, crate::Stopped> {
    use super::simd::render;
    use crate::tuning::{
        AVX2_COUNTING_VECTORS, AVX2_REFILL_VECTORS, AVX2_REFILL_VECTORS_SHORTCUTS,
    };
    unsafe {
        if shortcuts {
            render::<Avx2, AVX2_REFILL_VECTORS_SHORTCUTS, AVX2_COUNTING_VECTORS>(
                vp, first, max_iter, true, stop, out,
            )
        } else {
            render::<Avx2, AVX2_REFILL_VECTORS, AVX2_COUNTING_VECTORS>(
                vp, first, max_iter, false, stop, out,
            )
        }
    }
}

/// The AVX-512 kernel: the vectors in flight are in `tuning`.
///
/// # Safety
/// The CPU must have AVX-512F.
#[target_feature(enable = "avx512f")]
pub unsafe fn render_span_avx512(
    vp: &crate::Viewport,
    first: u64,
    max_iter: u32,
    shortcuts: bool,
    stop: crate::Stop,
    out: &mut [u32],
) -> Result<u64, crate::Stopped> {
    const K: usize = crate::tuning::AVX512_VECTORS.0;
    const KC: usize = crate::tuning::AVX512_VECTORS.1;
    unsafe { super::simd::render::<Avx512, K, KC>(vp, first, max_iter, shortcuts, stop, out) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The scalar kernel's test and step on one lane: (passes the test, next x, next y).
    fn scalar(x: f64, y: f64, cx: f64, cy: f64) -> (bool, f64, f64) {
        let (xx, yy, xy) = (x * x, y * y, x * y);
        (xx + yy < 4.0, xx - yy + cx, xy + xy + cy)
    }

    /// Bit for bit, except that any NaN matches any NaN (which NaN comes out is not specified:
    /// the assembler may swap a product's operands, and no count depends on it).
    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    /// Runs both assembly blocks on four lanes and compares every lane with `scalar`.
    fn check(x: [f64; 4], y: [f64; 4], cx: [f64; 4], cy: [f64; 4]) -> Result<(), TestCaseError> {
        if !is_x86_feature_detected!("avx2") {
            return Ok(());
        }
        let (mut sx, mut sy, mut cxs, mut cys, mut counts) =
            ([0.0; 4], [0.0; 4], [0.0; 4], [0.0; 4], [0u64; 4]);
        let (mut tx, mut ty) = ([0.0; 4], [0.0; 4]);
        // SAFETY: AVX2 was detected; every pointer is to four doubles (or counts).
        unsafe {
            let (vcx, vcy) = (Avx2::load(cx.as_ptr()), Avx2::load(cy.as_ptr()));
            let (mut vx, mut vy) = (Avx2::load(x.as_ptr()), Avx2::load(y.as_ptr()));
            Avx2::step(&mut vx, &mut vy, &vcx, &vcy);
            Avx2::store(sx.as_mut_ptr(), vx);
            Avx2::store(sy.as_mut_ptr(), vy);
            let (mut vx, mut vy) = (Avx2::load(x.as_ptr()), Avx2::load(y.as_ptr()));
            // Counts start at 7 so that an increment shows against a non-zero base.
            let mut n = _mm256_set1_epi64x(7);
            Avx2::count_step(&mut vx, &mut vy, &mut n, &vcx, &vcy);
            Avx2::store(tx.as_mut_ptr(), vx);
            Avx2::store(ty.as_mut_ptr(), vy);
            Avx2::store_counts(counts.as_mut_ptr(), n);
            Avx2::store(cxs.as_mut_ptr(), vcx);
            Avx2::store(cys.as_mut_ptr(), vcy);
        }
        for i in 0..4 {
            let (below, nx, ny) = scalar(x[i], y[i], cx[i], cy[i]);
            let lane = format!(
                "lane {i}: z = ({:e}, {:e}), c = ({:e}, {:e})",
                x[i], y[i], cx[i], cy[i]
            );
            prop_assert!(same(sx[i], nx) && same(sy[i], ny), "step, {}", lane);
            prop_assert!(same(tx[i], nx) && same(ty[i], ny), "count_step, {}", lane);
            prop_assert_eq!(
                counts[i],
                7 + u64::from(below),
                "count_step's count, {}",
                lane
            );
            // c is read, not written.
            prop_assert!(same(cxs[i], cx[i]) && same(cys[i], cy[i]), "c, {}", lane);
        }
        Ok(())
    }

    /// Any double (NaN, infinities, subnormals among them) or, as often, one near the set.
    fn component() -> impl Strategy<Value = f64> {
        prop_oneof![any::<f64>(), -2.5f64..2.5]
    }

    proptest! {
        #[test]
        fn assembly_steps_are_the_scalar_step(
            x in prop::array::uniform4(component()),
            y in prop::array::uniform4(component()),
            cx in prop::array::uniform4(component()),
            cy in prop::array::uniform4(component()),
        ) {
            check(x, y, cx, cy)?;
        }
    }

    #[test]
    fn assembly_steps_at_the_escape_radius() {
        // |z|^2 just below, at and just above 4, and a NaN and an infinity: the test's edges.
        let below = 2f64.sqrt().next_down();
        let x = [below, 2f64.sqrt(), 2.0, f64::NAN];
        let y = [below, 2f64.sqrt(), 0.0, f64::INFINITY];
        let tests: Vec<bool> = (0..4).map(|i| scalar(x[i], y[i], 0.25, -0.5).0).collect();
        assert_eq!(tests, [true, false, false, false]);
        check(x, y, [0.25; 4], [-0.5; 4]).unwrap();
    }
}
