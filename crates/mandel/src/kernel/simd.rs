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

use super::scalar::escape_time_from;
use super::trap;

/// Steps between escape tests in the refilling strategy. Longer blocks test less often but
/// replay more steps for each escape and run more steps past max-iter: 16 beat 8 by 1.10x on
/// one core of an AVX2 Zen 3, at 2000x2000 max-iter 5000 and on a view inside the set alike
/// (one A/B run), and 32 was no faster.
pub const BLOCK: u32 = 16;

/// Steps between escape tests in the counting strategy, where pixels escape within a few
/// blocks: 8 beat 16 (1.02x) and 32 (1.2x) on the Benchmarks Game workload (one A/B run).
const COUNTING_BLOCK: u32 = 8;

/// Steps every pixel runs in the counting strategy's tiles before the refilling strategy takes
/// over the ones still running: a pixel that escapes within them costs no refill (a replay of
/// its vectors' block, a reload, its trap discs), and a pixel deep in the main cardioid or the
/// period-2 bulb is trapped there by discs shared along its row; one that runs on took these
/// steps at the counting loop's slower pace. A multiple of [`COUNTING_BLOCK`].
/// Measured on one core of an AVX2 Zen 3 against the refilling strategy alone (A/B runs, best
/// of 3-5; 64 / 128 / 256 steps): at the default view, 2000² max-iter 5000, 1.78x / 1.85x /
/// 1.90x, and without shortcuts 1.05x / 1.09x / 1.06x (1.00x for 128 and 256 in a later,
/// noisier run); a seahorse-valley zoom (1000², zoom 3000, max-iter 100000) 1.25x / 1.62x /
/// 2.01x; a view of the period-2 bulb at 5000 1.44x / 1.39x / 1.44x; the main cardioid at
/// 3000 1.52x / 1.59x / 1.70x. 512 steps was no better than 256 in a second run (1.92x against
/// 1.88x at the default view, 1.86x against 1.77x on the zoom, 1.02x against 1.06x without
/// shortcuts), and 1024 worse (0.96x without shortcuts, where every pixel inside the set takes
/// the sieve's steps at the slower pace). Rechecked once both loops' steps were pinned in
/// assembly (`x86`), 128 / 512 steps against 256: 0.89x / 0.92x at the default view, 0.99x /
/// 0.96x without shortcuts, 0.96x / 1.02x on the zoom (best of 11).
pub const SIEVE_STEPS: u32 = 256;

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

/// Pixels come from a span of rows, so that vectors do not idle at the end of every row.
struct Pixels<'a> {
    vp: &'a crate::Viewport,
    width: u32,
    /// Index in the span of the next pixel, and its row and column in the viewport.
    next: usize,
    row: u32,
    col: u32,
    cy: f64,
    len: usize,
}

/// 0, 1, 2, ... as doubles: a lane's offset from the first column of a vector.
static LANE_OFFSETS: [f64; 8] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];

impl<'a> Pixels<'a> {
    fn new(vp: &'a crate::Viewport, first_row: u32, len: usize) -> Self {
        Pixels {
            vp,
            width: vp.width(),
            next: 0,
            row: first_row,
            col: 0,
            cy: vp.cy(first_row),
            len,
        }
    }

    /// Passes over `n` pixels of the current row (the caller computed them itself).
    #[inline]
    fn skip(&mut self, n: usize) {
        debug_assert!(self.next + n <= self.len && self.col as usize + n <= self.width as usize);
        self.next += n;
        self.col += n as u32;
        if self.col == self.width && self.next < self.len {
            self.col = 0;
            self.row += 1;
            self.cy = self.vp.cy(self.row);
        }
    }

    /// The next pixel's index in the span and its point, or None when the span is done.
    #[inline]
    fn next(&mut self) -> Option<(usize, f64, f64)> {
        if self.next == self.len {
            return None;
        }
        let item = (self.next, self.vp.cx(self.col), self.cy);
        self.next += 1;
        self.col += 1;
        if self.col == self.width && self.next < self.len {
            self.col = 0;
            self.row += 1;
            self.cy = self.vp.cy(self.row);
        }
        Some(item)
    }
}

/// Up to two trap discs per lane (`trap`): the main cardioid's in the first, the period-2
/// bulb's pair in both.
struct Discs {
    x: [[f64; MAX_SLOTS]; 2],
    y: [[f64; MAX_SLOTS]; 2],
    bound: [[f64; MAX_SLOTS]; 2],
}

impl Discs {
    const NONE: Discs = Discs {
        x: [[0.0; MAX_SLOTS]; 2],
        y: [[0.0; MAX_SLOTS]; 2],
        bound: [[-1.0; MAX_SLOTS]; 2],
    };

    fn set(&mut self, slot: usize, discs: [trap::Disc<f64>; 2]) {
        for (i, (x, y, bound)) in discs.into_iter().enumerate() {
            (self.x[i][slot], self.y[i][slot], self.bound[i][slot]) = (x, y, bound);
        }
    }

