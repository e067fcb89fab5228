//! One generic body for every vector kernel; the per-ISA modules only supply the primitives.
//!
//! Exactness: every lane performs the scalar kernel's operations on the same doubles, in the
//! same order (`x*x`, `y*y`, `x*y`, `(xx - yy) + cx`, `(xy + xy) + cy`); vector adds and
//! multiplies round exactly as scalar ones, and no FMA or reassociation is introduced. What
//! differs is only *when* the escape test is looked at:
//!
//! - Lanes run blocks of [`BLOCK`] steps without any test, then test once, on the state the
//!   block ended in, whether `x*x + y*y < 4` fails (an unordered compare: NaN fails it).
//! - If a lane fails that test, the block is replayed from its start (kept for this) with the
//!   test before every step, which finds the exact step each such lane escaped at (capped at
//!   max-iter).
//! - A lane that passes it ran every step of the block inside the circle (argument below), so
//!   its count grows by the block length; if that reaches max-iter, its count is max-iter (the
//!   steps it ran past the limit in the block are thrown away).
//! - Lanes that finish are refilled with the next pixel, so vectors stay full. Pixels arrive
//!   from a sieve of the counting strategy's tiles (`Tiles`), which counts those that escape
//!   (or are trapped) within its first steps and hands on the rest with the z they reached.
//! - With shortcuts on, a lane whose z at a block's end equals, bit for bit, the z it held at
//!   an earlier block's end (probed when its orbit is 1, 2, 4, ... blocks old) is periodic:
//!   the arithmetic is deterministic, so the orbit repeats those values forever, and each of
//!   them passed the test; it never escapes and its count is max-iter. So is a lane whose z
//!   lies in one of its point's trap discs (main cardioid and period-2 bulb; see `trap`), at
//!   a block's end or already at z = 0. This skips work only.
//!
//! Why a test at the end of a block sees every escape inside it: only points with
//! `|c| < 2 - 2.5e-9` enter a vector (`cx*cx + cy*cy < SAFE_C2`); the rest are counted by the
//! scalar code at once (most of them have count 1: `z1 = c` is already outside). For such c,
//! once `|z| >= 2` the next value has `|z*z + c| >= |z|^2 - |c| >= 4 - |c| > 2 + 2.5e-9`, and
//! it keeps growing: a lane that escaped stays escaped, by a margin that dwarfs the rounding
//! errors (below 1e-14 at these magnitudes), so the end-of-block test fails too. Late in a long
//! block it may overflow: from then on a component is infinite or NaN at every step (a square
//! of a non-finite value is non-finite, so is `x*x - y*y + cx`, and NaN spreads), and the
//! test fails on those as well, being "not below 4" rather than "at least 4". A lane that has
//! not escaped holds `|z| < 2`, finite. So blocks may be of any length.

mod discs;
mod pixels;
mod refill;
mod sieve;
mod tiles;

use crate::stop::{Stop, Stopped};
use crate::tuning::COUNTING_BULB_MIN_ITER;
pub use crate::tuning::{COUNTING_MAX_ITER, SIEVE_STEPS};
use refill::render_span;
use tiles::render_span_counting;

/// Points with `cx*cx + cy*cy` at least this (|c| within 2.5e-9 of 2, or beyond) are counted by
/// the scalar code; see the module comment.
const SAFE_C2: f64 = 4.0 - 1e-8;

