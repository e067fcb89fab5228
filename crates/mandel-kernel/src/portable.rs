//! The portable vector: four doubles in an array, plain Rust arithmetic. The compiler maps it
//! onto whatever the target's baseline has (SSE2 on x86-64, NEON on aarch64).

use super::simd::Simd;

pub struct Portable;

const L: usize = 4;

#[inline(always)]
fn map2(a: [f64; L], b: [f64; L], f: impl Fn(f64, f64) -> f64) -> [f64; L] {
    std::array::from_fn(|i| f(a[i], b[i]))
}

// SAFETY: plain Rust; no instruction beyond the target's baseline.
unsafe impl Simd for Portable {
    const LANES: usize = L;
    /// Lower than the vector ISAs' limit: without a compare mask to subtract, this counting
    /// loop is slower, and at max-iter 1000 refilling beat it (1.19x at the default view, one
    /// A/B run on an AVX2 Zen 3, where this compiles to SSE2).
    const COUNTING_MAX_ITER: u32 = 512;
    /// Shorter than the vector ISAs' sieve, for the same slower counting loop. Against the
    /// refilling strategy alone (K = 4), 64 steps ran the default view at max-iter 5000 1.53x
    /// faster with shortcuts, and without them 0.80x in one run and 1.05x in a later one (no
    /// sieve: 0.92x and 1.03x); A/B runs on the same Zen 3.
    const SIEVE_STEPS: u32 = 64;
    type V = [f64; L];
    type Counts = [u64; L];
    #[inline(always)]
    unsafe fn splat(x: f64) -> Self::V {
        [x; L]
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self::V {
        unsafe { p.cast::<[f64; L]>().read_unaligned() }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f64, v: Self::V) {
        unsafe { p.cast::<[f64; L]>().write_unaligned(v) }
    }
    #[inline(always)]
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V {
        map2(a, b, |a, b| a + b)
    }
    #[inline(always)]
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V {
        map2(a, b, |a, b| a - b)
    }
    #[inline(always)]
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V {
        map2(a, b, |a, b| a * b)
    }
    #[inline(always)]
    unsafe fn div(a: Self::V, b: Self::V) -> Self::V {
        map2(a, b, |a, b| a / b)
    }
    #[inline(always)]
    unsafe fn sqrt(a: Self::V) -> Self::V {
        a.map(f64::sqrt)
    }
    #[inline(always)]
    unsafe fn le_mask(a: Self::V, b: Self::V) -> u32 {
        (0..L).fold(0, |m, i| m | (u32::from(a[i] <= b[i]) << i))
    }
    #[inline(always)]
    unsafe fn eq_mask(a: Self::V, b: Self::V) -> u32 {
        (0..L).fold(0, |m, i| m | (u32::from(a[i] == b[i]) << i))
    }
    #[inline(always)]
    unsafe fn select_ge(a: Self::V, b: Self::V, t: Self::V, f: Self::V) -> Self::V {
        std::array::from_fn(|i| if a[i] >= b[i] { t[i] } else { f[i] })
    }
    #[inline(always)]
    unsafe fn zero_counts() -> Self::Counts {
        [0; L]
    }
    #[inline(always)]
    unsafe fn count_below(n: Self::Counts, a: Self::V, b: Self::V) -> Self::Counts {
        std::array::from_fn(|i| n[i] + u64::from(a[i] < b[i]))
    }
    #[inline(always)]
    unsafe fn store_counts(p: *mut u64, n: Self::Counts) {
        unsafe { p.cast::<[u64; L]>().write_unaligned(n) }
    }
    #[inline(always)]
    unsafe fn nlt_mask(a: Self::V, b: Self::V) -> u32 {
        let not_below = |i: usize| a[i].partial_cmp(&b[i]) != Some(std::cmp::Ordering::Less);
        (0..L).fold(0, |m, i| m | (u32::from(not_below(i)) << i))
    }
}