    /// Bit i set when z in lane i of the vector whose first slot is `o` lies in the lane's
    /// first disc or, if `pair`, its second.
    ///
    /// # Safety
    /// `o + S::LANES <= MAX_SLOTS`; the CPU must support the instructions `S` uses.
    #[inline(always)]
    unsafe fn inside<S: Simd>(&self, o: usize, x: S::V, y: S::V, pair: bool) -> u32 {
        // SAFETY: passed on from the caller.
        unsafe {
            let first = trap::inside::<S>(x, y, self.load::<S>(0, o));
            if pair {
                first | trap::inside::<S>(x, y, self.load::<S>(1, o))
            } else {
                first
            }
        }
    }

    /// Stores `disc` as disc `i` of the vector whose first slot is `o`.
    ///
    /// # Safety
    /// As for [`Discs::inside`].
    #[inline(always)]
    unsafe fn store<S: Simd>(&mut self, i: usize, o: usize, (x, y, bound): trap::Disc<S::V>) {
        // SAFETY: passed on from the caller.
        unsafe {
            S::store(self.x[i].as_mut_ptr().add(o), x);
            S::store(self.y[i].as_mut_ptr().add(o), y);
            S::store(self.bound[i].as_mut_ptr().add(o), bound);
        }
    }

    /// Disc `i` of the vector whose first slot is `o`.
    ///
    /// # Safety
    /// As for [`Discs::inside`].
    #[inline(always)]
    unsafe fn load<S: Simd>(&self, i: usize, o: usize) -> trap::Disc<S::V> {
        // SAFETY: passed on from the caller.
        unsafe {
            (
                S::load(self.x[i].as_ptr().add(o)),
                S::load(self.y[i].as_ptr().add(o)),
                S::load(self.bound[i].as_ptr().add(o)),
            )
        }
    }
}

/// Per-lane state in memory, touched only between blocks (after an escape or at max-iter).
struct Slots {
    pixel: [usize; MAX_SLOTS],
    /// The step counter when the slot's pixel would have started from z = 0 (it arrives
    /// from the sieve with steps done): its count is `step - start`.
    start: [u64; MAX_SLOTS],
    x: [f64; MAX_SLOTS],
    y: [f64; MAX_SLOTS],
    cx: [f64; MAX_SLOTS],
    cy: [f64; MAX_SLOTS],
    /// An earlier z of the slot's orbit, for cycle detection; NaN (equal to nothing) until
    /// the first probe after the pixel was loaded.
    probe_x: [f64; MAX_SLOTS],
    probe_y: [f64; MAX_SLOTS],
    /// The block count when the pixel was loaded, and when its next probe is due: probes are
    /// taken when the orbit is 1, 2, 4, 8, ... blocks old (Brent's cycle detection).
    born: [u64; MAX_SLOTS],
    probe_at: [u64; MAX_SLOTS],
    /// The trap discs of the slots' points (none without shortcuts, and for idle slots).
    discs: Discs,
    /// The trap discs of the stretch of row that pixels were last taken from (cardioid or
    /// bulb; see `trap::discs_along`).
    row_discs: trap::RowDiscs,
    /// Whether proven shortcuts may count pixels before they reach max-iter.
    shortcuts: bool,
}

impl Slots {
    /// Loads the next pixel that the sieve passes on into `slot` (with the z it reached, at
    /// `step`); leaves the slot idle at the end of the span.
    ///
    /// # Safety
    /// The CPU must support the instructions `S` uses.
    #[inline(always)]
    unsafe fn refill<S: Simd, const KC: usize>(
        &mut self,
        slot: usize,
        step: u64,
        blocks: u64,
        max_iter: u32,
        sieve: &mut Sieve,
        out: &mut [u32],
    ) {
        let mut next = None;
        let mut discs = [trap::NO_DISC; 2];
        // SAFETY: passed on from the caller.
        while let Some(lane) = unsafe { sieve.next::<S, KC>(max_iter, self.shortcuts, out) } {
            if self.shortcuts
                && let Some(found) = trap::discs_along(
                    lane.cx,
                    lane.cy,
                    sieve.tiles.px.vp.dx(),
                    &mut self.row_discs,
                )
            {
                // The orbit may already have entered a disc.
                if found
                    .iter()
                    .any(|&disc| trap::inside_one(lane.x, lane.y, disc))
                {
                    out[lane.pixel] = max_iter;
                    continue;
                }
                discs = found;
            }
            next = Some(lane);
            break;
        }
        let lane = next.unwrap_or(Lane::IDLE);
        self.discs.set(slot, discs);
        self.pixel[slot] = lane.pixel;
        self.start[slot] = step - u64::from(lane.done);
        self.x[slot] = lane.x;
        self.y[slot] = lane.y;
        self.cx[slot] = lane.cx;
        self.cy[slot] = lane.cy;
        self.probe_x[slot] = f64::NAN;
        self.probe_y[slot] = f64::NAN;
        self.born[slot] = blocks;
        self.probe_at[slot] = if lane.pixel == IDLE {
            u64::MAX
        } else {
            blocks + 1
        };
    }
}

