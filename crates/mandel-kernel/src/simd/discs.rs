//! Trap discs in the vector kernels: each lane's own (stored per slot), and the three kinds a
//! counting tile tests its lanes against.

use super::{MAX_SLOTS, Simd};
use crate::trap;

/// Up to two trap discs per lane (`trap`): the main cardioid's in the first, the period-2
/// bulb's pair in both.
pub(super) struct Discs {
    pub(super) x: [[f64; MAX_SLOTS]; 2],
    pub(super) y: [[f64; MAX_SLOTS]; 2],
    pub(super) bound: [[f64; MAX_SLOTS]; 2],
}

impl Discs {
    pub(super) const NONE: Discs = Discs {
        x: [[0.0; MAX_SLOTS]; 2],
        y: [[0.0; MAX_SLOTS]; 2],
        bound: [[-1.0; MAX_SLOTS]; 2],
    };

    pub(super) fn set(&mut self, slot: usize, discs: [trap::Disc<f64>; 2]) {
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
    pub(super) unsafe fn inside<S: Simd>(&self, o: usize, x: S::V, y: S::V, pair: bool) -> u32 {
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
    pub(super) unsafe fn store<S: Simd>(
        &mut self,
        i: usize,
        o: usize,
        (x, y, bound): trap::Disc<S::V>,
    ) {
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
    pub(super) unsafe fn load<S: Simd>(&self, i: usize, o: usize) -> trap::Disc<S::V> {
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

/// The trap discs a counting tile's lanes are tested against after each block: none, the
/// row's (the same for every lane), or each lane's own. The block loop is compiled once for
/// each, so that a tile without discs carries none of their code.
pub(super) trait TileDiscs<S: Simd> {
    /// Bit i set when z in lane i of the vector whose first slot is `o` lies in a disc.
    ///
    /// # Safety
    /// `o + S::LANES <= MAX_SLOTS`; the CPU must support the instructions `S` uses.
    unsafe fn inside(&self, o: usize, x: S::V, y: S::V) -> u32;
}

/// A tile with no point in or near a component: nothing is ever trapped.
pub(super) struct NoDiscs;

impl<S: Simd> TileDiscs<S> for NoDiscs {
    #[inline(always)]
    unsafe fn inside(&self, _: usize, _: S::V, _: S::V) -> u32 {
        0
    }
}

/// The discs proven for the tile's whole stretch of row, in every lane; `second` only counts
/// with `pair`.
pub(super) struct SharedDiscs<S: Simd> {
    pub(super) disc: trap::Disc<S::V>,
    pub(super) second: trap::Disc<S::V>,
    pub(super) pair: bool,
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
pub(super) struct OwnDiscs<'a> {
    pub(super) discs: &'a Discs,
    pub(super) pair: bool,
}

impl<S: Simd> TileDiscs<S> for OwnDiscs<'_> {
    #[inline(always)]
    unsafe fn inside(&self, o: usize, x: S::V, y: S::V) -> u32 {
        // SAFETY: passed on from the caller.
        unsafe { self.discs.inside::<S>(o, x, y, self.pair) }
    }
}
