//! The counting strategy, for small max-iter: tiles of neighbouring pixels run together from
//! z = 0 until every lane has escaped or is trapped.

use super::discs::{Discs, NoDiscs, OwnDiscs, SharedDiscs, TileDiscs};
use super::pixels::{LANE_OFFSETS, Pixels};
use super::sieve::Lane;
use super::{IDLE, MAX_SLOTS, SAFE_C2, Simd};
use crate::scalar::escape_time_metered;
use crate::stop::{Meter, Stop, Stopped};
use crate::trap;
use crate::tuning::COUNTING_BLOCK;

/// Counts for the span of pixels in `out` (the first being pixel `first`), for small max-iter:
/// every pixel runs in [`Tiles`] until it escapes, is trapped, or reaches max-iter.
///
/// # Safety
/// The CPU must support the instructions `S` uses.
#[inline(always)]
pub unsafe fn render_span_counting<S: Simd, const K: usize, const BULB: bool>(
    vp: &crate::Viewport,
    first: u64,
    max_iter: u32,
    shortcuts: bool,
    stop: Stop,
    out: &mut [u32],
) -> Result<u64, Stopped> {
    let mut tiles = Tiles::new(vp, first, out.len(), stop);
    // SAFETY: passed on from the caller.
    unsafe { while tiles.run::<S, K, BULB, false>(max_iter, shortcuts, out, &mut |_| {}) {} }
    tiles.finish()
}

/// A counting tile's orbits: `LANES * K` points c, each with its z and its count so far.
pub(super) struct Orbits<S: Simd, const K: usize> {
    pub(super) x: [S::V; K],
    pub(super) y: [S::V; K],
    pub(super) n: [S::Counts; K],
    pub(super) cx: [S::V; K],
    pub(super) cy: [S::V; K],
}

impl<S: Simd, const K: usize> Orbits<S, K> {
    /// Runs blocks of [`COUNTING_BLOCK`] steps, up to `budget` steps in all, until every lane
    /// has escaped or is trapped; the trapped lanes (a bit each) and the number of steps run.
    ///
    /// # Safety
    /// The CPU must support the instructions `S` uses.
    #[inline(always)]
    pub(super) unsafe fn count_blocks(
        self,
        discs: &impl TileDiscs<S>,
        budget: u32,
    ) -> (Self, [u32; K], u32) {
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
pub(super) struct Tiles<'a> {
    pub(super) px: Pixels<'a>,
    /// Points of a tile that is not one stretch of a row, and the index of each (IDLE for none).
    pub(super) cx: [f64; MAX_SLOTS],
    pub(super) cy: [f64; MAX_SLOTS],
    pub(super) index: [usize; MAX_SLOTS],
    pub(super) counts: [u64; MAX_SLOTS],
    pub(super) discs: Discs,
    /// The trap discs of the stretch of row the last tile lay on.
    pub(super) row_discs: trap::RowDiscs,
    /// Iterations skipped so far by counting trapped lanes as max-iter.
    pub(super) skipped: u64,
    /// Polls the render's stop every so many iterations (a tile's steps times its lanes).
    meter: Meter<'a>,
    /// Whether the stop was seen: the span then ends early, its counts incomplete.
    pub(super) stopped: bool,
}

impl<'a> Tiles<'a> {
    pub(super) fn new(vp: &'a crate::Viewport, first: u64, len: usize, stop: Stop<'a>) -> Self {
        Tiles {
            px: Pixels::new(vp, first, len),
            cx: [0.0; MAX_SLOTS],
            cy: [0.0; MAX_SLOTS],
            index: [IDLE; MAX_SLOTS],
            counts: [0; MAX_SLOTS],
            discs: Discs::NONE,
            row_discs: trap::RowDiscs::NONE,
            skipped: 0,
            meter: Meter::new(stop),
            stopped: false,
        }
    }

    /// Ends the span here: no pixel is handed out any more.
    fn halt(&mut self) {
        self.stopped = true;
        self.px.next = self.px.len;
    }

    /// The iterations skipped, or [`Stopped`] if the span was cut short.
    pub(super) fn finish(&self) -> Result<u64, Stopped> {
        if self.stopped {
            Err(Stopped)
        } else {
            Ok(self.skipped)
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
    pub(super) unsafe fn run<S: Simd, const K: usize, const BULB: bool, const SIEVE: bool>(
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
                            // (Near c = -2 such a point can run to max-iter.)
                            match escape_time_metered(px_cx, px_cy, max_iter, &mut self.meter) {
                                Ok(n) => out[i] = n,
                                Err(Stopped) => {
                                    self.stopped = true;
                                    px.next = px.len;
                                }
                            }
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
            // (A loop over the trapped lanes alone: most tiles have none.)
            let mut rest = trapped_lanes;
            while rest != 0 {
                let slot = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                self.skipped += u64::from(max_iter).saturating_sub(self.counts[slot]);
            }
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
            if self.meter.spend(u64::from(done) * lanes as u64).is_err() {
                self.halt();
            }
        }
        true
    }
}