/// Counts for the whole rows in `out`, the first of them being `first_row`: the same values
/// as [`super::escape_time`] for every pixel, for large max-iter.
///
/// Every pixel first runs [`Simd::SIEVE_STEPS`] steps in the counting strategy's tiles (`KC`
/// vectors each), where most pixels of a typical view escape without the cost of a refill;
/// those still running go on here, `K` vectors in flight so that the multiply/add latency is
/// hidden, each lane refilled with the next of them as soon as its pixel is done.
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn render_span<S: Simd, const K: usize, const KC: usize>(
    vp: &crate::Viewport,
    first_row: u32,
    max_iter: u32,
    shortcuts: bool,
    out: &mut [u32],
) {
    let lanes = S::LANES * K;
    assert!(lanes <= MAX_SLOTS);
    let mut sieve = Sieve {
        tiles: Tiles::new(vp, first_row, out.len()),
        lanes: [Lane::IDLE; MAX_SLOTS],
        len: 0,
        next: 0,
    };
    let mut s = Slots {
        pixel: [IDLE; MAX_SLOTS],
        start: [0; MAX_SLOTS],
        x: [0.0; MAX_SLOTS],
        y: [0.0; MAX_SLOTS],
        cx: [0.0; MAX_SLOTS],
        cy: [0.0; MAX_SLOTS],
        probe_x: [f64::NAN; MAX_SLOTS],
        probe_y: [f64::NAN; MAX_SLOTS],
        born: [0; MAX_SLOTS],
        probe_at: [u64::MAX; MAX_SLOTS],
        discs: Discs::NONE,
        row_discs: trap::RowDiscs::NONE,
        shortcuts,
    };
    let mut blocks: u64 = 0;
    let mut now_x = [0.0f64; MAX_SLOTS];
    let mut now_y = [0.0f64; MAX_SLOTS];
    let max_iter64 = u64::from(max_iter);
    // Starts past any lane's steps done in the sieve, so that a lane's start never wraps.
    let mut step = u64::from(max_iter);
    let mut saved_x = [0.0f64; MAX_SLOTS];
    let mut saved_y = [0.0f64; MAX_SLOTS];
    // Slots to refill (bit per slot) before the next blocks: all of them at first.
    let mut empty: u64 = (1 << lanes) - 1;

    // SAFETY: every pointer offset stays below `lanes <= MAX_SLOTS`; the caller vouches for
    // the instructions.
    unsafe {
        let four = S::splat(4.0);
        loop {
            // (One call site: refilling inlines the sieve's tiles.)
            while empty != 0 {
                let slot = empty.trailing_zeros() as usize;
                empty &= empty - 1;
                s.refill::<S, KC>(slot, step, blocks, max_iter, &mut sieve, out);
            }
            // The step at which the first slot reaches max-iter.
            let deadline = (0..lanes)
                .filter(|&slot| s.pixel[slot] != IDLE)
                .map(|slot| s.start[slot] + max_iter64)
                .min();
            let Some(deadline) = deadline else { return };
            let mut next_probe = (0..lanes)
                .map(|slot| s.probe_at[slot])
                .min()
                .unwrap_or(u64::MAX);

            let mut vx = [S::splat(0.0); K];
            let mut vy = [S::splat(0.0); K];
            let mut vcx = [S::splat(0.0); K];
            let mut vcy = [S::splat(0.0); K];
            for k in 0..K {
                let o = k * S::LANES;
                vx[k] = S::load(s.x.as_ptr().add(o));
                vy[k] = S::load(s.y.as_ptr().add(o));
                vcx[k] = S::load(s.cx.as_ptr().add(o));
                vcy[k] = S::load(s.cy.as_ptr().add(o));
            }

            // Blocks without a branch inside, until one ends with an escape, a cycle, or past a
            // deadline.
            let (escaped, bounded, block_start) = loop {
                let block_start = step;
                for k in 0..K {
                    let o = k * S::LANES;
                    S::store(saved_x.as_mut_ptr().add(o), vx[k]);
                    S::store(saved_y.as_mut_ptr().add(o), vy[k]);
                }
                for _ in 0..BLOCK {
                    step_all::<S, K>(&mut vx, &mut vy, &vcx, &vcy);
                }
                step += u64::from(BLOCK);
                let mut escaped = [0u32; K];
                let mut any = 0;
                for k in 0..K {
                    let r2 = S::add(S::mul(vx[k], vx[k]), S::mul(vy[k], vy[k]));
                    escaped[k] = S::nlt_mask(r2, four);
                    any |= escaped[k];
                }
                // Lanes proven never to escape. An orbit back on a value it held before (bit for
                // bit) repeats forever, and every value in the loop passed the test. Each slot is
                // probed when its orbit is 1, 2, 4, ... blocks old, so a cycle is seen within a
                // few periods of its start. An orbit in one of its point's trap discs stays in
                // them.
                let mut bounded = [0u32; K];
                if shortcuts {
                    for k in 0..K {
                        let o = k * S::LANES;
                        let same_x = S::eq_mask(vx[k], S::load(s.probe_x.as_ptr().add(o)));
                        let same_y = S::eq_mask(vy[k], S::load(s.probe_y.as_ptr().add(o)));
                        let trapped = s.discs.inside::<S>(o, vx[k], vy[k], true);
                        bounded[k] = (same_x & same_y | trapped) & !escaped[k];
                        any |= bounded[k];
                    }
                    blocks += 1;
                    if blocks >= next_probe {
                        for k in 0..K {
                            let o = k * S::LANES;
                            S::store(now_x.as_mut_ptr().add(o), vx[k]);
                            S::store(now_y.as_mut_ptr().add(o), vy[k]);
                        }
                        // Without branches (which slots are due is as good as random) and in one
                        // pass: 1.02-1.03x with shortcuts at the default view and a seahorse zoom.
                        next_probe = u64::MAX;
                        for slot in 0..lanes {
                            let due = s.probe_at[slot] <= blocks;
                            let renewed = blocks + (blocks - s.born[slot]);
                            s.probe_x[slot] = if due { now_x[slot] } else { s.probe_x[slot] };
                            s.probe_y[slot] = if due { now_y[slot] } else { s.probe_y[slot] };
                            s.probe_at[slot] = if due { renewed } else { s.probe_at[slot] };
                            next_probe = next_probe.min(s.probe_at[slot]);
                        }
                    }
                }
                if any != 0 || step >= deadline {
                    break (escaped, bounded, block_start);
                }
            };

            for k in 0..K {
                let o = k * S::LANES;
                S::store(s.x.as_mut_ptr().add(o), vx[k]);
                S::store(s.y.as_mut_ptr().add(o), vy[k]);
            }
            let escaped_at = replay_block::<S, K>(&saved_x, &saved_y, &vcx, &vcy, escaped);
            for (k, &mask) in escaped.iter().enumerate() {
                for lane in 0..S::LANES {
                    let slot = k * S::LANES + lane;
                    let i = s.pixel[slot];
                    if i == IDLE {
                        continue;
                    }
                    let done = block_start - s.start[slot];
                    if mask >> lane & 1 == 1 {
                        out[i] = match escaped_at[slot] {
                            Some(j) => (done + u64::from(j)).min(max_iter64) as u32,
                            // Unreachable (the replay repeats the block's arithmetic), but the
                            // scalar steps are the definition, so fall back on them.
                            None => escape_time_from(
                                saved_x[slot],
                                saved_y[slot],
                                s.cx[slot],
                                s.cy[slot],
                                done as u32,
                                max_iter,
                            ),
                        };
                        empty |= 1 << slot;
                    } else if bounded[k] >> lane & 1 == 1 || step - s.start[slot] >= max_iter64 {
                        out[i] = max_iter;
                        empty |= 1 << slot;
                    }
                }
            }
        }
    }
}

