//! NEON primitives (2 doubles) for the generic kernel body on aarch64.

use std::arch::aarch64::*;

use super::simd::Simd;

pub struct Neon;

// SAFETY: NEON is part of the aarch64 baseline.
unsafe impl Simd for Neon {
    const LANES: usize = 2;
    type V = float64x2_t;
    type Counts = uint64x2_t;
    #[inline(always)]
    unsafe fn splat(x: f64) -> float64x2_t {
        unsafe { vdupq_n_f64(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> float64x2_t {
        unsafe { vld1q_f64(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f64, v: float64x2_t) {
        unsafe { vst1q_f64(p, v) }
    }
    #[inline(always)]
    unsafe fn add(a: float64x2_t, b: float64x2_t) -> float64x2_t {
        unsafe { vaddq_f64(a, b) }
    }
    #[inline(always)]
    unsafe fn sub(a: float64x2_t, b: float64x2_t) -> float64x2_t {
        unsafe { vsubq_f64(a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: float64x2_t, b: float64x2_t) -> float64x2_t {
        unsafe { vmulq_f64(a, b) }
    }
    #[inline(always)]
    unsafe fn div(a: float64x2_t, b: float64x2_t) -> float64x2_t {
        unsafe { vdivq_f64(a, b) }
    }
    #[inline(always)]
    unsafe fn sqrt(a: float64x2_t) -> float64x2_t {
        unsafe { vsqrtq_f64(a) }
    }
    #[inline(always)]
    unsafe fn le_mask(a: float64x2_t, b: float64x2_t) -> u32 {
        unsafe {
            let m = vcleq_f64(a, b);
            (vgetq_lane_u64::<0>(m) & 1) as u32 | ((vgetq_lane_u64::<1>(m) & 1) as u32) << 1
        }
    }
    #[inline(always)]
    unsafe fn eq_mask(a: float64x2_t, b: float64x2_t) -> u32 {
        unsafe {
            let m = vceqq_f64(a, b);
            (vgetq_lane_u64::<0>(m) & 1) as u32 | ((vgetq_lane_u64::<1>(m) & 1) as u32) << 1
        }
    }
    #[inline(always)]
    unsafe fn select_ge(
        a: float64x2_t,
        b: float64x2_t,
        t: float64x2_t,
        f: float64x2_t,
    ) -> float64x2_t {
        unsafe { vbslq_f64(vcgeq_f64(a, b), t, f) }
    }
    #[inline(always)]
    unsafe fn zero_counts() -> uint64x2_t {
        unsafe { vdupq_n_u64(0) }
    }
    #[inline(always)]
    unsafe fn count_below(n: uint64x2_t, a: float64x2_t, b: float64x2_t) -> uint64x2_t {
        // The compare leaves all ones (-1) in the lanes to count: one subtraction counts them.
        unsafe { vsubq_u64(n, vcltq_f64(a, b)) }
    }
    #[inline(always)]
    unsafe fn store_counts(p: *mut u64, n: uint64x2_t) {
        unsafe { vst1q_u64(p, n) }
    }
    #[inline(always)]
    unsafe fn nlt_mask(a: float64x2_t, b: float64x2_t) -> u32 {
        unsafe {
            // Lanes that are below `b` are all ones, the others (NaN included) all zeros.
            let below = vcltq_f64(a, b);
            (!vgetq_lane_u64::<0>(below) & 1) as u32
                | ((!vgetq_lane_u64::<1>(below) & 1) as u32) << 1
        }
    }
}

/// The NEON kernel: the vectors in flight are in `tuning`.
pub fn render_span_neon(
    vp: &crate::Viewport,
    first: u64,
    max_iter: u32,
    shortcuts: bool,
    stop: crate::Stop,
    out: &mut [u32],
) -> Result<u64, crate::Stopped> {
    // SAFETY: NEON is always present on aarch64.
    const K: usize = crate::tuning::NEON_VECTORS.0;
    const KC: usize = crate::tuning::NEON_VECTORS.1;
    unsafe { super::simd::render::<Neon, K, KC>(vp, first, max_iter, shortcuts, stop, out) }
}
