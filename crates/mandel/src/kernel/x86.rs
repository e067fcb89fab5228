//! AVX2 (4 doubles) and AVX-512 (8 doubles) primitives for the generic kernel body.

#[cfg(target_arch = "x86")]
use std::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::simd::Simd;

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
}

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

/// The AVX2 kernel: 5 vectors of 4 lanes in flight (the best of 3 to 8 on an AVX2-only
/// Zen 3 in one run of an A/B timing: 4 leaves the adders idle, 6 spills registers), 4 in the
/// counting strategy, whose per-lane counts take a register per vector more (4 beat 2, 3 and
/// 5 there: 5 spilled in the inner loop).
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn render_span_avx2(
    vp: &crate::Viewport,
    first_row: u32,
    max_iter: u32,
    shortcuts: bool,
    out: &mut [u32],
) {
    unsafe { super::simd::render::<Avx2, 5, 4>(vp, first_row, max_iter, shortcuts, out) }
}

/// The AVX-512 kernel: 4 vectors of 8 lanes in flight in both strategies (32 registers hold
/// the counting strategy's state too).
///
/// # Safety
/// The CPU must have AVX-512F.
#[target_feature(enable = "avx512f")]
pub unsafe fn render_span_avx512(
    vp: &crate::Viewport,
    first_row: u32,
    max_iter: u32,
    shortcuts: bool,
    out: &mut [u32],
) {
    unsafe { super::simd::render::<Avx512, 4, 4>(vp, first_row, max_iter, shortcuts, out) }
}