/// Re-runs the last block from its saved start, testing before every step, for the lanes in
/// `escaped`: returns, per slot, after how many of the block's steps the lane first failed the
/// test (0 to BLOCK). All vectors are replayed together so that their latencies overlap.
#[inline(always)]
unsafe fn replay_block<S: Simd, const K: usize>(
    saved_x: &[f64; MAX_SLOTS],
    saved_y: &[f64; MAX_SLOTS],
    vcx: &[S::V; K],
    vcy: &[S::V; K],
    escaped: [u32; K],
) -> [Option<u32>; MAX_SLOTS] {
    let mut at = [None; MAX_SLOTS];
    if escaped.iter().all(|&m| m == 0) {
        return at;
    }
    // SAFETY: offsets stay below K * LANES <= MAX_SLOTS; the caller vouches for the ISA.
    unsafe {
        let four = S::splat(4.0);
        let mut x = [S::splat(0.0); K];
        let mut y = [S::splat(0.0); K];
        for k in 0..K {
            x[k] = S::load(saved_x.as_ptr().add(k * S::LANES));
            y[k] = S::load(saved_y.as_ptr().add(k * S::LANES));
        }
        let mut pending = escaped;
        for j in 0..=BLOCK {
            for k in 0..K {
                let r2 = S::add(S::mul(x[k], x[k]), S::mul(y[k], y[k]));
                let mut newly = S::nlt_mask(r2, four) & pending[k];
                pending[k] &= !newly;
                while newly != 0 {
                    at[k * S::LANES + newly.trailing_zeros() as usize] = Some(j);
                    newly &= newly - 1;
                }
            }
            if pending.iter().all(|&m| m == 0) {
                break;
            }
            step_all::<S, K>(&mut x, &mut y, vcx, vcy);
        }
    }
    at
}

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

/// Counts for the whole rows in `out`, the first of them being `first_row`, by whichever of the
/// two vector strategies suits `max_iter`, with `K` vectors in flight when refilling and `KC`
/// when counting; `shortcuts` lets orbits proven bounded (periodic, or trapped) stop early.
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn render<S: Simd, const K: usize, const KC: usize>(
    vp: &crate::Viewport,
    first_row: u32,
    max_iter: u32,
    shortcuts: bool,
    out: &mut [u32],
) {
    // SAFETY: passed on from the caller.
    unsafe {
        if max_iter <= COUNTING_BULB_MIN_ITER {
            render_span_counting::<S, KC, false>(vp, first_row, max_iter, shortcuts, out)
        } else if max_iter <= S::COUNTING_MAX_ITER {
            render_span_counting::<S, KC, true>(vp, first_row, max_iter, shortcuts, out)
        } else {
            render_span::<S, K, KC>(vp, first_row, max_iter, shortcuts, out)
        }
    }
}

