//! Past double precision: which arithmetic a job uses ([`Precision`]), and the counting of
//! pixels by perturbation or direct iteration (`mandel-deep`) for the scheduler, in place of
//! the double-precision kernels.

use std::fmt;
use std::str::FromStr;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mandel_deep::{
    BlaTable, COUNT_BAILOUT, DeepView, FloatExp, ReferenceOrbit, SMOOTH_BAILOUT, Work,
};
use mandel_kernel::{Kernel, Shortcuts, Stop, Stopped};

use crate::error::{Error, Field, Result};
use crate::render::Engine;
use crate::tuning::DOUBLE_MIN_WIDTH;
use crate::view::View;

/// The arithmetic of a render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// Doubles (the seed's exact arithmetic) where they stay faithful to the set, perturbation
    /// beyond: see [`Precision::resolve`].
    #[default]
    Auto,
    /// The seed's double arithmetic, bit for bit, however deep (past its resolution the
    /// picture is blocks, and [`crate::Job::warning`] says so).
    Double,
    /// One reference orbit in arbitrary precision, every pixel as a delta from it.
    Perturbation,
    /// Every pixel iterated in arbitrary precision: slow, the ground truth for counts (a
    /// smooth colouring's values still come by perturbation).
    Direct,
}

impl Precision {
    /// The name, as `--precision` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Precision::Auto => "auto",
            Precision::Double => "double",
            Precision::Perturbation => "perturbation",
            Precision::Direct => "direct",
        }
    }

    /// What `auto` means for `view` at `width` pixels across: [`Precision::Double`] while
    /// the view is at least [`DOUBLE_MIN_WIDTH`] of its largest coordinate wide,
    /// [`Precision::Perturbation`] below it. Other precisions stand.
    pub fn resolve(self, view: &View, width: u32) -> Result<Precision> {
        if self != Precision::Auto {
            return Ok(self);
        }
        let (spacing, largest) = view.scale(width)?;
        let view_width = spacing * FloatExp::from(f64::from(width.max(1)));
        let floor = FloatExp::from(largest.max(f64::MIN_POSITIVE) * DOUBLE_MIN_WIDTH);
        Ok(if view_width.cmp_abs(floor).is_ge() {
            Precision::Double
        } else {
            Precision::Perturbation
        })
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Precision::Auto),
            "double" => Ok(Precision::Double),
            "perturbation" => Ok(Precision::Perturbation),
            "direct" => Ok(Precision::Direct),
            _ => Err(Error::invalid(
                Field::Precision,
                s,
                "is not known (choose auto, double, perturbation or direct)",
            )),
        }
    }
}

/// A deep view and how its pixels are counted: what `Params` carries past double precision.
#[derive(Debug, Clone)]
pub(crate) struct DeepParams {
    pub view: DeepView,
    pub direct: bool,
}

impl DeepParams {
    /// The same counting for the k × k samples of each pixel.
    pub fn supersampled(&self, k: u32) -> DeepParams {
        DeepParams {
            view: self.view.supersampled(k),
            direct: self.direct,
        }
    }
}

/// The counter of one render's pixels: the reference orbit, and the BLA maps along it
/// that pixels skip by, computed once for every thread when perturbing (or taken from a
/// cache that other renders share).
pub(crate) struct DeepCounter<'a> {
    params: &'a DeepParams,
    orbit: Option<Arc<ReferenceOrbit>>,
    bla: Option<Arc<BlaTable>>,
    kernel: Kernel,
    max_iter: u32,
    skipped: AtomicU64,
}

impl<'a> DeepCounter<'a> {
    /// Prepares the counting of `params` to `max_iter`, escaping at |z| ≥ 2 (`smooth`:
    /// at the smooth colouring's radius), as `engine` says: with its shortcuts on, pixels
    /// skip along the reference by bivariate approximation (BLA) wherever the terms it drops
    /// are below [`mandel_deep::EPSILON`] of their delta a step; pixels step in its kernel's lanes; the orbit
    /// and the maps come from its cache where that holds them, and are left there; its stop
    /// ends the orbit's computation.
    pub fn new(
        params: &'a DeepParams,
        max_iter: u32,
        smooth: bool,
        engine: &Engine,
    ) -> std::result::Result<Self, Stopped> {
        let bailout = if smooth {
            SMOOTH_BAILOUT
        } else {
            COUNT_BAILOUT
        };
        let (view, stop) = (&params.view, engine.stop());
        let orbit = match &engine.orbits {
            _ if params.direct && !smooth => None,
            Some(cache) => Some(cache.orbit(view, max_iter, bailout, stop)?),
            None => Some(Arc::new(view.reference(max_iter, bailout, stop)?)),
        };
        let bla = match (&orbit, &engine.orbits) {
            (Some(_), _) if engine.shortcuts == Shortcuts::Off => None,
            (Some(orbit), Some(cache)) => Some(cache.table(view, orbit, max_iter, bailout)),
            (Some(orbit), None) => Some(Arc::new(view.bla(orbit))),
            (None, _) => None,
        };
        Ok(DeepCounter {
            params,
            orbit,
            bla,
            kernel: engine.kernel,
            max_iter,
            skipped: AtomicU64::new(0),
        })
    }

    /// The iterations skipped by BLA so far, by every thread.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Counts `work` in [`DeepCounter::skipped`]; returns its skipped iterations.
    fn note(&self, work: Work) -> u64 {
        self.skipped.fetch_add(work.skipped, Ordering::Relaxed);
        work.skipped
    }

    /// The counts of pixels `first..` into `out`; returns the iterations that linear
    /// approximation skipped, as the kernels return those their shortcuts skipped.
    pub fn counts(
        &self,
        first: u64,
        stop: Stop,
        out: &mut [u32],
    ) -> std::result::Result<u64, Stopped> {
        match &self.orbit {
            Some(orbit) if !self.params.direct => {
                let bla = self.bla.as_deref();
                let work =
                    self.params
                        .view
                        .perturbed_span(orbit, bla, self.kernel, first, stop, out)?;
                Ok(self.note(work))
            }
            _ => {
                self.params
                    .view
                    .direct_span(self.max_iter, first, stop, out)?;
                Ok(0)
            }
        }
    }

    /// The smooth counts of pixels `first..` into `out` (NaN inside); returns the iterations.
    pub fn smooth(
        &self,
        first: u64,
        stop: Stop,
        out: &mut [f64],
    ) -> std::result::Result<u64, Stopped> {
        let orbit = self.orbit.as_ref().expect("a smooth counter has its orbit");
        let bla = self.bla.as_deref();
        let work =
            self.params
                .view
                .perturbed_smooth_span(orbit, bla, self.kernel, first, stop, out)?;
        self.note(work);
        Ok(work.iterations)
    }
}
