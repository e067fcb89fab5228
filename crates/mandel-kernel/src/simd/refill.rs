//! The refilling strategy, for large max-iter: `K` vectors in flight, each lane refilled with
//! the next pixel from the sieve as soon as its own is done.

use super::discs::Discs;
use super::sieve::{Lane, Sieve};
use super::tiles::Tiles;
use super::{IDLE, MAX_SLOTS, Simd, step_all};
use crate::scalar::escape_time_from;
use crate::stop::{POLL_STEPS, Stop, Stopped};
use crate::trap;
use crate::tuning::BLOCK;

/// Per-lane state in memory, touched only between blocks (after an escape or at max-iter).
pub(super) struct Slots {
    pub(super) pixel: [usize; MAX_SLOTS],
    /// The step counter when the slot's pixel would have started from z = 0 (it arrives
    /// from the sieve with steps done): its count is `step - start`.
    pub(super) start: [u64; MAX_SLOTS],
    pub(super) x: [f64; MAX_SLOTS],
    pub(super) y: [f64; MAX_SLOTS],
    pub(super) cx: [f64; MAX_SLOTS],
    pub(super) cy: [f64; MAX_SLOTS],
    /// An earlier z of the slot's orbit, for cycle detection; NaN (equal to nothing) until
    /// the first probe after the pixel was loaded.
    pub(super) probe_x: [f64; MAX_SLOTS],
    pub(super) probe_y: [f64; MAX_SLOTS],
    /// The block count when the pixel was loaded, and when its next probe is due: probes are
    /// taken when the orbit is 1, 2, 4, 8, ... blocks old (Brent's cycle detection).
    pub(super) born: [u64; MAX_SLOTS],
    pub(super) probe_at: [u64; MAX_SLOTS],
    /// The trap discs of the slots' points (none without shortcuts, and for idle slots).
    pub(super) discs: Discs,
    /// The trap discs of the stretch of row that pixels were last taken from (cardioid or
    /// bulb; see `trap::discs_along`).
    pub(super) row_discs: trap::RowDiscs,
    /// Whether proven shortcuts may count pixels before they reach max-iter.
    pub(super) shortcuts: bool,
    /// Iterations skipped so far by those shortcuts.
    pub(super) skipped: u64,
}

impl Slots {
    /// Loads the next pixel that the sieve passes on into `slot` (with the z it reached, at
    /// `step`); leaves the slot idle at the end of the span.
    ///
    /// # Safety
    /// The CPU must support the instructions `S` uses.
    #[inline(always)]
    pub(super) unsafe fn refill<S: Simd, const KC: usize>(
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
                    self.skipped += u64::from(max_iter - lane.done);
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

/// Counts for the span of pixels in `out`, the first of them being pixel `first`: the same
/// values as [`super::escape_time`] for every pixel, for large max-iter.
///
/// Every pixel first runs [`Simd::SIEVE_STEPS`] steps in the counting strategy's tiles (`KC`
/// vectors each), where most pixels of a typical view escape without the cost of a refill;
/// those still running go on here, `K` vectors in flight so that the multiply/add latency is
/// hidden, each lane refilled with the next of them as soon as its pixel is done. `stop` is
/// polled every [`POLL_STEPS`] lane-steps or so, here and in the sieve.
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn render_span<S: Simd, const K: usize, const KC: usize>(
    vp: &crate::Viewport,
    first: u64,
    max_iter: u32,
    shortcuts: bool,
    stop: Stop,
    out: &mut [u32],
) -> Result<u64, Stopped> {
    let lanes = S::LANES * K;
    assert!(lanes <= MAX_SLOTS);
    let mut sieve = Sieve {
        tiles: Tiles::new(vp, first, out.len(), stop),
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
        skipped: 0,
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
    // The stop is polled when the step counter reaches `poll_at`: the blocks run no test of
    // their own for it, they end at the poll as at a slot's max-iter.
    let poll_every = (POLL_STEPS / lanes as u64).max(u64::from(BLOCK));
    let mut poll_at = step + poll_every;

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
            let Some(deadline) = deadline else {
                // (A stopped sieve hands out no more pixels: the slots ran dry early.)
                return sieve.tiles.finish().map(|skipped| s.skipped + skipped);
            };
            let deadline = deadline.min(poll_at);
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
                        s.skipped += max_iter64.saturating_sub(step - s.start[slot]);
                        empty |= 1 << slot;
                    }
                }
            }
            if step >= poll_at {
                if sieve.tiles.stopped || stop.poll() {
                    return Err(Stopped);
                }
                poll_at = step + poll_every;
            }
        }
    }
}

/// Re-runs the last block from its saved start, testing before every step, for the lanes in
/// `escaped`: returns, per slot, after how many of the block's steps the lane first failed the
/// test (0 to BLOCK). All vectors are replayed together so that their latencies overlap.
#[inline(always)]
pub(super) unsafe fn replay_block<S: Simd, const K: usize>(
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