/// Up to this limit (by default: see [`Simd::COUNTING_MAX_ITER`]), [`render_span_counting`]
/// beats the refilling kernel: most pixels finish within a few blocks, so a refill's scalar
/// bookkeeping (replay, reload, the next pixel's trap discs: about 125 cycles per pixel that
/// escapes) costs more than a tile's idle lanes, and inside the main cardioid the trap disc
/// stops a tile as early as it stops a lane.
/// Measured on one core of an AVX2 Zen 3, counting against refilling, one A/B run each
/// (before the counting strategy had the bulb's discs): 3.3x (max-iter 200), 2.2x (500), 1.2x
/// (1000) on the Benchmarks Game view; 1.27x (500), 1.09x (1000), 0.91x (2000) on a
/// seahorse-valley zoom; 2.0x (200), 1.2x (1000), 0.85x (2000) at the default view; without
/// shortcuts 1.13x (300) and 0.98x (1000) there. With them, raising this from 512 to 1000
/// gave 1.74x and 1.42x at the default view at 800 and 1000, 1.05x and 1.22x on the seahorse
/// zoom, and 1.07x or more on the seed's 400x400 picture (1.0x without shortcuts).
/// Once the refilling strategy had its sieve (`SIEVE_STEPS`), lowering this to 512 or 256 was
/// still slower: 0.99x and 0.93x on the Benchmarks Game view at 4000² max-iter 1000, 0.66x
/// and 0.69x on a seahorse-valley zoom at 1000 (1.04x and 1.05x at the default view), and
/// 0.78x to 0.99x at max-iter 400 and 700 (one A/B run, best of 3-5).
pub const COUNTING_MAX_ITER: u32 = 1000;

/// Above this limit the counting strategy also uses the period-2 bulb's pair of trap discs:
/// at the Benchmarks Game's 50 they cost more in square roots than they save (0.92x there),
/// at 500 they make a view of the bulb 7.2x faster and the Benchmarks Game view at max-iter
/// 256 1.09x (one A/B run each). Below it the strategy is compiled without them, which the
/// Benchmarks Game workload also needs (a build with the bulb's code present but unused ran
/// it at 0.92x).
const COUNTING_BULB_MIN_ITER: u32 = 128;

/// Counts for the whole rows in `out` (the first being `first_row`), for small max-iter: every
/// pixel runs in [`Tiles`] until it escapes, is trapped, or reaches max-iter.
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn render_span_counting<S: Simd, const K: usize, const BULB: bool>(
    vp: &crate::Viewport,
    first_row: u32,
    max_iter: u32,
    shortcuts: bool,
    out: &mut [u32],
) {
    let mut tiles = Tiles::new(vp, first_row, out.len());
    // SAFETY: passed on from the caller.
    unsafe { while tiles.run::<S, K, BULB, false>(max_iter, shortcuts, out, &mut |_| {}) {} }
}

/// A counting tile's orbits: `LANES * K` points c, each with its z and its count so far.
struct Orbits<S: Simd, const K: usize> {
    x: [S::V; K],
    y: [S::V; K],
    n: [S::Counts; K],
    cx: [S::V; K],
    cy: [S::V; K],
}

/// The trap discs a counting tile's lanes are tested against after each block: none, the
/// row's (the same for every lane), or each lane's own. The block loop is compiled once for
/// each, so that a tile without discs carries none of their code.
trait TileDiscs<S: Simd> {
    /// Bit i set when z in lane i of the vector whose first slot is `o` lies in a disc.
    ///
    /// # Safety
    /// `o + S::LANES <= MAX_SLOTS`; the CPU must support the instructions `S` uses.
    unsafe fn inside(&self, o: usize, x: S::V, y: S::V) -> u32;
}

/// A tile with no point in or near a component: nothing is ever trapped.
struct NoDiscs;

impl<S: Simd> TileDiscs<S> for NoDiscs {
    #[inline(always)]
    unsafe fn inside(&self, _: usize, _: S::V, _: S::V) -> u32 {
        0
    }
}

/// The discs proven for the tile's whole stretch of row, in every lane; `second` only counts
/// with `pair`.
struct SharedDiscs<S: Simd> {
    disc: trap::Disc<S::V>,
    second: trap::Disc<S::V>,
    pair: bool,
}

impl<S: Simd> TileDiscs<S> for SharedDiscs<S> {
    #[inline(always)]
    unsafe fn inside(&self, _: usize, x: S::V, y: S::V) -> u32 {
        // SAFETY: passed on from the caller.
        unsafe {
            let first = trap::inside::<S>(x, y, self.disc);
            if self.pair {
                first | trap::inside::<S>(x, y, self.second)
            } else {
                first
            }
        }
    }
}

/// Each lane's own discs, as stored in [`Discs`]; the second of each only with `pair`.
struct OwnDiscs<'a> {
    discs: &'a Discs,
    pair: bool,
}

impl<S: Simd> TileDiscs<S> for OwnDiscs<'_> {
    #[inline(always)]
    unsafe fn inside(&self, o: usize, x: S::V, y: S::V) -> u32 {
        // SAFETY: passed on from the caller.
        unsafe { self.discs.inside::<S>(o, x, y, self.pair) }
    }
}