/// A vector of `LANES` doubles and the few operations the kernel needs.
///
/// # Safety
/// Implementations use instructions of one ISA extension; callers must run them only where
/// the CPU has it (the per-ISA shims are `#[target_feature]` functions called after detection).
pub unsafe trait Simd {
    const LANES: usize;
    /// Up to this max-iter the counting strategy runs, above it the refilling one.
    const COUNTING_MAX_ITER: u32 = COUNTING_MAX_ITER;
    /// Steps of the refilling strategy's sieve (a multiple of the counting block; see
    /// [`SIEVE_STEPS`]).
    const SIEVE_STEPS: u32 = SIEVE_STEPS;
    type V: Copy;
    /// One 64-bit integer counter per lane.
    type Counts: Copy;
    unsafe fn splat(x: f64) -> Self::V;
    unsafe fn load(p: *const f64) -> Self::V;
    unsafe fn store(p: *mut f64, v: Self::V);
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn div(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn sqrt(a: Self::V) -> Self::V;
    /// Bit i set when lane i of `a` is not below `b`: `a >= b`, or `a` is NaN (unordered).
    unsafe fn nlt_mask(a: Self::V, b: Self::V) -> u32;
    /// Bit i set when lane i of `a` is <= `b` (ordered: never for NaN).
    unsafe fn le_mask(a: Self::V, b: Self::V) -> u32;
    /// Bit i set when lane i of `a` equals `b` (ordered: NaN equals nothing).
    unsafe fn eq_mask(a: Self::V, b: Self::V) -> u32;
    /// Counters that are all zero.
    unsafe fn zero_counts() -> Self::Counts;
    /// `n` plus 1 in the lanes where `a < b` (ordered: not for NaN).
    unsafe fn count_below(n: Self::Counts, a: Self::V, b: Self::V) -> Self::Counts;
    unsafe fn store_counts(p: *mut u64, n: Self::Counts);
    /// `t` in the lanes where `a >= b`, `f` elsewhere.
    unsafe fn select_ge(a: Self::V, b: Self::V, t: Self::V, f: Self::V) -> Self::V;
    /// One step of `z <- z*z + c`, in the scalar kernel's order of operations. (AVX2 pins
    /// the order of instructions too: see `x86`.)
    #[inline(always)]
    unsafe fn step(x: &mut Self::V, y: &mut Self::V, cx: &Self::V, cy: &Self::V) {
        unsafe {
            let xx = Self::mul(*x, *x);
            let yy = Self::mul(*y, *y);
            let xy = Self::mul(*x, *y);
            *x = Self::add(Self::sub(xx, yy), *cx);
            *y = Self::add(Self::add(xy, xy), *cy);
        }
    }
    /// The counting strategy's step: `n` plus 1 in the lanes where `x*x + y*y < 4`, then
    /// [`Simd::step`].
    #[inline(always)]
    unsafe fn count_step(
        x: &mut Self::V,
        y: &mut Self::V,
        n: &mut Self::Counts,
        cx: &Self::V,
        cy: &Self::V,
    ) {
        unsafe {
            // (The step's squares are the same operations: the compiler computes them once.)
            let r2 = Self::add(Self::mul(*x, *x), Self::mul(*y, *y));
            *n = Self::count_below(*n, r2, Self::splat(4.0));
            Self::step(x, y, cx, cy);
        }
    }
}

/// Most lanes any implementation has (AVX-512: 8 doubles) times most vectors in flight.
const MAX_SLOTS: usize = 8 * 4;
const IDLE: usize = usize::MAX;

/// One step of `z <- z*z + c` on every vector, in the scalar kernel's order of operations.
#[inline(always)]
unsafe fn step_all<S: Simd, const K: usize>(
    vx: &mut [S::V; K],
    vy: &mut [S::V; K],
    vcx: &[S::V; K],
    vcy: &[S::V; K],
) {
    for k in 0..K {
        // SAFETY: the caller of `render_span` vouches for the instructions.
        unsafe { S::step(&mut vx[k], &mut vy[k], &vcx[k], &vcy[k]) }
    }
}

/// Counts for the span of pixels in `out`, the first of them being pixel `first`, by whichever
/// of the two vector strategies suits `max_iter`, with `K` vectors in flight when refilling and
/// `KC` when counting; `shortcuts` lets orbits proven bounded (periodic, or trapped) stop
/// early. Returns the iterations those shortcuts skipped (the counts' sum less the steps
/// counted), or [`Stopped`] if `stop` said so first.
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn render<S: Simd, const K: usize, const KC: usize>(
    vp: &crate::Viewport,
    first: u64,
    max_iter: u32,
    shortcuts: bool,
    stop: Stop,
    out: &mut [u32],
) -> Result<u64, Stopped> {
    // SAFETY: passed on from the caller.
    unsafe {
        if max_iter <= COUNTING_BULB_MIN_ITER {
            render_span_counting::<S, KC, false>(vp, first, max_iter, shortcuts, stop, out)
        } else if max_iter <= S::COUNTING_MAX_ITER {
            render_span_counting::<S, KC, true>(vp, first, max_iter, shortcuts, stop, out)
        } else {
            render_span::<S, K, KC>(vp, first, max_iter, shortcuts, stop, out)
        }
    }
}
