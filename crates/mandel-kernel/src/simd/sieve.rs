//! The sieve: the counting strategy's tiles run for the first steps of every pixel, handing
//! the refilling strategy only the pixels still running after them.

use super::tiles::Tiles;
use super::{IDLE, MAX_SLOTS, Simd};

/// A pixel still running after the sieve's steps: its index in the span, its point, the z it
/// reached and the steps it took to get there (its count so far).
#[derive(Clone, Copy)]
pub(super) struct Lane {
    pub(super) pixel: usize,
    pub(super) cx: f64,
    pub(super) cy: f64,
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) done: u32,
}

impl Lane {
    /// No pixel: what an idle slot holds.
    pub(super) const IDLE: Lane = Lane {
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
pub(super) struct Sieve<'a> {
    pub(super) tiles: Tiles<'a>,
    /// The last tile's survivors, `next` being the first not yet passed on.
    pub(super) lanes: [Lane; MAX_SLOTS],
    pub(super) len: usize,
    pub(super) next: usize,
}

impl Sieve<'_> {
    /// The next pixel still running after the sieve's steps, or None at the end of the span.
    ///
    /// # Safety
    /// The CPU must support the instructions `S` uses.
    #[inline(always)]
    pub(super) unsafe fn next<S: Simd, const K: usize>(
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