impl<S: Simd, const K: usize> Orbits<S, K> {
    /// Runs blocks of [`COUNTING_BLOCK`] steps, up to `budget` steps in all, until every lane
    /// has escaped or is trapped; the trapped lanes (a bit each) and the number of steps run.
    ///
    /// # Safety
    /// The CPU must support the instructions `S` uses.
    #[inline(always)]
    unsafe fn count_blocks(self, discs: &impl TileDiscs<S>, budget: u32) -> (Self, [u32; K], u32) {
        // (Taken and given back by value: through a reference, the orbits would go to memory
        // at every step.)
        let Orbits {
            mut x,
            mut y,
            mut n,
            cx,
            cy,
        } = self;
        let full = (1u32 << S::LANES) - 1;
        let mut trapped = [0u32; K];
        let mut done = 0;
        // SAFETY: offsets stay below `LANES * K`, checked by the caller against MAX_SLOTS; the
        // caller vouches for the ISA.
        unsafe {
            let four = S::splat(4.0);
            // Deep inside, z1 = c (the first step gives c exactly: `0*0 - 0*0 + cx`) already
            // lies in a disc, and a tile whose every lane does runs no step at all. (z0 = 0
            // needs no test of its own: the discs map into themselves, so had it lain in one,
            // z1 would too.)
            let mut finished = true;
            for k in 0..K {
                trapped[k] = discs.inside(k * S::LANES, cx[k], cy[k]);
                finished &= trapped[k] == full;
            }
            if finished {
                return (Orbits { x, y, n, cx, cy }, trapped, done);
            }
            while done < budget {
                let steps = COUNTING_BLOCK.min(budget - done);
                for _ in 0..steps {
                    for k in 0..K {
                        S::count_step(&mut x[k], &mut y[k], &mut n[k], &cx[k], &cy[k]);
                    }
                }
                done += steps;
                // The test is taken again on the current z, outside the loop so that the loop
                // keeps no test value alive. A lane that fails it fails the next step's test and
                // every later one: its count is final.
                let mut finished = true;
                for k in 0..K {
                    let r2 = S::add(S::mul(x[k], x[k]), S::mul(y[k], y[k]));
                    trapped[k] |= discs.inside(k * S::LANES, x[k], y[k]);
                    finished &= S::nlt_mask(r2, four) | trapped[k] == full;
                }
                if finished {
                    break;
                }
                // Lanes that escaped run on until the tile stops, growing to infinity and NaN,
                // which no longer count. Parking them on a fixed point instead (four selects
                // per vector and block, and a dependence of the next block on this test) was
                // 0.88x on the Benchmarks Game workload on Zen 3, whose vector units take
                // infinities and NaNs at full speed (as x86 and Arm cores do; only subnormals
                // are slow, and a growing orbit never makes one).
            }
        }
        (Orbits { x, y, n, cx, cy }, trapped, done)
    }
}

/// A pixel still running after the sieve's steps: its index in the span, its point, the z it
/// reached and the steps it took to get there (its count so far).
#[derive(Clone, Copy)]
struct Lane {
    pixel: usize,
    cx: f64,
    cy: f64,
    x: f64,
    y: f64,
    done: u32,
}

impl Lane {
    /// No pixel: what an idle slot holds.
    const IDLE: Lane = Lane {
        pixel: IDLE,
        cx: 0.0,
        cy: 0.0,
        x: 0.0,
        y: 0.0,
        done: 0,
    };
}

/// The refilling strategy's source of pixels: the counting strategy's tiles, run for
/// [`Simd::SIEVE_STEPS`] steps, which count the pixels that escape (or are trapped) within them and
/// pass on the rest, in order, a tile at a time.
struct Sieve<'a> {
    tiles: Tiles<'a>,
    /// The last tile's survivors, `next` being the first not yet passed on.
    lanes: [Lane; MAX_SLOTS],
    len: usize,
    next: usize,
}

impl Sieve<'_> {
    /// The next pixel still running after the sieve's steps, or None at the end of the span.
    ///
    /// # Safety
    /// The CPU must support the instructions `S` uses.
    #[inline(always)]
    unsafe fn next<S: Simd, const K: usize>(
        &mut self,
        max_iter: u32,
        shortcuts: bool,
        out: &mut [u32],
    ) -> Option<Lane> {
        while self.next == self.len {
            (self.next, self.len) = (0, 0);
            let (lanes, len) = (&mut self.lanes, &mut self.len);
            // SAFETY: passed on from the caller.
            let more = unsafe {
                self.tiles
                    .run::<S, K, true, true>(max_iter, shortcuts, out, &mut |lane| {
                        lanes[*len] = lane;
                        *len += 1;
                    })
            };
            if !more {
                return None;
            }
        }
        self.next += 1;
        Some(self.lanes[self.next - 1])
    }
}

/// The counting strategy: tiles of `LANES * K` neighbouring pixels run together from z = 0
/// until every lane has escaped (or is trapped), with no refill and no rollback: before each
/// step a lane adds 1 to its count if it passes the test. That count is the seed's because, as
/// the module comment shows, a lane that failed the test once fails it at every later step (it
/// grows past 2 and, if it overflows, becomes infinite or NaN, and NaN is never `< 4`). Points
/// outside the safe disc are counted by the scalar code and replaced in the tile by c = 4, which
/// leaves at once. With shortcuts, a lane whose z lies in its main-cardioid trap disc (`trap`),
/// or with `BULB` one of its period-2 bulb's pair, at the start or at a block's end is counted
/// max-iter, and the tile stops once every lane has escaped or is trapped. Tiles within one row
/// share a cardioid disc (or with `BULB` a bulb's pair) proven for their whole stretch of it
/// (`trap::cardioid_row_disc`, `trap::bulb_row_discs`) where one reaches that far: its square
/// roots and divisions then serve many tiles.
struct Tiles<'a> {
    px: Pixels<'a>,
    /// Points of a tile that is not one stretch of a row, and the index of each (IDLE for none).
    cx: [f64; MAX_SLOTS],
    cy: [f64; MAX_SLOTS],
    index: [usize; MAX_SLOTS],
    counts: [u64; MAX_SLOTS],
    discs: Discs,
    /// The trap discs of the stretch of row the last tile lay on.
    row_discs: trap::RowDiscs,
}

