//! Stopping a render early: a flag that any thread may raise and an optional deadline, polled
//! by the kernels at a bounded granularity (about every [`POLL_STEPS`] iterations), so that a
//! single pixel of four billion iterations, or a row of sixteen million pixels, stops within
//! a fraction of a millisecond of being told to.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Instant;

pub use crate::tuning::POLL_STEPS;

/// When a render should give up: a flag that any thread may raise (a server whose client
/// has gone), and a deadline. Once the deadline has passed, the first poll that sees it
/// raises the flag, so that every other thread of the render stops without reading the clock.
#[derive(Debug, Clone, Copy)]
pub struct Stop<'a> {
    flag: &'a AtomicBool,
    deadline: Option<Instant>,
}

/// A render that was stopped before it finished: the counts it was writing are incomplete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the render was stopped before it finished")
    }
}

impl std::error::Error for Stopped {}

impl<'a> Stop<'a> {
    /// Stops when `flag` is raised or at `deadline`, whichever comes first.
    pub fn new(flag: &'a AtomicBool, deadline: Option<Instant>) -> Self {
        Stop { flag, deadline }
    }

    /// Never stops.
    pub fn never() -> Stop<'static> {
        // Nothing outside this function can reach the flag, so it is never raised.
        static NEVER: AtomicBool = AtomicBool::new(false);
        Stop {
            flag: &NEVER,
            deadline: None,
        }
    }

    /// Whether the render should stop now. Reads the clock when there is a deadline (tens of
    /// nanoseconds: the kernels call this about once per [`POLL_STEPS`] iterations).
    pub fn poll(&self) -> bool {
        if self.flag.load(Relaxed) {
            return true;
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.flag.store(true, Relaxed);
            return true;
        }
        false
    }
}

/// Counts iterations down to the next poll of a [`Stop`]: loops that iterate call
/// [`Meter::spend`] with the steps they ran, at most [`Meter::allowance`] at a time.
#[derive(Debug, Clone, Copy)]
pub struct Meter<'a> {
    stop: Stop<'a>,
    left: u64,
}

impl<'a> Meter<'a> {
    /// A meter that polls `stop` every [`POLL_STEPS`] iterations.
    pub fn new(stop: Stop<'a>) -> Self {
        Meter {
            stop,
            left: POLL_STEPS,
        }
    }

    /// Iterations that may run before the next call to [`Meter::spend`] (at least 1).
    #[inline]
    pub fn allowance(&self) -> u64 {
        self.left
    }

    /// Records `steps` iterations run; polls the stop once the allowance is used up.
    #[inline]
    pub fn spend(&mut self, steps: u64) -> Result<(), Stopped> {
        if steps < self.left {
            self.left -= steps;
            return Ok(());
        }
        self.left = POLL_STEPS;
        if self.stop.poll() {
            Err(Stopped)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_raised_flag_stops_and_a_passed_deadline_raises_it() {
        let flag = AtomicBool::new(false);
        assert!(!Stop::new(&flag, None).poll());
        let later = Instant::now() + Duration::from_secs(3600);
        assert!(!Stop::new(&flag, Some(later)).poll());
        assert!(!flag.load(Relaxed));
        assert!(Stop::new(&flag, Some(Instant::now())).poll());
        assert!(flag.load(Relaxed), "the deadline raised the flag");
        assert!(Stop::new(&flag, None).poll(), "others see the raised flag");
        assert!(!Stop::never().poll());
    }

    #[test]
    fn a_meter_polls_once_per_allowance() {
        let flag = AtomicBool::new(true);
        let mut meter = Meter::new(Stop::new(&flag, None));
        assert_eq!(meter.allowance(), POLL_STEPS);
        assert_eq!(meter.spend(POLL_STEPS - 1), Ok(()), "not polled yet");
        assert_eq!(meter.allowance(), 1);
        assert_eq!(meter.spend(1), Err(Stopped));
        assert_eq!(meter.allowance(), POLL_STEPS);
    }
}