impl<'a> Tiles<'a> {
    fn new(vp: &'a crate::Viewport, first_row: u32, len: usize) -> Self {
        Tiles {
            px: Pixels::new(vp, first_row, len),
            cx: [0.0; MAX_SLOTS],
            cy: [0.0; MAX_SLOTS],
            index: [IDLE; MAX_SLOTS],
            counts: [0; MAX_SLOTS],
            discs: Discs::NONE,
            row_discs: trap::RowDiscs::NONE,
        }
    }

    /// Runs the next tile, writing the counts of its lanes that escape or are trapped into
    /// `out`: up to max-iter, or with `SIEVE` for at most [`Simd::SIEVE_STEPS`], handing each
    /// lane still running after those (if fewer than max-iter) to `survivor`. False when the
    /// span had no pixel left.
    ///
    /// # Safety
    /// The CPU must support the instructions `S` uses.
    #[inline(always)]
    unsafe fn run<S: Simd, const K: usize, const BULB: bool, const SIEVE: bool>(
        &mut self,
        max_iter: u32,
        shortcuts: bool,
        out: &mut [u32],
        survivor: &mut impl FnMut(Lane),
    ) -> bool {
        let lanes = S::LANES * K;
        assert!(lanes <= MAX_SLOTS);
        let budget = if SIEVE {
            S::SIEVE_STEPS.min(max_iter)
        } else {
            max_iter
        };
        let px = &mut self.px;
        let vp = px.vp;
        if px.next == px.len {
            return false;
        }
        // SAFETY: offsets stay below `lanes <= MAX_SLOTS`; the caller vouches for the ISA.
        unsafe {
            let (zero, four) = (S::splat(0.0), S::splat(4.0));
            let mut vcx = [zero; K];
            let mut vcy = [zero; K];
            // The common case: the whole tile lies in the current row and inside the safe
            // disc. Its points are computed in vectors with the scalar operations: the column
            // as a double (exact, and so is adding the lane's offset), times dx, plus xmin.
            let mut contiguous = None;
            // A contiguous tile's row and its first and last lanes' real parts (the others lie
            // between them: `col*dx + xmin` rounds monotonically in the column).
            let mut row_span = None;
            if px.len - px.next >= lanes && (px.width - px.col) as usize >= lanes {
                let (dx, xmin) = (S::splat(vp.dx()), S::splat(vp.bounds().xmin));
                let offsets = S::load(LANE_OFFSETS.as_ptr());
                let base = f64::from(px.col);
                let mut outside = 0;
                for k in 0..K {
                    let col = S::add(S::splat(base + (k * S::LANES) as f64), offsets);
                    vcx[k] = S::add(S::mul(col, dx), xmin);
                    vcy[k] = S::splat(px.cy);
                    let r2 = S::add(S::mul(vcx[k], vcx[k]), S::mul(vcy[k], vcy[k]));
                    outside |= S::nlt_mask(r2, S::splat(SAFE_C2));
                }
                if outside == 0 {
                    contiguous = Some(px.next);
                    let last = px.col + lanes as u32 - 1;
                    row_span = Some((px.cy, vp.cx(px.col), vp.cx(last)));
                    px.skip(lanes);
                }
            }
            if contiguous.is_none() {
                let mut vector_lanes = 0;
                for slot in 0..lanes {
                    self.index[slot] = IDLE;
                    (self.cx[slot], self.cy[slot]) = (4.0, 0.0);
                    if let Some((i, px_cx, px_cy)) = px.next() {
                        if px_cx * px_cx + px_cy * px_cy >= SAFE_C2 {
                            out[i] = super::escape_time(px_cx, px_cy, max_iter);
                        } else {
                            (self.index[slot], self.cx[slot], self.cy[slot]) = (i, px_cx, px_cy);
                            vector_lanes += 1;
                        }
                    }
                }
                if vector_lanes == 0 {
                    return true;
                }
                for k in 0..K {
                    vcx[k] = S::load(self.cx.as_ptr().add(k * S::LANES));
                    vcy[k] = S::load(self.cy.as_ptr().add(k * S::LANES));
                }
            }
            // Lanes whose orbit enters one of its point's trap discs never escape (see `trap`).
            // A tile within the stretch of row whose discs were built last uses them; other
            // tiles test their points only within the components' bounding boxes, and pay for
            // discs only if a point may lie in the main cardioid or, with `BULB`, the period-2
            // bulb. (At low max-iter the bulb's pair, even shared along a row, saves fewer
            // steps than it costs: 0.95x on the Benchmarks Game workload.)
            let (mut cardioid, mut near_bulb) = (false, false);
            let covered = match row_span {
                Some((cy, first, last)) => self.row_discs.covers(cy, first, last),
                None => false,
            };
            let boxed = match row_span {
                Some((cy, first, last)) => {
                    trap::may_touch_cardioid(cy, first, last)
                        || (BULB && trap::may_touch_bulb(cy, first, last))
                }
                None => true,
            };
            if shortcuts && !covered && boxed {
                for k in 0..K {
                    cardioid |= trap::maybe_in_cardioid::<S>(vcx[k], vcy[k]) != 0;
                    near_bulb |= BULB && trap::maybe_in_bulb::<S>(vcx[k], vcy[k]) != 0;
                }
            }
            // A contiguous tile shares its discs with its stretch of the row where it can: one
            // construction for many tiles, not one per vector.
            let mut shared = None;
            if let Some((cy, first, last)) = row_span
                && shortcuts
                && (covered || cardioid || near_bulb)
            {
                if !covered {
                    // (No closures here: they would not get the shim's target features.)
                    let middle = 0.5 * (first + last);
                    let mut built = None;
                    if cardioid {
                        built = trap::cardioid_row_disc::<S>(middle, cy);
                    }
                    if built.is_none() && near_bulb {
                        built = trap::bulb_row_discs::<S>(middle, cy, 0.5 * (last - first));
                    }
                    self.row_discs = built.unwrap_or(trap::RowDiscs::NONE);
                }
                if self.row_discs.covers(cy, first, last) {
                    shared = Some(self.row_discs.discs);
                }
            }
            // Otherwise each vector builds its points' own.
            // (Without `BULB` no pair is ever built; saying so compiles its tests away.)
            let bulb = BULB
                && match shared {
                    Some([_, (_, _, bound)]) => bound >= 0.0,
                    None => near_bulb,
                };
            let full = (1u32 << S::LANES) - 1;
            let z = Orbits::<S, K> {
                x: [zero; K],
                y: [zero; K],
                n: [S::zero_counts(); K],
                cx: vcx,
                cy: vcy,
            };
            let (z, trapped, done) = if let Some([disc, second]) = shared {
                let traps = SharedDiscs::<S> {
                    disc: trap::splat_disc::<S>(disc),
                    second: trap::splat_disc::<S>(second),
                    pair: bulb,
                };
                z.count_blocks(&traps, budget)
            } else if cardioid || bulb {
                for k in 0..K {
                    let o = k * S::LANES;
                    let [disc, second] = trap::discs::<S>(vcx[k], vcy[k], cardioid, bulb);
                    self.discs.store::<S>(0, o, disc);
                    if bulb {
                        self.discs.store::<S>(1, o, second);
                    }
                }
                let traps = OwnDiscs {
                    discs: &self.discs,
                    pair: bulb,
                };
                z.count_blocks(&traps, budget)
            } else {
                z.count_blocks(&NoDiscs, budget)
            };
            let Orbits {
                x: vx,
                y: vy,
                n: vn,
                ..
            } = z;
            // Trapped lanes count max-iter: chosen lane by lane without a branch, which of them
            // are trapped being as unpredictable as the picture.
            let mut trapped_lanes = 0u64;
            for (k, &n) in vn.iter().enumerate() {
                S::store_counts(self.counts.as_mut_ptr().add(k * S::LANES), n);
                trapped_lanes |= u64::from(trapped[k]) << (k * S::LANES);
            }
            let count = |slot: usize, n: u64| {
                if trapped_lanes >> slot & 1 != 0 {
                    max_iter
                } else {
                    n as u32
                }
            };
            match contiguous {
                Some(first) => {
                    let counts = self.counts.iter();
                    for (slot, (o, &n)) in
                        out[first..first + lanes].iter_mut().zip(counts).enumerate()
                    {
                        *o = count(slot, n);
                    }
                }
                None => {
                    let counts = self.index[..lanes].iter().zip(&self.counts);
                    for (slot, (&i, &n)) in counts.enumerate() {
                        if i != IDLE {
                            out[i] = count(slot, n);
                        }
                    }
                }
            }
            // Lanes that have neither escaped nor been trapped (all but the trapped ones if no
            // step ran) go on elsewhere if that was short of max-iter.
            if SIEVE && done < max_iter {
                let mut running = [0u32; K];
                for k in 0..K {
                    let r2 = S::add(S::mul(vx[k], vx[k]), S::mul(vy[k], vy[k]));
                    running[k] = !(S::nlt_mask(r2, four) | trapped[k]) & full;
                }
                let (mut x, mut y) = ([0.0; MAX_SLOTS], [0.0; MAX_SLOTS]);
                let (mut cx, mut cy) = ([0.0; MAX_SLOTS], [0.0; MAX_SLOTS]);
                for k in 0..K {
                    let o = k * S::LANES;
                    S::store(x.as_mut_ptr().add(o), vx[k]);
                    S::store(y.as_mut_ptr().add(o), vy[k]);
                    S::store(cx.as_mut_ptr().add(o), vcx[k]);
                    S::store(cy.as_mut_ptr().add(o), vcy[k]);
                }
                for (k, &m) in running.iter().enumerate() {
                    let mut m = m;
                    while m != 0 {
                        let slot = k * S::LANES + m.trailing_zeros() as usize;
                        m &= m - 1;
                        let pixel = match contiguous {
                            Some(first) => first + slot,
                            None => self.index[slot],
                        };
                        // (Only a tile that ran no step still holds its idle lanes.)
                        if pixel == IDLE {
                            continue;
                        }
                        survivor(Lane {
                            pixel,
                            cx: cx[slot],
                            cy: cy[slot],
                            x: x[slot],
                            y: y[slot],
                            done,
                        });
                    }
                }
            }
        }
        true
    }
}
